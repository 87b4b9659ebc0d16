/**
 * Optimiser rules (Optimisers.jl): the `Rule` contract, the
 * hyperparameter type (a number, a scalar tensor or a schedule `step -> value`), and the
 * scalar arithmetic the rules share. A rule is an immutable hyperparameter record with
 * `init(p) -> state` and `apply(state, p, g, step) -> [state, update]`; the update is
 * subtracted from the parameter by `update` (tree.ts). Everything is written with nestgrad
 * ops, so an update step can itself be differentiated (meta-learning) and staged by
 * `ng.jit`: the step count is a JS number when it is concrete (exact float64 arithmetic)
 * and a traced int32 tensor inside a staged program, where schedules must be traceable.
 */
import { ConcreteTensor, Tensor } from "../core/tensor.js";
import { isFloat } from "../tensor/dtype.js";
import { checkOptions as checkOptionKeys } from "../util/options.js";
import { add } from "../primitives/add.js";
import { cast } from "../primitives/cast.js";
import { div } from "../primitives/div.js";
import { mul } from "../primitives/mul.js";
import { pow } from "../primitives/pow.js";
import { sqrt } from "../primitives/sqrt.js";
import { sub } from "../primitives/sub.js";
import { describeValue } from "../primitives/convert.js";
import { formatShape } from "../tensor/shape.js";

/**
 * A learning-rate (or any hyperparameter) schedule: the value at `step` (0 on the first
 * update). A plain JS function of a number works eagerly; inside `ng.jit` the step is
 * traced, so the schedule must be a `TraceableSchedule` (the built-ins, or one made with
 * `ng.optim.schedules.traceable`).
 */
export type Schedule = (step: number) => number;

/**
 * A schedule written with nestgrad ops: called with a number when the step count is
 * concrete and with a rank-0 float32 tensor when it is traced (under `ng.jit`), returning
 * a number or a rank-0 tensor accordingly. Every schedule of `ng.optim.schedules` is one.
 */
export interface TraceableSchedule {
  (step: Tensor): Tensor;
  // Listed last: TypeScript infers from the last overload (`[0, 1].map(s)` gives numbers).
  (step: number): number;
  readonly traceable: true;
}

/**
 * True when `s` is a schedule that accepts a traced step.
 * @example ng.optim.isTraceable(ng.optim.schedules.cosine(1, 100)) // true
 * ng.optim.isTraceable((t: number) => 0.1 / (1 + t)) // false
 */
export function isTraceable(s: unknown): s is TraceableSchedule {
  return typeof s === "function" && (s as Partial<TraceableSchedule>).traceable === true;
}

/** The name a schedule is shown by in errors. */
function scheduleName(s: Schedule): string {
  return s.name ? ` (${s.name})` : "";
}

/**
 * Evaluates schedule `s` at `step`: a number step calls it as is; a traced step (a tensor)
 * calls a traceable schedule with the step as float32, and is a TypeError naming `what`
 * for a plain JS schedule, which cannot see the value of a traced step.
 * @example callSchedule(ng.optim.schedules.cosine(1, 10), 5, "lr") // 0.5
 */
export function callSchedule(s: Schedule, step: Scalar, what: string): unknown {
  if (typeof step === "number") return s(step);
  if (!isTraceable(s)) {
    throw new TypeError(
      `${what}${scheduleName(s)} is a JS function of a number, but the step count is traced here ` +
        `(inside ng.jit or another staged program), so it has no value to call it with; ` +
        `write the schedule with nestgrad ops and wrap it in ng.optim.schedules.traceable(fn), ` +
        `or use a built-in schedule of ng.optim.schedules`,
    );
  }
  return s(step.dtype === "float32" ? step : cast(step, "float32"));
}

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
 * first), the value schedules are evaluated at (Adam's bias correction uses t = step + 1):
 * a JS number when the optimiser's count is concrete, a rank-0 int32 tensor when it is
 * traced (under `ng.jit`). The `s*` scalar helpers and `resolve` handle both.
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
  apply(state: S, p: Tensor, g: Tensor, step: Scalar): [S, Tensor];
  applyTree?(
    states: readonly S[],
    ps: readonly Tensor[],
    gs: readonly Tensor[],
    step: Scalar,
  ): [S[], Tensor[]];
}

/**
 * Runs `rule` over parallel lists of leaves: its `applyTree` when present, else `apply` per leaf.
 * @example
 * const [states, updates] = ng.optim.applyRule(ng.optim.sgd(0.1), [null], [ng.array([1])], [ng.array([2])], 0);
 * // updates: [[0.2]]
 */
export function applyRule(
  rule: Rule,
  states: readonly unknown[],
  ps: readonly Tensor[],
  gs: readonly Tensor[],
  step: Scalar,
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

/** True when `x` is a Rule (has a kind, init and apply). @example ng.optim.isRule(ng.optim.sgd(0.1)) // true */
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
 * Validates a hyperparameter at construction: numbers against `bounds`; tensors must be
 * float and rank 0 and, when concrete, pass the same checks as a number (a tracer, e.g. a
 * learning rate being differentiated, has no value to check); functions are schedules,
 * checked when evaluated.
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
    if (!isFloat(h.dtype)) {
      throw new TypeError(
        `optim.${kind}: ${name}: a tensor hyperparameter must be float32 or float64, got ${h.dtype}${formatShape(h.shape)}`,
      );
    }
    if (h instanceof ConcreteTensor) {
      checkNumber(kind, name, Number(h.concrete().item()), bounds, " (a tensor)");
    }
    return h;
  }
  if (typeof h === "function") return h as Schedule;
  throw new TypeError(
    `optim.${kind}: ${name}: expected a number, a rank-0 tensor or a schedule (step => value), got ${describeValue(h)}`,
  );
}

