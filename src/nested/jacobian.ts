/**
 * The mode of an inner Jacobian. Under an outer transform, `jacfwd` and `jacrev` of a
 * function with d input and m output elements compute the same matrix, by d forward
 * passes or by m reverse passes. Users write whichever mode they know, so with nested
 * switching on the inner Jacobian is computed in the mode that needs fewer passes, exactly
 * as jacfwd or jacrev would compute it.
 *
 * Passes are counted per sample. Inside `vmap` the arguments already are one sample. Outside
 * it, a function of a batch (every argument and output with the same leading size B) whose
 * Jacobian is block-diagonal over the batch — found by propagating element dependencies
 * through the staged IR, as `ng.di`'s sparsity detection does — is computed by compressed
 * passes: a direction e_j seeded in every sample at once gives column j of every sample's
 * block, so d/B forward (or m/B reverse) passes, vectorised into one vmapped pass, give the
 * whole block-diagonal Jacobian. A
 * function that mixes samples (batch normalisation, a mean over the batch) has off-diagonal
 * dependencies and is treated as one dense block.
 *
 * The mode of a dense Jacobian is cached per inner function and input signature, like the
 * strategy decisions of nested switching (a wrong mode only costs time); a block structure
 * is found again on every call, since the same source text may stand for a function that
 * mixes samples next time. The Jacobian itself is always computed from the fresh function,
 * so nothing the closure holds can be stale.
 */
import type { IR } from "../core/ir.js";
import { Tensor } from "../core/tensor.js";
import { get as getConfig } from "../config.js";
import { broadcastTo } from "../primitives/broadcast_to.js";
import { mul } from "../primitives/mul.js";
import { reshape } from "../primitives/reshape.js";
import { transpose } from "../primitives/transpose.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { eye } from "../ops/creation.js";
import { sizeOf } from "../tensor/shape.js";
import { dependencies } from "../transforms/dependencies.js";
import { jvp } from "../transforms/jvp.js";
import type { JacMode as JacobianMode } from "../transforms/jacobian.js";
import { pullbackOf } from "../transforms/vjp.js";
import { vmap } from "../transforms/vmap.js";
import { cacheKey, lookup, store } from "./cache.js";
import { stageClosed } from "./stage.js";
import { recordFallback, recordJacobianMode } from "./stats.js";

/** Dependency propagation costs one index set per element; above this it is skipped. */
const MAX_STRUCTURE_ELEMENTS = 1 << 18;

export interface JacobianPlan {
  mode: JacobianMode;
  /** B when the Jacobian is block-diagonal over a leading batch axis of size B, else 1. */
  batch: number;
  why: string;
}

/**
 * The batch size B (≥ 2) over which the Jacobian of `ir`'s first `nIn` inputs is
 * block-diagonal (every input and output has leading size B, and output element of sample b
 * depends only on input elements of sample b), or 1.
 */
export function blockStructure(ir: IR, nIn: number): number {
  const ins = ir.inVars.slice(0, nIn).map((v) => v.aval.shape);
  const outs = ir.outVars.map((v) => v.aval.shape);
  const b = ins[0]?.[0];
  if (b === undefined || b < 2) return 1;
  if (![...ins, ...outs].every((s) => s.length >= 1 && s[0] === b)) return 1;
  const inSizes = ins.map(sizeOf);
  const outSizes = outs.map(sizeOf);
  const d = inSizes.reduce((a, c) => a + c, 0);
  const m = outSizes.reduce((a, c) => a + c, 0);
  if (d + m > MAX_STRUCTURE_ELEMENTS) return 1;
  // Number every input element (captured inputs after the differentiated ones, ignored).
  const offsets: number[] = [];
  let n = 0;
  for (const v of ir.inVars) {
    offsets.push(n);
    n += v.aval.size;
  }
  const sampleOfInput = new Int32Array(d);
  inSizes.forEach((s, j) => {
    const per = s / b;
    for (let i = 0; i < s; i++) sampleOfInput[offsets[j]! + i] = Math.floor(i / per);
  });
  const deps = dependencies(ir, offsets);
  for (let k = 0; k < deps.length; k++) {
    const per = outSizes[k]! / b;
    const rows = deps[k]!;
    for (let e = 0; e < rows.length; e++) {
      const sample = Math.floor(e / per);
      for (const i of rows[e]!) if (i < d && sampleOfInput[i] !== sample) return 1;
    }
  }
  return b;
}

/** Chooses the mode with fewer passes per sample; a tie keeps the mode the user wrote. */
export function planJacobian(ir: IR, nIn: number, written: JacobianMode): JacobianPlan {
  const inSize = ir.inVars.slice(0, nIn).reduce((a, v) => a + v.aval.size, 0);
  const outSize = ir.outVars.reduce((a, v) => a + v.aval.size, 0);
  const batch = blockStructure(ir, nIn);
  const d = inSize / batch;
  const m = outSize / batch;
  const mode: JacobianMode = d < m ? "forward" : m < d ? "reverse" : written;
  const per = batch > 1 ? ` per sample (block-diagonal over a batch of ${batch})` : "";
  return {
    mode,
    batch,
    why: `${d} input and ${m} output elements${per}: ${mode} mode needs ${mode === "forward" ? d : m} passes`,
  };
}

