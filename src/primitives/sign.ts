/**
 * Elementwise sign (-1, 0, 1). Piecewise constant: zero derivative.
 * @example ng.sign(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";

export const signP = defineUnary("sign", K.sign, null, {
  dtype: "same",
  domain: [-2, 2],
  nonDifferentiable: true,
});
export const sign = unaryOp(signP);
