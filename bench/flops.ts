/**
 * A flop counter for staged programs: walks the equations of an IR (e.g.
 * the optimised program `jitted.lower(...args).optimized`) and counts 2·m·n·k per
 * (batched) matmul, 2 · output size · kernel window · input channels per group for the
 * convolution family, nothing for data movement (reshape, transpose, broadcast, slices,
 * gathers, casts) and one flop per element for everything else (elementwise ops: the
 * output size; reductions: the input size). The benchmark divides it by the median time
 * to report GFLOP/s.
 */
import type { IR } from "../src/core/ir.js";

/** Primitives that only move or relabel data: no arithmetic. */
const MOVEMENT = new Set([
  "reshape",
  "transpose",
  "broadcastTo",
  "cast",
  "concatenate",
  "flip",
  "pad",
  "slice",
  "take",
  "stopGradient",
]);

/** Reductions: one flop per input element. */
const REDUCTIONS = new Set(["sum", "prod", "max", "min", "argmax", "argmin"]);

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Flops of one equation, by the rules of the module header. */
function eqnFlops(name: string, ins: (readonly number[])[], outs: (readonly number[])[]): number {
  if (MOVEMENT.has(name)) return 0;
  switch (name) {
    case "matmul": {
      // a [..., m, k] @ b [..., k, n] -> [..., m, n]: 2·k flops per output element
      const a = ins[0]!;
      return 2 * size(outs[0]!) * a[a.length - 1]!;
    }
    case "conv":
    case "convBackInput": {
      // w [...kernel, Cin/groups, Cout]: each output (conv) or input (its adjoint) position
      // meets kernel window · Cin/groups weights per output channel
      const y = name === "conv" ? outs[0]! : ins[0]!;
      const w = ins[1]!;
      return (2 * size(y) * size(w)) / w[w.length - 1]!;
    }
    case "convBackKernel": {
      // convBackKernel(x, y) -> w-shaped: every y element meets the kernel window · Cin/groups
      const w = outs[0]!;
      return (2 * size(ins[1]!) * size(w)) / w[w.length - 1]!;
    }
  }
  if (REDUCTIONS.has(name)) return size(ins[0]!);
  return Math.max(...outs.map(size), 0);
}

/** Flops of a program, and the share of each primitive (sorted, largest first). */
export function irFlops(ir: IR): { total: number; byPrimitive: [string, number][] } {
  const by = new Map<string, number>();
  for (const e of ir.eqns) {
    const f = eqnFlops(
      e.prim.name,
      e.inputs.map((v) => v.aval.shape),
      e.outputs.map((v) => v.aval.shape),
    );
    by.set(e.prim.name, (by.get(e.prim.name) ?? 0) + f);
  }
  const byPrimitive = [...by.entries()].filter(([, f]) => f > 0).sort((a, b) => b[1] - a[1]);
  return { total: byPrimitive.reduce((s, [, f]) => s + f, 0), byPrimitive };
}
