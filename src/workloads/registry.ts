/**
 * The workload registry: every workload kind a spec can name, one line each.
 *
 * A workload module declares, next to its mechanism, a {@link WorkloadModule}:
 * its `kind` (which is also the reference to its schema: the member of the
 * `workload` union in spec/validate.ts with that kind literal, the single
 * place where its fields and ranges are checked), the tables it can produce
 * (see results/tables.ts), and `start(run)`, which returns the run's
 * {@link WorkloadSet}: a factory for instances (spec + kernel + place) and
 * the producer of the kind's tables at the end of the run. `simulate()`
 * knows no workload by name: it walks every guest's workloads in spec order,
 * hands each to its kind's set, and collects the sets' tables.
 *
 * Adding a workload kind: its file (mechanism + module declaration), its
 * schema member in spec/validate.ts and its type in spec/types.ts, and one
 * line below.
 */
import type { Simulator } from "../engine/sim.js";
import type { LinuxKernel } from "../kernel/linux.js";
import type { Task } from "../kernel/task.js";
import type { TableName, TableSet, TableSource } from "../results/tables.js";
import type { GuestSpec, SimSpec, WorkloadSpec } from "../spec/types.js";
import { context1Workload } from "./context1.js";
import { cpuHogWorkload } from "./hog.js";
import { periodicWorkload } from "./periodic.js";
import { cyclictestWorkload } from "./cyclictest.js";
import { stressWorkload } from "./stress.js";
import { deviceIoWorkload } from "./deviceio.js";
import { housekeepingWorkload } from "./housekeeping.js";
import { latCtxWorkload } from "./lmbench.js";
import { rtappWorkload } from "./rtapp-thread.js";
import { bonnieWorkload } from "./bonnie.js"; // issue 14 block

/** The run a workload set belongs to. */
export interface WorkloadRun {
  readonly spec: SimSpec;
  readonly sim: Simulator;
  /** Statistics window start (warm-up end), ns. */
  readonly from: number;
}

/** Where one workload instance is created. */
export interface WorkloadPlace {
  readonly sim: Simulator;
  /** The kernel that runs it (a guest's, or the KVM host's). */
  readonly kernel: LinuxKernel;
  /** That OS instance's spec (under KVM the host is a unit named "host"). */
  readonly guest: GuestSpec;
  /** Index of the workload in `guest.workloads` (names its tasks: `guest/kind#index`). */
  readonly index: number;
  /** Every CPU of that kernel (the default affinity). */
  readonly allCpus: number[];
  /** Statistics window start (warm-up end), ns. */
  readonly from: number;
  /** Creation time, ns. */
  readonly now: number;
}

/** Periodic-task statistics of one task, for the `tasks` table. */
export interface TaskStats {
  jobs: number;
  preemptions: number;
  deadline_misses: number;
  max_response_us: number | null;
  mean_response_us: number | null;
}

/** The instances of one workload kind in one run, and their tables. */
export interface WorkloadSet<S extends WorkloadSpec = WorkloadSpec> extends TableSource {
  /** Creates the instance for workload `w` (a kind may fold several specs into one instance). */
  add(w: S, at: WorkloadPlace): void;
  /** Per-task statistics the kind keeps for the `tasks` table (tasks it does not list get zeros/nulls). */
  taskStats?(end: number): Map<Task, TaskStats>;
}

/** A workload kind's declaration. */
export interface WorkloadModule<S extends WorkloadSpec = WorkloadSpec> {
  /** The spec's `kind`; also names its schema (spec/validate.ts, `workload` union member). */
  readonly kind: S["kind"];
  /** The tables the kind can produce. */
  readonly tables: readonly TableName[];
  /** A fresh set for one run. */
  start(run: WorkloadRun): WorkloadSet<S>;
}

/** Every workload kind, by name. */
export const WORKLOADS: { [K in WorkloadSpec["kind"]]: WorkloadModule<Extract<WorkloadSpec, { kind: K }>> } = {
  "context1": context1Workload,
  "cpu-hog": cpuHogWorkload,
  "periodic": periodicWorkload,
  "cyclictest": cyclictestWorkload,
  "stress": stressWorkload,
  "device-io": deviceIoWorkload,
  "housekeeping": housekeepingWorkload,
  "lat-ctx": latCtxWorkload,
  "rtapp": rtappWorkload,
  "bonnie": bonnieWorkload, // issue 14 block
};

/** The workload kinds, in registry order. */
export const WORKLOAD_KINDS = Object.keys(WORKLOADS) as WorkloadSpec["kind"][];

/** The module of a kind (own property lookup: built-in names such as "constructor" are not kinds). */
export function workloadModule(kind: string): WorkloadModule {
  if (!Object.prototype.hasOwnProperty.call(WORKLOADS, kind)) throw new Error(`unknown workload kind ${JSON.stringify(kind)}; known: ${WORKLOAD_KINDS.join(", ")}`);
  return WORKLOADS[kind as WorkloadSpec["kind"]] as unknown as WorkloadModule;
}

/** The sets of every kind for one run, in registry order, and the dispatch of workloads to them. */
export class WorkloadSets {
  private readonly sets = new Map<string, WorkloadSet>();
  constructor(run: WorkloadRun) {
    for (const k of WORKLOAD_KINDS) this.sets.set(k, workloadModule(k).start(run));
  }
  /** Creates workload `w` at `at`. */
  add(w: WorkloadSpec, at: WorkloadPlace): void {
    const s = this.sets.get(w.kind);
    if (!s) throw new Error(`unknown workload kind ${JSON.stringify(w.kind)}; known: ${WORKLOAD_KINDS.join(", ")}`);
    s.add(w, at);
  }
  /** Every kind's task statistics, merged. */
  taskStats(end: number): Map<Task, TaskStats> {
    const out = new Map<Task, TaskStats>();
    for (const s of this.sets.values()) if (s.taskStats) for (const [t, x] of s.taskStats(end)) out.set(t, x);
    return out;
  }
  /** Every kind's tables. */
  tables(end: number): TableSet {
    const out: TableSet = {};
    for (const s of this.sets.values()) Object.assign(out, s.tables(end));
    return out;
  }
}
