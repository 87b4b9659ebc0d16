/**
 * Dtype conversion. Linear between float dtypes: d cast(x) = cast(dx), transposed by
 * casting back; casts to int32/bool have zero derivative.
 * @example ng.cast(ng.array([1.7]), "int32") // [1]
 */
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import { checkDType, isFloat, type DType } from "../tensor/dtype.js";
import * as K from "../tensor/index.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";

export interface Params {
  dtype: DType;
}

export const castP: DefinedPrimitive<Params, "cast"> = defineSingle<Params, "cast">("cast", {
  linear: true,
  impl: ([x], { dtype }) => K.cast(x!, dtype),
  abstractEval: ([x], { dtype }) => aval(x!.shape, dtype),
  jvp: ([x], [t], p): [Tensor, Tangent] => [
    bind1(castP, [x!], p),
    t && isFloat(p.dtype) ? bind1(castP, [t], p) : null,
  ],
  transpose: (ct, [x]) => [
    bind1(castP, [ct], { dtype: (x as { aval: { dtype: DType } }).aval.dtype }),
  ],
  // Elementwise: the batch axis stays where it is.
  batch: ([x], [d], p) => [bind1(castP, [x!], p), d!],
  testSpec: { cases: [{ inputs: [{ shape: [2, 3] }], params: { dtype: "float64" } }] },
});

/** Converts to `dtype` (returns `x` itself when it already has it). */
export function cast(x: TensorLike, dtype: DType): Tensor {
  const t = toTensor(x, "cast: x");
  const d = checkDType(dtype, "cast: dtype");
  return t.dtype === d ? t : bind1(castP, [t], { dtype: d });
}
