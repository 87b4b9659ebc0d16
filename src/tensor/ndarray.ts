/**
 * NDArray: the immutable, concrete n-d array of the tensor layer.
 * Row-major storage in a TypedArray with element strides and an offset, so reshape of a
 * contiguous array, transpose, broadcastTo, slice and flip are O(1) views. Kernels never
 * write into an NDArray they did not just allocate.
 */
import { allocate, checkDType, dtypeOfData, type DataArray, type DType } from "./dtype.js";
import {
  checkShape,
  contiguousStrides,
  formatShape,
  sizeOf,
  type Shape,
  advance,
} from "./shape.js";
import { formatNDArray } from "./format.js";

/** A nested array of numbers/booleans as accepted by `fromNested` and returned by `toArray`. */
export type NestedArray = number | boolean | NestedArray[];

export class NDArray {
  readonly data: DataArray;
  readonly shape: Shape;
  readonly dtype: DType;
  /** Element strides, one per dimension (may be 0 for broadcast, negative for flip). */
  readonly strides: readonly number[];
  /** Element offset of index [0, ..., 0] in `data`. */
  readonly offset: number;
  readonly size: number;
  /** True when element i of the row-major order sits at data[offset + i]. */
  readonly contiguous: boolean;

  constructor(data: DataArray, shape: Shape, strides?: readonly number[], offset = 0) {
    this.data = data;
    // Copies, so that the caller's arrays may change afterwards. Not frozen: V8 runs
    // slice, filter, concat and join on a frozen array through a slow path (hundreds of ns
    // on a small shape, where a plain array takes tens), and ops slice shapes all the time;
    // the readonly types keep the library from writing into them.
    const s = shape.slice();
    this.shape = s;
    this.dtype = dtypeOfData(data);
    if (strides === undefined) {
      this.strides = contiguousStrides(s);
      this.contiguous = true;
    } else {
      const st = strides.slice();
      this.strides = st;
      this.contiguous = isContiguousLayout(s, st);
    }
    this.offset = offset;
    let size = 1;
    for (let i = 0; i < s.length; i++) size *= s[i]!;
    this.size = size;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** A view sharing storage (no copy); the caller guarantees the layout stays in bounds. */
  view(shape: Shape, strides: readonly number[], offset: number): NDArray {
    return new NDArray(this.data, shape, strides, offset);
  }

  /**
   * The elements in row-major order as a TypedArray of length `size`. Contiguous arrays
   * return a subarray view of their storage: callers must not write into it.
   */
  flat(): DataArray {
    if (this.contiguous) {
      return this.offset === 0 && this.data.length === this.size
        ? this.data
        : this.data.subarray(this.offset, this.offset + this.size);
    }
    const out = allocate(this.dtype, this.size);
    copyStrided(this, out);
    return out;
  }

  /** This array with a fresh contiguous layout (itself when already contiguous from 0). */
  toContiguous(): NDArray {
    if (this.contiguous && this.offset === 0 && this.data.length === this.size) return this;
    return new NDArray(this.flat().slice(), this.shape);
  }

  /** Reads one element by multi-index (negative indices count from the end). */
  get(...index: number[]): number {
    if (index.length !== this.ndim) {
      throw new RangeError(
        `get: expected ${this.ndim} indices for shape ${formatShape(this.shape)}, got ${index.length}`,
      );
    }
    let p = this.offset;
    for (let i = 0; i < index.length; i++) {
      let k = index[i]!;
      const d = this.shape[i]!;
      if (!Number.isInteger(k) || k < -d || k >= d) {
        throw new RangeError(`get: index ${k} is out of range for axis ${i} of size ${d}`);
      }
      if (k < 0) k += d;
      p += k * this.strides[i]!;
    }
    return this.data[p]!;
  }

  /** The single element of a size-1 array as a JS number (booleans for bool). */
  item(): number | boolean {
    if (this.size !== 1) {
      throw new RangeError(
        `item: expected an array with exactly one element, got shape ${formatShape(this.shape)}`,
      );
    }
    const v = this.data[this.offset]!;
    return this.dtype === "bool" ? v !== 0 : v;
  }

  /** Nested JS arrays (numbers; booleans for bool). A scalar returns a number. */
  toArray(): NestedArray {
    const flat = this.flat();
    const isBool = this.dtype === "bool";
    const build = (dim: number, start: number): NestedArray => {
      if (dim === this.ndim) return isBool ? flat[start] !== 0 : flat[start]!;
      const n = this.shape[dim]!;
      const step = sizeOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, start + i * step);
      return out;
    };
    return build(0, 0);
  }

  toString(): string {
    return formatNDArray(this);
  }
}

