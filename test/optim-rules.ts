/**
 * The one list of optimiser rules the tests run over (one test list runs every
 * rule): each rule with an independent plain-JS reference in float64. Used by
 * optim.test.ts (the shared checks) and jit/train-step.test.ts (jitted training steps).
 */
import * as ng from "../src/index.js";

const { optim } = ng;
type Rule = ng.optim.Rule;

// ---------------------------------------------------------------------------------------
// Plain-JS reference implementations on flat leaves (lists of numbers), in float64.

/** A reference over all trained leaves at once (leaf i: the flat elements of parameter i). */
export interface Ref {
  init(sizes: number[]): unknown[];
  step(states: unknown[], ps: number[][], gs: number[][], t: number): [unknown[], number[][]];
}

/** A reference defined per element: state s, parameter p, gradient g, step t (0-based). */
export function ew<S>(
  init: () => S,
  f: (s: S, p: number, g: number, t: number) => [S, number],
): Ref {
  return {
    init: (sizes) => sizes.map((n) => Array.from({ length: n }, init)),
    step: (states, ps, gs, t) => {
      const out = ps.map((p, i) => p.map((pj, j) => f((states[i] as S[])[j]!, pj, gs[i]![j]!, t)));
      return [out.map((l) => l.map((r) => r[0])), out.map((l) => l.map((r) => r[1]))];
    },
  };
}

export function chainRef(...refs: Ref[]): Ref {
  return {
    init: (sizes) => {
      const per = refs.map((r) => r.init(sizes));
      return sizes.map((_, i) => per.map((s) => s[i]));
    },
    step: (states, ps, gs, t) => {
      let u = gs;
      const next = states.map(() => [] as unknown[]);
      refs.forEach((r, k) => {
        const [s, v] = r.step(
          states.map((st) => (st as unknown[])[k]),
          ps,
          u,
          t,
        );
        s.forEach((sk, i) => (next[i]![k] = sk));
        u = v;
      });
      return [next, u];
    },
  };
}

export const clipNormRef = (c: number): Ref => ({
  init: (sizes) => sizes.map(() => null),
  step: (states, _ps, gs) => {
    const n = Math.sqrt(gs.flat().reduce((a, g) => a + g * g, 0));
    const scale = n > c ? c / n : 1;
    return [states, gs.map((g) => g.map((x) => x * scale))];
  },
});

export const sgdRef = (lr: number | ((t: number) => number)): Ref =>
  ew(
    () => 0,
    (s, _p, g, t) => [s, (typeof lr === "number" ? lr : lr(t)) * g],
  );
export const momentumRef = (lr: number, beta: number, nesterov: boolean): Ref =>
  ew(
    () => 0,
    (v, _p, g) => {
      const v1 = beta * v + g;
      return [v1, lr * (nesterov ? g + beta * v1 : v1)];
    },
  );
export const adamRef = (lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0): Ref =>
  ew(
    () => ({ m: 0, v: 0 }),
    (s, p, g, t) => {
      const m = b1 * s.m + (1 - b1) * g;
      const v = b2 * s.v + (1 - b2) * g * g;
      const mh = m / (1 - b1 ** (t + 1));
      const vh = v / (1 - b2 ** (t + 1));
      return [{ m, v }, lr * (mh / (Math.sqrt(vh) + eps) + wd * p)];
    },
  );
export const rmspropRef = (lr: number, rho: number, eps: number, centered: boolean): Ref =>
  ew(
    () => ({ s: 0, mg: 0 }),
    (st, _p, g) => {
      const s = rho * st.s + (1 - rho) * g * g;
      const mg = rho * st.mg + (1 - rho) * g;
      const denom = Math.sqrt(centered ? Math.max(s - mg * mg, 0) : s) + eps;
      return [{ s, mg }, (lr * g) / denom];
    },
  );
export const adagradRef = (lr: number, eps: number): Ref =>
  ew(
    () => 0,
    (a, _p, g) => {
      const a1 = a + g * g;
      return [a1, (lr * g) / (Math.sqrt(a1) + eps)];
    },
  );
export const lionRef = (lr: number, b1: number, b2: number, wd: number): Ref =>
  ew(
    () => 0,
    (m, p, g) => {
      const c = b1 * m + (1 - b1) * g;
      return [b2 * m + (1 - b2) * g, lr * (Math.sign(c) + wd * p)];
    },
  );
export const weightDecayRef = (l: number): Ref =>
  ew(
    () => 0,
    (s, p, g) => [s, g + l * p],
  );
export const clipValueRef = (lo: number, hi: number): Ref =>
  ew(
    () => 0,
    (s, _p, g) => [s, Math.min(Math.max(g, lo), hi)],
  );

// ---------------------------------------------------------------------------------------
// The one list of rules.

export interface Case {
  name: string;
  make: () => Rule;
  ref: Ref;
  /** Steps and tolerance for convergence on the quadratic (target: the minimiser, unless given). */
  converge: { steps: number; tol: number; target?: (h: number, c: number) => number };
  /** Smooth enough to check derivatives through two updates with finite differences. */
  smooth?: boolean;
  /** Has a plain JS schedule (step: number) => number, which ng.jit cannot trace. */
  jsSchedule?: boolean;
}

export const lrDecay = (t: number): number => 0.5 / Math.sqrt(1 + t);

