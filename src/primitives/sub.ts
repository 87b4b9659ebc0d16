/**
 * Elementwise subtraction with broadcasting. Linear: d(x - y) = dx - dy; transpose gives
 * (ct, -ct).
 * @example ng.sub(ng.array([1, 2]), 1) // [0, 1]
 */
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { neg } from "./neg.js";
import { mapTangent } from "./tangent.js";

export const subP = defineBinary(
  "sub",
  K.sub,
  (_x, _y, _z, tx, ty) => (tx === null ? mapTangent(ty, neg) : ty === null ? tx : sub(tx, ty)),
  { dtype: "same", transpose: ([ct]) => [ct!, neg(ct!)] },
);
export const sub = binaryOp(subP);
