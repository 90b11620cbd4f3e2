/**
 * System-management interrupts (SMIs) as a noise source of a board
 * (data/boards `smi`). An SMI switches the physical CPU into system-management
 * mode (SMM): the firmware's handler runs, invisible to the OS, and RSM
 * resumes the interrupted context. For its duration nothing of the OS runs on
 * that CPU, not even interrupts-disabled code, and no interrupt is taken: the
 * model suspends the CPU of the kernel that owns the physical CPU (the native
 * kernel, or KVM's host kernel) and resumes it when the SMI ends. Interrupts
 * raised meanwhile stay pending and are taken on resume (ExecKernel.suspend /
 * resume). A vCPU thread in guest mode on that CPU leaves guest mode through
 * the suspension and pays a VM entry on resume (on real hardware an SMI in
 * VMX non-root operation returns to the guest by RSM without a VM exit; the
 * difference, one entry of ~1 µs against an SMI of hundreds of µs, is
 * neglected).
 *
 * Arrivals are Poisson with the board's rate per CPU, durations uniform in
 * the board's range, each CPU with its own random stream ("smi/cpu<N>").
 *
 * Not modelled: SMIs under Xen (the board's SMI data is applied to native and
 * KVM hosts only), SMIs that synchronise all CPUs (some firmware rendezvous
 * every CPU in SMM; the board data says which CPUs are hit), the TSC running
 * on through SMM being visible to the OS as lost time (it is: the clock
 * advances and the OS's work is delayed, which is what the model does).
 */
import type { RandomStream } from "../engine/random.js";
import type { Simulator, TimerTarget } from "../engine/sim.js";
import type { BoardSmi } from "./board.js";

/** What an SMI stops: the kernel owning the physical CPUs (native or KVM host). */
export interface SmiTarget {
  suspend(cpu: number, now: number): void;
  resume(cpu: number, now: number): void;
}

const K_START = 0;
const K_END = 1;

/** SMI generator of one board: one pair of simulator timers per hit CPU. */
export class SmiNoise implements TimerTarget {
  private readonly startT: number[] = [];
  private readonly endT: number[] = [];
  private readonly rng: RandomStream[] = [];
  /** SMIs so far per CPU, and their total duration (ns). */
  readonly count: number[] = [];
  readonly totalNs: number[] = [];
  private readonly meanGapNs: number;

  constructor(private readonly sim: Simulator, private readonly smi: BoardSmi, private readonly target: SmiTarget, ncpus: number) {
    this.meanGapNs = 1e9 / smi.rateHz;
    for (let i = 0; i < smi.cpus.length; i++) {
      const cpu = smi.cpus[i];
      this.startT.push(cpu < ncpus ? sim.timer(this, K_START, i) : -1);
      this.endT.push(cpu < ncpus ? sim.timer(this, K_END, i) : -1);
      this.rng.push(sim.random.get(`smi/cpu${cpu}`));
      this.count.push(0);
      this.totalNs.push(0);
    }
  }

  /** Arms the first SMI of every hit CPU. */
  start(now: number): void {
    for (let i = 0; i < this.startT.length; i++) {
      if (this.startT[i] < 0) continue;
      this.sim.arm(this.startT[i], now + Math.round(this.rng[i].exponential(this.meanGapNs)));
    }
  }

  onTimer(kind: number, i: number, now: number): void {
    const cpu = this.smi.cpus[i];
    const r = this.rng[i];
    if (kind === K_START) {
      const d = Math.round(r.uniform(this.smi.minNs, this.smi.maxNs));
      this.count[i]++;
      this.totalNs[i] += d;
      this.target.suspend(cpu, now);
      this.sim.arm(this.endT[i], now + d);
    } else {
      this.target.resume(cpu, now);
      this.sim.arm(this.startT[i], now + Math.round(r.exponential(this.meanGapNs)));
    }
  }

  /** Table `smi`: per hit CPU, SMIs and time spent in SMM. */
  tables(): { smi: { cpu: number[]; smis: number[]; smm_ms: number[] } } {
    return { smi: { cpu: this.smi.cpus.slice(), smis: this.count.slice(), smm_ms: this.totalNs.map((n) => n / 1e6) } };
  }
}
