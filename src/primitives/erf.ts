/**
 * Elementwise error function. d erf(x) = 2/sqrt(pi) e^(-x²) dx.
 * @example ng.erf(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { exp } from "./exp.js";
import { mul } from "./mul.js";
import { neg } from "./neg.js";
import { onnxElementwise } from "./onnx.js";

export const erfP = defineUnary(
  "erf",
  K.erf,
  (x, _y, t) => mul(t, mul(exp(neg(mul(x, x))), 1.1283791670955126)),
  { dtype: "float", domain: [-2, 2], onnx: onnxElementwise("Erf", ["float32"]) },
);
/** Elementwise error function. @example ng.erf(ng.array([0, 1])) // [0, 0.8427] */
export const erf = unaryOp(erfP);
