/**
 * Elementwise cosine. d cos(x) = -sin(x) dx.
 * @example ng.cos(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { sin } from "./sin.js";
import { mul } from "./mul.js";
import { neg } from "./neg.js";
import { onnxElementwise, FLOATS } from "./onnx.js";

export const cosP = defineUnary("cos", K.cos, (x, _y, t) => neg(mul(t, sin(x))), {
  dtype: "float",
  onnx: onnxElementwise("Cos", FLOATS),
  domain: [-3, 3],
});
/** Elementwise cosine (radians). @example ng.cos(ng.array([0, Math.PI])) // [1, -1] */
export const cos = unaryOp(cosP);
