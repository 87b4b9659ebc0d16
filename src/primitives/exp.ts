/**
 * Elementwise e^x. d exp(x) = exp(x) dx.
 * @example ng.exp(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { mul } from "./mul.js";

export const expP = defineUnary("exp", K.exp, (_x, y, t) => mul(t, y), {
  dtype: "float",
  domain: [-2, 2],
});
export const exp = unaryOp(expP);
