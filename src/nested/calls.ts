/**
 * The higher-order call primitives of nested switching. `gradCall`
 * carries the staged IR of a scalar function f(x, c) and returns [f, aux..., ∇ₓf]; its JVP
 * rule is where the strategy acts. Under forward-over-reverse it emits `hvpCall`, a
 * primitive linear in its tangent inputs with H[rows, cols]·t as output, whose transpose
 * is again one hvpCall with rows and cols swapped (the Hessian is symmetric), so an
 * outer reverse pass never transposes the inner backward pass.
 *
 * Under vmap the calls stay calls (the sum trick): with every differentiated input batched
 * along a leading axis, the per-example gradient of f is the gradient of S(z) = Σ_b f(z_b)
 * with respect to the batched input, and S's Hessian is block diagonal over the examples,
 * so each batch rule stages S (with f vmapped inside) and binds the same primitive on it.
 */
import { ShapedArray } from "../core/aval.js";
import type { BatchDim } from "../core/batching.js";
import type { IR } from "../core/ir.js";
import { ConcreteTensor, Tensor } from "../core/tensor.js";
import { StagingTracer } from "../core/staging.js";
import { bind, evalTrace, LinearInput, withTrace, type Tangent } from "../core/trace.js";
import { evalIR } from "../core/ir.js";
import { definePrimitive, type DefinedPrimitive } from "../primitives/define.js";
import { add } from "../primitives/add.js";
import { batchToFront } from "../primitives/batching.js";
import { mul } from "../primitives/mul.js";
import { sum } from "../primitives/sum.js";
import { zerosLike } from "../primitives/zeros_like.js";
// Internal: primals may include integer residuals carried with zero tangents.
import { jvpUnchecked as jvp } from "../transforms/jvp.js";
import { vmap } from "../transforms/vmap.js";
import { forwardValueAndGrad, hessianVectorProduct, merge, reverseValueAndGrad } from "./expand.js";
import {
  recordEvaluation,
  recordExpansion,
  recordSubstitution,
  type DecisionRecord,
} from "./stats.js";
import { stageClosed } from "./stage.js";

/** How a gradCall is expanded: the outer derivative rule and the inner gradient's mode. */
export type Expansion = "forwardOverReverse" | "nest" | "innerForward";

export interface GradCallParams {
  ir: IR;
  /** Inputs whose gradient is returned. */
  wrt: number[];
  strategy: Expansion;
  /** The inner transform, for stats and messages. */
  kind: string;
  /** The decision this call reports to (absent for derived calls such as a value tangent's transpose). */
  decision?: DecisionRecord;
}

export interface DirDerivCallParams {
  ir: IR;
  cols: number[];
}

export interface HvpCallParams {
  ir: IR;
  rows: number[];
  cols: number[];
}

function concreteCall(
  xs: readonly import("../tensor/ndarray.js").NDArray[],
  fn: (ts: Tensor[]) => Tensor[],
) {
  return withTrace(evalTrace, () => fn(xs.map((x) => new ConcreteTensor(x)))).map((t) =>
    t.concrete("nested call"),
  );
}

function nonNull(ts: readonly Tangent[]): number[] {
  const out: number[] = [];
  ts.forEach((t, i) => t !== null && out.push(i));
  return out;
}

/** What a batched call's staged IR returns, from the per-example outputs ys of `ir`. */
type BatchedOutputs = "sumAndAll" | "sum" | "first";

/**
 * The sum trick of the batch rules: the inputs of a call on `ir` with the batched ones
 * (and every input in `batched`, broadcast) along a leading axis, and the IR over them of
 * z ↦ [Σ_b y0_b, y_b...] ("sumAndAll": the gradient of the sum is the per-example gradient,
 * the per-example outputs ride along), [Σ_b y0_b] ("sum", for Hessian products) or
 * [y0_b]_b ("first", for the per-example directional derivative), where y_b = ir(z_b).
 * Captured tracers (none in practice: ir is closed) are appended as extra inputs.
 */
function batchedCall(
  ir: IR,
  xs: readonly Tensor[],
  dims: readonly BatchDim[],
  size: number,
  batched: readonly number[],
  outputs: BatchedOutputs,
): { ir: IR; inputs: Tensor[] } {
  const n = ir.inVars.length;
  const axes = xs.slice(0, n).map((_x, i) => {
    const d = dims[i] ?? null;
    return d !== null || batched.includes(i) ? 0 : null;
  });
  const inputs = xs
    .slice(0, n)
    .map((x, i) => (axes[i] === null ? x : batchToFront(x, dims[i] ?? null, size)));
  const r = stageClosed(
    (zs) => {
      const ys = vmap((...a: Tensor[]) => evalIR(ir, a), axes)(...zs) as Tensor[];
      if (outputs === "first") return [ys[0]!];
      const total = sum(ys[0]!);
      return outputs === "sum" ? [total] : [total, ...ys];
    },
    inputs,
    "vmap of a nested call",
  );
  if (!r.ok) {
    throw new Error(`vmap of a nested call: the batched IR could not be staged (${r.detail})`);
  }
  return { ir: r.staged.ir, inputs: [...inputs, ...r.staged.captured] };
}

