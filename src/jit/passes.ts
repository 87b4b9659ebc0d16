/**
 * The IR passes of `ng.jit`, run on the staged program before a backend compiles it. Each
 * pass is a function IR → IR with an off switch: `inline` replaces call primitives (nested
 * derivatives, custom rules, jitted calls) by their expansion into registry primitives;
 * `simplify` removes what AD introduces (adding zeros, multiplying by ones, reshapes,
 * broadcasts and casts to the same type, reshape∘reshape, transpose∘transpose, stop
 * gradients); `fold` evaluates small all-constant equations at compile time; `cse` merges
 * equal equations and equal small constants; `dce` drops what the outputs do not need.
 */
import { IR, liveEquations, Var, type Eqn } from "../core/ir.js";
import { StagingTrace, StagingTracer } from "../core/staging.js";
import { ConcreteTensor, Tensor, Tracer } from "../core/tensor.js";
import { bind, evalTrace, withTrace, type Primitive } from "../core/trace.js";
import { PRIMITIVES } from "../primitives/index.js";
import { idOf, structuralKey } from "./signature.js";
import { addP } from "../primitives/add.js";
import { broadcastToP } from "../primitives/broadcast_to.js";
import { castP } from "../primitives/cast.js";
import { equalP, notEqualP } from "../primitives/compare.js";
import { logicalAndP, logicalOrP } from "../primitives/logical.js";
import { maximumP } from "../primitives/maximum.js";
import { minimumP } from "../primitives/minimum.js";
import { concatenateP } from "../primitives/concatenate.js";
import { divP } from "../primitives/div.js";
import { maxP } from "../primitives/max.js";
import { minP } from "../primitives/min.js";
import { mulP } from "../primitives/mul.js";
import { negP } from "../primitives/neg.js";
import { padP, type PadParams } from "../primitives/pad.js";
import { prodP } from "../primitives/prod.js";
import { reshapeP } from "../primitives/reshape.js";
import { stopGradientP } from "../primitives/stop_gradient.js";
import { subP } from "../primitives/sub.js";
import { sumP } from "../primitives/sum.js";
import { transposeP, type TransposeParams } from "../primitives/transpose.js";

/** Which passes run (all by default). */
export interface PassOptions {
  /** Expand call primitives into registry primitives (required by backends other than the interpreter). */
  inline: boolean;
  /** Remove AD's zeros, ones and identity reshapes/broadcasts/casts/transposes. */
  simplify: boolean;
  /** Evaluate equations whose inputs are all constants and whose outputs are small. */
  fold: boolean;
  /** Merge equal equations (same primitive, params and inputs) and equal small constants. */
  cse: boolean;
  /** Remove equations whose outputs are not needed. */
  dce: boolean;
}

export const PASS_NAMES = ["inline", "simplify", "fold", "cse", "dce"] as const;

export const DEFAULT_PASSES: Readonly<PassOptions> = Object.freeze({
  inline: true,
  simplify: true,
  fold: true,
  cse: true,
  dce: true,
});

/** Equations removed by each pass (inline: call primitives expanded). */
export type PassStats = Record<(typeof PASS_NAMES)[number], number>;

/** Outputs of at most this many elements are folded at compile time. */
export const FOLD_LIMIT = 4096;

const REGISTRY: ReadonlySet<Primitive> = new Set<Primitive>(PRIMITIVES);

/** True when `prim` is a registry primitive (not a call primitive). */
export function isRegistryPrimitive(prim: Primitive): boolean {
  return REGISTRY.has(prim);
}

// ---------------------------------------------------------------------------------------
// Rebuilding IR with substituted variables

/** Builds a new IR from `ir` with some equations replaced and variables substituted. */
class Rewriter {
  readonly subst = new Map<Var, Var>();
  readonly eqns: Eqn[] = [];
  readonly newConsts: [Var, Tensor][] = [];
  constructor(readonly ir: IR) {}
  sub(v: Var): Var {
    let w = v;
    for (let next = this.subst.get(w); next !== undefined; next = this.subst.get(w)) w = next;
    return w;
  }
  /** `eqn` with its inputs substituted (the same object when nothing changed). */
  emit(eqn: Eqn): Eqn {
    const inputs = eqn.inputs.map((v) => this.sub(v));
    const e = inputs.every((v, i) => v === eqn.inputs[i]) ? eqn : { ...eqn, inputs };
    this.eqns.push(e);
    return e;
  }
  build(keepConst: (v: Var) => boolean = () => true): IR {
    const constVars: Var[] = [];
    const consts: Tensor[] = [];
    this.ir.constVars.forEach((v, i) => {
      if (keepConst(v)) {
        constVars.push(v);
        consts.push(this.ir.consts[i]!);
      }
    });
    for (const [v, t] of this.newConsts) {
      constVars.push(v);
      consts.push(t);
    }
    return new IR(
      this.ir.inVars,
      constVars,
      consts,
      this.eqns,
      this.ir.outVars.map((v) => this.sub(v)),
    );
  }
}

