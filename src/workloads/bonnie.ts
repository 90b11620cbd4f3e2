/**
 * Bonnie 1.4 (Tim Bray's Bonnie with Kurt Garloff's changes, the version
 * SUSE shipped), `bonnie [-y] -s size`, run in an endless loop. Constants
 * and user-space costs: data/block/bonnie-1.4.json (see its provenance for
 * what was read in the source and what is assumed).
 *
 * One pass, in the program's order (each phase timed from its start to the
 * close of the file, as Bonnie's timestamp()/get_delta_t() do):
 *  1. putc: the file is unlinked and recreated, then written one character
 *     at a time with putc(): user time per character, and a write(2) of the
 *     stdio buffer (4 KB) whenever it fills;
 *  2. rewrite: each Chunk is read with read(2), one word dirtied, lseek(2)
 *     back and written with write(2);
 *  3. block write: the file is recreated and written with write(2) of Chunk;
 *  4. getc: read back with getc(): read(2) of 4 KB, user time per character;
 *  5. block read: read(2) of Chunk;
 *  6. seeks: `seek_procs` forked seekers (started together 5 s after the
 *     fork) share `seeks` tickets; each ticket is an lseek(2) to a random
 *     SeekChunk and a read(2) of it; every UpdateSeek-th seek of a seeker
 *     also dirties the block and writes it back.
 * With `sync` (-y) every writing phase ends with fsync(2) before the close.
 * Every system call goes through the kernel model's page cache, writeback
 * and block layer (../kernel/block.ts) down to the kernel's disk.
 *
 * Not modelled: Bonnie's start-up sync()s, its report printing, the CPU
 * time accounting it prints, the per-character loop's cache effects.
 */
import { readFileSync } from "node:fs";
import type { RandomStream } from "../engine/random.js";
import { boardPresets, DATA_DIR, type Sourced } from "../hw/board.js";
import { type BlockFile, blocksOf, FileIo, IO_FSYNC, IO_READ, IO_TRUNCATE, IO_WRITE, type KernelBlock } from "../kernel/block.js";
import { machineBlock } from "../kernel/blocksetup.js";
import { A_COMPUTE, A_KERNEL_WORK, A_SLEEP_UNTIL, A_WAIT, type Program, type Task } from "../kernel/task.js";
import type { TableSet } from "../results/tables.js";
import type { BonnieSpec } from "../spec/types.js";
import type { WorkloadModule } from "./registry.js";

/** data/block/bonnie-1.4.json */
interface BonnieData {
  chunk_bytes: Sourced<number>;
  seek_chunk_bytes: Sourced<number>;
  seeks: Sourced<number>;
  seek_procs: Sourced<number>;
  update_seek: Sourced<number>;
  seek_start_sleep_s: Sourced<number>;
  stdio_buffer_bytes: Sourced<number>;
  putc_cycles: Sourced<number>;
  getc_cycles: Sourced<number>;
}

let bonnieData: BonnieData | null = null;
/** Loads data/block/bonnie-1.4.json (cached). */
export function bonnieConstants(): BonnieData {
  if (!bonnieData) bonnieData = JSON.parse(readFileSync(`${DATA_DIR}block/bonnie-1.4.json`, "utf8")) as BonnieData;
  return bonnieData;
}

/** Bonnie's phases in the order it runs them (the `phase` column of table `bonnie`). */
export const BONNIE_PHASES = ["putc", "rewrite", "block_write", "getc", "block_read", "seeks"] as const;
const P_PUTC = 0, P_REWRITE = 1, P_WRITE = 2, P_GETC = 3, P_READ = 4, P_SEEK = 5;

// steps of the main program within a phase
const S_START = 0; // the phase begins (open / recreate)
const S_TRUNC = 1; // unlink + recreate in progress
const S_LOOP = 2; // the phase's loop: the next operation
const S_USER = 3; // user-space work of the operation done, its I/O next
const S_IO = 4; // a FileIo call in progress
const S_IO2 = 5; // rewrite: the lseek before the write-back, then the write
const S_FSYNC = 6; // -y: fsync in progress
const S_SEEK_SLEEP = 7; // the parent's sleep(5) before releasing the seekers
const S_SEEK_WAIT = 8; // waiting for the seekers

