/**
 * The adjoint of convolution wrt its input, also the user-facing transposed
 * convolution: convBackInput(y, w) = ∂T/∂x of the trilinear form T(x, w, y) = ⟨conv(x, w), y⟩,
 * i.e. dx[b, i, ci] = Σ_{o, t : o·s + t·dil − lo = i} Σ_co y[b, o, co] · w[t, ci, co] for x of
 * spatial shape `inputShape`. Bilinear in (y, w); its transposes are conv (wrt y) and
 * convBackKernel (wrt w), so it closes the family with conv.ts and conv_back_kernel.ts.
 * @example ng.convTranspose(ng.ones([1, 2, 2, 1]), ng.ones([3, 3, 1, 1])).shape // [1, 4, 4, 1]
 */
import type { ShapedArray } from "../core/aval.js";
import type { BatchDim } from "../core/batching.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, LinearInput, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { formatShape } from "../tensor/shape.js";
import { checkOptions, optionKeys } from "../util/options.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import type { TensorLike } from "./convert.js";
import {
  checkSameFloat,
  convBase,
  CONV_OPTION_KEYS,
  CONV_TEST_CASES,
  foldBatch,
  mergeIntoAxis,
  perDim,
  resolvePadding,
  type ConvBackInputParams,
  type ConvOptions,
  type ConvParams,
  splitFromAxis,
  unfoldBatch,
} from "./conv_common.js";
import { convOperands, convP } from "./conv.js";
import { convBackKernelP } from "./conv_back_kernel.js";
import { addTangents, mapTangent } from "./tangent.js";
import { kernelToOnnx, onnxPads, requireDTypes, toChannelsFirst, toChannelsLast } from "./onnx.js";

/** Shape of conv's input x for a cotangent y and kernel w: [B, ...inputShape, Cin/groups·groups]. */
function inputAval(name: string, y: ShapedArray, w: ShapedArray, p: ConvBackInputParams): number[] {
  const n = w.ndim - 2;
  if (n < 1 || y.ndim !== n + 2 || !Array.isArray(p.inputShape) || p.inputShape.length !== n) {
    throw new RangeError(
      `${name}: expected y [B, ...outSpatial, Cout], w [...kernel, Cin/groups, Cout] and an inputShape of ` +
        `${Math.max(n, 1)} spatial dims, got y ${formatShape(y.shape)}, w ${formatShape(w.shape)}, ` +
        `inputShape ${JSON.stringify(p.inputShape)}`,
    );
  }
  const xShape = [y.shape[0]!, ...p.inputShape, w.shape[n]! * p.groups];
  const want = K.convOutputShape(xShape, w.shape, p, name);
  if (want.some((d, i) => d !== y.shape[i])) {
    throw new RangeError(
      `${name}: y must have shape ${formatShape(want)} (the output of a convolution of an input of ` +
        `shape ${formatShape(xShape)} with w ${formatShape(w.shape)}), got ${formatShape(y.shape)}`,
    );
  }
  return xShape;
}

export const convBackInputP: DefinedPrimitive<ConvBackInputParams, "convBackInput"> = defineSingle<
  ConvBackInputParams,
  "convBackInput"
