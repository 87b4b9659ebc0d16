/**
 * User-defined derivative rules: `customJvp` and `customVjp`. Both are
 * higher-order primitives whose rules call the user's functions, which are written in
 * nestgrad ops, so functions with custom rules differentiate again to any order. Unlike
 * JAX, a customVjp function can also be forward-differentiated: its tangent map is the
 * transpose of the user's (linear) backward function, obtained by reverse mode on it.
 * Under vmap the call stays a custom-rule call: its batch rule binds the same primitive
 * with the user's functions vmapped, so the custom rule is still used for every example.
 */
import { ShapedArray } from "../core/aval.js";
import type { BatchDim } from "../core/batching.js";
import { ConcreteTensor, ConcretizationError, Tensor } from "../core/tensor.js";
import { unflatten, type TreeDef } from "../core/tree.js";
import { bind, evalTrace, withTrace, type Tangent } from "../core/trace.js";
import { formatShape, shapesEqual } from "../tensor/shape.js";
import { definePrimitive, type DefinedPrimitive } from "../primitives/define.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { cast } from "../primitives/cast.js";
import { sum } from "../primitives/sum.js";
import { batchToFront } from "../primitives/batching.js";
import { flattenTensors, matchTree, type FlatTree } from "./args.js";
import type { Fn, TangentOf, Tensors } from "./types.js";
import { checkFunction, describeResult } from "../util/check.js";
// Internal: residuals may be integers, carried with zero tangents.
import { jvpUnchecked as jvp } from "./jvp.js";
import { stageFlat } from "./make_ir.js";
import { vjp } from "./vjp.js";
import { vmap } from "./vmap.js";

type FlatFn = (xs: Tensor[]) => Tensor[];

/**
 * Batched operands of a custom call: batched values with their vmap axis moved to 0 and
 * the vmap in-axes (0, or null for an unbatched value) of the vmapped user functions.
 */
function toFront(
  xs: readonly Tensor[],
  dims: readonly BatchDim[],
  size: number,
): [Tensor[], (0 | null)[]] {
  const axes = dims.map((d) => (d === null || d === undefined ? null : 0));
  return [xs.map((x, i) => (axes[i] === null ? x : batchToFront(x, dims[i]!, size))), axes];
}

/** A flat function vmapped over its leaves with the given in-axes; every output at axis 0. */
function vmapFlat(fn: FlatFn, axes: readonly (0 | null)[]): FlatFn {
  return (xs) => vmap((ys: Tensor[]) => fn(ys), [axes])(xs);
}

/** Output avals of a flat function, found by staging it. */
function outputAvals(fn: FlatFn, avals: ShapedArray[]): ShapedArray[] {
  const dummies = avals.map((a) => ({ aval: a }) as Tensor);
  return stageFlat(fn, dummies, "a custom rule's shape inference").outVars.map((v) => v.aval);
}

function checkTangents(
  what: string,
  outs: readonly Tensor[],
  touts: readonly Tensor[],
  paths: readonly string[],
): void {
  if (touts.length !== outs.length) {
    throw new TypeError(
      `${what}: returned ${touts.length} tangent leaves for ${outs.length} outputs`,
    );
  }
  touts.forEach((t, i) => {
    if (!shapesEqual(t.shape, outs[i]!.shape)) {
      throw new RangeError(
        `${what}: tangent of output${paths[i] ?? ""} has shape ${formatShape(t.shape)}, expected ${formatShape(outs[i]!.shape)}`,
      );
    }
  });
}

/**
 * The rule's primal outputs must have f's output shapes. f is staged (not run) to learn
 * them; an f that reads values cannot be staged, and then its eager outputs are used.
 */
function checkRuleOutputs(
  fn: FlatFn,
  primals: Tensor[],
  outs: readonly Tensor[],
  paths: readonly string[],
): void {
  let expected: readonly ShapedArray[];
  try {
    expected = outputAvals(
      fn,
      primals.map((p) => p.aval),
    );
  } catch (e) {
    if (!(e instanceof ConcretizationError)) throw e;
    expected = fn(primals).map((o) => o.aval);
  }
  if (expected.length !== outs.length) {
    throw new TypeError(
      `customJvp: the JVP rule returned ${outs.length} outputs but f returns ${expected.length}`,
    );
  }
  outs.forEach((o, i) => {
    if (!shapesEqual(o.shape, expected[i]!.shape)) {
      throw new RangeError(
        `customJvp: the JVP rule's output${paths[i] ?? ""} has shape ${formatShape(o.shape)}, but f's output has shape ${formatShape(expected[i]!.shape)}`,
      );
    }
  });
}

