/**
 * Elementwise floored modulo x mod y (sign of the divisor, as NumPy) with broadcasting.
 * x mod y = x - floor(x/y)·y, so d(x mod y) = dx - floor(x/y) dy away from jumps.
 * @example ng.mod(ng.array([-1, 5]), 3) // [2, 2]
 */
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { div } from "./div.js";
import { floor } from "./floor.js";
import { mul } from "./mul.js";
import { neg } from "./neg.js";
import { addTangents, mapTangent } from "./tangent.js";

export const modP = defineBinary(
  "mod",
  K.mod,
  (x, y, _z, tx, ty) =>
    addTangents(
      tx,
      mapTangent(ty, (t) => neg(mul(t, floor(div(x, y))))),
    ),
  {
    dtype: "same",
    domains: [
      [0.1, 0.9],
      [1.1, 1.9],
    ],
  },
);
export const mod = binaryOp(modP);
