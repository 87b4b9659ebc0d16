/**
 * Movement and creation kernels of the tensor layer:
 * reshape, transpose/permute/swapAxes/moveAxis, broadcastTo, slice, flip, squeeze and
 * expandDims are O(1) strided views of their input (reshape copies only when no strides
 * can express it); concatenate, stack, pad, take, takeAlongAxis and their adjoints
 * (takeTranspose, takeAlongAxisTranspose) copy with block copies over contiguous runs;
 * full, zeros, ones, arange, linspace and eye create arrays. Every function validates its
 * arguments and names the offending one.
 */
import {
  allocate,
  allocateUninit,
  checkAllocation,
  checkDType,
  isFloat,
  promoteTypes,
  type DataArray,
  type DType,
} from "../dtype.js";
import { NDArray } from "../ndarray.js";
import {
  broadcastShapes,
  broadcastStrides,
  checkShape,
  contiguousStrides,
  formatShape,
  normalizeAxes,
  normalizeAxis,
  shapesEqual,
  sizeOf,
  advance,
} from "../shape.js";
import { formatValue } from "../../util/check.js";

/** One axis of a `slice`: Python slice semantics (`start:stop:step`). */
export interface SliceSpec {
  start?: number;
  stop?: number;
  step?: number;
}

/** Below this many elements a run is copied with a plain loop instead of `set`. */
const BLOCK_MIN = 16;

// ---------------------------------------------------------------------------------------
// private helpers

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (typeof v === "object") return (v as object).constructor?.name ?? "an object";
  return `${typeof v} ${String(v)}`;
}

function checkArray(x: unknown, op: string, arg: string): NDArray {
  if (!(x instanceof NDArray)) {
    throw new TypeError(`${op}: ${arg}: expected an NDArray, got ${describe(x)}`);
  }
  return x;
}

function checkInt(v: unknown, op: string, arg: string, min = -Infinity): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`${op}: ${arg}: expected an integer, got ${describe(v)}`);
  }
  if (v < min) {
    throw new RangeError(`${op}: ${arg}: expected an integer >= ${min}, got ${v}`);
  }
  return v;
}

function checkFinite(v: unknown, op: string, arg: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TypeError(`${op}: ${arg}: expected a finite number, got ${describe(v)}`);
  }
  return v;
}

/** A shape argument: a number (1-D) or an array of non-negative integers. */
function toShape(shape: unknown, op: string, arg = "shape"): number[] {
  if (typeof shape === "number") return checkShape([shape], `${op}: ${arg}`);
  return checkShape(shape, `${op}: ${arg}`);
}

/** Converts a fill value to its stored form in `dtype` (int32 must be an exact int32). */
function storedValue(value: unknown, dtype: DType, op: string, arg: string): number {
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new TypeError(`${op}: ${arg}: expected a number or boolean, got ${describe(value)}`);
  }
  const v = typeof value === "boolean" ? (value ? 1 : 0) : value;
  if (dtype === "bool") return v !== 0 ? 1 : 0;
  if (dtype === "int32" && !(Number.isInteger(v) && v >= -2147483648 && v <= 2147483647)) {
    throw new RangeError(`${op}: ${arg}: ${v} is not representable as int32`);
  }
  return v;
}

function product(shape: readonly number[], from: number, to: number): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= shape[i]!;
  return p;
}

/** Normalises an axis list that must be a permutation-free list (order kept, no sort). */
function axisList(
  axes: number | readonly number[],
  ndim: number,
  op: string,
  arg: string,
): number[] {
  const list = typeof axes === "number" ? [axes] : axes;
  if (!Array.isArray(list)) {
    throw new TypeError(
      `${op}: ${arg}: expected a number or an array of numbers, got ${describe(axes)}`,
    );
  }
  const out = list.map((a, i) =>
    normalizeAxis(a, ndim, typeof axes === "number" ? `${op}: ${arg}` : `${op}: ${arg}[${i}]`),
  );
  const seen = new Set<number>();
  for (const a of out) {
    if (seen.has(a)) {
      throw new RangeError(
        `${op}: ${arg}: axis ${a} appears more than once in ${formatValue(list)}`,
      );
    }
    seen.add(a);
  }
  return out;
}

/** Validates that every index of an int32 array lies in [-n, n). */
function checkIndices(idx: DataArray, n: number, op: string, axis: number | undefined): void {
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i]!;
    if (k < -n || k >= n) {
      const where = axis === undefined ? "the flattened array" : `axis ${axis}`;
      throw new RangeError(`${op}: indices: index ${k} is out of range for ${where} of size ${n}`);
    }
  }
}

function checkIndexArray(indices: unknown, op: string): NDArray {
  const idx = checkArray(indices, op, "indices");
  if (idx.dtype !== "int32") {
    throw new TypeError(`${op}: indices: expected dtype int32, got ${idx.dtype}`);
  }
  return idx;
}

/**
 * Strides that express `newShape` over the layout (shape, strides) without copying, or
 * null when none exist (NumPy's no-copy reshape: merge/split only runs of contiguous axes).
 */
