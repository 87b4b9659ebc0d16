/** Helpers for rules that combine possibly-zero (null) tangents. */
import type { Tensor } from "../core/tensor.js";
import type { Tangent } from "../core/trace.js";
import { add } from "./add.js";

/** a + b where null is zero. */
export function addTangents(a: Tangent, b: Tangent): Tangent {
  if (a === null) return b;
  if (b === null) return a;
  return add(a, b);
}

/** f(t) when t is non-zero, else zero. */
export function mapTangent(t: Tangent, f: (t: Tensor) => Tensor): Tangent {
  return t === null ? null : f(t);
}
