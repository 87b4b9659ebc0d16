/**
 * `ng.random` (DESIGN.md §5): the counter-based generator of tensor/random.ts with keys and
 * samples as Tensors. A key is an int32 tensor of shape [2]; the same key gives the same
 * numbers everywhere. Sampling reads the key's value, so keys must be concrete.
 */
import { Tensor } from "./core/tensor.js";
import type { FloatDType } from "./tensor/dtype.js";
import type { NDArray } from "./tensor/ndarray.js";
import * as R from "./tensor/random.js";
import { fromNDArray } from "./primitives/convert.js";

function keyOf(k: unknown): NDArray {
  if (k instanceof Tensor) return k.concrete("random: key");
  return k as NDArray; // validated by the tensor layer, which names the argument
}

/** A key from an integer seed. @example const k = ng.random.key(0); */
export function key(seed: number): Tensor {
  return fromNDArray(R.key(seed));
}

/** `num` new independent keys derived from `k`. @example const [k1, k2] = ng.random.split(k); */
export function split(k: Tensor, num = 2): Tensor[] {
  return R.split(keyOf(k), num).map(fromNDArray);
}

/** A new key from `k` and an integer. */
export function foldIn(k: Tensor, data: number): Tensor {
  return fromNDArray(R.foldIn(keyOf(k), data));
}

/** Uniform samples in [minval, maxval). */
export function uniform(
  k: Tensor,
  shape: readonly number[],
  options: { minval?: number; maxval?: number; dtype?: FloatDType } = {},
): Tensor {
  return fromNDArray(R.uniform(keyOf(k), shape, options));
}

/** Normal samples (mean 0, std 1 by default). @example ng.random.normal(k, [2, 3]) */
export function normal(
  k: Tensor,
  shape: readonly number[],
  options: { dtype?: FloatDType; mean?: number; std?: number } = {},
): Tensor {
  return fromNDArray(R.normal(keyOf(k), shape, options));
}

/** Normal samples truncated to [lower, upper]. */
export function truncatedNormal(
  k: Tensor,
  shape: readonly number[],
  lower = -2,
  upper = 2,
  options: { dtype?: FloatDType } = {},
): Tensor {
  return fromNDArray(R.truncatedNormal(keyOf(k), shape, lower, upper, options));
}

/** Bool samples, true with probability p. */
export function bernoulli(k: Tensor, p: number, shape: readonly number[]): Tensor {
  return fromNDArray(R.bernoulli(keyOf(k), p, shape));
}

/** Uniform int32 samples in [minval, maxval). */
export function randint(
  k: Tensor,
  shape: readonly number[],
  minval: number,
  maxval: number,
): Tensor {
  return fromNDArray(R.randint(keyOf(k), shape, minval, maxval));
}

/** A random permutation of 0..n-1 (int32). */
export function permutation(k: Tensor, n: number): Tensor {
  return fromNDArray(R.permutation(keyOf(k), n));
}
