/**
 * Shared parameter types and option resolution of the convolution family: `conv`, its two adjoints `convBackInput` / `convBackKernel` and the pooling
 * primitives. User options (a number or per-dim array for stride/dilation; "valid",
 * "same", a number or per-dim [lo, hi] pairs for padding) are resolved here into the fully
 * explicit params the primitives carry; every error names the op, the option and the
 * value. Also the layout helpers of the family's batching (vmap) rules, which fold a vmap
 * axis into the batch axis or, through channel groups, into a channel axis, so a batched
 * convolution is one call of the kernel. Not a primitive itself.
 */
import type { ShapedArray } from "../core/aval.js";
import type { BatchDim } from "../core/batching.js";
import type { Tensor } from "../core/tensor.js";
import { isFloat } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { batchToFront } from "./batching.js";
import { checkOptions, optionKeys } from "../util/options.js";
import { describeValue } from "./convert.js";
import { reshape } from "./reshape.js";
import { moveAxis } from "./transpose.js";
import { formatValue } from "../util/check.js";

/** Params of `conv`: fully resolved, one entry per spatial dim. */
export interface ConvParams {
  strides: number[];
  /** [lo, hi] zero padding per spatial dim. */
  padding: [number, number][];
  dilation: number[];
  groups: number;
}

/** Params of `convBackInput`: conv's params plus the spatial shape of conv's input. */
export interface ConvBackInputParams extends ConvParams {
  inputShape: number[];
}

/** Params of `convBackKernel`: conv's params plus the spatial shape of conv's kernel. */
export interface ConvBackKernelParams extends ConvParams {
  kernelShape: number[];
}

/** Params of the max-pooling primitives: fully resolved, one entry per spatial dim. */
export interface PoolParams {
  window: number[];
  strides: number[];
  padding: [number, number][];
}

/** Padding option: "valid" (none), "same" (output = ⌈in / stride⌉), a number, or per-dim. */
export type Padding = "valid" | "same" | number | readonly (number | readonly [number, number])[];

/** Options of `conv`. */
export interface ConvOptions {
  /** Step between windows: a number or one per spatial dim (default 1). */
  stride?: number | readonly number[];
  padding?: Padding;
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly number[];
  /** Channel groups: Cin and Cout split into `groups` independent convolutions (default 1). */
  groups?: number;
}

/** The keys of ConvOptions (checked against the interface by the compiler). */
export const CONV_OPTION_KEYS = optionKeys<ConvOptions>()([
  "stride",
  "padding",
  "dilation",
  "groups",
]);

/** Options of the pooling ops. */
export interface PoolOptions {
  /** Window size: a number or one per spatial dim. */
  window: number | readonly number[];
  /** Step between windows (default: the window). */
  stride?: number | readonly number[];
  padding?: Padding;
}

/** The keys of PoolOptions (checked against the interface by the compiler). */
export const POOL_OPTION_KEYS = optionKeys<PoolOptions>()(["window", "stride", "padding"]);

/** Just conv's params out of a params record of the family. */
export function convBase(p: ConvParams): ConvParams {
  return { strides: p.strides, padding: p.padding, dilation: p.dilation, groups: p.groups };
}

/** A number or per-dim array of positive integers, resolved to n entries. */
export function perDim(
  name: string,
  option: string,
  v: number | readonly number[] | undefined,
  n: number,
  dflt: number,
): number[] {
  const arr =
    v === undefined
      ? new Array<number>(n).fill(dflt)
      : typeof v === "number"
        ? new Array<number>(n).fill(v)
        : v;
  if (!Array.isArray(arr) || arr.length !== n || !arr.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RangeError(
      `${name}: ${option}: expected a positive integer or ${n} of them (one per spatial dim), got ${
        Array.isArray(v) ? formatValue(v) : describeValue(v)
      }`,
    );
  }
  return arr.slice();
}

/**
 * Resolves a padding option for a convolution over `inSp` with (dilated) kernel
 * `kSp`, strides and dilation. "same": out = ⌈in / s⌉, total = max((out−1)·s +
 * dil·(k−1) + 1 − in, 0), split with the extra element on the high side (TF convention).
 */
export function resolvePadding(
  name: string,
  padding: Padding | undefined,
  inSp: readonly number[],
  kSp: readonly number[],
  strides: readonly number[],
  dilation: readonly number[],
): [number, number][] {
  const n = inSp.length;
  if (padding === undefined || padding === "valid") return inSp.map(() => [0, 0]);
  if (padding === "same") {
    return inSp.map((len, d) => {
      const out = Math.ceil(len / strides[d]!);
      const total = Math.max((out - 1) * strides[d]! + dilation[d]! * (kSp[d]! - 1) + 1 - len, 0);
      const lo = Math.floor(total / 2);
      return [lo, total - lo];
    });
  }
  const isNN = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (typeof padding === "number") {
    if (!isNN(padding)) {
      throw new RangeError(`${name}: padding: expected a non-negative integer, got ${padding}`);
    }
    return inSp.map(() => [padding, padding]);
  }
  if (!Array.isArray(padding) || padding.length !== n) {
    throw new RangeError(
      `${name}: padding: expected "valid", "same", a non-negative integer or ${n} entries ` +
        `(one per spatial dim, each a number or a [lo, hi] pair), got ${
          Array.isArray(padding) ? formatValue(padding) : describeValue(padding)
        }`,
    );
  }
  return padding.map((q, d) => {
    if (isNN(q)) return [q as number, q as number];
    if (Array.isArray(q) && q.length === 2 && isNN(q[0]) && isNN(q[1])) return [q[0], q[1]];
    throw new RangeError(
      `${name}: padding[${d}]: expected a non-negative integer or a [lo, hi] pair, got ${formatValue(q)}`,
    );
  });
}

