/**
 * Elementwise tangent. d tan(x) = (1 + tan²x) dx.
 * @example ng.tan(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { add } from "./add.js";
import { mul } from "./mul.js";

export const tanP = defineUnary("tan", K.tan, (_x, y, t) => mul(t, add(mul(y, y), 1)), {
  dtype: "float",
  domain: [-1.2, 1.2],
});
export const tan = unaryOp(tanP);
