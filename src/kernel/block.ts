/**
 * Block I/O of a Linux kernel model (Linux 2.6.29 / 2.6.31: block/blk-core.c,
 * block/elevator.c, mm/filemap.c, mm/readahead.c, mm/page-writeback.c,
 * fs/fs-writeback.c; drivers/ide of 2.6.29 for a guest's IDE disk).
 *
 * One kernel instance has at most one block layer (`KernelBlock`): a page
 * cache over the kernel's memory (pagecache.ts), the files of its file
 * system, one request queue (`BlockQueue`) in front of one `BlockDevice`,
 * the flusher thread (pdflush), and a kblockd thread per CPU that runs the
 * driver's request function. The device is either the machine's physical
 * disk (../hw/disk.ts: a native kernel or a KVM host) or a disk that a
 * hypervisor emulates for a guest (the QEMU IDE disk implements
 * `BlockDevice`).
 *
 * The life of a request:
 *  1. A task's read()/write()/fsync() (`FileIo`, run by its Program), or the
 *     flusher thread, builds `BlockRequest`s (the pages are marked under
 *     writeback / locked for reading first, and the kernel work of doing so
 *     is charged to the task), then `BlockQueue.enqueue`s them: the elevator
 *     back- or front-merges a request with a queued one of the same kind it
 *     extends (up to the device's `maxRequestBytes`); the rest wait in
 *     offset order (a one-way elevator), synchronous requests (reads, fsync,
 *     O_DSYNC writes) before asynchronous writeback unless the oldest
 *     asynchronous request has waited 250 ms (CFQ's preference and fifo
 *     expiry, without its time slices). At most nr_requests (128) requests per
 *     direction exist; a writer needing one more sleeps (get_request_wait),
 *     and the queue is congested above 7/8 of that.
 *  2. Dispatch: when the device has a free slot (`queueDepth`: 1 for IDE and
 *     a SATA disk without NCQ), the kblockd thread of the CPU that queued
 *     the work or took the completion interrupt (a SCHED_OTHER kernel thread
 *     bound to that CPU) takes the next request, calls `device.submit(r,
 *     cpu, now)` and then makes `device.submitAccesses` register accesses:
 *     an A_DEVICE_IO path of the data/kernels `device_io` activity (the
 *     driver's lock region; each access is `host.deviceAccess(cpu, now)`,
 *     which under KVM is a trapped PIO/MMIO exit that may suspend the vCPU).
 *  3. The device serves it and, when done, calls `BlockQueue.complete(r,
 *     now)` (the request's status reads "done") and raises the queue's
 *     interrupt line `irqLine` on kernel CPU `irqCpu` (the lowest CPU of the
 *     kernel's `irq_affinity.disk`): the physical disk through
 *     `BlockQueue.raise(now)` (= `kernel.raiseDeviceIrq(irqCpu, irqLine,
 *     now)`); an emulated disk through its hypervisor's interrupt injection,
 *     which ends in `guestKernel.raiseIrq(irqCpu, irqLine, t)`.
 *  4. The line's handler is the data/kernels `block_completion` activity
 *     (hard irq then BLOCK_SOFTIRQ work on non-RT kernels; on PREEMPT_RT the
 *     line's irq thread at SCHED_FIFO 50: irq.ts). Its action calls
 *     `device.ack(cpu, now)`, then ends every completed request: read pages
 *     become up to date, written pages leave writeback, the tasks waiting
 *     for them (and for request slots or the end of congestion) are woken
 *     (`kernel.wakeTask`), and kblockd is woken to dispatch the next
 *     request.
 *
 * For hypervisors (the QEMU/KVM model):
 *  - host side: the host kernel's block layer is `machineBlock(spec, sim,
 *    hostKernel, hostUnit, from, now)` (blocksetup.ts; `hostUnit` = {name:
 *    "host", vcpus, kernel: host_kernel, workloads: []}: memory and disk
 *    interrupt affinity of the host); the raw image is `hb.open("<guest>.img",
 *    bytes, O_DSYNC)` (cache=writethrough); each AIO thread owns a
 *    `new FileIo(hb)` and runs `io.begin(image, IO_READ | IO_WRITE, offset,
 *    bytes)` / `io.step(t, now)` from its Program (see FileIo): the thread
 *    blocks in the host kernel like a real pread/pwrite, and when step
 *    returns false the data is in the page cache (read) or on the disk
 *    (O_DSYNC write).
 *  - guest side: when it creates the guest, before its workloads, it calls
 *    `attachBlock(guestKernel, {device, memoryMb: unitMemoryMb(spec, g),
 *    irqCpus: unitDiskIrqCpus(g), from, now})` with its emulated disk as
 *    `device` (a BlockDevice); bonnie in the guest then uses that block layer.
 *    The device gets `submit(r, vcpu, now)` from the guest's kblockd followed
 *    by `submitAccesses` register accesses of that vCPU (each a
 *    `host.deviceAccess(vcpu, now)` of the guest's CpuHost: the PIO exit),
 *    and `ack(vcpu, now)` from the guest's interrupt handler; when the I/O is
 *    done it calls `queue.complete(r, now)` and injects line `queue.irqLine`
 *    into guest CPU `queue.irqCpu`. A request's bytes start at `r.offset` of
 *    the guest disk = the same offset of the image.
 *
 * Simplifications: the driver's request function always runs in kblockd
 * (in 2.6 it also runs in the submitter's unplug and in the completion
 * interrupt); plugging and the 3 ms unplug timer are not modelled (a request
 * is dispatchable as soon as it is queued); the syscall entry cost is
 * charged again when a call goes on after sleeping. Not modelled: CFQ's
 * per-process queues, slices and idling, anticipatory scheduling, request
 * tags / NCQ, barriers, filesystem metadata and the ext3 journal, the
 * periodic kupdate writeback of pages dirty for 30 s (the background
 * threshold always comes first for a streaming writer), laptop mode.
 */
import type { Simulator, TimerTarget } from "../engine/sim.js";
import type { LinuxKernel } from "./linux.js";
import { FilePages, type BlockData, linuxBlockData, PageCache, PG_CACHED, PG_DIRTY, PG_READING, PG_UPTODATE, PG_WRITEBACK } from "./pagecache.js";
import { A_DEVICE_IO, A_KERNEL_WORK, MM_KERNEL, A_SLEEP_UNTIL, A_WAIT, type Program, SCHED_NORMAL, type Task } from "./task.js";

