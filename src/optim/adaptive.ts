/**
 * Adaptive optimiser rules: adam, adamw (decoupled weight decay),
 * rmsprop (optionally centered), adagrad and lion. Each is a hyperparameter record with
 * `init` and `apply` (rule.ts) written with nestgrad ops; every hyperparameter accepts a
 * number, a rank-0 tensor or a schedule. The learning rate also comes positionally, as in
 * Optax: `adam(1e-3, { beta2: 0.99 })` is `adam({ lr: 1e-3, beta2: 0.99 })`. The update u is
 * subtracted from the parameter.
 */
import type { Tensor } from "../core/tensor.js";
import { add } from "../primitives/add.js";
import { cast } from "../primitives/cast.js";
import { div } from "../primitives/div.js";
import { expm1 } from "../primitives/expm1.js";
import { log } from "../primitives/log.js";
import { maximum } from "../primitives/maximum.js";
import { mul } from "../primitives/mul.js";
import { neg } from "../primitives/neg.js";
import { sign } from "../primitives/sign.js";
import { sqrt } from "../primitives/sqrt.js";
import { sub } from "../primitives/sub.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { describeValue } from "../primitives/convert.js";
import { optionKeys } from "../util/options.js";
import {
  aliased,
  checkHyper,
  defineRule,
  lrAndOptions,
  resolve,
  sDiv,
  sMul,
  sPow,
  sSub,
  type Hyper,
  type Rule,
  type Scalar,
} from "./rule.js";

const NONNEG = { min: 0 };
const BETA = { min: 0, max: 1, maxExclusive: true };

export interface AdamOptions {
  /** Step size (default 1e-3). */
  lr?: Hyper;
  /** Decay of the first-moment average (default 0.9). */
  beta1?: Hyper;
  /** Decay of the second-moment average (default 0.999). */
  beta2?: Hyper;
  /** Optax's name for beta1 (give one of the two). */
  b1?: Hyper;
  /** Optax's name for beta2 (give one of the two). */
  b2?: Hyper;
  /** Added to √v̂ in the denominator (default 1e-8). */
  eps?: Hyper;
}

/** The keys of AdamOptions (checked against the interface by the compiler). */
export const ADAM_OPTION_KEYS = optionKeys<AdamOptions>()([
  "lr",
  "beta1",
  "beta2",
  "b1",
  "b2",
  "eps",
]);

export interface AdamState {
  m: Tensor;
  v: Tensor;
}

type AdamHypers = { lr: Hyper; beta1: Hyper; beta2: Hyper; eps: Hyper };
type AdamRule = Rule<AdamState> & Readonly<AdamHypers>;

function adamHypers(kind: string, o: Record<string, unknown>): AdamHypers {
  return {
    lr: checkHyper(kind, "lr", o.lr ?? 1e-3, NONNEG),
    beta1: checkHyper(kind, "beta1", aliased(kind, o, "beta1", "b1") ?? 0.9, BETA),
    beta2: checkHyper(kind, "beta2", aliased(kind, o, "beta2", "b2") ?? 0.999, BETA),
    eps: checkHyper(kind, "eps", o.eps ?? 1e-8, NONNEG),
  };
}

/**
 * 1 − βᵗ: exact float64 arithmetic for numbers; for a traced t, −expm1(t · ln β), which keeps
 * the relative accuracy of float32 for β near 1 (1 − 0.999 loses 4 digits in float32).
 */
function biasCorrection(beta: Scalar, t: Scalar): Scalar {
  if (typeof t === "number") return sSub(1, sPow(beta, t));
  return neg(expm1(mul(t, typeof beta === "number" ? Math.log(beta) : log(beta))));
}

