/**
 * Broadcasting to a larger shape (NumPy rules). Linear; the transpose sums the cotangent
 * over the broadcast dimensions: d broadcastTo(x) = broadcastTo(dx), transpose = sum.
 * @example ng.broadcastTo(ng.array([1, 2]), [3, 2])
 */
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { broadcastStrides, checkShape, contiguousStrides, shapesEqual } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { reshape } from "./reshape.js";
import { sum } from "./sum.js";
import { linearJets } from "./taylor.js";

export interface Params {
  shape: number[];
}

export const broadcastToP: DefinedPrimitive<Params, "broadcastTo"> = defineSingle<
  Params,
  "broadcastTo"
>("broadcastTo", {
  linear: true,
  impl: ([x], { shape }) => K.broadcastTo(x!, shape),
  abstractEval: ([x], { shape }) => {
    broadcastStrides(x!.shape, contiguousStrides(x!.shape), shape, "broadcastTo");
    return aval(shape, x!.dtype);
  },
  jvp: ([x], [t], p): [Tensor, Tangent] => [
    bind1(broadcastToP, [x!], p),
    t && bind1(broadcastToP, [t], p),
  ],
  // Sum over the new leading axes and over axes where the input had size 1.
  transpose: (ct, [x], { shape }) => {
    const inShape = (x as { aval: { shape: readonly number[] } }).aval.shape;
    const lead = shape.length - inShape.length;
    const axes: number[] = [];
    for (let i = 0; i < shape.length; i++) {
      if (i < lead || (inShape[i - lead] === 1 && shape[i] !== 1)) axes.push(i);
    }
    return [reshape(sum(ct, axes), inShape as number[])];
  },
  // Right-align each example with leading 1s (the batch axis moves right by as many), then
  // broadcast to the target shape with the batch size inserted at the batch axis.
  batch: ([x], [d], { shape }, n) => {
    const lead = shape.length - (x!.ndim - 1);
    const b = d! + lead;
    const aligned = reshape(x!, [...new Array<number>(lead).fill(1), ...x!.shape]);
    return [broadcastTo(aligned, [...shape.slice(0, b), n, ...shape.slice(b)]), b];
  },
  onnx: (c, [x], { shape }) => [c.node1("Expand", [x!, c.int64s(shape)])],
  // Linear: broadcast v, J and L alike.
  taylor2: ([x], p) => linearJets(x!, (t) => bind1(broadcastToP, [t], p)),
  testSpec: {
    cases: [
      { inputs: [{ shape: [3] }], params: { shape: [2, 3] } },
      { inputs: [{ shape: [2, 1] }], params: { shape: [2, 2, 3] } },
    ],
  },
});

/**
 * Broadcasts `x` to `shape` (NumPy rules); error names both shapes.
 * @example ng.broadcastTo(ng.array([1, 2]), [2, 2]) // [[1, 2], [1, 2]]
 */
export function broadcastTo(x: TensorLike, shape: readonly number[]): Tensor {
  const t = toTensor(x, "broadcastTo: x");
  const s = checkShape(shape, "broadcastTo: shape");
  return shapesEqual(t.shape, s) ? t : bind1(broadcastToP, [t], { shape: s });
}
