/**
 * Elementwise e^x. d exp(x) = exp(x) dx.
 * @example ng.exp(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { mul } from "./mul.js";
import { FLOATS, onnxElementwise } from "./onnx.js";

export const expP = defineUnary("exp", K.exp, (_x, y, t) => mul(t, y), {
  dtype: "float",
  domain: [-2, 2],
  onnx: onnxElementwise("Exp", FLOATS),
});
/** Elementwise eˣ. @example ng.exp(ng.array([0, 1])) // [1, 2.7183] */
export const exp = unaryOp(expP);