/** A request's direction (also an index). */
export const REQ_READ = 0;
export const REQ_WRITE = 1;

/** Size of a page and of a sector, bytes. */
export const PAGE_SIZE = 4096;
export const SECTOR_SIZE = 512;

/**
 * One block request (struct request): a contiguous range of the device.
 * Created by the block layer; the device must not keep it after
 * `complete`.
 */
export class BlockRequest {
  /** REQ_READ or REQ_WRITE. */
  dir = REQ_READ;
  /** Start on the device, bytes (a multiple of SECTOR_SIZE). */
  offset = 0;
  /** Length, bytes (at most the device's maxRequestBytes). */
  bytes = 0;
  /** Synchronous (a task waits for it: reads, fsync, O_DSYNC): dispatched before asynchronous writeback. */
  sync = false;
  /** Times: queued, dispatched to the device, completed by the device; ns, -1 until then. */
  queuedAt = -1;
  startedAt = -1;
  doneAt = -1;
  /** Who is told when the request ends instead of the page cache (O_DIRECT I/O); null: the page cache. */
  client: BlockClient | null = null;
  constructor(readonly id: number) {}
}

/** What is told that a request has ended (bio end_io). Called from the completion handler, on `cpu`. */
export interface BlockClient {
  requestDone(r: BlockRequest, cpu: number, now: number): void;
}

/**
 * A disk as a native or guest kernel's driver sees it: the physical disk of
 * the board (../hw/disk.ts) or a disk emulated by a hypervisor (QEMU's IDE
 * disk). The block layer calls `attach` once, then `submit` for each request
 * it dispatches (never more than `queueDepth` outstanding), and `ack` from
 * the interrupt handler; the device calls `queue.complete(r, now)` for each
 * finished request and raises the queue's interrupt (see the header, step 3).
 */
export interface BlockDevice {
  /** Name in the `block_io` table (e.g. "sda", "hda"). */
  readonly name: string;
  /** Capacity, bytes: the files of this kernel cannot hold more. */
  readonly capacityBytes: number;
  /** Largest request the driver issues (max_sectors_kb), bytes. */
  readonly maxRequestBytes: number;
  /** Requests the device accepts at once (1: IDE, or SATA without NCQ). */
  readonly queueDepth: number;
  /**
   * Register accesses the driver makes to start one request after `submit`
   * (IDE DMA: taskfile and bus-master registers), each a `host.deviceAccess`
   * of the submitting CPU. 0: none.
   */
  readonly submitAccesses: number;
  /** Called once by the queue that drives the device. */
  attach(q: BlockQueue): void;
  /**
   * The driver hands request r to the device, from kernel CPU `cpu` (its
   * kblockd thread), just before making the `submitAccesses` register
   * accesses. The physical disk starts serving it (or queues it in the drive)
   * at once; an emulated disk starts it when its device model has emulated
   * the last of those accesses.
   */
  submit(r: BlockRequest, cpu: number, now: number): void;
  /**
   * The interrupt handler on kernel CPU `cpu` acknowledges the interrupt
   * (reads the status register). The physical disk does nothing (the cost is
   * in the handler's data); an emulated disk may treat it as one more device
   * access (under KVM a trapped PIO exit: it may suspend the CPU as
   * `deviceAccess` does). It must not call back into the queue.
   */
  ack(cpu: number, now: number): void;
}

/**
 * The request queue of one kernel in front of its BlockDevice: elevator,
 * dispatch through kblockd, the completion interrupt. Statistics for the
 * `block_io` table.
 */
export class BlockQueue {
  /** The device interrupt line of the disk in this kernel (registerIrq "block_completion"). */
  readonly irqLine: number;
  /** The kernel CPU the disk interrupt is routed to (lowest CPU of irq_affinity.disk). */
  readonly irqCpu: number;
  /** The CPUs of irq_affinity.disk. */
  readonly irqCpus: readonly number[];
  /** Requests dispatched to the device and not yet completed. */
  inFlight = 0;
  /** Allocated requests per direction (queued or in flight): rq->count[rw]. */
  readonly count = [0, 0];
  /** BDI congested for writes (set at the on threshold, cleared below the off threshold). */
  congested = false;
  private readonly congOn: number;
  private readonly congOff: number;
  readonly nrRequests: number;
  /** CFQ's fifo expiry of asynchronous requests, ns. */
  private readonly asyncExpireNs: number;
  /** Queued (not dispatched) requests: synchronous and asynchronous. */
  private readonly syncQ: BlockRequest[] = [];
  private readonly asyncQ: BlockRequest[] = [];
  /** Completed by the device, not yet seen by the handler. */
  private readonly done: BlockRequest[] = [];
  /** Where the last dispatched request ended (the elevator's position). */
  private pos = 0;
  private nextId = 0;
  /** kblockd thread per CPU (created at attach). */
  private readonly kblockd: Kblockd[] = [];
  private block!: KernelBlock;
  // statistics (requests completed after `from`)
  requests = 0;
  bytes = 0;
  readonly byDir = [0, 0];
  merges = 0;
  sumServiceNs = 0;
  maxServiceNs = 0;
  sumWaitNs = 0;
  maxWaitNs = 0;
  /** Completion interrupts handled on each kernel CPU. */
  readonly irqsPerCpu: number[];

  constructor(readonly kernel: LinuxKernel, readonly device: BlockDevice, irqCpus: readonly number[], readonly from: number, data: BlockData) {
    this.irqCpus = irqCpus.slice();
    this.irqCpu = Math.min(...irqCpus);
    this.irqsPerCpu = kernel.cpus.map(() => 0);
    this.nrRequests = data.nr_requests.value;
    this.asyncExpireNs = data.async_fifo_expire_ms.value * 1e6;
    // blk_queue_congestion_threshold()
    const nr = this.nrRequests;
    this.congOn = Math.min(nr, nr - Math.floor(nr / 8) + 1);
    this.congOff = Math.max(1, nr - Math.floor(nr / 8) - Math.floor(nr / 16) - 1);
    this.irqLine = kernel.registerIrq("block_completion", (cpu, now) => this.interrupt(cpu, now));
  }

  /** @internal Wires the queue to its block layer and creates the kblockd threads. */
  init(block: KernelBlock, now: number): void {
    this.block = block;
    // the driver's path around its register accesses (a kernel data file without device_io: its syscall sections)
    const lat = this.kernel.lat;
    const io = (lat.byName.get("device_io") ?? lat.activity("syscall")).index;
    for (let c = 0; c < this.kernel.cpus.length; c++) {
      const k = new Kblockd(this, c, io);
      k.task = this.kernel.spawn(`kblockd/${c}`, k, c, [c], 0, now, 0, { policy: SCHED_NORMAL }, MM_KERNEL);
      this.kblockd.push(k);
    }
    this.device.attach(this);
  }

