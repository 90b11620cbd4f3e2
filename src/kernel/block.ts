/**
 * Block I/O of a Linux kernel model (Linux 2.6.29 / 2.6.31: block/blk-core.c,
 * block/elevator.c, mm/filemap.c, mm/readahead.c, mm/page-writeback.c,
 * fs/fs-writeback.c; drivers/ide of 2.6.29 for the guest's IDE disk).
 *
 * One kernel instance has at most one block layer (`KernelBlock`): a page
 * cache over the kernel's memory (pagecache.ts), the files of its
 * filesystem, one request queue (`BlockQueue`) in front of one
 * `BlockDevice`, the flusher thread (pdflush), and a kblockd thread per CPU
 * that runs the driver's request function. The device is either the
 * machine's physical disk (../hw/disk.ts: a native kernel or a KVM host) or
 * a disk that a hypervisor emulates for a guest (the QEMU IDE disk of
 * ../virt/qemu-kvm.ts implements `BlockDevice`).
 *
 * The life of a request:
 *  1. A task's read()/write()/fsync() (`FileIo`, driven by its Program) or
 *     the flusher thread builds `BlockRequest`s and `BlockQueue.enqueue`s
 *     them: the elevator merges a request with a queued one it extends
 *     (back/front merge, up to the device's `maxRequestBytes`) and sorts the
 *     rest by offset (one-way elevator over the queued requests).
 *  2. Dispatch: when the device has a free slot (`queueDepth`, 1 for IDE and
 *     for a disk without NCQ), the kblockd thread of the CPU that queued the
 *     work (a SCHED_OTHER kernel thread) takes the first request, calls
 *     `device.submit(r, cpu, now)` and then makes `device.submitAccesses`
 *     register accesses (an A_DEVICE_IO path of the `device_io` activity:
 *     each access is `host.deviceAccess(cpu, now)`, which under a
 *     hypervisor is a trapped PIO/MMIO exit that may suspend the vCPU).
 *  3. The device serves it and, when done, calls `BlockQueue.complete(r,
 *     now)` (the request's status is now "done") and raises the queue's
 *     interrupt line `irqLine` on kernel CPU `irqCpu` (the lowest CPU of
 *     `kernel.irq_affinity.disk`): the physical disk through
 *     `kernel.raiseDeviceIrq(irqCpu, irqLine, now)` (`BlockQueue.raise`),
 *     an emulated disk through its hypervisor's interrupt injection, which
 *     ends in `guestKernel.raiseIrq(irqCpu, irqLine, t)` at VM entry.
 *  4. The line's handler is the data/kernels `block_completion` activity
 *     (hard irq + BLOCK_SOFTIRQ on non-RT kernels, the irq thread at
 *     FIFO 50 on PREEMPT_RT: irq.ts). Its action calls
 *     `device.ack(cpu, now)` (the driver reads the status register), then
 *     ends every completed request: pages become up to date / clean, the
 *     waiting tasks are woken (`kernel.wakeTask`), and kblockd is woken to
 *     dispatch the next request.
 *
 * Not modelled: I/O schedulers other than a one-way elevator with merging
 * (CFQ's per-process queues and idling, anticipatory), plugging and the
 * 3 ms unplug timer (a request is dispatched as soon as the device is free),
 * filesystem metadata and the journal, request tags / NCQ reordering by the
 * drive, barriers.
 */
import type { LinuxKernel } from "./linux.js";
import type { Task } from "./task.js";

/** A request's direction. */
export const REQ_READ = 0;
export const REQ_WRITE = 1;

/** Size of a page and of a sector, bytes. */
export const PAGE_SIZE = 4096;
export const SECTOR_SIZE = 512;

/**
 * One block request (struct request): a contiguous range of the device.
 * Allocated by the block layer; the device must not keep it after
 * `complete`.
 */
export class BlockRequest {
  /** REQ_READ or REQ_WRITE. */
  dir = REQ_READ;
  /** Start on the device, bytes (a multiple of SECTOR_SIZE). */
  offset = 0;
  /** Length, bytes (at most the device's maxRequestBytes). */
  bytes = 0;
  /** Synchronous (a reader or an O_DSYNC/fsync writer waits for it): dispatched before async writes. */
  sync = false;
  /** Times: queued (first bio), dispatched to the device, completed by the device; ns, -1 until then. */
  queuedAt = -1;
  startedAt = -1;
  doneAt = -1;
  /** Who is told when the request ends (the page cache, or a FileIo without cache); null: nobody. */
  client: BlockClient | null = null;
  /** Opaque slot for the client (e.g. the file the range belongs to). */
  clientArg = 0;
  /** Intrusive link of the queue's lists. */
  next: BlockRequest | null = null;
  constructor(readonly id: number) {}
}

