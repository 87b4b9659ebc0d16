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
  // tanh' = 1 − y², tanh'' = −2y·(1 − y²)
  taylor: (_x, y) => {
    const d1 = sub(1, mul(y, y));
    return [d1, mul(-2, mul(y, d1))];
  },
});
/** Elementwise hyperbolic tangent. @example ng.tanh(ng.array([0])) // [0] */
export const tanh = unaryOp(tanhP);
