/**
 * Worker threads for the fused loops of the jit interpreter (fuse.ts). A large fused group
 * is split into contiguous blocks of flat indices; the calling thread and worker threads
 * claim blocks until none is left, each running the group's generated loop over its
 * blocks. Every element is computed by the same code whatever the block (the vector
 * stages call the same WebAssembly exports, which each worker instantiates from the same
 * bytes), so the output is bitwise that of one thread for every thread count.
 *
 * Memory: workers read and write the group's operands directly, so every non-scalar input
 * and every output must be a view of a SharedArrayBuffer. The interpreter takes its
 * buffers from the pool's shared lists while threads are on (tensor/pool.ts); an input in
 * ordinary memory (a program input, a constant, a kernel's own result) is copied into
 * shared memory when that is cheap next to the loop, else the group runs on one thread.
 *
 * Protocol: a job is posted to every worker (the group's source text the first time a
 * worker meets it, then its id; the operands; the job's generation). Blocks are claimed
 * by compare-and-swap on a 64-bit word of a small shared control buffer holding the job's
 * generation (high half) and the next block (low half), so a worker that reads an old
 * job's message late claims nothing; finished blocks are counted (Atomics.add) and the
 * calling thread, after its own blocks, waits (Atomics.wait) until the count is complete.
 * A worker that throws sets an error flag and its message; the caller then throws a clear
 * error. A worker that makes no progress for a long time (it died) makes the caller throw
 * and switches fused threads off for the rest of the process.
 *
 * Where threads work: where matmul's threads do (gemm_threads.ts: SharedArrayBuffer,
 * a thread that may block in Atomics.wait, worker_threads in Node or a cross-origin-
 * isolated page), with the same `threads` setting (`threadCount()`); workers are created
 * from source text and `unref()`ed, so they never keep a Node process alive. The pool
 * starts on the first group large enough to use it; until its workers are up, loops run on
 * one thread.
 *
 * Helpers: the generated loops call HELPERS of fuse.ts. Workers have their own walk,
 * vector-kernel and scalar helpers; a scalar formula of the kernels (SCALAR_FORMULAS) is
 * sent as its source text only when that text, compiled on its own, gives the same results
 * on probe values and never throws (so erf, whose formula needs module constants, and the
 * helpers that raise errors, toInt32 and powInt, are not sent). A group that calls a
 * helper the workers lack runs on one thread.
 */
import type { DataArray } from "../tensor/dtype.js";
import { SCALAR_FORMULAS } from "../tensor/kernels/elementwise.js";
import {
  WASM_BINARY_OPS,
  WASM_UNARY_OPS,
  wasmElementwiseAvailable,
} from "../tensor/kernels/elementwise_wasm.js";
import { ELEMENTWISE_WASM_BASE64 } from "../tensor/kernels/elementwise_wasm.generated.js";
import { decodeBase64 } from "../tensor/kernels/base64.js";
import { threadCount } from "../tensor/kernels/gemm_threads.js";
import { spawnWorker, workersReady, type WorkerHandle } from "../tensor/kernels/workers.js";
import type { NDArray } from "../tensor/ndarray.js";
import { isSharedMemory, sharedMemoryAvailable } from "../tensor/pool.js";
import type { Shape } from "../tensor/shape.js";
import { helpersCalled, stridePlan, type FusedGroup } from "./fuse.js";

// ---------------------------------------------------------------------------------------
// Thresholds
// ---------------------------------------------------------------------------------------

/**
 * Smallest work (elements × estimated nanoseconds per element, FusedGroup.work) of a
 * loop that is split. Measured on a 2-core x86-64 machine (Node 20), the calling thread
 * and one worker against one thread, interleaved, over 2^13 … 2^18 float32 elements of
 * five kinds of loop: a split costs some 60–90 µs (posting the job, waking the worker,
 * caches), so loops of about 150 µs broke even, 200–300 µs ran in 0.75–0.95 of the
 * time, 400 µs in about 0.65 and 1 ms or more in 0.5–0.6. Where the cores are busy with
 * other work, the worker waits for one and a split gains less (or loses a little).
 */
