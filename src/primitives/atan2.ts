/**
 * Elementwise two-argument arctangent atan2(y, x) with broadcasting.
 * d atan2(y, x) = (x dy - y dx) / (x² + y²).
 * @example ng.atan2(ng.array([1]), ng.array([1])) // [0.7854]
 */
import * as K from "../tensor/index.js";
import { add } from "./add.js";
import { binaryOp, defineBinary } from "./binary.js";
import { div } from "./div.js";
import { mul } from "./mul.js";
import { neg } from "./neg.js";
import { addTangents, mapTangent } from "./tangent.js";

export const atan2P = defineBinary(
  "atan2",
  K.atan2,
  (y, x, _z, ty, tx) => {
    const r2 = add(mul(x, x), mul(y, y));
    return addTangents(
      mapTangent(ty, (t) => mul(t, div(x, r2))),
      mapTangent(tx, (t) => mul(t, neg(div(y, r2)))),
    );
  },
  {
    dtype: "float",
    domains: [
      [0.5, 2],
      [0.5, 2],
    ],
  },
);
export const atan2 = binaryOp(atan2P);
