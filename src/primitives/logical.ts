/**
 * Logical and / or / not (nonzero is true), to bool. One file for the family: no
 * derivatives, shared plumbing.
 * @example ng.logicalAnd(ng.array([true, false]), true) // [true, false]
 */
import { bind1 } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { toTensor, type TensorLike } from "./convert.js";
import { defineUnary } from "./unary.js";
import type { Tensor } from "../core/tensor.js";

const opts = { dtype: "bool", nonDifferentiable: true } as const;
export const logicalAndP = defineBinary("logicalAnd", K.logicalAnd, null, opts);
export const logicalOrP = defineBinary("logicalOr", K.logicalOr, null, opts);
export const logicalNotP = defineUnary("logicalNot", K.logicalNot, null, {
  dtype: "bool",
  nonDifferentiable: true,
});
export const logicalAnd = binaryOp(logicalAndP);
export const logicalOr = binaryOp(logicalOrP);
export function logicalNot(x: TensorLike): Tensor {
  return bind1(logicalNotP, [toTensor(x, "logicalNot: x")]);
}
