/** Printing any value short and safely, for error messages. */

const MAX_SHOWN = 80;

/**
 * A short, printable rendering of any value for an error message: NaN and
 * ±Infinity as such (JSON would print null), BigInt with its `n`, functions,
 * class instances by name, circular references as `[circular]`, and at most
 * about 80 characters.
 */
export function formatValue(v: unknown): string {
  const seen = new Set<object>();
  let budget = MAX_SHOWN;
  const go = (x: unknown, depth: number): string => {
    if (budget <= 0) return "…";
    let r: string;
    switch (typeof x) {
      case "undefined": r = "undefined"; break;
      case "number": r = Object.is(x, -0) ? "-0" : String(x); break; // NaN, Infinity, -Infinity
      case "bigint": r = `${x}n`; break;
      case "boolean": r = String(x); break;
      case "symbol": r = x.toString(); break;
      case "function": r = `a function${x.name ? ` (${x.name})` : ""}`; break;
      case "string": r = JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x) + (x.length > 40 ? ` (${x.length} characters)` : ""); break;
      default: {
        if (x === null) { r = "null"; break; }
        const o = x as object;
        if (seen.has(o)) { r = "[circular]"; break; }
        const proto = Object.getPrototypeOf(o);
        const cls = proto && proto !== Object.prototype && proto !== Array.prototype ? (proto.constructor?.name as string | undefined) : undefined;
        if (cls && !Array.isArray(o)) { r = `a ${cls}`; break; }
        if (depth > 2) { r = Array.isArray(o) ? `[…${o.length} items]` : "{…}"; break; }
        seen.add(o);
        const parts: string[] = [];
        if (Array.isArray(o)) {
          for (let i = 0; i < o.length; i++) {
            if (budget <= 0) { parts.push(`… ${o.length} items`); break; }
            parts.push(go(o[i], depth + 1));
            budget -= parts[parts.length - 1].length + 1;
          }
          r = `[${parts.join(",")}]`;
        } else {
          const keys = Object.keys(o);
          for (const k of keys) {
            if (budget <= 0) { parts.push(`… ${keys.length} fields`); break; }
            let val: unknown;
            try { val = (o as Record<string, unknown>)[k]; } catch { val = "[unreadable]"; }
            parts.push(`${JSON.stringify(k)}:${go(val, depth + 1)}`);
            budget -= parts[parts.length - 1].length + 1;
          }
          r = `{${parts.join(",")}}`;
        }
        seen.delete(o);
      }
    }
    budget -= r.length;
    return r;
  };
  let out: string;
  try { out = go(v, 0); } catch { out = "(an unprintable value)"; }
  return out.length > MAX_SHOWN + 20 ? out.slice(0, MAX_SHOWN) + "…" : out;
}

