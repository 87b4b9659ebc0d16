/**
 * Optimiser rules (DESIGN.md §1 optim/, STYLE "Optimisers.jl"): the `Rule` contract, the
 * hyperparameter type (a number, a scalar tensor or a schedule `step -> value`), and the
 * scalar arithmetic the rules share. A rule is an immutable hyperparameter record with
 * `init(p) -> state` and `apply(state, p, g, step) -> [state, update]`; the update is
 * subtracted from the parameter by `update` (tree.ts). Everything is written with nestgrad
 * ops, so an update step can itself be differentiated (meta-learning).
 */
import { Tensor } from "../core/tensor.js";
import { add } from "../primitives/add.js";
import { div } from "../primitives/div.js";
import { mul } from "../primitives/mul.js";
import { pow } from "../primitives/pow.js";
import { sqrt } from "../primitives/sqrt.js";
import { sub } from "../primitives/sub.js";
import { describeValue } from "../primitives/convert.js";
import { formatShape } from "../tensor/shape.js";

/** A learning-rate (or any hyperparameter) schedule: the value at `step` (0 on the first update). */
export type Schedule = (step: number) => number;

/**
 * A hyperparameter: a number, a rank-0 tensor (so it can be differentiated, e.g. a
 * learned learning rate) or a schedule evaluated at the update's step.
 */
export type Hyper = number | Tensor | Schedule;

/** A resolved hyperparameter or a scalar computed from them. */
export type Scalar = number | Tensor;

/**
 * An optimiser rule. `init(p)` builds the per-parameter state (a pytree of tensors, or null);
 * `apply(state, p, g, step)` returns the new state and the update `u` (same shape as p), and
 * `update` sets p ← p − u. `step` is the number of updates done before this one (0 on the
 * first), the value schedules are evaluated at (Adam's bias correction uses t = step + 1).
 *
 * Rules that need the whole tree at once (clipByGlobalNorm needs the norm over every leaf)
 * also implement `applyTree`, which receives the states, parameters and gradients of all
 * trained (not frozen) leaves as parallel lists, in flatten order. `update` calls
 * `applyTree` when it is present and `apply` leaf by leaf otherwise; `apply` of such a rule
 * treats its single leaf as the whole tree.
 */
export interface Rule<S = any> {
  readonly kind: string;
  init(p: Tensor): S;
  apply(state: S, p: Tensor, g: Tensor, step: number): [S, Tensor];
  applyTree?(
    states: readonly S[],
    ps: readonly Tensor[],
    gs: readonly Tensor[],
    step: number,
  ): [S[], Tensor[]];
}

/**
 * Runs `rule` over parallel lists of leaves: its `applyTree` when present, else `apply` per leaf.
 * @example const [states, updates] = applyRule(ng.optim.sgd(0.1), [null], [p], [g], 0);
 */
export function applyRule(
  rule: Rule,
  states: readonly unknown[],
  ps: readonly Tensor[],
  gs: readonly Tensor[],
  step: number,
): [unknown[], Tensor[]] {
  if (rule.applyTree) {
    const out = rule.applyTree(states, ps, gs, step);
    if (!Array.isArray(out) || out.length !== 2 || out[1].length !== ps.length) {
      throw new TypeError(
        `optim: rule "${rule.kind}": applyTree must return [states, updates] with ${ps.length} updates`,
      );
    }
    return out;
  }
  const newStates: unknown[] = [];
  const updates: Tensor[] = [];
  for (let i = 0; i < ps.length; i++) {
    const out = rule.apply(states[i], ps[i]!, gs[i]!, step);
    if (!Array.isArray(out) || out.length !== 2) {
      throw new TypeError(`optim: rule "${rule.kind}": apply must return [state, update]`);
    }
    newStates.push(out[0]);
    updates.push(out[1]);
  }
  return [newStates, updates];
}

/** True when `x` is a Rule (has a kind, init and apply). */
export function isRule(x: unknown): x is Rule {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as Rule).kind === "string" &&
    typeof (x as Rule).init === "function" &&
    typeof (x as Rule).apply === "function"
  );
}

/** Throws unless `x` is a Rule, naming `where`. */
export function checkRule(x: unknown, where: string): Rule {
  if (!isRule(x)) {
    throw new TypeError(
      `${where}: expected an optimiser rule (e.g. ng.optim.adam()), got ${describeValue(x)}`,
    );
  }
  return x;
}

