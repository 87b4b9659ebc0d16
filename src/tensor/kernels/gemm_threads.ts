/**
 * Worker threads for the WebAssembly matmul kernels. The main thread puts A and B once
 * into a shared WebAssembly.Memory (as gemm_wasm.ts does: each copied as it lies or packed;
 * the layout of gemm_kernel.wat), the M×N output is cut
 * into blocks of 4-row strips (and, for a batch, into its matrices), and the workers and
 * the main thread claim blocks until none is left; then the main thread copies C out.
 * Every element of C is computed by the same kernel with the same order over k as on one
 * thread, so the result is bitwise the same whatever the thread count.
 *
 * Synchronisation is by Atomics on a small control buffer (a SharedArrayBuffer):
 * - GEN is bumped and notified to wake the workers, which `Atomics.wait` on it;
 * - CLAIM (64 bits) is the job's generation (high half) and the next block (low half).
 *   Blocks are claimed with compareExchange, so a worker that wakes late cannot claim a
 *   block of a later job with the parameters of an earlier one: the generation never
 *   repeats, and a finished job is closed (low half set to all ones) before the next
 *   job's parameters are written;
 * - DONE counts finished blocks; the main thread waits on it for the blocks the workers
 *   claimed.
 *
 * Where threads work: Node ≥ 20.16 (worker_threads through `process.getBuiltinModule`,
 * workers created from source text, `unref()`ed so that they never keep a process alive)
 * and cross-origin-isolated browsers (Blob-URL workers), on a thread where `Atomics.wait`
 * is allowed (not a browser's main thread). Elsewhere matmul stays on one thread. The
 * pool starts lazily on the first matmul big enough to use it; until its workers are up,
 * matmul runs on one thread.
 */
import type { DataArray } from "../dtype.js";
import {
  ROW_STRIPS,
  aLines,
  bLines,
  place,
  placedSize,
  type GemmKernel,
  type PackLines,
} from "./gemm_wasm.js";
import { decodeBase64 } from "./base64.js";
import { GEMM_WASM_SHARED_BASE64 } from "./gemm_wasm_shared.generated.js";
import { isNode, nodeBuiltin, spawnWorker, workersReady, type WorkerHandle } from "./workers.js";

/** The thread-count setting: a positive integer, or "auto". */
export type ThreadsSetting = number | "auto";

/** "auto" uses the available cores, at most this many. */
export const AUTO_MAX_THREADS = 4;
/** The largest thread count the setting accepts. */
export const MAX_THREADS = 256;
/**
 * Work from which a matmul is split across threads, in float32 multiply-adds
 * (batches·m·n·k; a float64 one counts 2, its kernel being half as fast): handing work to
 * another thread and waiting for it costs tens of microseconds, which smaller products do
 * not repay. 2^20 is a float32 product of about 100³ (some 50 µs on one thread).
 */
export const THREAD_MIN_WORK = 1 << 20;
let minWork = THREAD_MIN_WORK;
/** Blocks per thread a job is cut into (more than one, so a late or slow thread is evened out). */
const BLOCKS_PER_THREAD = 4;
/** Bytes of packed operands per job before a batch is run in several jobs. */
let jobBytes = 256 * 2 ** 20;

// Int32 words of the control buffer
const GEN = 0;
const DONE = 1;
const FAILED = 2;
const READY = 3;
const WORKER_BLOCKS = 4;
// BigInt64 word (bytes 24..31)
const CLAIM = 3;
// Uint32 words: the job's parameters
const NBLOCKS = 8;
const KIND = 9; // 0: float32, 1: float64
const PK = 10; // k
const NB = 11; // np / NR (column strips)
const M4 = 12; // row strips per matrix
const SPB = 13; // row strips per block
const BPM = 14; // blocks per matrix
const AP = 15; // bytes: packed A of matrix 0, and the step per matrix
const AP_STEP = 16;
const BP = 17;
const BP_STEP = 18;
const CP = 19;
const CP_STEP = 20;
const C_STRIP = 21; // bytes of 4 rows of C
const ASS = 22; // A's layout in bytes: strip to strip, row to row, along a row
const ARS = 23;
const APS = 24;
const BSS = 25; // B's layout in bytes: strip to strip, row to row
const BPS = 26;
const CONTROL_BYTES = 128;
const CLOSED = 0xffffffffn;

