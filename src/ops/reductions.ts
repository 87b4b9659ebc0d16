/**
 * Reduction composites: mean, variance, std, sumSquares and a stable
 * logsumexp, written with the sum/max primitives and elementwise ops only. Axis
 * arguments follow `sum`: undefined/null = all axes, a number, or a list; negative axes
 * count from the end.
 */
import type { Tensor } from "../core/tensor.js";
import { isFloat, toFloat } from "../tensor/dtype.js";
import { normalizeAxes } from "../tensor/shape.js";
import { abs } from "../primitives/abs.js";
import { add } from "../primitives/add.js";
import { cast } from "../primitives/cast.js";
import { less } from "../primitives/compare.js";
import { toTensor, type TensorLike } from "../primitives/convert.js";
import { div } from "../primitives/div.js";
import { exp } from "../primitives/exp.js";
import { log } from "../primitives/log.js";
import { max } from "../primitives/max.js";
import { mul } from "../primitives/mul.js";
import { reshape } from "../primitives/reshape.js";
import { sqrt } from "../primitives/sqrt.js";
import { stopGradient } from "../primitives/stop_gradient.js";
import { sub } from "../primitives/sub.js";
import { reduceOptions, sum, type ReduceOptions } from "../primitives/sum.js";
import { optionKeys, positionalOrOptions } from "../util/options.js";
import { where } from "../primitives/where.js";
import { square } from "./elementwise.js";

/** Axis argument of the reductions: undefined/null = all axes. */
export type Axis = number | readonly number[] | null | undefined;

/** The options form of variance's and std's optional arguments. */
export interface MomentOptions extends ReduceOptions {
  /** Delta degrees of freedom: divide by n − ddof (default 0; 1 gives the sample variance). */
  ddof?: number;
}

/** The keys of MomentOptions (checked against the interface by the compiler). */
export const MOMENT_OPTION_KEYS = optionKeys<MomentOptions>()(["axis", "keepdims", "ddof"]);

/** `x` as a tensor of a float dtype (int32/bool compute in float32). */
export function asFloat(x: TensorLike, argName: string): Tensor {
  const t = toTensor(x, argName);
  return isFloat(t.dtype) ? t : cast(t, toFloat(t.dtype));
}

/** The normalised axes and the number of elements they reduce over. */
export function reductionInfo(
  t: Tensor,
  axis: Axis,
  argName: string,
): { axes: number[]; count: number } {
  const axes = normalizeAxes(axis, t.ndim, argName);
  return { axes, count: axes.reduce((n, a) => n * t.shape[a]!, 1) };
}

/** The shape `t` has after reducing `axes` (keepdims keeps them as 1). */
function reducedShape(t: Tensor, axes: readonly number[], keepdims: boolean): number[] {
  return t.shape.flatMap((d, i) => (axes.includes(i) ? (keepdims ? [1] : []) : [d]));
}

function checkKeepdims(keepdims: unknown, name: string): boolean {
  if (typeof keepdims !== "boolean") {
    throw new TypeError(`${name}: keepdims: expected a boolean, got ${typeof keepdims}`);
  }
  return keepdims;
}

/**
 * The maximum over `axes` (kept as size 1) as a constant for shifting: gradients do not
 * flow through it, and infinite maxima (all -inf, or +inf entries) become 0 so the shift
 * never turns finite inputs into NaN.
 */
export function stableShift(t: Tensor, axes: readonly number[]): Tensor {
  const m = max(stopGradient(t), axes, true);
  return where(less(abs(m), Infinity), m, 0);
}

/**
 * log(sum(exp(x))) over `axis`, computed stably as m + log(sum(exp(x - m))) with
 * m = stopGradient(max(x)) (the result does not depend on m, so neither does its
 * gradient, softmax(x)). Integer inputs compute in float32.
 * @example ng.logsumexp(ng.array([1000, 1000])) // 1000 + log(2), no overflow
 */
export function logsumexp(x: TensorLike, options: ReduceOptions): Tensor;
export function logsumexp(x: TensorLike, axis?: Axis, keepdims?: boolean): Tensor;
export function logsumexp(x: TensorLike, ...rest: unknown[]): Tensor {
  const { axis, keepdims = false } = reduceOptions("logsumexp", rest);
  const t = asFloat(x, "logsumexp: x");
  const { axes } = reductionInfo(t, axis, "logsumexp: axis");
  const kd = checkKeepdims(keepdims, "logsumexp");
  const m = stableShift(t, axes);
  const out = add(log(sum(exp(sub(t, m)), axes, true)), m);
  return kd ? out : reshape(out, reducedShape(t, axes, false));
}

