/**
 * Data types of the tensor layer (DESIGN.md §1, tensor/): the four dtypes, their
 * TypedArray storage, type promotion and validation of dtype arguments.
 */

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

/** Allocates zeroed storage for `size` elements of `dtype`. */
export function allocate(dtype: DType, size: number): DataArray {
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
}

/** The dtype whose storage class `data` is. */
export function dtypeOfData(data: DataArray): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  return "bool";
}

/** Validates a user-supplied dtype, naming the argument on failure. */
export function checkDType(dtype: unknown, argName = "dtype"): DType {
  if (typeof dtype === "string" && (DTYPES as readonly string[]).includes(dtype)) {
    return dtype as DType;
  }
  throw new TypeError(
    `${argName}: unknown dtype ${JSON.stringify(dtype)}; expected one of ${DTYPES.join(", ")}`,
  );
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === "float32" || dtype === "float64";
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** Promotion lattice bool < int32 < float32 < float64 (NumPy-like, without int64). */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The float dtype a computation on `dtype` produces (int32/bool compute in float32). */
export function toFloat(dtype: DType): FloatDType {
  return dtype === "float64" ? "float64" : "float32";
}
