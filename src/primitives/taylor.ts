/**
 * Helpers shared by the Taylor-mode rules of the primitives (the interpreter
 * is core/taylor.ts): applying a linear map to every direction of a jet, the second-order
 * contractions that differ between the "sum" (Laplacian) and "diag" (Hessian diagonal)
 * passes, the elementwise rule y = φ(x), and a generic rule derived from a primitive's JVP
 * rule (a JVP of the JVP along each direction), written with nestgrad ops throughout.
 */
import { BatchTrace } from "../core/batching.js";
import { JVPTrace } from "../core/jvp.js";
import type { TaylorContext, TaylorValue } from "../core/taylor.js";
import type { Tensor } from "../core/tensor.js";
import { currentTrace, withTrace, type Primitive, type Tangent } from "../core/trace.js";
import { batchToFront } from "./batching.js";
import { mul } from "./mul.js";
import { sum } from "./sum.js";
import { addTangents } from "./tangent.js";

/**
 * f applied to each slice along axis 0 of the jets `ts` (all with the same leading size):
 * one batched call, by the primitives' batch rules.
 */
export function onDirections(f: (...xs: Tensor[]) => Tensor, ...ts: Tensor[]): Tensor {
  const n = ts[0]!.shape[0]!;
  const dirs = new BatchTrace(currentTrace(), n);
  const out = withTrace(dirs, () => f(...ts.map((t) => dirs.lift(t, 0))));
  const [v, bd] = dirs.unpack(out);
  return batchToFront(v, bd, n);
}

/** A linear map applied to a jet (null stays zero). */
export function mapJet(t: Tangent, f: (x: Tensor) => Tensor): Tangent {
  return t === null ? null : onDirections(f, t);
}

/** Σ_j a_j b_j as [1, ...] ("sum") or a_j b_j per direction ([d, ...], "diag"). */
export function dot2(a: Tensor, b: Tensor, ctx: TaylorContext): Tensor {
  const p = mul(a, b);
  return ctx.mode === "sum" ? sum(p, 0, true) : p;
}

/** The rule of a map linear in its one jet-carrying input: apply it to v, J and L alike. */
export function linearJets(x: TaylorValue, f: (t: Tensor) => Tensor): TaylorValue {
  return { value: f(x.value), jet1: mapJet(x.jet1, f), jet2: mapJet(x.jet2, f) };
}

/** y = φ(x) elementwise, given φ'(x) and φ''(x): J_y = φ'·J, L_y = φ'·L + φ''·Σ_j J_j². */
export function elementwiseJets(
  y: Tensor,
  d1: Tensor,
  d2: Tangent,
  x: TaylorValue,
  ctx: TaylorContext,
): TaylorValue {
  const jet1 = x.jet1 && mul(d1, x.jet1);
  if (ctx.order === 1) return { value: y, jet1, jet2: null };
  const curv = d2 && x.jet1 ? mul(d2, dot2(x.jet1, x.jet1, ctx)) : null;
  return { value: y, jet1, jet2: addTangents(x.jet2 && mul(d1, x.jet2), curv) };
}

/**
 * The Taylor rule of any primitive from its JVP rule. Along direction u_j the JVP rule at
 * v + εu_j with tangent u_j yields (y + ε·∂y[u_j], ∂y[u_j] + ε·∂²y[u_j, u_j]), so one JVP of
 * the JVP, batched over j, gives J_y and the curvature; L_y adds the linear term ∂y[L].
 */
export function taylorFromJvp(
  prim: Primitive,
  ins: TaylorValue[],
  params: unknown,
  ctx: TaylorContext,
): TaylorValue[] {
  const d = ctx.directions;
  const dirs = new BatchTrace(currentTrace(), d);
  const pass = withTrace(dirs, () => {
    const us = ins.map((t) => (t.jet1 ? dirs.lift(t.jet1, 0) : null));
    if (ctx.order === 1) {
      const [ys, ts] = prim.jvp(
        ins.map((t) => t.value),
        us,
        params,
      );
      return ys.map((y, k) => [y, ts[k] ?? null, null] as const);
    }
    const eps = new JVPTrace(dirs);
    const ws = ins.map((t, i) => (us[i] ? eps.lift(t.value, us[i]) : t.value));
    const [ys, ts] = withTrace(eps, () => prim.jvp(ws, us, params));
    return ys.map((y, k) => {
      const t = ts[k] ?? null;
      return [eps.unpack(y)[0], eps.unpack(y)[1], t && eps.unpack(t)[1]] as const;
    });
  });
  const front = (t: Tangent): Tangent => {
    if (t === null) return null;
    const [v, bd] = dirs.unpack(t);
    return batchToFront(v, bd, d);
  };
  // ∂y[L]: the JVP rule along each of the k slices of L.
  const lins: Tangent[] =
    ctx.order === 2 && ins.some((t) => t.jet2 !== null)
      ? linearTerms(prim, ins, params)
      : pass.map(() => null);
  return pass.map(([y, j1, q], k) => {
    const curv = front(q);
    const quad = curv && ctx.mode === "sum" ? sum(curv, 0, true) : curv;
    return {
      value: y,
      jet1: front(j1),
      jet2: ctx.order === 2 ? addTangents(lins[k] ?? null, quad) : null,
    };
  });
}

/** The JVP rule applied to the second-order jets: ∂y[L_i] per slice i of L. */
function linearTerms(prim: Primitive, ins: TaylorValue[], params: unknown): Tangent[] {
  const k = ins.find((t) => t.jet2 !== null)!.jet2!.shape[0]!;
  const slices = new BatchTrace(currentTrace(), k);
  const ts = withTrace(slices, () => {
    const ls = ins.map((t) => (t.jet2 ? slices.lift(t.jet2, 0) : null));
    return prim.jvp(
      ins.map((t) => t.value),
      ls,
      params,
    )[1];
  });
  return ts.map((t) => {
    if (t === null) return null;
    const [v, bd] = slices.unpack(t);
    return batchToFront(v, bd, k);
  });
}
