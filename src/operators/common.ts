/**
 * Shared pieces of the per-sample operators: validation of the
 * batch-first input x [B, d] and of f's output, and the basis directions e_j broadcast over
 * the batch that the operators push through one vmapped JVP.
 */
import { Tensor } from "../core/tensor.js";
import { isFloat } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { broadcastTo } from "../primitives/broadcast_to.js";
import { reshape } from "../primitives/reshape.js";
import { eye } from "../ops/creation.js";

/** Checks that x is a float tensor of shape [B, d] with d ≥ 1; returns [B, d]. */
export function checkBatch(x: unknown, fname: string, what = "x"): [number, number] {
  if (!(x instanceof Tensor)) {
    throw new TypeError(`${fname}: ${what} must be a Tensor of shape [B, d], got ${typeof x}`);
  }
  if (x.ndim !== 2) {
    throw new TypeError(
      `${fname}: ${what} must have shape [B, d] (batch first, rank 2), got ${x.dtype}${formatShape(x.shape)} (rank ${x.ndim})`,
    );
  }
  if (!isFloat(x.dtype)) {
    throw new TypeError(`${fname}: ${what} must be float32 or float64, got dtype ${x.dtype}`);
  }
  if (x.shape[1] === 0) {
    throw new RangeError(
      `${fname}: ${what} has shape ${formatShape(x.shape)}: d must be at least 1`,
    );
  }
  return [x.shape[0]!, x.shape[1]!];
}

/** Checks that f is a function. */
export function checkFunction(f: unknown, fname: string): void {
  if (typeof f !== "function")
    throw new TypeError(`${fname}: f must be a function, got ${typeof f}`);
}

/**
 * Checks f's output y against the expected [B, ...rest] (a `null` entry matches any size)
 * and returns it. `desc` says what f should map to, e.g. "[B, m]".
 */
export function checkOutput(
  y: unknown,
  expected: readonly (number | null)[],
  fname: string,
  desc: string,
  xShape: readonly number[],
): Tensor {
  const bad = (got: string) =>
    new TypeError(
      `${fname}: f must map x ${formatShape(xShape)} sample-wise to ${desc} = ` +
        `[${expected.map((e) => (e === null ? "*" : String(e))).join(", ")}], got ${got}`,
    );
  if (!(y instanceof Tensor)) {
    throw bad(Array.isArray(y) ? `an array of length ${y.length}` : typeof y);
  }
  if (y.ndim !== expected.length || expected.some((e, i) => e !== null && y.shape[i] !== e)) {
    throw bad(`${y.dtype}${formatShape(y.shape)}`);
  }
  if (!isFloat(y.dtype)) throw bad(`dtype ${y.dtype} (not a float)`);
  return y;
}

/**
 * The n basis directions of R^d broadcast over the batch: E [d, B, d] with E[j, b] = e_j,
 * in x's dtype. vmap over its axis 0 pushes all d directions through one pass.
 */
export function basisDirections(b: number, d: number, dtype: Tensor["dtype"]): Tensor {
  return broadcastTo(reshape(eye(d, d, { dtype }), [d, 1, d]), [d, b, d]);
}