/** The n basis directions of one sample's shape, each broadcast over the batch: [n, B, ...shape]. */
function basis(shape: readonly number[], batch: number, dtype: Tensor["dtype"]): Tensor {
  const n = sizeOf(shape);
  return broadcastTo(reshape(eye(n, n, { dtype }), [n, 1, ...shape]), [n, batch, ...shape]);
}

/**
 * Expands per-sample blocks C [B, p, q] (row-major over the sample's output and input
 * elements) into the block-diagonal Jacobian of shape [B, ...outRest, B, ...inRest].
 */
function blockDiagonal(
  c: Tensor,
  batch: number,
  outShape: readonly number[],
  inShape: readonly number[],
): Tensor {
  const p = c.shape[1]!;
  const q = c.shape[2]!;
  const mask = reshape(eye(batch, batch, { dtype: c.dtype }), [batch, 1, batch, 1]);
  const full = mul(reshape(c, [batch, p, 1, q]), mask);
  return reshape(full, [...outShape, ...inShape]);
}

/** Moves axis 0 of x (the direction axis) to position `to`. */
function directionTo(x: Tensor, to: number): Tensor {
  const perm: number[] = [];
  for (let a = 1; a < x.ndim; a++) perm.push(a);
  perm.splice(to, 0, 0);
  return transpose(x, perm);
}

/**
 * The block-diagonal Jacobian by compressed forward passes: blocks[k][j] = ∂out_k/∂x_j of
 * shape [B, ...outRest, B, ...inRest]; per argument j, one JVP vmapped over the directions
 * of one sample, each seeded in every sample at once.
 */
function forwardBlocks(
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  batch: number,
): Tensor[][] {
  const perLeaf = leaves.map((x, j) => {
    const n = sizeOf(x.shape.slice(1));
    let outShapes: (readonly number[])[] = [];
    const cols = vmap((t: Tensor) => {
      const tangents = leaves.map((y, i) => (i === j ? t : zerosLike(y)));
      const [, tout] = jvp((...xs: Tensor[]) => fn(xs), leaves, tangents) as [Tensor[], Tensor[]];
      outShapes = tout.map((o) => o.shape);
      return tout;
    })(basis(x.shape.slice(1), batch, x.dtype)) as Tensor[];
    return cols.map((col, k) => {
      // col [n, B, ...outRest] → per-sample blocks [B, p, n]
      const oShape = outShapes[k]!;
      const c = reshape(directionTo(col, oShape.length), [batch, sizeOf(oShape.slice(1)), n]);
      return blockDiagonal(c, batch, oShape, x.shape);
    });
  });
  const nOut = perLeaf[0]?.length ?? 0;
  return Array.from({ length: nOut }, (_o, k) => perLeaf.map((cols) => cols[k]!));
}

/**
 * The block-diagonal Jacobian by compressed reverse passes: one linearization of fn, and
 * per output k one pullback vmapped over the cotangents of one sample, each seeded in every
 * sample at once.
 */
function reverseBlocks(
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  batch: number,
  fname: string,
  origin: unknown,
): Tensor[][] {
  // The inner pullback is itself switched (nest, forward-over-reverse, ...; docs/nested.md).
  const lin = pullbackOf(fn, leaves, fname, origin);
  const blocks = lin.outs.map((o, k) => {
    const n = sizeOf(o.shape.slice(1));
    const rows = vmap((u: Tensor) => lin.pullback(lin.outs.map((_p, i) => (i === k ? u : null))))(
      basis(o.shape.slice(1), batch, o.dtype),
    ) as Tensor[];
    return rows.map((row, j) => {
      // row [n, B, ...inRest] → per-sample blocks [B, n, q]
      const x = leaves[j]!;
      const c = reshape(directionTo(row, 1), [batch, n, sizeOf(x.shape.slice(1))]);
      return blockDiagonal(c, batch, o.shape, x.shape);
    });
  });
  lin.release(); // every pullback ran (ng.memory)
  return blocks;
}

/**
 * The handler installed into jacfwd and jacrev: null when switching is off or the function
 * cannot be staged (then the transform runs as written); the mode for one dense block
 * (computed by the transform); the Jacobian itself for a block-diagonal one.
 */
export function nestedJacobian(
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  written: JacobianMode,
  fname: string,
  origin: unknown,
): JacobianMode | Tensor[][] | null {
  if (!getConfig().nestedSwitching) return null;
  const key = cacheKey(origin, `${fname} mode`, leaves);
  const hit = lookup(key)?.jacobian;
  let plan: JacobianPlan;
  if (hit !== undefined) {
    plan = hit;
  } else {
    const r = stageClosed(fn, leaves, `nested ${fname} (mode)`);
    if (!r.ok) {
      recordFallback(r.reason, () => `${fname}: ${r.detail}`);
      return null;
    }
    plan = planJacobian(r.staged.ir, leaves.length, written);
    // Only a dense plan is cached: its mode changes the cost, never the result. A block
    // structure is a property of what the closure holds now (the same source text may
    // stand for a function that mixes samples next time), so it is found again each call.
    if (plan.batch === 1) store(key, { strategy: plan.mode, why: plan.why, jacobian: plan });
  }
  recordJacobianMode(fname, plan.mode, plan.why, hit !== undefined);
  // One dense block: the transform computes it in the chosen mode, as it would if written so.
  if (plan.batch === 1) return plan.mode;
  return plan.mode === "forward"
    ? forwardBlocks(fn, leaves, plan.batch)
    : reverseBlocks(fn, leaves, plan.batch, fname, origin);
}