function reshapeStrides(
  shape: readonly number[],
  strides: readonly number[],
  newShape: readonly number[],
): number[] | null {
  const od: number[] = [];
  const os: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] !== 1) {
      od.push(shape[i]!);
      os.push(strides[i]!);
    }
  }
  const nd = newShape.length;
  const ns = new Array<number>(nd).fill(0);
  let oi = 0;
  let oj = 1;
  let ni = 0;
  let nj = 1;
  while (ni < nd && oi < od.length) {
    let np = newShape[ni]!;
    let op = od[oi]!;
    while (np !== op) {
      if (np < op) np *= newShape[nj++]!;
      else op *= od[oj++]!;
    }
    // the old axes oi..oj-1 must form one contiguous run to be regrouped
    for (let ok = oi; ok < oj - 1; ok++) {
      if (os[ok] !== od[ok + 1]! * os[ok + 1]!) return null;
    }
    ns[nj - 1] = os[oj - 1]!;
    for (let nk = nj - 1; nk > ni; nk--) ns[nk - 1] = ns[nk]! * newShape[nk]!;
    ni = nj++;
    oi = oj++;
  }
  const last = ni >= 1 ? ns[ni - 1]! : 1;
  for (let nk = ni; nk < nd; nk++) ns[nk] = last;
  return ns;
}

// ---------------------------------------------------------------------------------------
// views

/**
 * Gives `x` a new shape with the same row-major elements. One entry may be -1 (inferred).
 * A view when strides can express it (always for contiguous `x`), otherwise a copy.
 * @example ng.nd.reshape(ng.nd.arange(6), [2, -1]).shape // [2, 3]
 */
export function reshape(x: NDArray, shape: readonly number[]): NDArray {
  checkArray(x, "reshape", "x");
  if (!Array.isArray(shape)) {
    throw new TypeError(`reshape: shape: expected an array of integers, got ${describe(shape)}`);
  }
  let inferAt = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== "number" || !Number.isInteger(d) || d < -1) {
      throw new RangeError(
        `reshape: shape[${i}]: expected a non-negative integer or -1, got ${formatValue(d)} in ${formatValue(shape)}`,
      );
    }
    if (d === -1) {
      if (inferAt >= 0) {
        throw new RangeError(
          `reshape: shape: only one dimension may be -1, got ${formatValue(shape)}`,
        );
      }
      inferAt = i;
    } else known *= d;
  }
  const newShape = shape.slice();
  if (inferAt >= 0) {
    if (known === 0 || x.size % known !== 0) {
      throw new RangeError(
        `reshape: cannot infer the -1 in ${formatValue(shape)} for an array of shape ` +
          `${formatShape(x.shape)} (${x.size} elements)` +
          (known === 0 ? ": the other dimensions have size 0, so it is ambiguous" : ""),
      );
    }
    newShape[inferAt] = x.size / known;
  }
  if (sizeOf(newShape) !== x.size) {
    throw new RangeError(
      `reshape: cannot reshape an array of shape ${formatShape(x.shape)} (${x.size} elements) ` +
        `into shape ${formatShape(newShape)} (${sizeOf(newShape)} elements)`,
    );
  }
  if (x.contiguous || x.size === 0) {
    return x.view(newShape, contiguousStrides(newShape), x.offset);
  }
  const strides = reshapeStrides(x.shape, x.strides, newShape);
  if (strides !== null) return x.view(newShape, strides, x.offset);
  return new NDArray(x.flat(), newShape);
}

function transposeImpl(x: NDArray, perm: readonly number[] | undefined, op: string): NDArray {
  checkArray(x, op, "x");
  const n = x.ndim;
  let p: number[];
  if (perm === undefined || perm === null) {
    p = Array.from({ length: n }, (_, i) => n - 1 - i);
  } else {
    if (!Array.isArray(perm)) {
      throw new TypeError(`${op}: perm: expected an array of axes, got ${describe(perm)}`);
    }
    if (perm.length !== n) {
      throw new RangeError(
        `${op}: perm: expected a permutation of ${n} axes for shape ${formatShape(x.shape)}, ` +
          `got ${formatValue(perm)} (${perm.length} axes)`,
      );
    }
    p = axisList(perm, n, op, "perm");
  }
  const shape = p.map((a) => x.shape[a]!);
  const strides = p.map((a) => x.strides[a]!);
  return x.view(shape, strides, x.offset);
}

/**
 * Permutes the axes: out.shape[i] = x.shape[perm[i]] (O(1) view). Default reverses them.
 * @example ng.nd.transpose(ng.nd.zeros([2, 3, 4]), [2, 0, 1]).shape // [4, 2, 3]
 */
export function transpose(x: NDArray, perm?: readonly number[]): NDArray {
  return transposeImpl(x, perm, "transpose");
}

/**
 * Alias of `transpose`: out.shape[i] = x.shape[perm[i]].
 * @example ng.nd.permute(ng.nd.zeros([2, 3, 4]), [2, 0, 1]).shape // [4, 2, 3]
 */
export function permute(x: NDArray, perm?: readonly number[]): NDArray {
  return transposeImpl(x, perm, "permute");
}

