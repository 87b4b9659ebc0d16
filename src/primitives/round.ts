/**
 * Elementwise round half to even. Piecewise constant: zero derivative.
 * @example ng.round(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { onnxRounding } from "./onnx.js";

export const roundP = defineUnary("round", K.round, null, {
  dtype: "same",
  onnx: onnxRounding("Round"),
  domain: [-2, 2],
  nonDifferentiable: true,
});
/** Elementwise round half to even (zero derivative). @example ng.round(ng.array([0.5, 1.5, 2.5])) // [0, 2, 2] */
export const round = unaryOp(roundP);
