/**
 * Elementwise multiplication with broadcasting. Bilinear: d(xy) = dx·y + x·dy; the
 * transpose with respect to the linear operand multiplies the cotangent by the other.
 * @example ng.mul(ng.array([1, 2]), 3) // [3, 6]
 */
import { LinearInput } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { addTangents, mapTangent } from "./tangent.js";

export const mulP = defineBinary(
  "mul",
  K.mul,
  (x, y, _z, tx, ty) =>
    addTangents(
      mapTangent(tx, (t) => mul(t, y)),
      mapTangent(ty, (t) => mul(x, t)),
    ),
  {
    dtype: "same",
    transpose: ([ct], [x, y]) => {
      if (x instanceof LinearInput && y instanceof LinearInput) {
        throw new Error("mul: transpose of a product of two tangents (the program is not linear)");
      }
      return x instanceof LinearInput ? [mul(ct!, y as never), null] : [null, mul(x as never, ct!)];
    },
  },
);
export const mul = binaryOp(mulP);
