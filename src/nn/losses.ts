/**
 * Loss functions of `ng.nn.losses`: mse, mae, huber,
 * binaryCrossEntropyWithLogits, crossEntropyWithLogits and klDivergence, written with
 * the library's ops so they differentiate to any order, and in forms that stay finite for
 * huge logits. Every loss takes (prediction, target, { reduction }) with reduction
 * "mean" (default), "sum" or "none"; shapes must match exactly (no silent broadcasting
 * of [B] against [B, 1]).
 */
import { ConcreteTensor, type Tensor } from "../core/tensor.js";
import { isFloat } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { describeValue, toTensor, type TensorLike } from "../primitives/convert.js";
import {
  abs,
  arange,
  equal,
  exp,
  lessEqual,
  log,
  logSoftmax,
  mean,
  neg,
  reshape,
  softplus,
  square,
  sum,
  where,
} from "../ops/index.js";
import { checkOptions, optionKeys } from "../util/options.js";
import { isPlainObject } from "./layer.js";

/** How per-element (or per-sample) losses are combined. */
export type Reduction = "mean" | "sum" | "none";

/** Options every loss takes. */
export interface LossOptions {
  /** "mean" (default), "sum" or "none" (the unreduced losses). */
  reduction?: Reduction;
}

/** The keys of LossOptions (checked against the interface by the compiler). */
export const LOSS_OPTION_KEYS = optionKeys<LossOptions>()(["reduction"]);

function reductionOf(
  options: unknown,
  name: string,
  keys: readonly string[] = LOSS_OPTION_KEYS,
): Reduction {
  if (options === undefined) return "mean";
  if (!isPlainObject(options)) {
    throw new TypeError(`${name}: options: expected a plain object, got ${describeValue(options)}`);
  }
  checkOptions(name, options, keys);
  const r = options.reduction ?? "mean";
  if (r !== "mean" && r !== "sum" && r !== "none") {
    throw new RangeError(
      `${name}: reduction: expected "mean", "sum" or "none", got ${describeValue(r)}`,
    );
  }
  return r;
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === "none") return loss;
  return reduction === "sum" ? sum(loss) : mean(loss);
}

function floatTensor(x: TensorLike, name: string): Tensor {
  const t = toTensor(x, name);
  if (!isFloat(t.dtype))
    throw new TypeError(`${name}: expected a float tensor, got dtype ${t.dtype}`);
  return t;
}

