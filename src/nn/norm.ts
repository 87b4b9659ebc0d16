/**
 * Normalisation layers of `ng.nn`: batchNorm, layerNorm and groupNorm,
 * channels-last like the convolutions (features on the last axis). batchNorm keeps
 * running statistics in its state and switches between batch statistics (training) and
 * running statistics (test) through the state's `training` flag (`ng.nn.testMode`).
 */
import type { Tensor } from "../core/tensor.js";
import type { FloatDType } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { describeValue } from "../primitives/convert.js";
import { mean, ones, rsqrt, stopGradient, variance, zeros } from "../ops/index.js";
import {
  checkFloatDType,
  checkInputTensor,
  checkKeys,
  checkLastDim,
  checkOptions,
  checkRank,
  checkSize,
  inputError,
  treeError,
  type Layer,
} from "./layer.js";
import { optionKeys } from "../util/options.js";

/** Parameters of the normalisation layers (empty when affine is false). */
export type NormParams = {
  scale?: Tensor;
  bias?: Tensor;
};

/** State of batchNorm. */
export type BatchNormState = {
  runningMean: Tensor;
  runningVar: Tensor;
  training: boolean;
};

function checkPositive(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new RangeError(`${name}: expected a finite positive number, got ${describeValue(v)}`);
  }
  return v;
}

function affineParams(affine: boolean, shape: number[], dtype: FloatDType): NormParams {
  return affine ? { scale: ones(shape, { dtype }), bias: zeros(shape, { dtype }) } : {};
}

function applyAffine(y: Tensor, ps: NormParams): Tensor {
  return ps.scale ? y.mul(ps.scale).add(ps.bias!) : y;
}

function checkAffine(layer: Layer, ps: unknown, affine: boolean, shape: number[]): void {
  checkKeys(layer, ps, affine ? { scale: shape, bias: shape } : {}, "params");
}

/** Options of `batchNorm`. */
export interface BatchNormOptions {
  /** Weight of the new batch statistic in the running average (default 0.1). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  epsilon?: number;
  /** Learnable scale and bias (default true). */
  affine?: boolean;
  dtype?: FloatDType;
}

/** The keys of BatchNormOptions (checked against the interface by the compiler). */
export const BATCH_NORM_OPTION_KEYS = optionKeys<BatchNormOptions>()([
  "momentum",
  "epsilon",
  "affine",
  "dtype",
]);

class BatchNorm implements Layer<NormParams, BatchNormState> {
  readonly kind = "batchNorm";
  constructor(
    readonly numFeatures: number,
    readonly momentum: number,
    readonly epsilon: number,
    readonly affine: boolean,
    readonly dtype: FloatDType,
  ) {}
  describe(): string {
    return `batchNorm ${this.numFeatures}`;
  }
  init(): [NormParams, BatchNormState] {
    const c = [this.numFeatures];
    const dtype = this.dtype;
    return [
      affineParams(this.affine, c, dtype),
      { runningMean: zeros(c, { dtype }), runningVar: ones(c, { dtype }), training: true },
    ];
  }
  apply(x: unknown, ps: NormParams, st: BatchNormState): [Tensor, BatchNormState] {
    const c = [this.numFeatures];
    checkAffine(this, ps, this.affine, c);
    checkKeys(this, st, { runningMean: c, runningVar: c, training: null }, "state");
    if (typeof st.training !== "boolean") {
      throw treeError(
        this,
        `state.training: expected a boolean, got ${describeValue(st.training)}`,
      );
    }
    const t = checkInputTensor(this, x);
    checkRank(this, t, 2, "[batch, ..., features]", true);
    checkLastDim(this, t, this.numFeatures);
    const axes = t.shape.slice(0, -1).map((_, i) => i);
    if (!st.training) {
      const y = t.sub(st.runningMean).mul(rsqrt(st.runningVar.add(this.epsilon)));
      return [applyAffine(y, ps), st];
    }
    const n = t.size / this.numFeatures;
    if (n < 2) {
      throw inputError(
        this,
        `training mode needs more than one value per feature to compute batch statistics, got shape ${formatShape(t.shape)}`,
      );
    }
    // Normalise with the (biased) batch statistics; they are differentiated through.
    const mu = mean(t, axes);
    const v = variance(t, axes);
    const y = t.sub(mu).mul(rsqrt(v.add(this.epsilon)));
    // Running averages (PyTorch/Lux convention) with the unbiased variance; not differentiated.
    const m = this.momentum;
    const dt = st.runningMean.dtype;
    const runningMean = st.runningMean
      .mul(1 - m)
      .add(stopGradient(mu).mul(m))
      .cast(dt);
    const runningVar = st.runningVar
      .mul(1 - m)
      .add(stopGradient(v).mul((m * n) / (n - 1)))
      .cast(dt);
    return [applyAffine(y, ps), { runningMean, runningVar, training: true }];
  }
}

