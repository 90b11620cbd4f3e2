/**
 * QEMU as a process of threads for a KVM guest (qemu-kvm of 2009, about
 * qemu-kvm-0.11: qemu-kvm.c, libkvm's kvm_run, vl.c main_loop_wait,
 * posix-aio-compat.c, hw/ide.c), with the `-rt` switch of the 2009 real-time qemu-kvm patches. The guest's
 * vCPU threads are ./kvm.ts's; this file adds the rest of the process and
 * the emulated IDE disk behind the guest's block layer (../kernel/block.ts).
 *
 * Threads (tasks of the host kernel):
 *  - vCPU threads (kvm.ts). qemu-kvm's kvm_run releases the global mutex
 *    `qemu_mutex` in pre_kvm_run before ioctl(KVM_RUN) and takes it again in
 *    post_kvm_run on every return to user space. Exits KVM handles in the
 *    kernel (the in-kernel LAPIC/IOAPIC/PIT, halts) never return; a port
 *    I/O to a device QEMU emulates (KVM_EXIT_IO: here every register access
 *    of the guest's IDE disk, `host.deviceAccess`) does: the thread leaves
 *    guest mode, pays the return to user space (`kvm_exit_user`), takes the
 *    lock, emulates the access (`qemu_pio`, cpu_outb -> ide_ioport_write /
 *    bmdma_cmd_writeb), releases the lock and re-enters. The guest CPU is
 *    suspended for all of it (the outb/inb has not retired).
 *  - the main I/O thread (io_thread; vl.c main_loop_wait): sleeps in
 *    select() with the lock released; the AIO completion signal (SIGUSR2,
 *    read through a signalfd) wakes it (`qemu_select_wakeup`); it takes the
 *    lock, runs posix_aio_read -> the request's callback ide_dma_cb
 *    (`qemu_dma_cb`), which ends the DMA, sets the status and raises the
 *    guest IRQ through the in-kernel irqchip (ide_set_irq -> kvm_set_irq,
 *    the KVM_IRQ_LINE ioctl, `kvm_set_irq`; KVM then injects it into the
 *    vCPU: kvm_vcpu_kick), releases the lock and selects again.
 *  - the AIO pool (posix-aio-compat.c): qemu_paio_submit, under the
 *    caller's global lock, spawns a thread when none is idle and fewer than
 *    max_threads (64) exist (`thread_spawn`, charged to the submitter), queues
 *    the request and signals the pool's condition variable. A pool thread
 *    takes the first request, does the blocking pread/pwrite on the image
 *    file through the host kernel's page cache and disk (FileIo of
 *    ../kernel/block.ts; the image is opened O_DSYNC: cache=writethrough,
 *    the 2009 default), marks it done and sends SIGUSR2 to the process
 *    (`signal_send`). An idle thread waits at most 10 s
 *    (pthread_cond_timedwait) and then exits.
 *
 * The global lock is a futex-based pthread mutex (`QemuMutex`): taking a free
 * lock is an atomic in user space; a contended lock costs the futex_wait
 * system call and a sleep; unlocking with waiters costs futex_wake, which
 * wakes the top waiter (futex hash-bucket plist: by priority, FIFO among
 * equals), and the woken thread retries (another thread may take the lock
 * first). With `pi_mutexes` (PTHREAD_PRIO_INHERIT, FUTEX_LOCK_PI over an
 * rt_mutex) the owner inherits the priority of its top waiter while it holds
 * the lock (rt_mutex_setprio, ../kernel/setsched.ts) and ownership passes
 * directly to the top waiter on unlock.
 *
 * `-rt maxprio=P[,policy=][,aioprio=][,aiopolicy=]` (RTLWS 2009, §3.1): the main
 * and AIO threads at P, the vCPU threads at P-1, the AIO threads at
 * aioprio/aiopolicy when given ("ts" = SCHED_OTHER). mlockall has nothing
 * to act on here (the model has no paging).
 *
 * The emulated IDE disk (hw/ide.c, PIIX bus-master DMA) is the guest's
 * BlockDevice: the guest driver starts a request with IDE_SUBMIT_ACCESSES
 * register accesses (each a VM exit to QEMU as above); the last one, the
 * bus-master start, runs ide_dma_cb, which submits the AIO request
 * (`qemu_dma_cb` + paio_submit). A raw image is one host pread/pwrite per
 * request. A qcow2 image (block-qcow2.c) also writes metadata synchronously
 * (bdrv_pwrite) while the global lock is held, for every cluster a write
 * allocates: the refcount update at submission (by the submitting vCPU
 * thread) and the L2-table update at completion (by the main thread).
 *
 * The emulated serial port (`qemu.serial`, hw/serial.c): with it, the
 * guest's device-io accesses are transmit-register writes of one character;
 * serial_ioport_write -> qemu_chr_write writes it to the backend in the vCPU
 * thread under the global lock (a write(2): `syscall` + `pipe_write`). A
 * /dev/null backend returns at once; a pty holds PTY_BUFFER_CHARS and is
 * read at `drain_chars_per_s`: when full, the write blocks (the vCPU thread
 * sleeps holding the lock) until the reader has made room.
 *
 * Read for this model: qemu-kvm's qemu-kvm.c and libkvm kvm_run (the
 * 2009-10 tree as stored for TritonDataCenter/illumos-kvm-cmd and
 * ceph/qemu-kvm: kvm_main_loop_cpu, pre_kvm_run / post_kvm_run around
 * ioctl(KVM_RUN), handle_io, setup_kernel_sigmask blocking SIGUSR2 in vCPU
 * threads) and posix-aio-compat.c (ceph/qemu-kvm: max_threads 64, the 10 s
 * idle wait, spawn when idle_threads == 0, kill(pid, SIGUSR2) read through a
 * signalfd by the io thread); hw/ide.c of that period (bmdma_cmd_writeb's
 * start -> dma_cb; ide_dma_start; ide_read_dma_cb: dma_buf_commit, sector
 * update, end of transfer -> READY status and ide_set_irq, else the next
 * transfer); vl.c main_loop_wait of 2009-10 trees (qemu_mutex_unlock_iothread
 * around select(), then the fd handlers, slirp, timers and bottom halves
 * with the lock held).
 *
 * Not modelled: the main loop's timers and other file descriptors (the
 * alarm timer, the monitor, the network backend), bottom halves, the
 * coalesced-MMIO ring, qcow2 L2-cache misses on reads and its cluster
 * cache, multiple IDE channels and requests larger than one PRD table,
 * pthread_create's memory effects, the pool's own mutex (uncontended).
 */
