/**
 * Elementwise negation. Linear: d(-x) = -dx, and its transpose is itself.
 * @example ng.neg(ng.array([1, -2]))
 */
import * as K from "../tensor/index.js";
import { bind1 } from "../core/trace.js";
import { aval, defineSingle } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { unaryDType } from "./unary.js";
import { castTo } from "./onnx.js";
import { linearJets } from "./taylor.js";

export const negP = defineSingle<Record<string, never>, "neg">("neg", {
  linear: true,
  impl: ([x]) => K.neg(x!),
  abstractEval: ([x]) => aval(x!.shape, unaryDType("same", x!.dtype)),
  jvp: ([x], [t]) => [neg(x!), t && neg(t)],
  transpose: (ct) => [neg(ct)],
  // Elementwise: the batch axis stays where it is.
  batch: ([x], [d]) => [neg(x!), d!],
  // Neg has no bool kernel: bool becomes int32 first, as the dtype rule says.
  onnx: (c, [x], _p, { ins, outs }) => [
    c.node1("Neg", [castTo(c, x!, ins[0]!.dtype, outs[0]!.dtype)]),
  ],
  // Linear: negate v, J and L alike.
  taylor2: ([x]) => linearJets(x!, neg),
  testSpec: { cases: [{ inputs: [{ shape: [2, 3] }], params: {} }] },
});

/** Elementwise −x. @example ng.neg(ng.array([1, -2])) // [-1, 2] */
export function neg(x: TensorLike): ReturnType<typeof bind1> {
  return bind1(negP, [toTensor(x, "neg: x")]);
}
