/**
 * Elementwise e^x - 1, accurate for small x. d expm1(x) = (y + 1) dx.
 * @example ng.expm1(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { add } from "./add.js";
import { mul } from "./mul.js";

export const expm1P = defineUnary("expm1", K.expm1, (_x, y, t) => mul(t, add(y, 1)), {
  dtype: "float",
  domain: [-2, 2],
});
export const expm1 = unaryOp(expm1P);
