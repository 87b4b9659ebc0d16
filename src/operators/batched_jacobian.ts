/**
 * `nn.batchedJacobian(f, x)`: the per-sample Jacobians
 * J [B, m, d] of a function f: [B, d] → [B, m] that maps the samples of a batch
 * independently, without the dense [B, m, B, d] Jacobian of the whole batch. Forward mode
 * pushes the d basis directions (each broadcast over the batch) through ONE vmapped JVP;
 * reverse mode linearizes f once and pulls the m basis cotangents back through one
 * vmapped pullback. Both are built from vmap, jvp and vjp, so the result is differentiable
 * again in either mode and an inner vjp under an outer transform is staged as a nested
 * call (nested switching, docs/nested.md).
 */
import { StagingTrace } from "../core/staging.js";
import { ConcretizationError, Tensor } from "../core/tensor.js";
import { currentTrace, withTrace } from "../core/trace.js";
import { formatShape } from "../tensor/shape.js";
import { jacrev } from "../transforms/jacobian.js";
import { jvp } from "../transforms/jvp.js";
import { vjp } from "../transforms/vjp.js";
import { vmap } from "../transforms/vmap.js";
import { basisDirections, checkBatch, checkFunction, checkOutput } from "./common.js";

import { checkOptions, optionKeys } from "../util/options.js";

const FNAME = "batchedJacobian";

/** Which AD mode computes the per-sample Jacobian. */
export type JacobianMode = "auto" | "forward" | "reverse";

export interface BatchedJacobianOptions {
  /**
   * "forward": d JVPs (one per input direction) batched in one pass; "reverse": m
   * pullbacks (one per output direction) batched in one pass; "auto" (default): forward
   * when d ≤ m, reverse otherwise.
   */
  mode?: JacobianMode;
  /**
   * Also compute the dense Jacobian of the whole batch (jacrev, B·m pullbacks), check that
   * f does not mix samples (the off-diagonal blocks ∂f[i]/∂x[j], i ≠ j, are zero) and that
   * the per-sample blocks equal the result; throws otherwise. For debugging: it costs the
   * dense Jacobian and needs concrete values (not inside vmap or jit).
   */
  check?: boolean;
}

/** The keys of BatchedJacobianOptions (checked against the interface by the compiler). */
export const BATCHED_JACOBIAN_OPTION_KEYS = optionKeys<BatchedJacobianOptions>()(["mode", "check"]);

type SampleFn = (x: Tensor) => Tensor;

/** J [B, m, d] by forward mode: vmap over the d directions E[j] = e_j (broadcast over B) of a JVP. */
function forwardJacobian(f: SampleFn, x: Tensor, b: number, d: number): Tensor {
  const dirs = basisDirections(b, d, x.dtype);
  // Per direction the JVP is [B, m]; stacking the directions at axis 2 gives [B, m, d].
  return vmap(
    (e: Tensor) => {
      const [, t] = jvp(f, [x], [e]) as [unknown, unknown];
      return checkOutput(t, [b, null], FNAME, "[B, m]", x.shape);
    },
    0,
    2,
  )(dirs);
}

/** J [B, m, d] by reverse mode: one linearization, vmap over the m cotangents U[k] = e_k of its pullback. */
function reverseJacobian(f: SampleFn, x: Tensor, b: number): Tensor {
  const [y, pullback] = vjp(f, x);
  const out = checkOutput(y, [b, null], FNAME, "[B, m]", x.shape);
  const cts = basisDirections(b, out.shape[1]!, out.dtype);
  // Per cotangent the pullback is [B, d]; stacking the cotangents at axis 1 gives [B, m, d].
  return vmap((u: Tensor) => pullback(u)[0] as Tensor, 0, 1)(cts);
}

/**
 * The output width m of f at x's shape by abstract evaluation (no flops), or null when f
 * reads values (then the caller decides after a concrete evaluation).
 */
function outputWidth(f: SampleFn, x: Tensor, b: number): number | null {
  const staging = new StagingTrace(currentTrace(), `${FNAME} (output shape)`);
  const arg = staging.newArg(x.aval);
  let y: unknown;
  try {
    y = withTrace(staging, () => f(arg));
  } catch (e) {
    if (e instanceof ConcretizationError) return null;
    throw e;
  }
  return checkOutput(y, [b, null], FNAME, "[B, m]", x.shape).shape[1]!;
}

/** Reads the values of `t` for the dense check, with an error that says why it cannot. */
function valuesOf(t: Tensor): ArrayLike<number> {
  try {
    return t.dataSync() as ArrayLike<number>;
  } catch (e) {
    throw new Error(
      `${FNAME}: check: true needs concrete values, but the Jacobian is abstract or batched here ` +
        `(inside vmap or jit); call it with check: false there. (${(e as Error).message.split(".")[0]})`,
      { cause: e },
    );
  }
}