import type { Simulator, TimerTarget } from "../engine/sim.js";
import { boardCost, C, type Board } from "../hw/board.js";
import {
  attachBlock, blockOf, type BlockDevice, type BlockFile, type BlockQueue, BlockRequest, FileIo, IO_READ, IO_WRITE,
  O_DSYNC, REQ_WRITE,
} from "../kernel/block.js";
import type { LinuxKernel } from "../kernel/linux.js";
import { A_COMPUTE, A_GUEST, A_SLEEP_UNTIL, A_WAIT, type Program, SCHED_FIFO, SCHED_NORMAL, SCHED_RR, type Task, TASK_SLEEPING } from "../kernel/task.js";
import type { SchedAttr } from "../sched/linux/class.js";
import type { TableSet } from "../results/tables.js";
import type { GuestSpec, KvmSpec, QemuSpec } from "../spec/types.js";
import { BLOCK_DEFAULTS } from "../spec/defaults.js";
import { diskPresetForBoard, PhysicalDisk } from "../hw/disk.js";
import { boardMemoryMb } from "../kernel/pagecache.js";
import { unitDiskIrqCpus } from "../kernel/blocksetup.js";
import type { KvmVcpu } from "./kvm.js";

/** posix-aio-compat.c: `static int max_threads = 64`. */
export const AIO_MAX_THREADS = 64;
/** posix-aio-compat.c aio_thread: an idle thread waits `tv.tv_sec + 10` (10 s) for work, then exits. */
export const AIO_IDLE_TIMEOUT_NS = 10_000_000_000;
/**
 * Register accesses of the Linux 2.6.29 IDE driver to start one DMA request
 * (drivers/ide ide_dma_setup, do_rw_taskfile, ide_dma_start on a PIIX):
 * the PRD table address, the bus-master direction, the bus-master status
 * read and clear (4); the taskfile of an LBA28 command (feature, sector
 * count, LBA low/mid/high, device) and the device-control write (7); the
 * command register (1); the bus-master command read and its start write
 * (2). 14 in all; the last one starts the DMA.
 */
export const IDE_SUBMIT_ACCESSES = 14;
/**
 * Register accesses of the completion interrupt (ide_dma_end: bus-master
 * command read and stop write, status read and clear; the ATA status read
 * of the handler, which lowers QEMU's IRQ line): 5.
 */
export const IDE_ACK_ACCESSES = 5;
/** Largest IDE DMA request of the 2.6.29 driver: 256 sectors (max_sectors of an LBA28 drive), bytes. */
export const IDE_MAX_REQUEST_BYTES = 256 * 512;
/** Size of the guest's disk image, bytes (hvsim's assumption: 8 GiB; the paper does not give it). */
export const IDE_IMAGE_BYTES = 8 * 1024 * 1024 * 1024;
/** qcow2 cluster size (block-qcow2.c default cluster_bits 16: 64 KiB). */
export const QCOW2_CLUSTER_BYTES = 65536;
/** One qcow2 metadata write (an L2-table entry or a refcount block sector through bdrv_pwrite), bytes. */
export const QCOW2_META_BYTES = 512;
/** Capacity of a pty's buffer, characters (N_TTY_BUF_SIZE, 4096): a write to a full pty blocks. */
export const PTY_BUFFER_CHARS = 4096;


// timer kinds (QemuProcess.onTimer)
const T_EXIT = 0; // a vCPU leaves guest mode for a KVM_EXIT_IO (arg: vCPU index)
const T_WAKE = 1; // wake a QEMU thread (arg: thread id)
const T_PRIO = 2; // apply a thread's inherited priority (arg: thread id)
const T_SPAWN = 3; // pthread_create of an AIO thread
const T_INJECT = 4; // kvm_set_irq: the guest IRQ of finished requests
const T_IDLE = 5; // an AIO thread's idle timeout (arg: thread id)

// thread kinds
const K_VCPU = 0;
const K_MAIN = 1;
const K_AIO = 2;

/** Stages of a disk request in the `qemu_io` table. */
const STAGES = ["submit_exits", "aio_queue", "host_io", "completion", "total"] as const;
const ST_SUBMIT = 0; // submit() to the AIO request queued (the driver's register exits)
const ST_QUEUE = 1; // queued to a pool thread starting it
const ST_HOST = 2; // the pool thread's blocking pread/pwrite
const ST_DONE = 3; // host I/O done to the guest IRQ raised (signal, main loop, lock, ide_dma_cb, kvm_set_irq)
const ST_TOTAL = 4; // submit() to the guest IRQ raised

/** A QEMU thread: its task, its scheduling, its lock and wait statistics. */
class QThread {
  task!: Task;
  /** Simulator timers: wake-up, inherited priority. */
  wakeT = -1;
  prioT = -1;
  idleT = -1;
  // global lock
  /** 0 not waiting; 1 asleep in futex_wait; 2 woken, paying the syscall's return. */
  lockState = 0;
  /** In the lock's wait queue. */
  inQueue = false;
  lockWaitSince = -1;
  lockWaits = 0;
  lockAcquisitions = 0;
  lockWaitSumNs = 0;
  lockWaitMaxNs = 0;
  heldSince = -1;
  lockHoldMaxNs = 0;
  /** Internal prio inherited through the PI lock (-1: none), and the one last applied. */
  donor = -1;
  appliedDonor = -1;
  // runnable wait (from QEMU's own wake-ups and preemptions to the next switch-in)
  waitSince = -1;
  maxWaitNs = 0;
  // AIO thread
  idle = false;
  exited = false;
  req: AioReq | null = null;
  io: FileIo | null = null;
  mode = 0;
  spawnedAt = 0;
  constructor(readonly id: number, readonly kind: number, readonly name: string, readonly policy: string, readonly priority: number) {}
}