  /** A new request (get_request): counted against nr_requests until it completes. */
  alloc(dir: number, offset: number, bytes: number, sync: boolean): BlockRequest {
    const r = new BlockRequest(this.nextId++);
    r.dir = dir;
    r.offset = offset;
    r.bytes = bytes;
    r.sync = sync;
    this.count[dir]++;
    if (dir === REQ_WRITE && !this.congested && this.count[dir] >= this.congOn) this.congested = true;
    return r;
  }

  /** Free request slots in direction `dir`. */
  free(dir: number): number {
    return this.nrRequests - this.count[dir];
  }

  /**
   * Queues request r (elevator merge or sorted insert) and makes sure a
   * kblockd thread will dispatch it. `cpu`: the submitter's CPU.
   */
  enqueue(r: BlockRequest, cpu: number, now: number): void {
    r.queuedAt = now;
    const list = r.sync ? this.syncQ : this.asyncQ;
    const max = this.device.maxRequestBytes;
    if (r.client === null) {
      for (let i = 0; i < list.length; i++) {
        const o = list[i];
        if (o.dir !== r.dir || o.client !== null || o.bytes + r.bytes > max) continue;
        if (o.offset + o.bytes === r.offset || r.offset + r.bytes === o.offset) {
          // ELEVATOR_BACK_MERGE / ELEVATOR_FRONT_MERGE: the bio joins the queued request
          if (r.offset < o.offset) o.offset = r.offset;
          o.bytes += r.bytes;
          this.count[r.dir]--;
          this.merges++;
          this.uncongest();
          this.kick(cpu, now);
          return;
        }
      }
    }
    list.push(r);
    this.kick(cpu, now);
  }

  /** Device -> queue: request r has finished (its status reads done). The device raises the interrupt next. */
  complete(r: BlockRequest, now: number): void {
    r.doneAt = now;
    this.done.push(r);
  }

  /** The physical disk's interrupt: the line on `irqCpu` of this (native or host) kernel. */
  raise(now: number): void {
    this.kernel.raiseDeviceIrq(this.irqCpu, this.irqLine, now);
  }

  /** Queued requests not yet dispatched. */
  get queued(): number {
    return this.syncQ.length + this.asyncQ.length;
  }

  /** @internal A request can be dispatched now. */
  canDispatch(): boolean {
    return this.inFlight < this.device.queueDepth && this.queued > 0;
  }

  /** @internal Takes the next request (elevator order) and hands it to the device, from kblockd on `cpu`. */
  dispatch(cpu: number, now: number): BlockRequest {
    let list = this.syncQ.length > 0 ? this.syncQ : this.asyncQ;
    // CFQ's fifo expiry: an asynchronous request that has waited too long goes first, oldest first
    if (list === this.syncQ && this.asyncQ.length > 0) {
      const a = this.asyncQ;
      let old = 0;
      for (let i = 1; i < a.length; i++) if (a[i].queuedAt < a[old].queuedAt) old = i;
      if (now - a[old].queuedAt >= this.asyncExpireNs) return this.start(a, old, cpu, now);
    }
    // one-way elevator: the lowest offset at or after the head's position, else the lowest
    let best = -1, wrap = -1;
    for (let i = 0; i < list.length; i++) {
      const o = list[i].offset;
      if (o >= this.pos && (best < 0 || o < list[best].offset)) best = i;
      if (wrap < 0 || o < list[wrap].offset) wrap = i;
    }
    return this.start(list, best >= 0 ? best : wrap, cpu, now);
  }

  /** Dispatches request k of `list`. */
  private start(list: BlockRequest[], k: number, cpu: number, now: number): BlockRequest {
    const r = list[k];
    list.splice(k, 1);
    this.pos = r.offset + r.bytes;
    this.inFlight++;
    r.startedAt = now;
    this.device.submit(r, cpu, now);
    return r;
  }

  /** Wakes the kblockd thread of `cpu` if a request can be dispatched. */
  private kick(cpu: number, now: number): void {
    if (!this.canDispatch()) return;
    const k = this.kblockd[cpu];
    if (k.pending) return;
    k.pending = true;
    this.block.defer(k.task, now);
  }

  private uncongest(): void {
    if (this.congested && this.count[REQ_WRITE] < this.congOff) this.congested = false;
  }

  /** The handler's action on `cpu` (end of the hard irq on non-RT, the irq thread on RT). */
  private interrupt(cpu: number, now: number): void {
    this.irqsPerCpu[cpu]++;
    this.device.ack(cpu, now);
    const done = this.done;
    for (let i = 0; i < done.length; i++) {
      const r = done[i];
      this.inFlight--;
      this.count[r.dir]--;
      if (r.queuedAt >= this.from) {
        this.requests++;
        this.bytes += r.bytes;
        this.byDir[r.dir]++;
        const s = r.doneAt - r.startedAt, w = r.startedAt - r.queuedAt;
        this.sumServiceNs += s;
        if (s > this.maxServiceNs) this.maxServiceNs = s;
        this.sumWaitNs += w;
        if (w > this.maxWaitNs) this.maxWaitNs = w;
      }
      if (r.client !== null) r.client.requestDone(r, cpu, now);
      else this.block.pagesDone(r);
    }
    done.length = 0;
    this.uncongest();
    this.block.wakeWaiters(now);
    this.kick(cpu, now);
  }
}

/** A per-CPU kblockd thread running the driver's request function. */
class Kblockd implements Program {
  task!: Task;
  /** Woken (or running) with work to look at. */
  pending = false;
  constructor(readonly q: BlockQueue, readonly cpu: number, readonly ioAct: number) {}
  next(t: Task, now: number): void {
    const q = this.q;
    while (q.canDispatch()) {
      q.dispatch(this.cpu, now);
      const n = q.device.submitAccesses;
      if (n > 0) {
        // the driver programs the device: n register accesses in its lock region
        t.act = A_DEVICE_IO;
        t.actArg = this.ioAct;
        t.actAux = n;
        return;
      }
    }
    this.pending = false;
    t.act = A_WAIT;
  }
}

