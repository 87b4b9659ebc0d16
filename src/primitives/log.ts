/**
 * Elementwise natural logarithm. d log(x) = dx / x.
 * @example ng.log(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { div } from "./div.js";
import { onnxElementwise, FLOATS } from "./onnx.js";

export const logP = defineUnary("log", K.log, (x, _y, t) => div(t, x), {
  dtype: "float",
  onnx: onnxElementwise("Log", FLOATS),
  domain: [0.2, 3],
});
/** Elementwise natural logarithm. @example ng.log(ng.array([1, Math.E])) // [0, 1] */
export const log = unaryOp(logP);