/** One Bonnie instance: the main process and its seekers. */
export class Bonnie implements Program {
  readonly task: Task;
  readonly seekers: Seeker[] = [];
  readonly file: BlockFile;
  /** File size, bytes (a multiple of Chunk). */
  readonly size: number;
  private readonly io: FileIo;
  private readonly chunk: number;
  private readonly buf: number;
  private readonly putcNs: number;
  private readonly getcNs: number;
  readonly seekChunk: number;
  readonly updateSeek: number;
  private readonly sleepNs: number;
  /** -y: fsync at the end of each writing phase. */
  private readonly sync: boolean;
  private readonly seeksPerPass: number;
  /** rewrite: the chunk was read and is being written back. */
  private rewriting = false;
  private phase = P_PUTC;
  private st = S_START;
  /** Byte position of the current phase. */
  private pos = 0;
  private phaseStart = 0;
  /** Seek tickets left, seekers still running, first seeker start. */
  tickets = 0;
  private running = 0;
  seekStart = -1;
  // statistics per phase (phases started after `from`)
  readonly completed = new Float64Array(6);
  readonly bytes = new Float64Array(6);
  readonly timeNs = new Float64Array(6);
  seeksDone = 0;
  passes = 0;

  constructor(readonly block: KernelBlock, readonly name: string, spec: BonnieSpec, allCpus: number[], clockMhz: number, readonly from: number, now: number, rng: (i: number) => RandomStream) {
    const d = bonnieConstants();
    this.chunk = d.chunk_bytes.value;
    const mb = spec.size_mb ?? 100;
    // size is in MB, rounded down to a multiple of Chunk (at least one Chunk)
    this.size = Math.max(this.chunk, Math.floor(mb * 1048576 / this.chunk) * this.chunk);
    this.buf = d.stdio_buffer_bytes.value;
    this.putcNs = d.putc_cycles.value * 1000 / clockMhz;
    this.getcNs = d.getc_cycles.value * 1000 / clockMhz;
    this.seekChunk = d.seek_chunk_bytes.value;
    this.updateSeek = d.update_seek.value;
    this.sleepNs = d.seek_start_sleep_s.value * 1e9;
    this.file = block.open(`${name}/Bonnie.file`, this.size);
    this.io = new FileIo(block);
    const cpus = spec.cpus ?? allCpus;
    const k = block.kernel;
    const nSeekers = spec.seekers ?? d.seek_procs.value;
    this.tickets = 0;
    for (let i = 0; i < nSeekers; i++) {
      const s = new Seeker(this, i, rng(i));
      s.task = k.spawn(`${name}:seeker${i}`, s, cpus[(i + 1) % cpus.length], cpus, 0, now, i);
      this.seekers.push(s);
    }
    this.seeksPerPass = spec.seeks ?? d.seeks.value;
    this.sync = spec.sync ?? false;
    this.task = k.spawn(name, this, cpus[0], cpus, 0, now);
  }

  /** Bytes of the current phase done so far. */
  private get phaseBytes(): number {
    return this.phase === P_SEEK ? this.seeksDone * this.seekChunk : this.pos;
  }

