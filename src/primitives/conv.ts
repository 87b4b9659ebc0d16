/**
 * N-d convolution, channels-last (a primitive for speed): x [B, ...spatial,
 * Cin] and w [...kernel, Cin/groups, Cout] give y [B, ...outSpatial, Cout] with
 * y[b, o, co] = Σ_{t, ci} x[b, o·s + t·dil − lo, ci] · w[t, ci, co] (per group). Bilinear,
 * and one member of a closed family of three primitives built on the trilinear form
 * T(x, w, y) = Σ x[b, o·s + t·dil − lo, ci] · w[t, ci, co] · y[b, o, co]:
 * conv(x, w) = ∂T/∂y, convBackInput(y, w) = ∂T/∂x, convBackKernel(x, y) = ∂T/∂w. Each
 * transpose is therefore another member, and derivatives of every order stay in the family.
 * @example ng.conv(ng.ones([1, 4, 4, 1]), ng.ones([3, 3, 1, 2])).shape // [1, 2, 2, 2]
 */
import type { ShapedArray } from "../core/aval.js";
import type { BatchDim } from "../core/batching.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, LinearInput, type Tangent } from "../core/trace.js";
import { promoteTypes } from "../tensor/dtype.js";
import * as K from "../tensor/index.js";
import { formatShape } from "../tensor/shape.js";
import { checkOptions } from "../util/options.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { cast } from "./cast.js";
import {
  checkFloatTensor,
  checkSameFloat,
  convBase,
  CONV_OPTION_KEYS,
  foldBatch,
  mergeIntoAxis,
  perDim,
  resolvePadding,
  type ConvOptions,
  CONV_TEST_CASES,
  type ConvParams,
  splitFromAxis,
  unfoldBatch,
} from "./conv_common.js";
import { convBackInputP } from "./conv_back_input.js";
import { convBackKernelP } from "./conv_back_kernel.js";
import { addTangents, mapTangent } from "./tangent.js";
import { kernelToOnnx, onnxPads, requireDTypes, toChannelsFirst, toChannelsLast } from "./onnx.js";

export const convP: DefinedPrimitive<ConvParams, "conv"> = defineSingle<ConvParams, "conv">(
  "conv",
  {
    linear: true,
    impl: ([x, w], p) => K.conv(x!, w!, p),
    abstractEval: ([x, w]: ShapedArray[], p) => {
      checkSameFloat("conv", x!, w!, "x", "w");
      return aval(K.convOutputShape(x!.shape, w!.shape, p, "conv"), x!.dtype);
    },
    // d conv(x, w) = conv(dx, w) + conv(x, dw)
    jvp: ([x, w], [tx, tw], p): [Tensor, Tangent] => [
      bind1(convP, [x!, w!], p),
      addTangents(
        mapTangent(tx!, (t) => bind1(convP, [t, w!], p)),
        mapTangent(tw!, (t) => bind1(convP, [x!, t], p)),
      ),
    ],
    // ct_x = convBackInput(ct, w) = ∂T/∂x;  ct_w = convBackKernel(x, ct) = ∂T/∂w
    transpose: (ct, [x, w], p) => {
      if (x instanceof LinearInput && w instanceof LinearInput) {
        throw new Error(
          "conv: transpose of a convolution of two tangents (the program is not linear)",
        );
      }
      return x instanceof LinearInput
        ? [
            bind1(convBackInputP, [ct, w as Tensor], {
              ...convBase(p),
              inputShape: x.aval.shape.slice(1, -1),
            }),
            null,
          ]
        : [
            null,
            bind1(convBackKernelP, [x as Tensor, ct], {
              ...convBase(p),
              kernelShape: (w as LinearInput).aval.shape.slice(0, -2),
            }),
          ];
    },
    // vmap (V examples): a batched x joins conv's batch axis; a batched w alone becomes
    // V·Cout output channels (V copies inside each group); both batched: V·groups groups
    // over V·Cin input channels. One kernel call each, no loop over the examples.
    batch: ([x, w], [dx, dw], p, size): [Tensor, BatchDim] => {
      const ch = p.strides.length + 1; // the channel axis of x and the Cout axis of w
      if (dw === null || dw === undefined) {
        return [unfoldBatch(bind1(convP, [foldBatch(x!, dx!, size), w!], p), size), 0];
      }
      if (dx === null || dx === undefined) {
        const wm = mergeIntoAxis(w!, dw, size, ch, p.groups);
        return splitFromAxis(bind1(convP, [x!, wm], p), size, ch, p.groups);
      }
      const xm = mergeIntoAxis(x!, dx, size, ch, 1);
      const wm = mergeIntoAxis(w!, dw, size, ch, 1);
      const y = bind1(convP, [xm, wm], { ...p, groups: size * p.groups });
      return splitFromAxis(y, size, ch, 1);
    },
    // Channels-last to ONNX's channels-first around one Conv node.
    onnx: (c, [x, w], p, { ins, outs }) => {
      requireDTypes(c, "Conv", outs[0]!.dtype, ["float32"]);
      const r = ins[0]!.ndim;
      const y = c.node1("Conv", [toChannelsFirst(c, x!, r), kernelToOnnx(c, w!, r - 2)], {
        strides: p.strides,
        pads: onnxPads(p.padding),
        dilations: p.dilation,
        group: p.groups,
      });
      return [toChannelsLast(c, y, r)];
    },
    testSpec: {
      cases: CONV_TEST_CASES.map((c) => ({
        inputs: [{ shape: c.x }, { shape: c.w }],
        params: c.params,
      })),
    },
  },
);

