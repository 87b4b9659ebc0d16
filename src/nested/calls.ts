/**
 * The higher-order call primitives of nested switching (DESIGN.md §4.2). `gradCall`
 * carries the staged IR of a scalar function f(x, c) and returns [f, aux..., ∇ₓf]; its JVP
 * rule is where the strategy acts. Under forward-over-reverse it emits `hvpCall`, a
 * primitive linear in its tangent inputs with H[rows, cols]·t as output, whose transpose
 * is again one hvpCall with rows and cols swapped (the Hessian is symmetric), so an
 * outer reverse pass never transposes the inner backward pass.
 */
import { ShapedArray } from "../core/aval.js";
import type { IR } from "../core/ir.js";
import { ConcreteTensor, Tensor } from "../core/tensor.js";
import { StagingTracer } from "../core/staging.js";
import { bind, evalTrace, LinearInput, withTrace, type Tangent } from "../core/trace.js";
import { evalIR } from "../core/ir.js";
import { definePrimitive, type DefinedPrimitive } from "../primitives/define.js";
import { add } from "../primitives/add.js";
import { mul } from "../primitives/mul.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { jvp } from "../transforms/jvp.js";
import { forwardValueAndGrad, hessianVectorProduct, merge, reverseValueAndGrad } from "./expand.js";
import { recordExpansion } from "./stats.js";

/** How a gradCall is expanded: the outer derivative rule and the inner gradient's mode. */
export type Expansion = "forwardOverReverse" | "nest" | "innerForward";

export interface GradCallParams {
  ir: IR;
  /** Inputs whose gradient is returned. */
  wrt: number[];
  strategy: Expansion;
  /** The inner transform, for stats and messages. */
  kind: string;
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
  impl: (xs, p) => concreteCall(xs, (ts) => innerValueAndGrad(p, ts)),
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
  testSpec: { cases: [] },
});

export const hvpCallP: DefinedPrimitive<HvpCallParams, "hvpCall"> = definePrimitive<
  HvpCallParams,
  "hvpCall"
>({
  name: "hvpCall",
  linear: true,
  impl: (xs, p) => {
    const n = p.ir.inVars.length;
    return concreteCall(xs, (ts) =>
      hessianVectorProduct(p.ir, ts.slice(0, n), p.rows, p.cols, ts.slice(n)),
    );
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
  testSpec: { cases: [] },
});

/**
 * ⟨∇f(x), t⟩ = Σ_c ∂f/∂x_c · t_c for output 0 of `ir`: linear in the tangents t (on the
 * inputs `cols`); evaluated by one forward pass, transposed by one gradient (gradCall).
 */
export const dirDerivCallP: DefinedPrimitive<DirDerivCallParams, "dirDerivCall"> = definePrimitive<
  DirDerivCallParams,
  "dirDerivCall"
>({
  name: "dirDerivCall",
  linear: true,
  impl: (xs, p) => {
    const n = p.ir.inVars.length;
    return concreteCall(xs, (ts) => {
      const ins = ts.slice(0, n);
      const [, t] = jvp(
        (...ys: Tensor[]) => evalIR(p.ir, merge(ins, p.cols, ys)).slice(0, 1),
        p.cols.map((i) => ins[i]!),
        ts.slice(n),
      ) as [Tensor[], Tensor[]];
      return t;
    });
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
  testSpec: { cases: [] },
});