/** Open flags of a `BlockFile`. */
export const O_DSYNC = 1; // every write waits for its pages to reach the disk (QEMU cache=writethrough)
export const O_DIRECT = 2; // bypass the page cache (QEMU cache=none)

/** A regular file of a kernel's file system: a contiguous range of its device. */
export class BlockFile {
  constructor(
    readonly id: number, readonly name: string, readonly sizeBytes: number, readonly deviceOffset: number,
    readonly flags: number, readonly pages: FilePages,
  ) {}
}

/** Operations of a FileIo. */
export const IO_READ = 0; // pread(fd, buf, bytes, offset)
export const IO_WRITE = 1; // pwrite(fd, buf, bytes, offset)
export const IO_FSYNC = 2; // fsync(fd): write back the file's dirty pages and wait
export const IO_TRUNCATE = 3; // unlink + create (O_TRUNC): drop the file's pages, waiting for those under writeback

// what a FileIo waits for
const W_NONE = 0;
const W_PAGE = 1; // page wPage of the file is up to date (not being read)
const W_RANGE = 2; // no page of [wPage, wEnd) under writeback
const W_FILE = 3; // no page of the file under writeback
const W_SLOT = 4; // a free write request slot
const W_UNCONGESTED = 5; // the queue is not congested
const W_DIRECT = 6; // this call's direct requests are done

// phases of a FileIo call
const F_IDLE = 0;
const F_BODY = 1; // copying pages / reading
const F_BALANCE = 2; // balance_dirty_pages
const F_SYNC = 3; // writing back a range / the file, then waiting
const F_DONE = 4;
const F_TRUNC = 5; // dropping the file's pages

/** A sub-program that may sleep in the block layer. */
interface Waitable {
  readonly task: Task | null;
  /** The condition it waits for holds. */
  ready(): boolean;
}

/**
 * One blocking file I/O system call of a task, as a sub-program its Program
 * runs: `begin(...)`, then in `Program.next(t, now)`:
 *
 *     if (this.io.step(t, now)) return; // t.act was set: the call goes on
 *     // the call has returned (this.io.result: bytes transferred)
 *
 * `step` sets t.act / t.actArg / t.actAux to the next piece of the call
 * (A_KERNEL_WORK for the syscall path, page copies and request submission,
 * A_WAIT while the task sleeps on a page, a request slot or its requests,
 * A_SLEEP_UNTIL for congestion_wait) and returns true, or returns false when
 * the call is complete. A read goes through the page cache (hit: copy; miss:
 * readahead requests and a wait); a write copies into the page cache,
 * dirties the pages, is throttled by balance_dirty_pages and, with O_DSYNC,
 * writes its range back and waits; O_DIRECT reads and writes the device
 * directly. QEMU's AIO threads use this for pread/pwrite on the raw image
 * (opened O_DSYNC with cache=writethrough, the 2009 default).
 */
export class FileIo implements Waitable, BlockClient {
  /** Bytes transferred by the last completed call. */
  result = 0;
  /** A call is in progress (begin called, step has not yet returned false). */
  active = false;
  task: Task | null = null;
  private file!: BlockFile;
  private f!: FilePages;
  private op = IO_READ;
  /** Current and end page of the call; bytes of the call. */
  private page = 0;
  private endPage = 0;
  private firstPage = 0;
  private bytes = 0;
  private phase = F_IDLE;
  private wait = W_NONE;
  private wPage = 0;
  private wEnd = 0;
  /** Requests built, to be queued when the kernel work that built them is done. */
  private readonly pending: BlockRequest[] = [];
  /** Direct requests of this call still in flight. */
  private directLeft = 0;
  /** fsync / O_DSYNC: the pass's position, whether its wait is done, passes made. */
  private syncAt = 0;
  private syncWaited = false;
  private syncPasses = 0;
  /** balance_dirty_pages: pages written in this invocation, the stage of its loop, counted as throttled. */
  private balWritten = 0;
  private balStage = 0;
  private balCounted = false;
  /** A_KERNEL_WORK activity of the syscall path. */
  private readonly act: number;

  constructor(readonly block: KernelBlock) {
    this.act = block.actSyscall;
  }

  /** Starts a call on file `file` (does not touch the task): `op` IO_READ / IO_WRITE / IO_FSYNC. */
  begin(file: BlockFile, op: number, offset: number, bytes: number): void {
    if (this.active) throw new Error("FileIo: a call is already in progress");
    this.file = file;
    this.f = file.pages;
    this.op = op;
    const end = Math.min(offset + bytes, file.sizeBytes);
    this.firstPage = Math.floor(offset / PAGE_SIZE);
    this.page = this.firstPage;
    this.endPage = Math.ceil(end / PAGE_SIZE);
    this.bytes = Math.max(0, end - offset);
    this.phase = op === IO_FSYNC ? F_SYNC : op === IO_TRUNCATE ? F_TRUNC : F_BODY;
    this.wait = W_NONE;
    this.balWritten = 0;
    this.balStage = 0;
    this.directLeft = 0;
    this.syncAt = op === IO_FSYNC ? 0 : this.firstPage;
    this.syncWaited = false;
    this.syncPasses = 0;
    this.active = true;
    this.result = 0;
  }

  /** The condition the task sleeps on holds. */
  ready(): boolean {
    const f = this.f;
    switch (this.wait) {
      case W_PAGE: return (f.flags[this.wPage] & PG_READING) === 0;
      case W_RANGE:
        for (let p = this.wPage; p < this.wEnd; p++) if (f.flags[p] & PG_WRITEBACK) return false;
        return true;
      case W_FILE: return f.nrWriteback === 0;
      case W_SLOT: return this.block.queue.free(REQ_WRITE) > 0;
      case W_UNCONGESTED: return !this.block.queue.congested;
      case W_DIRECT: return this.directLeft === 0;
      default: return true;
    }
  }

  /** O_DIRECT requests of this call end here. */
  requestDone(): void {
    this.directLeft--;
  }

