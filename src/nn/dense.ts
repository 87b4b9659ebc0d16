/**
 * The dense (fully connected) layer of `ng.nn`: y = act(x @ W + b)
 * on the last axis of a batch-first input, with parameters { weight: [in, out],
 * bias: [out] }.
 */
import type { Tensor } from "../core/tensor.js";
import type { FloatDType } from "../tensor/dtype.js";
import "../ops/index.js";
import { split } from "../random.js";
import { glorotUniform, zeros, type Initializer } from "./init.js";
import {
  activationAndOptions,
  checkFloatDType,
  checkInputTensor,
  checkKeys,
  checkLastDim,
  checkSize,
  type Layer,
  checkInit,
  runInit,
} from "./layer.js";
import { optionKeys } from "../util/options.js";

/** Options of `dense`. */
export interface DenseOptions {
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Weight initialiser (default glorotUniform). */
  init?: Initializer;
  /** Bias initialiser (default zeros). */
  biasInit?: Initializer;
  /** Parameter dtype (default float32). */
  dtype?: FloatDType;
}

/** The keys of DenseOptions (checked against the interface by the compiler). */
export const DENSE_OPTION_KEYS = optionKeys<DenseOptions>()([
  "useBias",
  "init",
  "biasInit",
  "dtype",
]);

/** Parameters of a dense layer. */
export type DenseParams = {
  weight: Tensor;
  bias?: Tensor;
};

class Dense implements Layer<DenseParams, Record<string, never>> {
  readonly kind = "dense";
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly activation: ((x: Tensor) => Tensor) | undefined,
    readonly useBias: boolean,
    readonly weightInit: Initializer,
    readonly biasInit: Initializer,
    readonly dtype: FloatDType,
  ) {}
  describe(): string {
    return `dense ${this.inFeatures} → ${this.outFeatures}`;
  }
  init(key: Tensor): [DenseParams, Record<string, never>] {
    const [kw, kb] = split(key);
    const weight = runInit(
      this.weightInit,
      kw!,
      [this.inFeatures, this.outFeatures],
      this.dtype,
      "dense: weight",
    );
    if (!this.useBias) return [{ weight }, {}];
    const bias = runInit(this.biasInit, kb!, [this.outFeatures], this.dtype, "dense: bias");
    return [{ weight, bias }, {}];
  }
  apply(x: unknown, ps: DenseParams, st: Record<string, never>): [Tensor, Record<string, never>] {
    const expected: Record<string, number[]> = { weight: [this.inFeatures, this.outFeatures] };
    if (this.useBias) expected.bias = [this.outFeatures];
    checkKeys(this, ps, expected, "params");
    const t = checkInputTensor(this, x);
    checkLastDim(this, t, this.inFeatures);
    let y = t.matmul(ps.weight);
    if (ps.bias) y = y.add(ps.bias);
    return [this.activation ? this.activation(y) : y, st];
  }
}

/**
 * A fully connected layer y = activation(x @ weight + bias) over the last axis of x
 * ([..., in] → [..., out]). Params { weight: [in, out], bias: [out] }, no state.
 * @example const model = ng.nn.dense(4, 2, ng.tanh, { dtype: "float64" });
 */
export function dense(
  inFeatures: number,
  outFeatures: number,
  activation?: ((x: Tensor) => Tensor) | DenseOptions,
  options?: DenseOptions,
): Layer<DenseParams, Record<string, never>> {
  const i = checkSize(inFeatures, "dense: inFeatures");
  const o = checkSize(outFeatures, "dense: outFeatures");
  const [act, opts] = activationAndOptions<DenseOptions>(
    activation,
    options,
    "dense",
    DENSE_OPTION_KEYS,
  );
  return new Dense(
    i,
    o,
    act,
    opts.useBias ?? true,
    checkInit(opts.init, "dense: init", glorotUniform),
    checkInit(opts.biasInit, "dense: biasInit", zeros),
    checkFloatDType(opts.dtype, "dense: dtype"),
  );
}
