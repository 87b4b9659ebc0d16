/**
 * Shared parameter types and option resolution of the convolution family (DESIGN.md §3,
 * §7): `conv`, its two adjoints `convBackInput` / `convBackKernel` and the pooling
 * primitives. User options (a number or per-dim array for stride/dilation; "valid",
 * "same", a number or per-dim [lo, hi] pairs for padding) are resolved here into the fully
 * explicit params the primitives carry; every error names the op, the option and the
 * value. Not a primitive itself.
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { isFloat } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { describeValue } from "./convert.js";

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

/** Options of the pooling ops. */
export interface PoolOptions {
  /** Window size: a number or one per spatial dim. */
  window: number | readonly number[];
  /** Step between windows (default: the window). */
  stride?: number | readonly number[];
  padding?: Padding;
}

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
  const arr = v === undefined ? new Array<number>(n).fill(dflt) : typeof v === "number" ? new Array<number>(n).fill(v) : v;
  if (!Array.isArray(arr) || arr.length !== n || !arr.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RangeError(
      `${name}: ${option}: expected a positive integer or ${n} of them (one per spatial dim), got ${
        Array.isArray(v) ? JSON.stringify(v) : describeValue(v)
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
          Array.isArray(padding) ? JSON.stringify(padding) : describeValue(padding)
        }`,
    );
  }
  return padding.map((q, d) => {
    if (isNN(q)) return [q as number, q as number];
    if (Array.isArray(q) && q.length === 2 && isNN(q[0]) && isNN(q[1])) return [q[0], q[1]];
    throw new RangeError(
      `${name}: padding[${d}]: expected a non-negative integer or a [lo, hi] pair, got ${JSON.stringify(q)}`,
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
