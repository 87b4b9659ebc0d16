/**
 * Abstract values: the shape and dtype a value has, which is all that
 * shape rules and the staging interpreter see.
 */
import type { DType } from "../tensor/dtype.js";
import { formatShape, shapesEqual, type Shape } from "../tensor/shape.js";

export class ShapedArray {
  readonly shape: Shape;
  readonly dtype: DType;
  constructor(shape: Shape, dtype: DType) {
    // A copy, not frozen (see the NDArray constructor: frozen arrays slice slowly).
    this.shape = shape.slice();
    this.dtype = dtype;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    const s = this.shape;
    let n = 1;
    for (let i = 0; i < s.length; i++) n *= s[i]!;
    return n;
  }
  equals(other: ShapedArray): boolean {
    return this.dtype === other.dtype && shapesEqual(this.shape, other.shape);
  }
  toString(): string {
    return `${this.dtype}${formatShape(this.shape)}`;
  }
}
