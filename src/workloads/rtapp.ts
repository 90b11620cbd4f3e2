/**
 * rt-app (github.com/scheduler-tools/rt-app) workload files: the subset that
 * describes periodic tasks, turned into {@link PeriodicSpec}s and a native
 * {@link SimSpec} on a board.
 *
 * Accepted (rt-app's doc/tutorial.txt grammar):
 * - `global`: `duration` (s, the horizon), `default_policy`, `calibration`
 *   (a number is ns per loop: a `run` of t µs then executes
 *   floor(t * 1000 / ns) loops; a CPU name keeps t). Logging, ftrace, lock
 *   and io keys are ignored.
 * - `tasks`: { name: { `policy` (SCHED_OTHER/FIFO/RR/DEADLINE), `priority`
 *   (RT priority, default 10; nice for SCHED_OTHER), `instance` (threads
 *   name-0 .. name-(n-1) when n > 1), `cpus`, `delay` (µs, the first
 *   release), `loop` (-1 only), `dl-runtime` / `dl-period` / `dl-deadline`
 *   (µs), and the events `run` (or `runtime`) then `timer` {`ref`, `period`,
 *   `mode`}, with an optional `sleep` between them } }. A single entry under
 *   `phases` is read the same way. A timer before the run shifts the first
 *   release by one period, as rt-app's first timer wait does.
 * Differences the periodic model cannot express are reported as warnings
 * or errors: rt-app's default "relative" timers re-anchor the release grid
 * after an overrun whereas the model keeps the absolute grid (the same
 * schedule whenever every job finishes before its next release); a
 * `runtime` event is wall-clock bounded (it ends early if preempted),
 * modelled like `run`; `dl-period` must equal the timer period and
 * `dl-deadline` becomes the job's relative deadline (PeriodicSpec has one
 * period and one deadline).
 */
import { boardPresets } from "../hw/board.js";
import type { KernelSpec, PeriodicSpec, SimSpec } from "../spec/types.js";

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

/** The periodic tasks of an rt-app file, the native spec running them, and what the model changes. */
export interface RtAppResult {
  tasks: PeriodicSpec[];
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
const UNSUPPORTED_EVENTS = [
  "lock", "unlock", "wait", "signal", "broad", "sync", "barrier", "suspend", "resume", "mem", "iorun", "yield", "fork",
];

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

