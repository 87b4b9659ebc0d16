/**
 * Argument coercion shared by every user-facing op wrapper: numbers
 * and nested arrays become tensors, anything else is rejected with the argument's name.
 */
import { ConcreteTensor, Tensor } from "../core/tensor.js";
import { checkDType, weakDType, type DType } from "../tensor/dtype.js";
import { fromNested, NDArray } from "../tensor/ndarray.js";
import { checkOptions } from "../util/options.js";
import { cast } from "./cast.js";

export type TensorLike = Tensor | number | boolean;
/** Anything `array()` accepts: a tensor, a number, nested arrays, a TypedArray or an NDArray. */
export type ArrayLike =
  TensorLike | NDArray | readonly unknown[] | Float32Array | Float64Array | Int32Array | Uint8Array;

/**
 * Wraps a concrete NDArray as a tensor.
 * @example ng.fromNDArray(ng.nd.fromNested([1, 2])) // [1, 2]
 */
export function fromNDArray(x: NDArray): Tensor {
  return new ConcreteTensor(x);
}

/**
 * A rank-0 tensor holding `v` in `dtype`.
 * @example ng.scalar(3, "int32") // int32 3
 */
export function scalar(v: number | boolean, dtype: DType): Tensor {
  return new ConcreteTensor(fromNested(v, dtype, "scalar: v"));
}

/**
 * Converts an op argument to a tensor. A JS number is weakly typed when `like` (the dtype
 * of the other operand) is given: it takes that dtype when it fits (`x.mul(2)` keeps x's
 * float64, `i.add(1)` keeps int32), else int32 or float32 (see `weakDType`); alone it is
 * float32.
 */
export function toTensor(x: unknown, argName: string, like?: DType): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "number") return scalar(x, like === undefined ? "float32" : weakDType(x, like));
  if (typeof x === "boolean") return scalar(x, "bool");
  if (x instanceof NDArray) return new ConcreteTensor(x);
  throw new TypeError(`${argName}: expected a Tensor or a number, got ${describeValue(x)}`);
}

/**
 * Creates a concrete tensor from nested arrays / numbers / TypedArrays (see `ng.array`).
 * @example ng.array([[1, 2], [3, 4]], { dtype: "float64" }).shape // [2, 2]
 */
export function array(values: unknown, options: { dtype?: DType } = {}): Tensor {
  checkOptions("array", options, ["dtype"]);
  const dtype =
    options.dtype === undefined ? undefined : checkDType(options.dtype, "options.dtype");
  // A tensor (or a tracer) passes through — Tensors are immutable, and a tracer keeps its
  // derivative; a dtype change is a cast, which differentiates like any op.
  if (values instanceof Tensor)
    return dtype && dtype !== values.dtype ? cast(values, dtype) : values;
  if (values instanceof NDArray) return new ConcreteTensor(values);
  return new ConcreteTensor(fromNested(values, dtype, "array: values"));
}

export function describeValue(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array (use ng.array(...) to make a tensor)";
  if (typeof x === "object") return `an object (${(x as object).constructor?.name ?? "Object"})`;
  return `${typeof x} ${String(x)}`;
}
