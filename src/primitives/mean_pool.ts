/**
 * Mean pooling, channels-last: not a primitive but a
 * composite over `conv` — a depthwise convolution (groups = C) with a kernel of ones,
 * divided by the number of input elements in each window (padding is not counted, as in
 * TensorFlow). It inherits conv's derivative rules, so it differentiates to any order.
 * Lives beside maxPool so that the pooling family sits together.
 * @example ng.meanPool(ng.array([[[1], [3], [2], [0]]]), { window: 2 }) // [[[2], [1]]]
 */
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { fromNDArray, toTensor, type TensorLike } from "./convert.js";
import { checkFloatTensor, resolvePool, type PoolOptions } from "./conv_common.js";
import { convP } from "./conv.js";
import { div } from "./div.js";
import { mul } from "./mul.js";

/**
 * Mean over windows of the spatial dims of x [B, ...spatial, C] (channels-last,
 * batch-first). `window` is a number or one per spatial dim; `stride` defaults to the
 * window; `padding` is "valid" (default), "same", a number or per-dim [lo, hi] pairs (each
 * side smaller than the window). Padded positions are excluded from the mean.
 * @example ng.meanPool(ng.ones([8, 28, 28, 16]), { window: 2 }).shape // [8, 14, 14, 16]
 */
export function meanPool(x: TensorLike, options: PoolOptions): Tensor {
  const t = toTensor(x, "meanPool: x");
  checkFloatTensor("meanPool", "x", t);
  const p = resolvePool("meanPool", t.shape, options);
  K.poolOutputShape(t.shape, p, "meanPool");
  const n = t.ndim - 2;
  const C = t.shape[n + 1]!;
  const geom = { strides: p.strides, padding: p.padding, dilation: new Array<number>(n).fill(1) };
  const ones = fromNDArray(K.ones([...p.window, 1, C], t.dtype));
  const sums = bind1(convP, [t, ones], { ...geom, groups: C });
  if (p.padding.every(([lo, hi]) => lo === 0 && hi === 0)) {
    return mul(sums, 1 / p.window.reduce((a, b) => a * b, 1));
  }
  // the number of real (unpadded) elements under each window: [1, ...outSpatial, 1]
  const counts = K.conv(
    K.ones([1, ...t.shape.slice(1, -1), 1], t.dtype),
    K.ones([...p.window, 1, 1], t.dtype),
    { ...geom, groups: 1 },
  );
  return div(sums, fromNDArray(counts));
}