/** Why a batched gradCall decided as innerForward runs as nest. */
const INNER_FORWARD_UNDER_VMAP =
  "under vmap the call differentiates the sum over the batch, and forward mode would take " +
  "one pass per element of the whole batch instead of one per example's input";

/** The value and gradient outputs of `ir` at `xs`, by the strategy's inner mode. */
function innerValueAndGrad(p: GradCallParams, xs: Tensor[]): Tensor[] {
  return p.strategy === "innerForward"
    ? forwardValueAndGrad(p.ir, xs, p.wrt)
    : reverseValueAndGrad(p.ir, xs, p.wrt);
}

export const gradCallP: DefinedPrimitive<GradCallParams, "gradCall"> = definePrimitive<
  GradCallParams,
  "gradCall"
>({
  name: "gradCall",
  impl: (xs, p) => {
    recordEvaluation(p.decision, () => `${p.kind} (${p.ir.eqns.length} equations)`);
    return concreteCall(xs, (ts) => innerValueAndGrad(p, ts));
  },
  expand: (xs, p) => {
    recordEvaluation(p.decision, () => `${p.kind} (${p.ir.eqns.length} equations), inlined`);
    return innerValueAndGrad(p, xs);
  },
  abstractEval: (avals, p) => [...p.ir.outVars.map((v) => v.aval), ...p.wrt.map((i) => avals[i]!)],
  formatParams: (p) =>
    `[wrt=(${p.wrt.join(",")}), strategy=${p.strategy}, kind=${p.kind}, ir=(${p.ir.eqns.length} eqns)]`,
  jvp: (primals, tangents, p) => {
    const nOut = p.ir.outVars.length;
    const nn = nonNull(tangents);
    // Tangents that are staging tracers will be transposed by an outer reverse pass; others
    // (an outer forward-mode JVP) are evaluated now, where one inline JVP of the inner
    // gradient already is forward-over-reverse in a single pass.
    const symbolic = nn.some((i) => tangents[i] instanceof StagingTracer);
    if (p.strategy !== "forwardOverReverse" || !symbolic) {
      // Plain nesting: differentiate the inner computation itself (reverse-over-reverse,
      // or reverse-over-forward for innerForward, once an outer reverse pass transposes it).
      recordExpansion(
        symbolic ? p.strategy : `${p.strategy} (eager)`,
        () => `${p.kind} (${p.ir.eqns.length} equations)`,
        p.decision,
      );
      const [outs, touts] = jvp(
        (...ys: Tensor[]) => innerValueAndGrad(p, merge(primals, nn, ys)),
        nn.map((i) => primals[i]!),
        nn.map((i) => tangents[i]!),
      ) as [Tensor[], Tensor[]];
      return [outs, touts];
    }
    recordExpansion(
      p.strategy,
      () => `${p.kind} (${p.ir.eqns.length} equations, ${nn.length} input(s) with tangents)`,
      p.decision,
    );
    const outs = bind(gradCallP, primals, p);
    // Tangent of the value, ⟨∇f, t⟩: a linear call evaluated only if the value is used.
    const dValue = bind(dirDerivCallP, [...primals, ...nn.map((i) => tangents[i]!)], {
      ir: p.ir,
      cols: nn,
    })[0]!;
    // Tangents of aux outputs by forward mode through f (cheap, and only when present).
    let dAux: Tangent[] = [];
    if (nOut > 1) {
      const [, t] = jvp(
        (...ys: Tensor[]) => evalIR(p.ir, merge(primals, nn, ys)).slice(1),
        nn.map((i) => primals[i]!),
        nn.map((i) => tangents[i]!),
      ) as [Tensor[], Tensor[]];
      dAux = t;
    }
    // Tangent of ∇ₓf: H[wrt, nn] · t — the linear companion.
    const dGrad = bind(hvpCallP, [...primals, ...nn.map((i) => tangents[i]!)], {
      ir: p.ir,
      rows: p.wrt,
      cols: nn,
    });
    return [outs, [dValue, ...dAux, ...dGrad]];
  },
  // vmap: one gradCall of S(z) = Σ_b f(z_b) over the batched inputs (every wrt input
  // batched), whose gradient is the per-example gradient; the per-example value and aux
  // are extra outputs, the sum is dropped. Inner forward mode would take one pass per
  // element of the whole batch, so it becomes plain nesting of the batched call.
  batch: (xs, dims, p, size) => {
    const b = batchedCall(p.ir, xs, dims, size, p.wrt, "sumAndAll");
    let strategy = p.strategy;
    if (strategy === "innerForward") {
      strategy = "nest";
      if (p.decision !== undefined)
        recordSubstitution(p.decision, "nest", INNER_FORWARD_UNDER_VMAP);
    }
    const outs = bind(gradCallP, b.inputs, { ...p, ir: b.ir, strategy }).slice(1);
    return [outs, outs.map(() => 0)];
  },
  testSpec: { cases: [] },
});

