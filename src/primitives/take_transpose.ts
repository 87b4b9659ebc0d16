/**
 * Scatter-add, the adjoint of `take`: zeros of `shape` with
 * out[..., indices[j], ...] += updates[..., j, ...] (repeated indices accumulate). Linear
 * in the updates: d takeTranspose(u, i) = takeTranspose(du, i); its transpose is take.
 * @example ng.takeTranspose(ng.ones([3]), [0, 2, 0], 0, [3]) // [2, 0, 1]
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { checkShape, formatShape, normalizeAxis, shapesEqual } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import {
  checkTake,
  flatBatchIndices,
  indexBlockPerm,
  takeP,
  takeShape,
  testIndices,
  toIndices,
} from "./take.js";
import { batchToFront } from "./batching.js";
import { reshape } from "./reshape.js";
import { inversePerm, moveAxis, transpose } from "./transpose.js";
import { castTo, reshapeTo, zerosOf } from "./onnx.js";

export interface TakeTransposeParams {
  axis: number;
  /** Shape of the output (the shape of take's operand). */
  shape: number[];
}

function check(
  name: string,
  u: { shape: readonly number[]; dtype: string },
  i: ShapedArray | Tensor,
  p: TakeTransposeParams,
): void {
  checkTake(name, p.shape, i, p.axis);
  const want = takeShape(p.shape, i.shape, p.axis);
  if (!shapesEqual(u.shape, want)) {
    throw new RangeError(
      `${name}: updates: expected shape ${formatShape(want)} (shape ${formatShape(p.shape)} with indices of ` +
        `shape ${formatShape(i.shape)} at axis ${p.axis}), got ${formatShape(u.shape)}`,
    );
  }
  if (u.dtype === "bool")
    throw new TypeError(`${name}: updates: expected a numeric dtype, got bool`);
}

export const takeTransposeP: DefinedPrimitive<TakeTransposeParams, "takeTranspose"> = defineSingle<
  TakeTransposeParams,
  "takeTranspose"
>("takeTranspose", {
  linear: true,
  impl: ([u, i], { axis, shape }) => K.takeTranspose(u!, i!, axis, shape),
  abstractEval: ([u, i]: ShapedArray[], p) => {
    check("takeTranspose", u!, i!, p);
    return aval(p.shape, u!.dtype);
  },
  jvp: ([u, i], [t], p): [Tensor, Tangent] => [
    bind1(takeTransposeP, [u!, i!], p),
    t && bind1(takeTransposeP, [t, i!], p),
  ],
  // Adjoint of a scatter-add: gather the cotangent at the same indices.
  transpose: (ct, [, i], { axis }) => [bind1(takeP, [ct, i as Tensor], { axis }), null],
  batch: ([u, i], [du, di], { axis, shape }, n) => {
    const ub = batchToFront(u!, du, n);
    // Unbatched indices: scatter every example along the shifted axis.
    if (di === null) {
      return [bind1(takeTransposeP, [ub, i!], { axis: axis + 1, shape: [n, ...shape] }), 0];
    }
    // Batched indices: one scatter-add into rows (batch, axis) of [B·len, ...rest], the
    // transpose of take's batch rule.
    const ib = batchToFront(i!, di, n);
    const len = shape[axis]!;
    const rest = [...shape.slice(0, axis), ...shape.slice(axis + 1)];
    const ut = transpose(ub, inversePerm(indexBlockPerm(ub.ndim, ib.ndim - 1, axis)));
    const s = bind1(takeTransposeP, [ut, flatBatchIndices(ib, len, n)], {
      axis: 0,
      shape: [n * len, ...rest],
    });
    return [moveAxis(reshape(s, [n, len, ...rest]), 1, axis + 1), 0];
  },
  // Scatter-add with the gathered axis moved to the front: updates [...I, ...rest] rows go
  // to rows i of zeros [shape[axis], ...rest] (ScatterND, reduction add), then moved back.
  onnx: (c, [u, i], { axis, shape }, { ins }) => {
    const [us, is] = [ins[0]!.shape, ins[1]!.shape];
    const q = is.length;
    const n = is.reduce((a, b) => a * b, 1);
    const rest = [...shape.slice(0, axis), ...shape.slice(axis + 1)];
    const permU = [
      ...is.map((_, j) => axis + j),
      ...shape.slice(0, axis).map((_, j) => j),
      ...us.slice(axis + q).map((_, j) => axis + q + j),
    ];
    const rows = reshapeTo(c, c.node1("Transpose", [u!], { perm: permU }), [n, ...rest]);
    const len = c.scalar(shape[axis]!, "int32");
    const zero = c.scalar(0, "int32");
    const wrapped = c.node1("Where", [c.node1("Less", [i!, zero]), c.node1("Add", [i!, len]), i!]);
    const idx = reshapeTo(c, castTo(c, wrapped, "int32", "int64"), [n, 1]);
    const zeros = zerosOf(c, [shape[axis]!, ...rest], ins[0]!.dtype);
    const out = c.node1("ScatterND", [zeros, idx, rows], { reduction: "add" });
    const back = [...rest.keys()].map((j) => j + 1);
    back.splice(axis, 0, 0);
    return [c.node1("Transpose", [out], { perm: back })];
  },
  testSpec: {
    cases: [
      {
        inputs: [{ shape: [6] }, { shape: [6], fixed: testIndices(4), dtype: "int32" }],
        params: { axis: 0, shape: [4] },
      },
      {
        inputs: [{ shape: [2, 2, 2] }, { shape: [2, 2], fixed: testIndices(3), dtype: "int32" }],
        params: { axis: 1, shape: [2, 3] },
      },
    ],
  },
});

/**
 * Zeros of `shape` with `updates` added at int32 `indices` along `axis` (the adjoint of
 * `take(x, indices, axis)` for x of `shape`); repeated indices accumulate.
 * @example ng.takeTranspose(ng.ones([3]), [0, 2, 0], 0, [3]) // [2, 0, 1]
 */
export function takeTranspose(
  updates: TensorLike,
  indices: Tensor | number | readonly unknown[],
  axis: number,
  shape: readonly number[],
): Tensor {
  const u = toTensor(updates, "takeTranspose: updates");
  const i = toIndices("takeTranspose", indices);
  const s = checkShape(shape, "takeTranspose: shape");
  const p = { axis: normalizeAxis(axis, s.length, "takeTranspose: axis"), shape: s };
  check("takeTranspose", u, i, p);
  return bind1(takeTransposeP, [u, i], p);
}
