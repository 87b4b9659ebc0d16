/**
 * Index of the maximum along one axis or over the flattened tensor, as
 * int32. A structural primitive with no derivative (its tangent is zero). The shared
 * definition helper is also used by argmin.
 * @example ng.argmax(ng.array([[1, 5], [7, 4]]), 1) // [1, 0]
 */
import type { ShapedArray } from "../core/aval.js";
import type { BatchDim } from "../core/batching.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import type { NDArray } from "../tensor/ndarray.js";
import { formatShape, normalizeAxis } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { optionKeys, positionalOrOptions } from "../util/options.js";
import { batchToFront } from "./batching.js";
import { reshape } from "./reshape.js";
import { reducedShape } from "./sum.js";
import { castTo, NUMERIC, reshapeTo, requireDTypes, type OnnxRule } from "./onnx.js";

export interface ArgReduceParams {
  /** The reduced axis, or null for the flattened tensor. */
  axis: number | null;
  keepdims: boolean;
}

function outShape(
  name: string,
  shape: readonly number[],
  { axis, keepdims }: ArgReduceParams,
): number[] {
  if (axis === null) {
    if (shape.some((d) => d === 0))
      throw new RangeError(`${name}: cannot reduce an empty tensor (shape ${formatShape(shape)})`);
    return keepdims ? shape.map(() => 1) : [];
  }
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
    throw new RangeError(`${name}: axis ${axis} is out of range for shape ${formatShape(shape)}`);
  }
  if (shape[axis] === 0)
    throw new RangeError(
      `${name}: cannot reduce axis ${axis} of size 0 (shape ${formatShape(shape)})`,
    );
  return reducedShape(shape, [axis], keepdims);
}

/**
 * ONNX rule of argmax/argmin: `op` (ArgMax/ArgMin, first index on ties, as the kernels)
 * over one axis or the flattened array, int64 result cast to int32.
 */
export function argReduceOnnx(op: string): OnnxRule<ArgReduceParams> {
  return (c, [x], { axis, keepdims }, { ins, outs }) => {
    const d = ins[0]!.dtype;
    requireDTypes(c, op, d === "bool" ? "int32" : d, NUMERIC);
    let xc = castTo(c, x!, d, d === "bool" ? "int32" : d);
    if (axis === null) xc = reshapeTo(c, xc, [-1]);
    const r = c.node1(op, [xc], {
      axis: axis ?? 0,
      keepdims: keepdims ? 1 : 0,
      select_last_index: 0,
    });
    const i = castTo(c, r, "int64", "int32");
    return [axis === null ? reshapeTo(c, i, outs[0]!.shape) : i];
  };
}

/** Defines argmax/argmin from the kernel `(x, axis, keepdims) -> int32`. */
export function defineArgReduce<N extends string>(
  name: N,
  kernel: (x: NDArray, axis: number | null, keepdims: boolean) => NDArray,
  onnx: OnnxRule<ArgReduceParams>,
): DefinedPrimitive<ArgReduceParams, N> {
  const self: DefinedPrimitive<ArgReduceParams, N> = defineSingle<ArgReduceParams, N>(name, {
    impl: ([x], { axis, keepdims }) => kernel(x!, axis, keepdims),
    abstractEval: ([x]: ShapedArray[], p) => aval(outShape(name, x!.shape, p), "int32"),
    // Integer output: no derivative.
    jvp: ([x], _t, p): [Tensor, Tangent] => [bind1(self, [x!], p), null],
    // One axis: reduce the shifted axis. Flattened: reduce each example's row of [B, size].
    batch: ([x], [d], { axis, keepdims }, n): [Tensor, BatchDim] => {
      if (axis !== null) {
        const a = axis < d! ? axis : axis + 1;
        return [bind1(self, [x!], { axis: a, keepdims }), keepdims || a > d! ? d! : d! - 1];
      }
      const rows = batchToFront(x!, d!, n);
      const size = rows.shape.slice(1).reduce((s, k) => s * k, 1);
      const idx = bind1(self, [reshape(rows, [n, size])], { axis: 1, keepdims: false });
      return [keepdims ? reshape(idx, [n, ...rows.shape.slice(1).map(() => 1)]) : idx, 0];
    },
    testSpec: {
      cases: [
        { inputs: [{ shape: [2, 3] }], params: { axis: 1, keepdims: false } },
        { inputs: [{ shape: [2, 3] }], params: { axis: null, keepdims: true } },
      ],
      nonDifferentiable: true,
    },
    onnx,
  });
  return self;
}

/** The options form of argmax/argmin's optional arguments: `argmax(x, { axis: 1 })`. */
export interface ArgReduceOptions {
  /** The axis to reduce (the flattened tensor when omitted or null). */
  axis?: number | null;
  /** Keep the reduced axis as size 1 (default false). */
  keepdims?: boolean;
}

/** The keys of ArgReduceOptions (checked against the interface by the compiler). */
export const ARG_REDUCE_OPTION_KEYS = optionKeys<ArgReduceOptions>()(["axis", "keepdims"]);

/** An arg-reduction: `(x, axis?, keepdims?)` or `(x, { axis, keepdims })`. */
export interface ArgReduceOp {
  (x: TensorLike, options: ArgReduceOptions): Tensor;
  (x: TensorLike, axis?: number | null, keepdims?: boolean): Tensor;
}

/** The user-facing wrapper of an arg-reduction primitive. */
export function argReduceOp(prim: DefinedPrimitive<ArgReduceParams>): ArgReduceOp {
  return (x: TensorLike, ...rest: unknown[]): Tensor => {
    const { axis, keepdims = false } = positionalOrOptions<ArgReduceOptions>(
      prim.name,
      rest,
      ARG_REDUCE_OPTION_KEYS,
    );
    const t = toTensor(x, `${prim.name}: x`);
    if (typeof keepdims !== "boolean")
      throw new TypeError(`${prim.name}: keepdims: expected a boolean, got ${typeof keepdims}`);
    const p = {
      axis:
        axis === undefined || axis === null
          ? null
          : normalizeAxis(axis, t.ndim, `${prim.name}: axis`),
      keepdims,
    };
    outShape(prim.name, t.shape, p);
    return bind1(prim, [t], p);
  };
}

export const argmaxP = defineArgReduce(
  "argmax",
  (x, axis, keepdims) => K.argmax(x, axis, keepdims),
  argReduceOnnx("ArgMax"),
);

/**
 * Index (int32) of the first maximum along `axis`, or into the flattened tensor when
 * `axis` is omitted; `keepdims` keeps the reduced axis as size 1.
 * @example ng.argmax(ng.array([3, 9, 2])) // 1
 */
export const argmax: ArgReduceOp = argReduceOp(argmaxP);