/** One AIO request (struct qemu_paiocb) for one IDE DMA transfer. */
class AioReq {
  r: BlockRequest | null = null;
  submitAt = 0;
  queuedAt = 0;
  startAt = 0;
  hostDoneAt = 0;
  /** qcow2 clusters the write allocates (each a metadata write at submission and at completion). */
  newClusters = 0;
  next: AioReq | null = null;
}

/** The -rt policies of the spec as kernel attributes. */
function rtPolicyAttr(p: "ff" | "rr" | "ts", prio: number): { attr: SchedAttr; name: string; prio: number } {
  if (p === "ts" || prio <= 0) return { attr: { policy: SCHED_NORMAL }, name: "other", prio: 0 };
  return { attr: { policy: p === "ff" ? SCHED_FIFO : SCHED_RR, priority: prio }, name: p === "ff" ? "fifo" : "rr", prio };
}

/**
 * The vCPU threads' policy under `-rt` (maxprio - 1 with the -rt policy),
 * or null without -rt (the guest's vcpu_thread applies).
 */
export function qemuVcpuSched(q: QemuSpec | undefined): { attr: SchedAttr; name: string; prio: number } | null {
  const rt = q?.rt;
  if (rt === undefined) return null;
  return rtPolicyAttr(rt.policy ?? "ff", rt.maxprio - 1);
}

/**
 * QEMU for one KVM guest: main thread, AIO pool, global lock, and (with
 * `qemu.disk`) the emulated IDE disk, which is the guest kernel's
 * BlockDevice.
 */
export class QemuProcess implements TimerTarget, BlockDevice {
  // BlockDevice
  readonly name = "hda";
  readonly capacityBytes = IDE_IMAGE_BYTES;
  readonly maxRequestBytes = IDE_MAX_REQUEST_BYTES;
  readonly queueDepth = 1;
  readonly submitAccesses = IDE_SUBMIT_ACCESSES;
  private queue: BlockQueue | null = null;

  readonly threads: QThread[] = [];
  private readonly main: QThread;
  /** The lock-taking thread of each vCPU (by guest vCPU index). */
  private readonly vthreads: QThread[] = [];
  private readonly allowed: number[];
  private readonly aioSched: { attr: SchedAttr; name: string; prio: number };
  private readonly pi: boolean;
  private readonly qcow2: boolean;
  // costs, ns
  private readonly cExitUser: number;
  private readonly cEntryExit: number;
  private readonly cPio: number;
  private readonly cSelect: number;
  private readonly cSignal: number;
  private readonly cSpawn: number;
  private readonly cDmaCb: number;
  private readonly cSetIrq: number;
  private readonly cFutexWait: number;
  private readonly cFutexWake: number;

  // the global lock
  private owner: QThread | null = null;
  private readonly waiters: QThread[] = [];

  // per vCPU: register accesses waiting to be emulated, and the user-space episode's state
  private readonly pendingPio: number[] = [];
  private readonly pendingAck: number[] = [];
  private readonly exitT: number[] = [];
  private readonly uState: number[] = [];
  private readonly uDma: boolean[] = [];
  /** The bus-master start is among the vCPU's pending accesses; the request its DMA start submits. */
  private readonly uDmaPending: boolean[] = [];
  private readonly uReq: (AioReq | null)[] = [];
  /** Serial-port character writes among the vCPU's pending accesses; a blocked backend write's wait, ns. */
  private readonly pendingSerial: number[] = [];
  private readonly uSerialWait: number[] = [];
  // the serial backend: pty or /dev/null, its fill level at time serialAt
  private readonly serialPty: boolean;
  private readonly serialOn: boolean;
  private readonly drainNs: number;
  private serialLevel = 0;
  private serialAt = 0;
  private serialChars = 0;
  private serialBlockedNs = 0;
  private readonly cSerialWrite: number;
  /** QEMU thread of each host task id (runnable-wait statistics). */
  private readonly byTask: (QThread | undefined)[] = [];

  // the IDE controller: the request being programmed or served (queue depth 1)
  private cur: AioReq | null = null;
  private curCpu = -1;
  private accessesLeft = 0;
  /** qcow2: clusters already allocated in the image. */
  private readonly allocated = new Set<number>();

  // the AIO pool
  private readonly reqHead: { first: AioReq | null; last: AioReq | null } = { first: null, last: null };
  private curThreads = 0;
  private idleThreads = 0;
  private spawnPending = 0;
  private readonly spawnT: number;
  private readonly doneList: AioReq[] = [];
  private readonly injectList: AioReq[] = [];
  private readonly injectT: number;
  private image: BlockFile | null = null;
  private readonly free: AioReq[] = [];

  // main thread state
  private mainMode = 0;
  private mainReq: AioReq | null = null;
  private mainIo: FileIo | null = null;
  private metaLeft = 0;

  // statistics (requests submitted after the warm-up)
  private readonly stN = new Float64Array(STAGES.length);
  private readonly stSum = new Float64Array(STAGES.length);
  private readonly stMax = new Float64Array(STAGES.length);
  private spawned = 0;
  private metaWrites = 0;

