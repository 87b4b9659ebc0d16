/**
 * The built-in backend of `ng.jit`: runs an optimised IR on NDArrays with each
 * primitive's `impl`, without tracers or `bind` dispatch. Compilation resolves every
 * variable to a slot of a flat array and computes, for each equation, which slots hold
 * their last use, so references to intermediates are dropped as soon as they are dead
 * and the garbage collector can reclaim them during the run. Always available.
 */
import type { IR, Var } from "../core/ir.js";
import { ConcreteTensor } from "../core/tensor.js";
import type { NDArray } from "../tensor/ndarray.js";
import { formatShape, shapesEqual } from "../tensor/shape.js";
import { registerBackend, type Executable, type JitBackend } from "./backend.js";

interface Step {
  readonly impl: (inputs: NDArray[], params: unknown) => NDArray[];
  readonly name: string;
  readonly params: unknown;
  readonly ins: readonly number[];
  readonly outs: readonly number[];
  /** Slots whose last use is this step (cleared after it runs). */
  readonly free: readonly number[];
}

class InterpreterExecutable implements Executable {
  readonly backend = "interpreter";
  readonly notes: readonly string[] = [];
  private readonly nSlots: number;
  private readonly inSlots: readonly Var[];
  private readonly constSlots: readonly [number, NDArray][];
  private readonly steps: readonly Step[];
  private readonly outSlots: readonly number[];

  constructor(ir: IR) {
    const slot = new Map<Var, number>();
    const slotOf = (v: Var): number => {
      const s = slot.get(v);
      if (s === undefined) throw new Error("jit interpreter: the IR uses an undefined variable");
      return s;
    };
    const define = (v: Var) => slot.set(v, slot.size);
    ir.inVars.forEach(define);
    ir.constVars.forEach(define);
    this.inSlots = ir.inVars;
    this.constSlots = ir.constVars.map((v, i) => {
      const c = ir.consts[i]!;
      if (!(c instanceof ConcreteTensor)) {
        throw new Error(
          `jit interpreter: constant ${i} is a tracer (${c.toString()}); compiled programs must be closed`,
        );
      }
      return [slotOf(v), c.value];
    });
    const raw = ir.eqns.map((e) => {
      const ins = e.inputs.map(slotOf);
      e.outputs.forEach(define);
      return { e, ins, outs: e.outputs.map(slotOf) };
    });
    this.outSlots = ir.outVars.map(slotOf);
    // Liveness: the last step reading each slot; outputs stay alive to the end.
    const lastUse = new Map<number, number>();
    raw.forEach(({ ins }, k) => ins.forEach((s) => lastUse.set(s, k)));
    for (const s of this.outSlots) lastUse.delete(s);
    const frees: number[][] = raw.map(() => []);
    for (const [s, k] of lastUse) frees[k]!.push(s);
    this.steps = raw.map(({ e, ins, outs }, k) => ({
      impl: e.prim.impl.bind(e.prim) as Step["impl"],
      name: e.prim.name,
      params: e.params,
      ins,
      outs,
      free: frees[k]!,
    }));
    this.nSlots = slot.size;
  }

  run(inputs: readonly NDArray[]): NDArray[] {
    if (inputs.length !== this.inSlots.length) {
      throw new Error(
        `jit interpreter: expected ${this.inSlots.length} inputs, got ${inputs.length}`,
      );
    }
    const slots = new Array<NDArray | undefined>(this.nSlots);
    inputs.forEach((x, i) => {
      const a = this.inSlots[i]!.aval;
      if (x.dtype !== a.dtype || !shapesEqual(x.shape, a.shape)) {
        throw new TypeError(
          `jit interpreter: input ${i} is ${x.dtype}${formatShape(x.shape)}, the program was compiled for ${a}`,
        );
      }
      slots[i] = x;
    });
    for (const [s, c] of this.constSlots) slots[s] = c;
    for (const step of this.steps) {
      const args = step.ins.map((s) => slots[s]!);
      const outs = step.impl(args, step.params);
      step.outs.forEach((s, i) => (slots[s] = outs[i]));
      for (const s of step.free) slots[s] = undefined;
    }
    return this.outSlots.map((s) => slots[s]!);
  }
}

/** The interpreter backend, registered as "interpreter". */
export const interpreterBackend: JitBackend = {
  name: "interpreter",
  available: () => true,
  compile: (ir) => new InterpreterExecutable(ir),
};

registerBackend(interpreterBackend);
