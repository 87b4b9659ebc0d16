// Shared helpers of the nn tests: float64 tensors, flat values, closeness with a helpful
// message, plain-JS reference kernels (nested arrays, row-major loops), and a float64
// parameter setup.
import { expect } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

export const F64 = { dtype: "float64" } as const;

/** A float64 tensor from nested JS numbers. */
export function f64(v: unknown): Tensor {
  return ng.array(v, F64);
}

/** A deterministic float64 normal sample. */
export function randn(seed: number, shape: number[], scale = 1): Tensor {
  return ng.random.normal(ng.random.key(seed), shape, { dtype: "float64" }).mul(scale);
}

/** The elements as a flat JS array. */
export function flat(x: Tensor | readonly number[]): number[] {
  return Array.isArray(x) ? [...x] : Array.from((x as Tensor).dataSync(), Number);
}

/** Asserts |a - b| <= atol + rtol·|b| elementwise, naming the worst element. */
export function expectClose(
  a: Tensor | readonly number[],
  b: Tensor | readonly number[],
  tol = 1e-10,
): void {
  const x = flat(a);
  const y = flat(b);
  expect(x.length).toBe(y.length);
  let worst = -1;
  let excess = 0;
  x.forEach((v, i) => {
    const e = Math.abs(v - y[i]!) - tol * Math.max(1, Math.abs(y[i]!));
    if (!(e <= excess)) {
      excess = Number.isNaN(e) ? Infinity : e;
      worst = i;
    }
  });
  if (worst >= 0) {
    expect.fail(`element ${worst}: got ${x[worst]}, expected ${y[worst]} (tolerance ${tol})`);
  }
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** A reader v(i, j, ...) of a tensor's elements by index. */
export function reader(t: Tensor): (...idx: number[]) => number {
  const d = flat(t);
  const st = strides(t.shape);
  return (...idx) => d[idx.reduce((o, v, k) => o + v * st[k]!, 0)]!;
}

/** Plain-JS matrix product of row-major [n, k] and [k, m] arrays. */
export function matmulJs(a: number[], b: number[], n: number, k: number, m: number): number[] {
  const out = new Array<number>(n * m).fill(0);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * m + j]!;
      out[i * m + j] = s;
    }
  return out;
}

/** Maps every tensor leaf of a parameter tree to float64 random values (seeded). */
export function randomParams<T>(ps: T, seed = 100, scale = 0.5): T {
  let k = seed;
  return ng.tree.map(
    (leaf: unknown) =>
      leaf instanceof ng.Tensor && (leaf.dtype === "float32" || leaf.dtype === "float64")
        ? randn(k++, leaf.shape as number[], scale)
        : leaf,
    ps,
  ) as T;
}

export const sigmoidJs = (z: number): number => 1 / (1 + Math.exp(-z));
