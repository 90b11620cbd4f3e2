// Block I/O (issue 14): the physical disk, page cache and writeback, the disk interrupt and its affinity, bonnie.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator } from "../src/engine/sim.js";
import { resolveBoard } from "../src/hw/board.js";
import { diskPresetForBoard, PhysicalDisk } from "../src/hw/disk.js";
import { attachBlock, FileIo, IO_READ, IO_WRITE, O_DIRECT, O_DSYNC, PAGE_SIZE, type KernelBlock } from "../src/kernel/block.js";
import { type CpuHost, LinuxKernel } from "../src/kernel/linux.js";
import { A_WAIT, type Program, type Task } from "../src/kernel/task.js";
import { simulate } from "../src/simulate.js";
import { validateSpec } from "../src/spec/validate.js";
import { board, bonnie, guest, linux, system } from "../src/spec/builders.js";
import type { SimSpec, WorkloadSpec } from "../src/spec/types.js";
import { specError } from "./helpers.js";

type Row = Record<string, any>;
const BOARD = "core2duo-e8500";

/** A native system with the given workloads on a 2-CPU PREEMPT kernel. */
function native(workloads: WorkloadSpec[], o: { horizonS: number; memoryMb?: number; irq?: number[]; preempt?: "none" | "full" | "rt"; warmupS?: number }): SimSpec {
  return {
    board: { preset: BOARD }, hypervisor: { kind: "native" }, horizon_s: o.horizonS, warmup_s: o.warmupS ?? 0,
    guests: [{
      name: "os", vcpus: 2, memory_mb: o.memoryMb,
      kernel: { preempt: o.preempt ?? "full", ...(o.irq ? { irq_affinity: { disk: o.irq } } : {}) }, workloads,
    }],
  };
}

/** A bare kernel on a native-like host with the board's physical disk and `memoryMb` of memory. */
function bareKernel(memoryMb: number): { sim: Simulator; kernel: LinuxKernel; block: KernelBlock; disk: PhysicalDisk } {
  const sim = new Simulator("1");
  const board = resolveBoard(BOARD);
  const kernel = new LinuxKernel(sim, {
    name: "k", ncpus: 1, hz: 250, paravirtTimeAccounting: false, preemptFull: true, preempt: "full", tunables: {},
    cost: board.cost, jitterCv: 0,
  });
  const host: CpuHost = { halt() {}, kick() {}, steal: () => 0, sendIpi(_f, to, now) { kernel.raiseIrqAt(to, now); } };
  kernel.host = host;
  const disk = new PhysicalDisk(sim, diskPresetForBoard(BOARD), sim.random.get("k/disk"));
  const block = attachBlock(kernel, { device: disk, memoryMb, irqCpus: [0] });
  return { sim, kernel, block, disk };
}

test("native bonnie: sequential phases run at the disk's sequential bandwidth, seeks far below it", () => {
  // a file four times the page cache, so that reads miss
  const r = simulate(native([{ kind: "bonnie", size_mb: 128, sync: true, seeks: 400, cpus: [1] }], { horizonS: 45, memoryMb: 96 }));
  const ph = new Map((r.rows("bonnie") as Row[]).map((x) => [x.phase, x]));
  const d = diskPresetForBoard(BOARD);
  const seqMiBs = d.outer_mb_per_s.value * 1e6 / 1048576;
  for (const p of ["block_write", "block_read", "getc"]) {
    const x = ph.get(p)!;
    assert.ok(x.phases >= 1, `${p} completed: ${x.phases}`);
    assert.ok(x.MB_per_s <= seqMiBs, `${p}: ${x.MB_per_s} MiB/s <= the disk's outer-zone rate ${seqMiBs}`);
    assert.ok(x.MB_per_s >= 0.7 * seqMiBs, `${p}: ${x.MB_per_s} MiB/s streams (>= 70% of ${seqMiBs})`);
  }
  const s = ph.get("seeks")!;
  assert.ok(s.phases >= 1, `seek phase completed: ${s.phases}`);
  assert.ok(s.MB_per_s < 0.2 * ph.get("block_read")!.MB_per_s, `seeks ${s.MB_per_s} MiB/s far below block reads`);
  // each seek waits for the arm and the platter: at most a few hundred per second on a 5400 rpm disk
  assert.ok(s.seeks_per_s > 20 && s.seeks_per_s < 300, `seeks/s ${s.seeks_per_s}`);
  const b = (r.rows("block_io") as Row[])[0];
  assert.ok(b.read_requests > 0 && b.write_requests > 0);
  assert.ok(b.mean_service_us > 1000, `a disk request takes milliseconds: ${b.mean_service_us} µs`);
});