/** One Adam step without weight decay: new moments and the update. */
function adamStep(
  kind: string,
  h: AdamHypers,
  s: AdamState,
  g: Tensor,
  step: Scalar,
): [AdamState, Tensor] {
  const lr = resolve(kind, "lr", h.lr, step, NONNEG);
  const b1 = resolve(kind, "beta1", h.beta1, step, BETA);
  const b2 = resolve(kind, "beta2", h.beta2, step, BETA);
  const eps = resolve(kind, "eps", h.eps, step, NONNEG);
  // t = step + 1, in the gradient's dtype when the step is traced.
  const t = typeof step === "number" ? step + 1 : add(cast(step, g.dtype), 1);
  // m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
  const m = add(mul(s.m, b1), mul(g, sSub(1, b1)));
  const v = add(mul(s.v, b2), mul(mul(g, g), sSub(1, b2)));
  // u = lr · m̂ / (√v̂ + ε) with m̂ = m / (1−β1ᵗ), v̂ = v / (1−β2ᵗ)
  const mHat = mul(m, sDiv(lr, biasCorrection(b1, t)));
  const vHat = div(v, biasCorrection(b2, t));
  return [{ m, v }, div(mHat, add(sqrt(vHat), eps))];
}

const initMoments = (p: Tensor): AdamState => ({ m: zerosLike(p), v: zerosLike(p) });

/**
 * Adam (Kingma & Ba): bias-corrected moment estimates, u = lr · m̂ / (√v̂ + ε). The first
 * update is lr · g / (|g| + ε) ≈ lr · sign(g). State: { m, v }.
 * @example const rule = ng.optim.adam(1e-3); // or ng.optim.adam({ lr: 1e-3 })
 */
export function adam(lr: Hyper, options?: Omit<AdamOptions, "lr">): AdamRule;
export function adam(options?: AdamOptions): AdamRule;
export function adam(a?: Hyper | AdamOptions, b?: Omit<AdamOptions, "lr">): AdamRule {
  const h = adamHypers("adam", lrAndOptions("adam", a, b, ADAM_OPTION_KEYS));
  return defineRule("adam", h, {
    init: initMoments,
    apply: (s, _p, g, step) => adamStep("adam", h, s, g, step),
  });
}

export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay λ (default 1e-2): adds lr · λ · p to the update. */
  weightDecay?: Hyper;
}

/** The keys of AdamWOptions (checked against the interface by the compiler). */
export const ADAMW_OPTION_KEYS = optionKeys<AdamWOptions>()([...ADAM_OPTION_KEYS, "weightDecay"]);

type AdamWRule = Rule<AdamState> & Readonly<AdamHypers & { weightDecay: Hyper }>;

/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay,
 * u = lr · (m̂ / (√v̂ + ε) + λ p). The decay is scaled by lr (as in PyTorch and optax) and
 * never enters the moment estimates. State: { m, v }.
 * @example const rule = ng.optim.adamw(1e-3, { weightDecay: 1e-4 });
 */
export function adamw(lr: Hyper, options?: Omit<AdamWOptions, "lr">): AdamWRule;
export function adamw(options?: AdamWOptions): AdamWRule;
export function adamw(a?: Hyper | AdamWOptions, b?: Omit<AdamWOptions, "lr">): AdamWRule {
  const o = lrAndOptions("adamw", a, b, ADAMW_OPTION_KEYS);
  const h = adamHypers("adamw", o);
  const weightDecay = checkHyper("adamw", "weightDecay", o.weightDecay ?? 1e-2, NONNEG);
  return defineRule(
    "adamw",
    { ...h, weightDecay },
    {
      init: initMoments,
      apply: (s, p, g, step) => {
        const [s1, u] = adamStep("adamw", h, s, g, step);
        const lr = resolve("adamw", "lr", h.lr, step, NONNEG);
        const wd = resolve("adamw", "weightDecay", weightDecay, step, NONNEG);
        return [s1, add(u, mul(p, sMul(lr, wd)))];
      },
    },
  );
}

