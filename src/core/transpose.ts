/**
 * Transposition of linear IR. Walks
 * the equations backwards, asking each primitive's transpose rule for the cotangents of
 * its linear inputs; constants of the IR are the non-linear (residual) inputs.
 *
 * Buffer recycling. An eager backward pass (every value concrete, no transform around
 * it) knows exactly when each cotangent dies: when its equation's transpose rule has
 * consumed it, or when it has been accumulated into another. Kernels run during such a
 * pass take their large outputs (at least POOL_MIN_SIZE elements) from a pool of
 * recycled buffers, through the allocation hook of tensor/alloc_hook.ts, and a dead
 * cotangent's buffer goes back to that pool. Rules may return views of their input
 * cotangents (reshape, transpose, broadcast...) or one value for two inputs (add), so
 * liveness is counted per underlying ArrayBuffer: the number of cotangent-environment
 * entries (and values in flight) that reference it. Only buffers taken from the pool
 * during this pass are ever released; never the caller's cotangents, the IR's constants,
 * the returned input cotangents, nor anything a call primitive (one with `expand`: a
 * customVjp, a nested call, a jit call, whose rules run user functions that may keep
 * references) has seen. Returned cotangents are ordinary arrays: one that lives in a
 * pooled buffer longer than itself (a size class above its size) is copied out.
 */
import { debugNans, inRule, originOf } from "./debug.js";
import type { IR, Var } from "./ir.js";
import { ConcreteTensor, type Tensor } from "./tensor.js";
import { currentTrace, evalTrace, LinearInput, type Tangent } from "./trace.js";
import { swapAllocationHook, type AllocationHook } from "../tensor/alloc_hook.js";
import type { DataArray, DType } from "../tensor/dtype.js";
import { NDArray } from "../tensor/ndarray.js";
import { BufferPool, type PoolStats } from "../tensor/pool.js";
import { checkOptions, describe, optionKeys } from "../util/options.js";

/**
 * The default smallest array (in elements) the backward pass recycles. Below it a fresh
 * allocation costs a microsecond or two, about what the bookkeeping would, and the pass
 * does none.
 */
export const POOL_MIN_SIZE = 16384;

const pool = new BufferPool();
/** ArrayBuffers this module has released to `pool`: taking one back is a hit (dirty memory). */
const recycled = new WeakSet<ArrayBufferLike>();
let enabled = true;
let minSize = POOL_MIN_SIZE;
const counters = { passes: 0, released: 0, copiedOut: 0 };

/** Settings of buffer recycling in the eager backward pass. */
export interface EagerPoolSettings {
  /** Recycle at all (default true). Off, every kernel output is a fresh allocation. */
  enabled?: boolean;
  /** The smallest array, in elements, that is recycled (default POOL_MIN_SIZE). */
  minSize?: number;
}
const SETTING_KEYS = optionKeys<EagerPoolSettings>()(["enabled", "minSize"]);

/**
 * Changes the recycling settings of the eager backward pass and returns the previous ones
 * (pass them back to restore). Results are bitwise the same with any settings.
 */
export function setEagerPool(settings: EagerPoolSettings): Required<EagerPoolSettings> {
  const s = checkOptions("setEagerPool", settings, SETTING_KEYS, "settings");
  if (s.enabled !== undefined && typeof s.enabled !== "boolean") {
    throw new TypeError(
      `setEagerPool: settings.enabled: expected a boolean, got ${describe(s.enabled)}`,
    );
  }
  if (s.minSize !== undefined && !(Number.isInteger(s.minSize) && s.minSize >= 1)) {
    throw new RangeError(
      `setEagerPool: settings.minSize: expected an integer ≥ 1, got ${describe(s.minSize)}`,
    );
  }
  const prev = { enabled, minSize };
  if (s.enabled !== undefined) enabled = s.enabled;
  if (s.minSize !== undefined) minSize = s.minSize;
  return prev;
}

/**
 * Counters of the backward pass's buffer pool (for tests and tuning): the pool's own
 * (`hits`: takes served with recycled memory, `misses`: takes that allocated) and these.
 */
export interface EagerPoolStats extends PoolStats {
  /** Backward passes that recycled buffers (eager, concrete, with the pool on). */
  passes: number;
  /** Dead cotangent buffers given back to the pool. */
  released: number;
  /** Returned cotangents copied out of a larger pooled buffer. */
  copiedOut: number;
}

/** The pool's counters. */
export function eagerPoolStats(): EagerPoolStats {
  return {
    ...pool.stats(),
    passes: counters.passes,
    released: counters.released,
    copiedOut: counters.copiedOut,
  };
}

/** Drops the buffers the pool holds (they are left to the garbage collector). */
export function clearEagerPool(): void {
  pool.clear();
}

