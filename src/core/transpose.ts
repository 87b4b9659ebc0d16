/**
 * Transposition of linear IR. Walks
 * the equations backwards, asking each primitive's transpose rule for the cotangents of
 * its linear inputs; constants of the IR are the non-linear (residual) inputs.
 */
import { debugNans, inRule, originOf } from "./debug.js";
import type { IR, Var } from "./ir.js";
import type { Tensor } from "./tensor.js";
import { LinearInput, type Tangent } from "./trace.js";

/**
 * Cotangents of `ir.inVars` given cotangents `cts` of its outputs (null = zero).
 * `add` accumulates cotangents (passed in so that core never names a primitive).
 */
export function backwardPass(
  ir: IR,
  cts: readonly Tangent[],
  add: (a: Tensor, b: Tensor) => Tensor,
): Tangent[] {
  const ctEnv = new Map<Var, Tensor>();
  for (let i = 0; i < ir.outVars.length; i++)
    accumulate(ctEnv, add, ir.outVars[i]!, cts[i] ?? null);
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
    const ctsIn = debugNans
      ? inRule(`the backward pass (transpose rule of ${eqn.prim.name}${originOf(eqn)})`, () =>
          transpose(ctsOut, args, eqn.params),
        )
      : transpose(ctsOut, args, eqn.params);
    for (let i = 0; i < eqn.inputs.length; i++) {
      if (args[i] instanceof LinearInput) accumulate(ctEnv, add, eqn.inputs[i]!, ctsIn[i] ?? null);
    }
  }
  return ir.inVars.map((v) => ctEnv.get(v) ?? null);
}

/** Adds `ct` to the cotangent of `v` in `ctEnv` (null: nothing to add). */
function accumulate(
  ctEnv: Map<Var, Tensor>,
  add: (a: Tensor, b: Tensor) => Tensor,
  v: Var,
  ct: Tangent,
): void {
  if (ct === null) return;
  const prev = ctEnv.get(v);
  ctEnv.set(v, prev === undefined ? ct : add(prev, ct));
}
