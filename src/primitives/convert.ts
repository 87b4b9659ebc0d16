/**
 * Argument coercion shared by every user-facing op wrapper (DESIGN.md §5, §7): numbers
 * and nested arrays become tensors, anything else is rejected with the argument's name.
 */
import { ConcreteTensor, Tensor } from "../core/tensor.js";
import { checkDType, type DType } from "../tensor/dtype.js";
import { fromNested, NDArray } from "../tensor/ndarray.js";

export type TensorLike = Tensor | number | boolean;
/** Anything `array()` accepts: a tensor, a number, nested arrays, a TypedArray or an NDArray. */
export type ArrayLike =
  TensorLike | NDArray | readonly unknown[] | Float32Array | Float64Array | Int32Array | Uint8Array;

/** Wraps a concrete NDArray as a tensor. */
export function fromNDArray(x: NDArray): Tensor {
  return new ConcreteTensor(x);
}

/** A rank-0 tensor holding `v` in `dtype`. */
export function scalar(v: number | boolean, dtype: DType): Tensor {
  return new ConcreteTensor(fromNested(v, dtype));
}

/**
 * Converts an op argument to a tensor. A JS number takes `like`'s dtype when given
 * (weak typing: `x.mul(2)` keeps x's float64), else float32.
 */
export function toTensor(x: unknown, argName: string, like?: DType): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "number") return scalar(x, like ?? "float32");
  if (typeof x === "boolean") return scalar(x, "bool");
  if (x instanceof NDArray) return new ConcreteTensor(x);
  throw new TypeError(`${argName}: expected a Tensor or a number, got ${describeValue(x)}`);
}

/** Creates a concrete tensor from nested arrays / numbers / TypedArrays (see `ng.array`). */
export function array(values: unknown, options: { dtype?: DType } = {}): Tensor {
  const dtype =
    options.dtype === undefined ? undefined : checkDType(options.dtype, "options.dtype");
  if (values instanceof Tensor) {
    const v = values.concrete("array()");
    return new ConcreteTensor(dtype && dtype !== v.dtype ? fromNested(v.toArray(), dtype) : v);
  }
  if (values instanceof NDArray) return new ConcreteTensor(values);
  return new ConcreteTensor(fromNested(values, dtype, "values"));
}

export function describeValue(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array (use ng.array(...) to make a tensor)";
  if (typeof x === "object") return `an object (${(x as object).constructor?.name ?? "Object"})`;
  return `${typeof x} ${String(x)}`;
}
