/**
 * The cost model of nested switching: estimates over the staged IR
 * (flops of the inner function, bytes a linearization of it would store, the size of the
 * differentiated input) and picks the expansion of an inner gradient. Forcing a strategy
 * with `config.set({ nestedStrategy })` bypasses it.
 */
import type { IR } from "../core/ir.js";
import { get as getConfig } from "../config.js";
import type { Expansion, GradCallParams, HvpCallParams } from "./calls.js";

const BYTES = { float32: 4, float64: 8, int32: 4, bool: 1 } as const;

/**
 * Estimated floating-point operations of one evaluation of `ir`.
 * @example ng.nested.flops(ng.makeIR((x) => ng.sum(ng.mul(x, x)))(ng.zeros([3]))) // 4 (3 products, 1 sum)
 */
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

/**
 * Bytes of intermediate values a linearization of `ir` keeps alive (its residuals).
 * @example ng.nested.residualBytes(ng.makeIR((x) => ng.sum(ng.mul(x, x)))(ng.zeros([3]))) // 16
 */
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
 * Chooses the expansion of an inner gradient of `ir` (F flops, R bytes of intermediates)
 * with respect to inputs of total size `d`. Estimated cost of the inner gradient plus one
 * outer pullback through it, and what stays alive between the outer passes:
 * - nest (reverse inner, its tangent program recorded and transposed): 3F eager + ≈3F
 *   transposed = 6F, keeping ≈3R of residuals;
 * - innerForward (d forward passes, recorded and transposed): ≈4dF, keeping ≈2dR;
 * - forwardOverReverse (gradient now, one JVP of the gradient in the outer backward
 *   pass): 3F + 6F = 9F, keeping only the call's inputs.
 * The cheapest expansion whose residuals fit `config.nestedMemoryBudget` wins; when none
 * does, forward-over-reverse, which needs no residuals. In a linearize + transpose system
 * plain nesting is as cheap in flops as forward-over-reverse; its cost is
 * memory, and that is what the budget trades.
 */
export function decide(ir: IR, d: number): Decision {
  const config = getConfig();
  if (config.nestedStrategy !== "auto")
    return { strategy: config.nestedStrategy, why: "forced by config.nestedStrategy" };
  const F = flops(ir);
  const R = residualBytes(ir);
  const budget = config.nestedMemoryBudget;
  const candidates: { strategy: Expansion; cost: number; memory: number }[] = [
    { strategy: "nest", cost: 6, memory: 3 * R },
    { strategy: "innerForward", cost: 4 * d, memory: 2 * d * R },
    { strategy: "forwardOverReverse", cost: 9, memory: 0 },
  ];
  const fits = candidates.filter((c) => c.memory <= budget).sort((a, b) => a.cost - b.cost);
  const best = fits[0]!;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  return {
    strategy: best.strategy,
    why:
      `F ≈ ${F.toExponential(2)} flops, input size ${d}; ` +
      candidates.map((c) => `${c.strategy} ≈ ${c.cost}F keeping ${mib(c.memory)}`).join(", ") +
      `; budget ${mib(budget)}`,
  };
}
