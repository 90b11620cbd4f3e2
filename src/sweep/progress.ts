/**
 * Sweep progress for the command line: a bar with an ETA on a terminal
 * (cli-progress, on stderr), and plain lines every 5 % otherwise (logs, CI,
 * Slurm output files: no carriage returns).
 */
import cliProgress from "cli-progress";
import type { SweepProgress } from "./sweep.js";

const fmtS = (s: number | null) => (s === null ? "?" : s < 90 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

/** A progress reporter writing to `out` (a bar when it is a TTY, else lines every `stepPct` %). */
export function progressReporter(out: NodeJS.WriteStream = process.stderr, stepPct = 5): { update: (p: SweepProgress) => void; stop: () => void } {
  if (out.isTTY) {
    let bar: cliProgress.SingleBar | null = null;
    return {
      update(p) {
        if (!bar) {
          bar = new cliProgress.SingleBar({
            stream: out, format: "sweep [{bar}] {percentage}% | {value}/{total} runs ({cached} cached) | elapsed {elapsed} | ETA {eta_text}",
            etaBuffer: 20, hideCursor: true,
          }, cliProgress.Presets.shades_classic);
          bar.start(p.total, 0, { cached: 0, elapsed: "0 s", eta_text: "?" });
        }
        bar.update(p.done, { cached: p.cached, elapsed: fmtS(p.elapsed_s), eta_text: fmtS(p.eta_s) });
      },
      stop() { bar?.stop(); },
    };
  }
  let next = 0;
  return {
    update(p) {
      const pct = p.total ? (p.done / p.total) * 100 : 100;
      if (pct + 1e-9 < next && p.done !== p.total) return;
      while (next <= pct + 1e-9) next += stepPct;
      out.write(`sweep: ${p.done}/${p.total} runs (${pct.toFixed(0)}%), ${p.cached} cached, elapsed ${fmtS(p.elapsed_s)}, ETA ${fmtS(p.eta_s)}\n`);
    },
    stop() {},
  };
}
