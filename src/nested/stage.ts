/**
 * Staging an inner function with closure conversion: the function is
 * traced to IR on abstract stand-ins for its inputs; values it captured that are tracers
 * of enclosing transforms become explicit extra inputs, so the call primitive that
 * carries the IR sees (and differentiates) them like any other input. Concrete captured
 * values stay IR constants.
 */
import { IR, type Var } from "../core/ir.js";
import { StagingTrace } from "../core/staging.js";
import { ConcretizationError, Tensor, Tracer } from "../core/tensor.js";
import { currentTrace, withTrace } from "../core/trace.js";

export interface Staged {
  /** IR over [...inputs, ...captured]. */
  ir: IR;
  /** Captured tracers of enclosing transforms, in the order of the extra inputs. */
  captured: Tensor[];
}

export type StageResult =
  { ok: true; staged: Staged } | { ok: false; reason: string; detail: string };

/** Stages `fn` on the avals of `inputs`; value-dependent code yields a fallback reason. */
export function stageClosed(
  fn: (xs: Tensor[]) => Tensor[],
  inputs: readonly Tensor[],
  purpose: string,
): StageResult {
  const staging = new StagingTrace(currentTrace(), purpose);
  const args = inputs.map((x) => staging.newArg(x.aval));
  let outs: Tensor[];
  try {
    outs = withTrace(staging, () => fn(args));
  } catch (e) {
    if (e instanceof ConcretizationError) {
      return { ok: false, reason: "value-dependent code", detail: e.message.split(".")[0]! };
    }
    throw e;
  }
  const ir = staging.build(args, outs);
  return { ok: true, staged: closureConvert(ir) };
}

/** Moves tracer constants of `ir` into explicit inputs after its own inputs. */
export function closureConvert(ir: IR): Staged {
  const capturedVars: Var[] = [];
  const captured: Tensor[] = [];
  const constVars: Var[] = [];
  const consts: Tensor[] = [];
  ir.constVars.forEach((v, i) => {
    const c = ir.consts[i]!;
    if (c instanceof Tracer) {
      capturedVars.push(v);
      captured.push(c);
    } else {
      constVars.push(v);
      consts.push(c);
    }
  });
  return {
    ir: new IR([...ir.inVars, ...capturedVars], constVars, consts, ir.eqns, ir.outVars),
    captured,
  };
}
