/**
 * Elementwise 1/sqrt(x). d x^-1/2 = -1/2 x^-3/2 dx = -y/(2x) dx.
 * @example ng.rsqrt(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { div } from "./div.js";
import { mul } from "./mul.js";
import { castTo, FLOATS, requireDTypes } from "./onnx.js";

export const rsqrtP = defineUnary("rsqrt", K.rsqrt, (x, y, t) => mul(t, mul(div(y, x), -0.5)), {
  dtype: "float",
  // rsqrt(x) = 1 / sqrt(x)
  onnx: (c, [x], _p, { ins, outs }) => {
    const d = outs[0]!.dtype;
    requireDTypes(c, "Sqrt", d, FLOATS);
    return [c.node1("Reciprocal", [c.node1("Sqrt", [castTo(c, x!, ins[0]!.dtype, d)])])];
  },
  domain: [0.2, 3],
});
/** Elementwise 1/√x. @example ng.rsqrt(ng.array([4, 0.25])) // [0.5, 2] */
export const rsqrt = unaryOp(rsqrtP);
