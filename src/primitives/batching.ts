/**
 * Helpers shared by the batching (vmap) rules of the primitives: moving a
 * batch axis to the front, materialising an unbatched operand as a broadcast view, and
 * the rules of the elementwise families.
 */
import type { BatchDim } from "../core/batching.js";
import type { Tensor } from "../core/tensor.js";
import { broadcastTo } from "./broadcast_to.js";
import { reshape } from "./reshape.js";
import { moveAxis } from "./transpose.js";

/** Moves (or creates, by broadcasting) the batch axis of `x` to `to`. */
export function moveBatchAxis(x: Tensor, from: BatchDim, to: number, size: number): Tensor {
  if (from === null) {
    const expanded = reshape(x, [...x.shape.slice(0, to), 1, ...x.shape.slice(to)]);
    return broadcastTo(expanded, [...x.shape.slice(0, to), size, ...x.shape.slice(to)]);
  }
  return from === to ? x : moveAxis(x, from, to);
}

/** `x` with its batch axis at position 0 (an unbatched x is broadcast along a new axis 0). */
export function batchToFront(x: Tensor, d: BatchDim, size: number): Tensor {
  return moveBatchAxis(x, d, 0, size);
}

/** Brings every operand's batch axis to the front (broadcasting unbatched ones). */
export function allToFront(
  args: readonly Tensor[],
  dims: readonly BatchDim[],
  size: number,
): Tensor[] {
  return args.map((x, i) => batchToFront(x, dims[i] ?? null, size));
}

/** Shifts a non-negative axis of the per-example value to the batched value with batch axis 0. */
export function shiftAxes(axes: readonly number[]): number[] {
  return axes.map((a) => a + 1);
}
