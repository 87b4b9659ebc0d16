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
import { castTo, type OnnxRule } from "./onnx.js";

const opts = { dtype: "bool", nonDifferentiable: true } as const;
/** Logical ops take any dtype (nonzero is true): operands are cast to bool first. */
function logicalRule(op: string): OnnxRule<unknown> {
  return (c, xs, _p, { ins }) => [
    c.node1(
      op,
      xs.map((x, i) => castTo(c, x, ins[i]!.dtype, "bool")),
    ),
  ];
}
export const logicalAndP = defineBinary("logicalAnd", K.logicalAnd, null, {
  ...opts,
  onnx: logicalRule("And"),
});
export const logicalOrP = defineBinary("logicalOr", K.logicalOr, null, {
  ...opts,
  onnx: logicalRule("Or"),
});
export const logicalNotP = defineUnary("logicalNot", K.logicalNot, null, {
  dtype: "bool",
  nonDifferentiable: true,
  onnx: logicalRule("Not"),
});
/** Elementwise x AND y (nonzero is true), to bool. @example ng.logicalAnd(ng.array([true, false]), true) // [true, false] */
export const logicalAnd = binaryOp(logicalAndP);
/** Elementwise x OR y (nonzero is true), to bool. @example ng.logicalOr(ng.array([true, false]), false) // [true, false] */
export const logicalOr = binaryOp(logicalOrP);
/** Elementwise NOT x (nonzero is true), to bool. @example ng.logicalNot(ng.array([true, false])) // [false, true] */
export function logicalNot(x: TensorLike): Tensor {
  return bind1(logicalNotP, [toTensor(x, "logicalNot: x")]);
}