/** A pooled buffer taken during a pass: the pool's whole array, and the references to it. */
interface Slot {
  readonly whole: DataArray;
  /** What `take` handed out: the first `size` elements of `whole`, a distinct object. */
  readonly given: DataArray;
  /** Cotangent-environment entries and in-flight values that reference the buffer. */
  refs: number;
}

/**
 * The buffers of one backward pass: the allocation hook while the pass runs, and the
 * reference counts of the cotangents that live in pooled buffers.
 */
class PassBuffers implements AllocationHook {
  readonly minSize = minSize;
  /** Pooled buffers taken during this pass and not yet released, forgotten or escaped. */
  private readonly slots = new Map<ArrayBufferLike, Slot>();

  take(dtype: DType, size: number, zero: boolean): DataArray {
    const whole = pool.acquire(dtype, size);
    const mem = whole.buffer;
    // Always a new view object: no cache keyed by an array object can see a recycled one.
    const given = whole.subarray(0, size);
    // memory new from the allocator is zero already; recycled memory is cleared if asked
    if (zero && recycled.has(mem)) given.fill(0);
    this.slots.set(mem, { whole, given, refs: 0 });
    return given;
  }

  private slotOf(t: Tensor): Slot | undefined {
    return this.slots.size === 0 || !(t instanceof ConcreteTensor)
      ? undefined
      : this.slots.get(t.value.data.buffer);
  }

  /** One more live reference to `t`'s buffer. */
  hold(t: Tensor): void {
    const s = this.slotOf(t);
    if (s !== undefined) s.refs++;
  }

  /** One reference to `t`'s buffer fewer; the last one gives the buffer back to the pool. */
  drop(t: Tensor): void {
    const s = this.slotOf(t);
    if (s === undefined || --s.refs > 0) return;
    const mem = s.whole.buffer;
    this.slots.delete(mem);
    if (s.refs < 0) return; // dropped more often than held: a bookkeeping slip, so never reuse it
    recycled.add(mem);
    counters.released++;
    pool.release(s.whole);
  }

  /** `t`'s buffer is never released by this pass (something else may keep it). */
  forget(t: Tensor): void {
    if (this.slots.size !== 0 && t instanceof ConcreteTensor)
      this.slots.delete(t.value.data.buffer);
  }

  /** Whether any buffer taken in this pass is still counted (else there is nothing to count). */
  tracking(): boolean {
    return this.slots.size !== 0;
  }

  /** Stops all recycling in this pass. */
  forgetAll(): void {
    this.slots.clear();
  }

  /**
   * A returned cotangent as an ordinary array: when it lives in a pooled buffer larger than
   * what was asked for, a copy of exactly that (its buffer then goes back to the pool once
   * no returned value uses it). `copies` shares one copy among values of one buffer.
   */
  escape(t: Tensor, copies: Map<ArrayBufferLike, DataArray>): Tensor {
    const s = this.slotOf(t);
    if (s === undefined) return t;
    const nd = (t as ConcreteTensor).value;
    const data = nd.data;
    const start = (data.byteOffset - s.given.byteOffset) / data.BYTES_PER_ELEMENT;
    if (s.whole.length === s.given.length || start < 0 || start + data.length > s.given.length) {
      // it is all of its buffer (or not what was handed out): it stays as it is, for good
      this.slots.delete(data.buffer);
      return t;
    }
    let copy = copies.get(data.buffer);
    if (copy === undefined) {
      copy = s.given.slice();
      copies.set(data.buffer, copy);
      counters.copiedOut++;
    }
    const out = data === s.given ? copy : copy.subarray(start, start + data.length);
    const moved = new ConcreteTensor(new NDArray(out, nd.shape, nd.strides, nd.offset));
    this.drop(t);
    return moved;
  }
}

/**
 * Cotangents of `ir.inVars` given cotangents `cts` of its outputs (null = zero).
 * `add` accumulates cotangents (passed in so that core never names a primitive).
 */
export function backwardPass(
  ir: IR,
  cts: readonly Tangent[],
  add: (a: Tensor, b: Tensor) => Tensor,
): Tangent[] {
  const bufs = enabled && recyclable(ir, cts) ? new PassBuffers() : null;
  // Under a transform (or with the pool off) the pass also hides an enclosing pass's hook.
  const prev = swapAllocationHook(bufs);
  try {
    if (bufs !== null) counters.passes++;
    return run(ir, cts, add, bufs);
  } finally {
    swapAllocationHook(prev);
  }
}

/** Whether a pass may recycle: it runs eagerly on concrete cotangents and constants. */
function recyclable(ir: IR, cts: readonly Tangent[]): boolean {
  if (currentTrace() !== evalTrace) return false;
  for (const c of cts) if (c != null && !(c instanceof ConcreteTensor)) return false;
  for (const c of ir.consts) if (!(c instanceof ConcreteTensor)) return false;
  return true;
}

