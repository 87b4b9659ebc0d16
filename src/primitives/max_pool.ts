/**
 * Max pooling, channels-last (a primitive for structure): each output is the
 * maximum of its window of x [B, ...spatial, C]; padding acts as −∞. The derivative follows
 * the first maximal element of each window (a subgradient at ties):
 * d maxPool(x) = maxPoolSelect(dx, x), a linear primitive whose transpose scatters into the
 * windows (maxPoolScatter).
 * @example ng.maxPool(ng.array([[[1], [3], [2], [0]]]), { window: 2 }) // [[[3], [2]]]
 */
import type { ShapedArray } from "../core/aval.js";
import type { BatchDim } from "../core/batching.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import {
  checkFloatTensor,
  foldBatch,
  POOL_TEST_CASES,
  resolvePool,
  type PoolOptions,
  type PoolParams,
  unfoldBatch,
} from "./conv_common.js";
import { maxPoolSelectP } from "./max_pool_select.js";
import { FLOATS, maxPoolWithIndices, requireDTypes, toChannelsLast } from "./onnx.js";

export const maxPoolP: DefinedPrimitive<PoolParams, "maxPool"> = defineSingle<
  PoolParams,
  "maxPool"
>("maxPool", {
  impl: ([x], p) => K.maxPool(x!, p),
  abstractEval: ([x]: ShapedArray[], p) => {
    checkFloatTensor("maxPool", "x", x!);
    return aval(K.poolOutputShape(x!.shape, p, "maxPool"), x!.dtype);
  },
  // d maxPool(x) = dx at the argmax of each window
  jvp: ([x], [t], p): [Tensor, Tangent] => [
    bind1(maxPoolP, [x!], p),
    t && bind1(maxPoolSelectP, [t, x!], p),
  ],
  // vmap: windows never cross examples, so the vmap axis joins the batch axis.
  batch: ([x], [d], p, size): [Tensor, BatchDim] => [
    unfoldBatch(bind1(maxPoolP, [foldBatch(x!, d!, size)], p), size),
    0,
  ],
  onnx: (c, [x], p, { ins, outs }) => {
    requireDTypes(c, "MaxPool", outs[0]!.dtype, FLOATS);
    const r = ins[0]!.ndim;
    return [toChannelsLast(c, maxPoolWithIndices(c, x!, r, p)[0], r)];
  },
  testSpec: {
    cases: POOL_TEST_CASES.map((c) => ({ inputs: [{ shape: c.x }], params: c.params })),
  },
});

/**
 * Max pooling over windows of the spatial dims of x [B, ...spatial, C] (channels-last,
 * batch-first). `window` is a number or one per spatial dim; `stride` defaults to the
 * window; `padding` is "valid" (default), "same" (output ⌈in / stride⌉), a number or
 * per-dim [lo, hi] pairs, each side smaller than the window; padded positions never win.
 * The gradient goes to the first maximal element of each window.
 * @example ng.maxPool(ng.ones([8, 28, 28, 16]), { window: 2 }).shape // [8, 14, 14, 16]
 */
export function maxPool(x: TensorLike, options: PoolOptions): Tensor {
  const t = toTensor(x, "maxPool: x");
  checkFloatTensor("maxPool", "x", t);
  const p = resolvePool("maxPool", t.shape, options);
  K.poolOutputShape(t.shape, p, "maxPool");
  return bind1(maxPoolP, [t], p);
}