  constructor(
    readonly sim: Simulator,
    readonly board: Board,
    readonly host: LinuxKernel,
    readonly g: GuestSpec,
    readonly gk: LinuxKernel,
    readonly vcpus: KvmVcpu[],
    hostSpec: KvmSpec,
    now: number,
    readonly from = 0,
  ) {
    const q = g.qemu!;
    const all = Array.from({ length: host.cpus.length }, (_, i) => i);
    this.allowed = q.cpus && q.cpus.length > 0 ? q.cpus.slice() : all;
    this.pi = q.pi_mutexes ?? false;
    this.qcow2 = q.disk?.format === "qcow2";
    const rt = q.rt;
    const mainSched = rt ? rtPolicyAttr(rt.policy ?? "ff", rt.maxprio) : rtPolicyAttr("ts", 0);
    this.aioSched = rt
      ? rtPolicyAttr(rt.aiopolicy ?? rt.policy ?? "ff", rt.aioprio ?? rt.maxprio)
      : rtPolicyAttr("ts", 0);
    this.cExitUser = boardCost(board, C.kvm_exit_user);
    this.cEntryExit = board.vmEntryExitNs ?? boardCost(board, C.vm_entry_exit);
    this.cPio = boardCost(board, C.qemu_pio);
    this.cSelect = boardCost(board, C.qemu_select_wakeup);
    this.cSignal = boardCost(board, C.signal_send) + boardCost(board, C.wake_up);
    this.cSpawn = boardCost(board, C.thread_spawn);
    this.cDmaCb = boardCost(board, C.qemu_dma_cb);
    this.cSetIrq = boardCost(board, C.kvm_set_irq);
    // futex_wait: the system call, then the sleep path; futex_wake: the system call and the wake-up
    this.cFutexWait = boardCost(board, C.syscall) + boardCost(board, C.sleep);
    this.cFutexWake = boardCost(board, C.syscall) + boardCost(board, C.wake_up);
    this.serialOn = q.serial !== undefined;
    this.serialPty = q.serial?.backend === "pty";
    this.drainNs = 1e9 / (q.serial?.drain_chars_per_s ?? 960);
    this.cSerialWrite = boardCost(board, C.syscall) + boardCost(board, C.pipe_write);
    this.spawnT = sim.timer(this, T_SPAWN, 0);
    this.injectT = sim.timer(this, T_INJECT, 0);

    // the vCPU threads as lock takers
    for (let i = 0; i < vcpus.length; i++) {
      const v = vcpus[i];
      const th = this.addThread(K_VCPU, `vcpu${i}`, v.policy, v.priority);
      th.task = v.thread;
      this.vthreads.push(th);
      this.pendingPio.push(0);
      this.pendingAck.push(0);
      this.uState.push(0);
      this.uDma.push(false);
      this.uDmaPending.push(false);
      this.uReq.push(null);
      this.pendingSerial.push(0);
      this.uSerialWait.push(0);
      this.byTask[v.thread.id] = th;
      this.exitT.push(sim.timer(this, T_EXIT, i));
      v.qemu = this;
    }
    // the main I/O thread, created at start-up
    this.main = this.addThread(K_MAIN, "main", mainSched.name, mainSched.prio);
    this.main.task = host.spawn(`${g.name}/qemu-main`, { next: (t, n) => this.mainNext(t, n) } as Program, this.allowed[0], this.allowed.slice(), 0, now, 0, mainSched.attr, vcpus[0].thread.mm);
    this.main.spawnedAt = now;
    this.byTask[this.main.task.id] = this.main;
    host.observe({ onSwitch: (prev, next, _reason, t) => this.onSwitch(prev, next, t) });

    if (q.disk !== undefined) {
      // the guest's block layer in front of this IDE disk
      attachBlock(gk, { device: this, memoryMb: g.memory_mb ?? BLOCK_DEFAULTS.guest_memory_mb, irqCpus: unitDiskIrqCpus(g), from, now });
      // the host's, in front of the board's disk that holds the image (blocksetup.ts machineBlock, for the KVM host unit)
      if (blockOf(host) === undefined) {
        const hostIrq = hostSpec.host_kernel?.irq_affinity?.disk;
        const disk = new PhysicalDisk(sim, diskPresetForBoard(board.id), sim.random.get(`${host.cfg.name}/disk`));
        attachBlock(host, { device: disk, memoryMb: boardMemoryMb(board.id), irqCpus: hostIrq ?? BLOCK_DEFAULTS.irq_affinity_disk, from, now });
      }
    }
  }

  private addThread(kind: number, name: string, policy: string, priority: number): QThread {
    const th = new QThread(this.threads.length, kind, name, policy, priority);
    th.wakeT = this.sim.timer(this, T_WAKE, th.id);
    th.prioT = this.sim.timer(this, T_PRIO, th.id);
    if (kind === K_AIO) th.idleT = this.sim.timer(this, T_IDLE, th.id);
    this.threads.push(th);
    return th;
  }

  // ------------------------------------------------------------ BlockDevice

  attach(q: BlockQueue): void {
    this.queue = q;
  }

  /** The guest driver starts request r from vCPU `cpu`: its register accesses follow (IDE_SUBMIT_ACCESSES). */
  submit(r: BlockRequest, cpu: number, now: number): void {
    const a = this.free.pop() ?? new AioReq();
    a.r = r;
    a.submitAt = now;
    a.newClusters = 0;
    a.next = null;
    this.cur = a;
    this.curCpu = cpu;
    this.accessesLeft = IDE_SUBMIT_ACCESSES;
  }

  /** The guest's interrupt handler acknowledges the interrupt: IDE_ACK_ACCESSES register accesses. */
  ack(cpu: number, now: number): void {
    this.pendingAck[cpu]++;
    for (let i = 0; i < IDE_ACK_ACCESSES; i++) this.pio(cpu, now, true);
  }

  // ---------------------------------------------------------- vCPU exits

