/**
 * Elementwise log(1 + x), accurate for small x. d log1p(x) = dx / (1 + x).
 * @example ng.log1p(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { add } from "./add.js";
import { div } from "./div.js";
import { castTo, FLOATS, requireDTypes } from "./onnx.js";

export const log1pP = defineUnary("log1p", K.log1p, (x, _y, t) => div(t, add(x, 1)), {
  dtype: "float",
  // ONNX has no Log1p and Log(1 + x) loses the low bits of tiny x. Kahan's form is accurate:
  // with u = 1 + x, log1p = log(u)·x / (u - 1) (= x when u rounds to 1); for |x| ≥ 0.5 log(u).
  onnx: (c, [x], _p, { ins, outs }) => {
    const d = outs[0]!.dtype;
    requireDTypes(c, "Log", d, FLOATS);
    const xf = castTo(c, x!, ins[0]!.dtype, d);
    const u = c.node1("Add", [xf, c.scalar(1, d)]);
    const logu = c.node1("Log", [u]);
    const kahan = c.node1("Div", [c.node1("Mul", [logu, xf]), c.node1("Sub", [u, c.scalar(1, d)])]);
    const small = c.node1("Where", [c.node1("Equal", [u, c.scalar(1, d)]), xf, kahan]);
    const near0 = c.node1("Less", [c.node1("Abs", [xf]), c.scalar(0.5, d)]);
    return [c.node1("Where", [near0, small, logu])];
  },
  domain: [-0.5, 2],
});
/** Elementwise log(1 + x), accurate for small x. @example ng.log1p(ng.array([0, 1e-7])) // [0, 1e-7] */
export const log1p = unaryOp(log1pP);
