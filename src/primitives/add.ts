/**
 * Elementwise addition with broadcasting. Linear: d(x + y) = dx + dy; transpose copies
 * the cotangent to both inputs.
 * @example ng.add(ng.array([1, 2]), 3) // [4, 5]
 */
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { addTangents } from "./tangent.js";
import { onnxElementwise, NUMERIC } from "./onnx.js";

export const addP = defineBinary("add", K.add, (_x, _y, _z, tx, ty) => addTangents(tx, ty), {
  // Linear: J = Jx + Jy, L = Lx + Ly.
  taylor: (x, y, z) => ({
    value: z,
    jet1: addTangents(x.jet1, y.jet1),
    jet2: addTangents(x.jet2, y.jet2),
  }),
  dtype: "same",
  onnx: onnxElementwise("Add", NUMERIC),
  transpose: ([ct]) => [ct!, ct!],
});
/** Elementwise x + y with broadcasting. @example ng.add(ng.array([1, 2]), 3) // [4, 5] */
export const add = binaryOp(addP);
