// Fused loops of the jit interpreter split across worker threads (jit/fused_threads.ts):
// outputs are bitwise the same for 1, 2 and 3 threads (and equal the unfused program) on
// chains with tanh/exp/sigmoid stages, broadcast, strided and scalar inputs, several
// outputs, float32 and float64, with blocks cut mid-row and with every block run by a
// worker; the W0 gradient; the counters show the workers ran; `threads: 1` and missing
// worker threads keep loops on one thread; shared pool buffers are never handed out while
// referenced; a failing or silent worker gives a clear error instead of a hang.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/core/tensor.js";
import { setFusionEnabled } from "../../src/jit/fuse.js";
import {
  fusedThreadStats,
  fusedThreadsReady,
  setCallerWorks,
  setFusedThreadsEnabled,
  setSplitThresholds,
  setWorkerFactory,
  shippedHelperNames,
  type SplitThresholds,
} from "../../src/jit/fused_threads.js";
import type { WorkerHandle } from "../../src/tensor/kernels/workers.js";
import { simulateNoThreads } from "../../src/tensor/kernels/gemm_threads.js";
import { matmul as matmulKernel } from "../../src/tensor/kernels/matmul.js";
import { NDArray } from "../../src/tensor/ndarray.js";
import { BufferPool, allocateShared, bufferPool, isSharedMemory } from "../../src/tensor/pool.js";

type Fn = (...xs: Tensor[]) => Tensor | Tensor[];

const INITIAL = ng.config.get();
let thresholds: SplitThresholds;

beforeAll(() => {
  // split every loop, in blocks of 64 elements (so blocks start mid-row)
  thresholds = setSplitThresholds({ work: 0, elements: 0, block: 64 });
});

afterAll(() => {
  setSplitThresholds(thresholds);
});

afterEach(() => {
  ng.config.set(INITIAL);
  setCallerWorks(true);
  setFusedThreadsEnabled(true);
  setFusionEnabled(true);
  simulateNoThreads(false);
});

/** Sets the thread count and waits until the fused-loop workers run. */
async function useThreads(threads: number): Promise<void> {
  ng.config.set({ threads });
  if (threads > 1) expect(await fusedThreadsReady()).toBe(threads - 1);
}

const asList = (y: Tensor | Tensor[]) => (Array.isArray(y) ? y : [y]);

/** The outputs' elements as float64 lists (bit patterns of float32 values preserved). */
function valuesOf(ys: readonly Tensor[]): Float64Array[] {
  return ys.map((y) => Float64Array.from(y.dataSync() as ArrayLike<number>));
}

/** Element-for-element identity (NaN equals NaN, −0 differs from +0). */
function expectBitwise(a: readonly Float64Array[], b: readonly Float64Array[], what: string) {
  expect(a.length, `${what}: outputs`).toBe(b.length);
  a.forEach((x, i) => {
    const y = b[i]!;
    expect(x.length, `${what}: output ${i} size`).toBe(y.length);
    let bad = -1;
    for (let k = 0; k < x.length && bad < 0; k++) if (!Object.is(x[k], y[k])) bad = k;
    expect(bad < 0 ? "identical" : `output ${i} element ${bad}: ${x[bad]} vs ${y[bad]}`, what).toBe(
      "identical",
    );
  });
}

/**
 * Runs `f` jitted (interpreter) at 1, 2 and 3 threads, the last also with every block on
 * the workers, and unfused on one thread: all bitwise equal. Returns the split jobs run.
 */