  /** Sets the task's next action of the call and returns true, or returns false when the call is done. */
  step(t: Task, now: number): boolean {
    const b = this.block;
    this.task = t;
    for (;;) {
      // requests built by the kernel work that just ended go to the queue now
      if (this.pending.length > 0) b.commit(this.pending, t.cpu, now);
      if (this.wait !== W_NONE) {
        if (!this.ready()) {
          b.sleep(this);
          t.act = A_WAIT;
          return true;
        }
        this.wait = W_NONE;
      }
      let cost = 0;
      switch (this.phase) {
        case F_BODY:
          cost = (this.file.flags & O_DIRECT) !== 0 ? this.direct() : this.op === IO_READ ? this.readPages() : this.writePages();
          break;
        case F_BALANCE:
          cost = this.balance(t, now);
          break;
        case F_SYNC:
          cost = this.sync();
          break;
        case F_TRUNC:
          cost = this.truncate();
          break;
        case F_DONE:
          this.active = false;
          this.phase = F_IDLE;
          this.result = this.op === IO_FSYNC || this.op === IO_TRUNCATE ? 0 : this.bytes;
          return false;
      }
      if (cost > 0) {
        t.act = A_KERNEL_WORK;
        t.actArg = cost;
        t.actAux = this.act;
        return true;
      }
      if (cost < 0) {
        // congestion_wait: sleep for the timeout
        t.act = A_SLEEP_UNTIL;
        t.actArg = now - cost;
        return true;
      }
    }
  }

  /** do_generic_file_read over the call's pages: copies what is up to date, starts readahead, sets a wait. Returns ns. */
  private readPages(): number {
    const b = this.block, f = this.f, d = b.cost;
    let cost = 0;
    while (this.page < this.endPage) {
      const p = this.page;
      const fl = f.flags[p];
      if (fl & PG_UPTODATE && !(fl & PG_READING)) {
        b.cache.hits++;
        // the PG_readahead marker: start the next window asynchronously
        if (p === f.raMark) cost += b.asyncReadahead(f, this.pending);
        cost += d.readPage;
        f.raPrev = p + 1;
        this.page++;
        continue;
      }
      if (!(fl & PG_CACHED)) {
        b.cache.misses++;
        cost += b.syncReadahead(f, p, this.endPage - p, this.pending);
      }
      // lock_page_killable: wait for the read of this page
      this.wait = W_PAGE;
      this.wPage = p;
      return cost;
    }
    this.phase = F_DONE;
    return cost;
  }

  /** generic_perform_write over the call's pages, with balance_dirty_pages_ratelimited. Returns ns. */
  private writePages(): number {
    const b = this.block, f = this.f, c = b.cache, d = b.cost;
    let cost = 0;
    while (this.page < this.endPage) {
      const p = this.page;
      if (!(f.flags[p] & PG_CACHED)) {
        c.insert(f, p);
        cost += d.newPage;
      }
      // a page under writeback is written again (2.6.31 does not wait for it: stable pages came later)
      cost += d.writePage;
      this.page++;
      if (c.setDirty(f, p) && b.dirtied(1)) {
        this.phase = F_BALANCE;
        this.balWritten = 0;
        this.balStage = 0;
        this.balCounted = false;
        return cost;
      }
    }
    if ((this.file.flags & O_DSYNC) !== 0) {
      this.phase = F_SYNC;
      return cost;
    }
    this.phase = F_DONE;
    return cost;
  }

  /**
   * One iteration of balance_dirty_pages (2.6.31): over its limit (the
   * bdi's share of dirty_ratio, and above the midpoint of the background and
   * dirty thresholds), the writer writes back up to write_chunk dirty pages
   * itself (stage 0), then (stage 1) returns once under the limit or once it
   * has written write_chunk pages, else sleeps in congestion_wait and goes
   * round again. Returns ns of work, minus the sleep (ns), or 0.
   */
  private balance(t: Task, now: number): number {
    const b = this.block, c = b.cache, q = b.queue;
    const [bg, dirty] = c.dirtyLimits(t.policy !== SCHED_NORMAL);
    const bdiThresh = Math.floor(dirty * b.data.task_dirty_share.value);
    if (this.balStage === 0) {
      const nr = c.nrDirty + c.nrWriteback;
      if (nr <= bdiThresh || nr < Math.floor((bg + dirty) / 2)) return this.balanced(bg, bdiThresh, now);
      if (!b.dirtyExceeded) b.dirtyExceeded = true;
      if (!this.balCounted) { this.balCounted = true; b.throttled++; }
      this.balStage = 1;
      if (c.nrDirty > bdiThresh) {
        // writeback_inodes(&wbc): WB_SYNC_NONE, waiting for request slots
        if (q.free(REQ_WRITE) <= 0) {
          this.balStage = 0;
          this.wait = W_SLOT;
          return 0;
        }
        const r = b.writeback(null, 0, 0, b.writeChunk - this.balWritten, false, false, this.pending);
        this.balWritten += r.pages;
        if (r.cost > 0) return r.cost;
      }
    }
    this.balStage = 0;
    if (c.nrDirty + c.nrWriteback <= bdiThresh || this.balWritten >= b.writeChunk) return this.balanced(bg, bdiThresh, now);
    // congestion_wait(WRITE, HZ/10): woken early when the queue leaves congestion
    b.throttleSleeps++;
    if (q.congested) {
      this.wait = W_UNCONGESTED;
      return 0;
    }
    return -b.congestionWaitNs;
  }

  /** The end of balance_dirty_pages: clear dirty_exceeded, start pdflush above the background threshold. */
  private balanced(bg: number, bdiThresh: number, now: number): number {
    const b = this.block, c = b.cache;
    if (c.nrDirty + c.nrWriteback < bdiThresh) b.dirtyExceeded = false;
    if (c.nrDirty > bg) b.wakeFlusher(now);
    this.phase = F_BODY;
    return 0;
  }

  /**
   * fsync (filemap_write_and_wait) / O_DSYNC (sync_page_range): one pass
   * over the file (or the call's range) writing back the dirty pages not
   * already under writeback (`syncAt` is the pass's position), then a wait
   * for the writeback of the range; a second pass if pages that were dirty
   * and under writeback at once are still dirty. Returns ns of work, or 0.
   */
  private sync(): number {
    const b = this.block, f = this.f;
    const whole = this.op === IO_FSYNC;
    const from = whole ? 0 : this.firstPage;
    const to = whole ? f.npages : this.endPage;
    if (this.syncAt < to) {
      let p = this.syncAt;
      if (whole && f.nrDirty === 0) p = to;
      else while (p < to && (f.flags[p] & (PG_DIRTY | PG_WRITEBACK)) !== PG_DIRTY) p++;
      this.syncAt = p;
      if (p < to) {
        if (b.queue.free(REQ_WRITE) <= 0) {
          this.wait = W_SLOT;
          return 0;
        }
        const r = b.writeback(f, p, to, Infinity, false, true, this.pending);
        this.syncAt = r.next;
        return r.cost;
      }
    }
    // the pass is over: wait_on_page_writeback over the range / filemap_fdatawait
    if (!this.syncWaited) {
      this.syncWaited = true;
      if (whole) this.wait = W_FILE;
      else { this.wait = W_RANGE; this.wPage = from; this.wEnd = to; }
      return 0;
    }
    let again = false;
    if (whole) again = f.nrDirty > 0;
    else for (let p = from; p < to; p++) if (f.flags[p] & PG_DIRTY) { again = true; break; }
    if (again && this.syncPasses < 2) {
      this.syncPasses++;
      this.syncAt = from;
      this.syncWaited = false;
      return 0;
    }
    this.phase = F_DONE;
    return 0;
  }