export const SPLIT_MIN_WORK = 400_000;
/** Smallest loop (elements) that is split, whatever its work per element. */
export const SPLIT_MIN_ELEMENTS = 1 << 14;
/** Blocks per thread a loop is cut into (so that a late or slow thread is evened out). */
const BLOCKS_PER_THREAD = 4;
/** Smallest block (elements); block starts are multiples of ALIGN elements. */
const MIN_BLOCK = 4096;
const ALIGN = 64;
/**
 * Estimated cost of copying one element of an ordinary input into shared memory (ns;
 * `set` into a SharedArrayBuffer measured 0.45–0.8 ns per float32); a copy is made only
 * when all of a group's copies cost at most COPY_SHARE of what the split saves.
 */
const COPY_COST = 0.6;
const COPY_SHARE = 0.25;
/** A worker that completes no block for this long (plus the blocks' estimated time) is taken for dead. */
const STALL_MS = 10_000;

let enabled = true;
let minWork = SPLIT_MIN_WORK;
let minElements = SPLIT_MIN_ELEMENTS;
let minBlock = MIN_BLOCK;
let stallMs = STALL_MS;
let callerWorks = true;

// ---------------------------------------------------------------------------------------
// Control buffer and worker source
// ---------------------------------------------------------------------------------------

// Int32 words
const DONE = 0;
const FAILED = 1;
const READY = 2;
const WORKER_BLOCKS = 3;
const INIT_FAILED = 4;
const ERR_LEN = 5;
// BigInt64 word (bytes 32..39): the claim (generation << 32 | next block)
const CLAIM = 4;
// Uint16 code units (from byte 64) of the first error message
const ERR_AT = 32;
const ERR_MAX = 480;
const CONTROL_BYTES = 2 * (ERR_AT + ERR_MAX);
const CLOSED = 0xffffffffn;

/**
 * The workers' source: plain JavaScript text (not a stringified function, which a bundler
 * may rewrite), run as a classic script in Node and in browsers. The first message sets
 * up the WebAssembly kernels and the scalar helpers; every later one is a job.
 */