test("the disk interrupt is handled only on the CPUs of irq_affinity.disk (PREEMPT hard irq and RT irq thread)", () => {
  for (const preempt of ["full", "rt"] as const) {
    for (const irq of [[1], [0]]) {
      const r = simulate(native([{ kind: "bonnie", size_mb: 64, cpus: [1] }], { horizonS: 3, memoryMb: 64, irq, preempt }));
      const b = (r.rows("block_io") as Row[])[0];
      assert.ok(b.irqs > 50, `${preempt} ${irq}: interrupts ${b.irqs}`);
      assert.equal(b.irq_cpu, irq[0]);
      assert.equal(b.irqs_outside_affinity, 0, `${preempt} ${irq}: none outside the affinity`);
      if (preempt === "rt") {
        // the line's irq thread exists on the affinity CPU only
        const names = (r.rows("tasks") as Row[]).map((x) => String(x.task ?? x.name)).filter((x) => x.includes("block_completion"));
        assert.ok(names.length === 1 && names[0].endsWith(`/${irq[0]}`), `irq threads: ${names.join(", ")}`);
      }
    }
  }
});

test("bonnie on CPU 1 leaves cyclictest on CPU 0 of a PREEMPT kernel alone when the disk interrupt goes to CPU 1, not when it goes to CPU 0", () => {
  const ct: WorkloadSpec = { kind: "cyclictest", priority: 99, interval_us: 1000, cpu: 0 };
  const bonnie: WorkloadSpec = { kind: "bonnie", size_mb: 300, sync: true, cpus: [1] };
  const lat = (w: WorkloadSpec[], irq: number[]) => (simulate(native(w, { horizonS: 10, warmupS: 1, memoryMb: 256, irq })).rows("cyclictest") as Row[])[0];
  const idle = lat([ct], [1]), away = lat([ct, bonnie], [1]), here = lat([ct, bonnie], [0]);
  // irq on CPU 1: only the flusher thread (unbound, woken onto the idle CPU 0) runs there, in short
  // non-preemptible sections; the distribution does not move
  assert.equal(away.p99_latency_us, idle.p99_latency_us, `irq on CPU 1: p99 ${away.p99_latency_us} vs idle ${idle.p99_latency_us}`);
  assert.ok(away.p999_latency_us <= idle.p999_latency_us + 2, `irq on CPU 1: p99.9 ${away.p999_latency_us} vs idle ${idle.p999_latency_us}`);
  assert.ok(Math.abs(away.avg_latency_us - idle.avg_latency_us) < 0.1, `irq on CPU 1: avg ${away.avg_latency_us} vs idle ${idle.avg_latency_us}`);
  // irq on CPU 0: the hard irq and BLOCK_SOFTIRQ of every completion delay the timer wake-up there
  assert.ok(here.p999_latency_us >= away.p999_latency_us + 10, `irq on CPU 0: p99.9 ${here.p999_latency_us} vs ${away.p999_latency_us}`);
  assert.ok(here.max_latency_us > away.max_latency_us, `irq on CPU 0: max ${here.max_latency_us} vs ${away.max_latency_us}`);
  assert.ok(here.avg_latency_us > away.avg_latency_us, `irq on CPU 0: avg ${here.avg_latency_us} vs ${away.avg_latency_us}`);
});

