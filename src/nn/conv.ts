/**
 * Convolution layers of `ng.nn`: conv1d, conv2d and convTranspose2d,
 * channels-last and batch-first (x [B, ...spatial, C]) over the `conv` / `convTranspose`
 * primitives of ops/, which carry JVP and transpose rules, so the layers differentiate to
 * any order. Weights are [...kernel, in/groups, out] for conv (the op's layout) and
 * [...kernel, out/groups, in] for convTranspose (the kernel of the forward convolution
 * out → in that it is the adjoint of, as in PyTorch).
 */
import type { Tensor } from "../core/tensor.js";
import type { FloatDType } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { describeValue } from "../primitives/convert.js";
import { conv, convTranspose, type Padding } from "../ops/index.js";
import { split } from "../random.js";
import { glorotUniform, zeros, type Initializer } from "./init.js";
import {
  activationAndOptions,
  checkFloatDType,
  checkInputTensor,
  checkKeys,
  checkLastDim,
  checkRank,
  checkSize,
  type Layer,
  checkInit,
  runInit,
} from "./layer.js";
import { optionKeys } from "../util/options.js";

/** Options of the convolution layers. */
export interface ConvLayerOptions {
  /** Step between windows: a number or one per spatial dim (default 1). */
  stride?: number | readonly number[];
  /** "valid" (default), "same", a number or per-dim [lo, hi] pairs. */
  padding?: Padding;
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly number[];
  /** Channel groups (default 1); both channel counts must be divisible by it. */
  groups?: number;
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Weight initialiser (default glorotUniform). */
  init?: Initializer;
  /** Bias initialiser (default zeros). */
  biasInit?: Initializer;
  dtype?: FloatDType;
}

/** Options of `convTranspose2d`: the conv options plus `outputPadding`. */
export interface ConvTransposeLayerOptions extends ConvLayerOptions {
  /** Extra output elements on the high side of each spatial dim, < stride (default 0). */
  outputPadding?: number | readonly number[];
}

/** The keys of ConvLayerOptions (checked against the interface by the compiler). */
export const CONV_LAYER_OPTION_KEYS = optionKeys<ConvLayerOptions>()([
  "stride",
  "padding",
  "dilation",
  "groups",
  "useBias",
  "init",
  "biasInit",
  "dtype",
]);

/** The keys of ConvTransposeLayerOptions (checked against the interface by the compiler). */
export const CONV_TRANSPOSE_LAYER_OPTION_KEYS = optionKeys<ConvTransposeLayerOptions>()([
  ...CONV_LAYER_OPTION_KEYS,
  "outputPadding",
]);

/** Parameters of a convolution layer. */
export type ConvLayerParams = {
  weight: Tensor;
  bias?: Tensor;
};

type Empty = Record<string, never>;

const SPATIAL = ["width", "height, width", "depth, height, width"];

class ConvLayer implements Layer<ConvLayerParams, Empty> {
  constructor(
    readonly kind: string,
    readonly transposed: boolean,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number[],
    readonly activation: ((x: Tensor) => Tensor) | undefined,
    readonly options: ConvTransposeLayerOptions,
    readonly useBias: boolean,
    readonly weightInit: Initializer,
    readonly biasInit: Initializer,
    readonly dtype: FloatDType,
  ) {}
  describe(): string {
    return `${this.kind} ${this.inChannels} → ${this.outChannels}, kernel ${formatShape(this.kernel)}`;
  }
  weightShape(): number[] {
    const g = this.options.groups ?? 1;
    return this.transposed
      ? [...this.kernel, this.outChannels / g, this.inChannels]
      : [...this.kernel, this.inChannels / g, this.outChannels];
  }
  init(key: Tensor): [ConvLayerParams, Empty] {
    const [kw, kb] = split(key);
    const weight = runInit(
      this.weightInit,
      kw!,
      this.weightShape(),
      this.dtype,
      `${this.kind}: weight`,
    );
    if (!this.useBias) return [{ weight }, {}];
    const bias = runInit(this.biasInit, kb!, [this.outChannels], this.dtype, `${this.kind}: bias`);
    return [{ weight, bias }, {}];
  }
  apply(x: unknown, ps: ConvLayerParams, st: Empty): [Tensor, Empty] {
    const expected: Record<string, number[]> = { weight: this.weightShape() };
    if (this.useBias) expected.bias = [this.outChannels];
    checkKeys(this, ps, expected, "params");
    const t = checkInputTensor(this, x);
    const n = this.kernel.length;
    checkRank(this, t, n + 2, `[batch, ${SPATIAL[n - 1]}, channels]`);
    checkLastDim(this, t, this.inChannels);
    const { stride, padding, dilation, groups, outputPadding } = this.options;
    let y = this.transposed
      ? convTranspose(t, ps.weight, { stride, padding, dilation, groups, outputPadding })
      : conv(t, ps.weight, { stride, padding, dilation, groups });
    if (ps.bias) y = y.add(ps.bias);
    return [this.activation ? this.activation(y) : y, st];
  }
}

