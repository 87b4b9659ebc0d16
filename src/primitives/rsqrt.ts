/**
 * Elementwise 1/sqrt(x). d x^-1/2 = -1/2 x^-3/2 dx = -y/(2x) dx.
 * @example ng.rsqrt(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { div } from "./div.js";
import { mul } from "./mul.js";

export const rsqrtP = defineUnary("rsqrt", K.rsqrt, (x, y, t) => mul(t, mul(div(y, x), -0.5)), {
  dtype: "float",
  domain: [0.2, 3],
});
export const rsqrt = unaryOp(rsqrtP);