  /**
   * truncate_inode_pages: cancels the dirty pages, waits for the pages under
   * writeback, then drops every page (and the readahead state). Returns ns.
   */
  private truncate(): number {
    const b = this.block, f = this.f, c = b.cache;
    if (f.nrDirty > 0) for (let p = 0; p < f.npages; p++) if (f.flags[p] & PG_DIRTY) c.cancelDirty(f, p);
    if (f.nrWriteback > 0) {
      this.wait = W_FILE;
      return 0;
    }
    let n = 0;
    for (let p = 0; p < f.npages; p++) if (f.flags[p] !== 0 && c.drop(f, p)) n++;
    f.raStart = -1; f.raSize = 0; f.raAsync = 0; f.raMark = -1; f.raPrev = -1; f.wbIndex = 0;
    this.phase = F_DONE;
    return n * b.cost.truncPage;
  }

  /** O_DIRECT: requests straight from the user buffer, then wait for them. */
  private direct(): number {
    const b = this.block;
    const dir = this.op === IO_READ ? REQ_READ : REQ_WRITE;
    const max = b.queue.device.maxRequestBytes;
    let off = this.file.deviceOffset + this.page * PAGE_SIZE;
    let left = (this.endPage - this.page) * PAGE_SIZE;
    let cost = 0;
    while (left > 0) {
      if (dir === REQ_WRITE && b.queue.free(REQ_WRITE) <= 0) {
        this.wait = W_SLOT;
        return cost;
      }
      const n = Math.min(left, max);
      const r = b.queue.alloc(dir, off, n, true);
      r.client = this;
      this.directLeft++;
      this.pending.push(r);
      cost += b.cost.request;
      off += n;
      left -= n;
      this.page += n / PAGE_SIZE;
    }
    this.phase = F_DONE;
    this.wait = W_DIRECT;
    return cost;
  }
}

/** The pdflush thread doing background_writeout for this kernel. */
class Flusher implements Program, Waitable {
  task: Task | null = null;
  working = false;
  private minPages = 0;
  private wait = W_NONE;
  private readonly pending: BlockRequest[] = [];
  /** Pages submitted in the current pass of MAX_WRITEBACK_PAGES. */
  private passWritten = -1;
  constructor(readonly block: KernelBlock) {}
  ready(): boolean {
    return this.wait === W_UNCONGESTED ? !this.block.queue.congested : true;
  }
  /** pdflush_operation(background_writeout, minPages). */
  start(minPages: number, now: number): void {
    if (this.working) return;
    this.working = true;
    this.minPages = minPages;
    this.block.defer(this.task!, now);
  }
  next(t: Task, now: number): void {
    const b = this.block, c = b.cache;
    for (;;) {
      if (this.pending.length > 0) b.commit(this.pending, t.cpu, now);
      if (this.wait !== W_NONE) {
        if (!this.ready()) { b.sleep(this); t.act = A_WAIT; return; }
        this.wait = W_NONE;
      }
      if (!this.working) { t.act = A_WAIT; return; }
      if (this.passWritten >= 0) {
        // a pass has been submitted: wrote less than expected?
        const wrote = this.passWritten;
        this.passWritten = -1;
        this.minPages -= wrote;
        if (wrote < b.maxWritebackPages) {
          if (b.queue.congested) { this.wait = W_UNCONGESTED; continue; }
          if (c.nrDirty === 0 || wrote === 0) { this.working = false; continue; }
        }
      }
      const [bg] = c.dirtyLimits(false);
      if (c.nrDirty < bg && this.minPages <= 0) { this.working = false; continue; }
      // writeback_inodes(&wbc): nonblocking, MAX_WRITEBACK_PAGES
      const r = b.writeback(null, 0, 0, b.maxWritebackPages, true, false, this.pending);
      this.passWritten = r.pages;
      if (r.cost > 0) {
        t.act = A_KERNEL_WORK;
        t.actArg = r.cost;
        t.actAux = b.actSubmit;
        return;
      }
    }
  }
}

/** Configuration of a kernel's block layer. */
export interface BlockConfig {
  /** The disk. */
  device: BlockDevice;
  /** Memory of the kernel, MB (the page cache and the dirty limits are fractions of it). */
  memoryMb: number;
  /** CPUs of the disk interrupt (irq_affinity.disk), default [0]; it is routed to the lowest. */
  irqCpus?: readonly number[];
  /** Statistics window start, ns. */
  from?: number;
  /** Creation time, ns. */
  now?: number;
}

/** Path costs of the block layer in ns on this kernel's board (data/block, scaled). */
interface BlockCosts {
  readPage: number;
  writePage: number;
  newPage: number;
  raPage: number;
  wbPage: number;
  request: number;
  truncPage: number;
}

/** The block layer of one kernel: page cache, files, queue, flusher, waiters. */
export class KernelBlock implements TimerTarget {
  readonly queue: BlockQueue;
  readonly cache: PageCache;
  readonly files: BlockFile[] = [];
  readonly data: BlockData;
  readonly cost: BlockCosts;
  /** A_KERNEL_WORK activities: the syscall path, request submission / writeback. */
  readonly actSyscall: number;
  readonly actSubmit: number;
  /** ratelimit_pages, write_chunk (sync_writeback_pages), MAX_WRITEBACK_PAGES, congestion_wait timeout. */
  readonly ratelimit: number;
  readonly writeChunk: number;
  readonly maxWritebackPages: number;
  readonly congestionWaitNs: number;
  /** Readahead window limit, pages. */
  readonly raMax: number;
  /** bdi->dirty_exceeded. */
  dirtyExceeded = false;
  /** Pages dirtied since the last balance check (the per-CPU ratelimits counter, kept per kernel). */
  private ratelimitCount = 0;
  /** Times a writer was over the dirty limit in balance_dirty_pages, and its congestion_wait sleeps there. */
  throttled = 0;
  throttleSleeps = 0;
  private readonly flusher: Flusher;
  private readonly waiters: Waitable[] = [];
  /** The file writeback starts with next (writeback_inodes walks the dirty inodes in turn). */
  private wbFile = 0;
  private allocated = 0;
  /** Tasks to wake at the current instant, and the timer that wakes them. */
  private readonly toWake: Task[] = [];
  private readonly wakeTimer: number;