interface CustomJvpParams {
  fn: FlatFn;
  rule: (primals: Tensor[], tangents: Tensor[]) => [Tensor[], Tensor[]];
  paths: string[];
}

const customJvpCallP: DefinedPrimitive<CustomJvpParams, "customJvpCall"> = definePrimitive<
  CustomJvpParams,
  "customJvpCall"
>({
  name: "customJvpCall",
  impl: (xs, { fn }) =>
    withTrace(evalTrace, () => fn(xs.map((x) => new ConcreteTensor(x)))).map((t) =>
      t.concrete("customJvp"),
    ),
  expand: (xs, { fn }) => fn(xs),
  abstractEval: (avals, { fn }) => outputAvals(fn, avals),
  jvp: (primals, tangents, { fn, rule, paths }) => {
    const [outs, touts] = rule(
      primals,
      tangents.map((t, i) => t ?? zerosLike(primals[i]!)),
    );
    checkRuleOutputs(fn, primals, outs, paths);
    checkTangents("customJvp: the JVP rule", outs, touts, paths);
    return [outs, touts.map((t, i) => (t.dtype === outs[i]!.dtype ? t : cast(t, outs[i]!.dtype)))];
  },
  // vmap: the same call with f and the rule vmapped (a tangent is batched like its
  // primal), so the custom rule keeps acting on every example; outputs at axis 0.
  batch: (xs, dims, p, size) => {
    const [args, axes] = toFront(xs, dims, size);
    const params: CustomJvpParams = {
      fn: vmapFlat(p.fn, axes),
      rule: (ps, ts) =>
        vmap((a: Tensor[], b: Tensor[]) => p.rule(a, b), [axes, axes])(ps, ts) as [
          Tensor[],
          Tensor[],
        ],
      paths: p.paths,
    };
    const outs = bind(customJvpCallP, args, params);
    return [outs, outs.map(() => 0)];
  },
  testSpec: { cases: [] },
});

/**
 * f with a user-supplied forward-mode rule `rule(primals, tangents) -> [out, tangentOut]`
 * (both argument lists; the rule is written in nestgrad ops and may be differentiated again).
 * @example const f = ng.customJvp((x) => ng.log1p(ng.exp(x)), ([x], [t]) => [ng.log1p(ng.exp(x)), ng.mul(t, ng.sigmoid(x))]);
 */
export function customJvp<F extends Fn>(
  f: F,
  rule: (
    primals: Parameters<F>,
    tangents: Tensors<Parameters<F>>,
  ) => readonly [TangentOf<ReturnType<F>>, TangentOf<ReturnType<F>>],
): (...args: Parameters<F>) => ReturnType<F> {
  checkFunction("customJvp", f, "f");
  checkFunction("customJvp", rule, "rule");
  return (...args: Parameters<F>): ReturnType<F> => {
    const inFlat = flattenTensors(args, "customJvp: argument ");
    let outDef: TreeDef | undefined;
    let paths: string[] = [];
    const fn: FlatFn = (xs) => {
      const o = flattenTensors(
        f(...unflatten<unknown[]>(inFlat.def, xs)),
        "customJvp: output of f",
      );
      outDef = o.def;
      paths = o.paths;
      return o.leaves;
    };
    const flatRule = (ps: Tensor[], ts: Tensor[]): [Tensor[], Tensor[]] => {
      const pair = rule(unflatten(inFlat.def, ps), unflatten(inFlat.def, ts));
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(
          `customJvp: rule must return [out, tangentOut], got ${describeResult(pair)}`,
        );
      }
      const [out, tout] = pair;
      const o = flattenTensors(out, "customJvp: rule output");
      outDef ??= o.def;
      const t = matchTree(o, tout, "customJvp: rule tangent output", "rule primal output");
      return [o.leaves, t];
    };
    const outs = bind(customJvpCallP, inFlat.leaves, {
      fn,
      rule: flatRule,
      paths,
    } satisfies CustomJvpParams);
    // fn/flatRule record the output structure when they run; fn returns flat leaves, so call f itself otherwise.
    outDef ??= flattenTensors(f(...args), "customJvp: output of f").def;
    return unflatten<ReturnType<F>>(outDef, outs);
  };
}

