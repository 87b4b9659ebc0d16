/**
 * Elementwise true division with broadcasting (int operands give float32).
 * d(x/y) = dx/y - (x/y)·dy/y; linear in x, whose transpose is ct/y.
 * @example ng.div(ng.array([1, 2]), 2) // [0.5, 1]
 */
import { LinearInput } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { mul } from "./mul.js";
import { neg } from "./neg.js";
import { addTangents, mapTangent } from "./tangent.js";
import { onnxElementwise, FLOATS } from "./onnx.js";

export const divP = defineBinary(
  "div",
  K.div,
  (_x, y, z, tx, ty) =>
    addTangents(
      mapTangent(tx, (t) => div(t, y)),
      mapTangent(ty, (t) => neg(mul(t, div(z, y)))),
    ),
  {
    dtype: "float",
    onnx: onnxElementwise("Div", FLOATS),
    domains: [
      [-2, 2],
      [0.5, 2],
    ],
    transpose: ([ct], [x, y]) => {
      if (!(x instanceof LinearInput) || y instanceof LinearInput) {
        throw new Error(
          "div: transpose is only defined for a tangent numerator and a constant denominator",
        );
      }
      return [div(ct!, y as never), null];
    },
  },
);
/** Elementwise x / y with broadcasting (int operands give float32). @example ng.div(ng.array([1, 2]), 2) // [0.5, 1] */
export const div = binaryOp(divP);
