/**
 * Matmul benchmark: GFLOP/s of square n×n products for nestgrad's
 * blocked kernel, a naive i-j-k triple loop in plain JS and the tfjs CPU backend
 * (float32 only; timed with dataSync() so the result is really computed and read); then
 * nestgrad with 1 and 2 threads (`ng.config` `threads`) side by side, at square sizes and
 * at the dense-layer shapes of the benchmarks. Run alone: `npx tsx bench/matmul.ts`
 * (the threads table only; `--peers` adds the first table, `--quick` takes fewer rounds).
 */
import * as tf from "@tensorflow/tfjs-core";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { NDArray, matmul, matmulFlops } from "../src/tensor/index.js";
import {
  setThreads,
  threadCount,
  threadStats,
  threadsReady,
  threadsSetting,
} from "../src/tensor/kernels/gemm_threads.js";
import { fmt, printTable, randomFloats, ratio, timeIt, type TimingOptions } from "./util.js";

/** The textbook triple loop, row-major, i-j-k order (the inner loop strides down B's column). */
export function naiveMatmul(
  a: Float32Array | Float64Array,
  b: Float32Array | Float64Array,
  out: Float32Array | Float64Array,
  n: number,
): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
      out[i * n + j] = s;
    }
  }
}

function options(n: number, quick: boolean): TimingOptions {
  if (n >= 1024) return { warmup: 1, repeats: quick ? 1 : 3, minRepeatMs: 0 };
  if (n >= 256) return { warmup: 2, repeats: quick ? 3 : 5, minRepeatMs: 50 };
  return { warmup: 20, repeats: quick ? 3 : 7, minRepeatMs: 100 };
}

export async function benchMatmul(quick: boolean): Promise<void> {
  const rows: string[][] = [];
  for (const dtype of ["float32", "float64"] as const) {
    const ctor = dtype === "float32" ? Float32Array : Float64Array;
    for (const n of [64, 256, 1024]) {
      const flops = matmulFlops([n, n], [n, n]);
      const ad = randomFloats(n * n, 1, ctor);
      const bd = randomFloats(n * n, 2, ctor);
      const a = new NDArray(ad, [n, n]);
      const b = new NDArray(bd, [n, n]);
      const opt = options(n, quick);
      const ours = flops / (await timeIt(() => matmul(a, b), opt)) / 1e9;

      // the naive loop at n = 1024 takes seconds: one untimed-warm-up-free run (or none in quick mode)
      let naive: number | undefined;
      if (n < 1024) {
        naive = flops / (await timeIt(() => naiveMatmul(ad, bd, new ctor(n * n), n), opt)) / 1e9;
      } else if (!quick) {
        const once = { warmup: 0, repeats: 1, minRepeatMs: 0 };
        naive = flops / (await timeIt(() => naiveMatmul(ad, bd, new ctor(n * n), n), once)) / 1e9;
      }

      let peer: number | undefined;
      if (dtype === "float32") {
        const ta = tf.tensor2d(ad as Float32Array, [n, n], "float32");
        const tb = tf.tensor2d(bd as Float32Array, [n, n], "float32");
        const run = () => {
          const c = tf.matMul(ta, tb);
          c.dataSync();
          c.dispose();
        };
        peer = flops / (await timeIt(run, opt)) / 1e9;
        ta.dispose();
        tb.dispose();
      }
      rows.push([
        dtype,
        String(n),
        fmt(ours),
        fmt(naive),
        fmt(peer),
        ratio(ours, naive),
        ratio(ours, peer),
      ]);
    }
  }
  printTable(
    "matmul, square n×n, GFLOP/s (2·n³ flops / median time; higher is better)",
    ["dtype", "n", "nestgrad", "naive ijk", "tfjs-cpu", "ng/naive", "ng/tfjs"],
    rows,
  );
  console.log(
    "naive ijk at n = 1024: a single run without warm-up" +
      (quick ? " (skipped with --quick)" : "") +
      `; tfjs-cpu: float32 only; nestgrad with threads ${JSON.stringify(threadsSetting())}`,
  );
  await benchMatmulThreads(quick);
}

/** Shapes [m, k, n] of the threads table: squares, then the dense layers of the AD benchmarks. */
const THREAD_SHAPES: readonly (readonly [number, number, number])[] = [
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [1024, 64, 64],
  [4096, 256, 256],
];

/**
 * CPU time of the main thread so far in ms (Linux: /proc, in clock ticks of 10 ms), or
 * undefined elsewhere. With 2 threads the main thread packs, computes its share of the
 * blocks and copies out, and only waits for the worker otherwise, so its CPU time per
 * product estimates what the product takes on cores that nothing else uses, even on a busy
 * machine (somewhat optimistically: under load the worker may take more than half the blocks).
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) / 100) * 1e3;
  } catch {
    return undefined;
  }
}

/**
 * The work 2 threads that share nothing (each spins on arithmetic for `ms`) do, over the
 * work of 1: about 2 where a second core is free, about 1 where other processes keep the
 * cores busy. The ceiling of any 2-thread speedup at the moment it is measured.
 */
