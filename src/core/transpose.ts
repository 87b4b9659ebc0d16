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
  const accumulate = (v: Var, ct: Tangent) => {
    if (ct === null) return;
    const prev = ctEnv.get(v);
    ctEnv.set(v, prev === undefined ? ct : add(prev, ct));
  };
  ir.outVars.forEach((v, i) => accumulate(v, cts[i] ?? null));
  const constEnv = new Map<Var, Tensor>();
  ir.constVars.forEach((v, i) => constEnv.set(v, ir.consts[i]!));
  for (let k = ir.eqns.length - 1; k >= 0; k--) {
    const eqn = ir.eqns[k]!;
    const ctsOut = eqn.outputs.map((v) => ctEnv.get(v) ?? null);
    for (const v of eqn.outputs) ctEnv.delete(v);
    if (ctsOut.every((c) => c === null)) continue;
    const transpose = eqn.prim.transpose;
    if (!transpose) {
      throw new Error(
        `reverse mode: primitive '${eqn.prim.name}' was applied to a tangent but has no transpose rule ` +
          `(its JVP rule must only apply linear primitives to tangents)`,
      );
    }
    const args = eqn.inputs.map((v) => constEnv.get(v) ?? new LinearInput(v.aval));
    const ctsIn = debugNans
      ? inRule(`the backward pass (transpose rule of ${eqn.prim.name}${originOf(eqn)})`, () =>
          transpose(ctsOut, args, eqn.params),
        )
      : transpose(ctsOut, args, eqn.params);
    eqn.inputs.forEach((v, i) => {
      if (args[i] instanceof LinearInput) accumulate(v, ctsIn[i] ?? null);
    });
  }
  return ir.inVars.map((v) => ctEnv.get(v) ?? null);
}
