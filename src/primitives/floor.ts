/**
 * Elementwise floor. Piecewise constant: zero derivative.
 * @example ng.floor(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";

export const floorP = defineUnary("floor", K.floor, null, {
  dtype: "same",
  domain: [-2, 2],
  nonDifferentiable: true,
});
export const floor = unaryOp(floorP);
