/**
 * Elementwise addition with broadcasting. Linear: d(x + y) = dx + dy; transpose copies
 * the cotangent to both inputs.
 * @example ng.add(ng.array([1, 2]), 3) // [4, 5]
 */
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { addTangents } from "./tangent.js";

export const addP = defineBinary("add", K.add, (_x, _y, _z, tx, ty) => addTangents(tx, ty), {
  dtype: "same",
  transpose: ([ct]) => [ct!, ct!],
});
export const add = binaryOp(addP);
