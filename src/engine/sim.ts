import { EventQueue, LATE, NORMAL, PRIO_KEY, URGENT } from "./queue.js";

export { LATE, NORMAL, URGENT };
import { RandomStreams } from "./random.js";

/**
 * A model component that receives timer firings. The simulator calls
 * `onTimer(kind, arg, now)` with the kind and argument the timer was
 * registered with; no closure is created per event.
 */
export interface TimerTarget {
  onTimer(kind: number, arg: number, now: number): void;
}

/**
 * A simulation that cannot go on: thrown by the run loop (or a model) when the
 * system stops making progress, e.g. a zero-time loop in which every step of
 * a cycle costs 0 ns. `time_ns` is the simulated instant it was detected at.
 */
export class SimError extends Error {
  constructor(message: string, readonly time_ns: number) {
    super(message);
    this.name = "SimError";
  }
}

/**
 * The run loop gives up with a SimError when 2^20 (about a million)
 * dispatches in a row happen at one instant: it compares the clock every
 * 2^20 dispatches, so a zero-time loop is caught after 1 to 2 million events
 * (well under a second), far above any real burst at one instant (every
 * timer of a large system firing at once is thousands).
 */
export const NO_PROGRESS_EVENTS = 2 ** 20;
const NO_PROGRESS_MASK = NO_PROGRESS_EVENTS - 1;

/** Nanoseconds per unit, for readability. */
export const US = 1_000;
export const MS = 1_000_000;
export const SEC = 1_000_000_000;

/**
 * The discrete-event core: an integer-nanosecond clock, a table of re-armable
 * timers and the binary-heap event queue.
 *
 * A timer is registered once (target, kind, arg, same-instant priority) and
 * then armed and cancelled any number of times. Cancelling or re-arming bumps
 * the timer's generation; stale heap entries are skipped when popped (lazy
 * deletion), so arming is O(log n) and cancelling O(1). Stale entries have no
 * effect on the model: same-instant ordering comes only from the event key
 * (time, priority, insertion order), see queue.ts URGENT / NORMAL / LATE.
 */
export class Simulator {
  now = 0;
  readonly queue = new EventQueue(4096);
  readonly random: RandomStreams;
  /** Number of timer firings dispatched so far (stale entries excluded). */
  events = 0;
  private targets: TimerTarget[] = [];
  private kinds: number[] = [];
  private args: number[] = [];
  private gens = new Int32Array(64);
  private armedAt = new Float64Array(64);
  /** Priority key of each timer (priority * PRIO_KEY). */
  private prioKeys = new Float64Array(64);
  private nTimers = 0;
  private stopRequested = false;

  constructor(seed: string | number = 1) {
    this.random = new RandomStreams(String(seed));
  }

  /**
   * Registers a timer and returns its id. `priority` orders its firings
   * among the events of the same instant (URGENT, NORMAL or LATE). Setup-time only.
   */
  timer(target: TimerTarget, kind: number, arg = 0, priority = NORMAL): number {
    if (priority !== URGENT && priority !== NORMAL && priority !== LATE) throw new Error(`unknown event priority ${priority}`);
    const id = this.nTimers++;
    if (id >= this.gens.length) {
      const g = new Int32Array(this.gens.length * 2); g.set(this.gens); this.gens = g;
      const a = new Float64Array(this.armedAt.length * 2); a.set(this.armedAt); this.armedAt = a;
      const p = new Float64Array(this.prioKeys.length * 2); p.set(this.prioKeys); this.prioKeys = p;
    }
    this.prioKeys[id] = priority * PRIO_KEY;
    this.targets.push(target);
    this.kinds.push(kind);
    this.args.push(arg);
    this.armedAt[id] = -1;
    return id;
  }

  /** Arms (or re-arms) a timer to fire at absolute time `t` (ns, >= now). */
  arm(id: number, t: number): void {
    const g = ++this.gens[id];
    this.armedAt[id] = t;
    this.queue.push(t < this.now ? this.now : t, id, g, this.prioKeys[id]);
  }

  /** Cancels a timer if armed. */
  cancel(id: number): void {
    if (this.armedAt[id] >= 0) {
      this.gens[id]++;
      this.armedAt[id] = -1;
    }
  }

  /** Whether the timer is armed. */
  isArmed(id: number): boolean {
    return this.armedAt[id] >= 0;
  }

  /** Absolute expiry of an armed timer, or -1. */
  expiry(id: number): number {
    return this.armedAt[id];
  }

  /** Asks the run loop to return after the current event. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Runs until the queue is empty or the next event is after `until` (ns).
   * The clock is left at `until` when the horizon is reached.
   * `onProgress` (if given) is called about every `progressEveryNs` of simulated time.
   */
  run(until: number, onProgress?: (now: number) => void, progressEveryNs = 0): void {
    const q = this.queue;
    const targets = this.targets, kinds = this.kinds, args = this.args;
    let gens = this.gens, armedAt = this.armedAt;
    this.stopRequested = false;
    let nextProgress = onProgress && progressEveryNs > 0 ? this.now + progressEveryNs : Infinity;
    // no-progress detection: the clock at every NO_PROGRESS_EVENTS-th dispatch; the same
    // instant at two checkpoints in a row means that many dispatches without time advancing
    let checkTime = -1;
    for (;;) {
      // the queue's pop, inlined
      let time: number, id: number, g: number;
      if (q.front) {
        time = q.fTime;
        if (time > until) break;
        id = q.fTimer; g = q.fGen;
        q.front = false;
      } else {
        if (q.n === 0) break;
        time = q.time[0];
        if (time > until) break;
        id = q.timer[0]; g = q.gen[0];
        q.popRoot();
      }
      if (g !== gens[id]) continue; // stale: cancelled or re-armed since
      this.now = time;
      armedAt[id] = -1;
      if ((++this.events & NO_PROGRESS_MASK) === 0) {
        if (time === checkTime) this.noProgress(time, id);
        checkTime = time;
      }
      targets[id].onTimer(kinds[id], args[id], time);
      if (this.stopRequested) return;
      if (time >= nextProgress) {
        onProgress!(time);
        nextProgress += progressEveryNs;
      }
      // a timer registered during the dispatch may have replaced the arrays
      if (gens !== this.gens) { gens = this.gens; armedAt = this.armedAt; }
    }
    if (until !== Infinity && this.now < until) this.now = until;
  }

  private noProgress(time: number, id: number): never {
    const t = this.targets[id] as { constructor?: { name?: string } };
    const who = t.constructor?.name ?? "a component";
    throw new SimError(
      `no progress: over ${NO_PROGRESS_EVENTS.toLocaleString("en")} events in a row at t=${time} ns without time advancing ` +
      `(the last one for ${who}, timer kind ${this.kinds[id]}): a zero-time loop, in which every step of a cycle costs 0 ns ` +
      `(e.g. a workload with no work on a board whose costs are all 0, such as the "ideal" preset); give some operation a cost`,
      time,
    );
  }
}
