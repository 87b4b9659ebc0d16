/**
 * Data types of the tensor layer (tensor/): the four dtypes, their
 * TypedArray storage, type promotion and validation of dtype arguments.
 */
import { hookMin, takeFromHook } from "./alloc_hook.js";

export const DTYPES = ["float32", "float64", "int32", "bool"] as const;
export type DType = (typeof DTYPES)[number];
export type FloatDType = "float32" | "float64";

/** Storage of each dtype: bool is one byte per element (0 or 1). */
export type DataArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export type TypedArrayOf<D extends DType> = D extends "float32"
  ? Float32Array
  : D extends "float64"
    ? Float64Array
    : D extends "int32"
      ? Int32Array
      : Uint8Array;

/** Bytes per element of each dtype's storage. */
export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  float64: 8,
  int32: 4,
  bool: 1,
};

/**
 * The most elements one array may hold: 2^31 - 1, so that every flat index fits in an
 * int32 (kernels keep index tables in Int32Arrays).
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * A byte count in human units.
 * @example ng.nd.formatBytes(4e10) // "37.3 GiB"
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toPrecision(3)} ${units[u]}`;
}

/**
 * An allocation that is too large (more than MAX_ELEMENTS elements, or more memory than
 * the platform gives). A RangeError; `op` and `shape` are filled in by whoever knows them.
 * @example try { ng.zeros([1e10]); } catch (e) { e instanceof ng.AllocationError; } // true
 */
export class AllocationError extends RangeError {
  constructor(
    readonly size: number,
    readonly dtype: DType,
    readonly op?: string,
    readonly shape?: readonly number[],
    cause?: unknown,
  ) {
    const what =
      shape === undefined ? `${size} elements` : `shape [${shape.join(", ")}] (${size} elements)`;
    const bytes = formatBytes(size * BYTES_PER_ELEMENT[dtype]);
    const reason =
      size > MAX_ELEMENTS
        ? `more than the limit of ${MAX_ELEMENTS} elements per array`
        : `the platform could not allocate that much memory`;
    super(
      `${op ?? "allocate"}: cannot allocate an array of ${what} of ${dtype}, ${bytes}: ${reason}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = "AllocationError";
  }
}

/**
 * Throws an AllocationError naming `op` when an array of `shape` and `dtype` would exceed
 * MAX_ELEMENTS. Called before allocating, where the op and the shape are known.
 * @example ng.nd.checkAllocation("zeros", [1e5, 1e5], "float32"); // throws: 1e10 elements
 */
export function checkAllocation(op: string, shape: readonly number[], dtype: DType): void {
  let size = 1;
  for (const d of shape) size *= d;
  if (size > MAX_ELEMENTS) throw new AllocationError(size, dtype, op, shape);
}

/**
 * Allocates zeroed storage for `size` elements of `dtype` (AllocationError when too large).
 * @example ng.nd.allocate("int32", 3) // Int32Array [0, 0, 0]
 */
export function allocate(dtype: DType, size: number): DataArray {
  if (size >= hookMin && size <= MAX_ELEMENTS) return takeFromHook(dtype, size, true);
  return fresh(dtype, size);
}

/**
 * Storage for `size` elements of `dtype` whose contents are unspecified, for a caller that
 * writes every element before anything reads it (kernels' outputs). It is zeroed like
 * `allocate`, except while a runtime that recycles buffers (the eager backward pass) runs,
 * where it may be recycled memory that is not cleared first.
 * @example ng.nd.allocateUninit("float32", 2).length // 2
 */
export function allocateUninit(dtype: DType, size: number): DataArray {
  if (size >= hookMin && size <= MAX_ELEMENTS) return takeFromHook(dtype, size, false);
  return fresh(dtype, size);
}

function fresh(dtype: DType, size: number): DataArray {
  if (size > MAX_ELEMENTS) throw new AllocationError(size, dtype);
  try {
    switch (dtype) {
      case "float32":
        return new Float32Array(size);
      case "float64":
        return new Float64Array(size);
      case "int32":
        return new Int32Array(size);
      case "bool":
        return new Uint8Array(size);
    }
  } catch (e) {
    // V8 reports an exhausted heap as "RangeError: Array buffer allocation failed".
    if (e instanceof RangeError) throw new AllocationError(size, dtype, undefined, undefined, e);
    throw e;
  }
}

/** The dtype whose storage class `data` is. @example ng.nd.dtypeOfData(new Float64Array(2)) // "float64" */
export function dtypeOfData(data: DataArray): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  return "bool";
}

/**
 * Validates a user-supplied dtype, naming the argument on failure.
 * @example ng.nd.checkDType("float32") // "float32"
 */
export function checkDType(dtype: unknown, argName = "dtype"): DType {
  if (typeof dtype === "string" && (DTYPES as readonly string[]).includes(dtype)) {
    return dtype as DType;
  }
  throw new TypeError(
    `${argName}: unknown dtype ${JSON.stringify(dtype)}; expected one of ${DTYPES.join(", ")}`,
  );
}

/** Whether `dtype` is a float dtype. @example ng.nd.isFloat("int32") // false */
export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === "float32" || dtype === "float64";
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/**
 * Promotion lattice bool < int32 < float32 < float64 (NumPy-like, without int64).
 * @example ng.nd.promoteTypes("int32", "float32") // "float32"
 */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The dtype a JS number takes next to a tensor of dtype `like` (JAX's weak typing): the
 * tensor's dtype when it represents the number (any number for floats, an int32-range
 * integer for int32), else int32 for an integer next to bool, else the default float32.
 * So `add(int32, 2)` stays int32, `add(int32, 0.5)` and `mul(bool, 0.5)` give float32,
 * and `mul(bool, 3)` gives int32 (never a number squeezed into a bool).
 * @example ng.nd.weakDType(0.5, "int32") // "float32"
 */
export function weakDType(value: number, like: DType): DType {
  if (isFloat(like)) return like;
  const isInt32 = Number.isInteger(value) && value >= -2147483648 && value <= 2147483647;
  return isInt32 ? "int32" : "float32";
}

/**
 * The float dtype a computation on `dtype` produces (int32/bool compute in float32).
 * @example ng.nd.toFloat("int32") // "float32"
 */
export function toFloat(dtype: DType): FloatDType {
  return dtype === "float64" ? "float64" : "float32";
}
