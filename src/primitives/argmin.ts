/**
 * Index of the minimum along one axis or over the flattened tensor, as
 * int32; no derivative. Shares its definition helper with argmax.
 * @example ng.argmin(ng.array([[1, 5], [7, 4]]), 1) // [0, 1]
 */
import * as K from "../tensor/index.js";
import { argReduceOnnx, argReduceOp, defineArgReduce, type ArgReduceOp } from "./argmax.js";

export const argminP = defineArgReduce(
  "argmin",
  (x, axis, keepdims) => K.argmin(x, axis, keepdims),
  argReduceOnnx("ArgMin"),
);

/**
 * Index (int32) of the first minimum along `axis`, or into the flattened tensor when
 * `axis` is omitted; `keepdims` keeps the reduced axis as size 1.
 * @example ng.argmin(ng.array([3, 9, 2])) // 2
 */
export const argmin: ArgReduceOp = argReduceOp(argminP);
