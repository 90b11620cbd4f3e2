/**
 * rt-app (github.com/scheduler-tools/rt-app) workload files, turned into a
 * native {@link SimSpec} on a board: each thread becomes either a periodic
 * task ({@link PeriodicSpec}: per-job response times and deadline misses) or,
 * when its pattern is more than that, an rt-app thread program (workload
 * kind "rtapp", {@link RtAppThreadSpec}, workloads/rtapp-thread.ts).
 *
 * Accepted (rt-app's doc/tutorial.txt grammar):
 * - `global`: `duration` (s, the horizon), `default_policy`, `calibration`
 *   (a number is ns per loop: a `run` of t µs then executes
 *   floor(t * 1000 / ns) loops; a CPU name keeps t). Logging, ftrace, lock
 *   and io keys are ignored.
 * - `tasks`: { name: { `policy` (SCHED_OTHER/FIFO/RR/DEADLINE), `priority`
 *   (RT priority, default 10; nice for SCHED_OTHER), `instance` (threads
 *   name-0 .. name-(n-1) when n > 1), `cpus`, `delay` (µs), `loop` (times the
 *   phases run, -1 = forever), `dl-runtime` / `dl-period` / `dl-deadline`
 *   (µs), `phases` { name: { `loop`, events } } or the events directly; the
 *   events `run`, `runtime`, `sleep`, `timer` {`ref`, `period`, `mode`}, in
 *   order, with numbered keys (run1, sleep2, ...) } }.
 * A thread whose only phase is run event(s) then one timer (optionally a
 * sleep after the run), endless, is a periodic task: a timer before the run
 * shifts the first release by one period, as rt-app's first timer wait does;
 * rt-app's default "relative" timers re-anchor the release grid after an
 * overrun whereas the periodic model keeps the absolute grid (a warning: the
 * same schedule whenever every job finishes before its next release); a
 * `runtime` event there is modelled like `run` (a warning). Every other
 * thread runs as a thread program, which models relative timers, runtime and
 * sleep events and loops as rt-app runs them.
 * Rejected, naming the event and why: lock/unlock, wait/signal/broad/sync,
 * barrier, suspend/resume, mem, memrun, iorun, yield, fork; scheduling or
 * affinity changes between phases; a non-unique timer ref shared by threads.
 */
import { boardPresets } from "../hw/board.js";
import type { KernelSpec, PeriodicSpec, RtAppThreadSpec, SimSpec } from "../spec/types.js";

/** Options of {@link rtApp}. */
export interface RtAppOptions {
  /** Board preset (default "ideal"). */
  board?: string;
  /** Online CPUs of the native kernel (default: every CPU of the board). */
  cpus?: number;
  /** Simulated seconds (default: the file's global.duration). */
  horizonS?: number;
  /** Kernel parameters (e.g. `{ rt_runtime_us: "off" }`). */
  kernel?: KernelSpec;
  /** Name of the native OS in the spec (default "linux"). */
  guestName?: string;
  /** Keep per-job rows (record.jobs_max). */
  jobsMax?: number;
}

/** The periodic tasks and thread programs of an rt-app file, the native spec running them, and what the model changes. */
export interface RtAppResult {
  /** Threads that are plain periodic tasks (run events and one timer, endless): the periodic model, with per-job response times. */
  tasks: PeriodicSpec[];
  /** Every other thread: an rt-app thread program (phases, loops, sleeps, several timers). */
  threads: RtAppThreadSpec[];
  spec: SimSpec;
  warnings: string[];
}

/** An rt-app file the periodic model cannot represent. */
export class RtAppError extends Error {
  constructor(message: string) {
    super(`rt-app: ${message}`);
    this.name = "RtAppError";
  }
}

/**
 * Parses rt-app's "json like" text: JSON plus C comments and trailing
 * commas, which json-c (rt-app's parser) accepts.
 */
export function parseRtAppText(text: string): unknown {
  let out = "";
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (ch === "/" && text[i + 1] === "*") {
      const j = text.indexOf("*/", i + 2);
      i = j < 0 ? n : j + 2;
      out += " ";
    } else if (ch === "/" && text[i + 1] === "/") {
      const j = text.indexOf("\n", i + 2);
      i = j < 0 ? n : j;
    } else {
      out += ch;
      i++;
    }
  }
  // trailing commas before } or ]
  out = out.replace(/,(\s*[}\]])/g, "$1");
  return JSON.parse(out);
}

