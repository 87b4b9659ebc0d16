/**
 * Elementwise composites: one-liners over the
 * primitives, with no derivative rules of their own, so every derivative is the
 * primitives' and can be differentiated again.
 */
import type { Tensor } from "../core/tensor.js";
import { describeValue, toTensor, type TensorLike } from "../primitives/convert.js";
import { maximum } from "../primitives/maximum.js";
import { minimum } from "../primitives/minimum.js";
import { mul } from "../primitives/mul.js";
import { optionKeys, positionalOrOptions } from "../util/options.js";

/** The options form of clip's bounds: `clip(x, { lo: 0 })`. */
export interface ClipOptions {
  /** Lower bound (none when omitted or null). */
  lo?: TensorLike | null;
  /** Upper bound (none when omitted or null). */
  hi?: TensorLike | null;
}
const CLIP_OPTION_KEYS = optionKeys<ClipOptions>()(["lo", "hi"]);

/**
 * x², elementwise (keeps x's dtype).
 * @example ng.square(ng.array([1, -2, 3])) // [1, 4, 9]
 */
export function square(x: TensorLike): Tensor {
  const t = toTensor(x, "square: x");
  return mul(t, t);
}

/**
 * Limits every element to [lo, hi]: min(max(x, lo), hi). Either bound may be null or
 * undefined for "no bound"; bounds broadcast against x. At a bound the derivative is ½
 * (the tie rule of maximum/minimum, as in JAX); inside it is 1, outside 0, and every
 * higher derivative is 0. NaN in x propagates (clip(NaN, 0, 1) = NaN).
 * @example ng.clip(ng.array([-2, 0.5, 3]), 0, 1) // [0, 0.5, 1]
 * @example ng.clip(ng.array([-2, 0.5, 3]), { hi: 1 }) // [-2, 0.5, 1]
 */
export function clip(x: TensorLike, options: ClipOptions): Tensor;
export function clip(x: TensorLike, lo?: TensorLike | null, hi?: TensorLike | null): Tensor;
export function clip(x: TensorLike, ...rest: unknown[]): Tensor {
  const { lo, hi } = positionalOrOptions<ClipOptions>("clip", rest, CLIP_OPTION_KEYS);
  let t = toTensor(x, "clip: x");
  checkBound(lo, "lo");
  checkBound(hi, "hi");
  if (typeof lo === "number" && typeof hi === "number" && lo > hi) {
    throw new RangeError(`clip: lo must not exceed hi, got lo = ${lo}, hi = ${hi}`);
  }
  if (lo !== undefined && lo !== null) t = maximum(t, lo);
  if (hi !== undefined && hi !== null) t = minimum(t, hi);
  return t;
}

function checkBound(v: unknown, name: string): void {
  if (v === undefined || v === null) return;
  if (typeof v === "number") {
    if (Number.isNaN(v)) throw new RangeError(`clip: ${name} must not be NaN`);
    return;
  }
  if (typeof v === "boolean") {
    throw new TypeError(`clip: ${name}: expected a number or a Tensor, got ${describeValue(v)}`);
  }
  toTensor(v, `clip: ${name}`);
}
