/**
 * QEMU device models of Xen HVM guests, running as processes in Dom0, and
 * the ioreq path between them and Xen (xen/common/ioreq.c, RELEASE-4.20.0;
 * QEMU's xen-hvm ioreq loop; Linux drivers/xen/evtchn.c).
 *
 * Which guest operations reach QEMU (see ../shared/models/virtualization-modes.md
 * section 1.1): Xen emulates the timer and interrupt chips itself (LAPIC,
 * IOAPIC, PIC, PIT, RTC, HPET, ACPI PM timer), so the guest's timers never
 * involve QEMU; the PV timer (VIRQ_TIMER) of a PVHVM kernel does not either.
 * Everything else an HVM guest touches by port I/O or MMIO without a Xen
 * handler (PCI config space, IDE/AHCI, emulated NICs, VGA, serial UARTs,
 * PS/2) is forwarded to QEMU. In the model those are the guest kernel's
 * emulated-device accesses (A_DEVICE_IO: the `device-io` workload and the
 * driver operations of `housekeeping`). Every access is a synchronous ioreq
 * (a read needs its data; buffered ioreqs for VGA memory writes are not
 * modelled).
 *
 * The path of one access, as modelled:
 * 1. The guest's vCPU traps (VM exit); Xen fills the vCPU's ioreq slot and
 *    the vCPU waits in Xen (wait_on_xen_event_channel: blocked; guest
 *    interrupts do not unblock it). Xen notifies QEMU's event channel.
 * 2. The event reaches Dom0 after hv_ipi_latency as an event-channel
 *    interrupt on the Dom0 vCPU the port is bound to (vCPU 0 unless the
 *    device model is restricted to other CPUs). If that vCPU is blocked, Xen
 *    wakes it and its scheduler decides when it runs (Credit BOOST).
 * 3. Dom0's handler (evtchn_interrupt, threaded on PREEMPT_RT) wakes QEMU's
 *    ioreq thread, which Dom0's kernel schedules by its policy: SCHED_OTHER
 *    by default (competing with whatever Dom0 runs), or the configured
 *    `device_model` policy (SCHED_FIFO 99 is the paper's fix).
 * 4. QEMU serves the request in user space (board cost dm_ioreq: fd read,
 *    dispatch, response, EVTCHNOP_send) and waits for the next one.
 * 5. Xen completes the access and wakes the guest vCPU (vcpu_wake after
 *    hv_wake), which resumes after its scheduler runs it.
 */
import type { TimerTarget } from "../engine/sim.js";
import { boardCost, C } from "../hw/board.js";
import type { LinuxKernel } from "../kernel/linux.js";
import { A_COMPUTE, A_WAIT, SCHED_FIFO, SCHED_NORMAL, SCHED_RR, type Program, type Task } from "../kernel/task.js";
import type { TableSet, TableSource } from "../results/tables.js";
import { guestType, threadAttr } from "../spec/defaults.js";
import type { ThreadSchedSpec } from "../spec/types.js";
import type { Domain, VCpu, Xen } from "./xen.js";

/** One guest's device model: its QEMU task in Dom0 and its ioreq queue. */
class DeviceModel {
  task!: Task;
  /** The event-channel line in Dom0's kernel and the Dom0 CPU it is bound to. */
  irq = 0;
  evtchnCpu = 0;
  /** Simulator timer delivering the event-channel notification to Dom0. */
  evTimer = -1;
  /** vCPUs waiting for an ioreq, in order of issue (a ring: at most one per vCPU). */
  readonly queue: VCpu[] = [];
  /** Requests QEMU has been notified of but not yet read. */
  serving: VCpu | null = null;
  // statistics: issue time of each waiting vCPU's request
  readonly issuedAt: Float64Array;
  served = 0;
  sumNs = 0;
  maxNs = 0;
  constructor(readonly dom: Domain, readonly sched: ThreadSchedSpec) {
    this.issuedAt = new Float64Array(dom.vcpus.length);
  }
}

/** All device models of one Xen system; the Xen side of the ioreq path. */
export class XenDeviceModels implements Program, TimerTarget, TableSource {
  private readonly dms: DeviceModel[] = [];
  private readonly byDomain = new Map<number, DeviceModel>();
  private readonly serveCost: number;
  private readonly notifyLatency: number;
  private readonly d0k: LinuxKernel;

