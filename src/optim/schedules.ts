/**
 * Hyperparameter schedules: functions `step -> value`, with `step`
 * the number of updates done so far (0 on the first update). Any hyperparameter of any
 * rule accepts one: `ng.optim.adam({ lr: ng.optim.schedules.cosine(1e-3, 1000) })`.
 * Schedules compose: `linearWarmup(v, n, then)` hands over to `then` after n steps. Each
 * built-in is written once over the scalar helpers, so it is exact float64 arithmetic on a
 * number step and nestgrad ops on a tensor step (traced under `ng.jit`); `traceable` makes
 * such a schedule from a function written with ops.
 */
import { ConcreteTensor, Tensor } from "../core/tensor.js";
import { cast } from "../primitives/cast.js";
import { less } from "../primitives/compare.js";
import { describeValue, scalar } from "../primitives/convert.js";
import { cos } from "../primitives/cos.js";
import { floor } from "../primitives/floor.js";
import { maximum } from "../primitives/maximum.js";
import { minimum } from "../primitives/minimum.js";
import { where } from "../primitives/where.js";
import { isFloat } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { checkOptions, optionKeys } from "../util/options.js";
import {
  callSchedule,
  sAdd,
  sDiv,
  sMul,
  sPow,
  sSub,
  type Scalar,
  type Schedule,
  type TraceableSchedule,
} from "./rule.js";

/** Options of `exponential`. */
export interface ExponentialOptions {
  /** Floor the exponent, so the value drops once every decaySteps steps (default false). */
  staircase?: boolean;
}
/** Options of `cosine`. */
export interface CosineOptions {
  /** The final value as a fraction of v0 (default 0). */
  alpha?: number;
}
/** Options of `linearWarmup`. */
export interface LinearWarmupOptions {
  /** The value at step 0 (default 0). */
  init?: number;
}
const EXPONENTIAL_OPTION_KEYS = optionKeys<ExponentialOptions>()(["staircase"]);
const COSINE_OPTION_KEYS = optionKeys<CosineOptions>()(["alpha"]);
const LINEAR_WARMUP_OPTION_KEYS = optionKeys<LinearWarmupOptions>()(["init"]);

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

/** A step: a non-negative number, or a rank-0 tensor (float32 unless it is float). */
function checkStep(fn: string, step: unknown): Scalar {
  if (step instanceof Tensor) {
    if (step.ndim !== 0) {
      throw new TypeError(
        `schedules.${fn}: step must be a number or a rank-0 tensor, got ${step.dtype}${formatShape(step.shape)}`,
      );
    }
    if (step instanceof ConcreteTensor) checkStep(fn, step.item());
    return isFloat(step.dtype) ? step : cast(step, "float32");
  }
  if (typeof step !== "number" || !Number.isFinite(step) || step < 0) {
    throw new RangeError(
      `schedules.${fn}: step must be a non-negative number, got ${describeValue(step)}`,
    );
  }
  return step;
}

// Scalar helpers beyond rule.ts's: Math on numbers, nestgrad ops on tensors.
const sCos = (x: Scalar): Scalar => (typeof x === "number" ? Math.cos(x) : cos(x));
const sFloor = (x: Scalar): Scalar => (typeof x === "number" ? Math.floor(x) : floor(x));
const sMin = (x: Scalar, y: number): Scalar =>
  typeof x === "number" ? Math.min(x, y) : minimum(x, y);
const sMax = (x: Scalar, y: number): Scalar =>
  typeof x === "number" ? Math.max(x, y) : maximum(x, y);
/** x < bound ? a() : b(): only the taken branch for a number, both and a `where` for a tensor. */
const sIfLess = (x: Scalar, bound: number, a: () => Scalar, b: () => Scalar): Scalar =>
  typeof x === "number" ? (x < bound ? a() : b()) : where(less(x, bound), a(), b());

/** A traceable schedule from `f`, written over the scalar helpers (numbers in, numbers out). */
function defineSchedule(fn: string, f: (step: Scalar) => Scalar): TraceableSchedule {
  const s = (step: number | Tensor): Scalar => {
    const x = checkStep(fn, step);
    const v = f(x);
    // A value that does not depend on a tensor step still comes back as a tensor.
    return typeof x === "number" || typeof v !== "number" ? v : scalar(v, x.dtype);
  };
  return Object.assign(s, { traceable: true as const }) as TraceableSchedule;
}

/**
 * A traceable schedule from `fn`, a function of the step written with nestgrad ops (so
 * that it works under `ng.jit`, where the step is traced). `fn` receives the step as a
 * rank-0 float tensor (float64 when the step is a number, whose result is then read as a
 * number; float32 when traced) and returns a rank-0 tensor (or a number).
 * @example
 * const decay = ng.optim.schedules.traceable((t) => ng.mul(0.1, ng.pow(0.99, t)));
 * decay(2) // 0.09801: 0.1 · 0.99²
 */
