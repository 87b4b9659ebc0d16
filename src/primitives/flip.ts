/**
 * Reversal along axes, an O(1) negative-stride view. Linear and its own
 * adjoint: d flip(x) = flip(dx), transpose = flip.
 * @example ng.flip(ng.array([1, 2, 3])) // [3, 2, 1]
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { formatShape, normalizeAxes } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { formatValue } from "../util/check.js";
import { linearJets } from "./taylor.js";

export interface FlipParams {
  axes: number[];
}

export const flipP: DefinedPrimitive<FlipParams, "flip"> = defineSingle<FlipParams, "flip">(
  "flip",
  {
    linear: true,
    impl: ([x], { axes }) => K.flip(x!, axes),
    abstractEval: ([x]: ShapedArray[], { axes }) => {
      if (
        !axes.every((a) => Number.isInteger(a) && a >= 0 && a < x!.ndim) ||
        new Set(axes).size !== axes.length
      ) {
        throw new RangeError(
          `flip: axes ${formatValue(axes)} are not distinct axes of shape ${formatShape(x!.shape)}`,
        );
      }
      return aval(x!.shape, x!.dtype);
    },
    jvp: ([x], [t], p): [Tensor, Tangent] => [bind1(flipP, [x!], p), t && bind1(flipP, [t], p)],
    // A reversal is a symmetric permutation matrix: its own transpose.
    transpose: (ct, _inputs, p) => [bind1(flipP, [ct], p)],
    // Reverse the shifted axes; the batch axis stays.
    batch: ([x], [d], { axes }) => [
      bind1(flipP, [x!], { axes: axes.map((a) => (a < d! ? a : a + 1)) }),
      d!,
    ],
    // Slice with step -1 from the last element; an end of -(d+1) clamps to "before index 0".
    onnx: (c, [x], { axes }, { ins }) => {
      if (axes.length === 0) return [c.node1("Identity", [x!])];
      const d = axes.map((a) => ins[0]!.shape[a]!);
      const ends = d.map((n) => -(n + 1));
      return [
        c.node1("Slice", [
          x!,
          c.int64s(axes.map(() => -1)),
          c.int64s(ends),
          c.int64s(axes),
          c.int64s(axes.map(() => -1)),
        ]),
      ];
    },
    // Linear: flip v, J and L alike.
    taylor2: ([x], p) => linearJets(x!, (t) => bind1(flipP, [t], p)),
    testSpec: {
      cases: [
        { inputs: [{ shape: [4] }], params: { axes: [0] } },
        { inputs: [{ shape: [2, 3, 2] }], params: { axes: [0, 2] } },
      ],
    },
  },
);

/**
 * Reverses the order of elements along `axes` (a number, a list, or all axes when omitted).
 * @example ng.flip(ng.array([[1, 2], [3, 4]]), 1) // [[2, 1], [4, 3]]
 */
export function flip(x: TensorLike, axes?: number | readonly number[] | null): Tensor {
  const t = toTensor(x, "flip: x");
  const ax = normalizeAxes(axes, t.ndim, "flip: axes").filter((a) => t.shape[a]! > 1);
  return ax.length === 0 ? t : bind1(flipP, [t], { axes: ax });
}
