/**
 * Activation functions and softmax: composites of primitives, written
 * so that neither the value nor the derivative overflows or turns NaN for large inputs —
 * including in the branch a `where` does not select, whose derivative still gets
 * evaluated (times zero) in reverse mode.
 */
import type { Tensor } from "../core/tensor.js";
import { add } from "../primitives/add.js";
import { greater, greaterEqual, lessEqual } from "../primitives/compare.js";
import { describeValue, toTensor, type TensorLike } from "../primitives/convert.js";
import { div } from "../primitives/div.js";
import { erf } from "../primitives/erf.js";
import { exp } from "../primitives/exp.js";
import { expm1 } from "../primitives/expm1.js";
import { log1p } from "../primitives/log1p.js";
import { mul } from "../primitives/mul.js";
import { neg } from "../primitives/neg.js";
import { sigmoid } from "../primitives/sigmoid.js";
import { sub } from "../primitives/sub.js";
import { sum } from "../primitives/sum.js";
import { tanh } from "../primitives/tanh.js";
import { where } from "../primitives/where.js";
import { normalizeAxes } from "../tensor/shape.js";
import { asFloat, logsumexp, stableShift, type Axis } from "./reductions.js";
import { optionKeys, positionalOrOptions } from "../util/options.js";

/** The options form of softmax's and logSoftmax's axis: `softmax(x, { axis: 0 })`. */
export interface SoftmaxOptions {
  /** The axis or axes to normalise over (default -1, the last). */
  axis?: Axis;
}
/** Options of `leakyRelu`. */
export interface LeakyReluOptions {
  /** Slope for x < 0 (default 0.01). */
  negativeSlope?: number;
}
/** Options of `gelu`. */
export interface GeluOptions {
  /** Use the tanh approximation (default false: the exact erf form). */
  approximate?: boolean;
}
/** Options of `elu`. */
export interface EluOptions {
  /** Scale of the negative branch (default 1). */
  alpha?: number;
}
const SOFTMAX_OPTION_KEYS = optionKeys<SoftmaxOptions>()(["axis"]);
const LEAKY_RELU_OPTION_KEYS = optionKeys<LeakyReluOptions>()(["negativeSlope"]);
const GELU_OPTION_KEYS = optionKeys<GeluOptions>()(["approximate"]);
const ELU_OPTION_KEYS = optionKeys<EluOptions>()(["alpha"]);

