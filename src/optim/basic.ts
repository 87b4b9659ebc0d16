/**
 * Plain gradient-descent rules (DESIGN.md §1 optim/): `sgd` and `momentum` (heavy ball
 * or Nesterov). Each is a hyperparameter record with `init` and `apply` (see rule.ts);
 * the update u is subtracted from the parameter.
 */
import type { Tensor } from "../core/tensor.js";
import { add } from "../primitives/add.js";
import { mul } from "../primitives/mul.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { describeValue } from "../primitives/convert.js";
import { checkHyper, checkOptions, defineRule, resolve, type Hyper, type Rule } from "./rule.js";

/**
 * Stochastic gradient descent: u = lr · g. No state.
 * @example const rule = ng.optim.sgd(0.1); // p ← p − 0.1 g
 */
export function sgd(lr: Hyper = 0.01): Rule<null> & { readonly lr: Hyper } {
  checkHyper("sgd", "lr", lr, { min: 0 });
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
  /** Velocity decay β (default 0.9). */
  beta?: Hyper;
  /** Nesterov's look-ahead variant (default false). */
  nesterov?: boolean;
}

/**
 * Gradient descent with momentum: v ← β v + g, u = lr · v; with `nesterov`,
 * u = lr · (g + β v) (using the new v). State: the velocity v (zeros at first).
 * @example const rule = ng.optim.momentum(0.01, { beta: 0.9, nesterov: true });
 */
export function momentum(
  lr: Hyper = 0.01,
  options: MomentumOptions = {},
): Rule<Tensor> & { readonly lr: Hyper; readonly beta: Hyper; readonly nesterov: boolean } {
  const o = checkOptions("momentum", options);
  checkHyper("momentum", "lr", lr, { min: 0 });
  const beta = checkHyper("momentum", "beta", o.beta ?? 0.9, {
    min: 0,
    max: 1,
    maxExclusive: true,
  });
  const nesterov = o.nesterov ?? false;
  if (typeof nesterov !== "boolean") {
    throw new TypeError(
      `optim.momentum: options.nesterov must be a boolean, got ${describeValue(nesterov)}`,
    );
  }
  return defineRule(
    "momentum",
    { lr, beta, nesterov },
    {
      init: (p) => zerosLike(p),
      apply: (v, _p, g, step) => {
        const rate = resolve("momentum", "lr", lr, step, { min: 0 });
        const b = resolve("momentum", "beta", beta, step, { min: 0, max: 1, maxExclusive: true });
        const v1 = add(mul(v, b), g);
        return [v1, mul(nesterov ? add(g, mul(v1, b)) : v1, rate)];
      },
    },
  );
}
