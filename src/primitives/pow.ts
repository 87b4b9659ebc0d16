/**
 * Elementwise power x^y with broadcasting.
 * d(x^y) = y·x^(y-1) dx + log(x)·x^y dy (the dy term is taken as 0 where x = 0).
 * @example ng.pow(ng.array([2, 3]), 2) // [4, 9]
 */
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { equal } from "./compare.js";
import { log } from "./log.js";
import { mul } from "./mul.js";
import { sub } from "./sub.js";
import { addTangents, mapTangent } from "./tangent.js";
import { where } from "./where.js";
import { onnxElementwise, NUMERIC } from "./onnx.js";

export const powP = defineBinary(
  "pow",
  K.pow,
  (x, y, z, tx, ty) =>
    addTangents(
      mapTangent(tx, (t) => mul(t, mul(y, pow(x, sub(y, 1))))),
      mapTangent(ty, (t) => {
        const x0 = equal(x, 0);
        return mul(t, where(x0, 0, mul(log(where(x0, 1, x)), z)));
      }),
    ),
  {
    dtype: "same",
    onnx: onnxElementwise("Pow", NUMERIC),
    domains: [
      [0.5, 2],
      [-2, 2],
    ],
  },
);
/** Elementwise power xʸ with broadcasting. @example ng.pow(ng.array([2, 3]), 2) // [4, 9] */
export const pow = binaryOp(powP);
