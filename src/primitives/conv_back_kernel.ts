/**
 * The adjoint of convolution wrt its kernel: convBackKernel(x, y) = ∂T/∂w of
 * the trilinear form T(x, w, y) = ⟨conv(x, w), y⟩, i.e.
 * dw[t, ci, co] = Σ_{b, o} x[b, o·s + t·dil − lo, ci] · y[b, o, co] (per group) for a kernel of
 * spatial shape `kernelShape`. Bilinear in (x, y); its transposes are convBackInput (wrt x)
 * and conv (wrt y). Used by reverse mode; not a user-facing op.
 */
import type { ShapedArray } from "../core/aval.js";
import type { BatchDim } from "../core/batching.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, LinearInput, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { formatShape } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import {
  checkSameFloat,
  convBase,
  CONV_TEST_CASES,
  mergeIntoAxis,
  splitFromAxis,
  type ConvBackKernelParams,
} from "./conv_common.js";
import { convP } from "./conv.js";
import { convBackInputP } from "./conv_back_input.js";
import { addTangents, mapTangent } from "./tangent.js";
import { requireDTypes } from "./onnx.js";

/** Shape of conv's kernel for an input x and a cotangent y: [...kernelShape, Cin/groups, Cout]. */
function kernelAval(
  name: string,
  x: ShapedArray,
  y: ShapedArray,
  p: ConvBackKernelParams,
): number[] {
  const n = x.ndim - 2;
  if (n < 1 || y.ndim !== n + 2 || !Array.isArray(p.kernelShape) || p.kernelShape.length !== n) {
    throw new RangeError(
      `${name}: expected x [B, ...spatial, Cin], y [B, ...outSpatial, Cout] and a kernelShape of ` +
        `${Math.max(n, 1)} spatial dims, got x ${formatShape(x.shape)}, y ${formatShape(y.shape)}, ` +
        `kernelShape ${JSON.stringify(p.kernelShape)}`,
    );
  }
  const cin = x.shape[n + 1]!;
  if (!Number.isInteger(p.groups) || p.groups < 1 || cin % p.groups !== 0) {
    throw new RangeError(
      `${name}: groups ${p.groups} does not divide the ${cin} input channels of x (shape ${formatShape(x.shape)})`,
    );
  }
  const wShape = [...p.kernelShape, cin / p.groups, y.shape[n + 1]!];
  const want = K.convOutputShape(x.shape, wShape, p, name);
  if (want.some((d, i) => d !== y.shape[i])) {
    throw new RangeError(
      `${name}: y must have shape ${formatShape(want)} (the output of a convolution of x ` +
        `${formatShape(x.shape)} with a kernel of shape ${formatShape(wShape)}), got ${formatShape(y.shape)}`,
    );
  }
  return wShape;
}