>("convBackInput", {
  linear: true,
  impl: ([y, w], p) => K.convBackInput(y!, w!, p, p.inputShape),
  abstractEval: ([y, w]: ShapedArray[], p) => {
    checkSameFloat("convBackInput", y!, w!, "y", "w");
    return aval(inputAval("convBackInput", y!, w!, p), y!.dtype);
  },
  // d convBackInput(y, w) = convBackInput(dy, w) + convBackInput(y, dw)
  jvp: ([y, w], [ty, tw], p): [Tensor, Tangent] => [
    bind1(convBackInputP, [y!, w!], p),
    addTangents(
      mapTangent(ty!, (t) => bind1(convBackInputP, [t, w!], p)),
      mapTangent(tw!, (t) => bind1(convBackInputP, [y!, t], p)),
    ),
  ],
  // ct_y = conv(ct, w) = ∂T/∂y;  ct_w = convBackKernel(ct, y) = ∂T/∂w (ct plays x)
  transpose: (ct, [y, w], p) => {
    if (y instanceof LinearInput && w instanceof LinearInput) {
      throw new Error(
        "convBackInput: transpose of a product of two tangents (the program is not linear)",
      );
    }
    return y instanceof LinearInput
      ? [bind1(convP, [ct, w as Tensor], convBase(p)), null]
      : [
          null,
          bind1(convBackKernelP, [ct, y as Tensor], {
            ...convBase(p),
            kernelShape: (w as LinearInput).aval.shape.slice(0, -2),
          }),
        ];
  },
  // vmap (V examples): a batched y joins the batch axis; a batched w alone becomes V·Cin/groups
  // input channels per group (the output has V copies inside each group); both batched:
  // V·groups groups over V·Cout channels of y. One kernel call each.
  batch: ([y, w], [dy, dw], p, size): [Tensor, BatchDim] => {
    const n = p.strides.length;
    if (dw === null || dw === undefined) {
      return [unfoldBatch(bind1(convBackInputP, [foldBatch(y!, dy!, size), w!], p), size), 0];
    }
    if (dy === null || dy === undefined) {
      const wm = mergeIntoAxis(w!, dw, size, n, 1);
      return splitFromAxis(bind1(convBackInputP, [y!, wm], p), size, n + 1, p.groups);
    }
    const ym = mergeIntoAxis(y!, dy, size, n + 1, 1);
    const wm = mergeIntoAxis(w!, dw, size, n + 1, 1);
    const x = bind1(convBackInputP, [ym, wm], { ...p, groups: size * p.groups });
    return splitFromAxis(x, size, n + 1, 1);
  },
  // ∂T/∂x is ONNX ConvTranspose (same kernel layout); output_padding restores the input
  // positions that conv's last window did not reach.
  onnx: (c, [y, w], p, { ins, outs }) => {
    requireDTypes(c, "ConvTranspose", outs[0]!.dtype, ["float32"]);
    const r = ins[0]!.ndim;
    const n = r - 2;
    const k = ins[1]!.shape.slice(0, n);
    const outPad = p.inputShape.map((size, d) => {
      const o = ins[0]!.shape[d + 1]!;
      const [lo, hi] = p.padding[d]!;
      return size - (p.strides[d]! * (o - 1) + (k[d]! - 1) * p.dilation[d]! + 1 - lo - hi);
    });
    const x = c.node1("ConvTranspose", [toChannelsFirst(c, y!, r), kernelToOnnx(c, w!, n)], {
      strides: p.strides,
      pads: onnxPads(p.padding),
      dilations: p.dilation,
      group: p.groups,
      output_padding: outPad,
    });
    return [toChannelsLast(c, x, r)];
  },
  testSpec: {
    cases: CONV_TEST_CASES.map((c) => ({
      inputs: [{ shape: c.y }, { shape: c.w }],
      params: { ...c.params, inputShape: c.x.slice(1, -1) },
    })),
  },
});

/** Options of `convTranspose`: conv's options plus `outputPadding` (extra high-side rows). */
export interface ConvTransposeOptions extends ConvOptions {
  /** Extra output elements on the high side of each spatial dim, < stride (default 0). */
  outputPadding?: number | readonly number[];
}

/** The keys of ConvTransposeOptions (checked against the interface by the compiler). */
export const CONV_TRANSPOSE_OPTION_KEYS = optionKeys<ConvTransposeOptions>()([
  ...CONV_OPTION_KEYS,
  "outputPadding",
]);

