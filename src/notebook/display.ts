/**
 * Sending MIME bundles to the notebook front end from inside a tslab kernel, with fallbacks for
 * plain Node (tests, CLI), where the `text/plain` part is printed.
 */
import { createRequire } from "node:module";
import type { MimeBundle } from "./bundle.js";

type DisplayDataWriter = (content: { data: MimeBundle; metadata: object; transient: object }, update: boolean) => void;

const TSLAB_JUPYTER_RE = /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/;

/**
 * tslab's current `writeDisplayData` (the function it stores in `lastWriteDisplayData` of
 * `tslab/dist/jupyter.js` at every execute request), found in the CommonJS module cache, so
 * the kernel's own instance is used whether tslab is global or repo-local. Looked up on every
 * call because tslab replaces it for every cell.
 */
function tslabWriter(): DisplayDataWriter | undefined {
  let cache: { [id: string]: { exports?: unknown } | undefined };
  try {
    cache = createRequire(import.meta.url).cache as unknown as { [id: string]: { exports?: unknown } | undefined };
  } catch {
    return undefined;
  }
  for (const key of Object.keys(cache)) {
    if (!TSLAB_JUPYTER_RE.test(key)) continue;
    const writer = (cache[key]?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof writer === "function") return writer as DisplayDataWriter;
  }
  return undefined;
}

interface TslabDisplay {
  html(s: string): void;
  markdown(s: string): void;
  text(s: string): void;
}

/** tslab's public single-MIME `display` API, reachable through the cell's `__tslab__.require`. */
function tslabPublicDisplay(): TslabDisplay | undefined {
  try {
    const g = globalThis as { __tslab__?: { require?: (id: string) => { display?: TslabDisplay } } };
    const display = g.__tslab__?.require?.("tslab")?.display;
    return display !== undefined && typeof display.html === "function" ? display : undefined;
  } catch {
    return undefined;
  }
}

/** Which channel {@link emitBundle} used. */
export type EmitChannel = "tslab-bundle" | "tslab-display" | "console";

/**
 * Emit one MIME bundle: as a full multi-MIME `display_data` message through tslab's writer;
 * else the best single MIME through tslab's public `display`; else `console.log(text/plain)`.
 */
export function emitBundle(bundle: MimeBundle): EmitChannel {
  const writer = tslabWriter();
  if (writer !== undefined) {
    writer({ data: bundle, metadata: {}, transient: {} }, false);
    return "tslab-bundle";
  }
  const display = tslabPublicDisplay();
  if (display !== undefined) {
    try {
      if (typeof bundle["text/html"] === "string") display.html(bundle["text/html"]);
      else if (typeof bundle["text/markdown"] === "string") display.markdown(bundle["text/markdown"]);
      else display.text(plainText(bundle));
      return "tslab-display";
    } catch {
      // "Not ready" outside an execute request: fall through to the console.
    }
  }
  console.log(plainText(bundle));
  return "console";
}

/** The `text/plain` part of a bundle (or a fallback description). */
export function plainText(bundle: MimeBundle): string {
  const plain = bundle["text/plain"];
  if (typeof plain === "string") return plain;
  if (typeof bundle["text/markdown"] === "string") return bundle["text/markdown"] as string;
  return `[${Object.keys(bundle).join(", ")}]`;
}