function checkNumber(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TypeError(`${name}: expected a finite number, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * Rectified linear unit max(x, 0) (keeps x's dtype). NaN propagates (relu(NaN) = NaN,
 * as in NumPy and JAX) and the derivative at 0 is taken as 0, JAX's convention; every
 * higher derivative is 0.
 * @example ng.relu(ng.array([-1, 0, 2])) // [0, 0, 2]
 */
export function relu(x: TensorLike): Tensor {
  const t = toTensor(x, "relu: x");
  // Select 0 where x <= 0: NaN compares false, so it keeps x and stays NaN.
  return where(lessEqual(t, 0), 0, t);
}

/**
 * Leaky ReLU: x for x >= 0, negativeSlope·x otherwise. The derivative at 0 is taken as 1
 * (JAX's convention); NaN propagates.
 * @example ng.leakyRelu(ng.array([-10, 3]), 0.1) // [-1, 3]
 * @example ng.leakyRelu(ng.array([-10, 3]), { negativeSlope: 0.1 }) // [-1, 3]
 */
export function leakyRelu(x: TensorLike, options: LeakyReluOptions): Tensor;
export function leakyRelu(x: TensorLike, negativeSlope?: number): Tensor;
export function leakyRelu(x: TensorLike, ...rest: unknown[]): Tensor {
  const { negativeSlope = 0.01 } = positionalOrOptions<LeakyReluOptions>(
    "leakyRelu",
    rest,
    LEAKY_RELU_OPTION_KEYS,
  );
  const a = checkNumber(negativeSlope, "leakyRelu: negativeSlope");
  const t = asFloat(x, "leakyRelu: x");
  return where(greaterEqual(t, 0), t, mul(t, a));
}

/**
 * Gaussian error linear unit x·Φ(x). Exact: 0.5·x·(1 + erf(x/√2)); with
 * `approximate = true` the tanh form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 * @example ng.gelu(ng.array([0, 1])) // [0, 0.8413...]
 */
export function gelu(x: TensorLike, options: GeluOptions): Tensor;
export function gelu(x: TensorLike, approximate?: boolean): Tensor;
export function gelu(x: TensorLike, ...rest: unknown[]): Tensor {
  const { approximate = false } = positionalOrOptions<GeluOptions>("gelu", rest, GELU_OPTION_KEYS);
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
 * softplus(x) = log(1 + eˣ), computed as x + log1p(e⁻ˣ) for x > 0 and log1p(eˣ)
 * otherwise, so it never overflows (softplus(1000) = 1000). Both branches are the same
 * analytic function, so every derivative is exact at 0 too: softplus' = sigmoid,
 * softplus''(0) = 1/4.
 * @example ng.softplus(ng.array([0])) // [log 2]
 */
export function softplus(x: TensorLike): Tensor {
  const t = asFloat(x, "softplus: x");
  const pos = greater(t, 0);
  // Each branch sees x only where it is selected (else 0), so e^(±x) never overflows,
  // not even in the derivative of the branch `where` discards. NaN takes the second branch.
  const xp = where(pos, t, 0);
  const xn = where(pos, 0, t);
  return where(pos, add(xp, log1p(exp(neg(xp)))), log1p(exp(xn)));
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
 * Exponential linear unit: x for x > 0, alpha·(eˣ - 1) otherwise. At 0 the derivatives
 * are those of the left branch (JAX's convention): elu'(0) = elu''(0) = alpha, which is
 * exact for alpha = 1 at first order. NaN propagates.
 * @example ng.elu(ng.array([-1, 2])) // [exp(-1) - 1, 2]
 */
export function elu(x: TensorLike, options: EluOptions): Tensor;
export function elu(x: TensorLike, alpha?: number): Tensor;
export function elu(x: TensorLike, ...rest: unknown[]): Tensor {
  const { alpha = 1 } = positionalOrOptions<EluOptions>("elu", rest, ELU_OPTION_KEYS);
  const a = checkNumber(alpha, "elu: alpha");
  const t = asFloat(x, "elu: x");
  const pos = greater(t, 0);
  // The exponential branch sees 0 where x > 0, so large x cannot overflow it; unlike
  // min(x, 0), this passes x through untouched at 0 (no ½ tie rule in the derivative).
  return where(pos, t, mul(expm1(where(pos, 0, t)), a));
}

/**
 * Softmax exp(x) / sum(exp(x)) along `axis` (default the last), shifted by the
 * (constant) maximum so large logits do not overflow.
 * @example ng.softmax(ng.array([1000, 1000])) // [0.5, 0.5]
 */
export function softmax(x: TensorLike, options: SoftmaxOptions): Tensor;
export function softmax(x: TensorLike, axis?: Axis): Tensor;
export function softmax(x: TensorLike, ...rest: unknown[]): Tensor {
  const { axis = -1 } = positionalOrOptions<SoftmaxOptions>("softmax", rest, SOFTMAX_OPTION_KEYS);
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
export function logSoftmax(x: TensorLike, options: SoftmaxOptions): Tensor;
export function logSoftmax(x: TensorLike, axis?: Axis): Tensor;
export function logSoftmax(x: TensorLike, ...rest: unknown[]): Tensor {
  const { axis = -1 } = positionalOrOptions<SoftmaxOptions>(
    "logSoftmax",
    rest,
    SOFTMAX_OPTION_KEYS,
  );
  const t = asFloat(x, "logSoftmax: x");
  const axes = normalizeAxes(axis, t.ndim, "logSoftmax: axis");
  return sub(t, logsumexp(t, axes, true));
}
