/**
 * Maximum over axes, optionally keeping reduced axes as size 1. The
 * derivative follows the maximal entries; ties share it equally (a subgradient):
 * d max(x) = sum(dx · [x = max] / #ties). The tie rule and the axis check are shared with min.
 * @example ng.max(ng.array([[1, 5], [3, 4]]), 1) // [5, 4]
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { formatShape, normalizeAxes } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { cast } from "./cast.js";
import { equal } from "./compare.js";
import { div } from "./div.js";
import { mul } from "./mul.js";
import { reshape } from "./reshape.js";
import {
  reducedShape,
  reduceBatched,
  reduceOptions,
  sum,
  type ReduceOptions,
  type ReduceParams,
} from "./sum.js";
import { NUMERIC, onnxReduce } from "./onnx.js";
import { formatValue } from "../util/check.js";
import { taylorFromJvp } from "./taylor.js";

/** Validates reduction params: distinct sorted axes of `shape`; `nonEmpty` rejects size-0 reductions. */
export function checkReduceParams(
  name: string,
  shape: readonly number[],
  { axes }: ReduceParams,
  nonEmpty: boolean,
): void {
  const ok =
    Array.isArray(axes) &&
    axes.every(
      (a, i) => Number.isInteger(a) && a >= 0 && a < shape.length && (i === 0 || a > axes[i - 1]!),
    );
  if (!ok) {
    throw new RangeError(
      `${name}: axes ${formatValue(axes)} are not sorted distinct axes of shape ${formatShape(shape)}`,
    );
  }
  if (nonEmpty && axes.some((a) => shape[a] === 0)) {
    throw new RangeError(
      `${name}: cannot reduce over an axis of size 0 (axes ${formatShape(axes)} of shape ${formatShape(shape)})`,
    );
  }
}

/**
 * Tangent of y = max or min of x over `axes`: the tangent averaged over the entries that
 * attain y, sum(t · mask / count) with mask = [x = y] and count = #ties per output entry.
 */
export function extremumTangent(
  x: Tensor,
  y: Tensor,
  t: Tensor,
  { axes, keepdims }: ReduceParams,
): Tensor {
  const yk = keepdims ? y : reshape(y, reducedShape(x.shape, axes, true));
  const mask = cast(equal(x, yk), t.dtype);
  const count = sum(mask, axes, true);
  return sum(div(mul(t, mask), count), axes, keepdims);
}

/** Shared validation of the user-facing max/min/prod wrappers. */
export function reduceArgs(
  name: string,
  x: TensorLike,
  axis: number | readonly number[] | null | undefined,
  keepdims: boolean,
): [Tensor, ReduceParams] {
  const t = toTensor(x, `${name}: x`);
  if (typeof keepdims !== "boolean")
    throw new TypeError(`${name}: keepdims: expected a boolean, got ${typeof keepdims}`);
  return [t, { axes: normalizeAxes(axis, t.ndim, `${name}: axis`), keepdims }];
}

export const maxP: DefinedPrimitive<ReduceParams, "max"> = defineSingle<ReduceParams, "max">(
  "max",
  {
    impl: ([x], { axes, keepdims }) => K.max(x!, axes, keepdims),
    abstractEval: ([x]: ShapedArray[], p) => {
      checkReduceParams("max", x!.shape, p, true);
      return aval(reducedShape(x!.shape, p.axes, p.keepdims), x!.dtype);
    },
    jvp: ([x], [t], p): [Tensor, Tangent] => {
      const y = bind1(maxP, [x!], p);
      return [y, t && extremumTangent(x!, y, t, p)];
    },
    batch: ([x], [d], p) => reduceBatched(maxP, x!, d!, p),
    onnx: onnxReduce("ReduceMax", NUMERIC),
    // From the JVP rule: one JVP of it along each direction.
    taylor2: (ins, p, ctx) => taylorFromJvp(maxP, ins, p, ctx)[0]!,
    testSpec: {
      cases: [
        { inputs: [{ shape: [2, 3] }], params: { axes: [0, 1], keepdims: false } },
        { inputs: [{ shape: [2, 3, 2] }], params: { axes: [1], keepdims: true } },
        { inputs: [{ shape: [3, 2, 2] }], params: { axes: [0, 2], keepdims: false } },
      ],
    },
  },
);

/**
 * Maximum over `axis` (a number, a list, or all axes when omitted); `keepdims` keeps the
 * reduced axes as size 1. Ties share the gradient equally.
 * @example ng.max(ng.array([[1, 5], [3, 4]]), 0, true) // [[3, 5]]
 */
export function max(x: TensorLike, options: ReduceOptions): Tensor;
export function max(
  x: TensorLike,
  axis?: number | readonly number[] | null,
  keepdims?: boolean,
): Tensor;
export function max(x: TensorLike, ...rest: unknown[]): Tensor {
  const { axis, keepdims = false } = reduceOptions("max", rest);
  const [t, p] = reduceArgs("max", x, axis, keepdims);
  checkReduceParams("max", t.shape, p, true);
  return bind1(maxP, [t], p);
}
