/**
 * Worker threads from source text, shared by the thread pools of matmul (gemm_threads.ts)
 * and of the jit interpreter's fused loops (jit/fused_threads.ts): Node ≥ 20.16 through
 * `process.getBuiltinModule("node:worker_threads")` (an `eval` worker, `unref()`ed so that
 * it never keeps the process alive), browsers through a Blob URL. No file path is involved,
 * so bundlers need no worker entry; Node-only modules are reached at run time only.
 */

/** A started worker: post it a message, or stop it. */
export interface WorkerHandle {
  post(msg: unknown): void;
  terminate(): void;
}

interface NodeWorker {
  postMessage(msg: unknown): void;
  terminate(): Promise<number>;
  unref(): void;
  on(event: "error" | "exit", fn: (arg: unknown) => void): void;
}

interface NodeProcess {
  getBuiltinModule?(id: string): unknown;
}

/** Blob URLs of worker sources (browsers), one per source text. */
const blobUrls = new Map<string, string>();

/** `process.getBuiltinModule` in Node ≥ 20.16, else undefined. */
function getBuiltinModule(): ((id: string) => unknown) | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  const get = proc?.getBuiltinModule;
  return typeof get === "function" ? (id) => get.call(proc, id) : undefined;
}

/** Whether this is Node with `process.getBuiltinModule` (Node ≥ 20.16). */
export function isNode(): boolean {
  return getBuiltinModule() !== undefined;
}

/** `process.getBuiltinModule(id)` in Node (see isNode), else undefined. */
export function nodeBuiltin<T>(id: string): T | undefined {
  return getBuiltinModule()?.(id) as T | undefined;
}

/**
 * Starts a worker running `source` (a classic script); `onError` is called if it fails or
 * exits. Null where workers cannot be created here.
 */
export function spawnWorker(source: string, onError: () => void): WorkerHandle | null {
  if (isNode()) {
    const wt = nodeBuiltin<{ Worker?: new (code: string, opts: { eval: boolean }) => NodeWorker }>(
      "node:worker_threads",
    );
    if (typeof wt?.Worker !== "function") return null;
    const w = new wt.Worker(source, { eval: true });
    w.unref();
    w.on("error", onError);
    w.on("exit", onError);
    return { post: (msg) => w.postMessage(msg), terminate: () => void w.terminate() };
  }
  if (typeof Worker !== "function" || typeof Blob !== "function") return null;
  if (typeof URL?.createObjectURL !== "function") return null;
  let url = blobUrls.get(source);
  if (url === undefined) {
    url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    blobUrls.set(source, url);
  }
  const w = new Worker(url);
  w.onerror = onError;
  return { post: (msg) => w.postMessage(msg), terminate: () => w.terminate() };
}

/**
 * Resolves with the value of the counter `i32[index]` once it reaches `count` (the workers
 * that started and said so), or earlier when `stop()` says waiting is pointless (a worker
 * failed) or `timeoutMs` has passed.
 */
export async function workersReady(
  i32: Int32Array,
  index: number,
  count: number,
  stop: () => boolean,
  timeoutMs: number,
): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Atomics.load(i32, index) < count && !stop() && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 2));
  }
  return Atomics.load(i32, index);
}