/**
 * Batch normalisation over every axis but the last (features, channels-last):
 * y = (x - μ)/√(σ² + ε)·scale + bias. In training mode (the state's `training`, true
 * after setup) μ, σ² are the batch's (biased) statistics and the running averages
 * r ← (1 - momentum)·r + momentum·stat (unbiased variance) are updated; in test mode
 * (`ng.nn.testMode(st)`) the running statistics are used. Params { scale, bias } [C];
 * state { runningMean, runningVar, training }.
 * @example const bn = ng.nn.batchNorm(16, { momentum: 0.1 });
 */
export function batchNorm(
  numFeatures: number,
  options?: BatchNormOptions,
): Layer<NormParams, BatchNormState> {
  const c = checkSize(numFeatures, "batchNorm: numFeatures");
  const o = checkOptions<BatchNormOptions>(options, "batchNorm", BATCH_NORM_OPTION_KEYS);
  const momentum = o.momentum ?? 0.1;
  if (typeof momentum !== "number" || !(momentum >= 0 && momentum <= 1)) {
    throw new RangeError(
      `batchNorm: momentum: expected a number in [0, 1], got ${describeValue(momentum)}`,
    );
  }
  return new BatchNorm(
    c,
    momentum,
    checkPositive(o.epsilon, "batchNorm: epsilon", 1e-5),
    o.affine ?? true,
    checkFloatDType(o.dtype, "batchNorm: dtype"),
  );
}

/** Options of `layerNorm` and `groupNorm`. */
export interface NormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  epsilon?: number;
  /** Learnable scale and bias (default true). */
  affine?: boolean;
  dtype?: FloatDType;
}

/** The keys of NormOptions (checked against the interface by the compiler). */
export const NORM_OPTION_KEYS = optionKeys<NormOptions>()(["epsilon", "affine", "dtype"]);

class LayerNorm implements Layer<NormParams, Record<string, never>> {
  readonly kind = "layerNorm";
  constructor(
    readonly shape: number[],
    readonly epsilon: number,
    readonly affine: boolean,
    readonly dtype: FloatDType,
  ) {}
  describe(): string {
    return `layerNorm ${formatShape(this.shape)}`;
  }
  init(): [NormParams, Record<string, never>] {
    return [affineParams(this.affine, this.shape, this.dtype), {}];
  }
  apply(x: unknown, ps: NormParams, st: Record<string, never>): [Tensor, Record<string, never>] {
    checkAffine(this, ps, this.affine, this.shape);
    const t = checkInputTensor(this, x);
    const k = this.shape.length;
    const tail = t.shape.slice(t.ndim - k);
    if (t.ndim < k || tail.some((d, i) => d !== this.shape[i])) {
      throw inputError(
        this,
        `expected input whose trailing dimensions are ${formatShape(this.shape)}, got shape ${formatShape(t.shape)}`,
      );
    }
    const axes = this.shape.map((_, i) => t.ndim - k + i);
    const mu = mean(t, axes, true);
    const v = variance(t, axes, true);
    return [applyAffine(t.sub(mu).mul(rsqrt(v.add(this.epsilon))), ps), st];
  }
}