  /**
   * One register access of guest vCPU `cpu` to a device QEMU emulates
   * (KvmGuestHost.deviceAccess): a KVM_EXIT_IO. The vCPU thread leaves guest
   * mode at once; the access completes when QEMU has emulated it and the
   * thread re-entered. Returns the guest-visible rest of the access (1 ns:
   * the guest CPU is suspended at once, before it elapses).
   */
  pio(cpu: number, now: number, ide = false): number {
    this.pendingPio[cpu]++;
    if (this.cur !== null && this.curCpu === cpu && this.accessesLeft > 0) {
      // the driver's programming of the current request; the last access is the bus-master start
      if (--this.accessesLeft === 0) this.uDmaPending[cpu] = true;
    } else if (!ide && this.serialOn) this.pendingSerial[cpu]++; // a character for the UART
    const sim = this.sim;
    if (!sim.isArmed(this.exitT[cpu])) sim.arm(this.exitT[cpu], now);
    return 1;
  }

  /** kvm.ts: the vCPU thread's guest segment ended; is there a KVM_EXIT_IO to handle in user space? */
  exitPending(v: KvmVcpu): boolean {
    return this.pendingPio[v.idx] > 0 || this.uState[v.idx] !== 0;
  }

  /**
   * kvm.ts: the next action of vCPU thread t in its user-space episode
   * (kvm_run's return, post_kvm_run's lock, the emulation, pre_kvm_run's
   * unlock), one register access after the other. Returns false when none
   * is left (the thread re-enters the guest).
   */
  exitStep(v: KvmVcpu, t: Task, now: number): boolean {
    const i = v.idx;
    const th = this.vthreads[i];
    for (;;) {
      switch (this.uState[i]) {
        case 0: // ioctl(KVM_RUN) returns with KVM_EXIT_IO
          if (this.pendingPio[i] === 0) return false;
          this.uState[i] = 1;
          this.uDma[i] = false;
          t.act = A_COMPUTE;
          t.actArg = Math.max(1, this.cExitUser);
          return true;
        case 1: // post_kvm_run: pthread_mutex_lock(&qemu_mutex)
          if (!this.lockStep(th, t, now)) return true;
          this.uState[i] = 2;
          {
            // the access's emulation: cpu_outb/cpu_inb -> the IDE register handler
            let w = this.cPio;
            if (this.uDmaPending[i] && this.pendingPio[i] === 1) {
              // bmdma_cmd_writeb (start) -> ide_dma_start -> ide_dma_cb -> bdrv_aio_readv/writev -> paio_submit
              this.uDmaPending[i] = false;
              this.uDma[i] = true;
              w += this.cDmaCb + this.submitCost();
            }
            if (this.pendingAck[i] > 0 && this.pendingPio[i] <= 1) {
              // the ATA status read lowers the IRQ line: kvm_set_irq(level 0)
              this.pendingAck[i]--;
              w += this.cSetIrq;
            } else if (this.pendingSerial[i] > 0 && !this.uDma[i]) {
              // serial_ioport_write -> qemu_chr_write: write(2) of the character to the backend
              this.pendingSerial[i]--;
              w += this.cSerialWrite;
              this.uSerialWait[i] = this.serialWrite(now + w);
            }
            t.act = A_COMPUTE;
            t.actArg = Math.max(1, w);
          }
          return true;
        case 2: {
          // a pty without room: the write blocks, the lock stays held
          if (this.uSerialWait[i] > 0) {
            t.act = A_SLEEP_UNTIL;
            t.actArg = now + this.uSerialWait[i];
            this.uSerialWait[i] = 0;
            return true;
          }
          // the emulation is done: the DMA start submits the AIO request (qcow2: refcount update first)
          if (this.uDma[i]) {
            this.uDma[i] = false;
            const a = this.cur!;
            this.cur = null;
            this.uReq[i] = a;
            if (this.qcow2 && a.r!.dir === REQ_WRITE) a.newClusters = this.allocateClusters(a.r!);
            if (a.newClusters > 0) {
              this.uState[i] = 3;
              this.metaIo(th, a.newClusters);
              continue;
            }
            this.aioSubmit(a, now);
            this.uReq[i] = null;
          }
          this.uState[i] = 4;
          continue;
        }
        case 3: // qcow2: the refcount update, a synchronous bdrv_pwrite under the lock
          if (th.io!.step(t, now)) return true;
          if (--th.mode > 0) { this.metaBegin(th.io!); continue; }
          this.aioSubmit(this.uReq[i]!, now);
          this.uReq[i] = null;
          this.uState[i] = 4;
          continue;
        case 4: {
          // pre_kvm_run: pthread_mutex_unlock(&qemu_mutex), then ioctl(KVM_RUN)
          const w = this.unlock(th, now);
          this.pendingPio[i]--;
          this.uState[i] = 5;
          if (w > 0) { t.act = A_COMPUTE; t.actArg = w; return true; }
          continue;
        }
        case 5:
          this.uState[i] = 0;
          if (this.pendingPio[i] === 0) return false;
          // another access is already pending (the guest re-entered and exited again): its round trip
          this.uState[i] = 1;
          t.act = A_COMPUTE;
          t.actArg = Math.max(1, this.cExitUser + this.cEntryExit);
          return true;
      }
    }
  }

  /**
   * One character written to the serial backend at time `at`: returns how
   * long the write blocks (a full pty: until the reader has taken one).
   */
  private serialWrite(at: number): number {
    this.serialChars++;
    if (!this.serialPty) return 0;
    const drained = (at - this.serialAt) / this.drainNs;
    const level = this.serialLevel > drained ? this.serialLevel - drained : 0;
    const wait = level + 1 > PTY_BUFFER_CHARS ? Math.ceil((level + 1 - PTY_BUFFER_CHARS) * this.drainNs) : 0;
    // at `at + wait` the reader has made room and the character is in
    this.serialLevel = level - wait / this.drainNs + 1;
    this.serialAt = at + wait;
    if (at >= this.from) this.serialBlockedNs += wait;
    return wait;
  }

