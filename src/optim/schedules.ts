/**
 * Hyperparameter schedules (DESIGN.md §1 optim/): plain functions `step -> value`, with
 * `step` the number of updates done so far (0 on the first update). Any hyperparameter
 * of any rule accepts one: `ng.optim.adam({ lr: ng.optim.schedules.cosine(1e-3, 1000) })`.
 * Schedules compose: `linearWarmup(v, n, then)` hands over to `then` after n steps.
 */
import { describeValue } from "../primitives/convert.js";
import type { Schedule } from "./rule.js";

function checkFinite(fn: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TypeError(
      `schedules.${fn}: ${name} must be a finite number, got ${describeValue(v)}`,
    );
  }
  return v;
}

function checkPositive(fn: string, name: string, v: unknown): number {
  const x = checkFinite(fn, name, v);
  if (x <= 0) throw new RangeError(`schedules.${fn}: ${name} must be > 0, got ${x}`);
  return x;
}

function checkStep(fn: string, step: unknown): number {
  if (typeof step !== "number" || !Number.isFinite(step) || step < 0) {
    throw new RangeError(
      `schedules.${fn}: step must be a non-negative number, got ${describeValue(step)}`,
    );
  }
  return step;
}

/**
 * The same value at every step.
 * @example ng.optim.schedules.constant(0.1)(100) // 0.1
 */
export function constant(v: number): Schedule {
  checkFinite("constant", "v", v);
  return (step) => (checkStep("constant", step), v);
}

/**
 * Exponential decay: v0 · decayRate^(step / decaySteps); with `staircase` the exponent is
 * floored, so the value drops once every decaySteps steps.
 * @example ng.optim.schedules.exponential(1, 0.5, 10)(20) // 0.25
 */
export function exponential(
  v0: number,
  decayRate: number,
  decaySteps: number,
  options: { staircase?: boolean } = {},
): Schedule {
  checkFinite("exponential", "v0", v0);
  checkPositive("exponential", "decayRate", decayRate);
  checkPositive("exponential", "decaySteps", decaySteps);
  const staircase = options.staircase ?? false;
  if (typeof staircase !== "boolean") {
    throw new TypeError(
      `schedules.exponential: options.staircase must be a boolean, got ${describeValue(staircase)}`,
    );
  }
  return (step) => {
    const e = checkStep("exponential", step) / decaySteps;
    return v0 * decayRate ** (staircase ? Math.floor(e) : e);
  };
}

/**
 * Cosine decay from v0 to alpha·v0 over decaySteps, constant afterwards:
 * v0 · ((1 − alpha) · ½(1 + cos(π · min(step, decaySteps) / decaySteps)) + alpha).
 * @example ng.optim.schedules.cosine(1, 100)(50) // 0.5
 */
export function cosine(v0: number, decaySteps: number, options: { alpha?: number } = {}): Schedule {
  checkFinite("cosine", "v0", v0);
  checkPositive("cosine", "decaySteps", decaySteps);
  const alpha = checkFinite("cosine", "options.alpha", options.alpha ?? 0);
  return (step) => {
    const t = Math.min(checkStep("cosine", step), decaySteps) / decaySteps;
    return v0 * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * t)) + alpha);
  };
}

/**
 * Linear warm-up from `options.init` (default 0) at step 0 to v0 at step warmupSteps; then
 * `then(step − warmupSteps)` when a schedule is given, else v0 (a number `then` is a
 * constant).
 * @example
 * const s = ng.optim.schedules.linearWarmup(1e-3, 100, ng.optim.schedules.cosine(1e-3, 900));
 * s(50) // 5e-4; s(100) // 1e-3; s(1000) // 0
 */
export function linearWarmup(
  v0: number,
  warmupSteps: number,
  then?: Schedule | number,
  options: { init?: number } = {},
): Schedule {
  checkFinite("linearWarmup", "v0", v0);
  checkPositive("linearWarmup", "warmupSteps", warmupSteps);
  const init = checkFinite("linearWarmup", "options.init", options.init ?? 0);
  let after: Schedule;
  if (then === undefined) after = () => v0;
  else if (typeof then === "number") after = constant(then);
  else if (typeof then === "function") after = then;
  else {
    throw new TypeError(
      `schedules.linearWarmup: then must be a schedule or a number, got ${describeValue(then)}`,
    );
  }
  return (step) => {
    checkStep("linearWarmup", step);
    return step < warmupSteps
      ? init + (v0 - init) * (step / warmupSteps)
      : after(step - warmupSteps);
  };
}
