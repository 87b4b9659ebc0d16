/**
 * Traces and `bind`. A Trace is an interpreter with a unique identity (its
 * tag) and a parent. `bind` hands a primitive to the current trace; a trace treats tracers
 * of other traces as constants and runs rules under its parent, which is what rules out
 * perturbation confusion. This file never names a primitive.
 */
import { AllocationError } from "../tensor/dtype.js";
import type { NDArray } from "../tensor/ndarray.js";
import { ShapedArray } from "./aval.js";
import { checkNonFinite, debugNans } from "./debug.js";
import { ConcreteTensor, Tensor, Tracer } from "./tensor.js";
import type { TaylorRule } from "./taylor.js";

/** A tangent or cotangent: a tensor, or null for a symbolic zero. */
export type Tangent = Tensor | null;

/** Marks an input of a linear equation that the transpose rule must produce a cotangent for. */
export class LinearInput {
  constructor(readonly aval: ShapedArray) {}
}

/** Everything the interpreters know about one primitive (see primitives/ for instances). */
export interface Primitive<P = any> {
  readonly name: string;
  /** Evaluation on concrete arrays. */
  impl(inputs: NDArray[], params: P): NDArray[];
  /** Output shapes and dtypes (also validates inputs). */
  abstractEval(inputs: ShapedArray[], params: P): ShapedArray[];
  /** Forward-mode rule, written with nestgrad ops: (primals, tangents) -> (outputs, output tangents). */
  jvp(primals: Tensor[], tangents: Tangent[], params: P): [Tensor[], Tangent[]];
  /** Transpose rule of a primitive that is linear in its LinearInput arguments. */
  transpose?(cts: Tangent[], inputs: (Tensor | LinearInput)[], params: P): Tangent[];
  /** Batching rule (vmap): see core/batching.ts for the signature. */
  batch?(
    args: Tensor[],
    dims: (number | null)[],
    params: P,
    axisSize: number,
  ): [Tensor[], (number | null)[]];
  /** Formats params for IR printing. */
  formatParams?(params: P): string;
  /**
   * Call primitives only: the computation the primitive stands for, written with nestgrad
   * ops, so that staging it replaces the call by primitives (jit's inline pass).
   */
  expand?(inputs: Tensor[], params: P): Tensor[];
  /** Taylor-mode rule (core/taylor.ts): values with first- and second-order jets, propagated. */
  taylor2?: TaylorRule<P>;
}

let traceCounter = 0;

export abstract class Trace {
  /** Unique, increasing id: identity of the trace is the perturbation tag. */
  readonly id = ++traceCounter;
  constructor(readonly parent: Trace | null) {}
  abstract processPrimitive(prim: Primitive, inputs: Tensor[], params: unknown): Tensor[];
  abstract readonly kind: string;
  toString(): string {
    return `${this.kind}#${this.id}`;
  }
  /** True when `t` is a tracer of this very trace. */
  owns(t: Tensor): boolean {
    return t instanceof Tracer && t.trace === this;
  }
}

/** The base interpreter: evaluates primitives on concrete arrays. */
export class EvalTrace extends Trace {
  readonly kind = "eval";
  constructor() {
    super(null);
  }
  processPrimitive(prim: Primitive, inputs: Tensor[], params: unknown): Tensor[] {
    // Plain loops, no closures: at small sizes this path is most of an op's cost.
    const arrays: NDArray[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i]!;
      if (!(x instanceof ConcreteTensor)) throw leakedTracer(prim, i, x as Tracer);
      arrays.push(x.value);
    }
    let outs: NDArray[];
    try {
      outs = prim.impl(arrays, params);
      // Off by default: one boolean test per primitive.
      if (debugNans) checkNonFinite(prim.name, arrays, outs);
    } catch (e) {
      throw e instanceof AllocationError && e.op === undefined
        ? nameAllocation(prim, inputs, params, e)
        : e;
    }
    if (outs.length === 1) return [new ConcreteTensor(outs[0]!)];
    const result: Tensor[] = [];
    for (let i = 0; i < outs.length; i++) result.push(new ConcreteTensor(outs[i]!));
    return result;
  }
}

function leakedTracer(prim: Primitive, i: number, x: Tracer): Error {
  return new Error(
    `${prim.name}: input ${i} is a tracer of ${x.trace} used after its transform ended ` +
      `(a leaked tracer: a value from inside grad/jvp/jit was stored and used outside it)`,
  );
}

/** Names the primitive and its output shape in an allocation error raised by a kernel. */
function nameAllocation(
  prim: Primitive,
  inputs: Tensor[],
  params: unknown,
  e: AllocationError,
): AllocationError {
  let shape: readonly number[] | undefined;
  let dtype = e.dtype;
  try {
    const big = prim
      .abstractEval(
        inputs.map((x) => x.aval),
        params,
      )
      .find((a) => a.size === e.size);
    shape = big?.shape;
    dtype = big?.dtype ?? dtype;
  } catch {
    // The shape rule itself failed: report the element count alone.
  }
  return new AllocationError(e.size, dtype, prim.name, shape, e.cause);
}

export const evalTrace = new EvalTrace();
let current: Trace = evalTrace;

export function currentTrace(): Trace {
  return current;
}

/** Runs `fn` with `trace` as the current trace. */
export function withTrace<T>(trace: Trace, fn: () => T): T {
  const saved = current;
  current = trace;
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/**
 * Applies a primitive through `trace`, with `trace` as the current trace while it runs:
 * `withTrace(trace, () => bind(prim, inputs, params))` without the closure (the
 * interpreters hand primitives to their parent this way on every op).
 */
export function bindIn(trace: Trace, prim: Primitive, inputs: Tensor[], params: unknown): Tensor[] {
  const saved = current;
  current = trace;
  try {
    return trace.processPrimitive(prim, inputs, params);
  } finally {
    current = saved;
  }
}

/** `prim`'s JVP rule run with `trace` as the current trace (withTrace without a closure). */
export function jvpIn(
  trace: Trace,
  prim: Primitive,
  primals: Tensor[],
  tangents: Tangent[],
  params: unknown,
): [Tensor[], Tangent[]] {
  const saved = current;
  current = trace;
  try {
    return prim.jvp(primals, tangents, params);
  } finally {
    current = saved;
  }
}

/** Applies a primitive through the current interpreter. */
export function bind(prim: Primitive, inputs: Tensor[], params: unknown = {}): Tensor[] {
  return current.processPrimitive(prim, inputs, params);
}

/** `bind` for a primitive with a single output. */
export function bind1(prim: Primitive, inputs: Tensor[], params: unknown = {}): Tensor {
  return current.processPrimitive(prim, inputs, params)[0]!;
}

/** True when `trace` is `ancestor` or lies below it. */
export function isDescendant(trace: Trace, ancestor: Trace): boolean {
  for (let t: Trace | null = trace; t; t = t.parent) if (t === ancestor) return true;
  return false;
}