  /** Serial characters written, and the time writes were blocked on a full pty (ns). */
  get serialStats(): { chars: number; blockedNs: number } {
    return { chars: this.serialChars, blockedNs: this.serialBlockedNs };
  }

  /** qcow2: clusters of write r not yet allocated in the image (allocated now). */
  private allocateClusters(r: BlockRequest): number {
    let n = 0;
    const first = Math.floor(r.offset / QCOW2_CLUSTER_BYTES);
    const last = Math.floor((r.offset + r.bytes - 1) / QCOW2_CLUSTER_BYTES);
    for (let c = first; c <= last; c++) if (!this.allocated.has(c)) { this.allocated.add(c); n++; }
    return n;
  }

  /** Starts `n` synchronous metadata writes by thread th (th.mode counts them). */
  private metaIo(th: QThread, n: number): void {
    if (th.io === null) th.io = new FileIo(this.hostBlock());
    th.mode = n;
    this.metaBegin(th.io);
  }

  private metaBegin(io: FileIo): void {
    this.metaWrites++;
    io.begin(this.imageFile(), IO_WRITE, 0, QCOW2_META_BYTES);
  }

  // ------------------------------------------------------------ the lock

  /**
   * pthread_mutex_lock by thread th (its task t): true when th holds the
   * lock; otherwise t.act is set (futex_wait, or the syscall's return after
   * a wake-up) and the caller comes back here at its next step.
   */
  private lockStep(th: QThread, t: Task, now: number): boolean {
    if (th.lockState === 1) {
      t.actArg = 0;
      // a wake-up meant for something else (the main thread's select): still queued, sleep again
      if (th.inQueue) { t.act = A_WAIT; return false; }
      // woken by the unlocker: futex_wait returns
      th.lockState = 2;
      t.act = A_COMPUTE;
      t.actArg = Math.max(1, this.cFutexWait);
      return false;
    }
    if (th.lockState === 2) {
      th.lockState = 0;
      if (this.owner === th) { this.acquired(th, now); return true; } // PI hand-off
    }
    if (this.owner === null) {
      this.owner = th;
      this.acquired(th, now);
      return true;
    }
    // contended: queue by priority (FIFO among equals) and sleep in futex_wait
    if (th.lockWaitSince < 0) { th.lockWaitSince = now; th.lockWaits++; }
    const w = this.waiters;
    let k = w.length;
    while (k > 0 && w[k - 1].task.prio > t.prio) k--;
    w.splice(k, 0, th);
    th.inQueue = true;
    if (this.pi) this.boost(this.owner, now);
    th.lockState = 1;
    t.act = A_WAIT;
    t.actArg = 0;
    return false;
  }

  private acquired(th: QThread, now: number): void {
    th.lockAcquisitions++;
    th.heldSince = now;
    if (th.lockWaitSince >= 0) {
      const d = now - th.lockWaitSince;
      th.lockWaitSince = -1;
      if (now >= this.from) {
        th.lockWaitSumNs += d;
        if (d > th.lockWaitMaxNs) th.lockWaitMaxNs = d;
      }
    }
    if (this.pi && this.waiters.length > 0) this.boost(th, now);
  }

  /** rt_mutex: the owner inherits its top waiter's prio when that is higher. */
  private boost(owner: QThread, now: number): void {
    const top = this.waiters[0];
    if (top === undefined) return;
    // the waiters only grow while the lock is held: the donor only rises until the unlock
    const d = top.task.prio;
    if (d >= this.host.normalPrio(owner.task) || (owner.donor >= 0 && owner.donor <= d)) return;
    owner.donor = d;
    if (!this.sim.isArmed(owner.prioT)) this.sim.arm(owner.prioT, now);
  }

  /** pthread_mutex_unlock by th: returns the cost (futex_wake when there are waiters). */
  private unlock(th: QThread, now: number): number {
    if (this.owner !== th) throw new Error(`qemu: ${th.name} unlocks a lock it does not hold`);
    if (th.heldSince >= 0 && now >= this.from) {
      const h = now - th.heldSince;
      if (h > th.lockHoldMaxNs) th.lockHoldMaxNs = h;
    }
    th.heldSince = -1;
    if (th.donor >= 0) {
      th.donor = -1;
      if (!this.sim.isArmed(th.prioT)) this.sim.arm(th.prioT, now);
    }
    const w = this.waiters.shift();
    if (w === undefined) { this.owner = null; return 0; }
    w.inQueue = false;
    // futex_wake / rt_mutex_unlock: the top waiter is woken; with PI it owns the lock already
    this.owner = this.pi ? w : null;
    this.wake(w, now);
    return this.cFutexWake;
  }

  // ------------------------------------------------------------ AIO pool

  /** Cost of qemu_paio_submit for the submitter: pthread_create when no thread is idle, the cond signal. */
  private submitCost(): number {
    const spawn = this.idleThreads === 0 && this.curThreads < AIO_MAX_THREADS ? this.cSpawn : 0;
    return spawn + this.cFutexWake;
  }

  /** qemu_paio_submit: spawn a thread if none is idle, queue the request, signal one idle thread. */
  private aioSubmit(a: AioReq, now: number): void {
    a.queuedAt = now;
    if (this.idleThreads === 0 && this.curThreads < AIO_MAX_THREADS) {
      this.curThreads++;
      this.idleThreads++;
      this.spawnPending++;
      if (!this.sim.isArmed(this.spawnT)) this.sim.arm(this.spawnT, now);
    }
    const h = this.reqHead;
    if (h.last === null) h.first = a; else h.last.next = a;
    h.last = a;
    a.next = null;
    // cond_signal: one thread sleeping on the condition variable
    const ts = this.threads;
    for (let k = 0; k < ts.length; k++) {
      const th = ts[k];
      if (th.kind === K_AIO && !th.exited && th.idle && th.req === null && !this.sim.isArmed(th.wakeT)) {
        this.wake(th, now);
        break;
      }
    }
  }

