/**
 * The Taylor interpreter: forward-mode second-order propagation for the
 * per-sample Laplacian, Hessian diagonal and divergence in one pass. A tracer carries its
 * value v, the first-order jets J [d, ...] along the d input directions, and the
 * second-order jets L [k, ...]: k = 1 holds Σ_j ∂²v/∂t_j² ("sum"), k = d holds each
 * ∂²v/∂t_j² ("diag"). Null is a symbolic zero. Each primitive's `taylor2` rule runs under
 * the parent trace, written with nestgrad ops, so the result differentiates again and
 * nests with every other transform by identity of the trace.
 */
import { isFloat } from "../tensor/dtype.js";
import { ShapedArray } from "./aval.js";
import { Tensor, Tracer } from "./tensor.js";
import { Trace, bind, withTrace, type Primitive } from "./trace.js";

/** A value with its jets: J [d, ...shape] and L [k, ...shape] (null for zero). */
export interface TaylorValue {
  value: Tensor;
  jet1: Tensor | null;
  jet2: Tensor | null;
}

/** What a Taylor rule needs to know about the pass it runs in. */
export interface TaylorContext {
  /** d: the number of directions (the leading axis of every J). */
  readonly directions: number;
  /** "sum": L holds Σ_j of the second derivatives ([1, ...]); "diag": each one ([d, ...]). */
  readonly mode: "sum" | "diag";
  /** 1: only J is propagated (divergence); 2: J and L. */
  readonly order: 1 | 2;
}

/** A primitive's Taylor rule: input values and jets -> output values and jets. */
export type TaylorRule<P = any> = (
  inputs: TaylorValue[],
  params: P,
  ctx: TaylorContext,
) => TaylorValue[];

/** Raised when a primitive without a `taylor2` rule meets a value that carries jets. */
export class TaylorRuleMissing extends Error {
  constructor(readonly primitive: string) {
    super(`Taylor mode: primitive '${primitive}' has no taylor2 rule`);
    this.name = "TaylorRuleMissing";
  }
}

export class TaylorTracer extends Tracer {
  constructor(
    readonly trace: TaylorTrace,
    readonly value: Tensor,
    readonly jet1: Tensor | null,
    readonly jet2: Tensor | null,
  ) {
    super();
  }
  get aval(): ShapedArray {
    return this.value.aval;
  }
  concrete(reason: string) {
    return this.value.concrete(reason);
  }
  override carriesDerivative(): boolean {
    return this.jet1 !== null || this.jet2 !== null || this.value.carriesDerivative();
  }
}

export class TaylorTrace extends Trace {
  readonly kind = "taylor";
  constructor(
    parent: Trace,
    readonly ctx: TaylorContext,
  ) {
    super(parent);
  }
  /** Wraps a value and its jets as a tracer of this trace (a plain value when they are zero). */
  lift({ value, jet1, jet2 }: TaylorValue): Tensor {
    if ((jet1 === null && jet2 === null) || !isFloat(value.dtype)) return value;
    return new TaylorTracer(this, value, jet1, jet2);
  }
  /** The value and jets of `x` as seen from this trace (other traces' values are constants). */
  unpack(x: Tensor): TaylorValue {
    if (x instanceof TaylorTracer && x.trace === this) {
      return { value: x.value, jet1: x.jet1, jet2: x.jet2 };
    }
    return { value: x, jet1: null, jet2: null };
  }
  processPrimitive(prim: Primitive, inputs: Tensor[], params: unknown): Tensor[] {
    const ins = inputs.map((x) => this.unpack(x));
    const parent = this.parent!;
    if (ins.every((t) => t.jet1 === null && t.jet2 === null)) {
      return withTrace(parent, () =>
        bind(
          prim,
          ins.map((t) => t.value),
          params,
        ),
      );
    }
    const rule = prim.taylor2;
    if (!rule) throw new TaylorRuleMissing(prim.name);
    const outs = withTrace(parent, () => rule(ins, params, this.ctx));
    return outs.map((o) => this.lift(o));
  }
}