const WORKER_SOURCE = `"use strict";
(() => {
  let i32 = null, i64 = null, u16 = null, K = null, job = null;
  const sources = new Map(), kernels = new Map();
  function fail(e) {
    if (Atomics.compareExchange(i32, ${FAILED}, 0, 1) !== 0) return;
    const s = String((e && e.stack) || e).slice(0, ${ERR_MAX});
    for (let i = 0; i < s.length; i++) u16[${ERR_AT} + i] = s.charCodeAt(i);
    Atomics.store(i32, ${ERR_LEN}, s.length);
  }
  function bind(bytes) {
    const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
    const need = (name) => {
      if (typeof ex[name] !== "function") throw new Error("missing export " + name);
      return ex[name];
    };
    const fns = {};
    for (const op of ${JSON.stringify(WASM_UNARY_OPS)}) {
      fns[op] = [need(op + "_f32"), need(op + "_f64")];
    }
    for (const op of ${JSON.stringify(WASM_BINARY_OPS)}) {
      for (const f of ["vv", "sv", "vs"]) fns[op + f] = [need(op + "_f32_" + f), need(op + "_f64_" + f)];
    }
    const mem = ex.memory.buffer;
    return { f32: new Float32Array(mem), f64: new Float64Array(mem), chunk: ex.chunk.value,
      A: ex.scratch_a.value, B: ex.scratch_b.value, fns };
  }
  function unary(op, dt, src, so, out, oo, n) {
    const d = dt === "float32" ? 0 : 1, view = d === 0 ? K.f32 : K.f64, es = d === 0 ? 4 : 8;
    const fn = K.fns[op][d], a = K.A / es;
    for (let i = 0; i < n; i += K.chunk) {
      const len = Math.min(K.chunk, n - i);
      view.set(src.subarray(so + i, so + i + len), a);
      fn(K.A, K.A, len);
      out.set(view.subarray(a, a + len), oo + i);
    }
  }
  function binary(op, dt, A, ao, B, bo, out, oo, n) {
    const d = dt === "float32" ? 0 : 1, view = d === 0 ? K.f32 : K.f64, es = d === 0 ? 4 : 8;
    const fn = K.fns[op + "vv"][d], a = K.A / es, b = K.B / es;
    for (let i = 0; i < n; i += K.chunk) {
      const len = Math.min(K.chunk, n - i);
      view.set(A.subarray(ao + i, ao + i + len), a);
      view.set(B.subarray(bo + i, bo + i + len), b);
      fn(K.A, K.B, K.A, len);
      out.set(view.subarray(a, a + len), oo + i);
    }
  }
  function binaryScalar(op, dt, s, left, X, xo, out, oo, n) {
    const d = dt === "float32" ? 0 : 1, view = d === 0 ? K.f32 : K.f64, es = d === 0 ? 4 : 8;
    const fn = K.fns[op + (left ? "sv" : "vs")][d], a = K.A / es;
    for (let i = 0; i < n; i += K.chunk) {
      const len = Math.min(K.chunk, n - i);
      view.set(X.subarray(xo + i, xo + i + len), a);
      if (left) fn(s, K.A, K.A, len);
      else fn(K.A, s, K.A, len);
      out.set(view.subarray(a, a + len), oo + i);
    }
  }
  const H = {
    walk() {
      const p = job.plan;
      return { dims: p.dims, strides: p.strides, idx: new Int32Array(p.dims.length) };
    },
    vectorOn: () => job.vec,
    vector: (op, dt, y, n) => unary(op, dt, y, 0, y, 0, n),
    unaryInto: unary,
    binaryInto: binary,
    binaryScalarInto: binaryScalar,
  };
  function init(msg) {
    i32 = new Int32Array(msg.control);
    i64 = new BigInt64Array(msg.control);
    u16 = new Uint16Array(msg.control);
    try {
      K = bind(msg.wasm);
      for (const name of Object.keys(msg.helpers)) {
        H[name] = new Function('"use strict"; return (' + msg.helpers[name] + ");")();
      }
      Atomics.add(i32, ${READY}, 1);
    } catch (e) {
      fail(e);
      Atomics.store(i32, ${INIT_FAILED}, 1);
    }
  }
  function run(msg) {
    for (const id of msg.drop) {
      sources.delete(id);
      kernels.delete(id);
    }
    if (msg.src !== undefined) sources.set(msg.id, msg.src);
    if (K === null) return;
    job = msg;
    const gen = msg.gen, blocks = msg.blocks, bs = msg.bs, n = msg.n;
    for (;;) {
      const c = Atomics.load(i64, ${CLAIM});
      if (Number(c >> 32n) !== gen) break;
      const idx = Number(c & 0xffffffffn);
      if (idx >= blocks) break;
      if (Atomics.compareExchange(i64, ${CLAIM}, c, c + 1n) !== c) continue;
      try {
        let f = kernels.get(msg.id);
        if (f === undefined) {
          f = new Function("H", sources.get(msg.id))(H);
          kernels.set(msg.id, f);
        }
        const lo = idx * bs;
        f(msg.X, msg.O, n, msg.S, lo, Math.min(n, lo + bs));
        Atomics.add(i32, ${WORKER_BLOCKS}, 1);
      } catch (e) {
        fail(e);
      }
      if (Atomics.add(i32, ${DONE}, 1) + 1 === blocks) Atomics.notify(i32, ${DONE});
    }
    job = null;
  }
  const onMessage = (msg) => (msg.init ? init(msg) : run(msg));
  const proc = typeof process === "object" && process !== null ? process : undefined;
  if (proc && typeof proc.getBuiltinModule === "function") {
    proc.getBuiltinModule("node:worker_threads").parentPort.on("message", onMessage);
  } else {
    self.onmessage = (e) => onMessage(e.data);
  }
})();
`;

// ---------------------------------------------------------------------------------------
// Scalar helpers the workers get
// ---------------------------------------------------------------------------------------

type Scalar = (...xs: number[]) => number;

const PROBES = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  2.5,
  -2.5,
  3,
  -7,
  3.7,
  -3.7,
  1e-30,
  1e30,
  -1e30,
  700,
  -700,
  1e-310,
  2147483647,
  -2147483648,
  Math.PI,
  NaN,
  Infinity,
  -Infinity,
];

/** f and its source text compiled alone agree (bitwise) on every probe pair, and never throw. */
function shipsAsSource(f: Scalar, src: string): boolean {
  let g: Scalar;
  try {
    g = (new Function(`"use strict"; return (${src});`) as () => Scalar)();
    if (typeof g !== "function") return false;
    for (const a of PROBES) {
      for (const b of PROBES) if (!Object.is(f(a, b), g(a, b))) return false;
    }
  } catch {
    return false;
  }
  return true;
}

let shipped: Record<string, string> | undefined;

/** The scalar helpers sent to the workers, as name → source text. */
function shippedHelpers(): Record<string, string> {
  if (shipped === undefined) {
    shipped = {};
    for (const [name, f] of Object.entries(SCALAR_FORMULAS)) {
      const src = Function.prototype.toString.call(f);
      if (shipsAsSource(f as Scalar, src)) shipped[name] = src;
    }
  }
  return shipped;
}

