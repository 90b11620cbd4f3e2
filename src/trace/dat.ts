/**
 * trace-cmd's trace.dat, file format version 6, written from recorded
 * scheduling events: one file per level (the hypervisor's pCPUs, or a
 * kernel's CPUs), readable by `trace-cmd report` and KernelShark.
 *
 * Facts carried over from trace-cmd (Documentation/trace-cmd/trace-cmd.dat.v6.5.txt,
 * lib/trace-cmd/trace-output.c) and the kernel's ring buffer
 * (kernel/trace/ring_buffer.c, include/linux/ring_buffer.h, Linux 6.x):
 * - header: magic 0x17 0x08 0x44 "tracing", "6\0", endianness byte (0 = little),
 *   long size byte (8), page size (u32, 4096);
 * - "header_page\0" + u64 size + the text of events/header_page (u64 timestamp,
 *   local_t commit of 8 bytes, data of 4080 bytes); "header_event\0" + u64 size +
 *   the text of events/header_event (type_len 5 bits, time_delta 27 bits);
 * - ftrace formats: u32 count (0 here); event systems: u32 count, then per system
 *   its name "\0", u32 event count, per event u64 size + the format file text
 *   ("sched": sched_switch and sched_wakeup with the kernel's field layout);
 * - kallsyms and printk formats: u32 size 0 each; cmdlines: u64 size + "pid comm\n" lines;
 * - u32 CPU count, "flyrecord\0", per CPU u64 offset + u64 size of its data,
 *   the data page-aligned: ring-buffer pages (u64 page timestamp, u64 commit =
 *   bytes of events in the page, then events). An event is a u32 header
 *   (type_len in bits 0-4: payload length / 4 for 1..28; time_delta in bits 5-31,
 *   ns since the previous event or the page timestamp), then the payload;
 *   type_len 30 is a time extend (a second u32 holds delta >> 27).
 * Not written: options (trace clock, uname, ...), kallsyms, ftrace events,
 * type_len 0 (payloads over 112 bytes), latency-format files.
 */
import { EV_SWITCH, EV_WAKEUP, type TraceEvents, type TraceLevel } from "./record.js";

const PAGE = 4096;
const PAGE_HDR = 16; // u64 timestamp + u64 commit (long = 8)
const PAGE_DATA = PAGE - PAGE_HDR;
const TS_SHIFT = 27;
const TS_MASK = (1 << TS_SHIFT) - 1;
const TYPE_TIME_EXTEND = 30;
/** Event ids (common_type): any distinct values; these are a recent x86_64 kernel's. */
export const ID_SCHED_SWITCH = 316;
export const ID_SCHED_WAKEUP = 318;
const SWITCH_SIZE = 64; // payload bytes, including the 8 common bytes
const WAKEUP_SIZE = 36;
const COMM_LEN = 16; // TASK_COMM_LEN

const HEADER_PAGE =
  "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n" +
  "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n" +
  "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n" +
  "\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n";

const HEADER_EVENT =
  "# compressed entry header\n" +
  "\ttype_len    :    5 bits\n" +
  "\ttime_delta  :   27 bits\n" +
  "\tarray       :   32 bits\n\n" +
  "\tpadding     : type == 29\n" +
  "\ttime_extend : type == 30\n" +
  "\ttime_stamp : type == 31\n" +
  "\tdata max type_len  == 28\n";

const COMMON_FIELDS =
  "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" +
  "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" +
  "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" +
  "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n";

const SCHED_SWITCH_FORMAT =
  `name: sched_switch\nID: ${ID_SCHED_SWITCH}\nformat:\n` + COMMON_FIELDS +
  "\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n" +
  "\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n" +
  "\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n" +
  "\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n" +
  "\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n" +
  "\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n" +
  "\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n\n" +
  'print fmt: "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s ==> next_comm=%s next_pid=%d next_prio=%d", ' +
  'REC->prev_comm, REC->prev_pid, REC->prev_prio, REC->prev_state ? __print_flags(REC->prev_state, "|", { 0x0001, "S" }, { 0x0002, "D" }) : "R", ' +
  "REC->next_comm, REC->next_pid, REC->next_prio\n";

const SCHED_WAKEUP_FORMAT =
  `name: sched_wakeup\nID: ${ID_SCHED_WAKEUP}\nformat:\n` + COMMON_FIELDS +
  "\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;\n" +
  "\tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;\n" +
  "\tfield:int prio;\toffset:28;\tsize:4;\tsigned:1;\n" +
  "\tfield:int target_cpu;\toffset:32;\tsize:4;\tsigned:1;\n\n" +
  'print fmt: "comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu\n';

/** A growable little-endian byte buffer. */
class Out {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  len = 0;
  private need(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b; this.view = new DataView(b.buffer);
  }
  bytes(b: ArrayLike<number>): void { this.need(b.length); this.buf.set(b, this.len); this.len += b.length; }
  str(s: string): void { this.bytes(new TextEncoder().encode(s)); }
  u8(v: number): void { this.need(1); this.view.setUint8(this.len, v); this.len += 1; }
  u16(v: number): void { this.need(2); this.view.setUint16(this.len, v, true); this.len += 2; }
  u32(v: number): void { this.need(4); this.view.setUint32(this.len, v >>> 0, true); this.len += 4; }
  u64(v: number): void { this.need(8); this.view.setBigUint64(this.len, BigInt(Math.round(v)), true); this.len += 8; }
  i32(v: number): void { this.need(4); this.view.setInt32(this.len, v, true); this.len += 4; }
  i64(v: number): void { this.need(8); this.view.setBigInt64(this.len, BigInt(Math.round(v)), true); this.len += 8; }
  /** A u64 size then the text. */
  sized64(s: string): void { const b = new TextEncoder().encode(s); this.u64(b.length); this.bytes(b); }
  comm(s: string): void {
    const b = new TextEncoder().encode(s).subarray(0, COMM_LEN - 1);
    const f = new Uint8Array(COMM_LEN); f.set(b); this.bytes(f);
  }
  pad(align: number): void { const n = (align - (this.len % align)) % align; this.need(n); this.buf.fill(0, this.len, this.len + n); this.len += n; }
  result(): Uint8Array { return this.buf.slice(0, this.len); }
}

