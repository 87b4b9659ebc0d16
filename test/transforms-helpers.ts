// Shared helpers of the transform tests: float64 construction, scalar derivative operators
// in either mode, and plain-JS comparison with informative failure messages.
import { expect } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { mulberry32 } from "./tensor/reference.js";

export type Mode = "fwd" | "rev";
export const MODES: readonly Mode[] = ["fwd", "rev"];

/** A float64 tensor from nested JS numbers. */
export function f64(v: unknown): Tensor {
  return ng.array(v, { dtype: "float64" });
}

/** The derivative of a scalar-to-scalar function, by forward (jvp) or reverse (grad) mode. */
export function D(mode: Mode, f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  if (mode === "rev") return ng.grad(f);
  return (x: Tensor) => ng.jvp(f, [x], [ng.onesLike(x)])[1];
}

/** All sequences of `n` modes (2^n of them). */
export function modeMixes(n: number): Mode[][] {
  if (n === 0) return [[]];
  return modeMixes(n - 1).flatMap((m) => MODES.map((x) => [...m, x]));
}

/** The elements of a tensor (or numbers) as a flat JS array. */
export function flat(x: Tensor | number | readonly number[]): number[] {
  if (typeof x === "number") return [x];
  if (Array.isArray(x)) return [...(x as number[])];
  return Array.from((x as Tensor).dataSync(), Number);
}

/** Asserts |a - b| <= atol + rtol·|b| elementwise, naming the worst element. */
export function expectClose(
  a: Tensor | number | readonly number[],
  b: Tensor | number | readonly number[],
  rtol = 1e-10,
  atol = 1e-12,
  what = "",
): void {
  const x = flat(a);
  const y = flat(b);
  expect(x.length, `${what} lengths`).toBe(y.length);
  for (let i = 0; i < x.length; i++) {
    const err = Math.abs(x[i]! - y[i]!);
    const tol = atol + rtol * Math.abs(y[i]!);
    if (!(err <= tol)) {
      expect.fail(
        `${what} element ${i}: got ${x[i]}, expected ${y[i]} (|diff| ${err} > tol ${tol})`,
      );
    }
  }
}

/** Deterministic uniform numbers in [lo, hi) (mulberry32). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  const u = mulberry32(seed);
  return (lo = -1, hi = 1) => lo + (hi - lo) * u();
}

/** A float64 tensor of the given shape with uniform random entries. */
export function randomTensor(
  shape: readonly number[],
  next: (lo?: number, hi?: number) => number,
  lo = -1,
  hi = 1,
): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = next(lo, hi);
  return ng.reshape(f64(Array.from(data)), shape);
}
