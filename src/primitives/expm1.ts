/**
 * Elementwise e^x - 1, accurate for small x. d expm1(x) = (y + 1) dx.
 * @example ng.expm1(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { add } from "./add.js";
import { mul } from "./mul.js";
import { castTo, FLOATS, requireDTypes } from "./onnx.js";

export const expm1P = defineUnary("expm1", K.expm1, (_x, y, t) => mul(t, add(y, 1)), {
  dtype: "float",
  // ONNX has no Expm1 and Exp(x) - 1 cancels for small |x|. Kahan's form is accurate:
  // with u = e^x, expm1 = (u - 1)·x / log(u) (= x when u rounds to 1); for |x| ≥ 0.5 u - 1.
  onnx: (c, [x], _p, { ins, outs }) => {
    const d = outs[0]!.dtype;
    requireDTypes(c, "Exp", d, FLOATS);
    const xf = castTo(c, x!, ins[0]!.dtype, d);
    const u = c.node1("Exp", [xf]);
    const um1 = c.node1("Sub", [u, c.scalar(1, d)]);
    const kahan = c.node1("Div", [c.node1("Mul", [um1, xf]), c.node1("Log", [u])]);
    const small = c.node1("Where", [c.node1("Equal", [u, c.scalar(1, d)]), xf, kahan]);
    const near0 = c.node1("Less", [c.node1("Abs", [xf]), c.scalar(0.5, d)]);
    return [c.node1("Where", [near0, small, um1])];
  },
  domain: [-2, 2],
});
/** Elementwise eˣ − 1, accurate for small x. @example ng.expm1(ng.array([0, 1e-7])) // [0, 1e-7] */
export const expm1 = unaryOp(expm1P);
