/**
 * Elementwise logistic sigmoid 1/(1+e^-x), stable for large abs(x). dσ = σ(1-σ) dx.
 * @example ng.sigmoid(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { mul } from "./mul.js";
import { sub } from "./sub.js";
import { onnxElementwise, FLOATS } from "./onnx.js";

export const sigmoidP = defineUnary("sigmoid", K.sigmoid, (_x, y, t) => mul(t, mul(y, sub(1, y))), {
  dtype: "float",
  onnx: onnxElementwise("Sigmoid", FLOATS),
  domain: [-4, 4],
});
/** Elementwise logistic sigmoid 1/(1 + e⁻ˣ). @example ng.sigmoid(ng.array([0])) // [0.5] */
export const sigmoid = unaryOp(sigmoidP);
