/**
 * Elementwise floor. Piecewise constant: zero derivative.
 * @example ng.floor(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { onnxRounding } from "./onnx.js";

export const floorP = defineUnary("floor", K.floor, null, {
  dtype: "same",
  onnx: onnxRounding("Floor"),
  domain: [-2, 2],
  nonDifferentiable: true,
});
/** Elementwise floor ⌊x⌋ (zero derivative). @example ng.floor(ng.array([0.5, -1.5])) // [0, -2] */
export const floor = unaryOp(floorP);