/** Exchanges axes `a` and `b` (O(1) view). @example ng.nd.swapAxes(ng.nd.zeros([2, 3]), 0, 1).shape // [3, 2] */
export function swapAxes(x: NDArray, a: number, b: number): NDArray {
  checkArray(x, "swapAxes", "x");
  const i = normalizeAxis(a, x.ndim, "swapAxes: a");
  const j = normalizeAxis(b, x.ndim, "swapAxes: b");
  const perm = Array.from({ length: x.ndim }, (_, k) => k);
  perm[i] = j;
  perm[j] = i;
  return transposeImpl(x, perm, "swapAxes");
}

/**
 * Moves axes `source` to positions `destination`, the others keep their order (NumPy
 * moveaxis; O(1) view).
 * @example ng.nd.moveAxis(ng.nd.zeros([2, 3, 4]), 0, -1).shape // [3, 4, 2]
 */
export function moveAxis(
  x: NDArray,
  source: number | readonly number[],
  destination: number | readonly number[],
): NDArray {
  checkArray(x, "moveAxis", "x");
  const src = axisList(source, x.ndim, "moveAxis", "source");
  const dst = axisList(destination, x.ndim, "moveAxis", "destination");
  if (src.length !== dst.length) {
    throw new RangeError(
      `moveAxis: source and destination must have the same number of axes, got ` +
        `${formatValue(source)} and ${formatValue(destination)}`,
    );
  }
  const rest: number[] = [];
  for (let a = 0; a < x.ndim; a++) if (!src.includes(a)) rest.push(a);
  const order = new Array<number>(x.ndim).fill(-1);
  for (let k = 0; k < src.length; k++) order[dst[k]!] = src[k]!;
  let r = 0;
  for (let a = 0; a < x.ndim; a++) if (order[a] === -1) order[a] = rest[r++]!;
  return transposeImpl(x, order, "moveAxis");
}

/**
 * Broadcasts `x` to `shape` by NumPy rules: a stride-0 view, no copy.
 * @example ng.nd.broadcastTo(ng.nd.ones([3, 1]), [2, 3, 4]).shape // [2, 3, 4]
 */
export function broadcastTo(x: NDArray, shape: readonly number[]): NDArray {
  checkArray(x, "broadcastTo", "x");
  const target = checkShape(shape, "broadcastTo: shape");
  const strides = broadcastStrides(x.shape, x.strides, target, "broadcastTo");
  return x.view(target, strides, x.offset);
}

/**
 * Basic indexing, one entry per leading axis (missing trailing axes are taken whole): a
 * number picks one index and drops the axis; null/undefined takes the axis whole; a
 * SliceSpec `{start, stop, step}` slices like Python (negative start/stop count from the
 * end and are clamped; step may be negative, not 0). O(1) strided view.
 * @example
 * const x = ng.nd.fromNested([[1, 2, 3], [4, 5, 6]]);
 * ng.nd.slice(x, [1, { start: -1, step: -1 }]).toArray() // [6, 5, 4], x[1, ::-1] in NumPy
 */
export function slice(
  x: NDArray,
  specs: readonly (SliceSpec | number | null | undefined)[],
): NDArray {
  checkArray(x, "slice", "x");
  if (!Array.isArray(specs)) {
    throw new TypeError(`slice: specs: expected an array of slice specs, got ${describe(specs)}`);
  }
  if (specs.length > x.ndim) {
    throw new RangeError(
      `slice: specs: got ${specs.length} entries for an array of rank ${x.ndim} (shape ${formatShape(x.shape)})`,
    );
  }
  const shape: number[] = [];
  const strides: number[] = [];
  let offset = x.offset;
  let empty = false;
  for (let d = 0; d < x.ndim; d++) {
    const spec = d < specs.length ? specs[d] : undefined;
    const n = x.shape[d]!;
    const s = x.strides[d]!;
    if (spec === undefined || spec === null) {
      shape.push(n);
      strides.push(s);
      continue;
    }
    if (typeof spec === "number") {
      if (!Number.isInteger(spec)) {
        throw new TypeError(`slice: specs[${d}]: expected an integer index, got ${spec}`);
      }
      if (spec < -n || spec >= n) {
        throw new RangeError(
          `slice: specs[${d}]: index ${spec} is out of range for axis ${d} of size ${n}`,
        );
      }
      offset += (spec < 0 ? spec + n : spec) * s;
      continue;
    }
    if (typeof spec !== "object" || Array.isArray(spec)) {
      throw new TypeError(
        `slice: specs[${d}]: expected a number, null or {start, stop, step}, got ${describe(spec)}`,
      );
    }
    const field = (name: "start" | "stop" | "step"): number | undefined => {
      const v = spec[name];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== "number" || !Number.isInteger(v)) {
        throw new TypeError(`slice: specs[${d}].${name}: expected an integer, got ${describe(v)}`);
      }
      return v;
    };
    const step = field("step") ?? 1;
    if (step === 0) throw new RangeError(`slice: specs[${d}].step: step must not be 0`);
    let start = field("start");
    let stop = field("stop");
    let len: number;
    if (step > 0) {
      start = start === undefined ? 0 : start < 0 ? Math.max(start + n, 0) : Math.min(start, n);
      stop = stop === undefined ? n : stop < 0 ? Math.max(stop + n, 0) : Math.min(stop, n);
      len = stop > start ? Math.ceil((stop - start) / step) : 0;
    } else {
      start =
        start === undefined ? n - 1 : start < 0 ? Math.max(start + n, -1) : Math.min(start, n - 1);
      stop = stop === undefined ? -1 : stop < 0 ? Math.max(stop + n, -1) : Math.min(stop, n - 1);
      len = start > stop ? Math.ceil((start - stop) / -step) : 0;
    }
    if (len > 0) offset += start * s;
    else empty = true;
    shape.push(len);
    strides.push(s * step);
  }
  return x.view(shape, strides, empty ? x.offset : offset);
}

