/**
 * Tensor and Tracer (DESIGN.md §2). A Tensor is what user code holds: either a concrete
 * immutable array (ConcreteTensor, wrapping a tensor/ NDArray) or a Tracer that stands in
 * for a value while a transform runs. Both have the same methods (installed by ops/), so
 * user code never knows which it has.
 */
import type { DType } from "../tensor/dtype.js";
import type { NDArray, NestedArray } from "../tensor/ndarray.js";
import type { Shape } from "../tensor/shape.js";
import { ShapedArray } from "./aval.js";
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
  /** Nested JS arrays of the values. */
  toArray(): NestedArray {
    return this.concrete("toArray()").toArray();
  }
  /** The single element as a JS number (boolean for bool). */
  item(): number {
    const v = this.concrete("item()").item();
    return typeof v === "boolean" ? (v ? 1 : 0) : v;
  }
  /** The elements in row-major order as a TypedArray copy. */
  dataSync(): Float32Array | Float64Array | Int32Array | Uint8Array {
    return this.concrete("dataSync()").flat().slice();
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
