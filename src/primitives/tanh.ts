/**
 * Elementwise hyperbolic tangent. d tanh(x) = (1 - tanh²x) dx.
 * @example ng.tanh(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { mul } from "./mul.js";
import { sub } from "./sub.js";
import { onnxElementwise, FLOATS } from "./onnx.js";

export const tanhP = defineUnary("tanh", K.tanh, (_x, y, t) => mul(t, sub(1, mul(y, y))), {
  dtype: "float",
  onnx: onnxElementwise("Tanh", FLOATS),
  domain: [-2, 2],
});
/** Elementwise hyperbolic tangent. @example ng.tanh(ng.array([0])) // [0] */
export const tanh = unaryOp(tanhP);
