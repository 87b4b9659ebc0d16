/**
 * The IR: a small SSA program of equations (primitive + params over
 * variables), with type checking, a readable `toString()` and an evaluator that binds
 * each equation through the current trace (so evaluating IR is itself differentiable).
 */
import { ShapedArray } from "./aval.js";
import type { Tensor } from "./tensor.js";
import { bind, type Primitive } from "./trace.js";

export class Var {
  constructor(readonly aval: ShapedArray) {}
}

export interface Eqn {
  readonly prim: Primitive;
  readonly params: unknown;
  readonly inputs: readonly Var[];
  readonly outputs: readonly Var[];
}

export class IR {
  constructor(
    /** Explicit inputs. */
    readonly inVars: readonly Var[],
    /** Captured values (concrete tensors or tracers of enclosing transforms). */
    readonly constVars: readonly Var[],
    readonly consts: readonly Tensor[],
    readonly eqns: readonly Eqn[],
    readonly outVars: readonly Var[],
  ) {}

  /** Checks every equation's shape rule against its recorded outputs; throws on mismatch. */
  typecheck(): void {
    const defined = new Set<Var>([...this.inVars, ...this.constVars]);
    this.eqns.forEach((eqn, k) => {
      eqn.inputs.forEach((v, i) => {
        if (!defined.has(v))
          throw new Error(`IR typecheck: equation ${k} (${eqn.prim.name}) input ${i} is undefined`);
      });
      const avals = eqn.prim.abstractEval(
        eqn.inputs.map((v) => v.aval),
        eqn.params,
      );
      if (avals.length !== eqn.outputs.length) {
        throw new Error(
          `IR typecheck: equation ${k} (${eqn.prim.name}) has ${eqn.outputs.length} outputs, rule gives ${avals.length}`,
        );
      }
      avals.forEach((a, i) => {
        const v = eqn.outputs[i]!;
        if (!a.equals(v.aval)) {
          throw new Error(
            `IR typecheck: equation ${k} (${eqn.prim.name}) output ${i} is ${v.aval}, rule gives ${a}`,
          );
        }
        defined.add(v);
      });
    });
    this.outVars.forEach((v, i) => {
      if (!defined.has(v)) throw new Error(`IR typecheck: output ${i} is undefined`);
    });
  }

  toString(): string {
    const names = new Map<Var, string>();
    const name = (v: Var): string => {
      let n = names.get(v);
      if (n === undefined) {
        n = varName(names.size);
        names.set(v, n);
      }
      return n;
    };
    const decl = (v: Var) => `${name(v)}:${v.aval}`;
    const lines: string[] = [];
    const consts = this.constVars.map(decl).join(" ");
    const ins = this.inVars.map(decl).join(" ");
    lines.push(`{ lambda ${consts ? consts + " ; " : ""}${ins} .`);
    this.eqns.forEach((e, k) => {
      const params = e.prim.formatParams?.(e.params) ?? formatParams(e.params);
      const lhs = e.outputs.map(decl).join(" ");
      lines.push(
        `  ${k === 0 ? "let " : "    "}${lhs} = ${e.prim.name}${params} ${e.inputs.map(name).join(" ")}`,
      );
    });
    lines.push(`  in (${this.outVars.map(name).join(", ")}) }`);
    return lines.join("\n");
  }
}

function varName(i: number): string {
  let s = "";
  do {
    s = String.fromCharCode(97 + (i % 26)) + s;
    i = Math.floor(i / 26) - 1;
  } while (i >= 0);
  return s;
}

function formatParams(params: unknown): string {
  if (params === null || typeof params !== "object") return "";
  const entries = Object.entries(params as Record<string, unknown>).filter(
    ([, v]) => typeof v !== "function",
  );
  if (entries.length === 0) return "";
  return `[${entries.map(([k, v]) => `${k}=${formatValue(v)}`).join(", ")}]`;
}

function formatValue(v: unknown): string {
  if (Array.isArray(v)) return `(${v.map(formatValue).join(",")})`;
  if (v !== null && typeof v === "object") return v.constructor?.name ?? "object";
  return String(v);
}

/**
 * The equations the outputs depend on (in order), and every variable they read: one
 * backward sweep. Staging and dead-code elimination share it.
 */
export function liveEquations(
  eqns: readonly Eqn[],
  outVars: readonly Var[],
): { kept: Eqn[]; live: Set<Var> } {
  const live = new Set<Var>(outVars);
  const kept: Eqn[] = [];
  for (let k = eqns.length - 1; k >= 0; k--) {
    const e = eqns[k]!;
    let needed = false;
    for (let i = 0; i < e.outputs.length; i++) {
      if (live.has(e.outputs[i]!)) {
        needed = true;
        break;
      }
    }
    if (needed) {
      kept.push(e);
      for (let i = 0; i < e.inputs.length; i++) live.add(e.inputs[i]!);
    }
  }
  kept.reverse();
  return { kept, live };
}

/** Evaluates `ir` on `args` by binding each equation through the current trace. */
export function evalIR(
  ir: IR,
  args: readonly Tensor[],
  consts: readonly Tensor[] = ir.consts,
): Tensor[] {
  if (args.length !== ir.inVars.length) {
    throw new Error(`evalIR: expected ${ir.inVars.length} arguments, got ${args.length}`);
  }
  const env = new Map<Var, Tensor>();
  ir.inVars.forEach((v, i) => env.set(v, args[i]!));
  ir.constVars.forEach((v, i) => env.set(v, consts[i]!));
  for (const eqn of ir.eqns) {
    const outs = bind(
      eqn.prim,
      eqn.inputs.map((v) => env.get(v)!),
      eqn.params,
    );
    eqn.outputs.forEach((v, i) => env.set(v, outs[i]!));
  }
  return ir.outVars.map((v) => env.get(v)!);
}