function sameShape(a: Tensor, b: Tensor, name: string, an: string, bn: string): void {
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(
      `${name}: ${an} and ${bn} must have the same shape, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
}

function pair(
  name: string,
  yPred: TensorLike,
  yTrue: TensorLike,
  an = "yPred",
  bn = "yTrue",
): [Tensor, Tensor] {
  const p = floatTensor(yPred, `${name}: ${an}`);
  const t = toTensor(yTrue, `${name}: ${bn}`);
  sameShape(p, t, name, an, bn);
  return [p, t];
}

/**
 * Mean squared error: reduce((yPred - yTrue)²).
 * @example ng.nn.mse(ng.array([1, 2]), ng.array([1, 4])) // 2
 */
export function mse(yPred: TensorLike, yTrue: TensorLike, options?: LossOptions): Tensor {
  const r = reductionOf(options, "mse");
  const [p, t] = pair("mse", yPred, yTrue);
  return reduce(square(p.sub(t)), r);
}

/**
 * Mean absolute error: reduce(|yPred - yTrue|).
 * @example ng.nn.mae(ng.array([1, 2]), ng.array([1, 4])) // 1
 */
export function mae(yPred: TensorLike, yTrue: TensorLike, options?: LossOptions): Tensor {
  const r = reductionOf(options, "mae");
  const [p, t] = pair("mae", yPred, yTrue);
  return reduce(abs(p.sub(t)), r);
}

/** Options of `huber`. */
export interface HuberOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta?: number;
}

/** The keys of HuberOptions (checked against the interface by the compiler). */
export const HUBER_OPTION_KEYS = optionKeys<HuberOptions>()(["reduction", "delta"]);

/**
 * Huber loss with d = yPred - yTrue: ½d² for |d| ≤ δ, δ·(|d| - ½δ) beyond (δ = delta,
 * default 1): quadratic near 0, linear (robust to outliers) far away; C¹ at |d| = δ,
 * where the second derivative is taken from the quadratic side (1). The quadratic is
 * written in d itself, not |d|, so its curvature at d = 0 is exactly 1.
 * @example ng.nn.huber(ng.array([0, 3]), ng.array([0, 0]), { delta: 1 }) // 1.25 (mean of [0, 2.5])
 */
export function huber(yPred: TensorLike, yTrue: TensorLike, options?: HuberOptions): Tensor {
  const r = reductionOf(options, "huber", HUBER_OPTION_KEYS);
  const delta = options?.delta ?? 1;
  if (typeof delta !== "number" || !Number.isFinite(delta) || delta <= 0) {
    throw new RangeError(
      `huber: delta: expected a finite positive number, got ${describeValue(delta)}`,
    );
  }
  const [p, t] = pair("huber", yPred, yTrue);
  const d = p.sub(t);
  const a = abs(d);
  const inside = lessEqual(a, delta);
  // ½d² rather than ½|d|²: abs has zero curvature, which would zero huber''(0). The
  // quadratic sees d only where it is selected, so a huge d cannot overflow its unused value.
  const dq = where(inside, d, 0);
  const loss = where(inside, square(dq).mul(0.5), a.sub(0.5 * delta).mul(delta));
  return reduce(loss, r);
}

/**
 * Binary cross-entropy of probabilities sigmoid(logits) against labels y in [0, 1]:
 * -y·log σ(z) - (1 - y)·log(1 - σ(z)) = softplus(z) - z·y, with the overflow-free
 * softplus: finite for any logits (no log(0)), and exact to every derivative order at
 * z = 0 (the curvature there is σ'(0) = 1/4).
 * @example ng.nn.binaryCrossEntropyWithLogits(ng.array([1000, -1000]), ng.array([1, 0])) // 0
 */
export function binaryCrossEntropyWithLogits(
  logits: TensorLike,
  labels: TensorLike,
  options?: LossOptions,
): Tensor {
  const name = "binaryCrossEntropyWithLogits";
  const r = reductionOf(options, name);
  const [z, y] = pair(name, logits, labels, "logits", "labels");
  return reduce(softplus(z).sub(z.mul(y)), r);
}

/** Throws if concrete int labels fall outside [0, c). */
function checkLabelRange(labels: Tensor, c: number, name: string): void {
  if (!(labels instanceof ConcreteTensor)) return;
  const data = labels.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (data[i]! < 0 || data[i]! >= c) {
      throw new RangeError(
        `${name}: labels: class index ${data[i]} (element ${i}) is out of range [0, ${c})`,
      );
    }
  }
}

/**
 * Softmax cross-entropy over the last axis of `logits` (shape [..., C]), -Σ_c p_c·logSoftmax(z)_c
 * per sample, computed as z - logsumexp(z) so huge logits stay finite. `labels` are
 * either int32 class indices of shape [...] (logits.shape without the last axis) or
 * one-hot / probability vectors of the logits' shape. The reduction is over samples.
 * @example ng.nn.crossEntropyWithLogits(ng.array([[2, 0, 0]]), ng.array([0], { dtype: "int32" })) // 0.2395
 */
export function crossEntropyWithLogits(
  logits: TensorLike,
  labels: TensorLike,
  options?: LossOptions,
): Tensor {
  const name = "crossEntropyWithLogits";
  const r = reductionOf(options, name);
  const z = floatTensor(logits, `${name}: logits`);
  if (z.ndim === 0)
    throw new RangeError(`${name}: logits: expected shape [..., classes], got a scalar`);
  const y = toTensor(labels, `${name}: labels`);
  const c = z.shape[z.ndim - 1]!;
  const logp = logSoftmax(z, -1);
  if (y.dtype === "int32") {
    const want = z.shape.slice(0, -1);
    if (y.ndim !== want.length || y.shape.some((d, i) => d !== want[i])) {
      throw new RangeError(
        `${name}: int32 labels must have the logits' shape without the class axis, ${formatShape(want)}, got ${formatShape(y.shape)} (logits ${formatShape(z.shape)})`,
      );
    }
    checkLabelRange(y, c, name);
    // One-hot mask by comparison with 0..C-1; `where` keeps 0·(-inf) out of the sum.
    const mask = equal(reshape(y, [...y.shape, 1]), arange(c, { dtype: "int32" }));
    return reduce(neg(sum(where(mask, logp, 0), -1)), r);
  }
  if (!isFloat(y.dtype)) {
    throw new TypeError(
      `${name}: labels: expected int32 class indices or float probabilities, got dtype ${y.dtype}`,
    );
  }
  if (y.ndim !== z.ndim || y.shape.some((d, i) => d !== z.shape[i])) {
    throw new RangeError(
      `${name}: logits and probability labels must have the same shape, got ` +
        `${formatShape(z.shape)} and ${formatShape(y.shape)} (labels of dtype ${y.dtype} are read as ` +
        `class probabilities; class indices must be int32 of shape ${formatShape(z.shape.slice(0, -1))}, ` +
        `e.g. ng.array(labels, { dtype: "int32" }))`,
    );
  }
  return reduce(neg(sum(logp.mul(y), -1)), r);
}