export interface RMSPropOptions {
  /** Step size (default 1e-3). */
  lr?: Hyper;
  /** Decay of the squared-gradient average (default 0.9). */
  rho?: Hyper;
  /** Added to the root in the denominator (default 1e-8). */
  eps?: Hyper;
  /** Divide by the centered second moment E[g²] − E[g]² instead (default false). */
  centered?: boolean;
}

/** The keys of RMSPropOptions (checked against the interface by the compiler). */
export const RMSPROP_OPTION_KEYS = optionKeys<RMSPropOptions>()(["lr", "rho", "eps", "centered"]);

type RMSPropRule = Rule<RMSPropState> &
  Readonly<{ lr: Hyper; rho: Hyper; eps: Hyper; centered: boolean }>;

export interface RMSPropState {
  /** Running mean of g². */
  s: Tensor;
  /** Running mean of g (only when centered). */
  mg?: Tensor;
}

/**
 * RMSProp: s ← ρ s + (1−ρ) g², u = lr · g / (√s + ε). Centered: also mg ← ρ mg + (1−ρ) g and
 * u = lr · g / (√max(s − mg², 0) + ε). State: { s } or { s, mg }.
 * @example const rule = ng.optim.rmsprop(1e-3, { rho: 0.9 });
 */
export function rmsprop(lr: Hyper, options?: Omit<RMSPropOptions, "lr">): RMSPropRule;
export function rmsprop(options?: RMSPropOptions): RMSPropRule;
export function rmsprop(a?: Hyper | RMSPropOptions, b?: Omit<RMSPropOptions, "lr">): RMSPropRule {
  const o = lrAndOptions("rmsprop", a, b, RMSPROP_OPTION_KEYS);
  const lr = checkHyper("rmsprop", "lr", o.lr ?? 1e-3, NONNEG);
  const rho = checkHyper("rmsprop", "rho", o.rho ?? 0.9, BETA);
  const eps = checkHyper("rmsprop", "eps", o.eps ?? 1e-8, NONNEG);
  const centered = o.centered ?? false;
  if (typeof centered !== "boolean") {
    throw new TypeError(
      `optim.rmsprop: options.centered must be a boolean, got ${describeValue(centered)}`,
    );
  }
  return defineRule(
    "rmsprop",
    { lr, rho, eps, centered },
    {
      init: (p) => (centered ? { s: zerosLike(p), mg: zerosLike(p) } : { s: zerosLike(p) }),
      apply: (st, _p, g, step) => {
        const r = resolve("rmsprop", "rho", rho, step, BETA);
        const rate = resolve("rmsprop", "lr", lr, step, NONNEG);
        const e = resolve("rmsprop", "eps", eps, step, NONNEG);
        const s = add(mul(st.s, r), mul(mul(g, g), sSub(1, r)));
        if (!centered) return [{ s }, div(mul(g, rate), add(sqrt(s), e))];
        const mg = add(mul(st.mg!, r), mul(g, sSub(1, r)));
        const varG = maximum(sub(s, mul(mg, mg)), 0);
        return [{ s, mg }, div(mul(g, rate), add(sqrt(varG), e))];
      },
    },
  );
}

export interface AdagradOptions {
  /** Step size (default 1e-2). */
  lr?: Hyper;
  /** Added to the root in the denominator (default 1e-8). */
  eps?: Hyper;
}

/** The keys of AdagradOptions (checked against the interface by the compiler). */
export const ADAGRAD_OPTION_KEYS = optionKeys<AdagradOptions>()(["lr", "eps"]);

type AdagradRule = Rule<Tensor> & Readonly<{ lr: Hyper; eps: Hyper }>;

/**
 * Adagrad: a ← a + g², u = lr · g / (√a + ε), the accumulator starting at 0. State: the
 * accumulator a.
 * @example const rule = ng.optim.adagrad(0.1);
 */
