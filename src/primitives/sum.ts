/**
 * Sum over axes (all by default), optionally keeping reduced axes as size 1. Linear;
 * the transpose broadcasts the cotangent back over the reduced axes.
 * @example ng.sum(ng.array([[1, 2], [3, 4]]), 0) // [4, 6]
 */
import type { BatchDim } from "../core/batching.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { normalizeAxes } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { broadcastTo } from "./broadcast_to.js";
import { reshape } from "./reshape.js";
import { NUMERIC, onnxReduce } from "./onnx.js";
import { optionKeys, positionalOrOptions } from "../util/options.js";
import { linearJets } from "./taylor.js";

/** The options form of a reduction's optional arguments: `sum(x, { axis: 1, keepdims: true })`. */
export interface ReduceOptions {
  /** The axis or axes to reduce (all when omitted or null). */
  axis?: number | readonly number[] | null;
  /** Keep the reduced axes as size 1 (default false). */
  keepdims?: boolean;
}

/** The keys of ReduceOptions (checked against the interface by the compiler). */
export const REDUCE_OPTION_KEYS = optionKeys<ReduceOptions>()(["axis", "keepdims"]);

/**
 * The (axis, keepdims) of a reduction called as `op(x, axis?, keepdims?)` or
 * `op(x, { axis, keepdims })`.
 */
export function reduceOptions(op: string, rest: readonly unknown[]): ReduceOptions {
  return positionalOrOptions<ReduceOptions>(op, rest, REDUCE_OPTION_KEYS);
}

export interface ReduceParams {
  axes: number[];
  keepdims: boolean;
}

/** Shape after reducing `axes` (keepdims keeps them as 1). */
export function reducedShape(
  shape: readonly number[],
  axes: readonly number[],
  keepdims: boolean,
): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** Per-example axes of a value batched along axis `d` -> the same axes of the batched value. */
export function batchedAxes(axes: readonly number[], d: number): number[] {
  return axes.map((a) => (a < d ? a : a + 1));
}

/**
 * Batch rule shared by the reductions over `axes` (sum, prod, max, min): reduce the
 * shifted axes of the batched value in one call; the batch axis moves left by the number
 * of reduced axes before it (unless keepdims).
 */
export function reduceBatched(
  prim: DefinedPrimitive<ReduceParams>,
  x: Tensor,
  d: number,
  { axes, keepdims }: ReduceParams,
): [Tensor, BatchDim] {
  const shifted = batchedAxes(axes, d);
  const out = keepdims ? d : d - shifted.filter((a) => a < d).length;
  return [bind1(prim, [x], { axes: shifted, keepdims }), out];
}

export const sumP: DefinedPrimitive<ReduceParams, "sum"> = defineSingle<ReduceParams, "sum">(
  "sum",
  {
    linear: true,
    impl: ([x], { axes, keepdims }) => K.sum(x!, axes, keepdims),
    abstractEval: ([x], { axes, keepdims }) =>
      aval(reducedShape(x!.shape, axes, keepdims), x!.dtype === "bool" ? "int32" : x!.dtype),
    jvp: ([x], [t], p): [Tensor, Tangent] => [bind1(sumP, [x!], p), t && bind1(sumP, [t], p)],
    transpose: (ct, [x], { axes }) => {
      const shape = (x as { aval: { shape: readonly number[] } }).aval.shape;
      return [broadcastTo(reshape(ct, reducedShape(shape, axes, true)), shape)];
    },
    batch: ([x], [d], p) => reduceBatched(sumP, x!, d!, p),
    onnx: onnxReduce("ReduceSum", NUMERIC),
    // Linear: sum v, J and L alike.
    taylor2: ([x], p) => linearJets(x!, (t) => bind1(sumP, [t], p)),
    testSpec: {
      cases: [
        { inputs: [{ shape: [2, 3] }], params: { axes: [0, 1], keepdims: false } },
        { inputs: [{ shape: [2, 3, 2] }], params: { axes: [1], keepdims: true } },
      ],
    },
  },
);

/**
 * Sum over `axis` (number, list, or all when omitted); `keepdims` keeps the reduced axes
 * as size 1. The optional arguments may also come as one options object.
 * @example ng.sum(ng.array([[1, 2], [3, 4]]), { axis: 1, keepdims: true }) // [[3], [7]]
 */
export function sum(x: TensorLike, options: ReduceOptions): Tensor;
export function sum(
  x: TensorLike,
  axis?: number | readonly number[] | null,
  keepdims?: boolean,
): Tensor;
export function sum(x: TensorLike, ...rest: unknown[]): Tensor {
  const { axis, keepdims = false } = reduceOptions("sum", rest);
  const t = toTensor(x, "sum: x");
  return bind1(sumP, [t], { axes: normalizeAxes(axis, t.ndim, "sum: axis"), keepdims });
}
