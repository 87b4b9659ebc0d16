/**
 * Gather along an axis (DESIGN.md §3), like numpy.take: out.shape = x.shape[:axis] +
 * indices.shape + x.shape[axis+1:]. Linear in x: d take(x, i) = take(dx, i); the indices
 * are never differentiated. The transpose scatter-adds the cotangent (takeTranspose).
 * @example ng.take(ng.array([10, 20, 30]), [2, 0, 2]) // [30, 10, 30]
 */
import type { ShapedArray } from "../core/aval.js";
import { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import type { NDArray } from "../tensor/ndarray.js";
import { formatShape, normalizeAxis } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { array, toTensor, type TensorLike } from "./convert.js";
import { reshape } from "./reshape.js";
import { takeTransposeP } from "./take_transpose.js";

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
  const t = indices instanceof Tensor ? indices : array(indices, { dtype: "int32" });
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
