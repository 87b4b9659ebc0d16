/**
 * Elementwise tangent. d tan(x) = (1 + tan²x) dx.
 * @example ng.tan(ng.array([0.5, 1.5]))
 */
import * as K from "../tensor/index.js";
import { defineUnary, unaryOp } from "./unary.js";
import { add } from "./add.js";
import { mul } from "./mul.js";
import { castTo } from "./onnx.js";

export const tanP = defineUnary("tan", K.tan, (_x, y, t) => mul(t, add(mul(y, y), 1)), {
  dtype: "float",
  // ORT's Tan is float32 only; float64 uses sin(x) / cos(x) (Sin and Cos have double kernels).
  onnx: (c, [x], _p, { ins, outs }) => {
    const d = outs[0]!.dtype;
    const xf = castTo(c, x!, ins[0]!.dtype, d);
    if (d === "float32") return [c.node1("Tan", [xf])];
    return [c.node1("Div", [c.node1("Sin", [xf]), c.node1("Cos", [xf])])];
  },
  domain: [-1.2, 1.2],
});
/** Elementwise tangent (radians). @example ng.tan(ng.array([0, Math.PI / 4])) // [0, 1] */
export const tan = unaryOp(tanP);
