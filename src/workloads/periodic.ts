/**
 * Periodic real-time tasks (the task model of scheduling theory, and what
 * rt-app's `run` + `timer` loop does): job k of a task is released at
 * offset + k * period, needs an execution time (fixed, or drawn from a
 * distribution on the task's own random stream), and should finish within
 * its relative deadline. The task's program sleeps until the next release
 * with clock_nanosleep(TIMER_ABSTIME) (A_SLEEP_UNTIL; a release already past
 * returns at once, so a late job starts right after the previous one) and
 * then computes (A_COMPUTE).
 *
 * Per job: release, start (the task returns to user space after the
 * release), finish, response time (finish - release) and a deadline miss
 * (finish > release + deadline). Per task: jobs, preemptions (the task was
 * switched out involuntarily while a job ran; a job still running at the
 * end of the run counts the preemptions it had so far, as RTSim and SimSo
 * count every preemption before the horizon), migrations (set_task_cpu),
 * deadline misses (jobs finished late, plus jobs whose deadline passed
 * unfinished before the end of the run), maximum and mean response time.
 * Statistics are kept incrementally in typed arrays (memory does not grow
 * with the horizon); per-job rows are kept only up to a bound
 * (`record.jobs_max`), in completion order. Jobs released before the
 * warm-up end are not counted.
 */
import type { RandomStream } from "../engine/random.js";
import type { Simulator } from "../engine/sim.js";
import type { LinuxKernel, SchedAttr } from "../kernel/linux.js";
import {
  A_COMPUTE, A_SLEEP_UNTIL, type Program, SCHED_DEADLINE, type Task,
} from "../kernel/task.js";
import { rtAttr } from "../spec/defaults.js";
import type { ExecTimeSpec, PeriodicSpec } from "../spec/types.js";
import type { TableSet } from "../results/tables.js";
import type { TaskStats, WorkloadModule } from "./registry.js";

const D_FIXED = 0;
const D_UNIFORM = 1;
const D_NORMAL = 2;
const D_EXP = 3;

/** Worst-case execution time of a job, µs (Infinity when the distribution is unbounded). */
export function wcetUs(exec: number | ExecTimeSpec): number {
  if (typeof exec === "number") return exec;
  switch (exec.dist) {
    case "fixed": return exec.us;
    case "uniform": return exec.max_us;
    case "normal": return exec.max_us ?? Infinity;
    case "exponential": return exec.max_us ?? Infinity;
  }
}

/** Per-job rows kept up to a bound, shared by every periodic task of a run. */
export class JobLog {
  n = 0;
  task = new Int32Array(0);
  job = new Float64Array(0);
  release = new Float64Array(0);
  start = new Float64Array(0);
  finish = new Float64Array(0);
  /** Task names, indexed by the `task` column. */
  readonly names: string[] = [];
  /** Deadline of each task, ns, for the deadline_miss column. */
  readonly deadline: number[] = [];
  constructor(readonly max: number) {}

  /** Registers a task and returns its index. */
  addTask(name: string, deadlineNs: number): number {
    this.names.push(name);
    this.deadline.push(deadlineNs);
    return this.names.length - 1;
  }

  private grow(): void {
    const cap = Math.min(this.max, Math.max(1024, this.task.length * 2));
    const g = <T extends Int32Array | Float64Array>(a: T, b: T): T => { b.set(a); return b; };
    this.task = g(this.task, new Int32Array(cap));
    this.job = g(this.job, new Float64Array(cap));
    this.release = g(this.release, new Float64Array(cap));
    this.start = g(this.start, new Float64Array(cap));
    this.finish = g(this.finish, new Float64Array(cap));
  }

  add(task: number, job: number, release: number, start: number, finish: number): void {
    if (this.n >= this.max) return;
    if (this.n === this.task.length) this.grow();
    const i = this.n++;
    this.task[i] = task; this.job[i] = job; this.release[i] = release; this.start[i] = start; this.finish[i] = finish;
  }
}

/** The scheduling attributes (ns) a periodic task asks for. */
export function schedAttrOf(w: PeriodicSpec): SchedAttr {
  const policy = w.policy ?? "fifo";
  if (policy !== "deadline") return rtAttr(policy, w.priority);
  const periodNs = Math.round(w.period_us * 1000);
  return {
    policy: SCHED_DEADLINE,
    runtime: Math.round((w.dl_runtime_us ?? wcetUs(w.exec)) * 1000),
    deadline: Math.round((w.deadline_us ?? w.period_us) * 1000),
    period: periodNs,
  };
}