/** What is told that a request has ended (bio end_io). Called from the completion handler, on `cpu`. */
export interface BlockClient {
  requestDone(r: BlockRequest, cpu: number, now: number): void;
}

/**
 * A disk as a guest or native kernel's driver sees it: the physical disk
 * of the board (../hw/disk.ts) or a disk emulated by a hypervisor (QEMU's
 * IDE disk). The block layer calls `attach` once, then `submit` for each
 * request it dispatches (never more than `queueDepth` outstanding), and
 * `ack` from the interrupt handler; the device calls `queue.complete(r,
 * now)` for each finished request and raises the queue's interrupt (see
 * the header, step 3).
 */
export interface BlockDevice {
  /** Name in the `block_io` table (e.g. "sda", "hda"). */
  readonly name: string;
  /** Capacity, bytes: a file system of this kernel cannot hold more. */
  readonly capacityBytes: number;
  /** Largest request the driver issues (max_sectors_kb), bytes. */
  readonly maxRequestBytes: number;
  /** Requests the device accepts at once (1: IDE, or SATA without NCQ). */
  readonly queueDepth: number;
  /**
   * Register accesses the driver makes to start one request after
   * `submit` (IDE DMA: taskfile and bus-master registers), each a
   * `host.deviceAccess` of the submitting CPU. 0: none modelled.
   */
  readonly submitAccesses: number;
  /** Called once by the queue that drives the device. */
  attach(q: BlockQueue): void;
  /**
   * The driver hands request r to the device, from kernel CPU `cpu` (the
   * kblockd thread), just before making the `submitAccesses` register
   * accesses. The physical disk starts serving it (or queues it in the
   * drive) at once; an emulated disk starts it when its device model has
   * emulated the last of those accesses.
   */
  submit(r: BlockRequest, cpu: number, now: number): void;
  /**
   * The interrupt handler on kernel CPU `cpu` acknowledges the interrupt
   * (reads the status register). The physical disk does nothing (the cost
   * is in the handler's data); an emulated disk may treat it as one more
   * device access (under KVM a trapped PIO exit: it may suspend the CPU as
   * `deviceAccess` does; it must not call back into the queue).
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
  /** Requests dispatched to the device and not yet completed. */
  inFlight = 0;
  // statistics (requests completed after the warm-up)
  requests = 0;
  bytes = 0;
  readRequests = 0;
  writeRequests = 0;
  /** Sum and max of device service time (dispatch to completion) and of queue wait (queued to dispatch), ns. */
  sumServiceNs = 0;
  maxServiceNs = 0;
  sumWaitNs = 0;
  maxWaitNs = 0;
  /** Completion interrupts taken on each kernel CPU. */
  readonly irqsPerCpu: number[];

  constructor(readonly kernel: LinuxKernel, readonly device: BlockDevice, irqCpus: readonly number[], readonly from = 0) {
    this.irqCpu = Math.min(...irqCpus);
    this.irqsPerCpu = kernel.cpus.map(() => 0);
    this.irqLine = kernel.registerIrq("block_completion", (cpu, now) => this.interrupt(cpu, now));
    device.attach(this);
  }

  /** Queues request r (elevator merge / sort) and makes sure it will be dispatched. `cpu`: the CPU of the submitter. */
  enqueue(r: BlockRequest, cpu: number, now: number): void {
    void r; void cpu; void now;
    throw new Error("BlockQueue.enqueue: not implemented yet");
  }

  /** Device -> queue: request r has finished (its status reads done). The device raises the interrupt next. */
  complete(r: BlockRequest, now: number): void {
    void r; void now;
    throw new Error("BlockQueue.complete: not implemented yet");
  }

  /** The physical disk's interrupt: the line on `irqCpu` of this (native or host) kernel. */
  raise(now: number): void {
    this.kernel.raiseDeviceIrq(this.irqCpu, this.irqLine, now);
  }

  /** The handler's action on `cpu` (hard irq end on non-RT, irq thread on RT). */
  private interrupt(cpu: number, now: number): void {
    this.irqsPerCpu[cpu]++;
    this.device.ack(cpu, now);
  }
}