function makeConv(
  kind: string,
  n: number,
  transposed: boolean,
  inChannels: number,
  outChannels: number,
  kernel: number | readonly number[],
  activation: unknown,
  options: unknown,
): ConvLayer {
  const cin = checkSize(inChannels, `${kind}: inChannels`);
  const cout = checkSize(outChannels, `${kind}: outChannels`);
  const k = typeof kernel === "number" ? new Array<number>(n).fill(kernel) : kernel;
  if (!Array.isArray(k) || k.length !== n) {
    throw new RangeError(
      `${kind}: kernel: expected a positive integer or ${n} of them, got ${describeValue(kernel)}`,
    );
  }
  k.forEach((d, i) => checkSize(d, `${kind}: kernel[${i}]`));
  const [act, o] = activationAndOptions<ConvTransposeLayerOptions>(
    activation,
    options,
    kind,
    transposed ? CONV_TRANSPOSE_LAYER_OPTION_KEYS : CONV_LAYER_OPTION_KEYS,
  );
  const g = o.groups ?? 1;
  checkSize(g, `${kind}: groups`);
  if (cin % g !== 0 || cout % g !== 0) {
    throw new RangeError(
      `${kind}: inChannels (${cin}) and outChannels (${cout}) must be divisible by groups (${g})`,
    );
  }
  return new ConvLayer(
    kind,
    transposed,
    cin,
    cout,
    k.slice(),
    act,
    { ...o },
    o.useBias ?? true,
    checkInit(o.init, `${kind}: init`, glorotUniform),
    checkInit(o.biasInit, `${kind}: biasInit`, zeros),
    checkFloatDType(o.dtype, `${kind}: dtype`),
  );
}

/**
 * 1-D convolution over x [B, W, inChannels] → [B, W', outChannels]. Params
 * { weight: [k, in/groups, out], bias: [out] }.
 * @example const c = ng.nn.conv1d(3, 8, 5, ng.relu, { padding: "same" });
 */
export function conv1d(
  inChannels: number,
  outChannels: number,
  kernel: number | readonly number[],
  activation?: ((x: Tensor) => Tensor) | ConvLayerOptions,
  options?: ConvLayerOptions,
): Layer<ConvLayerParams, Empty> {
  return makeConv("conv1d", 1, false, inChannels, outChannels, kernel, activation, options);
}

/**
 * 2-D convolution over channels-last images x [B, H, W, inChannels] → [B, H', W',
 * outChannels], with stride, padding ("valid", "same", numbers or [lo, hi] pairs),
 * dilation and groups. Params { weight: [kh, kw, in/groups, out], bias: [out] }.
 * @example const c = ng.nn.conv2d(1, 8, 3, ng.relu, { padding: "same", stride: 2 });
 */
export function conv2d(
  inChannels: number,
  outChannels: number,
  kernel: number | readonly number[],
  activation?: ((x: Tensor) => Tensor) | ConvLayerOptions,
  options?: ConvLayerOptions,
): Layer<ConvLayerParams, Empty> {
  return makeConv("conv2d", 2, false, inChannels, outChannels, kernel, activation, options);
}

/**
 * 2-D transposed convolution (the adjoint of conv2d wrt its input; upsamples with
 * stride > 1): x [B, H, W, inChannels] → [B, H', W', outChannels] with
 * H' = (H - 1)·stride - padding + dilation·(k - 1) + outputPadding + 1 ("same":
 * H' = H·stride). Params { weight: [kh, kw, out/groups, in], bias: [out] }.
 * @example const up = ng.nn.convTranspose2d(8, 4, 2, { stride: 2 }); // doubles H and W
 */
export function convTranspose2d(
  inChannels: number,
  outChannels: number,
  kernel: number | readonly number[],
  activation?: ((x: Tensor) => Tensor) | ConvTransposeLayerOptions,
  options?: ConvTransposeLayerOptions,
): Layer<ConvLayerParams, Empty> {
  return makeConv("convTranspose2d", 2, true, inChannels, outChannels, kernel, activation, options);
}