/**
 * Transposed convolution ("deconvolution"), channels-last: the gradient of `conv` wrt its
 * input, as a layer op. x [B, ...spatial, Cin] and w [...kernel, Cout/groups, Cin] — the
 * kernel of the forward conv that maps Cout channels to Cin, as in PyTorch's
 * ConvTranspose — give [B, ...outSpatial, Cout] with
 * out = (in − 1)·stride − padLo − padHi + dilation·(k − 1) + outputPadding + 1 per dim.
 * padding "same" gives out = in·stride (the adjoint of a "same" conv of that input);
 * outputPadding (< stride) resolves the ambiguity of strided output sizes.
 * convTranspose(y, w, o) is the adjoint of x ↦ conv(x, w, o): ⟨conv(x, w), y⟩ = ⟨x, convTranspose(y, w)⟩.
 * @example ng.convTranspose(ng.ones([1, 3, 3, 8]), ng.ones([2, 2, 4, 8]), { stride: 2 }).shape // [1, 6, 6, 4]
 */
export function convTranspose(
  x: TensorLike,
  w: TensorLike,
  options: ConvTransposeOptions = {},
): Tensor {
  const name = "convTranspose";
  checkOptions(name, options, CONV_TRANSPOSE_OPTION_KEYS);
  const [a, b] = convOperands(name, x, w);
  const n = b.ndim - 2;
  const strides = perDim(name, "stride", options.stride, n, 1);
  const dilation = perDim(name, "dilation", options.dilation, n, 1);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new RangeError(`${name}: groups: expected a positive integer, got ${String(groups)}`);
  }
  const cin = a.shape[n + 1]!;
  const cw = b.shape[n + 1]!;
  if (cin !== cw) {
    throw new RangeError(
      `${name}: x has ${cin} input channels but w expects ${cw} (w shape ${formatShape(b.shape)} is ` +
        `[...kernel, Cout/groups, Cin], groups ${groups})`,
    );
  }
  if (cin % groups !== 0) {
    throw new RangeError(
      `${name}: groups ${groups} does not divide the ${cin} input channels of x (shape ${formatShape(a.shape)})`,
    );
  }
  const inSp = a.shape.slice(1, -1);
  const kSp = b.shape.slice(0, n);
  const opt = options.outputPadding;
  let padding: [number, number][];
  let outputPadding: number[];
  if (options.padding === "same") {
    if (opt !== undefined && (Array.isArray(opt) ? opt.some((v) => v !== 0) : opt !== 0)) {
      throw new RangeError(
        `${name}: outputPadding must be 0 with padding "same", got ${JSON.stringify(opt)}`,
      );
    }
    // the adjoint of a "same" conv of an input of size in·s: total = dil·(k−1) + 1 − s
    padding = [];
    outputPadding = [];
    for (let d = 0; d < n; d++) {
      const total = dilation[d]! * (kSp[d]! - 1) + 1 - strides[d]!;
      const lo = Math.max(0, Math.floor(total / 2));
      padding.push([lo, Math.max(0, total - lo)]);
      outputPadding.push(Math.max(0, -total));
    }
  } else {
    padding = resolvePadding(name, options.padding, inSp, kSp, strides, dilation);
    outputPadding =
      opt === undefined
        ? new Array<number>(n).fill(0)
        : typeof opt === "number"
          ? new Array<number>(n).fill(opt)
          : (opt as number[]).slice();
    if (
      !Array.isArray(outputPadding) ||
      outputPadding.length !== n ||
      !outputPadding.every((v, d) => Number.isInteger(v) && v >= 0 && v < strides[d]!)
    ) {
      throw new RangeError(
        `${name}: outputPadding: expected ${n} non-negative integers each smaller than the stride ` +
          `(${JSON.stringify(strides)}), got ${JSON.stringify(opt)}`,
      );
    }
  }
  const inputShape = inSp.map(
    (len, d) =>
      (len - 1) * strides[d]! -
      padding[d]![0] -
      padding[d]![1] +
      dilation[d]! * (kSp[d]! - 1) +
      outputPadding[d]! +
      1,
  );
  inputShape.forEach((len, d) => {
    if (len < 1) {
      throw new RangeError(
        `${name}: padding ${JSON.stringify(padding[d])} along spatial dim ${d} leaves no output ` +
          `(x shape ${formatShape(a.shape)}, w shape ${formatShape(b.shape)})`,
      );
    }
  });
  const params: ConvParams = { strides, padding, dilation, groups };
  return bind1(convBackInputP, [a, b], { ...params, inputShape });
}