/**
 * Reverses the order of elements along `axes` (undefined = all axes): a negative-stride view.
 * @example ng.nd.flip(ng.nd.arange(3)).toArray() // [2, 1, 0]
 */
export function flip(x: NDArray, axes?: number | readonly number[]): NDArray {
  checkArray(x, "flip", "x");
  const ax = normalizeAxes(axes, x.ndim, "flip: axes");
  const strides = x.strides.slice();
  let offset = x.offset;
  if (x.size > 0) {
    for (const a of ax) {
      offset += (x.shape[a]! - 1) * strides[a]!;
      strides[a] = -strides[a]!;
    }
  }
  return x.view(x.shape, strides, offset);
}

/**
 * Removes axes of size 1: the listed `axes` (each must have size 1) or all of them.
 * @example ng.nd.squeeze(ng.nd.zeros([2, 1, 3, 1]), 1).shape // [2, 3, 1]
 */
export function squeeze(x: NDArray, axes?: number | readonly number[]): NDArray {
  checkArray(x, "squeeze", "x");
  let drop: number[];
  if (axes === undefined || axes === null) {
    drop = [];
    for (let a = 0; a < x.ndim; a++) if (x.shape[a] === 1) drop.push(a);
  } else {
    drop = normalizeAxes(axes, x.ndim, "squeeze: axes");
    for (const a of drop) {
      if (x.shape[a] !== 1) {
        throw new RangeError(
          `squeeze: axes: cannot squeeze axis ${a} of size ${x.shape[a]} (shape ${formatShape(x.shape)}); expected size 1`,
        );
      }
    }
  }
  const shape: number[] = [];
  const strides: number[] = [];
  for (let a = 0; a < x.ndim; a++) {
    if (!drop.includes(a)) {
      shape.push(x.shape[a]!);
      strides.push(x.strides[a]!);
    }
  }
  return x.view(shape, strides, x.offset);
}

/**
 * Inserts axes of size 1 at `axis` (positions in the result; negative counts from its end).
 * @example ng.nd.expandDims(ng.nd.zeros([2, 3]), -1).shape // [2, 3, 1]
 */
export function expandDims(x: NDArray, axis: number | readonly number[]): NDArray {
  checkArray(x, "expandDims", "x");
  const count = typeof axis === "number" ? 1 : Array.isArray(axis) ? axis.length : 0;
  const outNdim = x.ndim + count;
  const ins = axisList(axis, outNdim, "expandDims", "axis");
  const shape: number[] = [];
  const strides: number[] = [];
  let k = 0;
  for (let a = 0; a < outNdim; a++) {
    if (ins.includes(a)) {
      shape.push(1);
      // the stride of a size-1 axis is never used; choose the natural one
      strides.push(k < x.ndim ? x.strides[k]! * x.shape[k]! : 1);
    } else {
      shape.push(x.shape[k]!);
      strides.push(x.strides[k]!);
      k++;
    }
  }
  return x.view(shape, strides, x.offset);
}

// ---------------------------------------------------------------------------------------
// copying kernels

/**
 * Joins arrays along an existing `axis`; all other dimensions must match. The dtype is the
 * promotion of all input dtypes.
 * @example ng.nd.concatenate([ng.nd.zeros([2, 3]), ng.nd.ones([1, 3])]).shape // [3, 3]
 */
export function concatenate(xs: readonly NDArray[], axis = 0): NDArray {
  return concatImpl(xs, axis, "concatenate");
}

function concatImpl(xs: readonly NDArray[], axis: number, op: string): NDArray {
  if (!Array.isArray(xs)) {
    throw new TypeError(`${op}: xs: expected an array of NDArrays, got ${describe(xs)}`);
  }
  if (xs.length === 0) throw new RangeError(`${op}: xs: expected at least one array, got none`);
  xs.forEach((x, i) => checkArray(x, op, `xs[${i}]`));
  const first = xs[0]!;
  if (first.ndim === 0) {
    throw new RangeError(`${op}: xs[0]: cannot concatenate rank-0 arrays (use stack)`);
  }
  const ax = normalizeAxis(axis, first.ndim, `${op}: axis`);
  let dtype = first.dtype;
  let total = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    let ok = x.ndim === first.ndim;
    for (let d = 0; ok && d < x.ndim; d++)
      if (d !== ax && x.shape[d] !== first.shape[d]) ok = false;
    if (!ok) {
      throw new RangeError(
        `${op}: xs[${i}] has shape ${formatShape(x.shape)} but xs[0] has shape ${formatShape(first.shape)}; ` +
          `expected the same rank and the same dimensions except along axis ${ax}`,
      );
    }
    dtype = promoteTypes(dtype, x.dtype);
    total += x.shape[ax]!;
  }
  const outShape = first.shape.slice();
  outShape[ax] = total;
  const out = allocateUninit(dtype, sizeOf(outShape));
  const outer = product(outShape, 0, ax);
  const inner = product(outShape, ax + 1, outShape.length);
  const outRow = total * inner;
  let start = 0;
  for (const x of xs) {
    const chunk = x.shape[ax]! * inner;
    if (chunk === 0 || outer === 0) continue;
    const src = x.flat();
    if (chunk >= BLOCK_MIN) {
      for (let o = 0, s = 0, p = start; o < outer; o++, s += chunk, p += outRow) {
        out.set(src.subarray(s, s + chunk), p);
      }
    } else {
      for (let o = 0, s = 0, p = start; o < outer; o++, p += outRow) {
        for (let j = 0; j < chunk; j++) out[p + j] = src[s++]!;
      }
    }
    start += chunk;
  }
  return new NDArray(out, outShape);
}