/** Checks that a tensor is float32/float64 with the given rank (when given). */
export function checkFloatTensor(name: string, arg: string, t: Tensor | ShapedArray): void {
  if (!isFloat(t.dtype)) {
    throw new TypeError(
      `${name}: ${arg} must be float32 or float64, got ${t.dtype} (shape ${formatShape(t.shape)})`,
    );
  }
}

/** Checks that two operands of a primitive share one float dtype. */
export function checkSameFloat(
  name: string,
  a: ShapedArray,
  b: ShapedArray,
  an: string,
  bn: string,
): void {
  checkFloatTensor(name, an, a);
  checkFloatTensor(name, bn, b);
  if (a.dtype !== b.dtype) {
    throw new TypeError(`${name}: ${an} (${a}) and ${bn} (${b}) must have one dtype`);
  }
}

/**
 * Test cases shared by the family: a strided, padded 1-d conv (3 output channels: the
 * direct loops) and a grouped, dilated 2-d one (4 per group: im2col + matmul).
 */
export const CONV_TEST_CASES: {
  x: number[];
  w: number[];
  y: number[];
  params: ConvParams;
}[] = [
  {
    x: [2, 5, 2],
    w: [3, 2, 3],
    y: [2, 2, 3],
    params: { strides: [2], padding: [[1, 0]], dilation: [1], groups: 1 },
  },
  {
    x: [1, 4, 3, 4],
    w: [2, 2, 2, 8],
    y: [1, 3, 2, 8],
    params: {
      strides: [1, 2],
      padding: [
        [1, 0],
        [0, 1],
      ],
      dilation: [2, 1],
      groups: 2,
    },
  },
];

/** Resolves pooling options for x of shape [B, ...spatial, C] into fully explicit params. */
export function resolvePool(
  name: string,
  xShape: readonly number[],
  options: PoolOptions,
): PoolParams {
  checkOptions(name, options, POOL_OPTION_KEYS);
  if (xShape.length < 3) {
    throw new RangeError(
      `${name}: x must have rank >= 3 ([B, ...spatial, C]), got shape ${formatShape(xShape)}`,
    );
  }
  if (options === null || typeof options !== "object" || options.window === undefined) {
    throw new TypeError(`${name}: options.window is required (a number or one per spatial dim)`);
  }
  const n = xShape.length - 2;
  const window = perDim(name, "window", options.window, n, 1);
  const strides = perDim(name, "stride", options.stride ?? window, n, 1);
  const ones = new Array<number>(n).fill(1);
  const padding = resolvePadding(name, options.padding, xShape.slice(1, -1), window, strides, ones);
  return { window, strides, padding };
}

/** Test cases of the pooling family: a padded 1-d pool and an overlapping 2-d one. */
export const POOL_TEST_CASES: { x: number[]; y: number[]; params: PoolParams }[] = [
  { x: [2, 5, 2], y: [2, 3, 2], params: { window: [2], strides: [2], padding: [[0, 1]] } },
  {
    x: [1, 4, 4, 2],
    y: [1, 4, 2, 2],
    params: {
      window: [3, 2],
      strides: [1, 2],
      padding: [
        [1, 1],
        [0, 0],
      ],
    },
  },
];

// ---- batching (vmap) helpers: V is the vmap axis size, B the primitive's own batch ----

/** [V, B, ...] (vmap axis moved to the front first) -> [V·B, ...]: the vmap axis joins the batch. */
export function foldBatch(x: Tensor, d: BatchDim, size: number): Tensor {
  const f = batchToFront(x, d, size);
  return reshape(f, [size * f.shape[1]!, ...f.shape.slice(2)]);
}

/** [V·B, ...] -> [V, B, ...]; the vmap axis is 0. */
export function unfoldBatch(y: Tensor, size: number): Tensor {
  return reshape(y, [size, y.shape[0]! / size, ...y.shape.slice(1)]);
}

/**
 * Merges the vmap axis into axis `axis` of the per-example value, inside `groups` channel
 * groups: an axis of size g·m becomes g·V·m laid out [g, V, m] (with g = 1: [V, m]), so
 * a grouped convolution sees V independent copies of every group.
 */
export function mergeIntoAxis(
  x: Tensor,
  d: BatchDim,
  size: number,
  axis: number,
  groups: number,
): Tensor {
  const f = batchToFront(x, d, size); // [V, ...pre, g·m, ...post]
  const pre = f.shape.slice(1, axis + 1);
  const post = f.shape.slice(axis + 2);
  const m = f.shape[axis + 1]! / groups;
  const split = reshape(f, [size, ...pre, groups, m, ...post]);
  const moved = moveAxis(split, 0, axis + 1); // [...pre, g, V, m, ...post]
  return reshape(moved, [...pre, groups * size * m, ...post]);
}

/**
 * The inverse of `mergeIntoAxis` on an output: axis `axis` of size g·V·m laid out
 * [g, V, m] becomes the vmap axis (at `axis`) followed by an axis of size g·m.
 */
export function splitFromAxis(
  y: Tensor,
  size: number,
  axis: number,
  groups: number,
): [Tensor, BatchDim] {
  const pre = y.shape.slice(0, axis);
  const post = y.shape.slice(axis + 1);
  const m = y.shape[axis]! / (groups * size);
  let t = reshape(y, [...pre, groups, size, m, ...post]);
  if (groups > 1) t = moveAxis(t, axis + 1, axis); // [...pre, V, g, m, ...post]
  return [reshape(t, [...pre, size, groups * m, ...post]), axis];
}
