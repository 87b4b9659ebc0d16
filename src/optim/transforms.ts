/**
 * Gradient transformations and composition (chaining is itself
 * a rule): `chain` runs rules in sequence, each one's update feeding the next as its
 * gradient; `clipByGlobalNorm` (a tree-wide rule: it implements `applyTree`),
 * `clipByValue` and `weightDecay` transform the gradient. On their own their output is
 * subtracted as is (a step size of 1); put them before a rule with a learning rate:
 * `chain(clipByGlobalNorm(1), weightDecay(1e-4), adam())`.
 */
import type { Tensor } from "../core/tensor.js";
import { add } from "../primitives/add.js";
import { cast } from "../primitives/cast.js";
import { equal } from "../primitives/compare.js";
import { div } from "../primitives/div.js";
import { maximum } from "../primitives/maximum.js";
import { mul } from "../primitives/mul.js";
import { sqrt } from "../primitives/sqrt.js";
import { sum } from "../primitives/sum.js";
import { where } from "../primitives/where.js";
import { clip } from "../ops/elementwise.js";
import {
  applyRule,
  checkHyper,
  checkRule,
  defineRule,
  knownValue,
  resolve,
  sSub,
  type Hyper,
  type Rule,
  type Scalar,
} from "./rule.js";

/**
 * Composes rules: the update of each is the gradient of the next, all seeing the same
 * parameter. Its state is the list of the rules' states. Tree-wide rules (clipByGlobalNorm)
 * inside a chain still see the whole tree.
 * @example const rule = ng.optim.chain(ng.optim.clipByGlobalNorm(1), ng.optim.adam({ lr: 1e-3 }));
 */
export function chain(...rules: Rule[]): Rule<unknown[]> & { readonly rules: readonly Rule[] } {
  rules.forEach((r, i) => checkRule(r, `optim.chain: rules[${i}]`));
  const list = Object.freeze(rules.slice());
  return defineRule(
    "chain",
    { rules: list },
    {
      init: (p) => list.map((r) => r.init(p)),
      apply: (states, p, g, step) => {
        const [s, u] = chainTree(list, [states], [p], [g], step);
        return [s[0]!, u[0]!];
      },
      applyTree: (states, ps, gs, step) => chainTree(list, states, ps, gs, step),
    },
  );
}

function chainTree(
  rules: readonly Rule[],
  states: readonly unknown[][],
  ps: readonly Tensor[],
  gs: readonly Tensor[],
  step: Scalar,
): [unknown[][], Tensor[]] {
  states.forEach((s, i) => {
    if (!Array.isArray(s) || s.length !== rules.length) {
      throw new TypeError(
        `optim.chain: leaf ${i}: expected a state list of length ${rules.length}, got ${
          Array.isArray(s) ? `length ${s.length}` : typeof s
        }`,
      );
    }
  });
  const out = states.map(() => new Array<unknown>(rules.length));
  let u = gs;
  rules.forEach((rule, k) => {
    const [s, next] = applyRule(
      rule,
      states.map((st) => st[k]),
      ps,
      u,
      step,
    );
    s.forEach((sk, i) => (out[i]![k] = sk));
    u = next;
  });
  return [out, u.slice()];
}

/**
 * Rescales the whole gradient tree so its global norm ‖g‖ = √(Σ_leaves Σ g²) is at most
 * maxNorm: g · maxNorm / max(‖g‖, maxNorm). Frozen leaves do not count. No state.
 * @example ng.optim.chain(ng.optim.clipByGlobalNorm(1.0), ng.optim.sgd(0.1))
 */
export function clipByGlobalNorm(maxNorm: Hyper): Rule<null> & { readonly maxNorm: Hyper } {
  const bounds = { min: 0, minExclusive: true };
  checkHyper("clipByGlobalNorm", "maxNorm", maxNorm, bounds);
  const applyTree = (
    states: readonly null[],
    _ps: readonly Tensor[],
    gs: readonly Tensor[],
    step: Scalar,
  ): [null[], Tensor[]] => {
    if (gs.length === 0) return [[], []];
    const c = resolve("clipByGlobalNorm", "maxNorm", maxNorm, step, bounds);
    const total = gs.map((g) => sum(mul(g, g))).reduce((a, b) => add(a, b));
    // Safe √: the derivative at ‖g‖ = 0 is 0 instead of NaN.
    const zero = equal(total, 0);
    const n = where(zero, 0, sqrt(where(zero, 1, total)));
    const scale = div(c, maximum(n, c));
    return [states.slice(), gs.map((g) => mul(g, cast(scale, g.dtype)))];
  };
  return defineRule(
    "clipByGlobalNorm",
    { maxNorm },
    {
      init: () => null,
      apply: (s, p, g, step) => {
        const [st, u] = applyTree([s], [p], [g], step);
        return [st[0]!, u[0]!];
      },
      applyTree,
    },
  );
}

/**
 * Clips every gradient element to [lo, hi]; `clipByValue(c)` clips to [−c, c] (c ≥ 0, a
 * number or a scalar tensor). lo ≤ hi is checked at construction for known values and, for
 * schedules, each time they are evaluated. No state.
 * @example ng.optim.chain(ng.optim.clipByValue(-1, 1), ng.optim.sgd(0.1))
 */
export function clipByValue(
  lo: Hyper,
  hi?: Hyper,
): Rule<null> & { readonly lo: Hyper; readonly hi: Hyper } {
  if (hi === undefined) {
    checkHyper("clipByValue", "c", lo, { min: 0 });
    if (typeof lo === "function") {
      throw new TypeError(
        "optim.clipByValue: with one bound c, c must be a number or a scalar tensor (clips to [-c, c]), not a schedule",
      );
    }
    return clipByValue(sSub(0, lo), lo);
  }
  checkHyper("clipByValue", "lo", lo);
  checkHyper("clipByValue", "hi", hi);
  const checkOrder = (l: number | undefined, h: number | undefined, at: string): void => {
    if (l !== undefined && h !== undefined && l > h) {
      throw new RangeError(
        `optim.clipByValue: lo must not exceed hi, got lo = ${l}, hi = ${h}${at}`,
      );
    }
  };
  checkOrder(knownValue(lo as Hyper), knownValue(hi), "");
  return defineRule(
    "clipByValue",
    { lo, hi },
    {
      init: () => null,
      apply: (s, _p, g, step) => {
        const l = resolve("clipByValue", "lo", lo, step);
        const h = resolve("clipByValue", "hi", hi, step);
        if (typeof lo === "function" || typeof hi === "function") {
          checkOrder(knownValue(l), knownValue(h), ` at step ${step}`);
        }
        return [s, clip(g, l, h)];
      },
    },
  );
}

/**
 * Coupled weight decay (L2 regularisation): the gradient becomes g + λ p. Chain it before
 * a rule with a learning rate. No state.
 * @example ng.optim.chain(ng.optim.weightDecay(1e-4), ng.optim.momentum(0.01))
 */
export function weightDecay(lambda: Hyper = 5e-4): Rule<null> & { readonly lambda: Hyper } {
  checkHyper("weightDecay", "lambda", lambda, { min: 0 });
  return defineRule(
    "weightDecay",
    { lambda },
    {
      init: () => null,
      apply: (s, p, g, step) => [
        s,
        add(g, mul(p, resolve("weightDecay", "lambda", lambda, step, { min: 0 }))),
      ],
    },
  );
}