/**
 * Joins arrays of one shape along a new `axis` (position in the result).
 * @example ng.nd.stack([ng.nd.zeros([3]), ng.nd.ones([3])], 1).shape // [3, 2]
 */
export function stack(xs: readonly NDArray[], axis = 0): NDArray {
  if (!Array.isArray(xs)) {
    throw new TypeError(`stack: xs: expected an array of NDArrays, got ${describe(xs)}`);
  }
  if (xs.length === 0) throw new RangeError(`stack: xs: expected at least one array, got none`);
  xs.forEach((x, i) => checkArray(x, "stack", `xs[${i}]`));
  const first = xs[0]!;
  for (let i = 1; i < xs.length; i++) {
    if (!shapesEqual(xs[i]!.shape, first.shape)) {
      throw new RangeError(
        `stack: xs[${i}] has shape ${formatShape(xs[i]!.shape)} but xs[0] has shape ` +
          `${formatShape(first.shape)}; expected all shapes equal`,
      );
    }
  }
  const ax = normalizeAxis(axis, first.ndim + 1, "stack: axis");
  return concatImpl(
    xs.map((x) => expandDims(x, ax)),
    ax,
    "stack",
  );
}

/**
 * Constant padding: widths[d] = [before, after] elements of `value` around axis d (a single
 * number pads every side of every axis by that much).
 * @example ng.nd.pad(ng.nd.ones([2]), [[1, 2]]).toArray() // [0, 1, 1, 0, 0]
 */
export function pad(
  x: NDArray,
  widths: readonly (readonly [number, number])[] | number,
  value: number | boolean = 0,
): NDArray {
  checkArray(x, "pad", "x");
  const n = x.ndim;
  let w: [number, number][];
  if (typeof widths === "number") {
    const v = checkInt(widths, "pad", "widths", 0);
    w = Array.from({ length: n }, () => [v, v]);
  } else {
    if (!Array.isArray(widths)) {
      throw new TypeError(
        `pad: widths: expected a number or an array of [before, after] pairs, got ${describe(widths)}`,
      );
    }
    if (widths.length !== n) {
      throw new RangeError(
        `pad: widths: expected ${n} [before, after] pairs for shape ${formatShape(x.shape)}, got ${widths.length}`,
      );
    }
    w = widths.map((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(
          `pad: widths[${i}]: expected a [before, after] pair, got ${describe(pair)}`,
        );
      }
      return [
        checkInt(pair[0], "pad", `widths[${i}][0]`, 0),
        checkInt(pair[1], "pad", `widths[${i}][1]`, 0),
      ];
    });
  }
  const fill = storedValue(value, x.dtype, "pad", "value");
  const outShape = x.shape.map((d, i) => d + w[i]![0] + w[i]![1]);
  const out = allocate(x.dtype, sizeOf(outShape));
  if (fill !== 0) out.fill(fill);
  if (x.size === 0) return new NDArray(out, outShape);
  if (n === 0) {
    out[0] = x.data[x.offset]!;
    return new NDArray(out, outShape);
  }
  const src = x.flat();
  const os = contiguousStrides(outShape);
  let base = 0;
  for (let d = 0; d < n; d++) base += w[d]![0] * os[d]!;
  const inner = x.shape[n - 1]!;
  const rows = x.size / inner;
  const idx = new Array<number>(n).fill(0);
  const shape = x.shape;
  for (let r = 0, s = 0; r < rows; r++, s += inner) {
    if (inner >= BLOCK_MIN) out.set(src.subarray(s, s + inner), base);
    else for (let j = 0; j < inner; j++) out[base + j] = src[s + j]!;
    base = advance(idx, shape, os, n - 2, base);
  }
  return new NDArray(out, outShape);
}

/**
 * Gathers along `axis` like numpy.take: out[..., j..., ...] = x[..., indices[j...], ...],
 * out.shape = x.shape[:axis] + indices.shape + x.shape[axis+1:]. `axis` undefined gathers
 * from the flattened array. Indices are int32; negative ones count from the end.
 * @example ng.nd.take(ng.nd.arange(5), ng.nd.fromNested([4, -1, 0], "int32")).toArray() // [4, 4, 0]
 */