/** Helpers every worker has whatever is shipped. */
const WORKER_HELPERS = [
  "walk",
  "vectorOn",
  "vector",
  "unaryInto",
  "binaryInto",
  "binaryScalarInto",
];

const runnable = new Map<string, boolean>();

/** Whether a worker can run `group`'s loop (it calls no helper the workers lack). */
export function workersCanRun(group: FusedGroup): boolean {
  let ok = runnable.get(group.source);
  if (ok === undefined) {
    const have = new Set([...WORKER_HELPERS, ...Object.keys(shippedHelpers())]);
    ok = [...helpersCalled(group.source)].every((h) => have.has(h));
    if (runnable.size >= 4096) runnable.clear();
    runnable.set(group.source, ok);
  }
  return ok;
}

// ---------------------------------------------------------------------------------------
// The pool of workers
// ---------------------------------------------------------------------------------------

/** A worker as the pool uses it. */
interface Pool {
  readonly workers: WorkerHandle[];
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly u16: Uint16Array;
  gen: number;
  broken: boolean;
  /** Source texts the workers hold, by text → id (oldest first). */
  readonly ids: Map<string, number>;
  nextId: number;
  /** Ids the workers are to forget with the next job. */
  drop: number[];
}

/** Source texts a worker keeps (the oldest is dropped first). */
const WORKER_SOURCES = 1024;

let pool: Pool | null = null;
let failed = false;
let jobs = 0;
let spawnOverride: ((source: string, onError: () => void) => WorkerHandle) | null = null;

function spawn(onError: () => void): WorkerHandle | null {
  if (spawnOverride !== null) return spawnOverride(WORKER_SOURCE, onError);
  return spawnWorker(WORKER_SOURCE, onError);
}

function createPool(threads: number): Pool | null {
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const p: Pool = {
    workers: [],
    i32: new Int32Array(control),
    i64: new BigInt64Array(control),
    u16: new Uint16Array(control),
    gen: 0,
    broken: false,
    ids: new Map(),
    nextId: 0,
    drop: [],
  };
  Atomics.store(p.i64, CLAIM, CLOSED);
  const onError = () => {
    p.broken = true;
  };
  const wasm = decodeBase64(ELEMENTWISE_WASM_BASE64);
  const helpers = shippedHelpers();
  for (let i = 0; i < threads - 1; i++) {
    const w = spawn(onError);
    if (w === null) {
      for (const v of p.workers) v.terminate();
      return null;
    }
    p.workers.push(w);
    w.post({ init: true, control, wasm, helpers });
  }
  return p;
}

function shutdown(): void {
  if (pool === null) return;
  for (const w of pool.workers) w.terminate();
  pool = null;
}

/** The pool for `threads` threads, started if needed; null where it cannot run. */
function getPool(threads: number): Pool | null {
  if (pool !== null && (pool.broken || Atomics.load(pool.i32, INIT_FAILED) !== 0)) {
    // a worker failed to start or died: stay on one thread from now on
    shutdown();
    failed = true;
  }
  if (failed) return null;
  if (pool !== null && pool.workers.length !== threads - 1) shutdown();
  if (pool === null) {
    try {
      pool = createPool(threads);
    } catch {
      pool = null;
    }
    if (pool === null) failed = true;
  }
  return pool;
}

/**
 * Whether the interpreter should keep its buffers in shared memory now: fused threads
 * can run here and the `threads` setting is above 1.
 */
export function fusedThreadsActive(): boolean {
  return enabled && !failed && sharedMemoryAvailable() && threadCount() > 1;
}

/**
 * The number of threads a loop of `n` elements costing `work` per element is split
 * across now: 1 (run it on this thread) when threads are off, the loop is too small, or
 * the workers are not running yet (their start is then requested).
 */
export function splitThreads(n: number, work: number): number {
  if (n < minElements || n * work < minWork || failed || !enabled) return 1;
  const t = threadCount();
  if (t < 2) return 1;
  const p = getPool(t);
  if (p === null || Atomics.load(p.i32, READY) < p.workers.length) return 1;
  return Math.max(1, Math.min(t, Math.floor(n / minBlock)));
}

/**
 * Whether copying ordinary inputs of `elements` elements in all into shared memory pays
 * for splitting a loop of `n` elements at `work` per element across `threads`.
 */
