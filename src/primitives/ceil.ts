/**
 * Elementwise ceiling. Piecewise constant: zero derivative.
 * @example ng.ceil(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { onnxRounding } from "./onnx.js";

export const ceilP = defineUnary("ceil", K.ceil, null, {
  dtype: "same",
  onnx: onnxRounding("Ceil"),
  domain: [-2, 2],
  nonDifferentiable: true,
});
/** Elementwise ceiling ⌈x⌉ (zero derivative). @example ng.ceil(ng.array([0.5, -1.5])) // [1, -1] */
export const ceil = unaryOp(ceilP);