  constructor(readonly kernel: LinuxKernel, readonly cfg: BlockConfig) {
    const d = this.data = linuxBlockData();
    const scale = (kernel.cfg.kernelWorkScale ?? 1) * 1000;
    this.cost = {
      readPage: d.read_page_us.value * scale, writePage: d.write_page_us.value * scale, newPage: d.new_page_us.value * scale,
      raPage: d.readahead_page_us.value * scale, wbPage: d.writeback_page_us.value * scale, request: d.request_us.value * scale,
      truncPage: d.truncate_page_us.value * scale,
    };
    const lat = kernel.lat;
    this.actSyscall = lat.activity("syscall").index;
    this.actSubmit = (lat.byName.get("block_submit") ?? lat.activity("syscall")).index;
    this.cache = new PageCache(cfg.memoryMb, d);
    // writeback_set_ratelimit(): vm_total_pages / (cpus * 32), in [16, 1024]
    const total = cfg.memoryMb * 256;
    this.ratelimit = Math.max(16, Math.min(d.ratelimit_pages_max.value, Math.floor(total / (kernel.cpus.length * 32))));
    this.writeChunk = this.ratelimit + Math.floor(this.ratelimit / 2);
    this.maxWritebackPages = d.max_writeback_pages.value;
    this.congestionWaitNs = d.congestion_wait_ms.value * 1e6;
    this.raMax = Math.max(1, Math.floor(d.readahead_max_kb.value / 4));
    this.wakeTimer = kernel.sim.timer(this, 0, 0);
    this.queue = new BlockQueue(kernel, cfg.device, cfg.irqCpus ?? [0], cfg.from ?? 0, d);
    const now = cfg.now ?? 0;
    this.queue.init(this, now);
    this.flusher = new Flusher(this);
    this.flusher.task = kernel.spawn("pdflush", this.flusher, 0, kernel.cpus.map((_, i) => i), 0, now, 0, { policy: SCHED_NORMAL }, MM_KERNEL);
  }

  /**
   * Creates (or opens) file `name` of `sizeBytes` on the device, placed
   * after the files before it; throws if the device is too small (the spec
   * checks sizes first). `flags`: O_DSYNC | O_DIRECT.
   */
  open(name: string, sizeBytes: number, flags = 0): BlockFile {
    const old = this.files.find((f) => f.name === name);
    if (old) return old;
    const size = Math.ceil(sizeBytes / PAGE_SIZE) * PAGE_SIZE;
    const dev = this.cfg.device;
    if (this.allocated + size > dev.capacityBytes) {
      throw new Error(`${this.kernel.cfg.name}: file ${name} (${size} bytes) does not fit on ${dev.name} (${dev.capacityBytes} bytes, ${this.allocated} used)`);
    }
    const f = new BlockFile(this.files.length, name, size, this.allocated, flags, this.cache.addFile(size / PAGE_SIZE));
    this.allocated += size;
    this.files.push(f);
    return f;
  }

  /** balance_dirty_pages_ratelimited: `n` pages were newly dirtied; true if the writer must balance now. */
  dirtied(n: number): boolean {
    this.ratelimitCount += n;
    const limit = this.dirtyExceeded ? this.data.ratelimit_pages_exceeded.value : this.ratelimit;
    if (this.ratelimitCount < limit) return false;
    this.ratelimitCount = 0;
    return true;
  }

  /** Starts background writeout (pdflush) unless it is running. */
  wakeFlusher(now: number): void {
    this.flusher.start(0, now);
  }

  /**
   * writeback_inodes / write_cache_pages: marks up to `max` dirty pages
   * under writeback, in file order from the cyclic writeback index (all
   * files, or file `only` in [from, to)), and builds their write requests
   * (contiguous runs, up to the device's request size) into `out`.
   * `nonblocking` stops when the queue is congested; otherwise it stops
   * when no request slot is left. Returns the pages, the kernel work (ns)
   * and, for one file, the page where it stopped (`to` when done).
   */
  writeback(only: FilePages | null, from: number, to: number, max: number, nonblocking: boolean, sync: boolean, out: BlockRequest[]): { pages: number; cost: number; next: number } {
    const q = this.queue, c = this.cache, d = this.cost;
    const maxPages = Math.max(1, Math.floor(q.device.maxRequestBytes / PAGE_SIZE));
    let pages = 0, cost = 0;
    const nf = this.files.length;
    for (let k = 0; k < (only ? 1 : nf) && pages < max; k++) {
      const file = only ? this.files[only.id] : this.files[(this.wbFile + k) % nf];
      const f = file.pages;
      if (f.nrDirty === 0) continue;
      const lo = only ? from : 0, hi = only ? to : f.npages;
      // range_cyclic (background and balance writeback): from the writeback index to the end, then from the start
      const start = only ? lo : Math.min(f.wbIndex, hi);
      for (let pass = 0; pass < 2 && pages < max; pass++) {
        let p = pass === 0 ? start : lo;
        const end = pass === 0 ? hi : start;
        while (p < end && pages < max) {
          if ((f.flags[p] & (PG_DIRTY | PG_WRITEBACK)) !== PG_DIRTY) { p++; continue; }
          if (nonblocking ? q.congested : q.free(REQ_WRITE) <= 0) {
            if (!only) f.wbIndex = p;
            return { pages, cost, next: p };
          }
          // a run of dirty pages: one request
          let n = 0;
          while (p + n < end && n < maxPages && pages + n < max && (f.flags[p + n] & (PG_DIRTY | PG_WRITEBACK)) === PG_DIRTY) {
            c.startWriteback(f, p + n);
            n++;
          }
          out.push(q.alloc(REQ_WRITE, file.deviceOffset + p * PAGE_SIZE, n * PAGE_SIZE, sync));
          cost += n * d.wbPage + d.request;
          pages += n;
          p += n;
          if (!only) f.wbIndex = p;
        }
        if (only) return { pages, cost, next: p };
      }
      if (!only && pages < max) this.wbFile = (file.id + 1) % nf;
    }
    return { pages, cost, next: to };
  }

