import * as aq from "arquero";
import { timelineFigure, type BaseFigureOptions, type Figure } from "./figures.js";

/** Options of {@link taskGanttFigure}. */
export interface TaskGanttFigureOptions extends BaseFigureOptions {
  /** Only this level's tasks ("xen" for the hypervisor's vCPUs, or a kernel's name); default every level. */
  level?: string;
  /** Window start, ms (default: the first slice). */
  fromMs?: number;
  /** Window end, ms (default: the last slice). */
  toMs?: number;
}

/**
 * Task-level Gantt chart (as SimSo draws one): one row per task (or per vCPU at
 * the hypervisor level), one bar per running slice, coloured by the CPU it ran
 * on. Takes the running slices of `result.taskSlices()` (columns level, cpu,
 * task, start_ms, end_ms), clipped to [fromMs, toMs]; the per-CPU view of the
 * same run is `timelineFigure` over `traceSegments`.
 *
 * @example
 * taskGanttFigure(r.taskSlices(), { level: "domU", fromMs: 0, toMs: 20, title: "domU tasks" })
 */
export function taskGanttFigure(slices: aq.ColumnTable, opts: TaskGanttFigureOptions): Figure {
  for (const c of ["level", "cpu", "task", "start_ms", "end_ms"]) {
    if (!slices.columnNames().includes(c)) throw new Error(`taskGanttFigure: the slices need column ${JSON.stringify(c)} (from result.taskSlices())`);
  }
  const lv = slices.array("level") as string[], cpu = slices.array("cpu") as number[], task = slices.array("task") as string[];
  const s = slices.array("start_ms") as number[], e = slices.array("end_ms") as number[];
  const levels = new Set(lv);
  if (opts.level !== undefined && !levels.has(opts.level)) {
    throw new Error(`taskGanttFigure: no level ${JSON.stringify(opts.level)}; levels: ${[...levels].join(", ")}`);
  }
  const from = opts.fromMs ?? -Infinity, to = opts.toMs ?? Infinity;
  const several = opts.level === undefined && levels.size > 1;
  const out = { task: [] as string[], start_ms: [] as number[], end_ms: [] as number[], cpu: [] as string[], level: [] as string[] };
  for (let i = 0; i < s.length; i++) {
    if (opts.level !== undefined && lv[i] !== opts.level) continue;
    const a = Math.max(s[i], from), b = Math.min(e[i], to);
    if (!(b > a)) continue;
    out.task.push(several ? `${lv[i]}: ${task[i]}` : task[i]);
    out.start_ms.push(a); out.end_ms.push(b);
    out.cpu.push(`${lv[i] === "xen" ? "pCPU" : "CPU"} ${cpu[i]}`);
    out.level.push(lv[i]);
  }
  const t = aq.table(out).orderby("task", "start_ms");
  return timelineFigure(t, {
    lane: "task", start: "start_ms", end: "end_ms", color: "cpu", hover: ["level"],
    title: opts.title, height: opts.height, width: opts.width, laneTitle: "task",
  });
}
