// Worker threads for matmul: the committed shared-memory module is the compiled WAT, a
// threaded product equals the one-thread product bitwise (float32 and float64, odd sizes,
// transposed and strided operands, broadcast batches, mixed dtypes, several jobs per
// batch) and a float64 reference within rounding, `ng.config.set({ threads })` validates
// its value and 1 turns threads off, threads are off where worker_threads is missing, and
// a process that used them still exits.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import * as K from "../src/tensor/index.js";
import { setWasmGemmEnabled } from "../src/tensor/kernels/gemm_wasm.js";
import {
  AUTO_MAX_THREADS,
  THREAD_MIN_WORK,
  setJobBytes,
  setMainThreadWorks,
  setThreadMinWork,
  simulateNoThreads,
  threadCount,
  threadStats,
  threadsReady,
  threadsSupported,
} from "../src/tensor/kernels/gemm_threads.js";
import { GEMM_WASM_SHARED_BASE64 } from "../src/tensor/kernels/gemm_wasm_shared.generated.js";
import { compileGemmSharedWat } from "../scripts/build-wasm.js";

const INITIAL = ng.config.get();

afterEach(() => {
  ng.config.set(INITIAL);
  setMainThreadWorks(true);
  simulateNoThreads(false);
});

/** The elements of x (any layout) as a float64 list, bit patterns preserved. */
function values(x: K.NDArray): Float64Array {
  return Float64Array.from(x.flat() as Float32Array | Float64Array);
}

/** First index where a and b differ as bit patterns (NaN-safe), or -1. */
function firstDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return 0;
  const ua = new BigUint64Array(a.buffer);
  const ub = new BigUint64Array(b.buffer);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** Naive float64 product of the last two axes of a and b (b's batch broadcast against a's). */
function reference(a: K.NDArray, b: K.NDArray): number[] {
  const out: number[] = [];
  const m = a.shape[a.ndim - 2]!;
  const k = a.shape[a.ndim - 1]!;
  const n = b.shape[b.ndim - 1]!;
  const batch = a.size / (m * k);
  const aa = values(a);
  const bb = values(b);
  const bBatch = b.size / (k * n);
  for (let t = 0; t < batch; t++) {
    const bo = (bBatch === 1 ? 0 : t) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += aa[t * m * k + i * k + p]! * bb[bo + p * n + j]!;
        out.push(s);
      }
  }
  return out;
}

function withThreads<T>(threads: number | "auto", fn: () => T): T {
  const prev = ng.config.set({ threads });
  try {
    return fn();
  } finally {
    ng.config.set(prev);
  }
}

/**
 * The product with one thread, and with 2 and 3 threads (main thread working, and only the
 * workers working); checks that every threaded run was split across threads and equals the
 * one-thread result bitwise. Returns the one-thread result.
 */
async function checkThreaded(a: K.NDArray, b: K.NDArray): Promise<K.NDArray> {
  const one = withThreads(1, () => K.matmul(a, b));
  const ref = values(one);
  for (const threads of [2, 3]) {
    ng.config.set({ threads });
    expect(await threadsReady()).toBe(threads - 1);
    for (const mainWorks of [true, false]) {
      setMainThreadWorks(mainWorks);
      const before = threadStats();
      const got = K.matmul(a, b);
      const after = threadStats();
      expect(after.jobs).toBeGreaterThan(before.jobs);
      if (!mainWorks) expect(after.workerBlocks).toBeGreaterThan(before.workerBlocks);
      expect(got.dtype).toBe(one.dtype);
      expect(got.shape).toEqual(one.shape);
      expect(firstDifference(values(got), ref)).toBe(-1);
    }
    setMainThreadWorks(true);
  }
  ng.config.set({ threads: INITIAL.threads });
  return one;
}