export function copyPays(elements: number, n: number, work: number, threads: number): boolean {
  const saved = n * work * (1 - 1 / threads);
  return elements * COPY_COST <= COPY_SHARE * saved;
}

/** Elements of x's storage its view spans (from its lowest to its highest element). */
export function spanOf(x: NDArray): { lo: number; hi: number } {
  let lo = x.offset;
  let hi = x.offset;
  for (let d = 0; d < x.ndim; d++) {
    const e = (x.shape[d]! - 1) * x.strides[d]!;
    if (e < 0) lo += e;
    else hi += e;
  }
  return { lo, hi: x.size === 0 ? lo : hi + 1 };
}

function sourceId(p: Pool, source: string): { id: number; first: boolean } {
  const id = p.ids.get(source);
  if (id !== undefined) return { id, first: false };
  if (p.ids.size >= WORKER_SOURCES) {
    const [oldest, old] = p.ids.entries().next().value!;
    p.ids.delete(oldest);
    p.drop.push(old);
  }
  const fresh = p.nextId++;
  p.ids.set(source, fresh);
  return { id: fresh, first: true };
}

/** How a worker sees an input: its storage and layout (a scalar as a one-element copy). */
function workerView(x: NDArray, scalar: boolean): unknown {
  if (scalar) return { data: x.data.slice(x.offset, x.offset + 1), offset: 0 };
  return {
    data: x.data,
    offset: x.offset,
    contiguous: x.contiguous,
    size: x.size,
    shape: x.shape,
    strides: x.strides,
  };
}

function readError(p: Pool): string {
  const len = Atomics.load(p.i32, ERR_LEN);
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(p.u16[ERR_AT + i]!);
  return s;
}

/**
 * Runs `group`'s loop over n elements split across `threads` threads (from
 * splitThreads): this thread and the workers claim blocks until none is left. Every
 * non-scalar input and every output must be in shared memory.
 */
export function runSplit(
  group: FusedGroup,
  inputs: readonly NDArray[],
  outputs: readonly DataArray[],
  n: number,
  shape: Shape,
  threads: number,
): void {
  const p = pool;
  if (p === null) throw new Error("jit interpreter: fused threads are not running");
  const kinds = group.inputs;
  for (let k = 0; k < inputs.length; k++) {
    if (kinds[k]!.kind !== "scalar" && !isSharedMemory(inputs[k]!.data)) {
      throw new Error(`jit interpreter: input ${k} of a split fused loop is not in shared memory`);
    }
  }
  for (const o of outputs) {
    if (!isSharedMemory(o))
      throw new Error("jit interpreter: an output of a split fused loop is not in shared memory");
  }
  const per = Math.ceil(n / (threads * BLOCKS_PER_THREAD));
  const bs = Math.max(minBlock, Math.ceil(per / ALIGN) * ALIGN);
  const blocks = Math.ceil(n / bs);
  // the walk of the strided path, computed here once (the workers position it per block)
  const walked: NDArray[] = [];
  const bcast: boolean[] = [];
  let flat = true;
  kinds.forEach((x, k) => {
    if (x.kind === "scalar") return;
    const a = inputs[k]!;
    walked.push(a);
    bcast.push(x.kind === "bcast");
    if (!a.contiguous || a.size !== n) flat = false;
  });
  const plan = flat ? null : stridePlan(shape, walked, bcast);
  const { id, first } = sourceId(p, group.source);
  const msg = {
    gen: 0,
    id,
    src: first ? group.source : undefined,
    drop: p.drop,
    X: inputs.map((x, k) => workerView(x, kinds[k]!.kind === "scalar")),
    O: outputs,
    n,
    S: shape,
    plan: plan === null ? null : { dims: plan.dims, strides: plan.strides },
    bs,
    blocks,
    vec: wasmElementwiseAvailable(),
  };
  p.drop = [];
  const { i32, i64 } = p;
  Atomics.store(i32, DONE, 0);
  p.gen = (p.gen + 1) & 0x7fffffff;
  msg.gen = p.gen;
  const gen = BigInt(p.gen) << 32n;
  Atomics.store(i64, CLAIM, gen);
  for (const w of p.workers) w.post(msg);
  jobs++;
  let error: unknown;
  while (callerWorks) {
    const c = Atomics.load(i64, CLAIM);
    const idx = Number(c & 0xffffffffn);
    if (idx >= blocks) break;
    if (Atomics.compareExchange(i64, CLAIM, c, c + 1n) !== c) continue;
    try {
      const lo = idx * bs;
      group.kernel(inputs, outputs, n, shape, lo, Math.min(n, lo + bs));
    } catch (e) {
      error ??= e;
    }
    Atomics.add(i32, DONE, 1);
  }
  // wait for the blocks the workers claimed
  const stall = stallMs + (bs * group.work) / 1e5;
  let seen = Atomics.load(i32, DONE);
  let since = Date.now();
  while (seen < blocks) {
    Atomics.wait(i32, DONE, seen, 100);
    const d = Atomics.load(i32, DONE);
    if (d !== seen) {
      seen = d;
      since = Date.now();
    } else if (Date.now() - since > stall || p.broken) {
      failed = true;
      shutdown();
      throw new Error(
        `jit interpreter: a worker thread running a fused loop stopped (no block finished in ${(stall / 1000).toFixed(1)} s); fused loops run on one thread from now on`,
      );
    }
  }
  Atomics.store(i64, CLAIM, gen | CLOSED);
  if (error !== undefined) throw error;
  if (Atomics.load(i32, FAILED) !== 0) {
    const text = readError(p);
    Atomics.store(i32, FAILED, 0);
    throw new Error(`jit interpreter: a worker thread failed running a fused loop: ${text}`);
  }
}

