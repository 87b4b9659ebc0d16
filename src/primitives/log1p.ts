/**
 * Elementwise log(1 + x), accurate for small x. d log1p(x) = dx / (1 + x).
 * @example ng.log1p(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { add } from "./add.js";
import { div } from "./div.js";

export const log1pP = defineUnary("log1p", K.log1p, (x, _y, t) => div(t, add(x, 1)), {
  dtype: "float",
  domain: [-0.5, 2],
});
export const log1p = unaryOp(log1pP);
