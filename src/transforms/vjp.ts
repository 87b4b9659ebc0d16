/**
 * Reverse mode as linearize + transpose: f is run under a JVP trace whose
 * tangents are abstract tracers of a staging trace, which records the linear tangent
 * program as IR while primal values are computed eagerly; the pullback evaluates that IR
 * transposed. Because every rule is written with nestgrad ops, the pullback can itself be
 * differentiated, in either mode.
 */
import { JVPTrace } from "../core/jvp.js";
import { StagingTrace } from "../core/staging.js";
import type { Tensor } from "../core/tensor.js";
import type { IR } from "../core/ir.js";
import { backwardPass } from "../core/transpose.js";
import { unflatten } from "../core/tree.js";
import { currentTrace, evalTrace, withTrace, type Tangent } from "../core/trace.js";
import {
  registerResiduals,
  releaseResiduals,
  releaseWhenCollected,
  setDisposer,
  type Residuals,
} from "../core/ledger.js";
import { isFloat } from "../tensor/dtype.js";
import { add } from "../primitives/add.js";
import { cast } from "../primitives/cast.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { checkFunction, checkReturned } from "../util/check.js";
import { flattenTensors, matchTree, type FlatTree } from "./args.js";
import type { Fn, TangentOf, Tensors } from "./types.js";

/** The result of linearizing a flat function at a point. */
export interface Linearized {
  outs: Tensor[];
  /** Linear map from input tangents (float inputs only, in order) to output tangents (non-zero ones). */
  ir: IR;
  /** Which inputs have a tangent argument in `ir`. */
  inMask: boolean[];
  /** For each output, its index among `ir`'s outputs, or -1 when its tangent is zero. */
  outIndex: number[];
  /** The memory ledger's record of the concrete arrays `ir` captured (ng.memory). */
  residuals: Residuals;
  /**
   * False: the first pullback releases the residuals from the ledger (one pullback, as in
   * grad). True: several pullbacks may run, and the owner calls `releaseLinearized`.
   */
  reuse: boolean;
}

/**
 * Linearizes `fn` at `primals`: primal outputs plus the linear tangent program as IR. Its
 * residuals are registered in the memory ledger under `owner`; see `Linearized.reuse` for
 * when they are released.
 */
export function linearizeFlat(
  fn: (xs: Tensor[]) => Tensor[],
  primals: readonly Tensor[],
  owner = "internal",
  reuse = false,
): Linearized {
  const staging = new StagingTrace(currentTrace(), "reverse mode");
  const jvpTrace = new JVPTrace(staging);
  const inMask = primals.map((p) => isFloat(p.dtype));
  const tanIn = primals.flatMap((p, i) => (inMask[i] ? [staging.newArg(p.aval)] : []));
  let k = 0;
  const args = primals.map((p, i) => (inMask[i] ? jvpTrace.lift(p, tanIn[k++]!) : p));
  const outs = withTrace(jvpTrace, () => fn(args));
  const primalsOut: Tensor[] = [];
  const tanOut: Tensor[] = [];
  const outIndex: number[] = [];
  for (const o of outs) {
    const [p, t] = jvpTrace.unpack(o);
    primalsOut.push(p);
    if (t === null) outIndex.push(-1);
    else {
      outIndex.push(tanOut.length);
      tanOut.push(t);
    }
  }
  const ir = staging.build(tanIn, tanOut);
  return { outs: primalsOut, ir, inMask, outIndex, residuals: registerResiduals(ir, owner), reuse };
}

/** Releases a linearization's residuals from the memory ledger (its owner is done with it). */
export function releaseLinearized(lin: Linearized): void {
  releaseResiduals(lin.residuals);
}

/** Applies the transpose of a linearization: output cotangents -> input cotangents (zeros filled in). */
export function pullbackFlat(
  lin: Linearized,
  primals: readonly Tensor[],
  cts: readonly Tangent[],
): Tensor[] {
  const irCts: Tangent[] = new Array(lin.ir.outVars.length).fill(null);
  lin.outIndex.forEach((j, i) => {
    if (j >= 0) irCts[j] = cts[i] ?? null;
  });
  let inCts: Tangent[];
  try {
    inCts = backwardPass(lin.ir, irCts, add);
  } finally {
    if (!lin.reuse) releaseResiduals(lin.residuals);
  }
  let k = 0;
  return primals.map((p, i) => {
    const ct = lin.inMask[i] ? inCts[k++] : null;
    return ct ?? zerosLike(p);
  });
}

