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
import { castTo, NUMERIC, requireDTypes } from "./onnx.js";

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
    // Integers: ONNX Mod (fmod=0) is floored. Floats: r = fmod(x, y), moved into the
    // divisor's sign, r + y when r ≠ 0 and sign(r) ≠ sign(y) (no cancelling x - floor(x/y)·y).
    onnx: (c, [x, y], _p, { ins, outs }) => {
      const d = outs[0]!.dtype;
      requireDTypes(c, "Mod", d, NUMERIC);
      const [a, b] = [castTo(c, x!, ins[0]!.dtype, d), castTo(c, y!, ins[1]!.dtype, d)];
      if (d === "int32") return [c.node1("Mod", [a, b], { fmod: 0 })];
      const r = c.node1("Mod", [a, b], { fmod: 1 });
      const zero = c.scalar(0, d);
      const flip = c.node1("And", [
        c.node1("Not", [c.node1("Equal", [r, zero])]),
        c.node1("Xor", [c.node1("Less", [r, zero]), c.node1("Less", [b, zero])]),
      ]);
      return [c.node1("Where", [flip, c.node1("Add", [r, b]), r])];
    },
    domains: [
      [0.1, 0.9],
      [1.1, 1.9],
    ],
  },
);
/** Elementwise floored modulo (sign of the divisor, as NumPy). @example ng.mod(ng.array([-1, 5]), 3) // [2, 2] */
export const mod = binaryOp(modP);