/**
 * The workers' source: instantiate the shared kernels, then wait for a job, claim blocks
 * until none is left, and wait again. Plain JavaScript text (not a stringified function,
 * which a bundler may rewrite), run as a classic script in Node and in browsers.
 */
const WORKER_SOURCE = `"use strict";
(() => {
  function start(msg) {
    const inst = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } });
    const f32 = inst.exports.gemm_f32;
    const f64 = inst.exports.gemm_f64;
    const i32 = new Int32Array(msg.control);
    const u32 = new Uint32Array(msg.control);
    const i64 = new BigInt64Array(msg.control);
    Atomics.add(i32, ${READY}, 1);
    for (;;) {
      const seen = Atomics.load(i32, ${GEN});
      for (;;) {
        const c = Atomics.load(i64, ${CLAIM});
        const idx = Number(c & 0xffffffffn);
        const n = u32[${NBLOCKS}];
        if (idx >= n) break;
        // read the parameters before claiming: a successful claim proves they were this job's
        const kind = u32[${KIND}], k = u32[${PK}], nb = u32[${NB}], m4 = u32[${M4}];
        const spb = u32[${SPB}], bpm = u32[${BPM}];
        const ap = u32[${AP}], apStep = u32[${AP_STEP}], bp = u32[${BP}], bpStep = u32[${BP_STEP}];
        const cp = u32[${CP}], cpStep = u32[${CP_STEP}], cStrip = u32[${C_STRIP}];
        const ass = u32[${ASS}], ars = u32[${ARS}], aps = u32[${APS}];
        const bss = u32[${BSS}], bps = u32[${BPS}];
        if (Atomics.compareExchange(i64, ${CLAIM}, c, c + 1n) !== c) continue;
        try {
          const t = Math.floor(idx / bpm);
          const s0 = (idx - t * bpm) * spb;
          const rows = Math.min(spb, m4 - s0);
          (kind === 0 ? f32 : f64)(ap + t * apStep + s0 * ass, ass, ars, aps,
            bp + t * bpStep, bss, bps, cp + t * cpStep + s0 * cStrip, rows, nb, k);
          Atomics.add(i32, ${WORKER_BLOCKS}, 1);
        } catch (e) {
          Atomics.store(i32, ${FAILED}, 1);
        }
        if (Atomics.add(i32, ${DONE}, 1) + 1 === n) Atomics.notify(i32, ${DONE});
      }
      Atomics.wait(i32, ${GEN}, seen);
    }
  }
  const proc = typeof process === "object" && process !== null ? process : undefined;
  if (proc && typeof proc.getBuiltinModule === "function") {
    proc.getBuiltinModule("node:worker_threads").parentPort.once("message", start);
  } else {
    self.onmessage = (e) => start(e.data);
  }
})();
`;

interface Platform {
  cores: number;
  spawn(onError: () => void): WorkerHandle | null;
}

interface Pool {
  workers: WorkerHandle[];
  memory: WebAssembly.Memory;
  maxBytes: number;
  f32: GemmKernel;
  f64: GemmKernel;
  pack: PackLines;
  i32: Int32Array;
  u32: Uint32Array;
  i64: BigInt64Array;
  gen: number;
  broken: boolean;
}

let setting: ThreadsSetting = "auto";
let platform: Platform | null | undefined;
let wasmModule: WebAssembly.Module | null | undefined;
let pool: Pool | null = null;
let failed = false;
let simulateMissing = false;
let mainParticipates = true;
let jobs = 0;

/** True when `Atomics.wait` may block this thread (false on a browser's main thread). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

function detectPlatform(): Platform | null {
  if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") return null;
  if (typeof WebAssembly !== "object" || !canBlock()) return null;
  const spawn = (onError: () => void) => spawnWorker(WORKER_SOURCE, onError);
  if (isNode()) {
    const wt = nodeBuiltin<{ Worker?: unknown }>("node:worker_threads");
    const os = nodeBuiltin<{ availableParallelism?: () => number; cpus?: () => unknown[] }>(
      "node:os",
    );
    if (typeof wt?.Worker !== "function") return null;
    return { cores: os?.availableParallelism?.() ?? os?.cpus?.().length ?? 1, spawn };
  }
  const g = globalThis as {
    crossOriginIsolated?: boolean;
    navigator?: { hardwareConcurrency?: number };
  };
  if (g.crossOriginIsolated !== true || typeof Worker !== "function") return null;
  if (typeof Blob !== "function" || typeof URL?.createObjectURL !== "function") return null;
  return { cores: g.navigator?.hardwareConcurrency ?? 1, spawn };
}

function getPlatform(): Platform | null {
  if (simulateMissing) return null;
  if (platform === undefined) {
    try {
      platform = detectPlatform();
    } catch {
      platform = null;
    }
  }
  return platform;
}

function getModule(): WebAssembly.Module | null {
  if (wasmModule === undefined) {
    try {
      const bytes = decodeBase64(GEMM_WASM_SHARED_BASE64);
      wasmModule = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      wasmModule = null;
    }
  }
  return wasmModule;
}

/** True when matmul can use worker threads here (whatever the setting). */
export function threadsSupported(): boolean {
  return !failed && getPlatform() !== null && getModule() !== null;
}