function isContiguousLayout(shape: Shape, strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d === 0) return true;
    if (d !== 1 && strides[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

/**
 * Copies a strided array into `out` in row-major order (innermost loop is tight).
 * @example
 * const out = new Float32Array(6);
 * ng.nd.copyStrided(ng.nd.transpose(ng.nd.reshape(ng.nd.arange(6), [2, 3])), out);
 * Array.from(out) // [0, 3, 1, 4, 2, 5]
 */
export function copyStrided(x: NDArray, out: DataArray): void {
  const n = x.ndim;
  if (x.size === 0) return;
  if (n === 0) {
    out[0] = x.data[x.offset]!;
    return;
  }
  const src = x.data;
  const shape = x.shape;
  const strides = x.strides;
  const inner = shape[n - 1]!;
  const sInner = strides[n - 1]!;
  const idx = new Array<number>(n).fill(0);
  let base = x.offset;
  let o = 0;
  const outer = x.size / inner;
  for (let k = 0; k < outer; k++) {
    for (let j = 0, p = base; j < inner; j++, p += sInner) out[o++] = src[p]!;
    base = advance(idx, shape, strides, n - 2, base); // odometer over the outer dimensions
  }
}

/**
 * Wraps a TypedArray of row-major data; validates that its length matches `shape`.
 * @example ng.nd.fromFlat(new Float32Array([1, 2, 3, 4]), [2, 2]).toArray() // [[1, 2], [3, 4]]
 */
export function fromFlat(data: DataArray, shape: Shape): NDArray {
  const s = checkShape(shape as unknown, "shape");
  if (data.length !== sizeOf(s)) {
    throw new RangeError(
      `fromFlat: data has ${data.length} elements but shape ${formatShape(s)} needs ${sizeOf(s)}`,
    );
  }
  return new NDArray(data, s);
}

/** The highest rank a tensor built from nested JS arrays may have. */
export const MAX_RANK = 64;

/**
 * Infers the shape of a nested JS array, rejecting ragged nesting with the path of the fault.
 * @example ng.nd.inferShape([[1, 2, 3], [4, 5, 6]]) // [2, 3]
 */
export function inferShape(values: unknown, argName = "values"): number[] {
  const shape: number[] = [];
  let v: unknown = values;
  const seen = new Set<unknown>();
  while (Array.isArray(v)) {
    // A cyclic array would nest forever; anything deeper than MAX_RANK is no tensor.
    if (seen.has(v)) {
      const path = "[0]".repeat(shape.length);
      throw new RangeError(`${argName}${path}: cyclic nested array (it contains itself)`);
    }
    if (shape.length >= MAX_RANK) {
      throw new RangeError(
        `${argName}: nested arrays are more than ${MAX_RANK} levels deep, deeper than the ` +
          `maximum tensor rank ${MAX_RANK}`,
      );
    }
    seen.add(v);
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  const check = (x: unknown, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (Array.isArray(x)) {
        throw new RangeError(
          `${argName}${path}: ragged nested array: expected a scalar at depth ${dim}, got an array`,
        );
      }
      if (typeof x !== "number" && typeof x !== "boolean") {
        throw new TypeError(
          `${argName}${path}: expected a number or boolean, got ${x === null ? "null" : typeof x}`,
        );
      }
      return;
    }
    if (!Array.isArray(x)) {
      throw new RangeError(
        `${argName}${path}: ragged nested array: expected an array of length ${shape[dim]} at depth ${dim}, got a scalar`,
      );
    }
    if (x.length !== shape[dim]) {
      throw new RangeError(
        `${argName}${path}: ragged nested array: expected length ${shape[dim]} at depth ${dim}, got ${x.length}`,
      );
    }
    for (let i = 0; i < x.length; i++) check(x[i], dim + 1, `${path}[${i}]`);
  };
  check(values, 0, "");
  return shape;
}

/**
 * Builds an NDArray from nested JS arrays, a number/boolean, or a TypedArray (flat, 1-D).
 * The dtype defaults to float32 (bool when every leaf is a boolean).
 * @example ng.nd.fromNested([[1, 2], [3, 4]], "int32").shape // [2, 2]
 */
export function fromNested(values: unknown, dtype?: DType, argName = "values"): NDArray {
  if (typeof values === "number" || typeof values === "boolean") {
    // A scalar (every JS number an op meets): no nesting to infer or check.
    const dt =
      dtype === undefined
        ? typeof values === "boolean"
          ? "bool"
          : "float32"
        : checkDType(dtype, "dtype");
    const out = allocate(dt, 1);
    out[0] = toStored(values, dt, argName, 0);
    return new NDArray(out, []);
  }
  if (ArrayBuffer.isView(values) && !(values instanceof DataView)) {
    const src = values as unknown as ArrayLike<number>;
    const dt = dtype === undefined ? dtypeOfKnown(values) : checkDType(dtype, "dtype");
    const out = allocate(dt, src.length);
    for (let i = 0; i < src.length; i++) out[i] = toStored(src[i]!, dt, argName, i);
    return new NDArray(out, [src.length]);
  }
  const shape = inferShape(values, argName);
  const leaves: (number | boolean)[] = [];
  const collect = (x: unknown): void => {
    if (Array.isArray(x)) for (const y of x) collect(y);
    else leaves.push(x as number | boolean);
  };
  collect(values);
  const dt =
    dtype === undefined
      ? leaves.length > 0 && leaves.every((l) => typeof l === "boolean")
        ? "bool"
        : "float32"
      : checkDType(dtype, "dtype");
  const out = allocate(dt, leaves.length);
  for (let i = 0; i < leaves.length; i++) out[i] = toStored(leaves[i]!, dt, argName, i);
  return new NDArray(out, shape);
}

function dtypeOfKnown(values: ArrayBufferView): DType {
  if (values instanceof Float64Array) return "float64";
  if (values instanceof Int32Array) return "int32";
  if (values instanceof Uint8Array) return "bool";
  return "float32";
}

/** Converts one JS value to its stored form in `dtype`, rejecting what int32 cannot hold. */
function toStored(v: number | boolean, dtype: DType, argName: string, i: number): number {
  const x = typeof v === "boolean" ? (v ? 1 : 0) : v;
  if (dtype === "int32") {
    if (!Number.isFinite(x) || !Number.isInteger(x) || x < -2147483648 || x > 2147483647) {
      throw new RangeError(
        `${argName}: expected integers in the int32 range, element ${i} is ${x}`,
      );
    }
  } else if (dtype === "bool") {
    return x !== 0 ? 1 : 0;
  }
  return x;
}
