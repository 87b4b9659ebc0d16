/**
 * Plain gradient-descent rules: `sgd`, `momentum` (heavy ball or
 * Nesterov) and `nesterov`. Each is a hyperparameter record with `init` and `apply` (see rule.ts);
 * the update u is subtracted from the parameter.
 */
import type { Tensor } from "../core/tensor.js";
import { add } from "../primitives/add.js";
import { mul } from "../primitives/mul.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { describeValue } from "../primitives/convert.js";
import { optionKeys } from "../util/options.js";
import { checkHyper, defineRule, lrAndOptions, resolve, type Hyper, type Rule } from "./rule.js";

/** Options of `sgd`. */
export interface SGDOptions {
  /** Step size (default 0.01). */
  lr?: Hyper;
}

/** The keys of SGDOptions (checked against the interface by the compiler). */
export const SGD_OPTION_KEYS = optionKeys<SGDOptions>()(["lr"]);

/**
 * Stochastic gradient descent: u = lr · g. No state. The learning rate comes positionally
 * or as `{ lr }`.
 * @example const rule = ng.optim.sgd(0.1); // p ← p − 0.1 g
 */
export function sgd(lr?: Hyper): Rule<null> & { readonly lr: Hyper };
export function sgd(options?: SGDOptions): Rule<null> & { readonly lr: Hyper };
export function sgd(a?: Hyper | SGDOptions, b?: unknown): Rule<null> & { readonly lr: Hyper } {
  const o = lrAndOptions("sgd", a, b, SGD_OPTION_KEYS);
  const lr = checkHyper("sgd", "lr", o.lr ?? 0.01, { min: 0 });
  return defineRule(
    "sgd",
    { lr },
    {
      init: () => null,
      apply: (state, _p, g, step) => [state, mul(g, resolve("sgd", "lr", lr, step, { min: 0 }))],
    },
  );
}

export interface MomentumOptions {
  /** Step size (default 0.01). */
  lr?: Hyper;
  /** Velocity decay β (default 0.9). */
  beta?: Hyper;
  /** Nesterov's look-ahead variant (default false). */
  nesterov?: boolean;
}

/** The keys of MomentumOptions (checked against the interface by the compiler). */
export const MOMENTUM_OPTION_KEYS = optionKeys<MomentumOptions>()(["lr", "beta", "nesterov"]);

type MomentumRule = Rule<Tensor> & {
  readonly lr: Hyper;
  readonly beta: Hyper;
  readonly nesterov: boolean;
};

/**
 * Gradient descent with momentum: v ← β v + g, u = lr · v; with `nesterov`,
 * u = lr · (g + β v) (using the new v). State: the velocity v (zeros at first).
 * @example const rule = ng.optim.momentum(0.01, { beta: 0.9, nesterov: true });
 */
export function momentum(lr: Hyper, options?: Omit<MomentumOptions, "lr">): MomentumRule;
export function momentum(options?: MomentumOptions): MomentumRule;
export function momentum(
  a?: Hyper | MomentumOptions,
  b?: Omit<MomentumOptions, "lr">,
): MomentumRule {
  return momentumRule("momentum", lrAndOptions("momentum", a, b, MOMENTUM_OPTION_KEYS), false);
}

/** The keys of NesterovOptions (checked against the interface by the compiler). */
export const NESTEROV_OPTION_KEYS = optionKeys<NesterovOptions>()(["lr", "beta"]);

/** Options of `nesterov`: momentum's, always with the look-ahead. */
export type NesterovOptions = Omit<MomentumOptions, "nesterov">;

/**
 * Nesterov momentum: `momentum` with `nesterov: true`, u = lr · (g + β v) with the new v.
 * @example const rule = ng.optim.nesterov(0.01, { beta: 0.9 });
 */
export function nesterov(lr: Hyper, options?: Omit<NesterovOptions, "lr">): MomentumRule;
export function nesterov(options?: NesterovOptions): MomentumRule;
export function nesterov(
  a?: Hyper | NesterovOptions,
  b?: Omit<NesterovOptions, "lr">,
): MomentumRule {
  return momentumRule("nesterov", lrAndOptions("nesterov", a, b, NESTEROV_OPTION_KEYS), true);
}

function momentumRule(
  kind: string,
  o: Record<string, unknown>,
  forceNesterov: boolean,
): MomentumRule {
  const lr = checkHyper(kind, "lr", o.lr ?? 0.01, { min: 0 });
  const beta = checkHyper(kind, "beta", o.beta ?? 0.9, {
    min: 0,
    max: 1,
    maxExclusive: true,
  });
  const nesterov = forceNesterov || (o.nesterov ?? false);
  if (typeof nesterov !== "boolean") {
    throw new TypeError(
      `optim.${kind}: options.nesterov must be a boolean, got ${describeValue(nesterov)}`,
    );
  }
  return defineRule(
    "momentum",
    { lr, beta, nesterov },
    {
      init: (p) => zerosLike(p),
      apply: (v, _p, g, step) => {
        const rate = resolve(kind, "lr", lr, step, { min: 0 });
        const b = resolve(kind, "beta", beta, step, { min: 0, max: 1, maxExclusive: true });
        const v1 = add(mul(v, b), g);
        return [v1, mul(nesterov ? add(g, mul(v1, b)) : v1, rate)];
      },
    },
  );
}