  /** get_init_ra_size. */
  private initRaSize(req: number): number {
    let n = 1;
    while (n < req) n *= 2;
    const max = this.raMax;
    if (n <= max / 32) n *= 4;
    else if (n <= max / 4) n *= 2;
    else n = max;
    return Math.min(n, max);
  }

  /**
   * page_cache_sync_readahead (ondemand_readahead of 2.6.31) for a miss at
   * page p of a read of `req` pages: at the start of the file or right after
   * the previous read, an initial window; right after the current window, the
   * next (ramp-up) window; anywhere else a random read, read as is without
   * touching the readahead state. Returns ns.
   */
  syncReadahead(f: FilePages, p: number, req: number, out: BlockRequest[]): number {
    if (f.raSize > 0 && p === f.raStart + f.raSize) return this.asyncReadahead(f, out);
    if (p !== 0 && p !== f.raPrev) return this.raPages(f, p, Math.min(req, this.raMax), out);
    const size = this.initRaSize(req);
    f.raStart = p;
    f.raSize = size;
    f.raAsync = size > req ? size - req : size;
    f.raMark = p + size - f.raAsync;
    return this.raPages(f, p, size, out);
  }

  /** page_cache_async_readahead at the PG_readahead marker: the next window (get_next_ra_size). Returns ns. */
  asyncReadahead(f: FilePages, out: BlockRequest[]): number {
    const cur = f.raSize, max = this.raMax;
    const size = Math.min(max, cur < max / 16 ? 4 * cur : 2 * cur);
    f.raStart += f.raSize;
    f.raSize = size;
    f.raAsync = size;
    f.raMark = f.raStart;
    if (f.raStart >= f.npages) { f.raMark = -1; return 0; }
    return this.raPages(f, f.raStart, size, out);
  }

  /** __do_page_cache_readahead: allocates the missing pages of [p, p + n) and builds their read requests. Returns ns. */
  private raPages(f: FilePages, p: number, n: number, out: BlockRequest[]): number {
    const q = this.queue, c = this.cache, d = this.cost;
    const file = this.files[f.id];
    const end = Math.min(f.npages, p + n);
    const maxPages = Math.max(1, Math.floor(q.device.maxRequestBytes / PAGE_SIZE));
    let cost = 0;
    let i = p;
    while (i < end) {
      if (f.flags[i] & PG_CACHED) { i++; continue; }
      let k = 0;
      while (i + k < end && k < maxPages && !(f.flags[i + k] & PG_CACHED)) {
        c.insert(f, i + k);
        f.flags[i + k] |= PG_READING;
        k++;
      }
      out.push(q.alloc(REQ_READ, file.deviceOffset + i * PAGE_SIZE, k * PAGE_SIZE, true));
      cost += k * (d.raPage + d.newPage) + d.request;
      i += k;
    }
    return cost;
  }

  /** Queues requests built earlier (submit_bio), from `cpu`. */
  commit(list: BlockRequest[], cpu: number, now: number): void {
    for (let i = 0; i < list.length; i++) this.queue.enqueue(list[i], cpu, now);
    list.length = 0;
  }

  /**
   * Wakes task t at this instant, from a simulator event: the callers run
   * inside a CPU's dispatch (a task's action step, an interrupt handler),
   * where waking a task on the same CPU would re-enter the CPU's run loop.
   */
  defer(t: Task, now: number): void {
    if (!this.toWake.includes(t)) this.toWake.push(t);
    if (!this.kernel.sim.isArmed(this.wakeTimer)) this.kernel.sim.arm(this.wakeTimer, now);
  }

  /** The deferred wake-ups. */
  onTimer(_kind: number, _arg: number, now: number): void {
    const l = this.toWake;
    for (let i = 0; i < l.length; i++) this.kernel.wakeTask(l[i], now);
    l.length = 0;
  }

  /** A sub-program's task goes to sleep until its condition holds. */
  sleep(w: Waitable): void {
    if (!this.waiters.includes(w)) this.waiters.push(w);
  }

  /** After completions: wakes every waiter whose condition now holds. */
  wakeWaiters(now: number): void {
    const ws = this.waiters;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i];
      if (!w.ready()) continue;
      ws.splice(i--, 1);
      this.defer(w.task!, now);
    }
  }

  /** The pages of a completed page-cache request: reads up to date, writes out of writeback. */
  pagesDone(r: BlockRequest): void {
    let off = r.offset;
    const end = r.offset + r.bytes;
    while (off < end) {
      const file = this.fileAt(off);
      if (file === null) return;
      const f = file.pages;
      const p0 = (off - file.deviceOffset) / PAGE_SIZE;
      const stop = Math.min(end, file.deviceOffset + file.sizeBytes);
      const p1 = (stop - file.deviceOffset) / PAGE_SIZE;
      for (let p = p0; p < p1; p++) {
        if (r.dir === REQ_READ) this.cache.endRead(f, p);
        else this.cache.endWriteback(f, p);
      }
      off = stop;
    }
  }

  private fileAt(off: number): BlockFile | null {
    const fs = this.files;
    for (let i = 0; i < fs.length; i++) if (off >= fs[i].deviceOffset && off < fs[i].deviceOffset + fs[i].sizeBytes) return fs[i];
    return null;
  }
}

const blocks = new WeakMap<LinuxKernel, KernelBlock>();
const runBlocks = new WeakMap<Simulator, KernelBlock[]>();

/**
 * Gives kernel `k` its block layer (once; setup time). A hypervisor that
 * emulates a guest's disk calls this when it creates the guest, with its
 * device; otherwise the first user (a bonnie workload) attaches the
 * board's physical disk.
 */
export function attachBlock(k: LinuxKernel, cfg: BlockConfig): KernelBlock {
  if (blocks.has(k)) throw new Error(`${k.cfg.name}: block layer attached twice`);
  const b = new KernelBlock(k, cfg);
  blocks.set(k, b);
  let l = runBlocks.get(k.sim);
  if (!l) { l = []; runBlocks.set(k.sim, l); }
  l.push(b);
  return b;
}

/** The block layer of kernel `k`, if it has one. */
export function blockOf(k: LinuxKernel): KernelBlock | undefined {
  return blocks.get(k);
}

/** Every block layer of a run, in creation order. */
export function blocksOf(sim: Simulator): readonly KernelBlock[] {
  return runBlocks.get(sim) ?? [];
}
