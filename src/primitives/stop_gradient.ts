/**
 * Gradient blocking: the identity on values whose JVP
 * returns a zero tangent, so no derivative, of any order or mode, flows through it.
 * @example ng.grad((x) => ng.mul(x, ng.stopGradient(x)))(ng.array(3)) // 3, not 6
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";

type Params = Record<string, never>;

export const stopGradientP: DefinedPrimitive<Params, "stopGradient"> = defineSingle<
  Params,
  "stopGradient"
>("stopGradient", {
  // Values are immutable, so the identity can return its input array.
  impl: ([x]) => x!,
  abstractEval: ([x]: ShapedArray[]) => aval(x!.shape, x!.dtype),
  // d stopGradient(x) = 0 by definition.
  jvp: ([x]): [Tensor, Tangent] => [bind1(stopGradientP, [x!]), null],
  // Elementwise identity: the batch axis stays where it is.
  batch: ([x], [d]) => [bind1(stopGradientP, [x!]), d!],
  onnx: (c, [x]) => [c.node1("Identity", [x!])],
  // A constant to every derivative: no jets.
  taylor2: ([x], p) => ({ value: bind1(stopGradientP, [x!.value], p), jet1: null, jet2: null }),
  testSpec: { cases: [{ inputs: [{ shape: [2, 3] }], params: {} }], nonDifferentiable: true },
});

/**
 * Returns `x` unchanged, but treated as a constant by every derivative (grad, jvp, vjp, ...).
 * @example ng.grad((x) => ng.mul(x, ng.stopGradient(x)))(ng.array(3)) // 3, not 6
 */
export function stopGradient(x: TensorLike): Tensor {
  return bind1(stopGradientP, [toTensor(x, "stopGradient: x")], {});
}
