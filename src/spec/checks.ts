/**
 * The cross-field rules of the spec: what the schema's field-by-field checks
 * cannot see (pinning to CPUs that exist on the board, pools that do not
 * overlap, workload CPUs inside their guest or host, what Linux refuses for
 * periodic real-time tasks). They run as the final refinement of the spec
 * schema (./validate.ts), so every caller of `validateSpec` (the builders'
 * `build()`, `simulate()`, the CLI) applies the same rules.
 */
import { boardPresets } from "../hw/board.js";
import { pvopsSpecIssues } from "../virt/pvops/latency.js";
import { checkParamDl, toRatio } from "../sched/linux/deadline.js";
import { schedAttrOf, wcetUs } from "../workloads/periodic.js";
import { BLOCK_DEFAULTS, guestType, KERNEL_DEFAULTS } from "./defaults.js";
import { formatValue as q } from "./format.js";
import { diskCapacityBytes, diskPresetForBoard } from "../hw/disk.js"; // issue 14 block
import { boardMemoryMb } from "../kernel/pagecache.js"; // issue 14 block

/** A name as it appears in a message: itself, or its first 40 characters. */
const n = (name: string): string => (name.length > 40 ? `${name.slice(0, 40)}… (${name.length} characters)` : name);
import type { ExecTimeSpec, KernelSpec, SimSpec, WorkloadSpec } from "./types.js";

/** One problem found in a spec: where, and what is allowed. */
export interface SpecIssue {
  /** Field path, e.g. `hypervisor.pools[0].scheduler.ratelimit_us`. */
  path: string;
  message: string;
}

/**
 * An OS instance as the checks see it: a guest, or the KVM host kernel with
 * its host workloads (its CPUs are the board's).
 */
interface Unit {
  name: string;
  ncpus: number;
  kernel: KernelSpec | undefined;
  workloads: WorkloadSpec[];
  /** Path of the kernel spec and of the workloads list. */
  kernelPath: string;
  workloadsPath: string;
  /** "guest" or "host" (in messages). */
  what: string;
}

/** Checks of the workloads of one OS instance: CPUs that exist, execution-time bounds. */
function workloadIssues(u: Unit, add: (path: string, message: string) => void): void {
  u.workloads.forEach((w, wi) => {
    const wp = `${u.workloadsPath}[${wi}]`;
    if (w.kind === "cyclictest" && (w.cpu ?? 0) >= u.ncpus)
      add(`${wp}.cpu`, `${u.what} CPU ${w.cpu} does not exist; ${u.name} has CPUs 0..${u.ncpus - 1}`);
    if (w.kind !== "cyclictest" && w.kind !== "housekeeping") w.cpus?.forEach((c, ci) => {
      if (c >= u.ncpus) add(`${wp}.cpus[${ci}]`, `${u.what} CPU ${c} does not exist; ${u.name} has CPUs 0..${u.ncpus - 1}`);
    });
    if (w.kind === "periodic" && typeof w.exec === "object") execIssues(w.exec, `${wp}.exec`, add);
  });
}

/** min_us <= max_us for the bounded distributions. */
function execIssues(e: ExecTimeSpec, path: string, add: (path: string, message: string) => void): void {
  if ((e.dist === "uniform" || e.dist === "normal") && e.min_us !== undefined && e.max_us !== undefined && e.min_us > e.max_us)
    add(`${path}.min_us`, `must be <= max_us (${e.max_us}); got ${e.min_us}`);
  if (e.dist === "normal" && e.max_us !== undefined && e.max_us < 0) add(`${path}.max_us`, `must be >= 0; got ${e.max_us}`);
}

/**
 * What the kernel would refuse for the periodic tasks of one OS instance, as
 * Linux 5.10 does it: sched_rt_runtime_us > sched_rt_period_us (EINVAL
 * from the sysctl handler), SCHED_DEADLINE parameters outside
 * __checkparam_dl (EINVAL), a DL task whose affinity does not span the
 * root domain or with zero RT bandwidth while bandwidth control is on
 * (EPERM), and a total DL bandwidth above rt_runtime/rt_period per CPU
 * (admission control, EBUSY). With `rt_runtime_us: "off"` there is no
 * admission control and DL tasks may be pinned. Periodic task names are
 * unique per OS instance.
 */
