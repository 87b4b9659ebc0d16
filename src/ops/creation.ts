/**
 * Creation functions: concrete tensors built by the tensor/ kernels and
 * wrapped with `fromNDArray`. The default dtype is float32; every function takes an
 * optional trailing `{ dtype }`. The *Like functions read only the shape and dtype of
 * their argument, so they also work on tracers (the result is a constant).
 */
import type { Tensor } from "../core/tensor.js";
import { checkDType, type DType } from "../tensor/dtype.js";
import * as K from "../tensor/index.js";
import { describeValue, fromNDArray, toTensor, type TensorLike } from "../primitives/convert.js";
import { checkOptions, optionKeys } from "../util/options.js";

/** Options of the creation functions. */
export interface CreationOptions {
  dtype?: DType;
}

/** The keys of CreationOptions (checked against the interface by the compiler). */
export const CREATION_OPTION_KEYS = optionKeys<CreationOptions>()(["dtype"]);

/** The dtype option (default float32, or `fallback`), validated; unknown keys are errors. */
function dtypeOf(
  options: unknown,
  name: string,
  fallback: DType = "float32",
  keys: readonly string[] = CREATION_OPTION_KEYS,
): DType {
  if (options === undefined || options === null) return fallback;
  const d = checkOptions(name, options as CreationOptions, keys).dtype;
  return d === undefined ? fallback : checkDType(d, `${name}: options.dtype`);
}

type Shape = number | readonly number[];

/**
 * A tensor of `shape` filled with zeros.
 * @example ng.zeros([2, 3], { dtype: "float64" }).shape // [2, 3]
 */
export function zeros(shape: Shape, options?: CreationOptions): Tensor {
  return fromNDArray(K.zeros(shape, dtypeOf(options, "zeros")));
}

/**
 * A tensor of `shape` filled with ones.
 * @example ng.ones(3).toArray() // [1, 1, 1]
 */
export function ones(shape: Shape, options?: CreationOptions): Tensor {
  return fromNDArray(K.ones(shape, dtypeOf(options, "ones")));
}

/**
 * A tensor of `shape` filled with `value`.
 * @example ng.full([2], 7).toArray() // [7, 7]
 */
export function full(shape: Shape, value: number | boolean, options?: CreationOptions): Tensor {
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new TypeError(`full: value: expected a number, got ${describeValue(value)}`);
  }
  return fromNDArray(K.full(shape, value, dtypeOf(options, "full")));
}

/**
 * Evenly spaced values in [start, stop) with `step` (NumPy arange; a single argument is
 * `stop`). The options object may come after any of the numbers.
 * @example ng.arange(5).toArray() // [0, 1, 2, 3, 4]
 * @example ng.arange(1, 7, 2, { dtype: "int32" }).toArray() // [1, 3, 5]
 */
export function arange(stop: number, options?: CreationOptions): Tensor;
export function arange(start: number, stop: number, options?: CreationOptions): Tensor;
export function arange(
  start: number,
  stop: number,
  step: number,
  options?: CreationOptions,
): Tensor;
export function arange(...args: (number | CreationOptions | undefined)[]): Tensor {
  const last = args[args.length - 1];
  const options = typeof last === "object" || last === undefined ? args.pop() : undefined;
  args.forEach((a, i) => {
    if (typeof a !== "number") {
      throw new TypeError(`arange: argument ${i}: expected a number, got ${describeValue(a)}`);
    }
  });
  const [a, b, step] = args as number[];
  if (a === undefined) throw new TypeError("arange: expected at least one number (stop)");
  return fromNDArray(K.arange(a, b, step ?? 1, dtypeOf(options, "arange")));
}

/**
 * `num` evenly spaced values from `start` to `stop`, both included (float dtypes only).
 * @example ng.linspace(0, 1, 5).toArray() // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(
  start: number,
  stop: number,
  num: number,
  options?: CreationOptions,
): Tensor {
  return fromNDArray(K.linspace(start, stop, num, dtypeOf(options, "linspace")));
}

/** Options of `eye`: dtype and the diagonal `k` (k > 0 above the main diagonal). */
export interface EyeOptions extends CreationOptions {
  k?: number;
}

/** The keys of EyeOptions (checked against the interface by the compiler). */
export const EYE_OPTION_KEYS = optionKeys<EyeOptions>()(["dtype", "k"]);

/**
 * The n×m identity (m defaults to n), or ones on diagonal `options.k`.
 * @example ng.eye(2).toArray() // [[1, 0], [0, 1]]
 */
export function eye(n: number, m?: number | null, options?: EyeOptions): Tensor {
  const dtype = dtypeOf(options, "eye", "float32", EYE_OPTION_KEYS);
  return fromNDArray(K.eye(n, m ?? undefined, options?.k ?? 0, dtype));
}

/**
 * Zeros of x's shape and dtype (or `options.dtype`). Reads no values, so it works on tracers.
 * @example ng.zerosLike(ng.array([1, 2])).toArray() // [0, 0]
 */
export function zerosLike(x: TensorLike, options?: CreationOptions): Tensor {
  const t = toTensor(x, "zerosLike: x");
  return fromNDArray(K.zeros(t.shape, dtypeOf(options, "zerosLike", t.dtype)));
}

/**
 * Ones of x's shape and dtype (or `options.dtype`).
 * @example ng.onesLike(ng.array([[1, 2]])).toArray() // [[1, 1]]
 */
export function onesLike(x: TensorLike, options?: CreationOptions): Tensor {
  const t = toTensor(x, "onesLike: x");
  return fromNDArray(K.ones(t.shape, dtypeOf(options, "onesLike", t.dtype)));
}

/**
 * `value` in x's shape and dtype (or `options.dtype`).
 * @example ng.fullLike(ng.array([1, 2]), 5).toArray() // [5, 5]
 */
export function fullLike(
  x: TensorLike,
  value: number | boolean,
  options?: CreationOptions,
): Tensor {
  const t = toTensor(x, "fullLike: x");
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new TypeError(`fullLike: value: expected a number, got ${describeValue(value)}`);
  }
  return fromNDArray(K.full(t.shape, value, dtypeOf(options, "fullLike", t.dtype)));
}