/** Options of `klDivergence`. */
export interface KLOptions extends LossOptions {
  /** The target is given as log-probabilities (default false: probabilities). */
  logTarget?: boolean;
}

/** The keys of KLOptions (checked against the interface by the compiler). */
export const KL_OPTION_KEYS = optionKeys<KLOptions>()(["reduction", "logTarget"]);

/**
 * Kullback–Leibler divergence KL(P ‖ Q) = Σ p·(log p - log q) over the last axis, per
 * sample, where the prediction Q is given as log-probabilities `logQ` (e.g. the output of
 * logSoftmax) and the target P as probabilities, or as log-probabilities with
 * `{ logTarget: true }` (PyTorch's kl_div argument order). Terms with p = 0 count as 0,
 * derivatives included (as JAX's xlogy); a NaN or negative p gives NaN.
 * The reduction is over samples ("mean" is PyTorch's "batchmean").
 * @example ng.nn.klDivergence(ng.logSoftmax(ng.array([[1, 1]])), ng.array([[0.5, 0.5]])) // 0
 */
export function klDivergence(logQ: TensorLike, target: TensorLike, options?: KLOptions): Tensor {
  const name = "klDivergence";
  const r = reductionOf(options, name, KL_OPTION_KEYS);
  const logTarget = options?.logTarget ?? false;
  if (typeof logTarget !== "boolean") {
    throw new TypeError(`${name}: logTarget: expected a boolean, got ${describeValue(logTarget)}`);
  }
  const [lq, t] = pair(name, logQ, target, "logQ", "target");
  if (!isFloat(t.dtype))
    throw new TypeError(`${name}: target: expected a float tensor, got dtype ${t.dtype}`);
  if (lq.ndim === 0)
    throw new RangeError(`${name}: logQ: expected shape [..., classes], got a scalar`);
  let terms: Tensor;
  if (logTarget) {
    terms = exp(t).mul(t.sub(lq));
  } else {
    // 0·log 0 = 0: the log is taken of where(p == 0, 1, p), so no NaN appears in any
    // derivative; only an exact 0 is masked, so a NaN or negative p still shows as NaN.
    const zero = equal(t, 0);
    const logp = log(where(zero, 1, t));
    terms = where(zero, 0, t.mul(logp.sub(lq)));
  }
  return reduce(sum(terms, -1), r);
}
