/**
 * Reshape to a shape of equal size (one -1 is inferred). Linear; transpose reshapes back.
 * @example ng.reshape(ng.arange(6), [2, 3])
 */
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { formatShape, shapesEqual, sizeOf } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { batchToFront } from "./batching.js";
import { reshapeTo } from "./onnx.js";
import { linearJets } from "./taylor.js";

export interface Params {
  shape: number[];
}

export const reshapeP: DefinedPrimitive<Params, "reshape"> = defineSingle<Params, "reshape">(
  "reshape",
  {
    linear: true,
    impl: ([x], { shape }) => K.reshape(x!, shape),
    abstractEval: ([x], { shape }) => {
      if (sizeOf(shape) !== x!.size) {
        throw new RangeError(
          `reshape: cannot reshape ${formatShape(x!.shape)} (size ${x!.size}) to ${formatShape(shape)}`,
        );
      }
      return aval(shape, x!.dtype);
    },
    jvp: ([x], [t], p): [Tensor, Tangent] => [
      bind1(reshapeP, [x!], p),
      t && bind1(reshapeP, [t], p),
    ],
    transpose: (ct, [x]) => [reshape(ct, (x as { aval: { shape: readonly number[] } }).aval.shape)],
    // Each example is reshaped: batch axis to the front, then [B, ...shape].
    batch: ([x], [d], { shape }, n) => [reshape(batchToFront(x!, d!, n), [n, ...shape]), 0],
    onnx: (c, [x], { shape }) => [reshapeTo(c, x!, shape)],
    // Linear: reshape v, J and L alike.
    taylor2: ([x], p) => linearJets(x!, (t) => bind1(reshapeP, [t], p)),
    testSpec: { cases: [{ inputs: [{ shape: [2, 3] }], params: { shape: [3, 2] } }] },
  },
);

/**
 * Reshapes `x` to `shape` (one entry may be -1).
 * @example ng.reshape(ng.arange(6), [2, -1]).shape // [2, 3]
 */
export function reshape(x: TensorLike, shape: readonly number[]): Tensor {
  const t = toTensor(x, "reshape: x");
  const s = resolveShape(t.shape, shape);
  return shapesEqual(t.shape, s) ? t : bind1(reshapeP, [t], { shape: s });
}

function resolveShape(from: readonly number[], shape: readonly number[]): number[] {
  if (!Array.isArray(shape))
    throw new TypeError(`reshape: shape must be an array of integers, got ${typeof shape}`);
  const size = sizeOf(from);
  const free = shape.filter((d) => d === -1).length;
  if (free > 1)
    throw new RangeError(`reshape: at most one -1 is allowed in shape ${formatShape(shape)}`);
  shape.forEach((d, i) => {
    if (!Number.isInteger(d) || d < -1)
      throw new RangeError(`reshape: shape[${i}] = ${d} is not a valid dimension`);
  });
  if (free === 0) {
    if (sizeOf(shape) !== size) {
      throw new RangeError(
        `reshape: cannot reshape ${formatShape(from)} (size ${size}) to ${formatShape(shape)}`,
      );
    }
    return shape.slice();
  }
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  if (known === 0 || size % known !== 0) {
    throw new RangeError(
      `reshape: cannot reshape ${formatShape(from)} (size ${size}) to ${formatShape(shape)}`,
    );
  }
  return shape.map((d) => (d === -1 ? size / known : d));
}