export function adagrad(lr: Hyper, options?: Omit<AdagradOptions, "lr">): AdagradRule;
export function adagrad(options?: AdagradOptions): AdagradRule;
export function adagrad(a?: Hyper | AdagradOptions, b?: Omit<AdagradOptions, "lr">): AdagradRule {
  const o = lrAndOptions("adagrad", a, b, ADAGRAD_OPTION_KEYS);
  const lr = checkHyper("adagrad", "lr", o.lr ?? 1e-2, NONNEG);
  const eps = checkHyper("adagrad", "eps", o.eps ?? 1e-8, NONNEG);
  return defineRule(
    "adagrad",
    { lr, eps },
    {
      init: (p) => zerosLike(p),
      apply: (acc, _p, g, step) => {
        const a = add(acc, mul(g, g));
        const rate = resolve("adagrad", "lr", lr, step, NONNEG);
        const e = resolve("adagrad", "eps", eps, step, NONNEG);
        return [a, div(mul(g, rate), add(sqrt(a), e))];
      },
    },
  );
}

export interface LionOptions {
  /** Step size (default 1e-4; Lion wants a smaller lr than Adam). */
  lr?: Hyper;
  /** Interpolation between momentum and gradient for the update direction (default 0.9). */
  beta1?: Hyper;
  /** Decay of the momentum (default 0.99). */
  beta2?: Hyper;
  /** Optax's name for beta1 (give one of the two). */
  b1?: Hyper;
  /** Optax's name for beta2 (give one of the two). */
  b2?: Hyper;
  /** Decoupled weight decay λ (default 0). */
  weightDecay?: Hyper;
}

/** The keys of LionOptions (checked against the interface by the compiler). */
export const LION_OPTION_KEYS = optionKeys<LionOptions>()([
  "lr",
  "beta1",
  "beta2",
  "b1",
  "b2",
  "weightDecay",
]);

type LionRule = Rule<Tensor> &
  Readonly<{ lr: Hyper; beta1: Hyper; beta2: Hyper; weightDecay: Hyper }>;

/**
 * Lion (Chen et al., "Symbolic discovery of optimization algorithms"):
 * c = β1 m + (1−β1) g, u = lr · (sign(c) + λ p), then m ← β2 m + (1−β2) g. State: m.
 * @example const rule = ng.optim.lion(1e-4, { weightDecay: 1e-2 });
 */
export function lion(lr: Hyper, options?: Omit<LionOptions, "lr">): LionRule;
export function lion(options?: LionOptions): LionRule;
export function lion(a?: Hyper | LionOptions, b?: Omit<LionOptions, "lr">): LionRule {
  const o = lrAndOptions("lion", a, b, LION_OPTION_KEYS);
  const lr = checkHyper("lion", "lr", o.lr ?? 1e-4, NONNEG);
  const beta1 = checkHyper("lion", "beta1", aliased("lion", o, "beta1", "b1") ?? 0.9, {
    min: 0,
    max: 1,
  });
  const beta2 = checkHyper("lion", "beta2", aliased("lion", o, "beta2", "b2") ?? 0.99, BETA);
  const weightDecay = checkHyper("lion", "weightDecay", o.weightDecay ?? 0, NONNEG);
  return defineRule(
    "lion",
    { lr, beta1, beta2, weightDecay },
    {
      init: (p) => zerosLike(p),
      apply: (m, p, g, step) => {
        const rate = resolve("lion", "lr", lr, step, NONNEG);
        const b1 = resolve("lion", "beta1", beta1, step, { min: 0, max: 1 });
        const b2 = resolve("lion", "beta2", beta2, step, BETA);
        const wd = resolve("lion", "weightDecay", weightDecay, step, NONNEG);
        const c = add(mul(m, b1), mul(g, sSub(1, b1)));
        const u = mul(add(sign(c), mul(p, wd)), rate);
        return [add(mul(m, b2), mul(g, sSub(1, b2))), u];
      },
    },
  );
}
