/**
 * Taylor mode for the per-sample operators: runs a batch-first f once
 * under the Taylor interpreter (core/taylor.ts), seeding x [B, d] with the d basis
 * directions E_j (e_j for every sample) as its first-order jets. Since f maps samples
 * independently, the jets of f(x) along E_j are each sample's derivatives along e_j: J
 * gives the Jacobian columns, L the Laplacian ("sum") or the Hessian diagonal ("diag").
 * `method` chooses between this pass and the vmap(jvp(grad)) path; "auto" takes Taylor
 * mode unless a primitive of f has no Taylor rule, and says so in the "nested" debug log
 * (the operator's choice of method is a nested-derivative strategy).
 */
import { TaylorRuleMissing, TaylorTrace, type TaylorContext } from "../core/taylor.js";
import type { Tensor } from "../core/tensor.js";
import { currentTrace, withTrace } from "../core/trace.js";
import { debugEnabled } from "../config.js";
import { zeros } from "../ops/creation.js";
import { optionKeys, checkOptions } from "../util/options.js";
import { basisDirections } from "./common.js";

let sink: (line: string) => void = (line) => console.error(line);

/** Replaces the sink of the operators' debug notes (console.error by default); returns the previous one. */
export function setOperatorLogSink(fn: (line: string) => void): (line: string) => void {
  const prev = sink;
  sink = fn;
  return prev;
}

function log(message: () => string): void {
  if (debugEnabled("nested")) sink(`[nestgrad:nested] ${message()}`);
}

/** How an operator computes its second-order (or first-order) per-sample derivatives. */
export type OperatorMethod = "taylor" | "hvp" | "auto";

export interface OperatorOptions {
  /**
   * "taylor": one forward pass carrying first- and second-order jets (every primitive of f
   * needs a Taylor rule); "hvp": d Hessian-vector (or Jacobian-vector) products batched by
   * vmap; "auto" (default): "taylor" when every primitive of f has a rule, else "hvp".
   */
  method?: OperatorMethod;
}

/** The keys of OperatorOptions (checked against the interface by the compiler). */
export const OPERATOR_OPTION_KEYS = optionKeys<OperatorOptions>()(["method"]);

/** Validates an operator's options; returns the method. */
export function operatorMethod(fname: string, options: unknown): OperatorMethod {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${fname}: options must be an object like { method: "taylor" }, got ${options === null ? "null" : typeof options}`,
    );
  }
  const { method = "auto" } = checkOptions(fname, options as OperatorOptions, OPERATOR_OPTION_KEYS);
  if (method !== "auto" && method !== "taylor" && method !== "hvp") {
    throw new TypeError(
      `${fname}: options.method must be "auto", "taylor" or "hvp", got ${JSON.stringify(method)}`,
    );
  }
  return method;
}

/**
 * f's output and its jets for x [B, d] seeded with the basis directions: J [d, ...] and
 * L [k, ...] of the shape of f(x), zeros where f does not depend on x. `check` validates
 * f's output (and may reshape it) before the jets are read.
 */
export function taylorJets(
  f: (x: Tensor) => Tensor,
  x: Tensor,
  ctx: TaylorContext,
  check: (y: unknown) => Tensor,
): { value: Tensor; jet1: Tensor; jet2: Tensor | null } {
  const [b, d] = x.shape as [number, number];
  const trace = new TaylorTrace(currentTrace(), ctx);
  const seeded = trace.lift({ value: x, jet1: basisDirections(b, d, x.dtype), jet2: null });
  const y = withTrace(trace, () => check(f(seeded)));
  const { value, jet1, jet2 } = trace.unpack(y);
  const k = ctx.mode === "sum" ? 1 : d;
  const none = (n: number) => zeros([n, ...value.shape], { dtype: value.dtype });
  return {
    value,
    jet1: jet1 ?? none(d),
    jet2: ctx.order === 2 ? (jet2 ?? none(k)) : null,
  };
}

/**
 * Runs the Taylor-mode computation or the vmap(jvp(grad)) one as `method` says; "auto"
 * falls back to the latter when a primitive of f has no Taylor rule.
 */
export function byMethod<T>(
  fname: string,
  method: OperatorMethod,
  taylor: () => T,
  hvp: () => T,
): T {
  if (method === "hvp") return hvp();
  try {
    return taylor();
  } catch (e) {
    if (!(e instanceof TaylorRuleMissing)) throw e;
    if (method === "taylor") {
      throw new Error(
        `${fname}: method "taylor" needs a Taylor rule for every primitive f uses, and ` +
          `'${e.primitive}' has none; use method "auto" or "hvp"`,
        { cause: e },
      );
    }
    log(
      () =>
        `${fname}: Taylor mode unavailable ('${e.primitive}' has no Taylor rule); using vmap(jvp(grad))`,
    );
    return hvp();
  }
}