export const RULES: Case[] = [
  {
    name: "sgd",
    make: () => optim.sgd(0.1),
    ref: sgdRef(0.1),
    converge: { steps: 300, tol: 1e-6 },
    smooth: true,
  },
  {
    name: "sgd with a schedule",
    make: () => optim.sgd(lrDecay),
    ref: sgdRef(lrDecay),
    converge: { steps: 1000, tol: 1e-6 },
    smooth: true,
    jsSchedule: true,
  },
  {
    name: "momentum",
    make: () => optim.momentum(0.05, { beta: 0.9 }),
    ref: momentumRef(0.05, 0.9, false),
    converge: { steps: 400, tol: 1e-6 },
    smooth: true,
  },
  {
    name: "momentum (nesterov)",
    make: () => optim.momentum(0.05, { beta: 0.8, nesterov: true }),
    ref: momentumRef(0.05, 0.8, true),
    converge: { steps: 400, tol: 1e-6 },
    smooth: true,
  },
  {
    name: "nesterov",
    make: () => optim.nesterov(0.05, { beta: 0.8 }),
    ref: momentumRef(0.05, 0.8, true),
    converge: { steps: 400, tol: 1e-6 },
    smooth: true,
  },
  {
    name: "adam",
    make: () => optim.adam({ lr: 0.05 }),
    ref: adamRef(0.05),
    converge: { steps: 1500, tol: 1e-3 },
    smooth: true,
  },
  {
    name: "adam (custom betas, eps)",
    make: () => optim.adam({ lr: 0.02, beta1: 0.5, beta2: 0.9, eps: 0.1 }),
    ref: adamRef(0.02, 0.5, 0.9, 0.1),
    converge: { steps: 1500, tol: 1e-3 },
    smooth: true,
  },
  {
    name: "adamw",
    make: () => optim.adamw({ lr: 0.05, weightDecay: 0.1 }),
    ref: adamRef(0.05, 0.9, 0.999, 1e-8, 0.1),
    // Decoupled decay pulls towards 0, so the fixed point is near, not at, the minimiser.
    converge: { steps: 1500, tol: 0.1 },
    smooth: true,
  },
  {
    name: "rmsprop",
    make: () => optim.rmsprop({ lr: 0.01, rho: 0.9, eps: 1e-8 }),
    ref: rmspropRef(0.01, 0.9, 1e-8, false),
    converge: { steps: 1500, tol: 2e-2 },
    smooth: true,
  },
  {
    name: "rmsprop (centered)",
    make: () => optim.rmsprop({ lr: 0.01, rho: 0.8, eps: 1e-6, centered: true }),
    ref: rmspropRef(0.01, 0.8, 1e-6, true),
    converge: { steps: 1500, tol: 2e-2 },
  },
  {
    name: "adagrad",
    make: () => optim.adagrad({ lr: 0.5, eps: 1e-8 }),
    ref: adagradRef(0.5, 1e-8),
    converge: { steps: 1000, tol: 1e-4 },
    smooth: true,
  },
  {
    name: "lion",
    make: () => optim.lion({ lr: (t) => 0.05 * 0.995 ** t, beta1: 0.9, beta2: 0.99 }),
    ref: ew(
      () => 0,
      (m, p, g, t) => {
        const [m1, u] = lionRef(0.05 * 0.995 ** t, 0.9, 0.99, 0).step([[m]], [[p]], [[g]], t) as [
          number[][],
          number[][],
        ];
        return [m1[0]![0]!, u[0]![0]!];
      },
    ),
    converge: { steps: 1000, tol: 1e-2 },
    jsSchedule: true,
  },
  {
    name: "lion (weight decay)",
    make: () => optim.lion({ lr: 0.01, beta1: 0.8, beta2: 0.95, weightDecay: 0.1 }),
    ref: lionRef(0.01, 0.8, 0.95, 0.1),
    converge: { steps: 800, tol: 0.25 },
  },
  {
    name: "weightDecay (alone: step size 1)",
    make: () => optim.weightDecay(0.1),
    ref: weightDecayRef(0.1),
    converge: { steps: 300, tol: 1e-8, target: (h, c) => (h * c) / (h + 0.1) },
    smooth: true,
  },
  {
    name: "clipByValue (alone)",
    make: () => optim.clipByValue(-0.5, 0.5),
    ref: clipValueRef(-0.5, 0.5),
    converge: { steps: 300, tol: 1e-8 },
  },
  {
    name: "clipByValue(c)",
    make: () => optim.clipByValue(0.3),
    ref: clipValueRef(-0.3, 0.3),
    converge: { steps: 300, tol: 1e-8 },
  },
  {
    name: "clipByGlobalNorm (alone)",
    make: () => optim.clipByGlobalNorm(1),
    ref: clipNormRef(1),
    converge: { steps: 300, tol: 1e-8 },
  },
  {
    name: "chain(clipByGlobalNorm, adam)",
    make: () => optim.chain(optim.clipByGlobalNorm(0.5), optim.adam({ lr: 0.05, eps: 0.01 })),
    ref: chainRef(clipNormRef(0.5), adamRef(0.05, 0.9, 0.999, 0.01)),
    converge: { steps: 1500, tol: 1e-2 },
  },
  {
    name: "chain(weightDecay, clipByValue, momentum)",
    make: () =>
      optim.chain(optim.weightDecay(0.01), optim.clipByValue(-1, 1), optim.momentum(0.05)),
    ref: chainRef(weightDecayRef(0.01), clipValueRef(-1, 1), momentumRef(0.05, 0.9, false)),
    converge: { steps: 600, tol: 5e-2 },
  },
  {
    name: "nested chain",
    make: () => optim.chain(optim.chain(optim.clipByGlobalNorm(2)), optim.chain(optim.sgd(0.1))),
    ref: chainRef(chainRef(clipNormRef(2)), chainRef(sgdRef(0.1))),
    converge: { steps: 400, tol: 1e-6 },
  },
];
