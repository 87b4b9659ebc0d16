/**
 * Elementwise absolute value. d abs(x) = sign(x) dx (0 at x = 0).
 * @example ng.abs(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { mul } from "./mul.js";
import { sign } from "./sign.js";
import { onnxElementwise, NUMERIC } from "./onnx.js";

export const absP = defineUnary("abs", K.abs, (x, _y, t) => mul(t, sign(x)), {
  dtype: "same",
  onnx: onnxElementwise("Abs", NUMERIC),
  domain: [-2, 2],
});
/** Elementwise absolute value |x|. @example ng.abs(ng.array([-1.5, 2])) // [1.5, 2] */
export const abs = unaryOp(absP);