/**
 * Brings x and w of a convolution-like op to one float dtype (float32 + float64 gives
 * float64); other dtypes are rejected with the argument's name.
 */
export function convOperands(name: string, x: TensorLike, w: TensorLike): [Tensor, Tensor] {
  let a = toTensor(x, `${name}: x`);
  let b = toTensor(w, `${name}: w`);
  checkFloatTensor(name, "x", a);
  checkFloatTensor(name, "w", b);
  const dt = promoteTypes(a.dtype, b.dtype);
  a = cast(a, dt);
  b = cast(b, dt);
  if (b.ndim < 3) {
    throw new RangeError(
      `${name}: w must have rank >= 3 ([...kernel, channels, channels]), got shape ${formatShape(b.shape)}`,
    );
  }
  if (a.ndim !== b.ndim) {
    throw new RangeError(
      `${name}: x must have rank ${b.ndim} ([B, ...spatial, C] for a ${b.ndim - 2}-d kernel of shape ` +
        `${formatShape(b.shape)}), got shape ${formatShape(a.shape)}`,
    );
  }
  return [a, b];
}

/**
 * N-d convolution (cross-correlation), channels-last and batch-first: x [B, ...spatial, Cin]
 * with w [...kernel, Cin/groups, Cout] gives [B, ...outSpatial, Cout]. `stride` and
 * `dilation` are a number or one per spatial dim (default 1); `padding` is "valid"
 * (default), "same" (output size ⌈in / stride⌉, the extra padding element on the high
 * side), a number, or per-dim numbers / [lo, hi] pairs; `groups` splits the channels into
 * independent convolutions (groups = Cin gives a depthwise convolution). float32 and
 * float64; mixed operands compute in float64. Differentiable to any order.
 * @example
 * const y = ng.conv(ng.ones([8, 28, 28, 1]), ng.ones([3, 3, 1, 16]), { padding: "same" });
 * y.shape // [8, 28, 28, 16]
 */
export function conv(x: TensorLike, w: TensorLike, options: ConvOptions = {}): Tensor {
  checkOptions("conv", options, CONV_OPTION_KEYS);
  const [a, b] = convOperands("conv", x, w);
  const n = b.ndim - 2;
  const strides = perDim("conv", "stride", options.stride, n, 1);
  const dilation = perDim("conv", "dilation", options.dilation, n, 1);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new RangeError(`conv: groups: expected a positive integer, got ${String(groups)}`);
  }
  const kSp = b.shape.slice(0, n);
  const padding = resolvePadding(
    "conv",
    options.padding,
    a.shape.slice(1, -1),
    kSp,
    strides,
    dilation,
  );
  const params: ConvParams = { strides, padding, dilation, groups };
  K.convOutputShape(a.shape, b.shape, params, "conv"); // validates with conv's messages
  return bind1(convP, [a, b], params);
}