/** The dense check of `check: true` (see BatchedJacobianOptions.check). */
function checkAgainstDense(f: SampleFn, x: Tensor, jac: Tensor): void {
  const [b, m, d] = jac.shape as [number, number, number];
  // Read the result first: inside vmap or jit it has no values, and that is the message.
  const jv = valuesOf(jac);
  const dv = valuesOf(jacrev(f)(x) as Tensor); // [B, m, B, d]
  let scale = 0;
  for (let k = 0; k < dv.length; k++) scale = Math.max(scale, Math.abs(dv[k]!));
  // Sample-wise code gives exact zeros off the diagonal; allow rounding of the dtype.
  const tol = (x.dtype === "float64" ? 1e-12 : 1e-6) * Math.max(scale, 1);
  const at = (i: number, o: number, j: number, c: number) => dv[((i * m + o) * b + j) * d + c]!;
  // First the off-diagonal blocks: a mixing f makes the per-sample result meaningless.
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      if (i === j) continue;
      for (let o = 0; o < m; o++) {
        for (let c = 0; c < d; c++) {
          const v = at(i, o, j, c);
          if (!(Math.abs(v) <= tol)) {
            throw new Error(
              `${FNAME}: f mixes samples: ∂f[i]/∂x[j] ≠ 0 for i ≠ j (e.g. i=${i}, j=${j}: ` +
                `∂f[${i}][${o}]/∂x[${j}][${c}] = ${v}); it must map the rows of x independently`,
            );
          }
        }
      }
    }
  }
  for (let i = 0; i < b; i++) {
    for (let o = 0; o < m; o++) {
      for (let c = 0; c < d; c++) {
        const v = at(i, o, i, c);
        const w = jv[(i * m + o) * d + c]!;
        if (!(Math.abs(v - w) <= tol + 1e-5 * Math.abs(v))) {
          throw new Error(
            `${FNAME}: the per-sample Jacobian J${formatShape([b, m, d])} differs from the dense ` +
              `Jacobian at [${i}, ${o}, ${c}]: ${w} vs ${v}`,
          );
        }
      }
    }
  }
}

/**
 * Per-sample Jacobians of a batch-first function: for x [B, d] and f mapping each row of x
 * to a row of f(x) [B, m] independently, returns J [B, m, d] with J[b] = ∂f(x)[b]/∂x[b].
 * Forward mode (d JVPs batched into one pass) is chosen when d ≤ m, reverse mode (one
 * linearization and m pullbacks batched into one pass) otherwise; `mode` forces one, and
 * `check: true` verifies against the dense Jacobian that f does not mix samples.
 * Differentiable again in both modes (use it inside a loss).
 * @example
 * const model = ng.nn.chain(ng.nn.dense(2, 64, ng.tanh), ng.nn.dense(64, 2));
 * const net = ng.nn.stateful(model, ...ng.nn.setup(ng.random.key(0), model)); // 2 → 64 → 2
 * const xs = ng.random.normal(ng.random.key(1), [1024, 2]);
 * const J = ng.nn.batchedJacobian(net, xs);              // xs [1024, 2] → J [1024, 2, 2]
 * const reg = ng.sum(ng.square(J));                      // a Jacobian regulariser
 */
export function batchedJacobian(
  f: (x: Tensor) => Tensor,
  x: Tensor,
  options: BatchedJacobianOptions = {},
): Tensor {
  checkFunction(f, FNAME);
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${FNAME}: options must be an object like { mode: "forward" }, got ${typeof options}`,
    );
  }
  const { mode = "auto", check = false } = checkOptions(
    FNAME,
    options,
    BATCHED_JACOBIAN_OPTION_KEYS,
  );
  if (mode !== "auto" && mode !== "forward" && mode !== "reverse") {
    throw new TypeError(
      `${FNAME}: options.mode must be "auto", "forward" or "reverse", got ${JSON.stringify(mode)}`,
    );
  }
  if (typeof check !== "boolean") {
    throw new TypeError(`${FNAME}: options.check must be a boolean, got ${typeof check}`);
  }
  const [b, d] = checkBatch(x, FNAME);
  let resolved = mode;
  if (mode === "auto") {
    const m = outputWidth(f, x, b);
    // Unknown m (f reads values): reverse mode evaluates f concretely anyway.
    resolved = m !== null && d <= m ? "forward" : "reverse";
  }
  const jac = resolved === "forward" ? forwardJacobian(f, x, b, d) : reverseJacobian(f, x, b);
  if (check) checkAgainstDense(f, x, jac);
  return jac;
}
