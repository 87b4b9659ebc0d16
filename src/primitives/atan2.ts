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
import { castTo, requireDTypes } from "./onnx.js";

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
    // ONNX has no Atan2: atan(y/x) plus ±π in the left half-plane (sign of y, +π at y = 0),
    // ±π/2 on the y axis and 0 at the origin, as Math.atan2.
    onnx: (c, [y, x], _p, { ins, outs }) => {
      const d = outs[0]!.dtype;
      requireDTypes(c, "Atan", d, ["float32"]);
      const [b, a] = [castTo(c, y!, ins[0]!.dtype, d), castTo(c, x!, ins[1]!.dtype, d)];
      const zero = c.scalar(0, d);
      const base = c.node1("Atan", [c.node1("Div", [b, a])]);
      const yNeg = c.node1("Less", [b, zero]);
      const pi = c.node1("Where", [yNeg, c.scalar(-Math.PI, d), c.scalar(Math.PI, d)]);
      const left = c.node1("Add", [base, pi]);
      const halfPi = c.node1("Where", [yNeg, c.scalar(-Math.PI / 2, d), c.scalar(Math.PI / 2, d)]);
      const onAxis = c.node1("Where", [c.node1("Equal", [b, zero]), zero, halfPi]);
      const xPos = c.node1("Greater", [a, zero]);
      const xNeg = c.node1("Less", [a, zero]);
      return [c.node1("Where", [xPos, base, c.node1("Where", [xNeg, left, onAxis])])];
    },
    domains: [
      [0.5, 2],
      [0.5, 2],
    ],
  },
);
/** Elementwise atan2(y, x), the angle of the point (x, y). @example ng.atan2(ng.array([1]), ng.array([1])) // [0.7854] */
export const atan2 = binaryOp(atan2P);