/**
 * Arithmetic mean over `axis` (all elements by default). Integer inputs give float32.
 * The mean over zero elements is NaN, like NumPy.
 * @example ng.mean(ng.array([[1, 2], [3, 4]]), 0) // [2, 3]
 * @example ng.mean(ng.array([[1, 2], [3, 4]]), { axis: 1, keepdims: true }) // [[1.5], [3.5]]
 */
export function mean(x: TensorLike, options: ReduceOptions): Tensor;
export function mean(x: TensorLike, axis?: Axis, keepdims?: boolean): Tensor;
export function mean(x: TensorLike, ...rest: unknown[]): Tensor {
  const { axis, keepdims = false } = reduceOptions("mean", rest);
  const t = asFloat(x, "mean: x");
  const { axes, count } = reductionInfo(t, axis, "mean: axis");
  return div(sum(t, axes, checkKeepdims(keepdims, "mean")), count);
}

/**
 * Variance over `axis`: sum((x - mean)²) / (n - ddof), two-pass for accuracy. ddof = 1
 * gives the unbiased sample variance; n - ddof must be positive.
 * @example ng.variance(ng.array([1, 2, 3, 4])) // 1.25
 * @example ng.variance(ng.array([1, 2, 3, 4]), { ddof: 1 }) // 5 / 3
 */
export function variance(x: TensorLike, options: MomentOptions): Tensor;
export function variance(x: TensorLike, axis?: Axis, keepdims?: boolean, ddof?: number): Tensor;
export function variance(x: TensorLike, ...rest: unknown[]): Tensor {
  const {
    axis,
    keepdims = false,
    ddof = 0,
  } = positionalOrOptions<MomentOptions>("variance", rest, MOMENT_OPTION_KEYS);
  return varianceNamed("variance", x, axis, keepdims, ddof);
}

function varianceNamed(
  name: string,
  x: TensorLike,
  axis: Axis,
  keepdims: boolean,
  ddof: number,
): Tensor {
  const t = asFloat(x, `${name}: x`);
  const { axes, count } = reductionInfo(t, axis, `${name}: axis`);
  const kd = checkKeepdims(keepdims, name);
  if (typeof ddof !== "number" || !Number.isFinite(ddof) || ddof < 0) {
    throw new RangeError(`${name}: ddof: expected a finite number >= 0, got ${String(ddof)}`);
  }
  if (count - ddof <= 0) {
    throw new RangeError(
      `${name}: ddof = ${ddof} leaves no degrees of freedom: the reduction is over ${count} element(s)`,
    );
  }
  const mu = div(sum(t, axes, true), count);
  return div(sum(square(sub(t, mu)), axes, kd), count - ddof);
}

/**
 * Standard deviation over `axis`: sqrt(variance(x, axis, keepdims, ddof)). Its gradient
 * is NaN where the variance is exactly 0 (the square root is not differentiable there).
 * @example ng.std(ng.array([1, 2, 3, 4])) // sqrt(1.25)
 */
export function std(x: TensorLike, options: MomentOptions): Tensor;
export function std(x: TensorLike, axis?: Axis, keepdims?: boolean, ddof?: number): Tensor;
export function std(x: TensorLike, ...rest: unknown[]): Tensor {
  const {
    axis,
    keepdims = false,
    ddof = 0,
  } = positionalOrOptions<MomentOptions>("std", rest, MOMENT_OPTION_KEYS);
  return sqrt(varianceNamed("std", x, axis, keepdims, ddof));
}

/**
 * sum(x²) over `axis` (all elements by default).
 * @example ng.sumSquares(ng.array([3, 4])) // 25
 */
export function sumSquares(x: TensorLike, options: ReduceOptions): Tensor;
export function sumSquares(x: TensorLike, axis?: Axis, keepdims?: boolean): Tensor;
export function sumSquares(x: TensorLike, ...rest: unknown[]): Tensor {
  const { axis, keepdims = false } = reduceOptions("sumSquares", rest);
  const t = toTensor(x, "sumSquares: x");
  return sum(
    mul(t, t),
    normalizeAxes(axis, t.ndim, "sumSquares: axis"),
    checkKeepdims(keepdims, "sumSquares"),
  );
}