export function take(x: NDArray, indices: NDArray, axis?: number): NDArray {
  checkArray(x, "take", "x");
  const idx = checkIndexArray(indices, "take");
  if (axis === undefined || axis === null) {
    return takeImpl(reshape(x, [x.size]), idx, 0, undefined);
  }
  const ax = normalizeAxis(axis, x.ndim, "take: axis");
  return takeImpl(x, idx, ax, ax);
}

function takeImpl(
  x: NDArray,
  indices: NDArray,
  ax: number,
  shownAxis: number | undefined,
): NDArray {
  const n = x.shape[ax]!;
  const idx = indices.flat();
  checkIndices(idx, n, "take", shownAxis);
  const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  const out = allocateUninit(x.dtype, sizeOf(outShape));
  const outer = product(x.shape, 0, ax);
  const inner = product(x.shape, ax + 1, x.ndim);
  const m = idx.length;
  if (out.length === 0) return new NDArray(out, outShape);
  const src = x.flat();
  let p = 0;
  if (inner === 1) {
    for (let o = 0, b = 0; o < outer; o++, b += n) {
      for (let j = 0; j < m; j++) {
        const k = idx[j]!;
        out[p++] = src[b + (k < 0 ? k + n : k)]!;
      }
    }
  } else {
    const row = n * inner;
    for (let o = 0, b = 0; o < outer; o++, b += row) {
      for (let j = 0; j < m; j++, p += inner) {
        const k = idx[j]!;
        const s = b + (k < 0 ? k + n : k) * inner;
        if (inner >= BLOCK_MIN) out.set(src.subarray(s, s + inner), p);
        else for (let i = 0; i < inner; i++) out[p + i] = src[s + i]!;
      }
    }
  }
  return new NDArray(out, outShape);
}

/**
 * Adjoint of `take`: an array of `inputShape` (dtype of `updates`, zero elsewhere) with
 * out[..., indices[j], ...] += updates[..., j, ...]; duplicate indices accumulate.
 * `axis` undefined is the adjoint of the flattened `take`.
 * @example ng.nd.takeTranspose(ng.nd.ones([3]), ng.nd.fromNested([0, 2, 0], "int32"), 0, [3]).toArray() // [2, 0, 1]
 */
export function takeTranspose(
  updates: NDArray,
  indices: NDArray,
  axis: number | undefined,
  inputShape: readonly number[],
): NDArray {
  checkArray(updates, "takeTranspose", "updates");
  const idx = checkIndexArray(indices, "takeTranspose");
  const inShape = checkShape(inputShape, "takeTranspose: inputShape");
  if (updates.dtype === "bool") {
    throw new TypeError(`takeTranspose: updates: expected a numeric dtype, got bool`);
  }
  if (axis === undefined || axis === null) {
    const flatOut = takeTranspose(updates, idx, 0, [sizeOf(inShape)]);
    return reshape(flatOut, inShape);
  }
  const ax = normalizeAxis(axis, inShape.length, "takeTranspose: axis");
  const expected = [...inShape.slice(0, ax), ...idx.shape, ...inShape.slice(ax + 1)];
  if (!shapesEqual(updates.shape, expected)) {
    throw new RangeError(
      `takeTranspose: updates: expected shape ${formatShape(expected)} (inputShape ` +
        `${formatShape(inShape)} with indices of shape ${formatShape(idx.shape)} at axis ${ax}), ` +
        `got ${formatShape(updates.shape)}`,
    );
  }
  const n = inShape[ax]!;
  const ix = idx.flat();
  checkIndices(ix, n, "takeTranspose", ax);
  const out = allocate(updates.dtype, sizeOf(inShape));
  if (updates.size === 0) return new NDArray(out, inShape);
  const u = updates.flat();
  const outer = product(inShape, 0, ax);
  const inner = product(inShape, ax + 1, inShape.length);
  const m = ix.length;
  const row = n * inner;
  let p = 0;
  for (let o = 0, b = 0; o < outer; o++, b += row) {
    for (let j = 0; j < m; j++) {
      const k = ix[j]!;
      const t = b + (k < 0 ? k + n : k) * inner;
      for (let i = 0; i < inner; i++) out[t + i] += u[p++]!;
    }
  }
  return new NDArray(out, inShape);
}

/** The output shape of takeAlongAxis and the validated axis. */
function alongAxisShape(
  xShape: readonly number[],
  idx: NDArray,
  axis: number,
  op: string,
  xName: string,
): [number[], number] {
  if (idx.ndim !== xShape.length) {
    throw new RangeError(
      `${op}: indices: expected rank ${xShape.length} like ${xName} (shape ${formatShape(xShape)}), ` +
        `got shape ${formatShape(idx.shape)}`,
    );
  }
  const ax = normalizeAxis(axis, xShape.length, `${op}: axis`);
  const a = xShape.slice();
  const b = idx.shape.slice();
  a[ax] = 1;
  b[ax] = 1;
  let outShape: number[];
  try {
    outShape = broadcastShapes(a, b, op);
  } catch {
    throw new RangeError(
      `${op}: ${xName} of shape ${formatShape(xShape)} and indices of shape ${formatShape(idx.shape)} ` +
        `do not broadcast outside axis ${ax}`,
    );
  }
  outShape[ax] = idx.shape[ax]!;
  return [outShape, ax];
}