async function checkThreads(f: Fn, args: readonly Tensor[], what: string): Promise<number> {
  await useThreads(1);
  const jobs0 = fusedThreadStats().jobs;
  const jf = ng.jit(f, { backend: "interpreter" });
  const one = valuesOf(asList(jf(...args)));
  expect(fusedThreadStats().jobs, `${what}: threads 1 splits nothing`).toBe(jobs0);
  setFusionEnabled(false);
  const unfused = valuesOf(asList(ng.jit(f, { backend: "interpreter" })(...args)));
  setFusionEnabled(true);
  expectBitwise(one, unfused, `${what}: fused vs unfused`);
  for (const threads of [2, 3]) {
    await useThreads(threads);
    expectBitwise(valuesOf(asList(jf(...args))), one, `${what}: ${threads} threads`);
    expectBitwise(valuesOf(asList(jf(...args))), one, `${what}: ${threads} threads, again`);
  }
  const { jobs: jobs1, workerBlocks: blocks1 } = fusedThreadStats();
  setCallerWorks(false);
  expectBitwise(valuesOf(asList(jf(...args))), one, `${what}: 3 threads, all blocks on workers`);
  setCallerWorks(true);
  const { jobs: jobs2, workerBlocks: blocks2 } = fusedThreadStats();
  // every block of a split loop ran on a worker (at least two blocks per split loop)
  expect(blocks2 - blocks1, `${what}: blocks the workers ran`).toBeGreaterThanOrEqual(
    2 * (jobs2 - jobs1),
  );
  return jobs2 - jobs0;
}

/** A tensor of `shape` over shared memory, values from a seeded sine (some negative, some large). */
function sharedInput(shape: number[], dtype: "float32" | "float64", seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = allocateShared(dtype, n);
  for (let i = 0; i < n; i++) d[i] = 3 * Math.sin(seed + i * 0.37) + (i % 97 === 0 ? 40 : 0);
  return ng.array(new NDArray(d, shape));
}

/** The same values in ordinary memory. */
function plainInput(shape: number[], dtype: "float32" | "float64", seed: number): Tensor {
  const s = sharedInput(shape, dtype, seed).dataSync();
  return ng.array(new NDArray(s.slice(), shape));
}