function run(
  ir: IR,
  cts: readonly Tangent[],
  add: (a: Tensor, b: Tensor) => Tensor,
  bufsIn: PassBuffers | null,
): Tangent[] {
  let bufs = bufsIn;
  const ctEnv = new Map<Var, Tensor>();
  for (let i = 0; i < ir.outVars.length; i++)
    accumulate(ctEnv, add, ir.outVars[i]!, cts[i] ?? null, bufs);
  const constEnv = new Map<Var, Tensor>();
  for (let i = 0; i < ir.constVars.length; i++) constEnv.set(ir.constVars[i]!, ir.consts[i]!);
  for (let k = ir.eqns.length - 1; k >= 0; k--) {
    const eqn = ir.eqns[k]!;
    const ctsOut: Tangent[] = [];
    let anyCt = false;
    for (let i = 0; i < eqn.outputs.length; i++) {
      const v = eqn.outputs[i]!;
      const ct = ctEnv.get(v);
      if (ct === undefined) ctsOut.push(null);
      else {
        ctsOut.push(ct);
        ctEnv.delete(v);
        anyCt = true;
      }
    }
    if (!anyCt) continue;
    const transpose = eqn.prim.transpose;
    if (!transpose) {
      throw new Error(
        `reverse mode: primitive '${eqn.prim.name}' was applied to a tangent but has no transpose rule ` +
          `(its JVP rule must only apply linear primitives to tangents)`,
      );
    }
    const args: (Tensor | LinearInput)[] = [];
    for (let i = 0; i < eqn.inputs.length; i++) {
      const v = eqn.inputs[i]!;
      args.push(constEnv.get(v) ?? new LinearInput(v.aval));
    }
    // A call primitive's rule runs user functions: what it sees is never recycled, and
    // nothing it allocates is pooled.
    const opaque = bufs !== null && eqn.prim.expand !== undefined;
    if (opaque) for (const ct of ctsOut) if (ct !== null) bufs!.forget(ct);
    const outer = opaque ? swapAllocationHook(null) : null;
    let ctsIn: Tangent[];
    try {
      ctsIn = debugNans
        ? inRule(`the backward pass (transpose rule of ${eqn.prim.name}${originOf(eqn)})`, () =>
            transpose(ctsOut, args, eqn.params),
          )
        : transpose(ctsOut, args, eqn.params);
    } finally {
      if (opaque) swapAllocationHook(outer);
    }
    // Nothing to count while no pooled buffer is live (small arrays: always).
    const track = bufs !== null && bufs.tracking();
    if (track && !allConcrete(ctsIn)) {
      // cannot happen on the eval trace; should it, stop recycling rather than guess
      bufs!.forgetAll();
      swapAllocationHook(null);
      bufs = null;
    }
    // The new cotangents are held while they are accumulated (one value may go to two
    // inputs), then the consumed ones are dropped: a rule may return a view of its input.
    if (track && bufs !== null)
      for (const c of ctsIn) if (c !== null && c !== undefined) bufs.hold(c);
    for (let i = 0; i < eqn.inputs.length; i++) {
      if (args[i] instanceof LinearInput)
        accumulate(ctEnv, add, eqn.inputs[i]!, ctsIn[i] ?? null, bufs);
    }
    if (track && bufs !== null) {
      for (const c of ctsIn) if (c !== null && c !== undefined) bufs.drop(c);
      for (const c of ctsOut) if (c !== null) bufs.drop(c);
    }
  }
  const result = ir.inVars.map((v) => ctEnv.get(v) ?? null);
  if (bufs === null) return result;
  const copies = new Map<ArrayBufferLike, DataArray>();
  return result.map((t) => (t === null ? null : bufs.escape(t, copies)));
}

function allConcrete(ts: readonly Tangent[]): boolean {
  for (const t of ts)
    if (t !== null && t !== undefined && !(t instanceof ConcreteTensor)) return false;
  return true;
}

/**
 * Adds `ct` to the cotangent of `v` in `ctEnv` (null: nothing to add). The environment's
 * entries hold references (`bufs`): a new entry holds one, a replaced entry drops one.
 */
function accumulate(
  ctEnv: Map<Var, Tensor>,
  add: (a: Tensor, b: Tensor) => Tensor,
  v: Var,
  ct: Tangent,
  bufs: PassBuffers | null,
): void {
  if (ct === null) return;
  const prev = ctEnv.get(v);
  const next = prev === undefined ? ct : add(prev, ct);
  ctEnv.set(v, next);
  if (bufs === null) return;
  bufs.hold(next);
  if (prev !== undefined) bufs.drop(prev);
}