export const hvpCallP: DefinedPrimitive<HvpCallParams, "hvpCall"> = definePrimitive<
  HvpCallParams,
  "hvpCall"
>({
  name: "hvpCall",
  linear: true,
  impl: (xs, p) => concreteCall(xs, (ts) => hvpCallP.expand!(ts, p)),
  expand: (ts, p) => {
    const n = p.ir.inVars.length;
    return hessianVectorProduct(p.ir, ts.slice(0, n), p.rows, p.cols, ts.slice(n));
  },
  abstractEval: (avals, p) => p.rows.map((i) => new ShapedArray(avals[i]!.shape, avals[i]!.dtype)),
  formatParams: (p) =>
    `[rows=(${p.rows.join(",")}), cols=(${p.cols.join(",")}), ir=(${p.ir.eqns.length} eqns)]`,
  // Linear in the tangents: H[cols, rows] = H[rows, cols]ᵀ, so the transpose is one more
  // forward-over-reverse pass with rows and cols swapped.
  transpose: (cts, inputs, p) => {
    const n = p.ir.inVars.length;
    const xs = inputs.slice(0, n);
    if (xs.some((x) => x instanceof LinearInput)) {
      throw new Error(
        "hvpCall: transpose with respect to the point of evaluation (the program is not linear)",
      );
    }
    const nz = nonNull(cts);
    const back =
      nz.length === 0
        ? []
        : bind(hvpCallP, [...(xs as Tensor[]), ...nz.map((k) => cts[k]!)], {
            ir: p.ir,
            rows: p.cols,
            cols: nz.map((k) => p.rows[k]!),
          });
    return [...xs.map(() => null), ...p.cols.map((_c, k) => (nz.length === 0 ? null : back[k]!))];
  },
  // Third order: d(H·t) = H·dt + (D³f · t)·dx; the second term by plain nesting.
  jvp: (primals, tangents, p) => {
    const n = p.ir.inVars.length;
    const xs = primals.slice(0, n);
    const ts = primals.slice(n);
    const out = bind(hvpCallP, primals, p);
    const dts = tangents.slice(n);
    const dxIdx = nonNull(tangents.slice(0, n));
    let result: Tangent[] = p.rows.map(() => null);
    if (dts.some((t) => t !== null)) {
      const filled = dts.map((t, k) => t ?? zerosLike(ts[k]!));
      result = bind(hvpCallP, [...xs, ...filled], p);
    }
    if (dxIdx.length > 0) {
      recordExpansion("nest", () => "hvpCall at third order");
      const [, third] = jvp(
        (...ys: Tensor[]) => hessianVectorProduct(p.ir, merge(xs, dxIdx, ys), p.rows, p.cols, ts),
        dxIdx.map((i) => xs[i]!),
        dxIdx.map((i) => tangents[i]!),
      ) as [Tensor[], Tensor[]];
      result = result.map((r, k) => (r === null ? third[k]! : add(r, third[k]!)));
    }
    return [out, result];
  },
  // vmap: S(z) = Σ_b f(z_b) has a block-diagonal Hessian, so with rows, cols and tangents
  // batched, H_S[rows, cols]·t is the per-example H[rows, cols]·t_b. One hvpCall of S.
  batch: (xs, dims, p, size) => {
    const n = p.ir.inVars.length;
    const b = batchedCall(p.ir, xs, dims, size, [...p.rows, ...p.cols], "sum");
    const ts = xs.slice(n).map((t, k) => batchToFront(t, dims[n + k] ?? null, size));
    const outs = bind(hvpCallP, [...b.inputs, ...ts], { ir: b.ir, rows: p.rows, cols: p.cols });
    return [outs, outs.map(() => 0)];
  },
  testSpec: { cases: [] },
});

/**
 * J·t = Σ_c ∂f/∂x_c · t_c for output 0 of `ir` (⟨∇f(x), t⟩ when it is a scalar, as for a
 * gradCall's value; any shape under vmap, where it is the per-example directional
 * derivative): linear in the tangents t (on the inputs `cols`); evaluated by one forward
 * pass, transposed by one gradient (gradCall): of f scaled by the cotangent for a scalar
 * output, of ψ = ⟨ct, f⟩ (staged with ct as an extra input) otherwise.
 */
