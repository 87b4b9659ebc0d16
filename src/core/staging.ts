/**
 * The staging interpreter: records equations that touch its own tracers
 * into IR and hands everything else to its parent (partial evaluation). The same trace
 * serves linearize (tangents are its tracers), makeIR and jit (arguments are its tracers)
 * and nested switching. Values it did not create become IR constants.
 */
import { ShapedArray } from "./aval.js";
import { debugNans, noteOrigin } from "./debug.js";
import { IR, liveEquations, Var, type Eqn } from "./ir.js";
import { ConcretizationError, Tensor, Tracer } from "./tensor.js";
import { Trace, bindIn, type Primitive } from "./trace.js";

export class StagingTracer extends Tracer {
  constructor(
    readonly trace: StagingTrace,
    readonly aval: ShapedArray,
    readonly v: Var,
  ) {
    super();
  }
  concrete(reason: string): never {
    throw new ConcretizationError(reason, this.aval, this.trace.purpose);
  }
}

export class StagingTrace extends Trace {
  readonly kind = "staging";
  private readonly eqns: Eqn[] = [];
  private readonly constVars = new Map<Tensor, Var>();

  constructor(
    parent: Trace,
    /** Words for error messages: who is staging ("makeIR", "jit", "reverse mode"...). */
    readonly purpose = "staging",
  ) {
    super(parent);
  }

  /** A fresh abstract argument of this trace. */
  newArg(aval: ShapedArray): StagingTracer {
    return new StagingTracer(this, aval, new Var(aval));
  }

  private varOf(x: Tensor): Var {
    if (x instanceof StagingTracer && x.trace === this) return x.v;
    let v = this.constVars.get(x);
    if (v === undefined) {
      v = new Var(x.aval);
      this.constVars.set(x, v);
    }
    return v;
  }

  processPrimitive(prim: Primitive, inputs: Tensor[], params: unknown): Tensor[] {
    let owned = false;
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i];
      if (x instanceof StagingTracer && x.trace === this) {
        owned = true;
        break;
      }
    }
    if (!owned) return bindIn(this.parent!, prim, inputs, params);
    const inVars: Var[] = [];
    const inAvals: ShapedArray[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const v = this.varOf(inputs[i]!);
      inVars.push(v);
      inAvals.push(v.aval);
    }
    const avals = prim.abstractEval(inAvals, params);
    const outs: StagingTracer[] = [];
    const outVars: Var[] = [];
    for (let i = 0; i < avals.length; i++) {
      const o = this.newArg(avals[i]!);
      outs.push(o);
      outVars.push(o.v);
    }
    const eqn: Eqn = { prim, params, inputs: inVars, outputs: outVars };
    if (debugNans) noteOrigin(eqn);
    this.eqns.push(eqn);
    return outs;
  }

  /**
   * The IR from `inputs` (tracers made by `newArg`) to `outputs`, keeping only the
   * equations the outputs need. Outputs that are not tracers of this trace become constants.
   */
  build(inputs: readonly StagingTracer[], outputs: readonly Tensor[]): IR {
    const outVars = outputs.map((o) => this.varOf(o));
    const { kept, live } = liveEquations(this.eqns, outVars);
    const constVars: Var[] = [];
    const consts: Tensor[] = [];
    for (const [t, v] of this.constVars) {
      if (live.has(v)) {
        constVars.push(v);
        consts.push(t);
      }
    }
    return new IR(
      inputs.map((t) => t.v),
      constVars,
      consts,
      kept,
      outVars,
    );
  }
}