/** Open flags of a `BlockFile` for FileIo. */
export const O_DSYNC = 1; // every write waits for its pages to reach the disk (QEMU cache=writethrough)
export const O_DIRECT = 2; // bypass the page cache (QEMU cache=none; 2009 default was writethrough)

/** A regular file of a kernel's file system: a range of its device. */
export class BlockFile {
  constructor(readonly id: number, readonly name: string, readonly sizeBytes: number, readonly deviceOffset: number, readonly flags: number) {}
}

/** Operations of a FileIo. */
export const IO_READ = 0; // pread(fd, buf, bytes, offset)
export const IO_WRITE = 1; // pwrite(fd, buf, bytes, offset)
export const IO_FSYNC = 2; // fsync(fd): write back the file's dirty pages and wait

/**
 * One blocking file I/O system call of a task, as a sub-program its Program
 * runs: `begin(...)`, then in `Program.next(t, now)`:
 *
 *     if (this.io.step(t, now)) return; // t.act was set: the call goes on
 *     // the call has returned (this.io.result: bytes, or -1)
 *
 * `step` sets t.act / t.actArg / t.actAux to the next piece of the call
 * (A_KERNEL_WORK for the syscall path and page copies, A_WAIT while the
 * task sleeps on a page or request, woken by the completion) and returns
 * true, or returns false when the call is complete. A read goes through the
 * page cache (hit: copy; miss: readahead requests and a wait); a write
 * copies into the page cache, dirties the pages, is throttled by
 * balance_dirty_pages and, with O_DSYNC, writes its range back and waits.
 * QEMU's AIO threads use this for pread/pwrite on the raw image (opened
 * O_DSYNC with cache=writethrough, the 2009 default).
 */
export class FileIo {
  /** Bytes transferred by the last completed call. */
  result = 0;
  /** A call is in progress (begin called, step has not yet returned false). */
  active = false;
  constructor(readonly block: KernelBlock) {}
  /** Starts a call (does not touch the task): `op` IO_READ / IO_WRITE / IO_FSYNC. */
  begin(file: BlockFile, op: number, offset: number, bytes: number): void {
    void file; void op; void offset; void bytes;
    this.active = true;
  }
  /** Sets the task's next action of the call and returns true, or returns false when the call is done. */
  step(t: Task, now: number): boolean {
    void t; void now;
    throw new Error("FileIo.step: not implemented yet");
  }
}

/** Configuration of a kernel's block layer. */
export interface BlockConfig {
  /** The disk. */
  device: BlockDevice;
  /** Memory of the kernel, MB (the page cache and the dirty limits are fractions of it). */
  memoryMb: number;
  /** CPUs of the disk interrupt (irq_affinity.disk), default [0]. */
  irqCpus?: readonly number[];
  /** Statistics window start, ns. */
  from?: number;
}

/** The block layer of one kernel: page cache, files, queue, flusher. */
export class KernelBlock {
  readonly queue: BlockQueue;
  readonly files: BlockFile[] = [];
  /** Next free byte of the device for a new file. */
  private allocated = 0;
  constructor(readonly kernel: LinuxKernel, readonly cfg: BlockConfig) {
    this.queue = new BlockQueue(kernel, cfg.device, cfg.irqCpus ?? [0], cfg.from ?? 0);
  }
  /**
   * Creates (or opens) file `name` of `sizeBytes` on the device, placed
   * after the files before it; throws if the device is too small (callers
   * check sizes in the spec first). `flags`: O_DSYNC | O_DIRECT.
   */
  open(name: string, sizeBytes: number, flags = 0): BlockFile {
    const old = this.files.find((f) => f.name === name);
    if (old) return old;
    const size = Math.ceil(sizeBytes / PAGE_SIZE) * PAGE_SIZE;
    if (this.allocated + size > this.cfg.device.capacityBytes) {
      throw new Error(`${this.kernel.cfg.name}: file ${name} (${size} bytes) does not fit on ${this.cfg.device.name} (${this.cfg.device.capacityBytes} bytes, ${this.allocated} used)`);
    }
    const f = new BlockFile(this.files.length, name, size, this.allocated, flags);
    this.allocated += size;
    this.files.push(f);
    return f;
  }
}

const blocks = new WeakMap<LinuxKernel, KernelBlock>();

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
  return b;
}

/** The block layer of kernel `k`, if it has one. */
export function blockOf(k: LinuxKernel): KernelBlock | undefined {
  return blocks.get(k);
}
