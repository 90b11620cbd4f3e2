/**
 * rt-app threads as programs of the kernel model: each thread executes its
 * phases' events in order (rt-app's src/rt-app.c, thread_body / run_event,
 * scheduler-tools/rt-app master):
 * - `run`: a fixed amount of work (loadwait of n calibrated loops; the
 *   caller has already applied the calibration), A_COMPUTE;
 * - `runtime`: computes until that much wall-clock time has passed since the
 *   event started (rt-app spins in 32 µs chunks and checks the clock; here
 *   the computation is re-armed for the remaining wall time each time it
 *   completes, so preemption shortens the work as in rt-app);
 * - `sleep`: clock_nanosleep for the duration (relative), A_SLEEP_UNTIL now + d;
 * - `timer`: t_next += period (t_next starts at the thread's start time on
 *   the timer's first use), then sleep until t_next (TIMER_ABSTIME); if t_next
 *   has already passed, no sleep and, in rt-app's default relative mode,
 *   t_next := now (the grid is re-anchored; `absolute` keeps it).
 * Phase `loop` repeats a phase's events; the thread `loop` repeats the list
 * of phases (-1 = forever); a finished thread exits (A_WAIT, never woken).
 * The kind has no table of its own: the tasks table has each thread's CPU
 * time, switches and wake-ups (and a trace shows its schedule).
 * Not modelled: per-phase policy changes, shared timers between threads,
 * locks, barriers, signals, mem/iorun, yield, fork, frequency scaling
 * (calibration is a fixed ns per loop).
 */
import type { LinuxKernel, SchedAttr } from "../kernel/linux.js";
import { A_COMPUTE, A_SLEEP_UNTIL, A_WAIT, type Program, SCHED_DEADLINE, type Task } from "../kernel/task.js";
import { rtAttr } from "../spec/defaults.js";
import type { TableSet } from "../results/tables.js";
import type { RtAppThreadSpec } from "../spec/types.js";
import type { WorkloadModule } from "./registry.js";

const OP_RUN = 0;
const OP_RUNTIME = 1;
const OP_SLEEP = 2;
const OP_TIMER = 3;

/** A compiled event: op, ns, timer index (timers), absolute (timers). */
interface Ev { op: number; ns: number; timer: number; absolute: boolean }

/** Scheduling attributes of a thread. */
export function rtappAttr(w: RtAppThreadSpec): SchedAttr {
  if (w.policy !== "deadline") return rtAttr(w.policy ?? "other", w.priority ?? 10);
  const runtime = Math.round(w.dl_runtime_us! * 1000);
  const period = Math.round((w.dl_period_us ?? w.dl_runtime_us!) * 1000);
  return { policy: SCHED_DEADLINE, runtime, deadline: Math.round((w.dl_deadline_us ?? period / 1000) * 1000), period };
}

/** One thread's state while it runs its events. */
class ThreadState {
  phase = 0;
  phaseLoop = 0;
  event = -1;
  loops = 0;
  /** Start of the running `runtime` event, ns. */
  runtimeStart = 0;
  started = false;
  originSet = false;
  done = false;
  /** Timer events whose expiry had already passed. */
  overruns = 0;
  constructor(readonly spec: RtAppThreadSpec, readonly phases: { loop: number; events: Ev[] }[], readonly tNext: Float64Array) {}
}

/** Every rt-app thread of one OS instance; a task's `tag` indexes `threads`. */
export class RtAppThreads implements Program {
  readonly tasks: Task[] = [];
  readonly threads: ThreadState[] = [];

  constructor(private readonly kernel: LinuxKernel) {}