  for (const [name, tv] of Object.entries(d.tasks as Record<string, any>)) {
    const where = `tasks.${name}`;
    if (tv === null || typeof tv !== "object") throw new RtAppError(`${where} must be an object`);
    const t = tv as Record<string, any>;
    let ev: Record<string, any> = t;
    if (t.phases !== undefined) {
      const ph = Object.entries(t.phases as Record<string, any>);
      if (ph.length !== 1) throw new RtAppError(`${where}.phases: only a single phase describes a periodic task; got ${ph.length}`);
      ev = ph[0][1];
    }
    const prop = (k: string) => (ev !== t && ev[k] !== undefined ? ev[k] : t[k]);
    const loop = t.loop ?? -1;
    if (loop !== -1) throw new RtAppError(`${where}.loop: only endless tasks (loop -1) are periodic tasks; got ${loop}`);
    const policyName = String(prop("policy") ?? defaultPolicy);
    // own properties only: "constructor" or "toString" are not policies
    const policy = Object.hasOwn(POLICIES, policyName) ? POLICIES[policyName] : undefined;
    if (!policy) throw new RtAppError(`${where}.policy: ${JSON.stringify(prop("policy") ?? defaultPolicy)} is not one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_DEADLINE`);

    // events, in file order
    let execUs = 0;
    let runs = 0;
    let sleepUs = 0;
    let timer: Record<string, any> | null = null;
    let timerFirst = false;
    let sleepBeforeRun = false;
    for (const [k, v] of Object.entries(ev)) {
      if (/^runtime\d*$/.test(k)) {
        if (sleepUs > 0 && !timerFirst) sleepBeforeRun = true;
        execUs += num(v, `${where}.${k}`);
        runs++;
        if (!warnings.some((w) => w.startsWith("runtime events"))) warnings.push("runtime events are wall-clock bounded in rt-app (they end early when preempted); they are modelled as run events (fixed work)");
      } else if (/^run\d*$/.test(k)) {
        if (sleepUs > 0 && !timerFirst) sleepBeforeRun = true;
        const us = num(v, `${where}.${k}`);
        execUs += nsPerLoop > 0 ? (Math.floor((us * 1000) / nsPerLoop) * nsPerLoop) / 1000 : us;
        runs++;
      } else if (/^sleep\d*$/.test(k)) {
        sleepUs += num(v, `${where}.${k}`);
      } else if (/^timer\d*$/.test(k)) {
        if (timer) throw new RtAppError(`${where}: one timer event per task`);
        if (v === null || typeof v !== "object") throw new RtAppError(`${where}.${k} must be an object {ref, period}`);
        timer = v;
        if (runs === 0) timerFirst = true;
      } else if (UNSUPPORTED_EVENTS.some((e) => new RegExp(`^${e}\\d*$`).test(k))) {
        throw new RtAppError(`${where}.${k}: ${k.replace(/\d+$/, "")} events are not part of the periodic-task subset`);
      } else if (IGNORED.has(k)) {
        warnings.push(`${where}.${k} is ignored`);
      }
    }
    if (!timer) throw new RtAppError(`${where}: no timer event; only timer-driven periodic tasks are supported`);
    if (runs === 0) throw new RtAppError(`${where}: no run event`);
    if (sleepBeforeRun) throw new RtAppError(`${where}: a sleep between run events suspends the job, which the periodic model does not express`);
    const periodUs = num(timer.period, `${where}.timer.period`);
    if (periodUs <= 0) throw new RtAppError(`${where}.timer.period must be > 0`);
    if ((timer.mode ?? "relative") === "relative") relative = true;
    if (sleepUs > 0) {
      if (execUs + sleepUs > periodUs) throw new RtAppError(`${where}: run + sleep (${execUs + sleepUs} µs) exceeds the timer period (${periodUs} µs); the releases would drift`);
      warnings.push(`${where}: the sleep after the run only idles until the next release; ignored`);
    }
    const instances = t.instance ?? 1;
    if (!Number.isInteger(instances) || instances < 0) throw new RtAppError(`${where}.instance must be an integer >= 0`);
    const ref = String(timer.ref ?? "unknown");
    if (!ref.startsWith("unique")) {
      const owner = refs.get(ref);
      if ((owner !== undefined && owner !== name) || instances > 1)
        throw new RtAppError(`${where}.timer.ref ${JSON.stringify(ref)} is shared by several threads, which interleaves their releases; use a "unique" ref`);
      refs.set(ref, name);
    }

    const base: PeriodicSpec = { kind: "periodic", name, period_us: periodUs, exec: execUs, policy };
    const delay = t.delay ?? 0;
    const offset = num(delay, `${where}.delay`) + (timerFirst ? periodUs : 0);
    if (offset > 0) base.offset_us = offset;
    const prio = prop("priority");
    if (policy === "fifo" || policy === "rr") {
      base.priority = prio === undefined ? 10 : num(prio, `${where}.priority`);
    } else if (policy === "other" && prio !== undefined && prio !== 0) {
      base.nice = num(prio, `${where}.priority`);
    }
    if (policy === "deadline") {
      const rt = prop("dl-runtime");
      if (rt === undefined) throw new RtAppError(`${where}: SCHED_DEADLINE needs dl-runtime`);
      base.dl_runtime_us = num(rt, `${where}.dl-runtime`);
      const dp = prop("dl-period") ?? prop("period");
      if (dp !== undefined && num(dp, `${where}.dl-period`) !== periodUs)
        throw new RtAppError(`${where}: dl-period (${dp} µs) differs from the timer period (${periodUs} µs); the periodic model uses one period for jobs and the reservation`);
      const dd = prop("dl-deadline") ?? prop("deadline");
      if (dd !== undefined && num(dd, `${where}.dl-deadline`) !== periodUs) base.deadline_us = dd;
    }
    const cpus = prop("cpus");
    if (cpus !== undefined) {
      if (!Array.isArray(cpus) || cpus.some((c) => !Number.isInteger(c) || c < 0 || c >= ncpus))
        throw new RtAppError(`${where}.cpus must list CPUs 0..${ncpus - 1}; got ${JSON.stringify(cpus)}`);
      base.cpus = [...cpus];
    }
    for (let i = 0; i < instances; i++) tasks.push(instances > 1 ? { ...base, name: `${name}-${i}`, cpus: base.cpus && [...base.cpus] } : base);
  }
  if (relative) warnings.push("relative-mode timers: rt-app re-anchors a timer after an overrun; the model keeps the absolute release grid (identical while jobs finish before their next release)");

  const guest: SimSpec["guests"][number] = { name: opts.guestName ?? "linux", vcpus: ncpus, workloads: tasks };
  if (opts.kernel) guest.kernel = opts.kernel;
  const spec: SimSpec = { board: { preset: boardName }, hypervisor: { kind: "native" }, guests: [guest], horizon_s: horizon };
  if (opts.jobsMax !== undefined) spec.record = { jobs_max: opts.jobsMax };
  return { tasks, spec, warnings };
}
