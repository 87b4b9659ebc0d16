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
import { onnxType } from "./onnx.js";
import { linearJets } from "./taylor.js";

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
  // ONNX Cast truncates float -> int toward zero and maps nonzero to true, as K.cast.
  onnx: (c, [x], { dtype }) => [c.node1("Cast", [x!], { to: onnxType(dtype) })],
  // Linear: cast v, J and L alike (an integer result carries no jets).
  taylor2: ([x], p) => linearJets(x!, (t) => bind1(castP, [t], p)),
  testSpec: { cases: [{ inputs: [{ shape: [2, 3] }], params: { dtype: "float64" } }] },
});

/**
 * Converts to `dtype` (returns `x` itself when it already has it).
 * @example ng.cast(ng.array([1.7, -1.7]), "int32") // int32 [1, -1]
 */
export function cast(x: TensorLike, dtype: DType): Tensor {
  const t = toTensor(x, "cast: x");
  const d = checkDType(dtype, "cast: dtype");
  return t.dtype === d ? t : bind1(castP, [t], { dtype: d });
}