/** Every periodic task of one guest; the task's `tag` indexes the arrays. */
export class PeriodicTasks implements Program {
  readonly tasks: Task[] = [];
  readonly specs: PeriodicSpec[] = [];
  private readonly streams: (RandomStream | null)[] = [];
  private logIdx: number[] = [];
  // parameters, ns
  private period = new Float64Array(0);
  private deadline = new Float64Array(0);
  private distKind = new Uint8Array(0);
  private p1 = new Float64Array(0);
  private p2 = new Float64Array(0);
  private lo = new Float64Array(0);
  private hi = new Float64Array(0);
  // state
  /** Release of the current (or awaited) job, ns. */
  private release = new Float64Array(0);
  private startNs = new Float64Array(0);
  /** 0: sleeping until `release`; 1: a job is running; 2: not started yet. */
  private running = new Uint8Array(0);
  private nivAtStart = new Float64Array(0);
  private jobNo = new Float64Array(0);
  // statistics
  jobs = new Float64Array(0);
  preemptions = new Float64Array(0);
  misses = new Float64Array(0);
  maxResp = new Float64Array(0);
  sumResp = new Float64Array(0);

  constructor(
    readonly sim: Simulator,
    readonly kernel: LinuxKernel,
    /** Prefix of the random stream names (the guest name). */
    readonly streamPrefix: string,
    readonly log: JobLog,
    /** Statistics window start (warm-up end), ns. */
    readonly from: number,
  ) {}

  /** Adds and spawns the tasks (all at once, so the typed arrays are sized once). */
  addAll(specs: PeriodicSpec[], allCpus: number[], now: number): void {
    const n = specs.length;
    const f = () => new Float64Array(n);
    this.period = f(); this.deadline = f(); this.p1 = f(); this.p2 = f(); this.lo = f(); this.hi = f();
    this.release = f(); this.startNs = f(); this.nivAtStart = f(); this.jobNo = f();
    this.jobs = f(); this.preemptions = f(); this.misses = f(); this.maxResp = f(); this.sumResp = f();
    this.distKind = new Uint8Array(n);
    this.running = new Uint8Array(n);
    specs.forEach((w, i) => {
      this.specs.push(w);
      this.period[i] = Math.round(w.period_us * 1000);
      this.deadline[i] = Math.round((w.deadline_us ?? w.period_us) * 1000);
      this.release[i] = Math.round((w.offset_us ?? 0) * 1000);
      this.running[i] = 2; // not started: the first action sleeps until the offset
      const e = w.exec;
      let random = true;
      if (typeof e === "number" || e.dist === "fixed") {
        this.distKind[i] = D_FIXED; this.p1[i] = typeof e === "number" ? e : e.us; random = false;
      } else if (e.dist === "uniform") {
        this.distKind[i] = D_UNIFORM; this.p1[i] = e.min_us; this.p2[i] = e.max_us;
      } else if (e.dist === "normal") {
        this.distKind[i] = D_NORMAL; this.p1[i] = e.mean_us; this.p2[i] = e.sd_us;
        this.lo[i] = e.min_us ?? 0; this.hi[i] = e.max_us ?? Infinity;
      } else {
        this.distKind[i] = D_EXP; this.p1[i] = e.mean_us; this.hi[i] = e.max_us ?? Infinity;
      }
      this.streams.push(random ? this.sim.random.get(`${this.streamPrefix}/${w.name}/exec`) : null);
      this.logIdx.push(this.log.addTask(w.name, this.deadline[i]));
      const cpus = w.cpus ?? allCpus;
      const attr = schedAttrOf(w);
      this.tasks.push(this.kernel.spawn(w.name, this, cpus[i % cpus.length], cpus, w.nice ?? 0, now, i, attr));
    });
  }

  /** Execution time of the next job of task i, ns. */
  private drawExec(i: number): number {
    let us: number;
    const k = this.distKind[i];
    if (k === D_FIXED) us = this.p1[i];
    else {
      const r = this.streams[i]!;
      if (k === D_UNIFORM) us = r.uniform(this.p1[i], this.p2[i]);
      else if (k === D_NORMAL) us = Math.min(this.hi[i], Math.max(this.lo[i], this.p1[i] + this.p2[i] * r.normal()));
      else us = Math.min(this.hi[i], r.exponential(this.p1[i]));
    }
    return Math.round(us * 1000);
  }