/**
 * numpy.take_along_axis: out[i.., j, k..] = x[i.., indices[i.., j, k..], k..], where the
 * non-axis dimensions of `x` and `indices` broadcast. Indices are int32 (negative wrap).
 * @example
 * const logits = ng.nd.fromNested([[1, 2, 3], [4, 5, 6]]);
 * ng.nd.takeAlongAxis(logits, ng.nd.fromNested([[2], [0]], "int32"), 1).toArray() // [[3], [4]]
 */
export function takeAlongAxis(x: NDArray, indices: NDArray, axis: number): NDArray {
  checkArray(x, "takeAlongAxis", "x");
  const idx = checkIndexArray(indices, "takeAlongAxis");
  const [outShape, ax] = alongAxisShape(x.shape, idx, axis, "takeAlongAxis", "x");
  const n = x.shape[ax]!;
  const out = allocateUninit(x.dtype, sizeOf(outShape));
  checkIndices(idx.flat(), n, "takeAlongAxis", ax);
  if (out.length === 0) return new NDArray(out, outShape);
  const nd = outShape.length;
  // strides of x (axis excluded: reached through the index) and of indices, broadcast
  const xs = outShape.map((d, i) => (i === ax || x.shape[i] !== d ? 0 : x.strides[i]!));
  const is = outShape.map((d, i) => (idx.shape[i] !== d ? 0 : idx.strides[i]!));
  const axStride = x.strides[ax]!;
  const xd = x.data;
  const id = idx.data;
  const inner = outShape[nd - 1]!;
  const xsIn = xs[nd - 1]!;
  const isIn = is[nd - 1]!;
  const rows = out.length / inner;
  const pos = new Array<number>(nd).fill(0);
  let xb = x.offset;
  let ib = idx.offset;
  let o = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0, xp = xb, ip = ib; j < inner; j++, xp += xsIn, ip += isIn) {
      const k = id[ip]!;
      out[o++] = xd[xp + (k < 0 ? k + n : k) * axStride]!;
    }
    for (let d = nd - 2; d >= 0; d--) {
      pos[d]!++;
      xb += xs[d]!;
      ib += is[d]!;
      if (pos[d]! < outShape[d]!) break;
      xb -= xs[d]! * outShape[d]!;
      ib -= is[d]! * outShape[d]!;
      pos[d] = 0;
    }
  }
  return new NDArray(out, outShape);
}

/**
 * Adjoint of `takeAlongAxis`: an array of `inputShape` (zero elsewhere) with
 * out[i.., indices[i.., j, k..], k..] += updates[i.., j, k..]; duplicates and broadcast
 * dimensions of the input accumulate.
 * @example
 * const idx = ng.nd.fromNested([[0], [0]], "int32");
 * ng.nd.takeAlongAxisTranspose(ng.nd.ones([2, 1]), idx, 1, [2, 3]).toArray() // [[1, 0, 0], [1, 0, 0]]
 */
export function takeAlongAxisTranspose(
  updates: NDArray,
  indices: NDArray,
  axis: number,
  inputShape: readonly number[],
): NDArray {
  const op = "takeAlongAxisTranspose";
  checkArray(updates, op, "updates");
  const idx = checkIndexArray(indices, op);
  const inShape = checkShape(inputShape, `${op}: inputShape`);
  if (updates.dtype === "bool") {
    throw new TypeError(`${op}: updates: expected a numeric dtype, got bool`);
  }
  const [outShape, ax] = alongAxisShape(inShape, idx, axis, op, "inputShape");
  if (!shapesEqual(updates.shape, outShape)) {
    throw new RangeError(
      `${op}: updates: expected shape ${formatShape(outShape)}, got ${formatShape(updates.shape)}`,
    );
  }
  const n = inShape[ax]!;
  checkIndices(idx.flat(), n, op, ax);
  const out = allocate(updates.dtype, sizeOf(inShape));
  if (updates.size === 0) return new NDArray(out, inShape);
  const nd = outShape.length;
  const cs = contiguousStrides(inShape);
  const ts = outShape.map((d, i) => (i === ax || inShape[i] !== d ? 0 : cs[i]!));
  const is = outShape.map((d, i) => (idx.shape[i] !== d ? 0 : idx.strides[i]!));
  const axStride = cs[ax]!;
  const u = updates.flat();
  const id = idx.data;
  const inner = outShape[nd - 1]!;
  const tsIn = ts[nd - 1]!;
  const isIn = is[nd - 1]!;
  const rows = u.length / inner;
  const pos = new Array<number>(nd).fill(0);
  let tb = 0;
  let ib = idx.offset;
  let p = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0, tp = tb, ip = ib; j < inner; j++, tp += tsIn, ip += isIn) {
      const k = id[ip]!;
      out[tp + (k < 0 ? k + n : k) * axStride] += u[p++]!;
    }
    for (let d = nd - 2; d >= 0; d--) {
      pos[d]!++;
      tb += ts[d]!;
      ib += is[d]!;
      if (pos[d]! < outShape[d]!) break;
      tb -= ts[d]! * outShape[d]!;
      ib -= is[d]! * outShape[d]!;
      pos[d] = 0;
    }
  }
  return new NDArray(out, inShape);
}