function periodicIssues(u: Unit, add: (path: string, message: string) => void): void {
  const k = u.kernel ?? {};
  const rtRuntime = k.rt_runtime_us ?? KERNEL_DEFAULTS.rt_runtime_us;
  const rtPeriod = k.rt_period_us ?? KERNEL_DEFAULTS.rt_period_us;
  if (rtRuntime !== "off" && rtRuntime > rtPeriod)
    add(`${u.kernelPath}.rt_runtime_us`, `must not exceed rt_period_us (${rtPeriod}); got ${rtRuntime} (the sysctl handler returns EINVAL)`);
  let total = 0;
  let overflowed = false;
  const names = new Set<string>();
  u.workloads.forEach((w, wi) => {
    if (w.kind !== "periodic") return;
    if (names.has(w.name)) add(`${u.workloadsPath}[${wi}].name`, `duplicate periodic task name ${q(w.name)} in ${u.what} ${u.name} (names key the execution-time streams and the jobs table)`);
    names.add(w.name);
  });
  u.workloads.forEach((w, wi) => {
    if (w.kind !== "periodic" || w.policy !== "deadline") return;
    const wp = `${u.workloadsPath}[${wi}]`;
    if (w.dl_runtime_us === undefined && !Number.isFinite(wcetUs(w.exec))) {
      add(`${wp}.dl_runtime_us`, "is needed: exec has no upper bound (give max_us or dl_runtime_us) to size the SCHED_DEADLINE runtime");
      return;
    }
    const a = schedAttrOf(w);
    const why = checkParamDl(a.runtime!, a.deadline!, a.period!);
    if (why) add(w.dl_runtime_us !== undefined ? `${wp}.dl_runtime_us` : wp, `sched_setattr(SCHED_DEADLINE) would fail with EINVAL: ${why}`);
    if (rtRuntime === "off") return;
    if (rtRuntime === 0) add(wp, "SCHED_DEADLINE needs RT bandwidth: rt_runtime_us is 0 (EPERM); set it or \"off\"");
    const cpus = w.cpus ?? [];
    if (w.cpus !== undefined && !Array.from({ length: u.ncpus }, (_, c) => c).every((c) => cpus.includes(c)))
      add(`${wp}.cpus`, `a SCHED_DEADLINE task's affinity must span the root domain (CPUs 0..${u.ncpus - 1}) while RT bandwidth control is on (EPERM); remove cpus or set ${u.kernelPath}.rt_runtime_us to "off"`);
    // sched_dl_overflow as the tasks are created in order
    const cap = toRatio(rtPeriod * 1000, rtRuntime * 1000) * u.ncpus;
    const bw = toRatio(a.period!, a.runtime!);
    if (!overflowed && total + bw > cap) {
      overflowed = true;
      add(wp, `SCHED_DEADLINE admission control refuses it (EBUSY): total bandwidth ${((total + bw) / 2 ** 20).toFixed(4)} > ${rtRuntime}/${rtPeriod} x ${u.ncpus} CPU(s) = ${(cap / 2 ** 20).toFixed(4)}; set ${u.kernelPath}.rt_runtime_us to "off" to disable admission control`);
    }
    total += bw;
  });
}

/**
 * The cross-field issues of a spec that passed the field-by-field schema
 * checks (empty when it is valid).
 */
