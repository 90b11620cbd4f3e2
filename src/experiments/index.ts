/**
 * Registry of paper reproductions: id -> title, source, a `reproduce`
 * function and the experiment's findings. `reproduce` here returns the
 * module's tables plus a `findings` table (finding, source, claim, measured,
 * holds) computed from them by the module's `findings()`.
 */
import type * as aq from "arquero";
import type { ExperimentRunOptions } from "../sweep/runs.js";
import { type Finding, findingsFromTable, findingsTable } from "./findings.js";
import * as takakura from "./takakura-context1.js";
import * as creditLab from "./credit-weight-cap.js";
import * as fiveSchedulers from "./five-schedulers.js";
import * as abeniFaggioli from "./abeni-faggioli.js";
import * as pvGuestRegressions from "./pv-guest-regressions.js";
import * as kiszka from "./kiszka-rt-hypervisor.js";

export interface Experiment {
  id: string;
  title: string;
  source: string;
  notebook: string;
  /** The module's tables plus `findings`. */
  reproduce(o: ReproduceOptions): Record<string, aq.ColumnTable>;
  /** The findings computed from the tables of the module's reproduce (`o.quick`: they came from quick runs). */
  findings(tables: Record<string, aq.ColumnTable>, o?: { quick?: boolean }): Finding[];
}

/**
 * Options of every experiment's reproduce: `quick` (short runs), progress
 * messages, and where the runs go (`workers`, `cache`: see runSpecs in
 * src/sweep/runs.ts; by default the available cores and `.hvsim-cache`).
 */
export interface ReproduceOptions extends ExperimentRunOptions {
  quick?: boolean;
  onProgress?: (msg: string) => void;
}

type Reproduce = (o: ReproduceOptions) => Record<string, aq.ColumnTable>;
type Findings = (tables: any, o?: { quick?: boolean }) => Finding[];

/** The module's reproduce with the `findings` table appended. */
function withFindings(reproduce: Reproduce, findings: Findings): Reproduce {
  return (o) => {
    const tables = reproduce(o);
    // a module that already tabulates its findings (a ledger) keeps its own table
    if (tables.findings) return tables;
    return { ...tables, findings: findingsTable(findings(tables, { quick: o.quick })) };
  };
}

export const experiments: Experiment[] = [
  {
    id: "takakura-context1",
    title: "Xen Credit2 ratelimit x Linux CFS x UnixBench Context1 (R-Car S4)",
    source: "Takakura et al., 'Understanding Your Hypervisor: Why Open Source Matters' (seed 000)",
    notebook: "notebooks/01-credit2-ratelimit-context1.ipynb",
    reproduce: withFindings(takakura.reproduce, takakura.findings),
    findings: takakura.findings,
  },
  {
    id: "credit-weight-cap",
    title: "Xen Credit: CPU shares and execution times under weights and caps",
    source: "Tchana, 'Virtualization technologies: design and implementation', lab on weight and cap (seed 004)",
    notebook: "notebooks/05-xen-credit-weight-cap.ipynb",
    reproduce: withFindings(creditLab.reproduce, creditLab.findings),
    findings: creditLab.findings,
  },
  {
    id: "five-schedulers",
    title: "One mixed workload (a periodic RT domain and two CPU hogs) under Xen's Credit, Credit2, RTDS, ARINC653 and Null",
    source: "What-if on the schedulers listed by Takakura et al. (seed 000); Null as in Abeni & Faggioli (seed 001); Credit as in Tchana's lab (seed 004)",
    notebook: "notebooks/06-five-schedulers.ipynb",
    reproduce: withFindings(fiveSchedulers.reproduce, fiveSchedulers.findings),
    findings: fiveSchedulers.findings,
  },
  {
    id: "abeni-faggioli",
    title: "Real-time latency of Xen and KVM guests: timer resolution, TIMER_SLOP, the QEMU device model, PV/PVH/HVM",
    source: "Abeni & Faggioli, 'Using Xen and KVM as real-time hypervisors' (seed 001)",
    notebook: "notebooks/02-xen-kvm-latency.ipynb",
    reproduce: withFindings(abeniFaggioli.reproduce, abeniFaggioli.findings),
    findings: abeniFaggioli.findings,
  },
  {
    id: "pv-guest-regressions",
    title: "Linux PV guests at the hypercall level: classic 2.6.32 vs pv-ops 3.3 and its fixes (lmbench, xenalyze-style counts)",
    source: "'Linux PV Guest Performance Improvements', Xen development blog post (seed 003)",
    notebook: "notebooks/04-pv-guest-regressions.ipynb",
    // its reproduce tabulates its findings (a ledger, data/reference/pv-guest-regressions.findings.json)
    reproduce: pvGuestRegressions.reproduce,
    findings: (tables) => findingsFromTable(tables.findings),
  },
  {
    id: "kiszka-rt-hypervisor",
    title: "Linux as a real-time hypervisor: QEMU/KVM thread priorities, AIO, PREEMPT_RT hosts and paravirtual scheduling",
    source: "Kiszka, 'Towards Linux as a Real-Time Hypervisor' (seed 002)",
    notebook: "notebooks/03-linux-rt-hypervisor.ipynb",
    // its reproduce tabulates its findings (a ledger, data/reference/kiszka-rt-hypervisor.findings.json)
    reproduce: kiszka.reproduce,
    findings: (tables) => findingsFromTable(tables.findings),
  },
];

export { takakura, creditLab, fiveSchedulers, abeniFaggioli, pvGuestRegressions, kiszka };
export { type Finding, FINDING_COLUMNS, findingsTable, findingsFromTable, unexpectedFindings } from "./findings.js";
export { readLedger, type Ledger, type LedgerClaim } from "./ledger.js";
