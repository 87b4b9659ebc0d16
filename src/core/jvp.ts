/**
 * The JVP interpreter: forward mode with symbolic zero tangents (null).
 * Tracers of other traces are constants with zero tangent; rules run under the parent.
 */
import { isFloat } from "../tensor/dtype.js";
import { ShapedArray } from "./aval.js";
import { debugNans, inRule } from "./debug.js";
import { Tensor, Tracer } from "./tensor.js";
import { Trace, bindIn, jvpIn, withTrace, type Primitive, type Tangent } from "./trace.js";

export class JVPTracer extends Tracer {
  constructor(
    readonly trace: JVPTrace,
    readonly primal: Tensor,
    readonly tangent: Tangent,
  ) {
    super();
  }
  get aval(): ShapedArray {
    return this.primal.aval;
  }
  concrete(reason: string) {
    return this.primal.concrete(reason);
  }
  // A symbolic-zero tangent carries nothing here, but an outer transform may track the primal.
  override carriesDerivative(): boolean {
    return this.tangent !== null || this.primal.carriesDerivative();
  }
}

export class JVPTrace extends Trace {
  readonly kind = "jvp";
  constructor(parent: Trace) {
    super(parent);
  }
  /** Wraps a primal and its tangent as a tracer of this trace. */
  lift(primal: Tensor, tangent: Tangent): Tensor {
    return new JVPTracer(this, primal, tangent);
  }
  /** The (primal, tangent) pair of `x` as seen from this trace. */
  unpack(x: Tensor): [Tensor, Tangent] {
    if (x instanceof JVPTracer && x.trace === this) return [x.primal, x.tangent];
    return [x, null];
  }
  processPrimitive(prim: Primitive, inputs: Tensor[], params: unknown): Tensor[] {
    // unpack() inlined, without a pair per input: this runs on every op under jvp/grad.
    const primals: Tensor[] = [];
    const tangents: Tangent[] = [];
    let anyTangent = false;
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i]!;
      if (x instanceof JVPTracer && x.trace === this) {
        primals.push(x.primal);
        tangents.push(x.tangent);
        if (x.tangent !== null) anyTangent = true;
      } else {
        primals.push(x);
        tangents.push(null);
      }
    }
    const parent = this.parent!;
    if (!anyTangent) return bindIn(parent, prim, primals, params);
    // With debugNans on, a NaN found inside the rule names it.
    const [outs, touts] = debugNans
      ? withTrace(parent, () =>
          inRule(`the JVP rule of ${prim.name}`, () => prim.jvp(primals, tangents, params)),
        )
      : jvpIn(parent, prim, primals, tangents, params);
    const result: Tensor[] = [];
    for (let i = 0; i < outs.length; i++) {
      const o = outs[i]!;
      const t = touts[i] ?? null;
      result.push(t === null || !isFloat(o.dtype) ? o : new JVPTracer(this, o, t));
    }
    return result;
  }
}
