/**
 * Gather along an axis, like numpy.take: out.shape = x.shape[:axis] +
 * indices.shape + x.shape[axis+1:]. Linear in x: d take(x, i) = take(dx, i); the indices
 * are never differentiated. The transpose scatter-adds the cotangent (takeTranspose).
 * @example ng.take(ng.array([10, 20, 30]), [2, 0, 2]) // [30, 10, 30]
 */
import type { ShapedArray } from "../core/aval.js";
import { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { fromNested, type NDArray } from "../tensor/ndarray.js";
import { formatShape, normalizeAxis } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { fromNDArray, toTensor, type TensorLike } from "./convert.js";
import { reshape } from "./reshape.js";
import { takeTransposeP } from "./take_transpose.js";
import { add } from "./add.js";
import { batchToFront } from "./batching.js";
import { greaterEqual, less } from "./compare.js";
import { logicalAnd } from "./logical.js";
import { mul } from "./mul.js";
import { moveAxis, transpose } from "./transpose.js";
import { where } from "./where.js";
import { taylorFromJvp } from "./taylor.js";

export interface TakeParams {
  axis: number;
}

/** Validates an int32 index operand and a resolved axis of an operand of `shape`. */
export function checkTake(
  name: string,
  shape: readonly number[],
  indices: ShapedArray | Tensor,
  axis: number,
): void {
  if (indices.dtype !== "int32")
    throw new TypeError(`${name}: indices: expected dtype int32, got ${indices.dtype}`);
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
    throw new RangeError(`${name}: axis ${axis} is out of range for shape ${formatShape(shape)}`);
  }
}

/** Output shape of take: shape[:axis] + indices.shape + shape[axis+1:]. */
export function takeShape(
  shape: readonly number[],
  idxShape: readonly number[],
  axis: number,
): number[] {
  return [...shape.slice(0, axis), ...idxShape, ...shape.slice(axis + 1)];
}

/** Deterministic in-range test indices for an axis of size n (negatives and repeats included). */
export function testIndices(n: number): (shape: number[]) => NDArray {
  return (shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const v = Array.from({ length: size }, (_, k) => ((2 * k + 1) % n) - (k % 3 === 2 ? n : 0));
    return K.reshape(K.fromNested(v, "int32"), shape);
  };
}

/**
 * Row numbers into an operand flattened over (batch, gathered axis of size `len`) for
 * batched int32 indices i [B, ...]: b·len + (i mod len). Indices outside [-len, len) map to
 * B·len, out of range again, so the kernel still raises instead of reading another example.
 */
export function flatBatchIndices(i: Tensor, len: number, n: number): Tensor {
  const b = fromNDArray(
    K.reshape(K.arange(0, n, 1, "int32"), [n, ...i.shape.slice(1).map(() => 1)]),
  );
  const inRange = logicalAnd(greaterEqual(i, -len), less(i, len));
  const wrapped = where(less(i, 0), add(i, len), i);
  return where(inRange, add(wrapped, mul(b, len)), n * len);
}

/** The permutation of an array [B, ...p, ...r] that moves the p block (q axes) after r[:k]. */
export function indexBlockPerm(rank: number, q: number, k: number): number[] {
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, j) => a + j);
  return [0, ...range(1 + q, 1 + q + k), ...range(1, 1 + q), ...range(1 + q + k, rank)];
}

export const takeP: DefinedPrimitive<TakeParams, "take"> = defineSingle<TakeParams, "take">(
  "take",
  {
    linear: true,
    impl: ([x, i], { axis }) => K.take(x!, i!, axis),
    abstractEval: ([x, i]: ShapedArray[], { axis }) => {
      checkTake("take", x!.shape, i!, axis);
      return aval(takeShape(x!.shape, i!.shape, axis), x!.dtype);
    },
    jvp: ([x, i], [t], p): [Tensor, Tangent] => [
      bind1(takeP, [x!, i!], p),
      t && bind1(takeP, [t, i!], p),
    ],
    // Adjoint of a gather: scatter-add the cotangent back to the gathered positions.
    transpose: (ct, [x, i], { axis }) => [
      bind1(takeTransposeP, [ct, i as Tensor], { axis, shape: x!.aval.shape.slice() }),
      null,
    ],
    batch: ([x, i], [dx, di], { axis }, n) => {
      if (di === null) {
        // Gather along the shifted axis; the index axes replace it.
        const a = axis < dx! ? axis : axis + 1;
        return [bind1(takeP, [x!, i!], { axis: a }), dx! < a ? dx! : dx! + i!.ndim - 1];
      }
      // Unbatched operand: the batch axis of the indices is one of the result's index axes.
      if (dx === null) return [bind1(takeP, [x!, i!], { axis }), axis + di];
      // Both batched: one gather from x flattened to rows (batch, axis): [B·len, ...rest].
      const xb = moveAxis(batchToFront(x!, dx, n), axis + 1, 1);
      const len = xb.shape[1]!;
      const flat = reshape(xb, [n * len, ...xb.shape.slice(2)]);
      const ib = batchToFront(i!, di, n);
      const g = bind1(takeP, [flat, flatBatchIndices(ib, len, n)], { axis: 0 });
      // g is [B, ...idx, ...rest]; each example wants rest[:axis] + idx + rest[axis:].
      return [transpose(g, indexBlockPerm(g.ndim, ib.ndim - 1, axis)), 0];
    },
    // Gather reads negative indices from the back, as take does.
    onnx: (c, [x, i], { axis }) => [c.node1("Gather", [x!, i!], { axis })],
    // From the JVP rule: one JVP of it along each direction.
    taylor2: (ins, p, ctx) => taylorFromJvp(takeP, ins, p, ctx)[0]!,
    testSpec: {
      cases: [
        {
          inputs: [{ shape: [4] }, { shape: [6], fixed: testIndices(4), dtype: "int32" }],
          params: { axis: 0 },
        },
        {
          inputs: [{ shape: [2, 3] }, { shape: [2, 2], fixed: testIndices(3), dtype: "int32" }],
          params: { axis: 1 },
        },
      ],
    },
  },
);

/** Converts an index argument to an int32 tensor, naming it on failure. */
export function toIndices(name: string, indices: unknown): Tensor {
  const t =
    indices instanceof Tensor
      ? indices
      : fromNDArray(fromNested(indices, "int32", `${name}: indices`));
  if (t.dtype !== "int32")
    throw new TypeError(`${name}: indices: expected dtype int32, got ${t.dtype}`);
  return t;
}

/**
 * Gathers `x` at int32 `indices` along `axis` (numpy.take; negative indices count from
 * the end). Without `axis` it gathers from the flattened tensor. Indices may be a tensor,
 * a number or nested arrays.
 * @example ng.take(ng.array([[1, 2], [3, 4]]), [1], 1) // [[2], [4]]
 */
export function take(
  x: TensorLike,
  indices: Tensor | number | readonly unknown[],
  axis?: number | null,
): Tensor {
  let t = toTensor(x, "take: x");
  const i = toIndices("take", indices);
  let ax: number;
  if (axis === undefined || axis === null) {
    t = reshape(t, [t.size]);
    ax = 0;
  } else {
    if (t.ndim === 0)
      throw new RangeError(`take: x is a scalar; pass no axis to index the flattened tensor`);
    ax = normalizeAxis(axis, t.ndim, "take: axis");
  }
  return bind1(takeP, [t, i], { axis: ax });
}
