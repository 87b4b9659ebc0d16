/**
 * Elementwise ceiling. Piecewise constant: zero derivative.
 * @example ng.ceil(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";

export const ceilP = defineUnary("ceil", K.ceil, null, {
  dtype: "same",
  domain: [-2, 2],
  nonDifferentiable: true,
});
export const ceil = unaryOp(ceilP);