function expectClose(x: K.NDArray, ref: readonly number[], tol: number): void {
  const v = values(x);
  const scale = Math.max(...ref.map(Math.abs));
  for (let i = 0; i < ref.length; i++) {
    if (!(Math.abs(v[i]! - ref[i]!) <= tol * scale)) {
      throw new Error(`element ${i}: ${v[i]} vs reference ${ref[i]} (tolerance ${tol * scale})`);
    }
  }
}

const TOL = { float32: 1e-5, float64: 1e-13 } as const;

describe("matmul on worker threads", () => {
  let minWork = THREAD_MIN_WORK;
  beforeAll(() => {
    // the tests below need threads; Node ≥ 20.16 has them
    expect(threadsSupported()).toBe(true);
    // split products of any size, so that small odd shapes take the threaded path
    minWork = setThreadMinWork(0);
    return () => void setThreadMinWork(minWork);
  });

  it("the committed shared-memory module is the compiled WAT", async () => {
    const bytes = await compileGemmSharedWat();
    expect(Buffer.from(bytes).toString("base64")).toBe(GEMM_WASM_SHARED_BASE64);
  });

  it('"auto" is the available cores, at most AUTO_MAX_THREADS, and the default', () => {
    expect(INITIAL.threads).toBe("auto");
    const n = threadCount();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(AUTO_MAX_THREADS);
    expect(withThreads(3, threadCount)).toBe(3);
  });

  it.each(["float32", "float64"] as const)(
    "%s: odd sizes are bitwise the one-thread result",
    async (dtype) => {
      for (const [m, k, n] of [
        [97, 131, 83], // nothing a multiple of the strips
        [261, 67, 19], // thin: one column strip
        [8, 300, 200], // two row strips
        [130, 257, 129],
      ] as const) {
        const a = K.random.normal(K.random.key(m), [m, k], { dtype });
        const b = K.random.normal(K.random.key(n + 7), [k, n], { dtype });
        const one = await checkThreaded(a, b);
        expectClose(one, reference(a, b), TOL[dtype]);
      }
    },
  );

  it.each(["float32", "float64"] as const)(
    "%s: transposed, strided and flipped operands",
    async (dtype) => {
      const a0 = K.random.normal(K.random.key(1), [150, 2 * 90], { dtype });
      const b0 = K.random.normal(K.random.key(2), [70, 3 * 90], { dtype });
      // a: every other column (strided); b: a transposed view, rows reversed
      const a = K.slice(a0, [null, { step: 2 }]);
      const b = K.flip(K.transpose(K.slice(b0, [null, { start: 1, step: 3 }])), 0);
      expect(a.contiguous).toBe(false);
      expect(b.contiguous).toBe(false);
      const one = await checkThreaded(a, b);
      expectClose(one, reference(a.toContiguous(), b.toContiguous()), TOL[dtype]);
      // rows of a wider array (copied as they lie, gaps included), or of a much wider one
      // (packed); m not a multiple of 4
      for (const width of [130, 400]) {
        const w = K.random.normal(K.random.key(width), [151, width], { dtype });
        const rows = K.slice(w, [null, { stop: 90 }]);
        const oneR = await checkThreaded(rows, b);
        expectClose(oneR, reference(rows.toContiguous(), b.toContiguous()), TOL[dtype]);
      }
      // one row repeated (row stride 0)
      const rep = K.broadcastTo(K.random.normal(K.random.key(4), [1, 90], { dtype }), [150, 90]);
      const oneB = await checkThreaded(rep, b);
      expectClose(oneB, reference(rep.toContiguous(), b.toContiguous()), TOL[dtype]);
      // a transposed left operand
      const at = K.transpose(K.random.normal(K.random.key(3), [90, 150], { dtype }));
      const one2 = await checkThreaded(at, b);
      expectClose(one2, reference(at.toContiguous(), b.toContiguous()), TOL[dtype]);
    },
  );

  it.each(["float32", "float64"] as const)(
    "%s: batched products, with broadcasting on either side",
    async (dtype) => {
      const a = K.random.normal(K.random.key(4), [3, 45, 61], { dtype });
      const b = K.random.normal(K.random.key(5), [61, 77], { dtype });
      const one = await checkThreaded(a, b); // b shared by the batch
      expectClose(one, reference(a, b), TOL[dtype]);
      const bb = K.random.normal(K.random.key(6), [3, 61, 77], { dtype });
      const one2 = await checkThreaded(a, bb); // a matrix each
      expectClose(one2, reference(a, bb), TOL[dtype]);
      // a shared by a batch of b: [45, 61] @ [3, 61, 77]
      const a1 = K.random.normal(K.random.key(7), [45, 61], { dtype });
      const one3 = await checkThreaded(a1, bb);
      expectClose(one3, reference(K.broadcastTo(a1, [3, 45, 61]).toContiguous(), bb), TOL[dtype]);
      // many small matrices: one block per matrix
      const c = K.random.normal(K.random.key(8), [2, 20, 9, 30], { dtype });
      const d = K.random.normal(K.random.key(9), [2, 20, 30, 33], { dtype });
      const one4 = await checkThreaded(c, d);
      expectClose(one4, reference(c, d), TOL[dtype]);
    },
  );

  it("a batch larger than one job runs in several jobs, bitwise the same", async () => {
    const a = K.random.normal(K.random.key(10), [7, 33, 50], { dtype: "float64" });
    const b = K.random.normal(K.random.key(11), [7, 50, 41], { dtype: "float64" });
    const prev = setJobBytes(3 * (36 * 50 + 50 * 44 + 36 * 44) * 8); // three matrices per job
    try {
      const before = threadStats().jobs;
      const one = await checkThreaded(a, b);
      // 2 thread counts × 2 modes × ceil(7 / 3) jobs
      expect(threadStats().jobs - before).toBe(2 * 2 * 3);
      expectClose(one, reference(a, b), TOL.float64);
    } finally {
      setJobBytes(prev);
    }
  });

  it("float32 × float64 computes in float64, bitwise as on one thread", async () => {
    const a = K.random.normal(K.random.key(12), [101, 77], { dtype: "float32" });
    const b = K.random.normal(K.random.key(13), [77, 66], { dtype: "float64" });
    const one = await checkThreaded(a, b);
    expect(one.dtype).toBe("float64");
    expectClose(one, reference(a, b), TOL.float64);
  });

  it("small products, int32 products and the JS kernels stay on one thread", async () => {
    setThreadMinWork(minWork);
    try {
      ng.config.set({ threads: 2 });
      expect(await threadsReady()).toBe(1);
      const jobs = threadStats().jobs;
      const s = K.random.normal(K.random.key(14), [32, 32], { dtype: "float32" });
      K.matmul(s, s); // 2^15 multiply-adds
      const i = K.reshape(K.arange(0, 200 * 200, 1, "int32"), [200, 200]);
      const ii = K.matmul(i, i);
      expect(ii.dtype).toBe("int32");
      const big = K.random.normal(K.random.key(15), [128, 128], { dtype: "float64" });
      const prev = setWasmGemmEnabled(false);
      try {
        K.matmul(big, big);
      } finally {
        setWasmGemmEnabled(prev);
      }
      expect(threadStats().jobs).toBe(jobs);
      // THREAD_MIN_WORK = 2^20 float32 multiply-adds; a float64 one counts twice
      const count = (m: number, dtype: "float32" | "float64") => {
        const before = threadStats().jobs;
        const a = K.random.normal(K.random.key(m), [m, 128], { dtype });
        const b = K.random.normal(K.random.key(m + 1), [128, 64], { dtype });
        K.matmul(a, b);
        return threadStats().jobs - before;
      };
      expect(count(128, "float32")).toBe(1); // 2^20
      expect(count(124, "float32")).toBe(0);
      expect(count(64, "float64")).toBe(1); // 2^19 · 2
      expect(count(60, "float64")).toBe(0);
    } finally {
      setThreadMinWork(0);
    }
  });
});