  next(t: Task, now: number): void {
    const i = t.tag;
    if (this.running[i] === 0) {
      // the sleep until the release returned: the job starts
      this.running[i] = 1;
      this.startNs[i] = now;
      this.nivAtStart[i] = t.nivcsw;
      t.act = A_COMPUTE;
      t.actArg = this.drawExec(i);
      return;
    }
    if (this.running[i] === 1) {
      // the job finished
      const rel = this.release[i];
      if (rel >= this.from) {
        const resp = now - rel;
        this.jobs[i]++;
        this.preemptions[i] += t.nivcsw - this.nivAtStart[i];
        if (resp > this.deadline[i]) this.misses[i]++;
        if (resp > this.maxResp[i]) this.maxResp[i] = resp;
        this.sumResp[i] += resp;
        this.log.add(this.logIdx[i], this.jobNo[i], rel, this.startNs[i], now);
      }
      this.jobNo[i]++;
      this.release[i] = rel + this.period[i];
    }
    this.running[i] = 0;
    t.act = A_SLEEP_UNTIL;
    t.actArg = this.release[i];
  }

  /**
   * Preemptions of task i at the end of the run: those of the finished jobs
   * plus those the job still running (released inside the statistics
   * window) has had so far. `t` is the task (its involuntary switch count).
   */
  preemptionsAt(i: number, t: Task): number {
    let p = this.preemptions[i];
    if (this.running[i] === 1 && this.release[i] >= this.from) p += t.nivcsw - this.nivAtStart[i];
    return p;
  }

  /**
   * Deadline misses of task i counting, at time `end`, the jobs released
   * (inside the statistics window) whose deadline passed before `end`
   * without them finishing.
   */
  missesAt(i: number, end: number): number {
    let m = this.misses[i];
    const P = this.period[i], D = this.deadline[i];
    let r = this.release[i];
    if (r < this.from) r += Math.ceil((this.from - r) / P) * P;
    if (r + D < end) m += Math.floor((end - D - r - 1) / P) + 1;
    return m;
  }
}

/**
 * Workload kind `periodic`: every periodic task of a guest is created, as
 * one {@link PeriodicTasks}, where the guest's first periodic workload is
 * listed (the tasks are named by their spec). Per-task statistics go to the
 * `tasks` table; per-job rows to table `jobs` (present whenever
 * `record.jobs_max` > 0).
 */
export const periodicWorkload: WorkloadModule<PeriodicSpec> = {
  kind: "periodic",
  tables: ["jobs"],
  start(run) {
    const jobLog = new JobLog(run.spec.record?.jobs_max ?? 0);
    const sets: PeriodicTasks[] = [];
    return {
      add(w, at) {
        const rtSpecs = at.guest.workloads.filter((x): x is PeriodicSpec => x.kind === "periodic");
        if (w !== rtSpecs[0]) return;
        const pw = new PeriodicTasks(at.sim, at.kernel, at.guest.name, jobLog, at.from);
        pw.addAll(rtSpecs, at.allCpus, at.now);
        sets.push(pw);
      },
      taskStats(end) {
        const m = new Map<Task, TaskStats>();
        for (const p of sets) {
          p.tasks.forEach((t, i) => {
            const n = p.jobs[i];
            m.set(t, {
              jobs: n, preemptions: p.preemptionsAt(i, t), deadline_misses: p.missesAt(i, end),
              max_response_us: n > 0 ? p.maxResp[i] / 1000 : null, mean_response_us: n > 0 ? p.sumResp[i] / n / 1000 : null,
            });
          });
        }
        return m;
      },
      tables(): TableSet {
        if (jobLog.max <= 0) return {};
        const L = jobLog, n = L.n;
        const col = <T>(f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));
        return {
          jobs: {
            task: col((i) => L.names[L.task[i]]), job: col((i) => L.job[i]),
            release_us: col((i) => L.release[i] / 1000), start_us: col((i) => L.start[i] / 1000), finish_us: col((i) => L.finish[i] / 1000),
            response_us: col((i) => (L.finish[i] - L.release[i]) / 1000),
            deadline_miss: col((i) => L.finish[i] - L.release[i] > L.deadline[L.task[i]]),
          },
        };
      },
    };
  },
};