/** Primal outputs and a pullback from output cotangents to input cotangents. */
export interface Pullback {
  outs: Tensor[];
  pullback(cts: readonly Tangent[]): Tensor[];
  /**
   * The owner is done pulling back: releases the residuals from the memory ledger (and
   * drops them, so that the pullback cannot run again). If never called, they are
   * released when this object is garbage collected.
   */
  release(): void;
}

/**
 * Handles an inner vjp/jacrev while an outer transform is active (nested
 * switching); returns null to fall back to plain nesting. Installed by nested/.
 */
export type NestedPullbackHandler = (
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  fname: string,
  /** The user's inner function: what the handler's decision cache keys on. */
  origin?: unknown,
) => Pullback | null;

let nestedPullbackHandler: NestedPullbackHandler | null = null;

/** Installs (or removes, with null) the nested-switching handler of vjp and jacrev. */
export function setNestedPullbackHandler(handler: NestedPullbackHandler | null): void {
  nestedPullbackHandler = handler;
}

/** Linearizes `fn` for pullbacks, through nested switching when an outer transform is active. */
export function pullbackOf(
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  fname: string,
  origin?: unknown,
): Pullback {
  if (nestedPullbackHandler !== null && currentTrace() !== evalTrace) {
    const r = nestedPullbackHandler(fn, leaves, fname, origin);
    if (r !== null) return r;
  }
  return heldPullback(linearizeFlat(fn, leaves, fname, true), leaves, fname);
}

/**
 * A Pullback over a linearization that several pullbacks share: `release` releases its
 * residuals and drops the reference to them; a forgotten release happens when the
 * Pullback is garbage collected.
 */
export function heldPullback(lin: Linearized, leaves: readonly Tensor[], fname: string): Pullback {
  let held: Linearized | null = lin;
  const p: Pullback = {
    outs: lin.outs,
    pullback: (cts) => {
      if (held === null) {
        throw new Error(
          `${fname}: this pullback was disposed (ng.memory.dispose); call ${fname} again for a new one`,
        );
      }
      return pullbackFlat(held, leaves, cts);
    },
    release: () => {
      if (held !== null) releaseLinearized(held);
      held = null;
    },
  };
  releaseWhenCollected(p, lin.residuals);
  return p;
}

/** The pullback of `vjp(f, ...)`: output cotangent -> one cotangent per argument of f. */
export type VjpPullback<F extends Fn> = (ct: TangentOf<ReturnType<F>>) => Tensors<Parameters<F>>;

/**
 * Vector-Jacobian product: returns f(...primals) and a pullback that maps a cotangent of
 * the output (same structure and shapes) to a list of cotangents, one per argument.
 * The pullback takes a cotangent of f's output type and returns a tuple of f's argument types.
 * @example const [y, pullback] = ng.vjp((x: ng.Tensor) => ng.sum(ng.sin(x)), x); const [dx] = pullback(ng.array(1));
 */
export function vjp<F extends Fn>(
  f: F,
  ...primals: Parameters<F>
): [Tensors<ReturnType<F>>, VjpPullback<F>] {
  checkFunction("vjp", f);
  const inP = flattenTensors(primals, "vjp: primals");
  let outFlat: FlatTree | undefined;
  const lin = pullbackOf(
    (xs) => {
      const out = f(...unflatten<unknown[]>(inP.def, xs));
      checkReturned("vjp", out);
      outFlat = flattenTensors(out, "vjp: output of f");
      return outFlat.leaves;
    },
    inP.leaves,
    "vjp",
    f,
  );
  const outDef = outFlat!;
  const refOut: FlatTree = { leaves: lin.outs, def: outDef.def, paths: outDef.paths };
  const pullback = (ct: TangentOf<ReturnType<F>>): Tensors<Parameters<F>> => {
    const cts = matchTree(refOut, ct, "vjp: cotangent", "output of f").map((c, i) => {
      const d = refOut.leaves[i]!.dtype;
      return c.dtype === d || !isFloat(d) ? c : cast(c, d);
    });
    return unflatten<Tensors<Parameters<F>>>(inP.def, lin.pullback(cts));
  };
  // The user holds the pullback: its residuals count until it is collected or disposed.
  setDisposer(pullback, lin.release);
  return [unflatten<Tensors<ReturnType<F>>>(outDef.def, lin.outs), pullback];
}
