/**
 * The machine's physical disk: a rotating disk serving one request at a time
 * (no NCQ), as a `BlockDevice` of the native or KVM host kernel.
 *
 * Service time of a request = command overhead + positioning + transfer:
 *  - positioning: none for a sequential request (it starts where the
 *    previous request of the same direction ended: the drive's look-ahead
 *    buffer and write cache keep the media streaming); otherwise a seek over
 *    the distance d (fraction of the full stroke) from the head's position,
 *    seek(d) = single_track + (full_stroke - single_track) * sqrt(d) (+ the
 *    write settle for writes), then a rotational delay drawn uniformly in
 *    [0, one revolution);
 *  - transfer: bytes / media rate, the rate falling linearly from the outer
 *    to the inner zone with the offset (zoned recording).
 * Data: data/disks/*.json (the disk of a board is the preset that lists the
 * board id; boards without one get DEFAULT_DISK).
 *
 * Not modelled: the drive's own queueing and reordering (NCQ), the cache
 * hit path of re-read data, head switches and track skew, thermal
 * recalibration, power management (spin-down, APM head parking).
 */
import { readdirSync, readFileSync } from "node:fs";
import type { RandomStream } from "../engine/random.js";
import type { Simulator, TimerTarget } from "../engine/sim.js";
import { type BlockDevice, type BlockQueue, type BlockRequest, REQ_WRITE } from "../kernel/block.js";
import { DATA_DIR, type Sourced } from "./board.js";

/** A disk preset as stored in data/disks/*.json. */
export interface DiskPreset {
  id: string;
  name: string;
  provenance: string;
  /** Board presets whose machine has this disk. */
  boards: string[];
  capacity_gb: Sourced<number>;
  rpm: Sourced<number>;
  single_track_seek_ms: Sourced<number>;
  full_stroke_seek_ms: Sourced<number>;
  write_seek_extra_ms: Sourced<number>;
  outer_mb_per_s: Sourced<number>;
  inner_mb_per_s: Sourced<number>;
  command_overhead_us: Sourced<number>;
  max_request_kb: Sourced<number>;
  queue_depth: Sourced<number>;
  submit_accesses: Sourced<number>;
}

/** The disk preset of boards that name none (a 2.5-inch laptop disk of 2006). */
export const DEFAULT_DISK = "laptop-hdd-2006";

let presets: Map<string, DiskPreset> | null = null;

/** All disk presets, by id. */
export function diskPresets(): Map<string, DiskPreset> {
  if (presets) return presets;
  const m = new Map<string, DiskPreset>();
  const dir = DATA_DIR + "disks/";
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith(".json")) continue;
    const p = JSON.parse(readFileSync(dir + f, "utf8")) as DiskPreset;
    m.set(p.id, p);
  }
  presets = m;
  return m;
}

/** The disk preset of board `boardId`: the preset listing it, else DEFAULT_DISK. */
export function diskPresetForBoard(boardId: string): DiskPreset {
  const all = diskPresets();
  for (const p of all.values()) if (p.boards.includes(boardId)) return p;
  const d = all.get(DEFAULT_DISK);
  if (!d) throw new Error(`data/disks has no ${DEFAULT_DISK} preset`);
  return d;
}

/** Capacity of a disk preset, bytes (the preset states 10^9-byte GB). */
export function diskCapacityBytes(p: DiskPreset): number {
  return Math.floor(p.capacity_gb.value * 1e9 / 4096) * 4096;
}

/** The physical disk of a host, serving requests one at a time. */
export class PhysicalDisk implements BlockDevice, TimerTarget {
  readonly name: string;
  readonly capacityBytes: number;
  readonly maxRequestBytes: number;
  readonly queueDepth: number;
  readonly submitAccesses: number;
  /** Time of one revolution, ns. */
  private readonly revNs: number;
  private readonly trackNs: number;
  private readonly strokeNs: number;
  private readonly writeExtraNs: number;
  private readonly overheadNs: number;
  /** Media rate at the outer and inner edge, bytes per ns. */
  private readonly outerBpns: number;
  private readonly innerBpns: number;
  private q: BlockQueue | null = null;
  private readonly timer: number;
  /** Requests accepted by the drive, in service order (the first is being served). */
  private readonly fifo: BlockRequest[] = [];
  /** Head position (byte offset) and the end of the last request of each direction. */
  private head = 0;
  private readonly lastEnd = [-1, -1];
  // statistics
  served = 0;
  seeks = 0;
  busyNs = 0;

  constructor(readonly sim: Simulator, readonly preset: DiskPreset, private readonly rng: RandomStream, name = "sda") {
    this.name = name;
    this.capacityBytes = diskCapacityBytes(preset);
    this.maxRequestBytes = preset.max_request_kb.value * 1024;
    this.queueDepth = preset.queue_depth.value;
    this.submitAccesses = preset.submit_accesses.value;
    this.revNs = 60e9 / preset.rpm.value;
    this.trackNs = preset.single_track_seek_ms.value * 1e6;
    this.strokeNs = preset.full_stroke_seek_ms.value * 1e6;
    this.writeExtraNs = preset.write_seek_extra_ms.value * 1e6;
    this.overheadNs = preset.command_overhead_us.value * 1e3;
    // 10^6 bytes per second = 10^-3 bytes per ns
    this.outerBpns = preset.outer_mb_per_s.value * 1e-3;
    this.innerBpns = preset.inner_mb_per_s.value * 1e-3;
    this.timer = sim.timer(this, 0, 0);
  }

  attach(q: BlockQueue): void {
    this.q = q;
  }

  submit(r: BlockRequest, _cpu: number, now: number): void {
    this.fifo.push(r);
    if (this.fifo.length === 1) this.start(now);
  }

  ack(): void {}

  /** Media rate at byte offset x, bytes per ns. */
  rateAt(x: number): number {
    const f = x / this.capacityBytes;
    return this.outerBpns - (this.outerBpns - this.innerBpns) * (f < 1 ? f : 1);
  }

  /** Seek time over a distance of `bytes`, ns (0 for no movement). */
  seekNs(bytes: number): number {
    if (bytes <= 0) return 0;
    const d = bytes / this.capacityBytes;
    return this.trackNs + (this.strokeNs - this.trackNs) * Math.sqrt(d < 1 ? d : 1);
  }

  /** Service time of request r given the drive's state now, ns (draws the rotational delay). */
  private serviceNs(r: BlockRequest): number {
    let t = this.overheadNs + r.bytes / this.rateAt(r.offset);
    if (r.offset !== this.lastEnd[r.dir]) {
      this.seeks++;
      const dist = Math.abs(r.offset - this.head);
      if (dist > 0) t += this.seekNs(dist) + (r.dir === REQ_WRITE ? this.writeExtraNs : 0);
      t += this.rng.next() * this.revNs;
    }
    return Math.round(t);
  }

  private start(now: number): void {
    const r = this.fifo[0];
    const d = this.serviceNs(r);
    this.busyNs += d;
    this.sim.arm(this.timer, now + d);
  }

  /** The request in service is done: status to the queue, interrupt, next request. */
  onTimer(_kind: number, _arg: number, now: number): void {
    const r = this.fifo.shift()!;
    const end = r.offset + r.bytes;
    this.head = end;
    this.lastEnd[r.dir] = end;
    this.lastEnd[1 - r.dir] = -1;
    this.served++;
    const q = this.q!;
    q.complete(r, now);
    q.raise(now);
    if (this.fifo.length > 0) this.start(now);
  }
}
