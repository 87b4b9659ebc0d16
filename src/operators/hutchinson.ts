/**
 * `hutchinsonTrace(f, x, v)`: Hutchinson's stochastic estimate
 * of the trace of each sample's Jacobian of f: [B, d] → [B, d] from given probes v [S, B, d]:
 * (1/S) Σₛ vₛᵀ J vₛ per sample. The "jvp" variant pushes all S probes through one vmapped
 * JVP (⟨v, J v⟩); the "vjp" variant linearizes f once and pulls all S probes back through
 * one vmapped pullback (⟨Jᵀ v, v⟩), whose inner vjp is staged as a nested call under an
 * outer transform (docs/nested.md). Both differentiate again.
 */
import { Tensor } from "../core/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { mean } from "../ops/reductions.js";
import { mul } from "../primitives/mul.js";
import { sum } from "../primitives/sum.js";
import { jvp } from "../transforms/jvp.js";
import { vjp } from "../transforms/vjp.js";
import { vmap } from "../transforms/vmap.js";
import { checkBatch, checkFunction, checkOutput } from "./common.js";

import { checkOptions, optionKeys } from "../util/options.js";

const FNAME = "hutchinsonTrace";

export interface HutchinsonOptions {
  /** "jvp" (default): ⟨v, J v⟩ by forward mode; "vjp": ⟨Jᵀ v, v⟩ by reverse mode. */
  mode?: "jvp" | "vjp";
}

/** The keys of HutchinsonOptions (checked against the interface by the compiler). */
export const HUTCHINSON_OPTION_KEYS = optionKeys<HutchinsonOptions>()(["mode"]);

/**
 * The Hutchinson estimate (1/S) Σₛ vₛᵀ J_b vₛ of tr J_b for each sample b, where J_b is the
 * Jacobian of the sample-wise vector field f at row b of x [B, d], from probes v [S, B, d]
 * (e.g. Rademacher ±1 or standard normal; with all 2^d sign vectors, or the d basis
 * vectors scaled by √d, the estimate is exact). Returns [B].
 * @example
 * const xs = ng.array([[1, 2], [3, 4]]); // x [B = 2, d = 2]
 * const field = (x) => ng.mul(x, x); // tr J_b = 2 (x_b1 + x_b2)
 * // 8 Rademacher probes (±1)
 * const v = ng.where(ng.random.bernoulli(ng.random.key(0), 0.5, [8, 2, 2]), 1, -1);
 * const tr = ng.hutchinsonTrace(field, xs, v, { mode: "vjp" }); // [6, 14] (diagonal J: exact)
 */
export function hutchinsonTrace(
  f: (x: Tensor) => Tensor,
  x: Tensor,
  v: Tensor,
  options: HutchinsonOptions = {},
): Tensor {
  checkFunction(f, FNAME);
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${FNAME}: options must be an object like { mode: "vjp" }, got ${typeof options}`,
    );
  }
  const { mode = "jvp" } = checkOptions(FNAME, options, HUTCHINSON_OPTION_KEYS);
  if (mode !== "jvp" && mode !== "vjp") {
    throw new TypeError(
      `${FNAME}: options.mode must be "jvp" or "vjp", got ${JSON.stringify(mode)}`,
    );
  }
  const [b, d] = checkBatch(x, FNAME);
  if (!(v instanceof Tensor)) {
    throw new TypeError(`${FNAME}: v must be a Tensor of probes [S, B, d], got ${typeof v}`);
  }
  if (v.ndim !== 3 || v.shape[1] !== b || v.shape[2] !== d || v.shape[0] === 0) {
    throw new TypeError(
      `${FNAME}: v must have shape [S, B, d] = [S ≥ 1, ${b}, ${d}] (probes for x ${formatShape(x.shape)}), ` +
        `got ${formatShape(v.shape)}`,
    );
  }
  if (v.dtype !== x.dtype) {
    throw new TypeError(`${FNAME}: v has dtype ${v.dtype} but x has ${x.dtype}; they must agree`);
  }
  let terms: Tensor; // [S, B]: vₛᵀ J_b vₛ
  if (mode === "jvp") {
    terms = vmap((p: Tensor) => {
      const [, t] = jvp(f, [x], [p]) as [unknown, unknown];
      return sum(mul(p, checkOutput(t, [b, d], FNAME, "[B, d]", x.shape)), 1);
    })(v);
  } else {
    const [y, pullback] = vjp(f, x);
    checkOutput(y, [b, d], FNAME, "[B, d]", x.shape);
    terms = vmap((p: Tensor) => sum(mul(pullback(p)[0] as Tensor, p), 1))(v);
  }
  return mean(terms, 0);
}
