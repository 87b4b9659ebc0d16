/**
 * Elementwise round half to even. Piecewise constant: zero derivative.
 * @example ng.round(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";

export const roundP = defineUnary("round", K.round, null, {
  dtype: "same",
  domain: [-2, 2],
  nonDifferentiable: true,
});
export const round = unaryOp(roundP);
