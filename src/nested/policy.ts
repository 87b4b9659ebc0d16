/**
 * The cost model of nested switching (DESIGN.md §4.4): estimates over the staged IR
 * (flops of the inner function, bytes a linearization of it would store, the size of the
 * differentiated input) and picks the expansion of an inner gradient. Forcing a strategy
 * with `config.set({ nestedStrategy })` bypasses it.
 */
import type { IR } from "../core/ir.js";
import { get as getConfig } from "../config.js";
import type { Expansion, GradCallParams, HvpCallParams } from "./calls.js";

const BYTES = { float32: 4, float64: 8, int32: 4, bool: 1 } as const;

/** Estimated floating-point operations of one evaluation of `ir`. */
export function flops(ir: IR): number {
  let total = 0;
  for (const e of ir.eqns) {
    const out = e.outputs[0]?.aval;
    const outSize = out ? out.size : 0;
    switch (e.prim.name) {
      case "matmul": {
        const a = e.inputs[0]!.aval;
        total += 2 * outSize * a.shape[a.ndim - 1]!;
        break;
      }
      case "conv": {
        const w = e.inputs[1]!.aval;
        total += (2 * outSize * w.size) / w.shape[w.ndim - 1]!;
        break;
      }
      case "gradCall":
        total += 3 * flops((e.params as GradCallParams).ir);
        break;
      case "hvpCall":
        total += 6 * flops((e.params as HvpCallParams).ir);
        break;
      default:
        for (const o of e.outputs) total += o.aval.size;
    }
  }
  return total;
}

/** Bytes of intermediate values a linearization of `ir` keeps alive (its residuals). */
export function residualBytes(ir: IR): number {
  let total = 0;
  for (const e of ir.eqns) for (const o of e.outputs) total += o.aval.size * BYTES[o.aval.dtype];
  return total;
}

export interface Decision {
  strategy: Expansion;
  why: string;
}

/**
 * Chooses the expansion of an inner gradient of `ir` with respect to inputs of total size
 * `d`. Costs in units of one evaluation F of the inner function, for the inner gradient
 * plus one outer pullback through it:
 * - forwardOverReverse: 3F (value and gradient) + 6F (one JVP of the gradient) = 9F, and
 *   it stores only the call's inputs;
 * - nest: about the same flops, but stores the residuals of the inner backward pass;
 * - innerForward: 2dF for the gradient by d forward passes, + 6F for the pullback.
 * So inner forward mode wins only for a scalar input, and forward-over-reverse otherwise.
 */
export function decide(ir: IR, d: number): Decision {
  const forced = getConfig().nestedStrategy;
  if (forced !== "auto") return { strategy: forced, why: "forced by config.nestedStrategy" };
  const F = flops(ir);
  const costFoR = 9 * F;
  const costForward = (2 * d + 6) * F;
  if (costForward < costFoR) {
    return {
      strategy: "innerForward",
      why: `input size ${d}: ${2 * d + 6}F by inner forward mode < 9F by forward-over-reverse`,
    };
  }
  return {
    strategy: "forwardOverReverse",
    why: `input size ${d}: 9F (F ≈ ${F.toExponential(2)} flops), storing no inner residuals (nesting would keep ≈ ${(residualBytes(ir) * 3).toExponential(2)} bytes)`,
  };
}
