/** CPU hogs: processes that compute forever (stress -c N, while(1);). */
import type { LinuxKernel } from "../kernel/linux.js";
import { A_COMPUTE, type Program, type Task } from "../kernel/task.js";

export class CpuHog implements Program {
  readonly tasks: Task[] = [];
  constructor(kernel: LinuxKernel, name: string, count: number, cpus: number[], nice: number, now: number) {
    for (let i = 0; i < count; i++) {
      const cpu = cpus[i % cpus.length];
      this.tasks.push(kernel.spawn(`${name}:hog${i}`, this, cpu, cpus, nice, now));
    }
  }
  next(t: Task, _now: number): void {
    t.act = A_COMPUTE;
    t.actArg = Infinity;
  }
}
