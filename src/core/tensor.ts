/**
 * Tensor and Tracer. A Tensor is what user code holds: either a concrete
 * immutable array (ConcreteTensor, wrapping a tensor/ NDArray) or a Tracer that stands in
 * for a value while a transform runs. Both have the same methods (installed by ops/), so
 * user code never knows which it has.
 */
import type { DType } from "../tensor/dtype.js";
import type { NDArray, NestedArray } from "../tensor/ndarray.js";
import type { Shape } from "../tensor/shape.js";
import { ShapedArray } from "./aval.js";
import { onDerivativeRead } from "./debug.js";
import type { Trace } from "./trace.js";

export abstract class Tensor {
  abstract get aval(): ShapedArray;
  get shape(): Shape {
    return this.aval.shape;
  }
  get dtype(): DType {
    return this.aval.dtype;
  }
  get ndim(): number {
    return this.aval.shape.length;
  }
  get size(): number {
    return this.aval.size;
  }
  /**
   * The concrete value behind this tensor. Eager transforms (grad, jvp, ...) can read it;
   * staging (makeIR, jit, nested switching) cannot and throws a `ConcretizationError`.
   */
  abstract concrete(reason: string): NDArray;
  /**
   * True when a derivative transform tracks this value (a tracer with a non-zero tangent),
   * so that reading it as a number would cut the derivative. Plain tensors: false.
   */
  carriesDerivative(): boolean {
    return false;
  }
  /**
   * The concrete value for a user-facing read (`method`). Under grad/jvp/vjp a read of a
   * value that carries a derivative obeys `config.eagerReads`: by default it works and
   * warns once per call site, since the transform sees the number read as a constant.
   */
  private read(method: string): NDArray {
    const v = this.concrete(method);
    if (this.carriesDerivative()) {
      onDerivativeRead(method, `a ${this.aval.toString()} tensor`);
    }
    return v;
  }
  /**
   * Nested JS arrays of the values. Inside grad/jvp/vjp the values are constants to the
   * transform (see `config.eagerReads`); read `ng.stopGradient(x)` to say so.
   * @example ng.array([[1, 2]]).toArray() // [[1, 2]]
   */
  toArray(): NestedArray {
    return this.read("toArray()").toArray();
  }
  /**
   * The single element as a JS number (1/0 for bool). Inside grad/jvp/vjp the number is a
   * constant to the transform: branching on it works, but warns (see `config.eagerReads`).
   * @example ng.array(2.5).item() // 2.5
   */
  item(): number {
    const v = this.read("item()").item();
    return typeof v === "boolean" ? (v ? 1 : 0) : v;
  }
  /**
   * The elements in row-major order as a TypedArray copy (same rules as `toArray`).
   * @example ng.array([1, 2]).dataSync() // Float32Array [1, 2]
   */
  dataSync(): Float32Array | Float64Array | Int32Array | Uint8Array {
    return this.read("dataSync()").flat().slice();
  }
  /**
   * Numeric coercion (`Number(x)`, `+x`, `x > 0` in JavaScript) reads a one-element tensor
   * like `item()`, under the same `config.eagerReads` rule; a larger tensor is an error
   * rather than a silent NaN. String coercion prints the tensor.
   * @example Number(ng.array(3)) // 3
   */
  [Symbol.toPrimitive](hint: string): number | string {
    if (hint !== "number") return this.toString();
    if (this.aval.size !== 1) {
      throw new TypeError(
        `Number(x): numeric coercion needs a tensor with exactly one element, got shape ` +
          `[${this.aval.shape.join(", ")}]; use nestgrad ops (ng.mul, ng.greater, ...) on ` +
          `tensors, or read the values with x.toArray()`,
      );
    }
    const v = this.read("Number(x)").item();
    return typeof v === "boolean" ? (v ? 1 : 0) : v;
  }
}

/** A concrete value: an immutable NDArray. */
export class ConcreteTensor extends Tensor {
  readonly value: NDArray;
  private _aval: ShapedArray | undefined;
  constructor(value: NDArray) {
    super();
    this.value = value;
  }
  get aval(): ShapedArray {
    return (this._aval ??= new ShapedArray(this.value.shape, this.value.dtype));
  }
  // Read from the array itself, so that eager ops need not make a ShapedArray (the aval,
  // when it is made, holds a copy of the same shape).
  override get shape(): Shape {
    return this.value.shape;
  }
  override get dtype(): DType {
    return this.value.dtype;
  }
  override get ndim(): number {
    return this.value.shape.length;
  }
  override get size(): number {
    return this.value.size;
  }
  concrete(): NDArray {
    return this.value;
  }
  override toString(): string {
    return this.value.toString();
  }
}

/** A value being traced by `trace`; the trace's identity is the perturbation tag. */
export abstract class Tracer extends Tensor {
  abstract readonly trace: Trace;
  override toString(): string {
    return `Tracer<${this.aval.toString()}> of ${this.trace.toString()}`;
  }
}

/** Raised when staged code reads a value that only exists at run time. */
export class ConcretizationError extends Error {
  constructor(what: string, aval: ShapedArray, trace: string) {
    super(
      `${what} needs a concrete value, but this tensor (${aval.toString()}) is abstract while ${trace} stages ` +
        `the function to IR. Staged code cannot read values or branch on them. Use ng.where(cond, a, b) for ` +
        `value-dependent choices, pass the value as a static (non-tensor) argument, or call the function ` +
        `outside makeIR/jit.`,
    );
    this.name = "ConcretizationError";
  }
}
