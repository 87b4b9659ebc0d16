/**
 * Comparisons (==, !=, <, <=, >, >=) with broadcasting, to bool. One file for the family:
 * the six primitives share everything and have no derivative (their tangents are zero).
 * @example ng.less(ng.array([1, 3]), 2) // [true, false]
 */
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";

const opts = { dtype: "bool", nonDifferentiable: true } as const;
export const equalP = defineBinary("equal", K.equal, null, opts);
export const notEqualP = defineBinary("notEqual", K.notEqual, null, opts);
export const lessP = defineBinary("less", K.less, null, opts);
export const lessEqualP = defineBinary("lessEqual", K.lessEqual, null, opts);
export const greaterP = defineBinary("greater", K.greater, null, opts);
export const greaterEqualP = defineBinary("greaterEqual", K.greaterEqual, null, opts);

export const equal = binaryOp(equalP);
export const notEqual = binaryOp(notEqualP);
export const less = binaryOp(lessP);
export const lessEqual = binaryOp(lessEqualP);
export const greater = binaryOp(greaterP);
export const greaterEqual = binaryOp(greaterEqualP);
