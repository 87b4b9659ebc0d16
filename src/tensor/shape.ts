/**
 * Shapes, strides, NumPy broadcasting and axis normalisation.
 * Every helper validates and names the offending argument.
 */
import { formatValue } from "../util/check.js";

export type Shape = readonly number[];

/** Number of elements of `shape` (1 for a scalar). @example ng.nd.sizeOf([2, 3]) // 6 */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

/**
 * Row-major (C-order) strides of a contiguous array of `shape`, in elements.
 * @example ng.nd.contiguousStrides([2, 3, 4]) // [12, 4, 1]
 */
export function contiguousStrides(shape: Shape): number[] {
  const n = shape.length;
  // Small ranks as literals (packed arrays, the common case), the rest by a loop.
  if (n === 0) return [];
  if (n === 1) return [1];
  if (n === 2) return [1 * shape[1]!, 1];
  const strides = new Array<number>(n);
  let s = 1;
  for (let i = n - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** Whether two shapes are equal. @example ng.nd.shapesEqual([2, 3], [2, 3]) // true */
export function shapesEqual(a: Shape, b: Shape): boolean {
  // Shapes are often the very same frozen array (tensor/frozen.ts shares small ones).
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A shape as text, for messages. @example ng.nd.formatShape([2, 3]) // "[2, 3]" */
export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Validates a user-supplied shape: an array of non-negative integers.
 * @example ng.nd.checkShape([2, 3]) // [2, 3]
 * ng.nd.checkShape([2, -1]) // throws RangeError naming shape[1]
 */
export function checkShape(shape: unknown, argName = "shape"): number[] {
  if (!Array.isArray(shape)) {
    throw new TypeError(
      `${argName}: expected an array of non-negative integers, got ${typeof shape}`,
    );
  }
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new RangeError(
        `${argName}[${i}]: expected a non-negative integer dimension, got ${formatValue(d)} in ${formatValue(shape)}`,
      );
    }
  }
  return shape.slice() as number[];
}

/**
 * NumPy broadcasting of two shapes; the error names both shapes and the operation.
 * @example ng.nd.broadcastShapes([3, 1], [4]) // [3, 4]
 */
export function broadcastShapes(a: Shape, b: Shape, opName = "broadcast"): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)]!;
    const db = i < n - b.length ? 1 : b[i - (n - b.length)]!;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else {
      throw new RangeError(
        `${opName}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together ` +
          `(dimension ${i} of the aligned shapes: ${da} vs ${db})`,
      );
    }
  }
  return out;
}

/** Broadcasts any number of shapes. @example ng.nd.broadcastAll([[3, 1], [4], []]) // [3, 4] */
export function broadcastAll(shapes: readonly Shape[], opName = "broadcast"): number[] {
  let out: number[] = [];
  for (const s of shapes) out = broadcastShapes(out, s, opName);
  return out;
}

/**
 * Strides that read an array of (`shape`, `strides`) as if broadcast to `target`:
 * broadcast dimensions get stride 0. Throws if `shape` does not broadcast to `target`.
 * @example ng.nd.broadcastStrides([3, 1], [1, 1], [2, 3, 4]) // [0, 1, 0]
 */
export function broadcastStrides(
  shape: Shape,
  strides: readonly number[],
  target: Shape,
  opName = "broadcastTo",
): number[] {
  const offset = target.length - shape.length;
  if (offset < 0) {
    throw new RangeError(
      `${opName}: cannot broadcast shape ${formatShape(shape)} to ${formatShape(target)} (more dimensions)`,
    );
  }
  const out: number[] = [];
  for (let i = 0; i < offset; i++) out.push(0);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    const t = target[i + offset]!;
    if (d === t) out.push(strides[i]!);
    else if (d === 1) out.push(0);
    else {
      throw new RangeError(
        `${opName}: cannot broadcast shape ${formatShape(shape)} to ${formatShape(target)} ` +
          `(dimension ${i}: ${d} vs ${t})`,
      );
    }
  }
  return out;
}

/**
 * Normalises a possibly negative axis; the error names the argument and the rank.
 * @example ng.nd.normalizeAxis(-1, 3) // 2
 */
export function normalizeAxis(axis: number, ndim: number, argName = "axis"): number {
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new TypeError(`${argName}: expected an integer axis, got ${String(axis)}`);
  }
  if (axis < -ndim || axis >= ndim) {
    throw new RangeError(
      `${argName}: axis ${axis} is out of range for an array of rank ${ndim} (valid: ${-ndim}..${ndim - 1})`,
    );
  }
  return axis < 0 ? axis + ndim : axis;
}

/**
 * Normalises an axis argument (undefined = all axes, a number, or a list) to a sorted
 * list of distinct non-negative axes.
 * @example ng.nd.normalizeAxes([-1, 0], 3) // [0, 2]
 */
export function normalizeAxes(
  axes: number | readonly number[] | undefined | null,
  ndim: number,
  argName = "axis",
): number[] {
  if (axes === undefined || axes === null) {
    const all: number[] = [];
    for (let i = 0; i < ndim; i++) all.push(i);
    return all;
  }
  const list = typeof axes === "number" ? [axes] : axes;
  if (!Array.isArray(list)) {
    throw new TypeError(`${argName}: expected a number or an array of numbers, got ${typeof axes}`);
  }
  const out = list.map((a) => normalizeAxis(a, ndim, argName));
  // Few axes: a quadratic duplicate check, and no sort when they come sorted.
  let sorted = true;
  for (let j = 0; j < out.length; j++) {
    const a = out[j];
    for (let i = 0; i < j; i++) {
      if (out[i] === a)
        throw new RangeError(
          `${argName}: axis ${a} appears more than once in ${formatValue(list)}`,
        );
    }
    if (j > 0 && !(out[j - 1]! < a!)) sorted = false;
  }
  return sorted ? out : out.sort((x, y) => x - y);
}

/**
 * One step of a row-major odometer over dimensions 0..last: increments `idx` and returns
 * `pos` moved by `strides`, wrapping each dimension that runs past `shape`.
 * @example
 * const idx = [0, 2];
 * ng.nd.advance(idx, [2, 3], [3, 1], 1, 2) // 3, and idx is now [1, 0]
 */
export function advance(
  idx: number[],
  shape: readonly number[],
  strides: readonly number[],
  last: number,
  pos: number,
): number {
  for (let d = last; d >= 0; d--) {
    idx[d]!++;
    pos += strides[d]!;
    if (idx[d]! < shape[d]!) return pos;
    pos -= strides[d]! * shape[d]!;
    idx[d] = 0;
  }
  return pos;
}