export function crossFieldIssues(s: SimSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const add = (path: string, message: string) => { issues.push({ path, message }); };

  const presets = boardPresets();
  const preset = presets.get(s.board.preset);
  if (!preset) {
    add("board.preset", `unknown board ${q(s.board.preset)}; allowed: ${[...presets.keys()].map((k) => `"${k}"`).join(", ")}`);
    return issues;
  }
  // kernel.pvops: PV guests only; variant, fixes and bitness from data/pvops
  issues.push(...pvopsSpecIssues(s));
  const ncpu = preset.cpus;
  const poolNames: string[] = [];
  if (s.hypervisor.kind === "xen") {
    const seen = new Map<number, string>();
    s.hypervisor.pools.forEach((p, i) => {
      if (poolNames.includes(p.name)) add(`hypervisor.pools[${i}].name`, `duplicate pool name ${q(p.name)}`);
      poolNames.push(p.name);
      p.cpus.forEach((c, j) => {
        if (c >= ncpu) add(`hypervisor.pools[${i}].cpus[${j}]`, `pCPU ${c} does not exist; board ${preset.id} has pCPUs 0..${ncpu - 1}`);
        else if (seen.has(c)) add(`hypervisor.pools[${i}].cpus[${j}]`, `pCPU ${c} is already in pool ${q(seen.get(c))}; a pCPU belongs to one pool`);
        else seen.set(c, p.name);
      });
    });
  }
  const guestNames = new Set<string>();
  s.guests.forEach((g, gi) => {
    const gp = `guests[${gi}]`;
    if (guestNames.has(g.name)) add(`${gp}.name`, `duplicate guest name ${n(g.name)}`);
    guestNames.add(g.name);
    let poolCpus: number[] = [];
    if (s.hypervisor.kind === "xen") {
      const pool = g.pool === undefined ? s.hypervisor.pools[0] : s.hypervisor.pools.find((p) => p.name === g.pool);
      if (!pool) add(`${gp}.pool`, `unknown pool ${q(g.pool)}; allowed: ${poolNames.map((n) => q(n)).join(", ")}`);
      else poolCpus = pool.cpus;
    } else {
      if (g.pool !== undefined) add(`${gp}.pool`, "pools exist only under a Xen hypervisor");
      if (s.hypervisor.kind === "native") {
        if (s.guests.length > 1 && gi === 1) add("guests", "a native system runs exactly one OS (one entry in guests)");
        if (g.vcpus > ncpu) add(`${gp}.vcpus`, `a native kernel has one CPU per board CPU: at most ${ncpu}; got ${g.vcpus}`);
      }
    }
    if (s.hypervisor.kind !== "xen") {
      for (const f of ["type", "dom0", "device_model"] as const) if (g[f] !== undefined) add(`${gp}.${f}`, "applies to Xen guests only");
    } else {
      if (g.device_model !== undefined && guestType(g) !== "hvm") add(`${gp}.device_model`, `only HVM guests have a QEMU device model; ${n(g.name)} is ${guestType(g)}`);
      if (g.dom0 && g.type !== undefined && g.type !== "pv") add(`${gp}.type`, `Dom0 is a PV guest; got ${q(g.type)}`);
      if (g.dom0 && gi !== s.guests.findIndex((x) => x.dom0)) add(`${gp}.dom0`, "there is only one Dom0");
    }
    if (g.vcpu_thread !== undefined && s.hypervisor.kind !== "kvm") add(`${gp}.vcpu_thread`, "applies to KVM guests only");
    // --- issue 14 qemu (H2): begin
    if (g.qemu !== undefined) {
      const qm = g.qemu;
      if (s.hypervisor.kind !== "kvm") add(`${gp}.qemu`, "applies to KVM guests only (hypervisor.kind \"kvm\")");
      qm.cpus?.forEach((c, ci) => { if (c >= ncpu) add(`${gp}.qemu.cpus[${ci}]`, `host CPU ${c} does not exist; board ${preset.id} has CPUs 0..${ncpu - 1}`); });
      const rt = qm.rt;
      if (rt !== undefined) {
        if (g.vcpu_thread?.policy !== undefined)
          add(`${gp}.vcpu_thread.policy`, "qemu.rt sets the vCPU threads' policy (maxprio - 1); give one or the other");
        if (rt.aioprio !== undefined && rt.aioprio > rt.maxprio)
          add(`${gp}.qemu.rt.aioprio`, `must be in 0..${rt.maxprio} (at most maxprio); got ${rt.aioprio}`);
        const aiopol = rt.aiopolicy ?? rt.policy ?? "ff";
        if (rt.aioprio !== undefined && aiopol === "ts" && rt.aioprio !== 0)
          add(`${gp}.qemu.rt.aioprio`, `must be 0 with AIO policy "ts" (SCHED_OTHER); got ${rt.aioprio}`);
        if (rt.aioprio === 0 && aiopol !== "ts")
          add(`${gp}.qemu.rt.aioprio`, `0 needs aiopolicy "ts" (SCHED_FIFO/RR priorities are 1..99)`);
        if ((rt.policy ?? "ff") !== "ts" && rt.maxprio < 2)
          add(`${gp}.qemu.rt.maxprio`, `must be in 2..99 with a real-time policy (vCPU threads run at maxprio - 1); got ${rt.maxprio}`);
      }
    }
    // --- issue 14 qemu (H2): end
    // --- issue 14 pvsched (H3): begin
    if (g.qemu?.rt?.pvsched === true && s.hypervisor.kind !== "kvm")
      add(`${gp}.qemu.rt.pvsched`, `paravirtual scheduling needs a KVM host (hypervisor.kind "kvm"); got "${s.hypervisor.kind}"`);
    // --- issue 14 pvsched (H3): end
    if (s.hypervisor.kind === "kvm") {
      if (g.name === "host") add(`${gp}.name`, 'under KVM the name "host" is the host kernel\'s; rename the guest');
      if (g.pin !== undefined) add(`${gp}.pin`, "under KVM, place vCPU threads with vcpu_thread.cpus (host CPUs)");
      g.vcpu_thread?.cpus?.forEach((c, ci) => { if (c >= ncpu) add(`${gp}.vcpu_thread.cpus[${ci}]`, `host CPU ${c} does not exist; board ${preset.id} has CPUs 0..${ncpu - 1}`); });
    }
    // SCHED_DEADLINE host/Dom0 threads: runtime needed, runtime <= deadline <= period; dl_* only with "deadline"
    for (const f of ["vcpu_thread", "device_model"] as const) {
      const t = g[f];
      if (t === undefined) continue;
      const tp = `${gp}.${f}`;
      if (t.policy !== "deadline") {
        for (const k of ["dl_runtime_us", "dl_period_us", "dl_deadline_us"] as const) if (t[k] !== undefined) add(`${tp}.${k}`, 'applies to policy "deadline" only');
        continue;
      }
      const hk = f === "vcpu_thread" ? (s.hypervisor.kind === "kvm" ? s.hypervisor.host_kernel : undefined) : s.guests.find((x) => x.dom0)?.kernel;
      const hv = hk?.version ?? "5.10";
      if (hv === "2.6.29" || hv === "2.6.31") add(`${tp}.policy`, `SCHED_DEADLINE exists from Linux 3.14; the ${f === "vcpu_thread" ? "host" : "Dom0"} kernel is ${hv}`);
      if (t.dl_runtime_us === undefined) { add(`${tp}.dl_runtime_us`, 'is needed with policy "deadline" (SCHED_DEADLINE runtime, µs)'); continue; }
      const per = t.dl_period_us ?? t.dl_deadline_us ?? t.dl_runtime_us;
      const dl = t.dl_deadline_us ?? per;
      if (t.dl_runtime_us > dl) add(`${tp}.dl_runtime_us`, `must be <= the deadline (${dl} µs); got ${t.dl_runtime_us}`);
      if (dl > per) add(`${tp}.dl_deadline_us`, `must be <= the period (${per} µs); got ${dl}`);
    }
    if (g.device_model?.cpus) g.device_model.cpus.forEach((c, ci) => {
      const d0 = s.guests.find((x) => x.dom0);
      if (d0 && c >= d0.vcpus) add(`${gp}.device_model.cpus[${ci}]`, `Dom0 CPU ${c} does not exist; ${n(d0.name)} has CPUs 0..${d0.vcpus - 1}`);
    });
    if (s.hypervisor.kind === "xen" && guestType(g) === "hvm" && !s.guests.some((x) => x.dom0))
      add(`${gp}.type`, "an HVM guest needs a Dom0 guest (dom0: true) to host its QEMU device model");
    if (g.pin) {
      if (g.pin.length !== 1 && g.pin.length !== g.vcpus)
        add(`${gp}.pin`, `needs one entry per vCPU (${g.vcpus}) or a single entry for all; got ${g.pin.length}`);
      g.pin.forEach((l, vi) => l.forEach((c, ci) => {
        if (c >= ncpu) add(`${gp}.pin[${vi}][${ci}]`, `pCPU ${c} does not exist; board ${preset.id} has pCPUs 0..${ncpu - 1}`);
        else if (s.hypervisor.kind === "xen" && poolCpus.length && !poolCpus.includes(c))
          add(`${gp}.pin[${vi}][${ci}]`, `pCPU ${c} is outside the guest's cpupool (pCPUs ${poolCpus.join(",")})`);
      }));
      if (s.hypervisor.kind === "native") add(`${gp}.pin`, "pinning applies to vCPUs under a hypervisor; natively use the workload's cpus");
    }
    if (g.cap !== undefined && g.cap > 100 * g.vcpus)
      add(`${gp}.cap`, `must be in 0..${100 * g.vcpus} (100 x vcpus) percent; got ${g.cap}`);
    if (g.rtds !== undefined) {
      const list = Array.isArray(g.rtds) ? g.rtds : [g.rtds];
      if (Array.isArray(g.rtds) && g.rtds.length !== g.vcpus) add(`${gp}.rtds`, `needs one entry per vCPU (${g.vcpus}) or a single object; got ${g.rtds.length}`);
      list.forEach((r, ri) => {
        const p = r.period_us ?? 10000, b = r.budget_us ?? 4000;
        if (b > p) add(`${gp}.rtds${Array.isArray(g.rtds) ? `[${ri}]` : ""}.budget_us`, `must be <= period_us (${p}); got ${b}`);
      });
    }
    const unit: Unit = {
      name: n(g.name), ncpus: g.vcpus, kernel: g.kernel, workloads: g.workloads,
      kernelPath: `${gp}.kernel`, workloadsPath: `${gp}.workloads`, what: "guest",
    };
    workloadIssues(unit, add);
    periodicIssues(unit, add);
  });
  if (s.hypervisor.kind === "kvm") {
    // the host kernel and its workloads get the same checks as a guest's, on the board's CPUs
    const host: Unit = {
      name: `host (board ${preset.id})`, ncpus: ncpu, kernel: s.hypervisor.host_kernel, workloads: s.hypervisor.host_workloads ?? [],
      kernelPath: "hypervisor.host_kernel", workloadsPath: "hypervisor.host_workloads", what: "host",
    };
    workloadIssues(host, add);
    periodicIssues(host, add);
  }
  if (s.hypervisor.kind === "xen") {
    s.hypervisor.pools.forEach((p, i) => {
      const sp = `hypervisor.pools[${i}].scheduler`;
      const sc = p.scheduler;
      if (sc.name === "credit" && typeof sc.ratelimit_us === "number" && sc.ratelimit_us > (sc.tslice_ms ?? 30) * 1000)
        add(`${sp}.ratelimit_us`, `must not exceed the timeslice (${(sc.tslice_ms ?? 30) * 1000} µs); got ${sc.ratelimit_us}`);
      if (sc.name === "arinc653") {
        if (p.cpus.length !== 1) add(`hypervisor.pools[${i}].cpus`, `an ARINC653 pool has exactly one pCPU (the scheduler is single-pCPU in Xen); got ${p.cpus.length}`);
        const sum = sc.frames.reduce((a, f) => a + f.runtime_ms, 0);
        if (sum > sc.major_frame_ms + 1e-9) add(`${sp}.frames`, `minor frames total ${sum} ms, more than the major frame (${sc.major_frame_ms} ms)`);
        sc.frames.forEach((f, fi) => {
          const g = s.guests.find((x) => x.name === f.guest);
          if (!g) add(`${sp}.frames[${fi}].guest`, `unknown guest ${q(f.guest)}; allowed: ${s.guests.map((x) => q(x.name)).join(", ")}`);
          else if ((f.vcpu ?? 0) >= g.vcpus) add(`${sp}.frames[${fi}].vcpu`, `${n(g.name)} has vCPUs 0..${g.vcpus - 1}; got ${f.vcpu}`);
          else if ((g.pool ?? poolNames[0]) !== p.name) add(`${sp}.frames[${fi}].guest`, `${n(g.name)} is not in pool ${q(p.name)}`);
        });
      }
    });
    s.guests.forEach((g, gi) => {
      const pool = s.hypervisor.kind === "xen" ? (g.pool === undefined ? s.hypervisor.pools[0] : s.hypervisor.pools.find((p) => p.name === g.pool)) : undefined;
      const name = pool?.scheduler.name;
      if (g.rtds !== undefined && name !== undefined && name !== "rtds") add(`guests[${gi}].rtds`, `RTDS parameters need an "rtds" pool; ${n(g.name)} is in a "${name}" pool`);
      if (g.cap !== undefined && g.cap > 0 && name !== undefined && name !== "credit" && name !== "credit2") add(`guests[${gi}].cap`, `caps exist in "credit" and "credit2" pools only; ${n(g.name)} is in a "${name}" pool`);
    });
  }
  // --- issue 14 kernel versions: begin
  const kernels: [string, KernelSpec | undefined][] = s.guests.map((g, gi) => [`guests[${gi}].kernel`, g.kernel]);
  if (s.hypervisor.kind === "kvm") kernels.push(["hypervisor.host_kernel", s.hypervisor.host_kernel]);
  for (const [kp, k] of kernels) {
    if (k?.hrtimer_thread_priority === undefined) continue;
    const v = k.version ?? "5.10";
    if (v !== "2.6.29" && v !== "2.6.31")
      add(`${kp}.hrtimer_thread_priority`, `exists only on PREEMPT_RT kernels of version "2.6.29" or "2.6.31" (per-CPU sirq-hrtimer threads); this kernel is version ${q(v)}`);
    else if ((k.preempt ?? "none") !== "rt")
      add(`${kp}.hrtimer_thread_priority`, `exists only on PREEMPT_RT kernels (preempt "rt"); on ${q(k.preempt ?? "none")} hrtimer callbacks run in hard interrupt context`);
  }
  // --- issue 14 kernel versions: end
  if (s.warmup_s !== undefined && s.warmup_s >= s.horizon_s) add("warmup_s", `must be less than horizon_s (${s.horizon_s}); got ${s.warmup_s}`);
  blockIssues(s, preset.id, ncpu, add); // issue 14 block
  return issues;
}