export const dirDerivCallP: DefinedPrimitive<DirDerivCallParams, "dirDerivCall"> = definePrimitive<
  DirDerivCallParams,
  "dirDerivCall"
>({
  name: "dirDerivCall",
  linear: true,
  impl: (xs, p) => concreteCall(xs, (ts) => dirDerivCallP.expand!(ts, p)),
  expand: (ts, p) => {
    const n = p.ir.inVars.length;
    const ins = ts.slice(0, n);
    const [, t] = jvp(
      (...ys: Tensor[]) => evalIR(p.ir, merge(ins, p.cols, ys)).slice(0, 1),
      p.cols.map((i) => ins[i]!),
      ts.slice(n),
    ) as [Tensor[], Tensor[]];
    return t;
  },
  abstractEval: (_avals, p) => [p.ir.outVars[0]!.aval],
  formatParams: (p) => `[cols=(${p.cols.join(",")}), ir=(${p.ir.eqns.length} eqns)]`,
  // ct·∇_cols f, with the gradient as a gradCall (so it differentiates again).
  transpose: ([ct], inputs, p) => {
    const n = p.ir.inVars.length;
    const xs = inputs.slice(0, n);
    if (xs.some((x) => x instanceof LinearInput)) {
      throw new Error(
        "dirDerivCall: transpose with respect to the point of evaluation (the program is not linear)",
      );
    }
    if (ct === null || ct === undefined) return inputs.map(() => null);
    if (p.ir.outVars[0]!.aval.ndim > 0) {
      // Jᵀct = ∇_cols ⟨ct, f⟩: a gradCall of ψ(z, ct), where ct is an input (so an outer
      // transform differentiates through it too).
      const psi = stageClosed(
        (zs) => [sum(mul(evalIR(p.ir, zs.slice(0, n))[0]!, zs[n]!))],
        [...(xs as Tensor[]), ct],
        "dirDerivCall transpose",
      );
      if (!psi.ok) {
        throw new Error(
          `dirDerivCall: the transposed functional could not be staged (${psi.detail})`,
        );
      }
      const gp = bind(gradCallP, [...(xs as Tensor[]), ct, ...psi.staged.captured], {
        ir: psi.staged.ir,
        wrt: p.cols,
        strategy: "forwardOverReverse",
        kind: "value tangent",
      });
      return [...xs.map(() => null), ...p.cols.map((_c, k) => gp[1 + k]!)];
    }
    const g = bind(gradCallP, xs as Tensor[], {
      ir: p.ir,
      wrt: p.cols,
      strategy: "forwardOverReverse",
      kind: "value tangent",
    });
    const nOut = p.ir.outVars.length;
    return [...xs.map(() => null), ...p.cols.map((_c, k) => mul(g[nOut + k]!, ct))];
  },
  // Second order: d⟨∇f, t⟩ = ⟨∇f, dt⟩ + ⟨H t, dx⟩, by plain nesting.
  jvp: (primals, tangents, p) => {
    const n = p.ir.inVars.length;
    recordExpansion("nest", () => "dirDerivCall at second order");
    const nnAll = nonNull(tangents);
    const [out, tout] = jvp(
      (...ys: Tensor[]) => {
        const all = merge(primals, nnAll, ys);
        const ins = all.slice(0, n);
        const [, t] = jvp(
          (...zs: Tensor[]) => evalIR(p.ir, merge(ins, p.cols, zs)).slice(0, 1),
          p.cols.map((i) => ins[i]!),
          all.slice(n),
        ) as [Tensor[], Tensor[]];
        return t;
      },
      nnAll.map((i) => primals[i]!),
      nnAll.map((i) => tangents[i]!),
    ) as [Tensor[], Tensor[]];
    return [out, tout];
  },
  // vmap: with cols and tangents batched, the per-example J_b·t_b is the Jacobian-vector
  // product of z ↦ [f(z_b)]_b (block-diagonal Jacobian): one dirDerivCall of it, whose
  // output 0 is the stacked per-example output.
  batch: (xs, dims, p, size) => {
    const n = p.ir.inVars.length;
    const b = batchedCall(p.ir, xs, dims, size, p.cols, "first");
    const ts = xs.slice(n).map((t, k) => batchToFront(t, dims[n + k] ?? null, size));
    const outs = bind(dirDerivCallP, [...b.inputs, ...ts], { ir: b.ir, cols: p.cols });
    return [outs, [0]];
  },
  testSpec: { cases: [] },
});
