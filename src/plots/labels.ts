/**
 * Axis-label helpers: derive a human label with units from a column name such as
 * `latency_us` → "latency (µs)".
 */

/** Column-name suffixes (after the last `_`-separated token(s)) and the unit they denote. */
const UNIT_SUFFIXES: ReadonlyArray<readonly [string, string]> = [
  ["per_s", "1/s"],
  ["per_sec", "1/s"],
  ["ns", "ns"],
  ["us", "µs"],
  ["usec", "µs"],
  ["ms", "ms"],
  ["msec", "ms"],
  ["s", "s"],
  ["sec", "s"],
  ["secs", "s"],
  ["min", "min"],
  ["pct", "%"],
  ["percent", "%"],
  ["hz", "Hz"],
  ["khz", "kHz"],
  ["mhz", "MHz"],
  ["ghz", "GHz"],
  ["bytes", "bytes"],
  ["kb", "KB"],
  ["kib", "KiB"],
  ["mb", "MB"],
  ["mib", "MiB"],
  ["gb", "GB"],
  ["gib", "GiB"],
  ["cycles", "cycles"],
  ["ops", "ops"],
  ["frac", "fraction"],
  ["ratio", "ratio"],
];

const TIME_UNITS = new Set(["ns", "µs", "ms", "s", "min"]);

/**
 * Split a column name into a readable base name and a unit, e.g.
 * `wakeup_latency_us` → `{ name: "wakeup latency", unit: "µs" }`,
 * `throughput_per_s` → `{ name: "throughput", unit: "1/s" }`,
 * `vcpus` → `{ name: "vcpus", unit: undefined }`.
 */
export function splitUnit(column: string): { name: string; unit: string | undefined } {
  const lower = column.toLowerCase();
  for (const [suffix, unit] of UNIT_SUFFIXES) {
    if (lower.endsWith("_" + suffix) && lower.length > suffix.length + 1) {
      const base = column.slice(0, column.length - suffix.length - 1);
      return { name: base.replace(/_+/g, " ").trim(), unit };
    }
  }
  return { name: column.replace(/_+/g, " ").trim(), unit: undefined };
}

/**
 * Default axis label for a column: the name with underscores as spaces, plus the unit in
 * parentheses when the name ends in a known unit suffix. `latency_us` → "latency (µs)",
 * `util_pct` → "util (%)", `vcpus` → "vcpus".
 */
export function labelFor(column: string): string {
  const { name, unit } = splitUnit(column);
  return unit === undefined ? name : `${name} (${unit})`;
}

/** The unit of a column name, if its suffix names one (`start_ms` → "ms"). */
export function unitOf(column: string): string | undefined {
  return splitUnit(column).unit;
}

/** True when `unit` is a time unit (ns, µs, ms, s, min). */
export function isTimeUnit(unit: string | undefined): boolean {
  return unit !== undefined && TIME_UNITS.has(unit);
}
