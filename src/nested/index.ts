/**
 * Nested switching (DESIGN.md §4): when grad, valueAndGrad, vjp or jacrev (and hessian and
 * hvp, through them) is called while an outer transform is active, the inner function is
 * staged to IR, captured outer tracers become explicit inputs, and the derivative is bound
 * as a `gradCall` primitive whose rules implement the chosen strategy. An inner pullback
 * is the gradient of ψ(x, c, u) = ⟨u, f(x, c)⟩, so vjp and jacrev reuse gradCall. Staging
 * that fails (value-dependent code) falls back to plain nesting. See docs/nested.md.
 */
import { evalIR } from "../core/ir.js";
import type { Tensor } from "../core/tensor.js";
import { bind, type Tangent } from "../core/trace.js";
import { get as getConfig } from "../config.js";
import { add } from "../primitives/add.js";
import { mul } from "../primitives/mul.js";
import { sum } from "../primitives/sum.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { setNestedGradHandler } from "../transforms/grad.js";
import { gradCallP } from "./calls.js";
import { decide } from "./policy.js";
import { stageClosed } from "./stage.js";
import { recordDecision, recordExpansion, recordFallback, recordStaged } from "./stats.js";
import {
  linearizeFlat,
  pullbackFlat,
  setNestedPullbackHandler,
  type Pullback,
} from "../transforms/vjp.js";

export { stats, resetStats, setLogSink, type NestedStats } from "./stats.js";
export { flops, residualBytes } from "./policy.js";

function totalSize(xs: readonly Tensor[]): number {
  return xs.reduce((s, x) => s + x.size, 0);
}

/**
 * Stages an inner derivative's function for switching: null (plain nesting) when switching
 * is off or staging fails (the reason is counted and logged); else the closure-converted
 * IR, the captured tracers and the strategy decision, all recorded in the stats.
 */
function stageInner(fn: (xs: Tensor[]) => Tensor[], leaves: Tensor[], fname: string) {
  if (!getConfig().nestedSwitching) return null;
  const r = stageClosed(fn, leaves, `nested ${fname}`);
  if (!r.ok) {
    recordFallback(r.reason, () => `${fname}: ${r.detail}`);
    return null;
  }
  const { ir, captured } = r.staged;
  recordStaged(
    fname,
    () => `${ir.eqns.length} equations, ${captured.length} captured tracer(s) closure-converted`,
  );
  const dec = decide(ir, totalSize(leaves));
  recordDecision(dec.strategy, () => dec.why);
  return { ir, captured, dec };
}

/** Inner grad/valueAndGrad: [value, ...aux, ...grads] from one gradCall, or null (fallback). */
function nestedGrad(
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  _nOut: number,
  fname: string,
): Tensor[] | null {
  const staged = stageInner(fn, leaves, fname);
  if (staged === null) return null;
  const { ir, captured, dec } = staged;
  return bind(gradCallP, [...leaves, ...captured], {
    ir,
    wrt: leaves.map((_l, i) => i),
    strategy: dec.strategy,
    kind: fname,
  });
}

/** Inner vjp/jacrev: primal outputs now; each pullback is a gradCall of ψ = Σₖ⟨uₖ, fₖ⟩. */
function nestedPullback(
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  fname: string,
): Pullback | null {
  const staged = stageInner(fn, leaves, fname);
  if (staged === null) return null;
  const { ir, captured, dec } = staged;
  const inputs = [...leaves, ...captured];
  if (dec.strategy === "nest") {
    // Nesting: linearize once and share the residuals between all pullbacks (a pullback
    // as a gradCall of ψ would re-run f for each cotangent).
    // Only the arguments are linearized: the captured outer values are constants here,
    // differentiated by the outer transforms themselves.
    const lin = linearizeFlat((ys) => evalIR(ir, [...ys, ...captured]), leaves);
    return {
      outs: lin.outs,
      pullback: (cts) => {
        recordExpansion("nest", () => `${fname} pullback (${ir.eqns.length} equations)`);
        return pullbackFlat(lin, leaves, cts);
      },
    };
  }
  const outs = evalIR(ir, inputs);
  const pullback = (cts: readonly Tangent[]): Tensor[] => {
    const nz: number[] = [];
    cts.forEach((c, k) => c !== null && nz.push(k));
    if (nz.length === 0) return leaves.map((l) => zerosLike(l));
    const us = nz.map((k) => cts[k]!);
    const n = inputs.length;
    const psi = stageClosed(
      (zs) => {
        const o = evalIR(ir, zs.slice(0, n));
        let acc: Tensor | null = null;
        nz.forEach((k, j) => {
          const term = sum(mul(o[k]!, zs[n + j]!));
          acc = acc === null ? term : add(acc, term);
        });
        return [acc!];
      },
      [...inputs, ...us],
      `nested ${fname} pullback`,
    );
    if (!psi.ok || psi.staged.captured.length > 0) {
      throw new Error(
        `nested ${fname}: internal error: the pullback functional could not be staged`,
      );
    }
    return bind(gradCallP, [...inputs, ...us], {
      ir: psi.staged.ir,
      wrt: leaves.map((_l, i) => i),
      strategy: dec.strategy,
      kind: `${fname} pullback`,
    }).slice(1);
  };
  return { outs, pullback };
}

setNestedGradHandler(nestedGrad);
setNestedPullbackHandler(nestedPullback);