/**
 * Sets the thread count of matmul (validated by the caller, `ng.config.set`). With 1,
 * matmul hands no work to the workers, which stay parked (blocked in `Atomics.wait`) for a
 * later count above 1; another count above 1 replaces them on the next large matmul.
 */
export function setThreads(s: ThreadsSetting): void {
  setting = s;
  const n = threadCount();
  if (pool !== null && n > 1 && pool.workers.length !== n - 1) shutdown();
}

/** The thread-count setting as last set ("auto" by default). */
export function threadsSetting(): ThreadsSetting {
  return setting;
}

/**
 * The number of threads a large matmul uses: the setting ("auto": the available cores, at
 * most AUTO_MAX_THREADS) where threads work, else 1.
 */
export function threadCount(): number {
  if (!threadsSupported()) return 1;
  if (setting === "auto") return Math.max(1, Math.min(getPlatform()!.cores, AUTO_MAX_THREADS));
  return setting;
}

function shutdown(): void {
  if (pool === null) return;
  for (const w of pool.workers) w.terminate();
  pool = null;
}

function createPool(threads: number): Pool | null {
  const plat = getPlatform();
  const mod = getModule();
  if (plat === null || mod === null) return null;
  let memory: WebAssembly.Memory | undefined;
  let maxPages = 0;
  for (const max of [65536, 16384, 4096]) {
    try {
      memory = new WebAssembly.Memory({ initial: 16, maximum: max, shared: true });
      maxPages = max;
      break;
    } catch {
      // address space for the reservation may be short (32-bit browsers): try smaller
    }
  }
  if (memory === undefined) return null;
  const ex = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as {
    gemm_f32: GemmKernel;
    gemm_f64: GemmKernel;
    pack_lines: PackLines;
  };
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const p: Pool = {
    workers: [],
    memory,
    maxBytes: maxPages * 65536,
    f32: ex.gemm_f32,
    f64: ex.gemm_f64,
    pack: ex.pack_lines,
    i32: new Int32Array(control),
    u32: new Uint32Array(control),
    i64: new BigInt64Array(control),
    gen: 0,
    broken: false,
  };
  Atomics.store(p.i64, CLAIM, CLOSED);
  const onError = () => {
    p.broken = true;
  };
  for (let i = 0; i < threads - 1; i++) {
    const w = plat.spawn(onError);
    if (w === null) {
      p.broken = true;
      break;
    }
    p.workers.push(w);
    w.post({ module: mod, memory, control });
  }
  return p;
}