  next(t: Task, now: number): void {
    for (;;) {
      switch (this.st) {
        case S_START:
          this.phaseStart = now;
          this.pos = 0;
          if (this.phase === P_PUTC || this.phase === P_WRITE) {
            // newfile(create): unlink + open(O_CREAT | O_EXCL)
            this.io.begin(this.file, IO_TRUNCATE, 0, 0);
            this.st = S_TRUNC;
            continue;
          }
          if (this.phase === P_SEEK) {
            this.tickets = this.seeksPerPass;
            this.seeksDone = 0;
            this.seekStart = -1;
            this.st = S_SEEK_SLEEP;
            t.act = A_SLEEP_UNTIL;
            t.actArg = now + this.sleepNs;
            return;
          }
          this.st = S_LOOP;
          continue;
        case S_TRUNC:
          if (this.io.step(t, now)) return;
          this.phaseStart = now;
          this.st = S_LOOP;
          continue;
        case S_LOOP:
          if (this.pos >= this.size) {
            if (this.io.active) throw new Error("bonnie: I/O still active at phase end");
            const writing = this.phase === P_PUTC || this.phase === P_REWRITE || this.phase === P_WRITE;
            if (writing && this.sync) {
              this.io.begin(this.file, IO_FSYNC, 0, 0);
              this.st = S_FSYNC;
              continue;
            }
            this.endPhase(now);
            continue;
          }
          switch (this.phase) {
            case P_PUTC:
              // putc() the characters of one stdio buffer, then its write(2)
              this.st = S_USER;
              t.act = A_COMPUTE;
              t.actArg = Math.round(this.buf * this.putcNs);
              return;
            case P_GETC:
              // the stdio buffer refills with read(2); the getc() loop follows
              this.io.begin(this.file, IO_READ, this.pos, this.buf);
              this.st = S_IO;
              continue;
            case P_REWRITE:
            case P_READ:
              this.io.begin(this.file, IO_READ, this.pos, this.chunk);
              this.st = S_IO;
              continue;
            case P_WRITE:
              this.io.begin(this.file, IO_WRITE, this.pos, this.chunk);
              this.st = S_IO;
              continue;
          }
          continue;
        case S_USER:
          // putc: the buffer is full: write(2)
          this.io.begin(this.file, IO_WRITE, this.pos, this.buf);
          this.st = S_IO;
          continue;
        case S_IO:
          if (this.io.step(t, now)) return;
          if (this.phase === P_REWRITE && !this.rewriting) {
            // the chunk was read: dirty a word, lseek back, write it
            this.rewriting = true;
            this.st = S_IO2;
            t.act = A_KERNEL_WORK;
            t.actArg = 0;
            t.actAux = this.block.actSyscall;
            return;
          }
          this.rewriting = false;
          if (this.phase === P_GETC) {
            this.pos += this.buf;
            t.act = A_COMPUTE;
            t.actArg = Math.round(this.buf * this.getcNs);
            this.st = S_LOOP;
            return;
          }
          this.pos += this.phase === P_PUTC ? this.buf : this.chunk;
          this.st = S_LOOP;
          continue;
        case S_IO2:
          this.io.begin(this.file, IO_WRITE, this.pos, this.chunk);
          this.st = S_IO;
          continue;
        case S_FSYNC:
          if (this.io.step(t, now)) return;
          this.endPhase(now);
          continue;
        case S_SEEK_SLEEP:
          // write the tickets: the seekers start
          this.running = this.seekers.length;
          this.phaseStart = now;
          for (const s of this.seekers) s.go(now);
          this.st = S_SEEK_WAIT;
          t.act = A_WAIT;
          return;
        case S_SEEK_WAIT:
          if (this.running > 0) { t.act = A_WAIT; return; }
          this.endPhase(now);
          continue;
      }
    }
  }

  /** A seeker has used up the tickets. */
  seekerDone(now: number): void {
    if (--this.running === 0) this.block.defer(this.task, now);
  }

  private endPhase(now: number): void {
    const ph = this.phase;
    if (this.phaseStart >= this.from) {
      this.completed[ph]++;
      this.bytes[ph] += this.phaseBytes;
      this.timeNs[ph] += now - (ph === P_SEEK && this.seekStart >= 0 ? this.seekStart : this.phaseStart);
    }
    this.phase = ph === P_SEEK ? P_PUTC : ph + 1;
    if (this.phase === P_PUTC) this.passes++;
    this.st = S_START;
  }

  /** Statistics of the phase in progress (started after `from`) at time `end`: [phase, bytes, ns] or null. */
  current(end: number): [number, number, number] | null {
    if (this.st === S_START || this.phaseStart < this.from) return null;
    if (this.phase === P_SEEK) return this.seekStart >= 0 ? [P_SEEK, this.phaseBytes, end - this.seekStart] : null;
    return [this.phase, this.phaseBytes, end - this.phaseStart];
  }
}

/** A forked seeker process of the seek phase. */
class Seeker implements Program {
  task!: Task;
  private readonly io: FileIo;
  private st = 0; // 0 waiting for tickets, 1 read ticket (pipe read), 2 lseek, 3 read, 4 lseek back, 5 write
  private count = 0;
  private at = 0;
  constructor(readonly b: Bonnie, readonly idx: number, readonly rng: RandomStream) {
    this.io = new FileIo(b.block);
  }
  /** The parent wrote the tickets. */
  go(now: number): void {
    this.st = 1;
    this.b.block.defer(this.task, now);
  }
  next(t: Task, now: number): void {
    const b = this.b;
    for (;;) {
      switch (this.st) {
        case 0:
          t.act = A_WAIT;
          return;
        case 1:
          // read(seek_control, ticket, 1): a ticket, or the stop
          if (b.tickets <= 0) {
            this.st = 0;
            b.seekerDone(now);
            continue;
          }
          if (b.seekStart < 0) b.seekStart = now;
          b.tickets--;
          this.st = 2;
          t.act = A_KERNEL_WORK;
          t.actArg = 0;
          t.actAux = b.block.actSyscall;
          return;
        case 2: {
          // doseek(): lseek to a random SeekChunk, read it
          const n = Math.floor(b.size / b.seekChunk);
          this.at = Math.floor(this.rng.next() * n) * b.seekChunk;
          this.io.begin(b.file, IO_READ, this.at, b.seekChunk);
          this.st = 3;
          continue;
        }
        case 3:
          if (this.io.step(t, now)) return;
          if ((this.count++ % b.updateSeek) === 0) {
            // dirty the block, lseek back, write it
            this.st = 4;
            t.act = A_KERNEL_WORK;
            t.actArg = 0;
            t.actAux = b.block.actSyscall;
            return;
          }
          b.seeksDone++;
          this.st = 1;
          continue;
        case 4:
          this.io.begin(b.file, IO_WRITE, this.at, b.seekChunk);
          this.st = 5;
          continue;
        case 5:
          if (this.io.step(t, now)) return;
          b.seeksDone++;
          this.st = 1;
          continue;
      }
    }
  }
}