interface CustomVjpParams {
  fn: FlatFn;
  fwd: (xs: Tensor[]) => [Tensor[], Tensor[]];
  bwd: (res: Tensor[], cts: Tensor[]) => Tensor[];
  nres: number;
}

interface LinearParams {
  bwd: (res: Tensor[], cts: Tensor[]) => Tensor[];
  nres: number;
  outAvals: ShapedArray[];
}

/** Forward tangent map of a customVjp function: the transpose of ct -> bwd(res, ct). */
function forwardFromBwd(p: LinearParams, res: Tensor[], ts: Tensor[]): Tensor[] {
  const zeros = p.outAvals.map((a) => zerosLike(a));
  const [, pullback] = vjp((cts: Tensor[]) => p.bwd(res, cts), zeros);
  return pullback(ts)[0] as Tensor[];
}

const customVjpLinearP: DefinedPrimitive<LinearParams, "customVjpLinear"> = definePrimitive<
  LinearParams,
  "customVjpLinear"
>({
  name: "customVjpLinear",
  linear: true,
  impl: (xs, p) =>
    withTrace(evalTrace, () => {
      const ts = xs.map((x) => new ConcreteTensor(x));
      return forwardFromBwd(p, ts.slice(0, p.nres), ts.slice(p.nres)).map((t) =>
        t.concrete("customVjp"),
      );
    }),
  expand: (xs, p) => forwardFromBwd(p, xs.slice(0, p.nres), xs.slice(p.nres)),
  abstractEval: (_avals, p) => p.outAvals,
  // Linear in the tangents, nonlinear in the residuals: differentiate the forward map itself.
  jvp: (primals, tangents, p) => {
    const res = primals.slice(0, p.nres);
    const ts = primals.slice(p.nres);
    const dres = tangents.slice(0, p.nres).map((t, i) => t ?? zerosLike(res[i]!));
    const dts = tangents.slice(p.nres).map((t, i) => t ?? zerosLike(ts[i]!));
    const [out, tout] = jvp(
      (r: Tensor[], t: Tensor[]) => forwardFromBwd(p, r, t),
      [res, ts],
      [dres, dts],
    );
    return [out as Tensor[], tout as Tangent[]];
  },
  transpose: (cts, inputs, p) => {
    const res = inputs.slice(0, p.nres) as Tensor[];
    const ctsFull = cts.map((c, i) => c ?? zerosLike(p.outAvals[i]!));
    const back = p.bwd(res, ctsFull);
    return [...res.map(() => null), ...back];
  },
  // vmap: every tangent goes to axis 0 (an unbatched one is broadcast, whose transpose
  // sums), residuals keep their axis or stay unbatched, and bwd is vmapped.
  batch: (xs, dims, p, size) => {
    const [res, resAxes] = toFront(xs.slice(0, p.nres), dims.slice(0, p.nres), size);
    const ts = xs.slice(p.nres).map((t, k) => batchToFront(t, dims[p.nres + k] ?? null, size));
    const params: LinearParams = {
      bwd: (r, cts) =>
        vmap((a: Tensor[], b: Tensor[]) => p.bwd(a, b), [resAxes, 0])(r, cts) as Tensor[],
      nres: p.nres,
      outAvals: p.outAvals.map((a) => new ShapedArray([size, ...a.shape], a.dtype)),
    };
    const outs = bind(customVjpLinearP, [...res, ...ts], params);
    return [outs, outs.map(() => 0)];
  },
  testSpec: { cases: [] },
});

const customVjpCallP: DefinedPrimitive<CustomVjpParams, "customVjpCall"> = definePrimitive<
  CustomVjpParams,
  "customVjpCall"