function constMap(ir: IR): Map<Var, Tensor> {
  const m = new Map<Var, Tensor>();
  ir.constVars.forEach((v, i) => m.set(v, ir.consts[i]!));
  return m;
}

// ---------------------------------------------------------------------------------------
// dce

/** Dead-code elimination: keeps the equations (and constants) the outputs depend on. */
export function dce(ir: IR): IR {
  const { kept, live } = liveEquations(ir.eqns, ir.outVars);
  const constVars: Var[] = [];
  const consts: Tensor[] = [];
  ir.constVars.forEach((v, i) => {
    if (live.has(v)) {
      constVars.push(v);
      consts.push(ir.consts[i]!);
    }
  });
  return new IR(ir.inVars, constVars, consts, kept, ir.outVars);
}

// ---------------------------------------------------------------------------------------
// cse

/** A key of a small constant's value (dtype, shape, elements), or null for large ones. */
function constKey(t: Tensor): string | null {
  if (!(t instanceof ConcreteTensor) || t.size > FOLD_LIMIT) return null;
  const flat = t.value.flat();
  return `${t.aval}:${Array.from(flat, (x) => (Object.is(x, -0) ? "-0" : String(x))).join(",")}`;
}

const COMMUTATIVE = new Set<Primitive>([
  addP,
  mulP,
  maximumP,
  minimumP,
  equalP,
  notEqualP,
  logicalAndP,
  logicalOrP,
]);