/** Workload kind `bonnie`: one main task per spec entry, `guest/bonnie#index`, and its seekers. Tables `bonnie`, `block_io`. */
export const bonnieWorkload: WorkloadModule<BonnieSpec> = {
  kind: "bonnie",
  tables: ["bonnie", "block_io"],
  start(run) {
    const all: { guest: string; w: Bonnie }[] = [];
    const clock = boardPresets().get(run.spec.board.preset)?.clock_mhz ?? 1000;
    return {
      add(w, at) {
        const block = machineBlock(run.spec, at.sim, at.kernel, at.guest, at.from, at.now);
        const name = `${at.guest.name}/bonnie#${at.index}`;
        const b = new Bonnie(block, name, w, at.allCpus, clock, at.from, at.now, (i) => at.sim.random.get(`${name}/seeker${i}`));
        all.push({ guest: at.guest.name, w: b });
      },
      tables(end): TableSet {
        const out: TableSet = {};
        if (all.length > 0) {
          const domain: string[] = [], task: string[] = [], phase: string[] = [], phases: number[] = [], bytes: number[] = [];
          const time: number[] = [], mbps: (number | null)[] = [], sps: (number | null)[] = [];
          for (const { guest, w } of all) {
            const cur = w.current(end);
            for (let ph = 0; ph < BONNIE_PHASES.length; ph++) {
              let by = w.bytes[ph], ns = w.timeNs[ph];
              if (cur !== null && cur[0] === ph) { by += cur[1]; ns += cur[2]; }
              domain.push(guest);
              task.push(w.task.name);
              phase.push(BONNIE_PHASES[ph]);
              phases.push(w.completed[ph]);
              bytes.push(by);
              time.push(ns / 1e9);
              mbps.push(ns > 0 ? by / 1048576 / (ns / 1e9) : null);
              sps.push(ph === P_SEEK && ns > 0 ? by / w.seekChunk / (ns / 1e9) : null);
            }
          }
          out.bonnie = { domain, task, phase, phases, bytes, time_s: time, MB_per_s: mbps, seeks_per_s: sps };
        }
        const bl = blocksOf(run.sim);
        if (bl.length > 0) out.block_io = blockIoTable(bl);
        return out;
      },
    };
  },
};

/** Table `block_io`: one row per block layer (kernel and its disk). */
export function blockIoTable(bl: readonly KernelBlock[]): NonNullable<TableSet["block_io"]> {
  const q = bl.map((b) => b.queue);
  return {
    domain: bl.map((b) => b.kernel.cfg.name),
    device: q.map((x) => x.device.name),
    requests: q.map((x) => x.requests),
    read_requests: q.map((x) => x.byDir[0]),
    write_requests: q.map((x) => x.byDir[1]),
    merges: q.map((x) => x.merges),
    bytes: q.map((x) => x.bytes),
    mean_service_us: q.map((x) => (x.requests ? x.sumServiceNs / x.requests / 1000 : null)),
    max_service_us: q.map((x) => (x.requests ? x.maxServiceNs / 1000 : null)),
    mean_wait_us: q.map((x) => (x.requests ? x.sumWaitNs / x.requests / 1000 : null)),
    max_wait_us: q.map((x) => (x.requests ? x.maxWaitNs / 1000 : null)),
    irq_cpu: q.map((x) => x.irqCpu),
    irqs: q.map((x) => x.irqsPerCpu.reduce((a, c) => a + c, 0)),
    irqs_outside_affinity: q.map((x) => x.irqsPerCpu.reduce((a, c, i) => a + (x.irqCpus.includes(i) ? 0 : c), 0)),
    memory_mb: bl.map((b) => b.cfg.memoryMb),
    throttled: bl.map((b) => b.throttled),
  };
}
