/**
 * Activation functions and softmax (DESIGN.md §1 ops/): composites of primitives, written
 * so that neither the value nor the derivative overflows or turns NaN for large inputs —
 * including in the branch a `where` does not select, whose derivative still gets
 * evaluated (times zero) in reverse mode.
 */
import type { Tensor } from "../core/tensor.js";
import { abs } from "../primitives/abs.js";
import { add } from "../primitives/add.js";
import { greater, greaterEqual } from "../primitives/compare.js";
import { describeValue, toTensor, type TensorLike } from "../primitives/convert.js";
import { div } from "../primitives/div.js";
import { erf } from "../primitives/erf.js";
import { exp } from "../primitives/exp.js";
import { expm1 } from "../primitives/expm1.js";
import { log1p } from "../primitives/log1p.js";
import { maximum } from "../primitives/maximum.js";
import { minimum } from "../primitives/minimum.js";
import { mul } from "../primitives/mul.js";
import { neg } from "../primitives/neg.js";
import { sigmoid } from "../primitives/sigmoid.js";
import { sub } from "../primitives/sub.js";
import { sum } from "../primitives/sum.js";
import { tanh } from "../primitives/tanh.js";
import { where } from "../primitives/where.js";
import { normalizeAxes } from "../tensor/shape.js";
import { asFloat, logsumexp, stableShift, type Axis } from "./reductions.js";

function checkNumber(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TypeError(`${name}: expected a finite number, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * Rectified linear unit max(x, 0) (keeps x's dtype); its derivative at 0 is taken as 0.
 * @example ng.relu(ng.array([-1, 0, 2])) // [0, 0, 2]
 */
export function relu(x: TensorLike): Tensor {
  const t = toTensor(x, "relu: x");
  return where(greater(t, 0), t, 0);
}

/**
 * Leaky ReLU: x for x >= 0, negativeSlope·x otherwise.
 * @example ng.leakyRelu(ng.array([-10, 3]), 0.1) // [-1, 3]
 */
export function leakyRelu(x: TensorLike, negativeSlope = 0.01): Tensor {
  const a = checkNumber(negativeSlope, "leakyRelu: negativeSlope");
  const t = asFloat(x, "leakyRelu: x");
  return where(greaterEqual(t, 0), t, mul(t, a));
}

/**
 * Gaussian error linear unit x·Φ(x). Exact: 0.5·x·(1 + erf(x/√2)); with
 * `approximate = true` the tanh form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 * @example ng.gelu(ng.array([0, 1])) // [0, 0.8413...]
 */
export function gelu(x: TensorLike, approximate = false): Tensor {
  if (typeof approximate !== "boolean") {
    throw new TypeError(`gelu: approximate: expected a boolean, got ${describeValue(approximate)}`);
  }
  const t = asFloat(x, "gelu: x");
  const half = mul(t, 0.5);
  if (!approximate) return add(half, mul(half, erf(mul(t, Math.SQRT1_2))));
  const inner = mul(add(t, mul(mul(mul(t, t), t), 0.044715)), Math.sqrt(2 / Math.PI));
  return add(half, mul(half, tanh(inner)));
}

/**
 * softplus(x) = log(1 + eˣ), computed as max(x, 0) + log1p(e^(-|x|)) so it never
 * overflows (softplus(1000) = 1000) and its derivative is sigmoid(x) everywhere.
 * @example ng.softplus(ng.array([0])) // [log 2]
 */
export function softplus(x: TensorLike): Tensor {
  const t = asFloat(x, "softplus: x");
  return add(maximum(t, 0), log1p(exp(neg(abs(t)))));
}

/**
 * Sigmoid-weighted linear unit x·sigmoid(x) (also called swish).
 * @example ng.silu(ng.array([0, 1])) // [0, 0.7310...]
 */
export function silu(x: TensorLike): Tensor {
  const t = asFloat(x, "silu: x");
  return mul(t, sigmoid(t));
}

/**
 * Alias of `silu`: x·sigmoid(x).
 * @example ng.swish(ng.array([1])) // [0.7310...]
 */
export const swish: (x: TensorLike) => Tensor = silu;

/**
 * Exponential linear unit: x for x > 0, alpha·(eˣ - 1) otherwise. The exponential is
 * taken of min(x, 0), so large positive x cannot overflow the unused branch.
 * @example ng.elu(ng.array([-1, 2])) // [exp(-1) - 1, 2]
 */
export function elu(x: TensorLike, alpha = 1): Tensor {
  const a = checkNumber(alpha, "elu: alpha");
  const t = asFloat(x, "elu: x");
  return where(greater(t, 0), t, mul(expm1(minimum(t, 0)), a));
}

/**
 * Softmax exp(x) / sum(exp(x)) along `axis` (default the last), shifted by the
 * (constant) maximum so large logits do not overflow.
 * @example ng.softmax(ng.array([1000, 1000])) // [0.5, 0.5]
 */
export function softmax(x: TensorLike, axis: Axis = -1): Tensor {
  const t = asFloat(x, "softmax: x");
  const axes = normalizeAxes(axis, t.ndim, "softmax: axis");
  const e = exp(sub(t, stableShift(t, axes)));
  return div(e, sum(e, axes, true));
}

/**
 * log(softmax(x)) along `axis` (default the last), computed as x - logsumexp(x) without
 * forming the softmax, so it stays finite where softmax underflows to 0.
 * @example ng.logSoftmax(ng.array([0, 1000])) // [-1000, 0]
 */
export function logSoftmax(x: TensorLike, axis: Axis = -1): Tensor {
  const t = asFloat(x, "logSoftmax: x");
  const axes = normalizeAxes(axis, t.ndim, "logSoftmax: axis");
  return sub(t, logsumexp(t, axes, true));
}
