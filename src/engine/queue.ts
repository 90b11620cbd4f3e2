/**
 * Binary min-heap of timer firings on parallel typed arrays.
 *
 * Each entry is (time_ns, seq, timer, gen). Ordering is by time, then by
 * insertion sequence number, so events at the same instant fire in the order
 * they were scheduled: the simulation is deterministic without relying on the
 * heap's internal layout. No objects are allocated per push/pop; the arrays
 * grow by doubling.
 */
export class EventQueue {
  private time: Float64Array;
  private seq: Float64Array;
  private timer: Int32Array;
  private gen: Int32Array;
  private n = 0;
  private nextSeq = 0;

  /** Fields of the entry removed by the last successful {@link pop}. */
  popTime = 0;
  popTimer = 0;
  popGen = 0;

  constructor(capacity = 1024) {
    this.time = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.timer = new Int32Array(capacity);
    this.gen = new Int32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  clear(): void {
    this.n = 0;
    this.nextSeq = 0;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const t = new Float64Array(cap); t.set(this.time); this.time = t;
    const s = new Float64Array(cap); s.set(this.seq); this.seq = s;
    const i = new Int32Array(cap); i.set(this.timer); this.timer = i;
    const g = new Int32Array(cap); g.set(this.gen); this.gen = g;
  }

  /** Time of the earliest entry (Infinity when empty). */
  peekTime(): number {
    return this.n > 0 ? this.time[0] : Infinity;
  }

  push(time: number, timer: number, gen: number): void {
    if (this.n === this.time.length) this.grow();
    const T = this.time, S = this.seq, I = this.timer, G = this.gen;
    const sq = this.nextSeq++;
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

  /** Removes the earliest entry into popTime/popTimer/popGen. Returns false when empty. */
  pop(): boolean {
    const n = this.n;
    if (n === 0) return false;
    const T = this.time, S = this.seq, I = this.timer, G = this.gen;
    this.popTime = T[0]; this.popTimer = I[0]; this.popGen = G[0];
    const last = n - 1;
    this.n = last;
    if (last === 0) return true;
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
    return true;
  }
}
