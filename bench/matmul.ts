/**
 * Matmul benchmark: GFLOP/s of square n×n products for nestgrad's
 * blocked kernel, a naive i-j-k triple loop in plain JS and the tfjs CPU backend
 * (float32 only; timed with dataSync() so the result is really computed and read).
 */
import * as tf from "@tensorflow/tfjs-core";
import { NDArray, matmul, matmulFlops } from "../src/tensor/index.js";
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
      "; tfjs-cpu: float32 only",
  );
}