// ---------------------------------------------------------------------------------------
// creation

/**
 * An array of `shape` filled with `value` (int32 requires an exact int32 value; bool
 * stores value !== 0).
 * @example ng.nd.full([2, 2], 7, "int32").toArray() // [[7, 7], [7, 7]]
 */
export function full(
  shape: readonly number[] | number,
  value: number | boolean,
  dtype: DType = "float32",
): NDArray {
  const s = toShape(shape, "full");
  const dt = checkDType(dtype, "full: dtype");
  const v = storedValue(value, dt, "full", "value");
  checkAllocation("full", s, dt);
  const out = allocate(dt, sizeOf(s));
  if (v !== 0) out.fill(v);
  return new NDArray(out, s);
}

/**
 * An array of `shape` filled with 0 (false for bool).
 * @example ng.nd.zeros([2, 3], "int32").shape // [2, 3]
 */
export function zeros(shape: readonly number[] | number, dtype: DType = "float32"): NDArray {
  const s = toShape(shape, "zeros");
  const dt = checkDType(dtype, "zeros: dtype");
  checkAllocation("zeros", s, dt);
  return new NDArray(allocate(dt, sizeOf(s)), s);
}

/** An array of `shape` filled with 1 (true for bool). @example ng.nd.ones(2).toArray() // [1, 1] */
export function ones(shape: readonly number[] | number, dtype: DType = "float32"): NDArray {
  const s = toShape(shape, "ones");
  const dt = checkDType(dtype, "ones: dtype");
  checkAllocation("ones", s, dt);
  return full(s, 1, dt);
}

/**
 * Evenly spaced values start, start+step, ... below `stop` (NumPy arange: one argument is
 * `stop`; length ceil((stop - start) / step)). Default dtype float32; int32 needs integer
 * start and step.
 * @example ng.nd.arange(1, 7, 2).toArray() // [1, 3, 5]
 */
export function arange(start: number, stop?: number, step = 1, dtype: DType = "float32"): NDArray {
  let a = checkFinite(start, "arange", "start");
  let b: number;
  if (stop === undefined || stop === null) {
    b = a;
    a = 0;
  } else b = checkFinite(stop, "arange", "stop");
  const st = checkFinite(step, "arange", "step");
  if (st === 0) throw new RangeError("arange: step: step must not be 0");
  const dt = checkDType(dtype, "arange: dtype");
  if (dt === "bool")
    throw new TypeError("arange: dtype: bool is not supported; expected a numeric dtype");
  const len = Math.max(0, Math.ceil((b - a) / st));
  if (dt === "int32") {
    if (!Number.isInteger(a) || !Number.isInteger(st)) {
      throw new RangeError(
        `arange: int32 needs integer start and step, got start ${a}, step ${st}`,
      );
    }
    const last = a + (len - 1) * st;
    if (len > 0 && (a < -2147483648 || a > 2147483647 || last < -2147483648 || last > 2147483647)) {
      throw new RangeError(`arange: values from ${a} to ${last} do not fit in int32`);
    }
  }
  checkAllocation("arange", [len], dt);
  const out = allocateUninit(dt, len);
  for (let i = 0; i < len; i++) out[i] = a + i * st;
  return new NDArray(out, [len]);
}

/**
 * `num` evenly spaced values from `start` to `stop`, both included (the last one is exactly
 * `stop`). dtype must be float32 or float64.
 * @example ng.nd.linspace(0, 1, 5).toArray() // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(
  start: number,
  stop: number,
  num: number,
  dtype: DType = "float32",
): NDArray {
  const a = checkFinite(start, "linspace", "start");
  const b = checkFinite(stop, "linspace", "stop");
  const n = checkInt(num, "linspace", "num", 0);
  const dt = checkDType(dtype, "linspace: dtype");
  if (!isFloat(dt)) {
    throw new TypeError(`linspace: dtype: expected float32 or float64, got ${dt}`);
  }
  checkAllocation("linspace", [n], dt);
  const out = allocateUninit(dt, n);
  if (n === 1) out[0] = a;
  else if (n > 1) {
    const step = (b - a) / (n - 1);
    for (let i = 0; i < n - 1; i++) out[i] = a + i * step;
    out[n - 1] = b;
  }
  return new NDArray(out, [n]);
}

/**
 * An n×m matrix with ones on diagonal k (k > 0 above the main diagonal, k < 0 below).
 * @example ng.nd.eye(2, 3, 1).toArray() // [[0, 1, 0], [0, 0, 1]]
 */
export function eye(n: number, m?: number, k = 0, dtype: DType = "float32"): NDArray {
  const rows = checkInt(n, "eye", "n", 0);
  const cols = m === undefined || m === null ? rows : checkInt(m, "eye", "m", 0);
  const diag = checkInt(k, "eye", "k");
  const dt = checkDType(dtype, "eye: dtype");
  checkAllocation("eye", [rows, cols], dt);
  const out = allocate(dt, rows * cols);
  for (let i = Math.max(0, -diag); i < rows && i + diag < cols; i++) out[i * cols + i + diag] = 1;
  return new NDArray(out, [rows, cols]);
}