// ---------------------------------------------------------------------------------------
// Switches and counters for tests and benchmarks
// ---------------------------------------------------------------------------------------

/**
 * Sets the thresholds from which loops are split (work: elements × FusedGroup.work;
 * elements: the loop's size); returns the previous ones. Tests lower them to split small
 * loops.
 */
export function setSplitThresholds(t: Partial<SplitThresholds>): SplitThresholds {
  const prev = { work: minWork, elements: minElements, block: minBlock, stallMs };
  if (t.work !== undefined) minWork = t.work;
  if (t.elements !== undefined) minElements = t.elements;
  if (t.block !== undefined) minBlock = Math.max(ALIGN, Math.ceil(t.block / ALIGN) * ALIGN);
  if (t.stallMs !== undefined) stallMs = t.stallMs;
  return prev;
}

/** The thresholds of splitting (see setSplitThresholds). */
export interface SplitThresholds {
  /** Smallest elements × work per element of a split loop (SPLIT_MIN_WORK). */
  work: number;
  /** Smallest elements of a split loop (SPLIT_MIN_ELEMENTS). */
  elements: number;
  /** Smallest block of indices (a multiple of 64; 4096 by default). */
  block: number;
  /** Milliseconds without a finished block after which a worker is taken for dead (10 s). */
  stallMs: number;
}

/**
 * Test switch: when false, the calling thread only posts the job and waits, so that every
 * block of a split loop runs on a worker. Returns the previous value.
 */
export function setCallerWorks(on: boolean): boolean {
  const prev = callerWorks;
  callerWorks = on;
  return prev;
}

/**
 * Switches fused threads on or off (on by default; matmul's threads are not affected):
 * off, the interpreter keeps its buffers in ordinary memory and runs every fused loop on
 * one thread. Returns the previous setting.
 */
export function setFusedThreadsEnabled(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/** Starts the workers for the current setting (where threads work) and resolves with how many run. */
export async function fusedThreadsReady(timeoutMs = 10_000): Promise<number> {
  const t = threadCount();
  if (t < 2 || failed || !sharedMemoryAvailable()) return 0;
  const p = getPool(t);
  if (p === null) return 0;
  const stop = () => Atomics.load(p.i32, INIT_FAILED) !== 0 || p.broken;
  return workersReady(p.i32, READY, p.workers.length, stop, timeoutMs);
}

/** Counters: split loops run (since load), blocks the workers of the current pool ran, its workers. */
export function fusedThreadStats(): { jobs: number; workerBlocks: number; workers: number } {
  return {
    jobs,
    workerBlocks: pool === null ? 0 : Atomics.load(pool.i32, WORKER_BLOCKS),
    workers: pool?.workers.length ?? 0,
  };
}

/**
 * Test switch: workers are created by `fn(source, onError)` instead of the platform (null
 * restores it); the current pool is stopped and fused threads are allowed again.
 */
export function setWorkerFactory(
  fn: ((source: string, onError: () => void) => WorkerHandle) | null,
): void {
  spawnOverride = fn;
  shutdown();
  failed = false;
}

/** The scalar helpers sent to workers (names), for tests. */
export function shippedHelperNames(): string[] {
  return Object.keys(shippedHelpers());
}