interface HyperBounds {
  min?: number;
  max?: number;
  /** The upper bound is excluded (betas live in [0, 1)). */
  maxExclusive?: boolean;
  /** The lower bound is excluded. */
  minExclusive?: boolean;
}

function boundsText(b: HyperBounds): string {
  const lo = b.min === undefined ? "(-∞" : `${b.minExclusive ? "(" : "["}${b.min}`;
  const hi = b.max === undefined ? "∞)" : `${b.max}${b.maxExclusive ? ")" : "]"}`;
  return `${lo}, ${hi}`;
}

function checkNumber(kind: string, name: string, v: number, b: HyperBounds, at = ""): void {
  const bad =
    !Number.isFinite(v) ||
    (b.min !== undefined && (b.minExclusive ? v <= b.min : v < b.min)) ||
    (b.max !== undefined && (b.maxExclusive ? v >= b.max : v > b.max));
  if (bad) {
    throw new RangeError(
      `optim.${kind}: ${name}${at} must be a number in ${boundsText(b)}, got ${v}`,
    );
  }
}

/**
 * Validates a hyperparameter at construction: numbers against `bounds`, tensors must be
 * rank 0, functions are schedules (checked when evaluated).
 * @example checkHyper("adam", "lr", 1e-3, { min: 0 })
 */
export function checkHyper(
  kind: string,
  name: string,
  h: unknown,
  bounds: HyperBounds = {},
): Hyper {
  if (typeof h === "number") {
    checkNumber(kind, name, h, bounds);
    return h;
  }
  if (h instanceof Tensor) {
    if (h.ndim !== 0) {
      throw new TypeError(
        `optim.${kind}: ${name}: a tensor hyperparameter must have shape [], got ${h.dtype}${formatShape(h.shape)}`,
      );
    }
    return h;
  }
  if (typeof h === "function") return h as Schedule;
  throw new TypeError(
    `optim.${kind}: ${name}: expected a number, a rank-0 tensor or a schedule (step => value), got ${describeValue(h)}`,
  );
}

/** Validates a constructor option object (undefined or a plain object). */
export function checkOptions(kind: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`optim.${kind}: options must be an object, got ${describeValue(options)}`);
  }
  return options as Record<string, unknown>;
}

/**
 * The value of hyperparameter `h` at `step` (a schedule is called, its result checked).
 * @example resolve("adam", "lr", (t) => 0.1 / (1 + t), 3) // 0.025
 */
export function resolve(
  kind: string,
  name: string,
  h: Hyper,
  step: number,
  bounds: HyperBounds = {},
): Scalar {
  if (typeof h !== "function") return h;
  const v = h(step);
  if (typeof v !== "number") {
    throw new TypeError(
      `optim.${kind}: the schedule for ${name} must return a number, got ${describeValue(v)} at step ${step}`,
    );
  }
  checkNumber(kind, name, v, bounds, ` (schedule value at step ${step})`);
  return v;
}

// Scalar arithmetic: plain JS when both sides are numbers (exact in float64), else nestgrad ops
// (so tensor hyperparameters stay differentiable).
export const sAdd = (a: Scalar, b: Scalar): Scalar =>
  typeof a === "number" && typeof b === "number" ? a + b : add(a, b);
export const sSub = (a: Scalar, b: Scalar): Scalar =>
  typeof a === "number" && typeof b === "number" ? a - b : sub(a, b);
export const sMul = (a: Scalar, b: Scalar): Scalar =>
  typeof a === "number" && typeof b === "number" ? a * b : mul(a, b);
export const sDiv = (a: Scalar, b: Scalar): Scalar =>
  typeof a === "number" && typeof b === "number" ? a / b : div(a, b);
export const sPow = (a: Scalar, b: number): Scalar => (typeof a === "number" ? a ** b : pow(a, b));
export const sSqrt = (a: Scalar): Scalar => (typeof a === "number" ? Math.sqrt(a) : sqrt(a));

/** A frozen rule record: the kind, the hyperparameters, and the functions. */
export function defineRule<S, H extends object>(
  kind: string,
  hypers: H,
  fns: Pick<Rule<S>, "init" | "apply" | "applyTree">,
): Rule<S> & Readonly<H> {
  return Object.freeze({ kind, ...hypers, ...fns }) as Rule<S> & Readonly<H>;
}