  add(w: RtAppThreadSpec, allCpus: number[], now: number): void {
    const refs = new Map<string, number>();
    const phases = w.phases.map((p) => ({
      loop: p.loop ?? 1,
      events: p.events.map((e): Ev => {
        if ("run_us" in e) return { op: OP_RUN, ns: Math.round(e.run_us * 1000), timer: -1, absolute: false };
        if ("runtime_us" in e) return { op: OP_RUNTIME, ns: Math.round(e.runtime_us * 1000), timer: -1, absolute: false };
        if ("sleep_us" in e) return { op: OP_SLEEP, ns: Math.round(e.sleep_us * 1000), timer: -1, absolute: false };
        const ref = e.ref ?? "unique";
        if (!refs.has(ref)) refs.set(ref, refs.size);
        return { op: OP_TIMER, ns: Math.round(e.timer_us * 1000), timer: refs.get(ref)!, absolute: e.absolute ?? false };
      }),
    }));
    const st = new ThreadState(w, phases, new Float64Array(refs.size));
    const i = this.threads.length;
    this.threads.push(st);
    const cpus = w.cpus ?? allCpus;
    // threads of one rt-app process: one address space
    this.tasks.push(this.kernel.spawn(w.name, this, cpus[i % cpus.length], cpus, w.nice ?? 0, now, i, rtappAttr(w), i > 0 ? this.tasks[0].mm : undefined));
  }

  next(t: Task, now: number): void {
    const s = this.threads[t.tag];
    if (!s.started) {
      // the thread's start: its delay first
      s.started = true;
      const delay = Math.round((s.spec.delay_us ?? 0) * 1000);
      if (delay > 0) { t.act = A_SLEEP_UNTIL; t.actArg = now + delay; return; }
    }
    if (!s.originSet) {
      // t_first: the timers count from the moment the thread begins its first phase
      s.originSet = true;
      s.tNext.fill(now);
    }
    // a `runtime` event still short of its wall-clock duration computes on
    const cur = s.event >= 0 ? s.phases[s.phase].events[s.event] : null;
    if (cur !== null && cur.op === OP_RUNTIME && now - s.runtimeStart < cur.ns) {
      t.act = A_COMPUTE; t.actArg = cur.ns - (now - s.runtimeStart);
      return;
    }
    for (;;) {
      if (s.done) { t.act = A_WAIT; t.actArg = 0; return; }
      this.advance(s);
      if (s.done) continue;
      const e = s.phases[s.phase].events[s.event];
      switch (e.op) {
        case OP_RUN:
          if (e.ns <= 0) continue;
          t.act = A_COMPUTE; t.actArg = e.ns; return;
        case OP_RUNTIME:
          if (e.ns <= 0) continue;
          s.runtimeStart = now;
          t.act = A_COMPUTE; t.actArg = e.ns; return;
        case OP_SLEEP:
          t.act = A_SLEEP_UNTIL; t.actArg = now + e.ns; return;
        default: {
          const k = e.timer;
          s.tNext[k] += e.ns;
          if (now < s.tNext[k]) { t.act = A_SLEEP_UNTIL; t.actArg = s.tNext[k]; return; }
          s.overruns++;
          if (!e.absolute) s.tNext[k] = now;
          continue;
        }
      }
    }
  }

  /** Moves to the next event (phase loops, phases, thread loops); sets `done` past the last. */
  private advance(s: ThreadState): void {
    s.event++;
    if (s.event < s.phases[s.phase].events.length) return;
    s.event = 0;
    if (++s.phaseLoop < s.phases[s.phase].loop) return;
    s.phaseLoop = 0;
    if (++s.phase < s.phases.length) return;
    s.phase = 0;
    s.loops++;
    const loop = s.spec.loop ?? -1;
    if (loop !== -1 && s.loops >= loop) s.done = true;
  }
}

/** Workload kind `rtapp`: one rt-app thread (a task named by `name`). */
export const rtappWorkload: WorkloadModule<RtAppThreadSpec> = {
  kind: "rtapp",
  tables: [],
  start() {
    const sets = new Map<LinuxKernel, RtAppThreads>();
    return {
      add(w, at) {
        let s = sets.get(at.kernel);
        if (!s) { s = new RtAppThreads(at.kernel); sets.set(at.kernel, s); }
        s.add(w, at.allCpus, at.now);
      },
      tables(): TableSet {
        return {};
      },
    };
  },
};