>({
  name: "customVjpCall",
  impl: (xs, { fn }) =>
    withTrace(evalTrace, () => fn(xs.map((x) => new ConcreteTensor(x)))).map((t) =>
      t.concrete("customVjp"),
    ),
  expand: (xs, { fn }) => fn(xs),
  abstractEval: (avals, { fn }) => outputAvals(fn, avals),
  jvp: (primals, tangents, p) => {
    const [outs, res] = p.fwd(primals);
    const ts = tangents.map((t, i) => t ?? zerosLike(primals[i]!));
    const lp: LinearParams = { bwd: p.bwd, nres: res.length, outAvals: outs.map((o) => o.aval) };
    return [outs, bind(customVjpLinearP, [...res, ...ts], lp)];
  },
  // vmap: the same call with f, fwd and bwd vmapped, so the custom rule keeps acting on
  // every example. The cotangent of an unbatched argument is the sum over the examples.
  batch: (xs, dims, p, size) => {
    const [args, axes] = toFront(xs, dims, size);
    const params: CustomVjpParams = {
      fn: vmapFlat(p.fn, axes),
      fwd: (ys) => vmap((a: Tensor[]) => p.fwd(a), [axes])(ys) as [Tensor[], Tensor[]],
      bwd: (res, cts) => {
        const back = vmap((a: Tensor[], b: Tensor[]) => p.bwd(a, b), [0, 0])(res, cts) as Tensor[];
        return back.map((c, i) => (axes[i] === null ? sum(c, 0) : c));
      },
      nres: p.nres,
    };
    const outs = bind(customVjpCallP, args, params);
    return [outs, outs.map(() => 0)];
  },
  testSpec: { cases: [] },
});

/**
 * f with a user-supplied reverse-mode rule: `fwd(...args) -> [out, residuals]` and
 * `bwd(residuals, ctOut) -> [ct for each argument]`, both written in nestgrad ops.
 * @example const clipGrad = ng.customVjp((x) => x, (x) => [x, null], (_r, g) => [ng.clip(g, -1, 1)]);
 */
export function customVjp<F extends Fn, Res>(
  f: F,
  fwd: (...args: Parameters<F>) => readonly [TangentOf<ReturnType<F>>, Res],
  bwd: (residuals: Res, ct: Tensors<ReturnType<F>>) => readonly unknown[],
): (...args: Parameters<F>) => ReturnType<F> {
  checkFunction("customVjp", f, "f");
  checkFunction("customVjp", fwd, "fwd");
  checkFunction("customVjp", bwd, "bwd");
  return (...args: Parameters<F>): ReturnType<F> => {
    const inFlat = flattenTensors(args, "customVjp: argument ");
    let outFlat: FlatTree | undefined;
    let resDef: TreeDef | undefined;
    const fn: FlatFn = (xs) => {
      outFlat = flattenTensors(
        f(...unflatten<unknown[]>(inFlat.def, xs)),
        "customVjp: output of f",
      );
      return outFlat.leaves;
    };
    const flatFwd = (xs: Tensor[]): [Tensor[], Tensor[]] => {
      const r = fwd(...unflatten<Parameters<F>>(inFlat.def, xs));
      if (!Array.isArray(r) || r.length !== 2)
        throw new TypeError(
          `customVjp: fwd must return [output, residuals], got ${describeResult(r)}`,
        );
      const o = flattenTensors(r[0], "customVjp: fwd output");
      outFlat ??= o;
      const res = flattenTensors(r[1], "customVjp: residuals");
      resDef = res.def;
      return [o.leaves, res.leaves];
    };
    const flatBwd = (res: Tensor[], cts: Tensor[]): Tensor[] => {
      const ctTree = unflatten(outFlat!.def, cts);
      const back = bwd(unflatten(resDef!, res), ctTree as Tensors<ReturnType<F>>);
      if (!Array.isArray(back) || back.length !== args.length) {
        throw new TypeError(
          `customVjp: bwd must return an array with one cotangent per argument (${args.length}), got ${Array.isArray(back) ? back.length : typeof back}`,
        );
      }
      const ref: FlatTree = inFlat;
      return matchTree(
        ref,
        back.map((b, i) => b ?? zerosLike(args[i])),
        "customVjp: bwd cotangent",
        "arguments",
      ).map((c, i) => (c.dtype === ref.leaves[i]!.dtype ? c : cast(c, ref.leaves[i]!.dtype)));
    };
    const outs = bind(customVjpCallP, inFlat.leaves, { fn, fwd: flatFwd, bwd: flatBwd, nres: 0 });
    outFlat ??= flattenTensors(f(...args), "customVjp: output of f");
    return unflatten<ReturnType<F>>(outFlat.def, outs);
  };
}
