/**
 * Elementwise sine. d sin(x) = cos(x) dx.
 * @example ng.sin(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { cos } from "./cos.js";
import { mul } from "./mul.js";
import { neg } from "./neg.js";
import { onnxElementwise, FLOATS } from "./onnx.js";

export const sinP = defineUnary("sin", K.sin, (x, _y, t) => mul(t, cos(x)), {
  dtype: "float",
  onnx: onnxElementwise("Sin", FLOATS),
  domain: [-3, 3],
  // sin' = cos, sin'' = −sin
  taylor: (x, y) => [cos(x), neg(y)],
});
/** Elementwise sine (radians). @example ng.sin(ng.array([0, Math.PI / 2])) // [0, 1] */
export const sin = unaryOp(sinP);
