/**
 * Nested switching: when grad, valueAndGrad, vjp or jacrev (and hessian and
 * hvp, through them) is called while an outer transform is active, the inner function is
 * staged to IR, captured outer tracers become explicit inputs, and the derivative is bound
 * as a `gradCall` primitive whose rules implement the chosen strategy. An inner pullback
 * is the gradient of ψ(x, c, u) = ⟨u, f(x, c)⟩, so vjp and jacrev reuse gradCall. Staging
 * that fails (value-dependent code) falls back to plain nesting. Decisions are cached
 * (cache.ts): a repeated call decided as nest runs as plain nesting without staging, which
 * is what the nest expansion computes. See docs/nested.md.
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
import { gradCallP, type GradCallParams } from "./calls.js";
import { nestedJacobian } from "./jacobian.js";
import { setNestedJacobianHandler } from "../transforms/jacobian.js";
import { decide } from "./policy.js";
import { stageClosed } from "./stage.js";
import {
  recordCacheHit,
  recordDecision,
  recordExpansion,
  recordFallback,
  recordInvalidation,
  recordStaged,
  setOnReset,
  type DecisionRecord,
} from "./stats.js";
import { cacheKey, clearCache, drop, fingerprint, lookup, store, type CacheKey } from "./cache.js";
import { currentTrace } from "../core/trace.js";
import { scalar } from "../primitives/convert.js";
import {
  heldPullback,
  linearizeFlat,
  pullbackFlat,
  setNestedPullbackHandler,
  type Linearized,
  type Pullback,
} from "../transforms/vjp.js";

export { stats, resetStats, setLogSink, type NestedStats } from "./stats.js";
export { clearCache } from "./cache.js";
export { flops, residualBytes } from "./policy.js";

function totalSize(xs: readonly Tensor[]): number {
  return xs.reduce((s, x) => s + x.size, 0);
}

/**
 * Stages an inner derivative's function for switching: null (plain nesting) when staging
 * fails (the reason is counted and logged); else the closure-converted IR, the captured
 * tracers and the decision record, with the decision stored in the cache under `key`.
 */
function stageInner(
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  fname: string,
  key: CacheKey | null,
) {
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
  store(key, { strategy: dec.strategy, why: dec.why });
  return { ir, captured, rec: recordDecision(fname, dec.strategy, dec.why) };
}

/**
 * A cached `nest` decision, served without staging: plain nesting of the fresh function is
 * what the nest expansion computes (the inner derivative linearized once, its tangent
 * program differentiated by the outer transforms), so nothing the closure captured can be
 * stale. The linearization's fingerprint checks that the inner computation still has the
 * structure the decision was made for; if not, the entry is dropped and the next call
 * stages and decides again.
 */
function cachedNest(
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  fname: string,
  key: CacheKey,
  why: string,
  reuse: boolean,
): { lin: Linearized; rec: DecisionRecord } {
  const lin = linearizeFlat(fn, leaves, `nested ${fname} (nest)`, reuse);
  const entry = lookup(key)!;
  const fp = fingerprint(lin.ir);
  if (entry.fingerprint === undefined) entry.fingerprint = fp;
  else if (entry.fingerprint !== fp) {
    drop(key);
    recordInvalidation(() => `inner ${fname}: linearization ${entry.fingerprint} became ${fp}`);
  }
  recordCacheHit(fname, () => `nest, ${lin.ir.eqns.length} tangent equations`);
  return { lin, rec: recordDecision(fname, "nest", `cached: ${why}`) };
}

/** The entry to serve from the cache without staging, if there is one. */
function cachedNestEntry(key: CacheKey | null) {
  const e = lookup(key);
  return e !== undefined && e.strategy === "nest" ? e : undefined;
}

/** Inner grad/valueAndGrad: [value, ...aux, ...grads] from one gradCall, or null (fallback). */
function nestedGrad(
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  _nOut: number,
  fname: string,
  origin?: unknown,
): Tensor[] | null {
  if (!getConfig().nestedSwitching) return null;
  const key = cacheKey(origin, fname, leaves);
  const hit = cachedNestEntry(key);
  const trace = currentTrace();
  // Only directly under a JVP trace is nest the same as plain nesting: under vmap or jit
  // the call primitive itself is batched (the sum trick) or kept in the program.
  if (hit !== undefined && trace.kind === "jvp") {
    const { lin, rec } = cachedNest(fn, leaves, fname, key!, hit.why, false);
    const eager = trace.parent?.kind !== "staging";
    recordExpansion(eager ? "nest (eager)" : "nest", () => `${fname} (cached)`, rec);
    const y = lin.outs[0]!;
    const cts = lin.outs.map((_o, i) => (i === 0 ? scalar(1, y.dtype) : null));
    return [...lin.outs, ...pullbackFlat(lin, leaves, cts)];
  }
  const staged = stageInner(fn, leaves, fname, key);
  if (staged === null) return null;
  const { ir, captured, rec } = staged;
  return bind(gradCallP, [...leaves, ...captured], {
    ir,
    wrt: leaves.map((_l, i) => i),
    strategy: rec.chosen as GradCallParams["strategy"],
    kind: fname,
    decision: rec,
  });
}

/** Inner vjp/jacrev: primal outputs now; each pullback is a gradCall of ψ = Σₖ⟨uₖ, fₖ⟩. */
function nestedPullback(
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  fname: string,
  origin?: unknown,
): Pullback | null {
  if (!getConfig().nestedSwitching) return null;
  const key = cacheKey(origin, fname, leaves);
  const hit = cachedNestEntry(key);
  // An inner pullback decided as nest never binds a call primitive (below), so serving it
  // from the cache is the same computation under every outer transform.
  if (hit !== undefined) {
    const { lin, rec } = cachedNest(fn, leaves, fname, key!, hit.why, true);
    const held = heldPullback(lin, leaves, fname);
    return {
      ...held,
      pullback: (cts) => {
        recordExpansion("nest", () => `${fname} pullback (cached)`, rec);
        return held.pullback(cts);
      },
    };
  }
  const staged = stageInner(fn, leaves, fname, key);
  if (staged === null) return null;
  const { ir, captured, rec } = staged;
  const inputs = [...leaves, ...captured];
  if (rec.chosen === "nest") {
    // Nesting: linearize once and share the residuals between all pullbacks (a pullback
    // as a gradCall of ψ would re-run f for each cotangent).
    // Only the arguments are linearized: the captured outer values are constants here,
    // differentiated by the outer transforms themselves.
    const lin = linearizeFlat(
      (ys) => evalIR(ir, [...ys, ...captured]),
      leaves,
      `nested ${fname} (nest)`,
      true,
    );
    const held = heldPullback(lin, leaves, fname);
    return {
      ...held,
      pullback: (cts) => {
        recordExpansion("nest", () => `${fname} pullback (${ir.eqns.length} equations)`, rec);
        return held.pullback(cts);
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
      strategy: rec.current as GradCallParams["strategy"],
      kind: `${fname} pullback`,
      decision: rec,
    }).slice(1);
  };
  return { outs, pullback, release: () => {} };
}

setNestedGradHandler(nestedGrad);
setNestedJacobianHandler(nestedJacobian);
setNestedPullbackHandler(nestedPullback);
setOnReset(clearCache);
