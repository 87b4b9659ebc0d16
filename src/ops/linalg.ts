/**
 * Linear-algebra composites: vector norms, dot, outer and trace,
 * written with the sum/max/matmul/slice primitives and elementwise ops only.
 */
import type { Tensor } from "../core/tensor.js";
import { formatShape, normalizeAxes, shapesEqual } from "../tensor/shape.js";
import { abs } from "../primitives/abs.js";
import { equal, greater, less } from "../primitives/compare.js";
import { div } from "../primitives/div.js";
import { logicalAnd } from "../primitives/logical.js";
import { stopGradient } from "../primitives/stop_gradient.js";
import { describeValue, toTensor, type TensorLike } from "../primitives/convert.js";
import { matmul } from "../primitives/matmul.js";
import { max } from "../primitives/max.js";
import { mul } from "../primitives/mul.js";
import { reshape } from "../primitives/reshape.js";
import { slice } from "../primitives/slice.js";
import { sqrt } from "../primitives/sqrt.js";
import { sum } from "../primitives/sum.js";
import { where } from "../primitives/where.js";
import { asFloat, type Axis } from "./reductions.js";
import { optionKeys, positionalOrOptions } from "../util/options.js";

/** The orders `norm` supports: sum of |x|, Euclidean, max |x|. */
export type NormOrder = 1 | 2 | "inf";

/** The options form of norm's optional arguments: `norm(x, { axis: 1 })`. */
export interface VectorNormOptions {
  /** 1, 2 (default) or "inf". */
  ord?: NormOrder;
  /** The axis or axes of the vector (all when omitted or null). */
  axis?: Axis;
  /** Keep the reduced axes as size 1 (default false). */
  keepdims?: boolean;
}

/** The keys of VectorNormOptions (checked against the interface by the compiler). */
export const VECTOR_NORM_OPTION_KEYS = optionKeys<VectorNormOptions>()(["ord", "axis", "keepdims"]);

/**
 * Vector norm of the elements over `axis` (all elements by default, so ord 2 over a
 * matrix is the Frobenius norm; several axes are treated as one flattened vector, not
 * as a matrix norm). ord 1: sum |x|; ord 2: sqrt(sum x²); ord "inf": max |x|.
 * For ord 2 every derivative at x = 0 is taken as 0 (0 is a subgradient, and ‖[x]‖ = |x|
 * has abs'(0) = 0) instead of NaN; elsewhere the derivatives are exact. ord 2 is computed
 * as m·sqrt(sum((x/m)²)) with m = max |x| held constant, so tiny or huge entries neither
 * underflow to a wrong 0 (with a 0 gradient) nor overflow; ord 1 and "inf" take the
 * subgradients of abs (0 at 0) and max (shared equally between ties).
 * @example ng.norm(ng.array([3, 4])) // 5
 * @example ng.norm(ng.array([[3, 4], [6, 8]]), { axis: 1 }) // [5, 10]
 */
export function norm(x: TensorLike, options: VectorNormOptions): Tensor;
export function norm(x: TensorLike, ord?: NormOrder, axis?: Axis, keepdims?: boolean): Tensor;
export function norm(x: TensorLike, ...rest: unknown[]): Tensor {
  const {
    ord = 2,
    axis,
    keepdims = false,
  } = positionalOrOptions<VectorNormOptions>("norm", rest, VECTOR_NORM_OPTION_KEYS);
  const t = asFloat(x, "norm: x");
  const axes = normalizeAxes(axis, t.ndim, "norm: axis");
  if (typeof keepdims !== "boolean") {
    throw new TypeError(`norm: keepdims: expected a boolean, got ${describeValue(keepdims)}`);
  }
  switch (ord) {
    case 1:
      return sum(abs(t), axes, keepdims);
    case "inf":
      return max(abs(t), axes, keepdims);
    case 2: {
      // m·sqrt(sum((x/m)²)) equals sqrt(sum(x²)) for every constant m > 0, so holding m
      // constant leaves every derivative exact; an infinite, NaN or zero m is replaced by 1.
      const mk = max(abs(stopGradient(t)), axes, true);
      const m = where(logicalAnd(greater(mk, 0), less(mk, Infinity)), mk, 1);
      const u = div(t, m);
      const s = sum(mul(u, u), axes, keepdims);
      const zero = equal(s, 0);
      // s = 0 only at x = 0: there the result and its derivatives are the 0 branch's.
      const scale = keepdims
        ? m
        : reshape(
            m,
            t.shape.filter((_, i) => !axes.includes(i)),
          );
      return where(zero, 0, mul(scale, sqrt(where(zero, 1, s))));
    }
    default:
      throw new RangeError(`norm: ord: expected 1, 2 or "inf", got ${describeValue(ord)}`);
  }
}

/**
 * Dot product: for two 1-D tensors of equal length the inner product sum(a·b) (a
 * scalar); a rank-0 operand multiplies elementwise; otherwise `matmul(a, b)` (NumPy
 * matmul semantics, which differ from numpy.dot for rank > 2).
 * @example ng.dot(ng.array([1, 2, 3]), ng.array([4, 5, 6])) // 32
 */
export function dot(a: TensorLike, b: TensorLike): Tensor {
  const x = toTensor(a, "dot: a");
  const y = toTensor(b, "dot: b");
  if (x.ndim === 0 || y.ndim === 0) return mul(x, y);
  if (x.ndim === 1 && y.ndim === 1) {
    if (!shapesEqual(x.shape, y.shape)) {
      throw new RangeError(
        `dot: a and b must have the same length, got shapes ${formatShape(x.shape)} and ${formatShape(y.shape)}`,
      );
    }
    return sum(mul(x, y));
  }
  return matmul(x, y);
}

/**
 * Outer product of the flattened inputs: out[i, j] = a[i]·b[j], shape [a.size, b.size].
 * @example ng.outer(ng.array([1, 2]), ng.array([3, 4, 5])) // [[3, 4, 5], [6, 8, 10]]
 */
export function outer(a: TensorLike, b: TensorLike): Tensor {
  const x = toTensor(a, "outer: a");
  const y = toTensor(b, "outer: b");
  return mul(reshape(x, [x.size, 1]), reshape(y, [1, y.size]));
}

/**
 * Sum of the main diagonal of a 2-D tensor (rectangular allowed): the flattened matrix
 * sliced with step m + 1 picks x[0, 0], x[1, 1], ...
 * @example ng.trace(ng.array([[1, 2], [3, 4]])) // 5
 */
export function trace(x: TensorLike): Tensor {
  const t = toTensor(x, "trace: x");
  if (t.ndim !== 2) {
    throw new RangeError(`trace: x: expected a 2-D tensor, got shape ${formatShape(t.shape)}`);
  }
  const [n, m] = t.shape as [number, number];
  const k = Math.min(n, m);
  const flat = reshape(t, [n * m]);
  const diag =
    k === 0
      ? slice(flat, [{ start: 0, stop: 0 }])
      : slice(flat, [{ start: 0, stop: (k - 1) * (m + 1) + 1, step: m + 1 }]);
  return sum(diag);
}