/** A task writing a file sequentially, `chunk` bytes at a time, once; samples the dirty + writeback pages. */
class Writer implements Program {
  readonly io: FileIo;
  written = 0;
  doneAt = -1;
  maxInFlight = 0;
  task!: Task;
  constructor(readonly block: KernelBlock, readonly fileBytes: number, readonly chunk: number) {
    this.io = new FileIo(block);
  }
  next(t: Task, now: number): void {
    const f = this.block.files[0];
    if (this.io.active) {
      if (this.io.step(t, now)) return;
      this.written += this.io.result;
      const c = this.block.cache;
      this.maxInFlight = Math.max(this.maxInFlight, c.nrDirty + c.nrWriteback);
    }
    if (this.written >= this.fileBytes) {
      if (this.doneAt < 0) this.doneAt = now;
      t.act = A_WAIT;
      return;
    }
    this.io.begin(f, IO_WRITE, this.written, this.chunk);
    if (!this.io.step(t, now)) t.act = A_WAIT;
  }
}

test("balance_dirty_pages throttles a writer to the disk's speed once dirty pages exceed the limit", () => {
  const run = (fileMb: number) => {
    const { sim, kernel, block } = bareKernel(128);
    block.open("f", fileMb * 1048576);
    const w = new Writer(block, fileMb * 1048576, 1048576);
    w.task = kernel.spawn("writer", w, 0, [0], 0, 0);
    kernel.resume(0, 0);
    sim.run(20e9);
    return { w, block };
  };
  const big = run(1000);
  const [, dirty] = big.block.cache.dirtyLimits(false);
  assert.ok(big.block.throttled > 0, "the writer was over the limit");
  // the dirty + writeback pages stay near the limit (one ratelimit batch of slack) instead of filling memory
  assert.ok(big.w.maxInFlight <= dirty + big.block.ratelimit + 8, `max dirty+writeback ${big.w.maxInFlight} pages, limit ${dirty}`);
  const mbps = big.w.written / 1e6 / 20;
  assert.ok(mbps < 46, `throttled to the disk: ${mbps} MB/s`);
  assert.ok(mbps > 20, `but still writing: ${mbps} MB/s`);
  // a file smaller than the background threshold is never throttled: written at memory speed
  const small = run(8);
  assert.equal(small.block.throttled, 0);
  assert.equal(small.w.written, 8 * 1048576);
  assert.ok(small.w.doneAt < 0.05e9, `8 MB written in ${small.w.doneAt} ns`);
});

/** One call: O_DSYNC pwrite (QEMU cache=writethrough), then a pread of the same range. */
class OneCall implements Program {
  readonly io: FileIo;
  stage = 0;
  t0 = 0;
  writeNs = 0;
  readNs = 0;
  constructor(readonly block: KernelBlock, readonly bytes: number) {
    this.io = new FileIo(block);
  }
  next(t: Task, now: number): void {
    const f = this.block.files[0];
    for (;;) {
      if (this.io.active) {
        if (this.io.step(t, now)) return;
        if (this.stage === 1) this.writeNs = now - this.t0;
        else this.readNs = now - this.t0;
      }
      if (this.stage === 0) { this.stage = 1; this.t0 = now; this.io.begin(f, IO_WRITE, 1 << 30, this.bytes); continue; }
      if (this.stage === 1) { this.stage = 2; this.t0 = now; this.io.begin(f, IO_READ, 1 << 30, this.bytes); continue; }
      t.act = A_WAIT;
      return;
    }
  }
}

test("FileIo: an O_DSYNC pwrite returns after the disk wrote it; a pread of it then hits the page cache", () => {
  const { sim, kernel, block, disk } = bareKernel(512);
  block.open("image", 2 * 2 ** 30, O_DSYNC);
  const p = new OneCall(block, 65536);
  kernel.spawn("aio", p, 0, [0], 0, 0);
  kernel.resume(0, 0);
  sim.run(1e9);
  assert.equal(p.stage, 2);
  const f = block.files[0].pages;
  assert.equal(f.nrDirty + f.nrWriteback, 0, "clean after the call");
  assert.equal(disk.served, 1, "one write request");
  // at least the transfer at the outer rate plus the command overhead, at most a full seek and a revolution more
  assert.ok(p.writeNs >= 65536 / 44e-3 + 200e3, `write took ${p.writeNs} ns`);
  assert.ok(p.writeNs < 40e6, `write took ${p.writeNs} ns`);
  assert.ok(p.readNs < 200e3, `read from the cache: ${p.readNs} ns`);
  assert.equal(block.queue.requests, 1);
  assert.equal(block.cache.nrCached, 65536 / PAGE_SIZE);
});