  private spawnAio(now: number): void {
    while (this.spawnPending > 0) {
      this.spawnPending--;
      const s = this.aioSched;
      const n = this.threads.filter((x) => x.kind === K_AIO).length;
      const th = this.addThread(K_AIO, `aio${n}`, s.name, s.prio);
      th.idle = true;
      th.spawnedAt = now;
      this.spawned++;
      th.task = this.host.spawn(`${this.g.name}/qemu-aio${n}`, { next: (t, t2) => this.aioNext(th, t, t2) } as Program, this.allowed[0], this.allowed.slice(), 0, now, 0, s.attr, this.main.task!.mm);
      this.byTask[th.task.id] = th;
      // wake_up_new_task asked for a reschedule of that CPU: make it notice (the IPI of a remote wake-up)
      const c = this.host.cpus[th.task.cpu];
      if (c.needResched) this.host.raiseIrqAt(c.idx, now);
    }
  }

  /** aio_thread's loop. */
  private aioNext(th: QThread, t: Task, now: number): void {
    for (;;) {
      switch (th.mode) {
        case 0: {
          // wait for a request (pthread_cond_timedwait), or exit after the idle timeout
          const a = this.reqHead.first;
          if (a !== null) {
            this.reqHead.first = a.next;
            if (this.reqHead.first === null) this.reqHead.last = null;
            a.next = null;
            th.req = a;
            th.idle = false;
            this.idleThreads--;
            this.sim.cancel(th.idleT);
            a.startAt = now;
            if (th.io === null) th.io = new FileIo(this.hostBlock());
            const r = a.r!;
            th.io.begin(this.imageFile(), r.dir === REQ_WRITE ? IO_WRITE : IO_READ, r.offset, r.bytes);
            th.mode = 1;
            continue;
          }
          if (th.exited) { t.act = A_WAIT; t.actArg = 0; return; }
          if (!this.sim.isArmed(th.idleT)) this.sim.arm(th.idleT, now + AIO_IDLE_TIMEOUT_NS);
          t.act = A_WAIT;
          t.actArg = 0;
          return;
        }
        case 1: // the blocking pread/pwrite
          if (th.io!.step(t, now)) return;
          th.mode = 2;
          th.req!.hostDoneAt = now;
          // aiocb->ret set, idle_threads++, then kill(pid, SIGUSR2)
          th.idle = true;
          this.idleThreads++;
          t.act = A_COMPUTE;
          t.actArg = Math.max(1, this.cSignal);
          return;
        case 2: {
          // the signal is delivered: the main thread's select() returns
          const a = th.req!;
          th.req = null;
          this.doneList.push(a);
          this.wake(this.main, now);
          th.mode = 0;
          continue;
        }
      }
    }
  }

  // ------------------------------------------------------------ main thread

  /** kvm_main_loop -> main_loop_wait, the io thread's loop. */
  private mainNext(t: Task, now: number): void {
    const th = this.main;
    for (;;) {
      switch (this.mainMode) {
        case 0: // select() with the lock released
          if (this.doneList.length > 0) { this.mainMode = 1; continue; }
          this.mainMode = 1;
          t.act = A_WAIT;
          t.actArg = 0;
          return;
        case 1: // select returned (the signalfd is readable)
          if (this.doneList.length === 0) { this.mainMode = 0; continue; } // nothing for us
          this.mainMode = 2;
          t.act = A_COMPUTE;
          t.actArg = Math.max(1, this.cSelect);
          return;
        case 2: // qemu_mutex_lock_iothread
          if (!this.lockStep(th, t, now)) return;
          this.mainMode = 3;
          continue;
        case 3: {
          // posix_aio_read -> posix_aio_process_queue: the callback of each finished request
          const a = this.doneList.shift();
          if (a === undefined) { this.mainMode = 6; continue; }
          this.mainReq = a;
          if (a.newClusters > 0) {
            // qcow2: the L2-table update of the allocated clusters, a synchronous write under the lock
            if (this.mainIo === null) this.mainIo = new FileIo(this.hostBlock());
            this.metaLeft = a.newClusters;
            this.metaBegin(this.mainIo);
            this.mainMode = 4;
            continue;
          }
          this.mainMode = 5;
          t.act = A_COMPUTE;
          t.actArg = Math.max(1, this.cDmaCb + this.cSetIrq);
          return;
        }
        case 4:
          if (this.mainIo!.step(t, now)) return;
          if (--this.metaLeft > 0) { this.metaBegin(this.mainIo!); continue; }
          this.mainMode = 5;
          t.act = A_COMPUTE;
          t.actArg = Math.max(1, this.cDmaCb + this.cSetIrq);
          return;
        case 5: {
          // ide_dma_cb ended the transfer; ide_set_irq -> kvm_set_irq: the in-kernel irqchip injects
          const a = this.mainReq!;
          this.mainReq = null;
          this.injectList.push(a);
          if (!this.sim.isArmed(this.injectT)) this.sim.arm(this.injectT, now);
          this.mainMode = 3;
          continue;
        }
        case 6: {
          // qemu_mutex_unlock_iothread before the next select()
          const w = this.unlock(th, now);
          this.mainMode = 0;
          if (w > 0) { t.act = A_COMPUTE; t.actArg = w; return; }
          continue;
        }
      }
    }
  }

  // ------------------------------------------------------------ timers

