/** Printing of NDArrays (placeholder until the printing work lands). */
import type { NDArray } from "./ndarray.js";

export function formatNDArray(x: NDArray): string {
  return `NDArray(shape=[${x.shape.join(", ")}], dtype=${x.dtype})`;
}