describe("split fused loops equal one thread bitwise", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: tanh, exp and sigmoid stages, a row bias, a column, a scalar, several outputs`, async () => {
      const f = (x: Tensor, b: Tensor, c: Tensor) => {
        const h = ng.tanh(ng.add(ng.mul(x, 1.5), b)); // vector stage over a broadcast row
        const e = ng.exp(ng.sub(h, c)); // a column [R, 1]
        const s = ng.sigmoid(ng.mul(e, x));
        return [h, ng.add(s, ng.mul(h, h)), e];
      };
      const args = [
        sharedInput([97, 211], dtype, 1),
        sharedInput([211], dtype, 2),
        sharedInput([97, 1], dtype, 3),
      ];
      expect(await checkThreads(f, args, dtype)).toBeGreaterThan(0);
    });
  }

  it("int32 and bool values: wrap-around, comparisons, where, casts to float, a bool output", async () => {
    const n = 90 * 131;
    const d = allocateShared("int32", n) as Int32Array;
    for (let i = 0; i < n; i++) d[i] = ((i * 2654435761) | 0) >> (i % 7);
    const xi = ng.array(new NDArray(d, [90, 131]));
    const f = (x: Tensor, y: Tensor) => {
      const w = ng.add(ng.mul(x, x), 12345); // int32 wrap-around
      const pos = ng.greater(w, 0);
      const z = ng.where(pos, ng.tanh(ng.mul(ng.cast(w, "float32"), 1e-9)), y);
      return [w, pos, ng.sigmoid(z)];
    };
    const args = [xi, sharedInput([90, 131], "float32", 6)];
    expect(await checkThreads(f, args, "int32 and bool")).toBeGreaterThan(0);
  });

  it("inputs in ordinary memory are copied into shared memory (constants too)", async () => {
    const k = plainInput([64, 130], "float32", 7);
    const f = (x: Tensor, b: Tensor) => ng.mul(ng.tanh(ng.add(x, b)), ng.exp(ng.neg(k)));
    const args = [plainInput([64, 130], "float32", 4), plainInput([130], "float32", 5)];
    expect(await checkThreads(f, args, "ordinary inputs")).toBeGreaterThan(0);
  });

  it("a strided input (a transposed view) takes the JavaScript formula on every thread", async () => {
    const f = (x: Tensor, y: Tensor) => {
      const t = ng.transpose(x); // non-contiguous: the unfused kernel runs Math.tanh on it
      return [ng.mul(ng.tanh(t), y), ng.sigmoid(ng.add(t, y))];
    };
    const args = [sharedInput([173, 59], "float64", 8), sharedInput([59, 173], "float64", 9)];
    expect(await checkThreads(f, args, "strided")).toBeGreaterThan(0);
  });

  it("a matmul epilogue in place over the matmul result, and single-op groups", async () => {
    const f = (x: Tensor, w: Tensor, b: Tensor) => {
      const h = ng.tanh(ng.add(ng.matmul(x, w), b));
      return [ng.sum(ng.mul(h, h), 0), ng.mul(h, 2), ng.exp(h)];
    };
    const args = [
      plainInput([150, 40], "float32", 10),
      plainInput([40, 120], "float32", 11),
      plainInput([120], "float32", 12),
    ];
    expect(await checkThreads(f, args, "epilogue")).toBeGreaterThan(0);
  });

  it("a returned epilogue takes over the matmul result; the caller gets ordinary memory", async () => {
    const f = (x: Tensor, w: Tensor, b: Tensor) => ng.tanh(ng.add(ng.matmul(x, w), b));
    const args = [
      plainInput([130, 24], "float64", 13),
      plainInput([24, 140], "float64", 14),
      plainInput([140], "float64", 15),
    ];
    expect(await checkThreads(f, args, "returned epilogue")).toBeGreaterThan(0);
    const y = ng.jit(f, { backend: "interpreter" })(...(args as [Tensor, Tensor, Tensor]));
    const data = (y as unknown as { value: NDArray }).value.data;
    // split across threads in shared memory, handed out as an ordinary array of exact size
    expect(isSharedMemory(data)).toBe(false);
    expect(data.length).toBe(130 * 140);
  });

  it("random elementwise programs with broadcasting (fast-check)", async () => {
    const unary = [ng.tanh, ng.exp, ng.sigmoid, ng.sin, ng.neg, ng.abs, ng.log1p, ng.sqrt];
    const binary = [ng.add, ng.sub, ng.mul, ng.maximum];
    const prog = fc.record({
      rows: fc.integer({ min: 1, max: 70 }),
      cols: fc.integer({ min: 40, max: 90 }),
      dtype: fc.constantFrom("float32" as const, "float64" as const),
      ops: fc.array(
        fc.record({
          u: fc.integer({ min: 0, max: unary.length - 1 }),
          b: fc.integer({ min: 0, max: binary.length - 1 }),
          a: fc.nat(),
          c: fc.nat(),
        }),
        { minLength: 1, maxLength: 6 },
      ),
      outs: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    });
    const samples = fc.sample(prog, { numRuns: 12, seed: 17 });
    let jobs = 0;
    for (const p of samples) {
      const f = (x: Tensor, row: Tensor, col: Tensor) => {
        const vals = [x, row, col];
        for (const o of p.ops) {
          const a = vals[o.a % vals.length]!;
          const c = vals[o.c % vals.length]!;
          // abs keeps log1p and sqrt real
          vals.push(binary[o.b]!(unary[o.u]!(ng.abs(a)), c));
        }
        const full = vals.filter((v) => v.shape[0] === p.rows && v.shape[1] === p.cols);
        return p.outs.map((k) => ng.add(full[k % full.length] ?? x, x));
      };
      const args = [
        sharedInput([p.rows, p.cols], p.dtype, 1),
        sharedInput([1, p.cols], p.dtype, 2),
        sharedInput([p.rows, 1], p.dtype, 3),
      ];
      jobs += await checkThreads(f, args, `program ${JSON.stringify(p)}`);
    }
    expect(jobs).toBeGreaterThan(12);
  });

  it("the W0 gradient (MLP tanh, mean squared error) jitted", async () => {
    const dims = [16, 64, 64, 1];
    const ps: Tensor[] = [];
    for (let i = 0; i + 1 < dims.length; i++) {
      const w = ng.random.normal(ng.random.key(10 + i), [dims[i]!, dims[i + 1]!]);
      ps.push(ng.mul(w, 1 / Math.sqrt(dims[i]!)), ng.zeros([dims[i + 1]!]));
    }
    const x = ng.random.normal(ng.random.key(1), [256, 16]);
    const y = ng.random.normal(ng.random.key(2), [256, 1]);
    const mlp = (p: Tensor[], h: Tensor) => {
      for (let i = 0; i < p.length; i += 2) {
        h = ng.add(ng.matmul(h, p[i]!), p[i + 1]!);
        if (i + 2 < p.length) h = ng.tanh(h);
      }
      return h;
    };
    const loss = (p: Tensor[], x: Tensor, y: Tensor) => ng.mean(ng.square(ng.sub(mlp(p, x), y)));
    const g = ng.grad(loss) as unknown as Fn;
    const jobs = await checkThreads(g, [ps, x, y] as unknown as Tensor[], "W0 gradient");
    expect(jobs).toBeGreaterThan(0);
  });
});

describe("when loops stay on one thread", () => {
  const f = (x: Tensor) => ng.tanh(ng.mul(x, 2));
  const x = () => sharedInput([128, 128], "float32", 3);

  it("threads: 1 splits nothing and keeps buffers in ordinary memory", async () => {
    await useThreads(1);
    const jobs = fusedThreadStats().jobs;
    const y = ng.jit(f, { backend: "interpreter" })(x()) as Tensor;
    expect(fusedThreadStats().jobs).toBe(jobs);
    expect(isSharedMemory((y as unknown as { value: NDArray }).value.data)).toBe(false);
  });

  it("without worker threads (as in a browser that is not cross-origin isolated)", async () => {
    await useThreads(2);
    simulateNoThreads(true);
    const jobs = fusedThreadStats().jobs;
    ng.jit(f, { backend: "interpreter" })(x());
    expect(fusedThreadStats().jobs).toBe(jobs);
  });

  it("the switch off; loops below the thresholds", async () => {
    await useThreads(2);
    const jf = ng.jit(f, { backend: "interpreter" });
    const jobs = fusedThreadStats().jobs;
    setFusedThreadsEnabled(false);
    jf(x());
    expect(fusedThreadStats().jobs).toBe(jobs);
    setFusedThreadsEnabled(true);
    const prev = setSplitThresholds({ elements: 1 << 20 });
    jf(x());
    expect(fusedThreadStats().jobs).toBe(jobs);
    setSplitThresholds(prev);
    jf(x());
    expect(fusedThreadStats().jobs).toBe(jobs + 1);
  });

  it("a loop calling a helper the workers lack (erf; a cast to int32 that may throw)", async () => {
    expect(shippedHelperNames()).toEqual(
      expect.arrayContaining(["sigmoid", "roundHalfEven", "modFloat", "modInt", "powFloat"]),
    );
    expect(shippedHelperNames()).not.toContain("erf");
    expect(shippedHelperNames()).not.toContain("toInt32");
    expect(shippedHelperNames()).not.toContain("powInt");
    await useThreads(2);
    const jobs = fusedThreadStats().jobs;
    const y = x();
    const a = ng.jit((t: Tensor) => ng.erf(ng.mul(t, 0.5)), { backend: "interpreter" })(y);
    const b = ng.jit((t: Tensor) => ng.cast(ng.mul(t, 3), "int32"), { backend: "interpreter" })(y);
    expect(fusedThreadStats().jobs).toBe(jobs);
    expect(Array.from(a.dataSync().slice(0, 3))).toEqual(
      Array.from(ng.erf(ng.mul(y, 0.5)).dataSync().slice(0, 3)),
    );
    expect(b.dtype).toBe("int32");
  });
});

describe("process exit", () => {
  it("a process that ran split fused loops exits by itself", () => {
    const module = fileURLToPath(new URL("../../src/index.ts", import.meta.url));
    const threads = fileURLToPath(new URL("../../src/jit/fused_threads.ts", import.meta.url));
    const script = [
      `const ng = await import(${JSON.stringify(module)});`,
      `const { fusedThreadStats, fusedThreadsReady } = await import(${JSON.stringify(threads)});`,
      "ng.config.set({ threads: 2 });",
      "await fusedThreadsReady();",
      "const f = ng.jit((x) => ng.tanh(ng.mul(ng.exp(x), 2)), { backend: 'interpreter' });",
      "const y = f(ng.random.normal(ng.random.key(1), [512, 512]));",
      "console.log(y.shape.join(','), fusedThreadStats().jobs);",
    ].join("\n");
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(out.trim()).toBe("512,512 1");
  });
});

describe("shared buffers in the pool", () => {
  it("shared and ordinary buffers are pooled apart; a double release is an error", () => {
    const pool = new BufferPool(1 << 20);
    const s = pool.acquire("float32", 100, false, true);
    expect(isSharedMemory(s)).toBe(true);
    expect(s).toBeInstanceOf(Float32Array);
    pool.release(s);
    expect(pool.holds(s)).toBe(true);
    expect(pool.acquire("float32", 100)).not.toBe(s); // an ordinary request
    expect(pool.acquire("float32", 100, false, true)).toBe(s);
    pool.release(s);
    expect(() => pool.release(s)).toThrow(/released twice/);
    const z = pool.acquire("float64", 10, true, true);
    expect(isSharedMemory(z) && Array.from(z).every((v) => v === 0)).toBe(true);
  });

  it("outputs held across split calls keep their values; steady state allocates nothing", async () => {
    await useThreads(2);
    const f = (x: Tensor, w: Tensor) => {
      const h = ng.tanh(ng.matmul(x, w)); // pool buffer, then in place
      const g = ng.exp(ng.mul(h, 0.5)); // a pooled intermediate read by two groups
      return [ng.sum(g, 1), ng.sub(g, ng.sum(h, 1, true)), ng.transpose(h)];
    };
    const jf = ng.jit(f, { backend: "interpreter" });
    const w = plainInput([32, 96], "float32", 1);
    const held: { outs: Tensor[]; x: Tensor }[] = [];
    const jobs = fusedThreadStats().jobs;
    for (let k = 0; k < 6; k++) {
      const x = plainInput([200, 32], "float32", 100 + k);
      held.push({ outs: jf(x, w), x });
    }
    expect(fusedThreadStats().jobs).toBeGreaterThan(jobs);
    for (const { outs } of held) {
      for (const o of outs) {
        expect(isSharedMemory((o as unknown as { value: NDArray }).value.data)).toBe(false);
      }
    }
    const misses = bufferPool.stats().misses;
    jf(held[0]!.x, w);
    expect(bufferPool.stats().misses).toBe(misses);
    // every held output still equals a fresh one-thread run of its own input
    await useThreads(1);
    for (const { outs, x } of held) {
      expectBitwise(valuesOf(outs), valuesOf(jf(x, w)), "held output");
    }
  });
});

describe("matmul into given storage (the interpreter's pool buffers)", () => {
  it("equals the allocating kernel bitwise on every path, over dirty storage; bad storage is an error", () => {
    // small (direct loops), packed, WebAssembly and threaded sizes; a batch; float64 and int32
    const cases: [number[], number[], "float32" | "float64" | "int32"][] = [
      [[3, 5], [5, 2], "float64"],
      [[20, 30], [30, 10], "float32"],
      [[20, 30], [30, 10], "float64"],
      [[2, 40, 64], [64, 50], "float32"],
      [[300, 200], [200, 100], "float32"],
      [[6, 7], [7, 3], "int32"],
    ];
    for (const [sa, sb, dtype] of cases) {
      const a = matmulArg(sa, dtype, 1);
      const b = matmulArg(sb, dtype, 2);
      const ref = matmulKernel(a, b);
      const into = allocateShared(ref.dtype, ref.size + 5);
      into.fill(7); // leftovers of an earlier use
      const got = matmulKernel(a, b, into);
      expect(got.data.buffer).toBe(into.buffer);
      expect(got.shape).toEqual(ref.shape);
      expect(Array.from(got.flat() as ArrayLike<number>)).toEqual(
        Array.from(ref.flat() as ArrayLike<number>),
      );
    }
    const a = matmulArg([2, 3], "float32", 1);
    expect(() => matmulKernel(a, matmulArg([3, 2], "float32", 2), new Float64Array(4))).toThrow(
      /matmul: into must be a float32 array of at least 4 elements, got float64\[4\]/,
    );
    expect(() => matmulKernel(a, matmulArg([3, 2], "float32", 2), new Float32Array(3))).toThrow(
      /at least 4 elements, got float32\[3\]/,
    );
  });
});

function matmulArg(shape: number[], dtype: "float32" | "float64" | "int32", seed: number): NDArray {
  const n = shape.reduce((x, y) => x * y, 1);
  const d =
    dtype === "float32"
      ? new Float32Array(n)
      : dtype === "float64"
        ? new Float64Array(n)
        : new Int32Array(n);
  for (let i = 0; i < n; i++)
    d[i] = dtype === "int32" ? ((i * 7 + seed) % 11) - 5 : Math.sin(seed + i);
  return new NDArray(d, shape);
}

describe("worker failures", () => {
  afterEach(() => {
    setWorkerFactory(null);
  });

  /** Workers from the real source with `edit` applied, or fake handles. */
  function factory(edit: (source: string) => string): void {
    setWorkerFactory((source, onError) => {
      const wt = process.getBuiltinModule("node:worker_threads");
      const w = new wt.Worker(edit(source), { eval: true });
      w.unref();
      w.on("error", onError);
      return { post: (m: unknown) => w.postMessage(m), terminate: () => void w.terminate() };
    });
  }

  it("an error thrown in a worker surfaces as a clear error", async () => {
    factory((s) =>
      s.replace("f(msg.X, msg.O", 'throw new Error("boom in worker"); f(msg.X, msg.O'),
    );
    await useThreads(2);
    setCallerWorks(false);
    const jf = ng.jit((x: Tensor) => ng.tanh(ng.mul(x, 2)), { backend: "interpreter" });
    expect(() => jf(sharedInput([64, 64], "float32", 1))).toThrow(
      /worker thread failed running a fused loop: Error: boom in worker/,
    );
  });

  it("a worker that never finishes is given up after the stall time; then one thread", async () => {
    // a fake worker: says it is ready, then ignores every job
    setWorkerFactory((): WorkerHandle => ({
      post: (m: unknown) => {
        const msg = m as { init?: boolean; control?: SharedArrayBuffer };
        if (msg.init) Atomics.add(new Int32Array(msg.control!), 2, 1);
      },
      terminate: () => {},
    }));
    ng.config.set({ threads: 2 });
    await fusedThreadsReady();
    const prev = setSplitThresholds({ stallMs: 200 });
    try {
      setCallerWorks(false);
      const f = (x: Tensor) => ng.exp(ng.mul(x, 2));
      const jf = ng.jit(f, { backend: "interpreter" });
      const x = sharedInput([64, 64], "float32", 2);
      expect(() => jf(x)).toThrow(/worker thread running a fused loop stopped/);
      const jobs = fusedThreadStats().jobs;
      expect(valuesOf([jf(x) as Tensor])).toEqual(valuesOf([f(x) as Tensor]));
      expect(fusedThreadStats().jobs).toBe(jobs);
    } finally {
      setSplitThresholds(prev);
    }
  });
});