  constructor(readonly xen: Xen, readonly dom0: Domain, now: number, readonly from = 0) {
    this.d0k = dom0.kernel;
    this.serveCost = boardCost(xen.board, C.dm_ioreq);
    this.notifyLatency = boardCost(xen.board, C.hv_ipi_latency);
    const all = Array.from({ length: dom0.vcpus.length }, (_, i) => i);
    for (const d of xen.domains) {
      if (guestType(d.spec) !== "hvm") continue;
      const dm = new DeviceModel(d, d.spec.device_model ?? {});
      const cpus = dm.sched.cpus ?? all;
      dm.evtchnCpu = cpus[0];
      const idx = this.dms.length;
      dm.irq = this.d0k.registerIrq("evtchn", (_cpu, t) => this.onEvent(idx, t));
      dm.evTimer = xen.sim.timer(this, 0, idx);
      const pol = dm.sched.policy ?? "other";
      const attr = threadAttr(dm.sched);
      this.dms.push(dm);
      dm.task = this.d0k.spawn(`qemu-dm-${d.name}`, this, cpus[0], cpus.slice(), pol === "other" ? (dm.sched.nice ?? 0) : 0, now, idx, attr ?? { policy: SCHED_NORMAL });
      this.byDomain.set(d.id, dm);
    }
    xen.ioreqServer = this;
  }

  /** Whether domain `d` has a device model (is HVM with a Dom0 present). */
  has(d: Domain): boolean {
    return this.byDomain.has(d.id);
  }

  /**
   * Step 1: vCPU v issues a synchronous ioreq: it blocks in Xen and QEMU's
   * event channel is notified.
   */
  issue(v: VCpu, now: number): void {
    const dm = this.byDomain.get(v.dom.id)!;
    dm.issuedAt[v.idx] = now;
    dm.queue.push(v);
    this.xen.ioreqBlock(v, now);
    // notify_via_xen_event_channel: a pending event is not sent twice
    const sim = this.xen.sim;
    if (!sim.isArmed(dm.evTimer)) sim.arm(dm.evTimer, now + this.notifyLatency);
  }

  /** Step 2: the event-channel upcall reaches Dom0's vCPU. */
  onTimer(_kind: number, idx: number, now: number): void {
    const dm = this.dms[idx];
    this.d0k.raiseDeviceIrq(dm.evtchnCpu, dm.irq, now);
  }

  /** Step 3: the event-channel handler in Dom0 wakes QEMU. */
  private onEvent(idx: number, now: number): void {
    const dm = this.dms[idx];
    if (dm.serving === null) this.d0k.wakeTask(dm.task, now);
  }

  /** QEMU's ioreq loop (the task's program). */
  next(t: Task, now: number): void {
    const dm = this.dms[t.tag];
    if (dm.serving !== null) {
      // step 4 done: response written, Xen notified (step 5)
      const v = dm.serving;
      dm.serving = null;
      if (dm.issuedAt[v.idx] >= this.from) {
        const d = now - dm.issuedAt[v.idx];
        dm.served++;
        dm.sumNs += d;
        if (d > dm.maxNs) dm.maxNs = d;
      }
      this.xen.ioreqComplete(v, now);
    }
    if (dm.queue.length > 0) {
      dm.serving = dm.queue.shift()!;
      t.act = A_COMPUTE;
      t.actArg = Math.max(1, this.serveCost);
      return;
    }
    t.act = A_WAIT;
  }

  /** Table `device_models` (TableSource): per HVM guest, its QEMU's scheduling and the ioreq round trips (issued after the warm-up). */
  tables(_end: number): TableSet {
    const ds = this.dms;
    return { device_models: {
      domain: ds.map((d) => d.dom.name), task: ds.map((d) => d.task.name),
      policy: ds.map((d) => d.sched.policy ?? "other"), priority: ds.map((d) => (d.sched.policy ?? "other") === "other" ? 0 : (d.sched.priority ?? 50)),
      ioreqs: ds.map((d) => d.served),
      mean_ioreq_us: ds.map((d) => (d.served ? d.sumNs / d.served / 1000 : null)),
      max_ioreq_us: ds.map((d) => (d.served ? d.maxNs / 1000 : null)),
    } };
  }
}

