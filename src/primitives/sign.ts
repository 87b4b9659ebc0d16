/**
 * Elementwise sign (-1, 0, 1). Piecewise constant: zero derivative.
 * @example ng.sign(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { onnxElementwise, NUMERIC } from "./onnx.js";

export const signP = defineUnary("sign", K.sign, null, {
  dtype: "same",
  onnx: onnxElementwise("Sign", NUMERIC),
  domain: [-2, 2],
  nonDifferentiable: true,
});
/** Elementwise sign −1, 0 or 1 (zero derivative). @example ng.sign(ng.array([-2, 0, 3])) // [-1, 0, 1] */
export const sign = unaryOp(signP);