export function traceable(fn: (step: Tensor) => Tensor | number): TraceableSchedule {
  if (typeof fn !== "function") {
    throw new TypeError(
      `schedules.traceable: fn must be a function (step: Tensor) => Tensor, got ${describeValue(fn)}`,
    );
  }
  const bad = (v: unknown): never => {
    throw new TypeError(
      `schedules.traceable: fn${fn.name ? ` (${fn.name})` : ""} must return a number or a rank-0 tensor, got ${
        v instanceof Tensor ? `${v.dtype}${formatShape(v.shape)}` : describeValue(v)
      }`,
    );
  };
  const s = (step: number | Tensor): Scalar => {
    const x = checkStep("traceable", step);
    const v = fn(typeof x === "number" ? scalar(x, "float64") : x);
    if (typeof v === "number") return typeof x === "number" ? v : scalar(v, x.dtype);
    if (!(v instanceof Tensor) || v.ndim !== 0) return bad(v);
    return typeof x === "number" ? v.item() : v;
  };
  Object.defineProperty(s, "name", { value: fn.name });
  return Object.assign(s, { traceable: true as const }) as TraceableSchedule;
}

/**
 * The same value at every step.
 * @example ng.optim.schedules.constant(0.1)(100) // 0.1
 */
export function constant(v: number): TraceableSchedule {
  checkFinite("constant", "v", v);
  return defineSchedule("constant", () => v);
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
  options: ExponentialOptions = {},
): TraceableSchedule {
  checkFinite("exponential", "v0", v0);
  checkPositive("exponential", "decayRate", decayRate);
  checkPositive("exponential", "decaySteps", decaySteps);
  const staircase =
    checkOptions("schedules.exponential", options, EXPONENTIAL_OPTION_KEYS).staircase ?? false;
  if (typeof staircase !== "boolean") {
    throw new TypeError(
      `schedules.exponential: options.staircase must be a boolean, got ${describeValue(staircase)}`,
    );
  }
  return defineSchedule("exponential", (step) => {
    const e = sDiv(step, decaySteps);
    return sMul(v0, sPow(decayRate, staircase ? sFloor(e) : e));
  });
}

/**
 * Cosine decay from v0 to alpha·v0 over decaySteps, constant afterwards:
 * v0 · ((1 − alpha) · ½(1 + cos(π · min(step, decaySteps) / decaySteps)) + alpha).
 * @example ng.optim.schedules.cosine(1, 100)(50) // 0.5
 */
export function cosine(
  v0: number,
  decaySteps: number,
  options: CosineOptions = {},
): TraceableSchedule {
  checkFinite("cosine", "v0", v0);
  checkPositive("cosine", "decaySteps", decaySteps);
  const o = checkOptions("schedules.cosine", options, COSINE_OPTION_KEYS);
  const alpha = checkFinite("cosine", "options.alpha", o.alpha ?? 0);
  return defineSchedule("cosine", (step) => {
    const t = sDiv(sMin(step, decaySteps), decaySteps);
    return sMul(v0, sAdd(sMul((1 - alpha) * 0.5, sAdd(1, sCos(sMul(Math.PI, t)))), alpha));
  });
}

/**
 * Linear warm-up from `options.init` (default 0) at step 0 to v0 at step warmupSteps; then
 * `then(step − warmupSteps)` when a schedule is given, else v0 (a number `then` is a
 * constant). Under `ng.jit` a schedule `then` must be traceable.
 * @example
 * const s = ng.optim.schedules.linearWarmup(1e-3, 100, ng.optim.schedules.cosine(1e-3, 900));
 * s(50) // 5e-4
 * s(100) // 1e-3
 * s(1000) // 0
 */
export function linearWarmup(
  v0: number,
  warmupSteps: number,
  then?: Schedule | number,
  options: LinearWarmupOptions = {},
): TraceableSchedule {
  checkFinite("linearWarmup", "v0", v0);
  checkPositive("linearWarmup", "warmupSteps", warmupSteps);
  const o = checkOptions("schedules.linearWarmup", options, LINEAR_WARMUP_OPTION_KEYS);
  const init = checkFinite("linearWarmup", "options.init", o.init ?? 0);
  let after: Schedule;
  if (then === undefined) after = constant(v0);
  else if (typeof then === "number") after = constant(then);
  else if (typeof then === "function") after = then;
  else {
    throw new TypeError(
      `schedules.linearWarmup: then must be a schedule or a number, got ${describeValue(then)}`,
    );
  }
  return defineSchedule("linearWarmup", (step) =>
    sIfLess(
      step,
      warmupSteps,
      () => sAdd(init, sMul(v0 - init, sDiv(step, warmupSteps))),
      // max(·, 0): a traced step evaluates `then` during the warm-up too (the value is discarded).
      () =>
        callSchedule(
          after,
          sMax(sSub(step, warmupSteps), 0),
          "schedules.linearWarmup: then",
        ) as Scalar,
    ),
  );
}