/** Common-subexpression elimination: equal constants and equal equations are merged. */
export function cse(ir: IR): IR {
  const rw = new Rewriter(ir);
  const byValue = new Map<string, Var>();
  const dropped = new Set<Var>();
  ir.constVars.forEach((v, i) => {
    const key = constKey(ir.consts[i]!);
    if (key === null) return;
    const prev = byValue.get(key);
    if (prev === undefined) byValue.set(key, v);
    else {
      rw.subst.set(v, prev);
      dropped.add(v);
    }
  });
  const seen = new Map<string, Eqn>();
  for (const eqn of ir.eqns) {
    const inputs = eqn.inputs.map((v) => rw.sub(v));
    const inIds = inputs.map(idOf);
    // a·b = b·a: commutative primitives see their inputs in a canonical order.
    if (COMMUTATIVE.has(eqn.prim)) inIds.sort((a, b) => a - b);
    const key = `${idOf(eqn.prim)}|${structuralKey(eqn.params)}|${inIds.join(",")}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      eqn.outputs.forEach((v, i) => rw.subst.set(v, prev.outputs[i]!));
      continue;
    }
    seen.set(key, rw.emit(eqn));
  }
  return rw.build((v) => !dropped.has(v));
}

// ---------------------------------------------------------------------------------------
// fold

/** Constant folding: equations of constants with at most FOLD_LIMIT output elements are evaluated now. */
export function fold(ir: IR, limit = FOLD_LIMIT): IR {
  const rw = new Rewriter(ir);
  const values = constMap(ir);
  for (const eqn of ir.eqns) {
    const inputs = eqn.inputs.map((v) => rw.sub(v));
    const small = eqn.outputs.reduce((s, v) => s + v.aval.size, 0) <= limit;
    if (small && inputs.every((v) => values.has(v) && values.get(v) instanceof ConcreteTensor)) {
      const arrays = inputs.map((v) => (values.get(v) as ConcreteTensor).value);
      const outs = eqn.prim.impl(arrays, eqn.params);
      eqn.outputs.forEach((v, i) => {
        const t = new ConcreteTensor(outs[i]!);
        values.set(v, t);
        rw.newConsts.push([v, t]);
      });
      continue;
    }
    rw.emit(eqn);
  }
  return rw.build();
}

// ---------------------------------------------------------------------------------------
// simplify

/** What a simplification rule sees: the substituted inputs and what is known about vars. */
interface SimplifyContext {
  /** True when `v` is known to be all `value` (a constant, or a reshape/broadcast/cast of one). */
  isFilled(v: Var, value: number): boolean;
  /** The (already emitted) equation producing `v`, if any. */
  producer(v: Var): Eqn | undefined;
}

/** A replacement: an existing variable equal to the single output, or a cheaper equation. */
type Simplified = Var | { prim: Primitive; params: unknown; inputs: Var[] } | null;

type SimplifyRule = (inputs: Var[], out: Var, params: any, ctx: SimplifyContext) => Simplified;

/** `x` when it already is what the output would be (same shape and dtype). */
const sameAs = (x: Var | undefined, out: Var): Var | null =>
  x !== undefined && x.aval.equals(out.aval) ? x : null;

/** Output equals the input whenever their types agree (shape-only operations). */
const identityWhenSameType: SimplifyRule = ([x], out) => sameAs(x, out);

const composePerm = (inner: readonly number[], outer: readonly number[]) =>
  outer.map((i) => inner[i]!);
const isIdentityPerm = (p: readonly number[]) => p.every((a, i) => a === i);

const SIMPLIFY = new Map<Primitive, SimplifyRule>([
  // x + 0 = 0 + x = x
  [
    addP,
    ([a, b], out, _p, ctx) =>
      (ctx.isFilled(b!, 0) ? sameAs(a, out) : null) ??
      (ctx.isFilled(a!, 0) ? sameAs(b, out) : null),
  ],
  // x − 0 = x
  [subP, ([a, b], out, _p, ctx) => (ctx.isFilled(b!, 0) ? sameAs(a, out) : null)],
  // x · 1 = 1 · x = x
  [
    mulP,
    ([a, b], out, _p, ctx) =>
      (ctx.isFilled(b!, 1) ? sameAs(a, out) : null) ??
      (ctx.isFilled(a!, 1) ? sameAs(b, out) : null),
  ],
  // x / 1 = x
  [divP, ([a, b], out, _p, ctx) => (ctx.isFilled(b!, 1) ? sameAs(a, out) : null)],
  // −(−x) = x
  [
    negP,
    ([x], out, _p, ctx) => {
      const e = ctx.producer(x!);
      return e?.prim === negP ? sameAs(e.inputs[0], out) : null;
    },
  ],
  [broadcastToP, identityWhenSameType],
  [castP, identityWhenSameType],
  [stopGradientP, identityWhenSameType],
  // Reducing only size-1 axes with keepdims changes nothing.
  [sumP, identityWhenSameType],
  [maxP, identityWhenSameType],
  [minP, identityWhenSameType],
  [prodP, identityWhenSameType],
  [concatenateP, (inputs, out) => (inputs.length === 1 ? sameAs(inputs[0], out) : null)],
  [
    padP,
    ([x], out, p: PadParams) =>
      p.widths.every(([a, b]) => a === 0 && b === 0) ? sameAs(x, out) : null,
  ],
  // reshape(x) to x's shape is x; reshape(reshape(x)) is one reshape of x.
  [
    reshapeP,
    ([x], out, p, ctx) => {
      const same = sameAs(x, out);
      if (same) return same;
      const e = ctx.producer(x!);
      if (e?.prim !== reshapeP) return null;
      return sameAs(e.inputs[0], out) ?? { prim: reshapeP, params: p, inputs: [e.inputs[0]!] };
    },
  ],
  // transpose by the identity is x; transpose(transpose(x, p), q) = transpose(x, p∘q).
  [
    transposeP,
    ([x], out, p: TransposeParams, ctx) => {
      if (isIdentityPerm(p.perm)) return sameAs(x, out);
      const e = ctx.producer(x!);
      if (e?.prim !== transposeP) return null;
      const perm = composePerm((e.params as TransposeParams).perm, p.perm);
      return isIdentityPerm(perm)
        ? sameAs(e.inputs[0], out)
        : { prim: transposeP, params: { perm }, inputs: [e.inputs[0]!] };
    },
  ],
]);

/** Primitives through which "every element equals c" passes unchanged. */
const FILL_PRESERVING = new Set<Primitive>([
  broadcastToP,
  reshapeP,
  transposeP,
  castP,
  stopGradientP,
]);

function allEqual(t: Tensor, value: number): boolean {
  if (!(t instanceof ConcreteTensor)) return false;
  const flat = t.value.flat();
  for (let i = 0; i < flat.length; i++) if (Number(flat[i]) !== value) return false;
  return true;
}

/** Algebraic simplification of what AD introduces (see the module header). */
export function simplify(ir: IR): IR {
  const rw = new Rewriter(ir);
  const values = constMap(ir);
  const producers = new Map<Var, Eqn>();
  const fillCache = new Map<Var, number | null>();
  const fillOf = (v: Var): number | null => {
    if (fillCache.has(v)) return fillCache.get(v)!;
    let r: number | null = null;
    const t = values.get(v);
    if (t !== undefined) {
      if (allEqual(t, 0)) r = 0;
      else if (allEqual(t, 1)) r = 1;
    } else {
      const e = producers.get(v);
      if (e !== undefined && FILL_PRESERVING.has(e.prim)) r = fillOf(e.inputs[0]!);
    }
    fillCache.set(v, r);
    return r;
  };
  const ctx: SimplifyContext = {
    isFilled: (v, value) => fillOf(v) === value,
    producer: (v) => producers.get(v),
  };
  for (const eqn of ir.eqns) {
    const rule = SIMPLIFY.get(eqn.prim);
    if (rule !== undefined && eqn.outputs.length === 1) {
      const inputs = eqn.inputs.map((v) => rw.sub(v));
      const r = rule(inputs, eqn.outputs[0]!, eqn.params, ctx);
      if (r instanceof Var) {
        rw.subst.set(eqn.outputs[0]!, r);
        continue;
      }
      if (r !== null) {
        const e: Eqn = { ...r, outputs: eqn.outputs };
        rw.eqns.push(e);
        producers.set(eqn.outputs[0]!, e);
        continue;
      }
    }
    const e = rw.emit(eqn);
    for (const v of e.outputs) producers.set(v, e);
  }
  return rw.build();
}

// ---------------------------------------------------------------------------------------
// inline

/** At most this many rounds of expansion (each round removes one level of nesting). */
const MAX_INLINE_ROUNDS = 64;

/** Re-stages `ir`, expanding every call primitive by its `expand` rule. */
function expandOnce(ir: IR): IR {
  const staging = new StagingTrace(evalTrace, "ng.jit (inlining calls)");
  const args = ir.inVars.map((v) => staging.newArg(v.aval));
  const outs = withTrace(staging, () => {
    const env = new Map<Var, Tensor>();
    ir.inVars.forEach((v, i) => env.set(v, args[i]!));
    ir.constVars.forEach((v, i) => env.set(v, ir.consts[i]!));
    for (const eqn of ir.eqns) {
      const ins = eqn.inputs.map((v) => env.get(v)!);
      let res: Tensor[];
      if (isRegistryPrimitive(eqn.prim)) res = bind(eqn.prim, ins, eqn.params);
      else if (eqn.prim.expand !== undefined) res = eqn.prim.expand(ins, eqn.params);
      else {
        throw new Error(
          `jit: cannot inline the call primitive '${eqn.prim.name}': it is not in the primitive registry and has no expand rule`,
        );
      }
      eqn.outputs.forEach((v, i) => env.set(v, res[i]!));
    }
    return ir.outVars.map((v) => env.get(v)!);
  });
  const out = staging.build(args, outs);
  out.consts.forEach((c) => {
    if (c instanceof Tracer && !(c instanceof StagingTracer && c.trace === staging)) {
      throw new Error(
        `jit: inlining a call captured a tracer of another transform (${c.toString()}); the staged program must be closed`,
      );
    }
  });
  return out;
}

/** Expands call primitives until every equation is a registry primitive. */
export function inline(ir: IR): IR {
  for (let round = 0; round < MAX_INLINE_ROUNDS; round++) {
    if (ir.eqns.every((e) => isRegistryPrimitive(e.prim))) return ir;
    ir = expandOnce(ir);
  }
  const left = ir.eqns.filter((e) => !isRegistryPrimitive(e.prim)).map((e) => e.prim.name);
  throw new Error(
    `jit: call primitives were still present after ${MAX_INLINE_ROUNDS} rounds of inlining (${[...new Set(left)].join(", ")})`,
  );
}

/** Throws unless every equation of `ir` is a registry primitive. */
export function assertRegistryOnly(ir: IR, what: string): void {
  ir.eqns.forEach((e, k) => {
    if (!isRegistryPrimitive(e.prim)) {
      throw new Error(
        `${what}: equation ${k} applies '${e.prim.name}', which is not a registry primitive (inline the call primitives first)`,
      );
    }
  });
}

// ---------------------------------------------------------------------------------------
// the pipeline

/** The optimised IR and how many equations each pass removed. */
export interface Optimized {
  ir: IR;
  stats: PassStats;
}

/**
 * Runs the enabled passes: inline, then simplify, fold, cse and dce until nothing changes.
 * @example const { ir } = optimize(ng.makeIR(ng.grad(f))(x), DEFAULT_PASSES);
 */
export function optimize(ir: IR, options: Readonly<PassOptions> = DEFAULT_PASSES): Optimized {
  const stats: PassStats = { inline: 0, simplify: 0, fold: 0, cse: 0, dce: 0 };
  const countCalls = (x: IR) => x.eqns.filter((e) => !isRegistryPrimitive(e.prim)).length;
  if (options.inline) {
    stats.inline = countCalls(ir);
    ir = inline(ir);
    assertRegistryOnly(ir, "jit (inline)");
  }
  const steps: [keyof PassStats, (x: IR) => IR][] = [
    ["dce", dce],
    ["simplify", simplify],
    ["fold", fold],
    ["cse", cse],
    ["dce", dce],
  ];
  for (let round = 0; round < 8; round++) {
    const before = ir.eqns.length;
    for (const [name, pass] of steps) {
      if (!options[name]) continue;
      const n = ir.eqns.length;
      ir = pass(ir);
      stats[name] += n - ir.eqns.length;
    }
    if (ir.eqns.length === before) break;
  }
  return { ir, stats };
}
