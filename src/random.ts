/**
 * `ng.random`: the counter-based generator of tensor/random.ts with keys and
 * samples as Tensors. A key is an int32 tensor of shape [2]; the same key gives the same
 * numbers everywhere. Sampling reads the key's value, so keys must be concrete.
 */
import { Tensor } from "./core/tensor.js";
import type { FloatDType } from "./tensor/dtype.js";
import type { NDArray } from "./tensor/ndarray.js";
import * as R from "./tensor/random.js";
import { fromNDArray } from "./primitives/convert.js";
import { checkOptions, optionKeys } from "./util/options.js";

/** Options of `uniform`. */
export interface UniformOptions {
  /** Lower bound, included (default 0). */
  minval?: number;
  /** Upper bound, excluded (default 1). */
  maxval?: number;
  dtype?: FloatDType;
}
const UNIFORM_OPTION_KEYS = optionKeys<UniformOptions>()(["minval", "maxval", "dtype"]);

/** Options of `normal`. */
export interface NormalOptions {
  dtype?: FloatDType;
  mean?: number;
  std?: number;
}
const NORMAL_OPTION_KEYS = optionKeys<NormalOptions>()(["dtype", "mean", "std"]);

/** Options of `truncatedNormal`: the bounds (in units of the standard deviation) and dtype. */
export interface TruncatedNormalOptions {
  /** Lower bound (default -2). */
  lower?: number;
  /** Upper bound (default 2). */
  upper?: number;
  dtype?: FloatDType;
}
const TRUNCATED_NORMAL_OPTION_KEYS = optionKeys<TruncatedNormalOptions>()([
  "lower",
  "upper",
  "dtype",
]);

function keyOf(k: unknown): NDArray {
  if (k instanceof Tensor) return k.concrete("random: key");
  return k as NDArray; // validated by the tensor layer, which names the argument
}

/** A key from an integer seed. @example const k = ng.random.key(0); */
export function key(seed: number): Tensor {
  return fromNDArray(R.key(seed));
}

/** `num` new independent keys derived from `k`. @example const [k1, k2] = ng.random.split(ng.random.key(0)); */
export function split(k: Tensor, num = 2): Tensor[] {
  return R.split(keyOf(k), num).map(fromNDArray);
}

/**
 * A new key from `k` and an integer.
 * @example const stepKey = ng.random.foldIn(ng.random.key(0), 17);
 */
export function foldIn(k: Tensor, data: number): Tensor {
  return fromNDArray(R.foldIn(keyOf(k), data));
}

/**
 * Uniform samples in [minval, maxval).
 * @example ng.random.uniform(ng.random.key(0), [2, 3], { minval: -1, maxval: 1 })
 */
export function uniform(k: Tensor, shape: readonly number[], options: UniformOptions = {}): Tensor {
  checkOptions("random.uniform", options, UNIFORM_OPTION_KEYS);
  return fromNDArray(R.uniform(keyOf(k), shape, options));
}

/** Normal samples (mean 0, std 1 by default). @example ng.random.normal(ng.random.key(0), [2, 3]) */
export function normal(k: Tensor, shape: readonly number[], options: NormalOptions = {}): Tensor {
  checkOptions("random.normal", options, NORMAL_OPTION_KEYS);
  return fromNDArray(R.normal(keyOf(k), shape, options));
}

/**
 * Standard normal samples truncated to [lower, upper] (default [-2, 2]); the bounds come
 * positionally or in the options object.
 * @example ng.random.truncatedNormal(ng.random.key(0), [3], { lower: -1, upper: 1 })
 * @example ng.random.truncatedNormal(ng.random.key(0), [3], -1, 1, { dtype: "float64" })
 */
export function truncatedNormal(
  k: Tensor,
  shape: readonly number[],
  options?: TruncatedNormalOptions,
): Tensor;
export function truncatedNormal(
  k: Tensor,
  shape: readonly number[],
  lower?: number,
  upper?: number,
  options?: Pick<TruncatedNormalOptions, "dtype">,
): Tensor;
export function truncatedNormal(
  k: Tensor,
  shape: readonly number[],
  lowerOrOptions?: number | TruncatedNormalOptions,
  upper?: number,
  options?: Pick<TruncatedNormalOptions, "dtype">,
): Tensor {
  const name = "random.truncatedNormal";
  let o: TruncatedNormalOptions;
  if (typeof lowerOrOptions === "object" && lowerOrOptions !== null) {
    if (upper !== undefined || options !== undefined) {
      throw new TypeError(
        `${name}: with an options object as the third argument, pass no further arguments`,
      );
    }
    o = checkOptions(name, lowerOrOptions, TRUNCATED_NORMAL_OPTION_KEYS);
  } else {
    o = { ...checkOptions(name, options, ["dtype"]), lower: lowerOrOptions, upper };
  }
  const { lower = -2, upper: hi = 2, dtype } = o;
  return fromNDArray(R.truncatedNormal(keyOf(k), shape, lower, hi, { dtype }));
}

/** Bool samples, true with probability p. @example ng.random.bernoulli(ng.random.key(0), 0.5, [4]) */
export function bernoulli(k: Tensor, p: number, shape: readonly number[]): Tensor {
  return fromNDArray(R.bernoulli(keyOf(k), p, shape));
}

/** Uniform int32 samples in [minval, maxval). @example ng.random.randint(ng.random.key(0), [5], 0, 10) */
export function randint(
  k: Tensor,
  shape: readonly number[],
  minval: number,
  maxval: number,
): Tensor {
  return fromNDArray(R.randint(keyOf(k), shape, minval, maxval));
}

/** A random permutation of 0..n-1 (int32). @example ng.random.permutation(ng.random.key(0), 5) */
export function permutation(k: Tensor, n: number): Tensor {
  return fromNDArray(R.permutation(keyOf(k), n));
}
