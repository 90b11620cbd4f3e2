/** Registry of paper reproductions: id -> title, source and a `reproduce` function. */
import type * as aq from "arquero";
import * as takakura from "./takakura-context1.js";
import * as creditLab from "./credit-weight-cap.js";
import * as fiveSchedulers from "./five-schedulers.js";
import * as abeniFaggioli from "./abeni-faggioli.js";

export interface Experiment {
  id: string;
  title: string;
  source: string;
  notebook: string;
  reproduce(o: { quick?: boolean; onProgress?: (msg: string) => void }): Record<string, aq.ColumnTable>;
}

export const experiments: Experiment[] = [
  {
    id: "takakura-context1",
    title: "Xen Credit2 ratelimit x Linux CFS x UnixBench Context1 (R-Car S4)",
    source: "Takakura et al., 'Understanding Your Hypervisor: Why Open Source Matters' (seed 000)",
    notebook: "notebooks/01-credit2-ratelimit-context1.ipynb",
    reproduce: takakura.reproduce,
  },
  {
    id: "credit-weight-cap",
    title: "Xen Credit: CPU shares and execution times under weights and caps",
    source: "Tchana, 'Virtualization technologies: design and implementation', lab on weight and cap (seed 004)",
    notebook: "notebooks/05-xen-credit-weight-cap.ipynb",
    reproduce: creditLab.reproduce,
  },
  {
    id: "five-schedulers",
    title: "One mixed workload (a periodic RT domain and two CPU hogs) under Xen's Credit, Credit2, RTDS, ARINC653 and Null",
    source: "What-if on the schedulers listed by Takakura et al. (seed 000); Null as in Abeni & Faggioli (seed 001); Credit as in Tchana's lab (seed 004)",
    notebook: "notebooks/06-five-schedulers.ipynb",
    reproduce: fiveSchedulers.reproduce,
  },
  {
    id: "abeni-faggioli",
    title: "Real-time latency of Xen and KVM guests: timer resolution, TIMER_SLOP, the QEMU device model, PV/PVH/HVM",
    source: "Abeni & Faggioli, 'Using Xen and KVM as real-time hypervisors' (seed 001)",
    notebook: "notebooks/02-xen-kvm-latency.ipynb",
    reproduce: abeniFaggioli.reproduce,
  },
];

export { takakura, creditLab, fiveSchedulers, abeniFaggioli };