/**
 * Layer normalisation over the trailing `shape` of each sample:
 * y = (x - μ)/√(σ² + ε)·scale + bias with per-sample statistics. Params
 * { scale, bias } of `shape`, no state.
 * @example const ln = ng.nn.layerNorm(8); // normalises [..., 8] over its last axis
 */
export function layerNorm(
  shape: number | readonly number[],
  options?: NormOptions,
): Layer<NormParams, Record<string, never>> {
  const s = typeof shape === "number" ? [shape] : shape;
  if (!Array.isArray(s) || s.length === 0) {
    throw new TypeError(
      `layerNorm: shape: expected a positive integer or a non-empty array of them, got ${describeValue(shape)}`,
    );
  }
  s.forEach((d, i) => checkSize(d, `layerNorm: shape[${i}]`));
  const o = checkOptions<NormOptions>(options, "layerNorm", NORM_OPTION_KEYS);
  return new LayerNorm(
    s.slice(),
    checkPositive(o.epsilon, "layerNorm: epsilon", 1e-5),
    o.affine ?? true,
    checkFloatDType(o.dtype, "layerNorm: dtype"),
  );
}

class GroupNorm implements Layer<NormParams, Record<string, never>> {
  readonly kind = "groupNorm";
  constructor(
    readonly numChannels: number,
    readonly numGroups: number,
    readonly epsilon: number,
    readonly affine: boolean,
    readonly dtype: FloatDType,
  ) {}
  describe(): string {
    return `groupNorm ${this.numChannels} channels in ${this.numGroups} groups`;
  }
  init(): [NormParams, Record<string, never>] {
    return [affineParams(this.affine, [this.numChannels], this.dtype), {}];
  }
  apply(x: unknown, ps: NormParams, st: Record<string, never>): [Tensor, Record<string, never>] {
    checkAffine(this, ps, this.affine, [this.numChannels]);
    const t = checkInputTensor(this, x);
    checkRank(this, t, 2, "[batch, ..., channels]", true);
    checkLastDim(this, t, this.numChannels);
    const g = this.numGroups;
    // [B, ...spatial, C] → [B, ...spatial, G, C/G]; statistics over all but B and G.
    const grouped = t.reshape([...t.shape.slice(0, -1), g, this.numChannels / g]);
    const axes = grouped.shape.map((_, i) => i).filter((i) => i !== 0 && i !== grouped.ndim - 2);
    const mu = mean(grouped, axes, true);
    const v = variance(grouped, axes, true);
    const y = grouped
      .sub(mu)
      .mul(rsqrt(v.add(this.epsilon)))
      .reshape(t.shape);
    return [applyAffine(y, ps), st];
  }
}

/**
 * Group normalisation: the channels (last axis) are split into `numGroups` groups and
 * each sample's group is normalised over its channels and spatial positions, then scaled
 * per channel. Params { scale, bias } [C], no state.
 * @example const gn = ng.nn.groupNorm(8, 2);
 */
export function groupNorm(
  numChannels: number,
  numGroups: number,
  options?: NormOptions,
): Layer<NormParams, Record<string, never>> {
  const c = checkSize(numChannels, "groupNorm: numChannels");
  const g = checkSize(numGroups, "groupNorm: numGroups");
  if (c % g !== 0) {
    throw new RangeError(`groupNorm: numChannels (${c}) must be divisible by numGroups (${g})`);
  }
  const o = checkOptions<NormOptions>(options, "groupNorm", NORM_OPTION_KEYS);
  return new GroupNorm(
    c,
    g,
    checkPositive(o.epsilon, "groupNorm: epsilon", 1e-5),
    o.affine ?? true,
    checkFloatDType(o.dtype, "groupNorm: dtype"),
  );
}
