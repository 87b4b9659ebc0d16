/**
 * Comparisons (==, !=, <, <=, >, >=) with broadcasting, to bool. One file for the family:
 * the six primitives share everything and have no derivative (their tangents are zero).
 * @example ng.less(ng.array([1, 3]), 2) // [true, false]
 */
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { onnxCompare } from "./onnx.js";

const opts = { dtype: "bool", nonDifferentiable: true } as const;
export const equalP = defineBinary("equal", K.equal, null, { ...opts, onnx: onnxCompare("Equal") });
export const notEqualP = defineBinary("notEqual", K.notEqual, null, {
  ...opts,
  onnx: onnxCompare("Equal", true),
});
export const lessP = defineBinary("less", K.less, null, { ...opts, onnx: onnxCompare("Less") });
export const lessEqualP = defineBinary("lessEqual", K.lessEqual, null, {
  ...opts,
  onnx: onnxCompare("LessOrEqual"),
});
export const greaterP = defineBinary("greater", K.greater, null, {
  ...opts,
  onnx: onnxCompare("Greater"),
});
export const greaterEqualP = defineBinary("greaterEqual", K.greaterEqual, null, {
  ...opts,
  onnx: onnxCompare("GreaterOrEqual"),
});

/** x == y with broadcasting, to bool. @example ng.equal(ng.array([1, 2]), 2) // [false, true] */
export const equal = binaryOp(equalP);
/** x != y with broadcasting, to bool. @example ng.notEqual(ng.array([1, 2]), 2) // [true, false] */
export const notEqual = binaryOp(notEqualP);
/** x < y with broadcasting, to bool. @example ng.less(ng.array([1, 3]), 2) // [true, false] */
export const less = binaryOp(lessP);
/** x <= y with broadcasting, to bool. @example ng.lessEqual(ng.array([1, 2, 3]), 2) // [true, true, false] */
export const lessEqual = binaryOp(lessEqualP);
/** x > y with broadcasting, to bool. @example ng.greater(ng.array([1, 3]), 2) // [false, true] */
export const greater = binaryOp(greaterP);
/** x >= y with broadcasting, to bool. @example ng.greaterEqual(ng.array([1, 2, 3]), 2) // [false, true, true] */
export const greaterEqual = binaryOp(greaterEqualP);