/** Ring-buffer pages of one CPU, filled event by event. */
class CpuPages {
  readonly out = new Out();
  private pageStart = -1; // offset of the current page in `out`
  private used = 0; // bytes of events in the current page
  private last = 0; // timestamp of the previous event (ns)
  /** Appends an event of `payload` bytes at time t (ns); the caller writes the payload next. */
  begin(t: number, payload: number): void {
    const delta = Math.max(0, Math.round(t) - this.last);
    const ext = delta > TS_MASK;
    const need = 4 + payload + (ext ? 8 : 0);
    if (this.pageStart < 0 || this.used + need > PAGE_DATA) this.newPage(t);
    let d = Math.max(0, Math.round(t) - this.last);
    if (d > TS_MASK) {
      // time extend: the delta's low 27 bits in the header, the rest in array[0]
      this.out.u32(TYPE_TIME_EXTEND | ((d & TS_MASK) << 5));
      this.out.u32(Math.floor(d / (1 << TS_SHIFT)));
      this.used += 8;
      d = 0;
    }
    this.out.u32((payload / 4) | (d << 5));
    this.used += 4 + payload;
    this.last = Math.round(t);
  }
  private newPage(t: number): void {
    this.close();
    this.pageStart = this.out.len;
    this.out.u64(Math.round(t)); // page timestamp: the first event's delta is from it
    this.out.u64(0); // commit, set when the page is closed
    this.used = 0;
    this.last = Math.round(t);
  }
  /** Pads the current page to the page size and writes its commit. */
  close(): void {
    if (this.pageStart < 0) return;
    this.out.view.setBigInt64(this.pageStart + 8, BigInt(this.used), true);
    this.out.pad(PAGE);
    this.pageStart = -1;
  }
}

/**
 * The trace.dat bytes of one level of the recorded events (index `lvl` in
 * `ev.levels`): sched_switch and sched_wakeup on that level's CPUs.
 */
export function traceDat(ev: TraceEvents, lvl: number): Uint8Array {
  const L: TraceLevel = ev.levels[lvl];
  const cpus = Array.from({ length: L.cpus }, () => new CpuPages());
  const comm = (pid: number, cpu: number) => (pid === 0 ? `swapper/${cpu}` : (L.comms.get(pid) ?? `pid${pid}`));
  // common_pid of a wake-up: the task running on the waker's CPU
  const running = new Int32Array(L.cpus);
  for (let i = 0; i < ev.n; i++) {
    if (ev.level[i] !== lvl) continue;
    const cpu = ev.cpu[i], p = cpus[cpu], o = p.out;
    if (ev.kind[i] === EV_SWITCH) {
      p.begin(ev.t[i], SWITCH_SIZE);
      o.u16(ID_SCHED_SWITCH); o.u8(0); o.u8(0); o.i32(ev.pid[i]);
      o.comm(comm(ev.pid[i], cpu)); o.i32(ev.pid[i]); o.i32(ev.prio[i]); o.i64(ev.state[i]);
      o.comm(comm(ev.arg[i], cpu)); o.i32(ev.arg[i]); o.i32(ev.prio2[i]);
      running[cpu] = ev.arg[i];
    } else if (ev.kind[i] === EV_WAKEUP) {
      p.begin(ev.t[i], WAKEUP_SIZE);
      o.u16(ID_SCHED_WAKEUP); o.u8(0); o.u8(0); o.i32(running[cpu]);
      o.comm(comm(ev.pid[i], cpu)); o.i32(ev.pid[i]); o.i32(ev.prio[i]); o.i32(ev.arg[i]);
    }
  }
  for (const c of cpus) c.close();

  const f = new Out();
  f.bytes([0x17, 0x08, 0x44]); f.str("tracing"); f.str("6\0");
  f.u8(0); // little endian
  f.u8(8); // long size
  f.u32(PAGE);
  f.str("header_page\0"); f.sized64(HEADER_PAGE);
  f.str("header_event\0"); f.sized64(HEADER_EVENT);
  f.u32(0); // ftrace event formats
  f.u32(1); // event systems
  f.str("sched\0"); f.u32(2); f.sized64(SCHED_SWITCH_FORMAT); f.sized64(SCHED_WAKEUP_FORMAT);
  f.u32(0); // kallsyms
  f.u32(0); // printk formats
  let cmd = "";
  for (const [pid, name] of L.comms) if (pid !== 0) cmd += `${pid} ${name.replace(/\s+/g, "_")}\n`;
  f.sized64(cmd);
  f.u32(L.cpus);
  f.str("flyrecord\0");
  const table = f.len;
  for (let c = 0; c < L.cpus; c++) { f.u64(0); f.u64(0); }
  f.pad(PAGE);
  cpus.forEach((c, i) => {
    const data = c.out.result();
    f.view.setBigUint64(table + 16 * i, BigInt(f.len), true);
    f.view.setBigUint64(table + 16 * i + 8, BigInt(data.length), true);
    f.bytes(data);
  });
  return f.result();
}
