/**
 * Elementwise subtraction with broadcasting. Linear: d(x - y) = dx - dy; transpose gives
 * (ct, -ct).
 * @example ng.sub(ng.array([1, 2]), 1) // [0, 1]
 */
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import type { Tangent } from "../core/trace.js";
import { neg } from "./neg.js";
import { mapTangent } from "./tangent.js";
import { onnxElementwise, NUMERIC } from "./onnx.js";

export const subP = defineBinary(
  "sub",
  K.sub,
  (_x, _y, _z, tx, ty) => (tx === null ? mapTangent(ty, neg) : ty === null ? tx : sub(tx, ty)),
  {
    dtype: "same",
    transpose: ([ct]) => [ct!, neg(ct!)],
    onnx: onnxElementwise("Sub", NUMERIC),
    // Linear: J = Jx − Jy, L = Lx − Ly.
    taylor: (x, y, z) => {
      const diff = (a: Tangent, b: Tangent) =>
        a === null ? mapTangent(b, neg) : b === null ? a : sub(a, b);
      return { value: z, jet1: diff(x.jet1, y.jet1), jet2: diff(x.jet2, y.jet2) };
    },
  },
);
/** Elementwise x − y with broadcasting. @example ng.sub(ng.array([1, 2]), 1) // [0, 1] */
export const sub = binaryOp(subP);
