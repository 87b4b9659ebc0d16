/**
 * Product over axes, optionally keeping reduced axes as size 1.
 * d prod(x) = sum(dx_i · prod_{j≠i} x_j). The "product of the others" is computed without
 * division (exact when x contains zeros) as exclusive left times exclusive right
 * cumulative products along the flattened reduced axes. Each cumulative product is a
 * Hillis–Steele scan written with slice/pad/mul: ⌈log2 n⌉ + 1 steps of O(size) work, so
 * the JVP costs O(size · log n) flops and O(log n) primitive applications (n = number of
 * reduced elements per output), and stays differentiable to any order.
 * @example ng.prod(ng.array([[1, 2], [3, 4]]), 1) // [2, 12]
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import type { TensorLike } from "./convert.js";
import { flip } from "./flip.js";
import { checkReduceParams, reduceArgs } from "./max.js";
import { mul } from "./mul.js";
import { pad } from "./pad.js";
import { reshape } from "./reshape.js";
import { sliceAxis } from "./slice.js";
import {
  reducedShape,
  reduceBatched,
  reduceOptions,
  sum,
  type ReduceOptions,
  type ReduceParams,
} from "./sum.js";
import { inversePerm, transpose } from "./transpose.js";
import { NUMERIC, onnxReduce } from "./onnx.js";
import { taylorFromJvp } from "./taylor.js";

/** s_i = prod_{j<i} a_j along the last axis (s_0 = 1), by a log-step scan. */
function exclusiveCumprod(a: Tensor): Tensor {
  const r = a.ndim - 1;
  const n = a.shape[r]!;
  // shift(s, k)_i = s_{i-k}, with 1 for i < k
  const shift = (s: Tensor, k: number) =>
    pad(
      sliceAxis(s, r, 0, n - k),
      s.shape.map((_, i): [number, number] => (i === r ? [k, 0] : [0, 0])),
      1,
    );
  let s = shift(a, 1);
  // Hillis–Steele: after the step with offset k, s_i is the product of a window of 2k entries.
  for (let k = 1; k < n; k *= 2) s = mul(s, shift(s, k));
  return s;
}

/** prod_{j≠i} x_j over the reduced axes, for every entry x_i (same shape as x). */
function productOfOthers(x: Tensor, axes: readonly number[]): Tensor {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const xt = transpose(x, perm);
  const n = axes.reduce((m, a) => m * x.shape[a]!, 1);
  if (n === 0) return x; // empty reduction: no entries to differentiate
  const flat = reshape(xt, [...kept.map((i) => x.shape[i]!), n]);
  const r = flat.ndim - 1;
  const others = mul(exclusiveCumprod(flat), flip(exclusiveCumprod(flip(flat, r)), r));
  return transpose(reshape(others, xt.shape), inversePerm(perm));
}

export const prodP: DefinedPrimitive<ReduceParams, "prod"> = defineSingle<ReduceParams, "prod">(
  "prod",
  {
    impl: ([x], { axes, keepdims }) => K.prod(x!, axes, keepdims),
    abstractEval: ([x]: ShapedArray[], p) => {
      checkReduceParams("prod", x!.shape, p, false);
      return aval(
        reducedShape(x!.shape, p.axes, p.keepdims),
        x!.dtype === "bool" ? "int32" : x!.dtype,
      );
    },
    jvp: ([x], [t], p): [Tensor, Tangent] => [
      bind1(prodP, [x!], p),
      t && sum(mul(t, productOfOthers(x!, p.axes)), p.axes, p.keepdims),
    ],
    batch: ([x], [d], p) => reduceBatched(prodP, x!, d!, p),
    onnx: onnxReduce("ReduceProd", NUMERIC),
    // From the JVP rule: one JVP of it along each direction.
    taylor2: (ins, p, ctx) => taylorFromJvp(prodP, ins, p, ctx)[0]!,
    testSpec: {
      cases: [
        { inputs: [{ shape: [5] }], params: { axes: [0], keepdims: false } },
        { inputs: [{ shape: [2, 3] }], params: { axes: [0, 1], keepdims: false } },
        { inputs: [{ shape: [2, 3, 2] }], params: { axes: [0, 2], keepdims: true } },
      ],
    },
  },
);

/**
 * Product over `axis` (a number, a list, or all axes when omitted); `keepdims` keeps the
 * reduced axes as size 1. The derivative is exact also where entries are zero.
 * @example ng.prod(ng.array([[1, 2], [3, 4]])) // 24
 */
export function prod(x: TensorLike, options: ReduceOptions): Tensor;
export function prod(
  x: TensorLike,
  axis?: number | readonly number[] | null,
  keepdims?: boolean,
): Tensor;
export function prod(x: TensorLike, ...rest: unknown[]): Tensor {
  const { axis, keepdims = false } = reduceOptions("prod", rest);
  const [t, p] = reduceArgs("prod", x, axis, keepdims);
  return bind1(prodP, [t], p);
}
