/**
 * Emulated-device accesses: one SCHED_OTHER task that, every 1/rate_hz
 * seconds (absolute clock_nanosleep, missed periods skipped), makes one
 * device register access through a driver (A_DEVICE_IO: a short kernel
 * path of the data/kernels `device_io` activity, then host.deviceAccess,
 * which on Xen HVM is an ioreq served by the guest's QEMU device model and
 * may suspend the vCPU until it completes, then the rest of the path).
 * Statistics: accesses completed and the duration of each driver path
 * (mean, max), from the start of the access syscall to its return.
 */
import type { LinuxKernel } from "../kernel/linux.js";
import { A_DEVICE_IO, A_SLEEP_UNTIL, A_WAIT, type Program, type Task } from "../kernel/task.js";
import type { DeviceIoSpec } from "../spec/types.js";
import type { TableSet } from "../results/tables.js";
import type { WorkloadModule } from "./registry.js";

export class DeviceIo implements Program {
  readonly task: Task;
  private readonly period: number;
  private readonly act: number;
  private nextAt = 0;
  private sleeping = true;
  private started = false;
  private startedAt = 0;
  accesses = 0;
  sumNs = 0;
  maxNs = 0;

  constructor(readonly kernel: LinuxKernel, readonly name: string, spec: DeviceIoSpec, allCpus: number[], readonly from: number, now: number) {
    const hz = spec.rate_hz ?? 100;
    this.period = hz > 0 ? Math.round(1e9 / hz) : Infinity;
    this.act = kernel.lat.activity("device_io").index;
    const cpus = spec.cpus ?? allCpus;
    this.nextAt = now + this.period;
    this.task = kernel.spawn(name, this, cpus[0], cpus, 0, now, 0);
  }

  next(t: Task, now: number): void {
    if (!Number.isFinite(this.period)) { t.act = A_WAIT; return; }
    if (!this.started) {
      // spawn: sleep until the first period
      this.started = true;
      t.act = A_SLEEP_UNTIL;
      t.actArg = this.nextAt;
      return;
    }
    if (this.sleeping) {
      // the sleep returned: access the device
      this.sleeping = false;
      this.startedAt = now;
      t.act = A_DEVICE_IO;
      t.actArg = this.act;
      return;
    }
    // the access returned
    if (this.startedAt >= this.from) {
      const d = now - this.startedAt;
      this.accesses++;
      this.sumNs += d;
      if (d > this.maxNs) this.maxNs = d;
    }
    this.nextAt += this.period;
    while (now > this.nextAt) this.nextAt += this.period;
    this.sleeping = true;
    t.act = A_SLEEP_UNTIL;
    t.actArg = this.nextAt;
  }
}

/** Workload kind `device-io`: one task per spec entry, `guest/device-io#index`. Table `device_io`. */
export const deviceIoWorkload: WorkloadModule<DeviceIoSpec> = {
  kind: "device-io",
  tables: ["device_io"],
  start() {
    const devio: { guest: string; w: DeviceIo }[] = [];
    return {
      add(w, at) {
        devio.push({ guest: at.guest.name, w: new DeviceIo(at.kernel, `${at.guest.name}/device-io#${at.index}`, w, at.allCpus, at.from, at.now) });
      },
      tables(): TableSet {
        if (!devio.length) return {};
        return {
          device_io: {
            domain: devio.map((x) => x.guest), task: devio.map((x) => x.w.task.name), accesses: devio.map((x) => x.w.accesses),
            mean_access_us: devio.map((x) => (x.w.accesses ? x.w.sumNs / x.w.accesses / 1000 : null)),
            max_access_us: devio.map((x) => (x.w.accesses ? x.w.maxNs / 1000 : null)),
          },
        };
      },
    };
  },
};