/** Whether a parsed document looks like an rt-app file (a `tasks` object, no hvsim `guests`). */
export function isRtApp(doc: unknown): boolean {
  if (doc === null || typeof doc !== "object") return false;
  const d = doc as Record<string, unknown>;
  return typeof d.tasks === "object" && d.tasks !== null && !Array.isArray(d.tasks) && !("guests" in d);
}

const POLICIES: Record<string, PeriodicSpec["policy"]> = {
  SCHED_OTHER: "other", SCHED_FIFO: "fifo", SCHED_RR: "rr", SCHED_DEADLINE: "deadline",
  other: "other", fifo: "fifo", rr: "rr", deadline: "deadline",
};
/** Thread/phase properties that do not change the periodic model. */
const IGNORED = new Set(["util_min", "util_max", "membind_nodes", "taskgroup", "nice"]);

function num(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new RtAppError(`${what} must be a number; got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Converts an rt-app document (text or parsed) into periodic tasks and a
 * native spec on `opts.board` (default "ideal").
 */
export function rtApp(doc: string | object, opts: RtAppOptions = {}): RtAppResult {
  const d = (typeof doc === "string" ? parseRtAppText(doc) : doc) as Record<string, any>;
  if (!isRtApp(d)) throw new RtAppError("no \"tasks\" object: not an rt-app file");
  const warnings: string[] = [];
  const g = (d.global ?? {}) as Record<string, any>;
  const boardName = opts.board ?? "ideal";
  const preset = boardPresets().get(boardName);
  if (!preset) throw new RtAppError(`unknown board ${JSON.stringify(boardName)}; known: ${[...boardPresets().keys()].join(", ")}`);
  const ncpus = opts.cpus ?? preset.cpus;
  if (!Number.isInteger(ncpus) || ncpus < 1 || ncpus > preset.cpus) throw new RtAppError(`cpus must be 1..${preset.cpus} on board ${boardName}; got ${ncpus}`);
  const calib = g.calibration;
  const nsPerLoop = typeof calib === "number" && calib > 0 ? calib : 0;
  const defaultPolicy = g.default_policy ?? "SCHED_OTHER";
  let horizon = opts.horizonS;
  if (horizon === undefined) {
    if (typeof g.duration !== "number" || g.duration <= 0) throw new RtAppError("global.duration is missing or -1: give a horizon");
    horizon = g.duration;
  }
  const refs = new Map<string, string>();
  let relative = false;
  const tasks: PeriodicSpec[] = [];

  const threads: RtAppThreadSpec[] = [];
  for (const [name, tv] of Object.entries(d.tasks as Record<string, any>)) {
    const where = `tasks.${name}`;
    if (tv === null || typeof tv !== "object") throw new RtAppError(`${where} must be an object`);
    const t = tv as Record<string, any>;
    const phases = phasesOf(t, where);
    const ctx: TaskCtx = { name, where, t, phases, nsPerLoop, defaultPolicy, ncpus, warnings, refs };
    const nWarnings = warnings.length;
    try {
      const p = periodicOf(ctx);
      if (p.relative) relative = true;
      tasks.push(...p.tasks);
    } catch (err) {
      if (!(err instanceof NotPeriodic)) throw err;
      warnings.length = nWarnings; // what the periodic reading noted does not apply
      threads.push(...threadsOf(ctx));
    }
  }
  if (relative) warnings.push("relative-mode timers: rt-app re-anchors a timer after an overrun; the model keeps the absolute release grid (identical while jobs finish before their next release)");

  const guest: SimSpec["guests"][number] = { name: opts.guestName ?? "linux", vcpus: ncpus, workloads: [...tasks, ...threads] };
  if (opts.kernel) guest.kernel = opts.kernel;
  const spec: SimSpec = { board: { preset: boardName }, hypervisor: { kind: "native" }, guests: [guest], horizon_s: horizon };
  if (opts.jobsMax !== undefined) spec.record = { jobs_max: opts.jobsMax };
  return { tasks, threads, spec, warnings };
}

/** A thread whose pattern is not a plain periodic task (it runs as an rt-app thread program). */
class NotPeriodic extends Error {}

/** What converting one thread object needs. */
interface TaskCtx {
  name: string;
  where: string;
  t: Record<string, any>;
  /** The phases: [name, object] (the thread object itself when it has no `phases`). */
  phases: [string, Record<string, any>][];
  nsPerLoop: number;
  defaultPolicy: unknown;
  ncpus: number;
  warnings: string[];
  /** Non-unique timer refs -> the thread using them. */
  refs: Map<string, string>;
}

/** Thread-level keys (rt-app's thread object) that are not events. */
const THREAD_KEYS = new Set(["instance", "delay", "phases", "loop", "policy", "priority", "cpus", "dl-runtime", "dl-period", "dl-deadline", "period", "deadline", "nice"]);
/** Phase-level scheduling keys: rt-app applies them at the start of the phase. */
const SCHED_KEYS = ["policy", "priority", "dl-runtime", "dl-period", "dl-deadline", "cpus"];
/** Why each unsupported event cannot be modelled. */
const WHY_NOT: Record<string, string> = {
  lock: "mutexes shared between threads are not modelled", unlock: "mutexes shared between threads are not modelled",
  wait: "condition variables (wait/signal) are not modelled", signal: "condition variables (wait/signal) are not modelled",
  broad: "condition variables (broadcast) are not modelled", sync: "condition variables (sync) are not modelled",
  barrier: "barriers between threads are not modelled", suspend: "suspend/resume between threads is not modelled",
  resume: "suspend/resume between threads is not modelled", mem: "memory traffic (mem) is not modelled",
  memrun: "memory access workloads (memrun) are not modelled", iorun: "I/O writes (iorun) are not modelled",
  yield: "sched_yield is not modelled", fork: "fork of new threads is not modelled",
};

/** The phases of a thread object, checking every event and phase-level key. */
function phasesOf(t: Record<string, any>, where: string): [string, Record<string, any>][] {
  let phases: [string, Record<string, any>][];
  if (t.phases !== undefined) {
    if (t.phases === null || typeof t.phases !== "object" || Array.isArray(t.phases)) throw new RtAppError(`${where}.phases must be an object of phases`);
    phases = Object.entries(t.phases as Record<string, any>).map(([k, v]) => {
      if (v === null || typeof v !== "object") throw new RtAppError(`${where}.phases.${k} must be an object`);
      return [k, v];
    });
    if (phases.length === 0) throw new RtAppError(`${where}.phases is empty`);
  } else phases = [["", t]];
  for (const [pn, ph] of phases) {
    const pw = pn ? `${where}.phases.${pn}` : where;
    for (const k of Object.keys(ph)) {
      const base = k.replace(/\d+$/, "");
      if (Object.hasOwn(WHY_NOT, base)) throw new RtAppError(`${pw}.${k}: ${base} events are not supported: ${WHY_NOT[base]}`);
    }
    if (pn) {
      for (const k of SCHED_KEYS) {
        if (ph[k] !== undefined && JSON.stringify(ph[k]) !== JSON.stringify(t[k]) && phases.length > 1)
          throw new RtAppError(`${pw}.${k}: a change of scheduling parameters or affinity between phases is not modelled; set ${k} on the thread`);
      }
    }
  }
  return phases;
}

/** A policy name as the model's. */
function policyOf(c: TaskCtx, v: unknown): NonNullable<PeriodicSpec["policy"]> {
  const policyName = String(v ?? c.defaultPolicy);
  // own properties only: "constructor" or "toString" are not policies
  const policy = Object.hasOwn(POLICIES, policyName) ? POLICIES[policyName] : undefined;
  if (!policy) throw new RtAppError(`${c.where}.policy: ${JSON.stringify(v ?? c.defaultPolicy)} is not one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_DEADLINE`);
  return policy;
}

/** A thread property, from its single phase or the thread object. */
function propOf(c: TaskCtx, k: string): any {
  const ph = c.phases[0][1];
  return ph !== c.t && ph[k] !== undefined ? ph[k] : c.t[k];
}

/** `run` of t µs after calibration (n = floor(t * 1000 / ns per loop) loops). */
function runUs(c: TaskCtx, us: number): number {
  return c.nsPerLoop > 0 ? (Math.floor((us * 1000) / c.nsPerLoop) * c.nsPerLoop) / 1000 : us;
}

function instancesOf(c: TaskCtx): number {
  const instances = c.t.instance ?? 1;
  if (!Number.isInteger(instances) || instances < 0) throw new RtAppError(`${c.where}.instance must be an integer >= 0`);
  return instances;
}

function cpusOf(c: TaskCtx): number[] | undefined {
  const cpus = propOf(c, "cpus");
  if (cpus === undefined) return undefined;
  if (!Array.isArray(cpus) || cpus.some((x) => !Number.isInteger(x) || x < 0 || x >= c.ncpus))
    throw new RtAppError(`${c.where}.cpus must list CPUs 0..${c.ncpus - 1}; got ${JSON.stringify(cpus)}`);
  return [...cpus];
}

/** Checks a timer's ref: a non-unique ref shared by several threads interleaves their releases. */
function checkRef(c: TaskCtx, ref: string, instances: number): void {
  if (ref.startsWith("unique")) return;
  const owner = c.refs.get(ref);
  if ((owner !== undefined && owner !== c.name) || instances > 1)
    throw new RtAppError(`${c.where}.timer.ref ${JSON.stringify(ref)} is shared by several threads, which interleaves their releases (not modelled); use a "unique" ref`);
  c.refs.set(ref, c.name);
}

/**
 * The thread as periodic tasks (the periodic model, with per-job response
 * times), or NotPeriodic when its pattern is more than run(s) + one timer.
 */
function periodicOf(c: TaskCtx): { tasks: PeriodicSpec[]; relative: boolean } {
  const { where, t, warnings } = c;
  if (c.phases.length !== 1) throw new NotPeriodic();
  const ev = c.phases[0][1];
  if ((t.loop ?? -1) !== -1 || (ev !== t && (ev.loop ?? 1) !== 1 && (ev.loop ?? 1) !== -1)) throw new NotPeriodic();
  const policy = policyOf(c, propOf(c, "policy"));
  let execUs = 0, runs = 0, sleepUs = 0, timerFirst = false, sleepBeforeRun = false;
  let timer: Record<string, any> | null = null;
  for (const [k, v] of Object.entries(ev)) {
    if (/^runtime\d*$/.test(k)) {
      if (sleepUs > 0 && !timerFirst) sleepBeforeRun = true;
      execUs += num(v, `${where}.${k}`);
      runs++;
      if (!warnings.some((w) => w.startsWith("runtime events"))) warnings.push("runtime events are wall-clock bounded in rt-app (they end early when preempted); in a periodic task they are modelled as run events (fixed work)");
    } else if (/^run\d*$/.test(k)) {
      if (sleepUs > 0 && !timerFirst) sleepBeforeRun = true;
      execUs += runUs(c, num(v, `${where}.${k}`));
      runs++;
    } else if (/^sleep\d*$/.test(k)) {
      sleepUs += num(v, `${where}.${k}`);
    } else if (/^timer\d*$/.test(k)) {
      if (timer) throw new NotPeriodic();
      if (v === null || typeof v !== "object") throw new RtAppError(`${where}.${k} must be an object {ref, period}`);
      timer = v;
      if (runs === 0) timerFirst = true;
    } else if (IGNORED.has(k)) {
      warnings.push(`${where}.${k} is ignored`);
    }
  }
  if (!timer || runs === 0 || sleepBeforeRun) throw new NotPeriodic();
  const periodUs = num(timer.period, `${where}.timer.period`);
  if (periodUs <= 0) throw new RtAppError(`${where}.timer.period must be > 0`);
  if (execUs + sleepUs > periodUs && sleepUs > 0) throw new NotPeriodic();
  if (sleepUs > 0) warnings.push(`${where}: the sleep after the run only idles until the next release; ignored`);
  if (policy === "deadline") {
    const dp = propOf(c, "dl-period") ?? propOf(c, "period");
    if (dp !== undefined && num(dp, `${where}.dl-period`) !== periodUs) throw new NotPeriodic();
  }
  const instances = instancesOf(c);
  checkRef(c, String(timer.ref ?? "unknown"), instances);
  const relative = (timer.mode ?? "relative") === "relative";

  const base: PeriodicSpec = { kind: "periodic", name: c.name, period_us: periodUs, exec: execUs, policy };
  const delay = t.delay ?? 0;
  const offset = num(delay, `${where}.delay`) + (timerFirst ? periodUs : 0);
  if (offset > 0) base.offset_us = offset;
  const prio = propOf(c, "priority");
  if (policy === "fifo" || policy === "rr") {
    base.priority = prio === undefined ? 10 : num(prio, `${where}.priority`);
  } else if (policy === "other" && prio !== undefined && prio !== 0) {
    base.nice = num(prio, `${where}.priority`);
  }
  if (policy === "deadline") {
    const rt = propOf(c, "dl-runtime");
    if (rt === undefined) throw new RtAppError(`${where}: SCHED_DEADLINE needs dl-runtime`);
    base.dl_runtime_us = num(rt, `${where}.dl-runtime`);
    const dd = propOf(c, "dl-deadline") ?? propOf(c, "deadline");
    if (dd !== undefined && num(dd, `${where}.dl-deadline`) !== periodUs) base.deadline_us = dd;
  }
  const cpus = cpusOf(c);
  if (cpus !== undefined) base.cpus = cpus;
  const out: PeriodicSpec[] = [];
  for (let i = 0; i < instances; i++) out.push(instances > 1 ? { ...base, name: `${c.name}-${i}`, cpus: base.cpus && [...base.cpus] } : base);
  return { tasks: out, relative };
}

/** The thread as rt-app thread programs (kind "rtapp"), one per instance. */
function threadsOf(c: TaskCtx): RtAppThreadSpec[] {
  const { where, t, warnings } = c;
  const policy = policyOf(c, propOf(c, "policy"));
  const instances = instancesOf(c);
  const loop = t.loop ?? -1;
  if (!Number.isInteger(loop) || loop === 0 || loop < -1) throw new RtAppError(`${where}.loop must be -1 (forever) or a positive integer; got ${JSON.stringify(loop)}`);
  const phases: RtAppThreadSpec["phases"] = c.phases.map(([pn, ph]) => {
    const pw = pn ? `${where}.phases.${pn}` : where;
    const events: RtAppThreadSpec["phases"][number]["events"] = [];
    for (const [k, v] of Object.entries(ph)) {
      if (/^runtime\d*$/.test(k)) events.push({ runtime_us: num(v, `${pw}.${k}`) });
      else if (/^run\d*$/.test(k)) events.push({ run_us: runUs(c, num(v, `${pw}.${k}`)) });
      else if (/^sleep\d*$/.test(k)) events.push({ sleep_us: num(v, `${pw}.${k}`) });
      else if (/^timer\d*$/.test(k)) {
        if (v === null || typeof v !== "object") throw new RtAppError(`${pw}.${k} must be an object {ref, period}`);
        const period = num(v.period, `${pw}.${k}.period`);
        if (period <= 0) throw new RtAppError(`${pw}.${k}.period must be > 0`);
        const ref = String(v.ref ?? "unknown");
        checkRef(c, ref, instances);
        const mode = v.mode ?? "relative";
        if (mode !== "relative" && mode !== "absolute") throw new RtAppError(`${pw}.${k}.mode must be "relative" or "absolute"; got ${JSON.stringify(mode)}`);
        events.push({ timer_us: period, ref, ...(mode === "absolute" ? { absolute: true } : {}) });
      } else if (IGNORED.has(k)) warnings.push(`${pw}.${k} is ignored`);
      else if (!(k === "loop" || SCHED_KEYS.includes(k) || (ph === t && THREAD_KEYS.has(k)))) warnings.push(`${pw}.${k} is not an rt-app event hvsim knows; ignored`);
    }
    if (events.length === 0) throw new RtAppError(`${pw}: no run, runtime, sleep or timer event`);
    const pl = ph === t ? 1 : (ph.loop ?? 1);
    if (!Number.isInteger(pl) || pl < 1) throw new RtAppError(`${pw}.loop must be a positive integer; got ${JSON.stringify(pl)}`);
    return { loop: pl, events };
  });
  const base: RtAppThreadSpec = { kind: "rtapp", name: c.name, policy, phases };
  if (loop !== -1) base.loop = loop;
  const delay = num(t.delay ?? 0, `${where}.delay`);
  if (delay > 0) base.delay_us = delay;
  const prio = propOf(c, "priority");
  if (policy === "fifo" || policy === "rr") base.priority = prio === undefined ? 10 : num(prio, `${where}.priority`);
  else if (policy === "other" && prio !== undefined && prio !== 0) base.nice = num(prio, `${where}.priority`);
  if (policy !== "deadline" && propOf(c, "dl-runtime") !== undefined)
    warnings.push(`${where}.dl-runtime: a custom slice for ${policy === "other" ? "SCHED_OTHER" : "an RT task"} (Linux 6.12 EEVDF) is not modelled; ignored`);
  if (policy === "deadline") {
    const rt = propOf(c, "dl-runtime");
    if (rt === undefined) throw new RtAppError(`${where}: SCHED_DEADLINE needs dl-runtime`);
    base.dl_runtime_us = num(rt, `${where}.dl-runtime`);
    const dp = propOf(c, "dl-period") ?? propOf(c, "period");
    if (dp !== undefined) base.dl_period_us = num(dp, `${where}.dl-period`);
    const dd = propOf(c, "dl-deadline") ?? propOf(c, "deadline");
    if (dd !== undefined) base.dl_deadline_us = num(dd, `${where}.dl-deadline`);
  }
  const cpus = cpusOf(c);
  if (cpus !== undefined) base.cpus = cpus;
  const out: RtAppThreadSpec[] = [];
  for (let i = 0; i < instances; i++) {
    const copy: RtAppThreadSpec = JSON.parse(JSON.stringify(base));
    if (instances > 1) copy.name = `${c.name}-${i}`;
    out.push(copy);
  }
  return out;
}