test("bonnie runs are deterministic", () => {
  const spec = native([{ kind: "bonnie", size_mb: 32, sync: true, seeks: 100 }], { horizonS: 4, memoryMb: 64 });
  assert.deepEqual(simulate(spec, { seed: 3 }).rows("block_io"), simulate(spec, { seed: 3 }).rows("block_io"));
  assert.deepEqual(simulate(spec, { seed: 3 }).rows("bonnie"), simulate(spec, { seed: 3 }).rows("bonnie"));
});


test("bad block specs: bonnie sizes that do not fit, irq affinity on missing CPUs, memory out of range", () => {
  const cap = Math.floor(120e9 / 1048576);
  let e = specError(native([{ kind: "bonnie", size_mb: 0 }], { horizonS: 1 }));
  assert.match(e.message, /guests\[0\]\.workloads\[0\]\.size_mb/);
  e = specError(native([{ kind: "bonnie", size_mb: cap + 1 }], { horizonS: 1 }));
  assert.match(e.message, /guests\[0\]\.workloads\[0\]\.size_mb/);
  assert.match(e.message, new RegExp(`1\\.\\.${cap}`));
  e = specError(native([{ kind: "bonnie", size_mb: cap - 10 }, { kind: "bonnie", size_mb: 20 }], { horizonS: 1 }));
  assert.match(e.message, /workloads\[1\]\.size_mb/);
  assert.doesNotThrow(() => validateSpec(native([{ kind: "bonnie", size_mb: cap }], { horizonS: 1 })));
  e = specError(native([], { horizonS: 1, irq: [2] }));
  assert.match(e.message, /guests\[0\]\.kernel\.irq_affinity\.disk\[0\]/);
  e = specError(native([], { horizonS: 1, memoryMb: 8 }));
  assert.match(e.message, /guests\[0\]\.memory_mb/);
  e = specError(native([], { horizonS: 1, memoryMb: 1 << 20 }));
  assert.match(e.message, /guests\[0\]\.memory_mb/);
  const kvm: SimSpec = {
    board: { preset: BOARD }, horizon_s: 1,
    hypervisor: { kind: "kvm", host_kernel: { irq_affinity: { disk: [3] } }, host_workloads: [{ kind: "bonnie", size_mb: cap + 1 }] },
    guests: [{ name: "vm", vcpus: 1, workloads: [] }],
  };
  e = specError(kvm);
  assert.match(e.message, /hypervisor\.host_kernel\.irq_affinity\.disk\[0\]/);
  assert.match(e.message, /hypervisor\.host_workloads\[0\]\.size_mb/);
});

test("builders: bonnie(), guest().memory(), linux().diskIrqAffinity() produce the plain spec", () => {
  const built = system().board(board(BOARD)).hypervisor({ kind: "native" })
    .guest(guest("os").vcpus(2).memory(512).kernel(linux().preempt("full").diskIrqAffinity([1]))
      .workload(bonnie().size(2000).sync().cpus([1])))
    .horizon(1).build();
  const g = built.guests[0];
  assert.equal(g.memory_mb, 512);
  assert.deepEqual(g.kernel?.irq_affinity, { disk: [1] });
  assert.deepEqual(g.workloads[0], { kind: "bonnie", size_mb: 2000, sync: true, cpus: [1] });
});

test("FileIo: O_DIRECT (QEMU cache=none) bypasses the page cache in both directions", () => {
  const { sim, kernel, block, disk } = bareKernel(512);
  block.open("image", 2 * 2 ** 30, O_DIRECT);
  const p = new OneCall(block, 1 << 20);
  kernel.spawn("aio", p, 0, [0], 0, 0);
  kernel.resume(0, 0);
  sim.run(2e9);
  assert.equal(p.stage, 2);
  assert.equal(block.cache.nrCached, 0, "nothing cached");
  // 1 MB in requests of at most 512 KB, each way
  assert.equal(disk.served, 4);
  assert.ok(p.readNs > (1 << 20) / 44e-3, `the read went to the disk: ${p.readNs} ns`);
});
