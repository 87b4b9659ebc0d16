/**
 * Minimum over axes, optionally keeping reduced axes as size 1. The
 * derivative follows the minimal entries; ties share it equally:
 * d min(x) = sum(dx · [x = min] / #ties) (rule shared with max).
 * @example ng.min(ng.array([[1, 5], [3, 4]]), 1) // [1, 3]
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import type { TensorLike } from "./convert.js";
import { checkReduceParams, extremumTangent, reduceArgs } from "./max.js";
import {
  reducedShape,
  reduceBatched,
  reduceOptions,
  type ReduceOptions,
  type ReduceParams,
} from "./sum.js";
import { NUMERIC, onnxReduce } from "./onnx.js";
import { taylorFromJvp } from "./taylor.js";

export const minP: DefinedPrimitive<ReduceParams, "min"> = defineSingle<ReduceParams, "min">(
  "min",
  {
    impl: ([x], { axes, keepdims }) => K.min(x!, axes, keepdims),
    abstractEval: ([x]: ShapedArray[], p) => {
      checkReduceParams("min", x!.shape, p, true);
      return aval(reducedShape(x!.shape, p.axes, p.keepdims), x!.dtype);
    },
    jvp: ([x], [t], p): [Tensor, Tangent] => {
      const y = bind1(minP, [x!], p);
      return [y, t && extremumTangent(x!, y, t, p)];
    },
    batch: ([x], [d], p) => reduceBatched(minP, x!, d!, p),
    onnx: onnxReduce("ReduceMin", NUMERIC),
    // From the JVP rule: one JVP of it along each direction.
    taylor2: (ins, p, ctx) => taylorFromJvp(minP, ins, p, ctx)[0]!,
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
 * Minimum over `axis` (a number, a list, or all axes when omitted); `keepdims` keeps the
 * reduced axes as size 1. Ties share the gradient equally.
 * @example ng.min(ng.array([[1, 5], [3, 4]]), 0) // [1, 4]
 */
export function min(x: TensorLike, options: ReduceOptions): Tensor;
export function min(
  x: TensorLike,
  axis?: number | readonly number[] | null,
  keepdims?: boolean,
): Tensor;
export function min(x: TensorLike, ...rest: unknown[]): Tensor {
  const { axis, keepdims = false } = reduceOptions("min", rest);
  const [t, p] = reduceArgs("min", x, axis, keepdims);
  checkReduceParams("min", t.shape, p, true);
  return bind1(minP, [t], p);
}
