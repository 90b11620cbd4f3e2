/**
 * The worker thread of runSpecs() (runs.ts): receives (n, spec, seed) on
 * its MessagePort, simulates, posts back the run's tables encoded as a cache
 * value (or the error's text), then bumps the shared counter and wakes the
 * waiting thread (Atomics.notify).
 */
import { workerData, type MessagePort } from "node:worker_threads";
import { runEncoded } from "./worker.js";

const { port, counter: sab } = workerData as { port: MessagePort; counter: SharedArrayBuffer };
const counter = new Int32Array(sab);

port.on("message", (t: { n: number; spec: any; seed: number | string }) => {
  try {
    const buf = runEncoded({ spec: t.spec, seed: t.seed });
    port.postMessage({ n: t.n, buf }, [buf.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ n: t.n, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
});
