/**
 * Elementwise square root. d sqrt(x) = dx / (2 sqrt(x)).
 * @example ng.sqrt(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { div } from "./div.js";
import { mul } from "./mul.js";
import { onnxElementwise, FLOATS } from "./onnx.js";

export const sqrtP = defineUnary("sqrt", K.sqrt, (_x, y, t) => div(t, mul(y, 2)), {
  dtype: "float",
  onnx: onnxElementwise("Sqrt", FLOATS),
  domain: [0.2, 3],
});
/** Elementwise square root. @example ng.sqrt(ng.array([4, 9])) // [2, 3] */
export const sqrt = unaryOp(sqrtP);