  onTimer(kind: number, arg: number, now: number): void {
    switch (kind) {
      case T_EXIT: {
        // the thread leaves guest mode (if it was preempted meanwhile, its segment ends when it runs again)
        const v = this.vcpus[arg];
        if (v.thread.act === A_GUEST) this.host.endSegment(v.thread, now);
        return;
      }
      case T_WAKE: {
        const th = this.threads[arg];
        const t = th.task;
        if (t.state === TASK_SLEEPING && !t.onRq && th.waitSince < 0) th.waitSince = now;
        this.host.wakeTask(t, now);
        return;
      }
      case T_PRIO: {
        const th = this.threads[arg];
        if (th.donor === th.appliedDonor) return;
        th.appliedDonor = th.donor;
        this.host.rtMutexSetprio(th.task, th.donor, now);
        return;
      }
      case T_SPAWN:
        this.spawnAio(now);
        return;
      case T_INJECT: {
        const q = this.queue;
        for (const a of this.injectList) {
          const r = a.r!;
          this.record(a, now);
          a.r = null;
          this.free.push(a);
          if (q !== null) q.complete(r, now);
        }
        this.injectList.length = 0;
        if (q !== null) {
          // kvm_set_irq -> IOAPIC -> the LAPIC of the interrupt's vCPU: injected at its next entry (kvm_vcpu_kick)
          this.vcpus[q.irqCpu].deliver(q.irqLine, now);
        }
        return;
      }
      case T_IDLE: {
        const th = this.threads[arg];
        if (!th.idle || th.exited || th.req !== null || this.reqHead.first !== null) return;
        // pthread_cond_timedwait timed out with no request: the thread exits
        th.exited = true;
        th.idle = false;
        this.idleThreads--;
        this.curThreads--;
        return;
      }
    }
  }

  /** Wakes thread th (its futex or condition variable) from a timer at `now`. */
  private wake(th: QThread, now: number): void {
    if (!this.sim.isArmed(th.wakeT)) this.sim.arm(th.wakeT, now);
  }

  private record(a: AioReq, now: number): void {
    if (a.submitAt < this.from) return;
    this.stage(ST_SUBMIT, a.queuedAt - a.submitAt);
    this.stage(ST_QUEUE, a.startAt - a.queuedAt);
    this.stage(ST_HOST, a.hostDoneAt - a.startAt);
    this.stage(ST_DONE, now - a.hostDoneAt);
    this.stage(ST_TOTAL, now - a.submitAt);
  }

  private stage(s: number, d: number): void {
    this.stN[s]++;
    this.stSum[s] += d;
    if (d > this.stMax[s]) this.stMax[s] = d;
  }

  // ------------------------------------------------------------ host files

  private hostBlock() {
    const b = blockOf(this.host);
    if (b === undefined) throw new Error(`qemu (${this.g.name}): the host kernel has no block layer for the disk image`);
    return b;
  }

  private imageFile(): BlockFile {
    if (this.image === null) this.image = this.hostBlock().open(`${this.g.name}.img`, IDE_IMAGE_BYTES, O_DSYNC);
    return this.image;
  }

  // ------------------------------------------------------------ statistics

  /** The host's switch observer: runnable waits of QEMU's threads (from a wake-up QEMU made, or a preemption, to the switch-in). */
  private onSwitch(prev: Task | null, next: Task | null, now: number): void {
    if (prev !== null) {
      const th = this.byTask[prev.id];
      if (th !== undefined && prev.state !== TASK_SLEEPING && th.waitSince < 0) th.waitSince = now;
    }
    if (next !== null) {
      const th = this.byTask[next.id];
      if (th !== undefined && th.waitSince >= 0) {
        const d = now - th.waitSince;
        th.waitSince = -1;
        if (now >= this.from && d > th.maxWaitNs) th.maxWaitNs = d;
      }
    }
  }

  /** Tables `qemu_threads` and `qemu_io` rows of this process. */
  rows(end: number): { threads: QThread[]; stages: { stage: string; n: number; mean: number | null; max: number | null }[]; end: number } {
    return {
      threads: this.threads, end,
      stages: STAGES.map((s, i) => ({
        stage: s, n: this.stN[i], mean: this.stN[i] > 0 ? this.stSum[i] / this.stN[i] / 1000 : null,
        max: this.stN[i] > 0 ? this.stMax[i] / 1000 : null,
      })),
    };
  }

  get spawnedThreads(): number {
    return this.spawned;
  }

  get metadataWrites(): number {
    return this.metaWrites;
  }
}

/** Tables `qemu_threads` and `qemu_io` (TableSource part) of every QEMU process of a KVM host. */
export function qemuTables(ps: QemuProcess[], end: number): TableSet {
  const th: { g: string; t: QThread }[] = [];
  const io: { g: string; s: { stage: string; n: number; mean: number | null; max: number | null } }[] = [];
  for (const p of ps) {
    const r = p.rows(end);
    for (const t of r.threads) th.push({ g: p.g.name, t });
    for (const s of r.stages) io.push({ g: p.g.name, s });
  }
  const kindName = ["vcpu", "main", "aio"];
  return {
    qemu_threads: {
      guest: th.map((x) => x.g), thread: th.map((x) => x.t.name), kind: th.map((x) => kindName[x.t.kind]),
      policy: th.map((x) => x.t.policy), priority: th.map((x) => x.t.priority), host_cpu: th.map((x) => x.t.task.cpu),
      cpu_time_ms: th.map((x) => x.t.task.sumExec / 1e6), max_wait_us: th.map((x) => x.t.maxWaitNs / 1000),
      lock_acquisitions: th.map((x) => x.t.lockAcquisitions), lock_waits: th.map((x) => x.t.lockWaits),
      lock_wait_mean_us: th.map((x) => (x.t.lockWaits > 0 ? x.t.lockWaitSumNs / x.t.lockWaits / 1000 : null)),
      lock_wait_max_us: th.map((x) => x.t.lockWaitMaxNs / 1000), lock_hold_max_us: th.map((x) => x.t.lockHoldMaxNs / 1000),
      exited: th.map((x) => x.t.exited),
    },
    qemu_io: {
      guest: io.map((x) => x.g), stage: io.map((x) => x.s.stage), requests: io.map((x) => x.s.n),
      mean_us: io.map((x) => x.s.mean), max_us: io.map((x) => x.s.max),
    },
  };
}