async function parallelHeadroom(ms = 250): Promise<number> {
  const code = `const { parentPort, workerData } = require("node:worker_threads");
let x = 0, units = 0;
const end = Date.now() + workerData;
while (Date.now() < end) { for (let i = 0; i < 1e5; i++) x = (x * 1.0000001 + 1) % 1e9; units++; }
parentPort.postMessage(units + (x < 0 ? 1 : 0));`;
  const run = async (threads: number): Promise<number> => {
    const ws = Array.from(
      { length: threads },
      () => new Worker(code, { eval: true, workerData: ms }),
    );
    const units = await Promise.all(
      ws.map((w) => new Promise<number>((r) => w.once("message", r))),
    );
    await Promise.all(ws.map((w) => w.terminate()));
    return units.reduce((x, y) => x + y, 0);
  };
  let one = 0;
  let two = 0;
  for (let r = 0; r < 2; r++) {
    one += await run(1);
    two += await run(2);
  }
  return two / one;
}

/**
 * GFLOP/s with 1 and 2 threads, measured interleaved: each round times both settings
 * back to back (alternating which goes first), so that both see the same load. Reports the
 * median of the rounds and their range, and the median of the per-round ratios (less
 * sensitive to load that changes between rounds than the ratio of medians), and, on Linux,
 * the ratio of the main thread's CPU time per product, 1 thread / 2 threads (see
 * mainThreadCpuMs): the speedup to expect where the second core is free.
 */
export async function benchMatmulThreads(quick: boolean): Promise<void> {
  const prev = threadsSetting();
  setThreads(2);
  const workers = await threadsReady();
  const rows: string[][] = [];
  const load0 = loadavg()[0]!;
  const headroom0 = await parallelHeadroom();
  try {
    for (const dtype of ["float32", "float64"] as const) {
      const ctor = dtype === "float32" ? Float32Array : Float64Array;
      for (const [m, k, n] of THREAD_SHAPES) {
        const a = new NDArray(randomFloats(m * k, 1, ctor), [m, k]);
        const b = new NDArray(randomFloats(k * n, 2, ctor), [k, n]);
        const flops = matmulFlops([m, k], [k, n]);
        // calls per timing: about 40 ms at 10 GFLOP/s
        const calls = Math.max(1, Math.round(4e8 / flops));
        const rounds = quick ? 3 : flops >= 2e9 ? 5 : 7;
        const cpu = [0, 0, 0];
        const time = (threads: number): number => {
          setThreads(threads);
          const c0 = mainThreadCpuMs() ?? 0;
          const t0 = performance.now();
          for (let c = 0; c < calls; c++) matmul(a, b);
          const t = (performance.now() - t0) / calls / 1e3;
          cpu[threads]! += (mainThreadCpuMs() ?? 0) - c0;
          return t;
        };
        time(1);
        time(2);
        const g1: number[] = [];
        const g2: number[] = [];
        const jobs0 = threadStats().jobs;
        cpu.fill(0);
        for (let r = 0; r < rounds; r++) {
          const first = r % 2 === 0 ? 1 : 2;
          const tFirst = time(first);
          const tSecond = time(3 - first);
          const [t1, t2] = first === 1 ? [tFirst, tSecond] : [tSecond, tFirst];
          g1.push(flops / t1 / 1e9);
          g2.push(flops / t2 / 1e9);
        }
        const threaded = threadStats().jobs > jobs0;
        const median = (xs: number[]) => {
          const s = [...xs].sort((x, y) => x - y);
          const h = s.length >> 1;
          return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
        };
        const range = (xs: number[]) => `${fmt(Math.min(...xs), 1)}–${fmt(Math.max(...xs), 1)}`;
        rows.push([
          dtype,
          `[${m}, ${k}]×[${k}, ${n}]`,
          fmt(median(g1)),
          range(g1),
          threaded ? fmt(median(g2)) : "-",
          threaded ? range(g2) : "-",
          threaded ? `${median(g2.map((g, i) => g / g1[i]!)).toFixed(2)}x` : "-",
          threaded && cpu[2]! > 0 ? `${(cpu[1]! / cpu[2]!).toFixed(2)}x` : "-",
        ]);
      }
    }
  } finally {
    setThreads(prev);
  }
  const headroom1 = await parallelHeadroom();
  printTable(
    "matmul, 1 vs 2 threads, GFLOP/s (2·m·n·k / time; median of interleaved rounds, and their range)",
    ["dtype", "shape", "1 thread", "range", "2 threads", "range", "2t/1t", "main CPU 1t/2t"],
    rows,
  );
  console.log(
    `${availableParallelism()} cores; worker threads up: ${workers}; "auto" here means ` +
      `${threadCount()} threads; load average ${load0.toFixed(1)} before, ` +
      `${loadavg()[0]!.toFixed(1)} after. Two threads sharing nothing did ` +
      `${headroom0.toFixed(2)}x / ${headroom1.toFixed(2)}x the work of one before / after ` +
      `(2x where a second core is free): the ceiling of 2t/1t on this machine now. ` +
      `2t/1t: median of the per-round ratios. ` +
      `main CPU 1t/2t: CPU time of the main thread per product, 1 thread / 2 threads (Linux; ` +
      `clock ticks of 10 ms), an estimate of the speedup where the second core is free.`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes("--quick");
  if (process.argv.includes("--peers")) {
    await import("@tensorflow/tfjs-backend-cpu");
    await tf.setBackend("cpu");
    await benchMatmul(quick); // ends with the threads table
  } else {
    await benchMatmulThreads(quick);
  }
}