describe("the threads setting", () => {
  it("accepts a positive integer or auto and names the key otherwise", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 257, "4", "all", null, true]) {
      expect(() => ng.config.set({ threads: bad as never })).toThrow(
        /config\.set: threads must be a positive integer \(at most 256\) or "auto", got /,
      );
    }
    expect(() => ng.config.set({ threads: "Auto" as never })).toThrow(/did you mean "auto"\?/);
    expect(() => ng.config.set({ thread: 2 } as never)).toThrow(/did you mean "threads"\?/);
    // a rejected call changes nothing
    expect(() => ng.config.set({ debugNans: true, threads: 0 })).toThrow(/threads/);
    expect(ng.config.get()).toEqual(INITIAL);
    const prev = ng.config.set({ threads: 3 });
    expect(prev.threads).toBe("auto");
    expect(ng.config.get().threads).toBe(3);
  });

  it("threads: 1 turns threads off; another count replaces the workers", async () => {
    ng.config.set({ threads: 2 });
    expect(await threadsReady()).toBe(1);
    expect(threadStats().workers).toBe(1);
    ng.config.set({ threads: 1 });
    expect(threadCount()).toBe(1);
    const a = K.random.normal(K.random.key(16), [200, 200], { dtype: "float32" });
    const jobs = threadStats().jobs;
    const blocks = threadStats().workerBlocks;
    const c = K.matmul(a, a);
    expect(threadStats()).toMatchObject({ jobs, workerBlocks: blocks });
    expectClose(c, reference(a, a), TOL.float32);
    // back to 2: the parked worker takes work again; 3: two new workers
    ng.config.set({ threads: 2 });
    setMainThreadWorks(false);
    expect(firstDifference(values(K.matmul(a, a)), values(c))).toBe(-1);
    expect(threadStats()).toMatchObject({ jobs: jobs + 1, workers: 1 });
    expect(threadStats().workerBlocks).toBeGreaterThan(blocks);
    ng.config.set({ threads: 3 });
    expect(await threadsReady()).toBe(2);
    expect(threadStats()).toMatchObject({ workers: 2, workerBlocks: 0 });
    expect(firstDifference(values(K.matmul(a, a)), values(c))).toBe(-1);
    expect(threadStats().workerBlocks).toBeGreaterThan(0);
  });

  it("without worker_threads (simulated), any setting runs on one thread", async () => {
    simulateNoThreads(true);
    expect(threadsSupported()).toBe(false);
    ng.config.set({ threads: 4 });
    expect(threadCount()).toBe(1);
    expect(await threadsReady()).toBe(0);
    const a = K.random.normal(K.random.key(17), [200, 150], { dtype: "float64" });
    const b = K.random.normal(K.random.key(18), [150, 120], { dtype: "float64" });
    const jobs = threadStats().jobs;
    const c = K.matmul(a, b);
    expect(threadStats()).toMatchObject({ jobs, workers: 0 });
    expectClose(c, reference(a, b), TOL.float64);
    simulateNoThreads(false);
    expect(threadCount()).toBe(4);
  });

  it("a process that ran threaded products exits by itself", () => {
    const module = fileURLToPath(new URL("../src/index.ts", import.meta.url));
    const threads = fileURLToPath(
      new URL("../src/tensor/kernels/gemm_threads.ts", import.meta.url),
    );
    const script = [
      `const ng = await import(${JSON.stringify(module)});`,
      `const { threadStats, threadsReady } = await import(${JSON.stringify(threads)});`,
      "ng.config.set({ threads: 2 });",
      "const a = ng.nd.random.normal(ng.nd.random.key(1), [300, 300]);",
      "ng.nd.matmul(a, a);", // starts the workers
      "await threadsReady();",
      "const c = ng.nd.matmul(a, a);",
      "console.log(c.shape.join(','), threadStats().jobs);",
    ].join("\n");
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(out.trim()).toBe("300,300 1");
  });
});