// --- issue 14 block: begin
/**
 * Block I/O: the disk interrupt's CPUs exist in their kernel; the bonnie
 * files of one kernel fit on its disk (the board's disk; a guest's disk is an
 * image file on it); a native kernel has no more memory than the board.
 */
function blockIssues(s: SimSpec, board: string, ncpu: number, add: (path: string, message: string) => void): void {
  const disk = diskPresetForBoard(board);
  const capMb = Math.floor(diskCapacityBytes(disk) / 1048576);
  const units: { name: string; ncpus: number; kernel: KernelSpec | undefined; workloads: WorkloadSpec[]; kp: string; wp: string }[] = s.guests.map((g, gi) => ({
    name: n(g.name), ncpus: g.vcpus, kernel: g.kernel, workloads: g.workloads, kp: `guests[${gi}].kernel`, wp: `guests[${gi}].workloads`,
  }));
  if (s.hypervisor.kind === "kvm") {
    units.push({ name: "host", ncpus: ncpu, kernel: s.hypervisor.host_kernel, workloads: s.hypervisor.host_workloads ?? [], kp: "hypervisor.host_kernel", wp: "hypervisor.host_workloads" });
  }
  for (const u of units) {
    u.kernel?.irq_affinity?.disk?.forEach((c, ci) => {
      if (c >= u.ncpus) add(`${u.kp}.irq_affinity.disk[${ci}]`, `CPU ${c} does not exist; ${u.name} has CPUs 0..${u.ncpus - 1}`);
    });
    let used = 0;
    u.workloads.forEach((w, wi) => {
      if (w.kind !== "bonnie") return;
      const mb = w.size_mb ?? BLOCK_DEFAULTS.bonnie_size_mb;
      if (used + mb > capMb) {
        add(`${u.wp}[${wi}].size_mb`, `must be in 1..${capMb - used} (the ${disk.id} disk of board ${board} holds ${capMb} MB${used > 0 ? `, ${used} MB of it taken by the bonnie files before this one` : ""}); got ${mb}`);
      }
      used += mb;
    });
  }
  if (s.hypervisor.kind === "native") {
    const mem = boardMemoryMb(board);
    s.guests.forEach((g, gi) => {
      if (g.memory_mb !== undefined && g.memory_mb > mem) add(`guests[${gi}].memory_mb`, `must be in 16..${mem} (the memory of board ${board}); got ${g.memory_mb}`);
    });
  }
}
// --- end