/** The pool for `threads` threads, started (lazily) if needed; null where threads cannot run. */
function getPool(threads: number): Pool | null {
  if (pool !== null && pool.broken) {
    // a worker failed to start: stay on one thread from now on
    shutdown();
    failed = true;
    return null;
  }
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

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

interface Job {
  kind: number;
  k: number;
  nb: number;
  m4: number;
  spb: number;
  bpm: number;
  ap: number;
  apStep: number;
  bp: number;
  bpStep: number;
  cp: number;
  cpStep: number;
  cStrip: number;
  ass: number;
  ars: number;
  aps: number;
  bss: number;
  bps: number;
  blocks: number;
}

function runBlock(p: Pool, j: Job, idx: number): void {
  const t = Math.floor(idx / j.bpm);
  const s0 = (idx - t * j.bpm) * j.spb;
  const rows = Math.min(j.spb, j.m4 - s0);
  (j.kind === 0 ? p.f32 : p.f64)(
    j.ap + t * j.apStep + s0 * j.ass,
    j.ass,
    j.ars,
    j.aps,
    j.bp + t * j.bpStep,
    j.bss,
    j.bps,
    j.cp + t * j.cpStep + s0 * j.cStrip,
    rows,
    j.nb,
    j.k,
  );
}

/** Publishes a job, works on it, and returns when every block is done. */
function runJob(p: Pool, j: Job): void {
  const { i32, u32, i64 } = p;
  u32[KIND] = j.kind;
  u32[PK] = j.k;
  u32[NB] = j.nb;
  u32[M4] = j.m4;
  u32[SPB] = j.spb;
  u32[BPM] = j.bpm;
  u32[AP] = j.ap;
  u32[AP_STEP] = j.apStep;
  u32[BP] = j.bp;
  u32[BP_STEP] = j.bpStep;
  u32[CP] = j.cp;
  u32[CP_STEP] = j.cpStep;
  u32[C_STRIP] = j.cStrip;
  u32[ASS] = j.ass;
  u32[ARS] = j.ars;
  u32[APS] = j.aps;
  u32[BSS] = j.bss;
  u32[BPS] = j.bps;
  u32[NBLOCKS] = j.blocks;
  Atomics.store(i32, DONE, 0);
  Atomics.store(i32, FAILED, 0);
  p.gen++;
  const gen = BigInt(p.gen) << 32n;
  Atomics.store(i64, CLAIM, gen);
  Atomics.add(i32, GEN, 1);
  Atomics.notify(i32, GEN, Math.min(p.workers.length, j.blocks));
  jobs++;
  let error: unknown;
  if (mainParticipates) {
    for (;;) {
      const c = Atomics.load(i64, CLAIM);
      const idx = Number(c & 0xffffffffn);
      if (idx >= j.blocks) break;
      if (Atomics.compareExchange(i64, CLAIM, c, c + 1n) !== c) continue;
      try {
        runBlock(p, j, idx);
      } catch (e) {
        error ??= e;
      }
      Atomics.add(i32, DONE, 1);
    }
  }
  // wait for the blocks the workers claimed
  for (let d = Atomics.load(i32, DONE); d < j.blocks; d = Atomics.load(i32, DONE)) {
    Atomics.wait(i32, DONE, d);
  }
  Atomics.store(i64, CLAIM, gen | CLOSED);
  if (error !== undefined) throw error;
  if (Atomics.load(i32, FAILED) !== 0) throw new Error("matmul: a worker thread failed");
}

/**
 * C[t·m·n + i·n + j] = Σ_p A[i, p]·B[p, j] for each matrix t of a batch (A at element
 * offset aOffs[t], B at bOffs[t], both strided), split across the worker threads. Returns
 * false, having done nothing, where threads are off, not (yet) running, or the problem is
 * too small for them; the caller then runs on one thread.
 */
export function gemmThreaded(
  dtype: "float32" | "float64",
  m: number,
  n: number,
  k: number,
  A: DataArray,
  aOffs: readonly number[],
  aRs: number,
  aCs: number,
  B: DataArray,
  bOffs: readonly number[],
  bRs: number,
  bCs: number,
  C: Float32Array | Float64Array,
): boolean {
  const batches = aOffs.length;
  if (batches * m * n * k * (dtype === "float64" ? 2 : 1) < minWork) return false;
  const threads = threadCount();
  if (threads < 2) return false;
  const f32 = dtype === "float32";
  const es = f32 ? 4 : 8;
  const NR = f32 ? 8 : 4;
  const mp = roundUp(m, 4);
  const np = roundUp(n, NR);
  const m4 = mp / 4;
  if (batches * m4 < 2) return false;
  const p = getPool(threads);
  if (p === null || Atomics.load(p.i32, READY) === 0) return false;

  // one copy of an operand that is the same matrix for the whole batch (broadcast)
  const aOnce = aOffs.every((o) => o === aOffs[0]);
  const bOnce = bOffs.every((o) => o === bOffs[0]);
  const al = aLines(m, k, aRs, aCs, n, NR);
  const bl = bLines(k, n, bRs, bCs, NR, m);
  const aE = placedSize(al);
  const bE = placedSize(bl);
  const cE = mp * np;
  const fixed = (aOnce ? aE : 0) + (bOnce ? bE : 0);
  const perMatrix = (aOnce ? 0 : aE) + (bOnce ? 0 : bE) + cE;
  if ((fixed + perMatrix) * es > p.maxBytes) return false;
  const chunk = Math.max(1, Math.min(batches, Math.floor((jobBytes / es - fixed) / perMatrix)));
  const total = (fixed + chunk * perMatrix) * es;
  const have = p.memory.buffer.byteLength;
  if (total > have) p.memory.grow(Math.ceil((total - have) / 65536));
  const view = f32 ? new Float32Array(p.memory.buffer) : new Float64Array(p.memory.buffer);

  // layout (elements): A (one, or one per matrix), B (likewise), C per matrix. A is copied
  // as it lies or packed (place), and so is B, the same way for every matrix.
  const aBase = 0;
  const bBase = aOnce ? aE : chunk * aE;
  const cBase = bBase + (bOnce ? bE : chunk * bE);
  let placedA = aOnce ? place(view, aBase, A, aOffs[0]!, al, p.pack) : null;
  let placedB = bOnce ? place(view, bBase, B, bOffs[0]!, bl, p.pack) : null;

  // blocks: about BLOCKS_PER_THREAD per thread over the whole job, of at most ROW_STRIPS
  // strips (as on one thread, for the cache)
  const want = threads * BLOCKS_PER_THREAD;
  for (let t0 = 0; t0 < batches; t0 += chunk) {
    const bc = Math.min(chunk, batches - t0);
    for (let t = 0; t < bc; t++) {
      if (!aOnce) placedA = place(view, aBase + t * aE, A, aOffs[t0 + t]!, al, p.pack);
      if (!bOnce) placedB = place(view, bBase + t * bE, B, bOffs[t0 + t]!, bl, p.pack);
    }
    const perM = Math.min(m4, Math.max(1, Math.ceil(want / bc)));
    const spb = Math.min(ROW_STRIPS, Math.ceil(m4 / perM));
    const bpm = Math.ceil(m4 / spb);
    runJob(p, {
      kind: f32 ? 0 : 1,
      k,
      nb: np / NR,
      m4,
      spb,
      bpm,
      ap: aBase * es,
      apStep: aOnce ? 0 : aE * es,
      bp: bBase * es,
      bpStep: bOnce ? 0 : bE * es,
      cp: cBase * es,
      cpStep: cE * es,
      cStrip: 4 * np * es,
      ass: placedA!.ss,
      ars: placedA!.ls,
      aps: placedA!.ps,
      bss: placedB!.ss,
      bps: placedB!.ps,
      blocks: bc * bpm,
    });
    for (let t = 0; t < bc; t++) {
      const src = cBase + t * cE;
      const dst = (t0 + t) * m * n;
      if (np === n) C.set(view.subarray(src, src + m * n), dst);
      else
        for (let i = 0; i < m; i++)
          C.set(view.subarray(src + i * np, src + i * np + n), dst + i * n);
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// switches for tests and benchmarks

/**
 * Test switch: behave as if worker threads did not exist here (as on Node < 20.16 or a
 * page that is not cross-origin isolated). Returns the previous value.
 */
export function simulateNoThreads(on: boolean): boolean {
  const prev = simulateMissing;
  simulateMissing = on;
  if (on) shutdown();
  return prev;
}

/**
 * Test switch: when false, the main thread only hands out blocks and waits, so that every
 * block of a threaded matmul runs on a worker. Returns the previous value.
 */
export function setMainThreadWorks(on: boolean): boolean {
  const prev = mainParticipates;
  mainParticipates = on;
  return prev;
}

/** Test and benchmark switch: the work from which matmul uses threads (THREAD_MIN_WORK). */
export function setThreadMinWork(work: number): number {
  const prev = minWork;
  minWork = work;
  return prev;
}

/** Test switch: the bytes of packed operands per job (a smaller value splits batches into more jobs). */
export function setJobBytes(bytes: number): number {
  const prev = jobBytes;
  jobBytes = bytes;
  return prev;
}

/** Starts the pool for the current setting (if threads work) and resolves when its workers run. */
export async function threadsReady(timeoutMs = 10_000): Promise<number> {
  const threads = threadCount();
  if (threads < 2) return 0;
  const p = getPool(threads);
  if (p === null) return 0;
  return workersReady(p.i32, READY, p.workers.length, () => p.broken, timeoutMs);
}

/** Counters of the current pool: jobs run on threads (since load) and blocks the workers ran. */
export function threadStats(): { jobs: number; workers: number; workerBlocks: number } {
  return {
    jobs,
    workers: pool?.workers.length ?? 0,
    workerBlocks: pool === null ? 0 : Atomics.load(pool.i32, WORKER_BLOCKS),
  };
}