/** The value of a number or a concrete scalar tensor; undefined for a tracer or a schedule. */
export function knownValue(h: Hyper | Scalar): number | undefined {
  if (typeof h === "number") return h;
  if (h instanceof ConcreteTensor) return Number(h.concrete().item());
  return undefined;
}

/**
 * Validates a constructor options object: undefined or a plain object whose keys are all
 * in `keys` (an unknown key is a TypeError naming `optim.<kind>` with a suggestion).
 * @example checkOptions("momentum", { beta: 0.9 }, ["lr", "beta", "nesterov"])
 */
export function checkOptions(
  kind: string,
  options: unknown,
  keys: readonly string[],
): Record<string, unknown> {
  if (options === undefined) return {};
  if (
    typeof options !== "object" ||
    options === null ||
    Array.isArray(options) ||
    options instanceof Tensor
  ) {
    throw new TypeError(`optim.${kind}: options must be an object, got ${describeValue(options)}`);
  }
  return checkOptionKeys(`optim.${kind}`, options as Record<string, unknown>, keys);
}

/** True for what can stand in the learning-rate position: a number, a tensor or a schedule. */
function isHyperLike(x: unknown): boolean {
  return typeof x === "number" || typeof x === "function" || x instanceof Tensor;
}

/**
 * Splits the `(lr?, options?)` arguments every optimiser rule takes, as in Optax and
 * Optimisers.jl: `adam(1e-3)`, `adam(1e-3, { beta1: 0.9 })` and `adam({ lr: 1e-3 })` give
 * the same options object. The learning rate may be a number, a rank-0 tensor or a
 * schedule; giving it both ways is an error. `keys` are the options' keys (with "lr").
 * @example lrAndOptions("adam", 1e-3, { eps: 1e-6 }, ["lr", "eps"]) // { eps: 1e-6, lr: 1e-3 }
 */
export function lrAndOptions(
  kind: string,
  a: unknown,
  b: unknown,
  keys: readonly string[],
): Record<string, unknown> {
  // An explicit undefined lr keeps the default: momentum(undefined, { beta: 0.5 }).
  if (a === undefined) return checkOptions(kind, b, keys);
  if (!isHyperLike(a)) {
    if (b !== undefined) {
      throw new TypeError(
        `optim.${kind}: expected (lr, options) or (options), got ${describeValue(a)} then ${describeValue(b)}`,
      );
    }
    return checkOptions(kind, a, keys);
  }
  const o = checkOptions(kind, b, keys);
  if (o.lr !== undefined) {
    throw new TypeError(
      `optim.${kind}: the learning rate was given twice, as the first argument (${describeValue(a)}) and as options.lr (${describeValue(o.lr)}); pass it one way`,
    );
  }
  return { ...o, lr: a };
}

/**
 * Reads a hyperparameter that has an alias (Optax's `b1` for `beta1`): the value given
 * under either name, or undefined; both names at once is an error.
 */
export function aliased(
  kind: string,
  o: Record<string, unknown>,
  name: string,
  alias: string,
): unknown {
  if (o[name] !== undefined && o[alias] !== undefined) {
    throw new TypeError(
      `optim.${kind}: options.${name} and its alias options.${alias} were both given; pass one`,
    );
  }
  return o[name] ?? o[alias];
}

/**
 * The value of hyperparameter `h` at `step` (a schedule is called, its result checked).
 * A concrete step gives a number, checked against `bounds`; a traced step (a tensor) calls
 * a traceable schedule, whose rank-0 float tensor is checked when it has a value.
 * @example resolve("adam", "lr", (t) => 0.1 / (1 + t), 3) // 0.025
 */
export function resolve(
  kind: string,
  name: string,
  h: Hyper,
  step: Scalar,
  bounds: HyperBounds = {},
): Scalar {
  if (typeof h !== "function") return h;
  const v = callSchedule(h, step, `optim.${kind}: the schedule for ${name}`);
  if (typeof step !== "number" && v instanceof Tensor && v.ndim === 0 && isFloat(v.dtype)) {
    const known = knownValue(v);
    if (known !== undefined) checkNumber(kind, name, known, bounds, " (schedule value)");
    return v;
  }
  const at = typeof step === "number" ? ` at step ${step}` : " (at a traced step)";
  if (typeof v !== "number") {
    const want = typeof step === "number" ? "a number" : "a number or a rank-0 float tensor";
    throw new TypeError(
      `optim.${kind}: the schedule for ${name} must return ${want}, got ${describeValue(v)}${at}`,
    );
  }
  checkNumber(kind, name, v, bounds, ` (schedule value${at})`);
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
export const sPow = (a: Scalar, b: Scalar): Scalar =>
  typeof a === "number" && typeof b === "number" ? a ** b : pow(a, b);
export const sSqrt = (a: Scalar): Scalar => (typeof a === "number" ? Math.sqrt(a) : sqrt(a));

/** A frozen rule record: the kind, the hyperparameters, and the functions. */
export function defineRule<S, H extends object>(
  kind: string,
  hypers: H,
  fns: Pick<Rule<S>, "init" | "apply" | "applyTree">,
): Rule<S> & Readonly<H> {
  return Object.freeze({ kind, ...hypers, ...fns }) as Rule<S> & Readonly<H>;
}
