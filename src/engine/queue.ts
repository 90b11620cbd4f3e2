/**
 * Same-instant priorities of an event (SimPy's URGENT / NORMAL, plus LATE):
 * among events due at the same time, every URGENT one fires before every
 * NORMAL one, and every NORMAL one before every LATE one, whenever each was
 * scheduled; events of equal priority fire in the order they were scheduled.
 * LATE is for an event that must see the outcome of everything else that
 * happens at its instant (a timer interrupt taken after a segment ending at
 * the same time).
 */
export const URGENT = 0;
export const NORMAL = 1;
export const LATE = 2;
/**
 * The priority is folded into the sequence key: key = priority * PRIO_KEY +
 * insertion number. Exact in a double while fewer than 2^44 (1.7e13) events
 * are scheduled between two clear() calls.
 */
export const PRIO_KEY = 2 ** 44;

/**
 * The event queue: timer firings ordered by time, then by same-instant
 * priority, then by insertion sequence number, so events of one priority at
 * the same instant fire in the order they were scheduled. The simulation is
 * deterministic without relying on the queue's internal layout: (time,
 * priority, seq) is a strict total order, so any correct priority queue
 * pops the same sequence.
 *
 * Layout: a binary min-heap on parallel typed arrays (time_ns, seq, timer,
 * gen), plus a one-entry front slot that holds an entry strictly earlier than
 * every heap entry. About half the pushes of a model run are a new earliest
 * event (a segment end, an interrupt a few µs ahead), which is popped next:
 * the slot takes those without a sift-up to the root and a sift-down from it.
 * No objects are allocated per push/pop; the arrays grow by doubling. The
 * queue has no peek: the earliest entry may be stale (lazy deletion in
 * Simulator), so a model must not read the queue to order its own events;
 * it gives them a same-instant priority instead. The run loop pops inline
 * (Simulator.run), and that path is the one the tests exercise.
 */
export class EventQueue {
  /** @internal Heap entry fields, heap-ordered. */
  time: Float64Array;
  /** @internal Sequence key: priority * PRIO_KEY + insertion number. */
  seq: Float64Array;
  /** @internal */
  timer: Int32Array;
  /** @internal */
  gen: Int32Array;
  /** @internal Number of heap entries (the front slot not included). */
  n = 0;
  /** @internal The front slot is occupied. Its entry precedes every heap entry. */
  front = false;
  /** @internal Front slot fields. */
  fTime = 0;
  /** @internal */
  fSeq = 0;
  /** @internal */
  fTimer = 0;
  /** @internal */
  fGen = 0;
  private nextSeq = 0;

  constructor(capacity = 1024) {
    this.time = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.timer = new Int32Array(capacity);
    this.gen = new Int32Array(capacity);
  }

  /** Entries in the queue, stale ones (cancelled or re-armed timers, see Simulator) included. */
  get size(): number {
    return this.front ? this.n + 1 : this.n;
  }

  clear(): void {
    this.n = 0;
    this.front = false;
    this.nextSeq = 0;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const t = new Float64Array(cap); t.set(this.time); this.time = t;
    const s = new Float64Array(cap); s.set(this.seq); this.seq = s;
    const i = new Int32Array(cap); i.set(this.timer); this.timer = i;
    const g = new Int32Array(cap); g.set(this.gen); this.gen = g;
  }

  /**
   * Schedules a firing of `timer` (generation `gen`) at `time`; `prioKey` is
   * the same-instant priority times PRIO_KEY (default NORMAL).
   */
  push(time: number, timer: number, gen: number, prioKey = NORMAL * PRIO_KEY): void {
    const sq = this.nextSeq++ + prioKey;
    if (this.front) {
      // before the slot's entry: an earlier time, or the same time and a smaller key
      if (time < this.fTime || (time === this.fTime && sq < this.fSeq)) {
        this.heapPush(this.fTime, this.fSeq, this.fTimer, this.fGen);
        this.fTime = time; this.fSeq = sq; this.fTimer = timer; this.fGen = gen;
      } else this.heapPush(time, sq, timer, gen);
    } else if (this.n === 0 || time < this.time[0] || (time === this.time[0] && sq < this.seq[0])) {
      // strictly before the heap's root in (time, key) order
      this.front = true;
      this.fTime = time; this.fSeq = sq; this.fTimer = timer; this.fGen = gen;
    } else this.heapPush(time, sq, timer, gen);
  }

  private heapPush(time: number, sq: number, timer: number, gen: number): void {
    if (this.n === this.time.length) this.grow();
    const T = this.time, S = this.seq, I = this.timer, G = this.gen;
    let k = this.n++;
    // sift up
    while (k > 0) {
      const p = (k - 1) >> 1;
      const pt = T[p];
      if (pt < time || (pt === time && S[p] < sq)) break;
      T[k] = pt; S[k] = S[p]; I[k] = I[p]; G[k] = G[p];
      k = p;
    }
    T[k] = time; S[k] = sq; I[k] = timer; G[k] = gen;
  }

  /** @internal Removes the heap's root entry (the heap is not empty). */
  popRoot(): void {
    const last = this.n - 1;
    this.n = last;
    if (last === 0) return;
    const T = this.time, S = this.seq, I = this.timer, G = this.gen;
    const t = T[last], s = S[last], i = I[last], g = G[last];
    let k = 0;
    const half = last >> 1;
    while (k < half) {
      let c = 2 * k + 1;
      let ct = T[c], cs = S[c];
      const r = c + 1;
      if (r < last) {
        const rt = T[r];
        if (rt < ct || (rt === ct && S[r] < cs)) { c = r; ct = rt; cs = S[r]; }
      }
      if (t < ct || (t === ct && s < cs)) break;
      T[k] = ct; S[k] = cs; I[k] = I[c]; G[k] = G[c];
      k = c;
    }
    T[k] = t; S[k] = s; I[k] = i; G[k] = g;
  }
}