export const convBackKernelP: DefinedPrimitive<ConvBackKernelParams, "convBackKernel"> =
  defineSingle<ConvBackKernelParams, "convBackKernel">("convBackKernel", {
    linear: true,
    impl: ([x, y], p) => K.convBackKernel(x!, y!, p, p.kernelShape),
    abstractEval: ([x, y]: ShapedArray[], p) => {
      checkSameFloat("convBackKernel", x!, y!, "x", "y");
      return aval(kernelAval("convBackKernel", x!, y!, p), x!.dtype);
    },
    // d convBackKernel(x, y) = convBackKernel(dx, y) + convBackKernel(x, dy)
    jvp: ([x, y], [tx, ty], p): [Tensor, Tangent] => [
      bind1(convBackKernelP, [x!, y!], p),
      addTangents(
        mapTangent(tx!, (t) => bind1(convBackKernelP, [t, y!], p)),
        mapTangent(ty!, (t) => bind1(convBackKernelP, [x!, t], p)),
      ),
    ],
    // ct_x = convBackInput(y, ct) = ∂T/∂x (ct plays w);  ct_y = conv(x, ct) = ∂T/∂y
    transpose: (ct, [x, y], p) => {
      if (x instanceof LinearInput && y instanceof LinearInput) {
        throw new Error(
          "convBackKernel: transpose of a product of two tangents (the program is not linear)",
        );
      }
      return x instanceof LinearInput
        ? [
            bind1(convBackInputP, [y as Tensor, ct], {
              ...convBase(p),
              inputShape: x.aval.shape.slice(1, -1),
            }),
            null,
          ]
        : [null, bind1(convP, [x as Tensor, ct], convBase(p))];
    },
    // vmap (V examples): the kernel gradient sums over conv's batch axis, so the vmap axis
    // goes into the channels instead: a batched x alone gives V·Cin/groups input channels
    // per group, a batched y alone V·Cout/groups output channels per group, both batched
    // V·groups groups. One kernel call each.
    batch: ([x, y], [dx, dy], p, size): [Tensor, BatchDim] => {
      const n = p.strides.length;
      if (dy === null || dy === undefined) {
        const xm = mergeIntoAxis(x!, dx!, size, n + 1, p.groups);
        return splitFromAxis(bind1(convBackKernelP, [xm, y!], p), size, n, 1);
      }
      if (dx === null || dx === undefined) {
        const ym = mergeIntoAxis(y!, dy, size, n + 1, p.groups);
        return splitFromAxis(bind1(convBackKernelP, [x!, ym], p), size, n + 1, p.groups);
      }
      const xm = mergeIntoAxis(x!, dx, size, n + 1, 1);
      const ym = mergeIntoAxis(y!, dy, size, n + 1, 1);
      const w = bind1(convBackKernelP, [xm, ym], { ...p, groups: size * p.groups });
      return splitFromAxis(w, size, n + 1, 1);
    },
    // ∂T/∂w as one Conv with batch and channels swapped: x as [Cin, B, ...I], y as the kernel
    // [Cout, B, ...O], strides and dilations exchanged; the high padding covers the last tap
    // and the output is cut to the kernel shape. Grouped kernels are not lowered.
    onnx: (c, [x, y], p, { ins, outs }) => {
      requireDTypes(c, "Conv", outs[0]!.dtype, ["float32"]);
      const r = ins[0]!.ndim;
      const n = r - 2;
      const front = [r - 1, 0, ...Array.from({ length: n }, (_, i) => i + 1)];
      const hi = p.kernelShape.map((k, d) => {
        const need = (k - 1) * p.dilation[d]! + (ins[1]!.shape[d + 1]! - 1) * p.strides[d]! + 1;
        return Math.max(0, need - ins[0]!.shape[d + 1]! - p.padding[d]![0]);
      });
      const axes = p.kernelShape.map((_, d) => d + 2);
      const one = (xg: string, yg: string): string => {
        const g = c.node1(
          "Conv",
          [
            c.node1("Transpose", [xg], { perm: front }),
            c.node1("Transpose", [yg], { perm: front }),
          ],
          {
            strides: p.dilation,
            dilations: p.strides,
            pads: [...p.padding.map((q) => q[0]), ...hi],
          },
        );
        const zeros = c.int64s(axes.map(() => 0));
        const cut = c.node1("Slice", [g, zeros, c.int64s(p.kernelShape), c.int64s(axes)]);
        return c.node1("Transpose", [cut], { perm: [...axes, 0, 1] });
      };
      if (p.groups === 1) return [one(x!, y!)];
      // Groups: group j pairs channels j·Cin/g.. of x with j·Cout/g.. of y; the kernel
      // gradients [...K, Cin/g, Cout/g] concatenate along Cout.
      const [cin, cout] = [ins[0]!.shape[r - 1]! / p.groups, ins[1]!.shape[r - 1]! / p.groups];
      const part = (v: string, j: number, size: number) =>
        c.node1("Slice", [v, c.int64s([j * size]), c.int64s([(j + 1) * size]), c.int64s([r - 1])]);
      const parts = Array.from({ length: p.groups }, (_, j) =>
        one(part(x!, j, cin), part(y!, j, cout)),
      );
      return [c.node1("Concat", parts, { axis: n + 1 })];
    },
    testSpec: {
      cases: CONV_TEST_CASES.map((c) => ({
        inputs: [{ shape: c.x }, { shape: c.y }],
        params: { ...c.params, kernelShape: c.w.slice(0, -2) },
      })),
    },
  });
