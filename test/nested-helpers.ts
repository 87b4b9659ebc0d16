// Shared helpers of the nested-switching tests (docs/nested.md): run one
// computation under every strategy and with switching off (counters reset before each run),
// compare the results with each other and with central finite differences, and assert
// which strategy the counters say fired.
import { expect } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";

/** The configurations every scenario runs under. */
export const RUNS = ["auto", "forwardOverReverse", "nest", "innerForward", "off"] as const;
export type RunLabel = (typeof RUNS)[number];
export type Strategy = Exclude<RunLabel, "auto" | "off">;

export const F64 = { dtype: "float64" } as const;

/** A float64 tensor from nested JS numbers. */
export function f64(v: unknown): Tensor {
  return ng.array(v, F64);
}

/** A deterministic float64 normal sample. */
export function randn(seed: number, shape: number[], scale = 1): Tensor {
  return ng.random.normal(ng.random.key(seed), shape, F64).mul(scale);
}

/** Float64 parameters and state of `model` from a seed. */
export function setup64(seed: number, model: ng.nn.Layer): [any, any] {
  return ng.nn.setup(ng.random.key(seed), model);
}

/** The tensor leaves of a tree as one flat JS array of numbers. */
export function flatValues(tree: unknown): number[] {
  const [leaves] = ng.tree.flatten(tree);
  const out: number[] = [];
  for (const l of leaves) {
    if (l instanceof ng.Tensor) for (const v of l.dataSync()) out.push(Number(v));
    else if (typeof l === "number") out.push(l);
  }
  return out;
}

function infNorm(xs: readonly number[]): number {
  return xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/**
 * Asserts ‖a − b‖∞ ≤ rtol·‖b‖∞ + atol (a relative comparison that small entries of a large
 * gradient do not make flaky), naming the worst element.
 */
export function expectNear(a: unknown, b: unknown, rtol: number, what: string, atol = 1e-13): void {
  const x = Array.isArray(a) && typeof a[0] === "number" ? (a as number[]) : flatValues(a);
  const y = Array.isArray(b) && typeof b[0] === "number" ? (b as number[]) : flatValues(b);
  expect(x.length, `${what}: number of elements`).toBe(y.length);
  const scale = infNorm(y);
  let worst = -1;
  let worstErr = 0;
  x.forEach((v, i) => {
    const e = Math.abs(v - y[i]!);
    if (!(e <= worstErr)) {
      worstErr = Number.isNaN(e) ? Infinity : e;
      worst = i;
    }
  });
  const tol = rtol * scale + atol;
  if (!(worstErr <= tol)) {
    expect.fail(
      `${what}: element ${worst} is ${x[worst]}, expected ${y[worst]} ` +
        `(max |diff| ${worstErr} > ${tol} = ${rtol}·‖expected‖∞ + ${atol})`,
    );
  }
}

export interface Run<T> {
  label: RunLabel;
  result: T;
  stats: ng.nested.NestedStats;
}

/** `ng.nested.stats()` when nothing was switched (after a reset, or with switching off). */
export const EMPTY_STATS: ng.nested.NestedStats = {
  staged: {},
  cacheHits: {},
  invalidations: 0,
  decisions: {},
  expansions: {},
  evaluations: {},
  substitutions: {},
  pending: {},
  derived: {},
  fallbacks: {},
  jacobians: {},
};

/** The config changes of one run label. */
export function configOf(label: RunLabel): Partial<ng.config.Config> {
  if (label === "off") return { nestedSwitching: false, nestedStrategy: "auto" };
  return { nestedSwitching: true, nestedStrategy: label };
}

/** Runs `compute` under every strategy and with switching off, counters reset before each. */
export function underEveryConfig<T>(
  compute: () => T,
  labels: readonly RunLabel[] = RUNS,
): Run<T>[] {
  return labels.map((label) =>
    ng.config.withConfig(configOf(label), () => {
      ng.nested.resetStats();
      const result = compute();
      return { label, result, stats: ng.nested.stats() };
    }),
  );
}

/** Asserts every run's result equals the first (auto) run's. */
export function expectAllAgree<T>(runs: readonly Run<T>[], rtol: number, what: string): void {
  const ref = runs[0]!;
  for (const r of runs.slice(1)) {
    expectNear(r.result, ref.result, rtol, `${what}: ${r.label} vs ${ref.label}`);
  }
}

export interface Expect {
  /** The inner transforms expected in `staged` (e.g. ["grad"]). */
  staged: readonly string[];
  /** The strategy auto should choose (default nest: within the memory budget it is cheapest). */
  auto?: Strategy;
  /**
   * Whether the outer tangents are concrete (an outer jvp), so the expansion is counted
   * as "<strategy> (eager)". Default false.
   */
  eager?: boolean | "exceptNest";
  /**
   * The inner pullbacks run under vmap (a switched jacrev pulls its basis cotangents back
   * in one vmapped pass), where a forced innerForward is substituted by nest.
   */
  batchedPullbacks?: boolean;
}

/** Asserts which strategy the counters of each run say fired. */
export function expectFired<T>(runs: readonly Run<T>[], exp: Expect): void {
  for (const r of runs) {
    const s = r.stats;
    const where = `${r.label}: stats ${JSON.stringify(s)}`;
    expect(s.fallbacks, `${where}: no fallback`).toEqual({});
    if (r.label === "off") {
      expect(s.staged, `${where}: nothing staged with switching off`).toEqual({});
      expect(s.decisions, where).toEqual({});
      expect(s.expansions, where).toEqual({});
      continue;
    }
    for (const k of exp.staged) {
      expect(s.staged[k] ?? 0, `${where}: staged.${k}`).toBeGreaterThanOrEqual(1);
    }
    const strategy: Strategy = r.label === "auto" ? (exp.auto ?? "nest") : r.label;
    expect(Object.keys(s.decisions), `${where}: decisions`).toEqual([strategy]);
    const eager = exp.eager === "exceptNest" ? strategy !== "nest" : (exp.eager ?? false);
    const ran = exp.batchedPullbacks && strategy === "innerForward" ? "nest" : strategy;
    if (ran !== strategy) {
      expect(s.substitutions[`${strategy} → ${ran}`]?.count ?? 0, where).toBeGreaterThanOrEqual(1);
    }
    const key = eager ? `${ran} (eager)` : ran;
    expect(s.expansions[key] ?? 0, `${where}: expansions["${key}"]`).toBeGreaterThanOrEqual(1);
  }
}

/** Adds s·v to every float tensor leaf of `tree` (v of the same structure). */
export function axpy(tree: unknown, s: number, v: unknown): any {
  const [xs, def] = ng.tree.flatten<Tensor>(tree);
  const [ds] = ng.tree.flatten<Tensor>(v);
  return ng.tree.unflatten(
    def,
    xs.map((x, i) => x.add(ds[i]!.mul(s))),
  );
}

/** A float64 random tree shaped like `tree`. */
export function randomLike(tree: unknown, seed: number): any {
  let k = 0;
  return ng.tree.map((x: Tensor) => randn(seed * 1000 + k++, [...x.shape]), tree);
}

/** ⟨a, b⟩ of two trees of equal structure. */
export function treeDot(a: unknown, b: unknown): number {
  const x = flatValues(a);
  const y = flatValues(b);
  expect(x.length).toBe(y.length);
  return x.reduce((s, v, i) => s + v * y[i]!, 0);
}

/**
 * The derivative of a scalar function of a scalar at 0 by central differences with two
 * steps of Richardson extrapolation (error O(h⁶)).
 */
export function fdDerivative(g: (s: number) => number, h = 1e-2): number {
  const d = (e: number) => (g(e) - g(-e)) / (2 * e);
  const d1 = d(h);
  const d2 = d(h / 2);
  const d4 = d(h / 4);
  const r1 = (4 * d2 - d1) / 3;
  const r2 = (4 * d4 - d2) / 3;
  return (16 * r2 - r1) / 15;
}

/**
 * Checks the gradient `g` of the scalar `loss` at `x` (pytrees) against central finite
 * differences along `nDirs` random directions, to `rtol` relative.
 */
export function expectGradMatchesFD(
  loss: (x: any) => Tensor,
  x: unknown,
  g: unknown,
  what: string,
  { rtol = 1e-6, nDirs = 2, seed = 7, h = 1e-2 } = {},
): void {
  for (let k = 0; k < nDirs; k++) {
    const v = randomLike(x, seed + k);
    const fd = fdDerivative((s) => loss(axpy(x, s, v)).item(), h);
    const ad = treeDot(g, v);
    const tol = rtol * Math.max(Math.abs(fd), 1e-8);
    if (!(Math.abs(ad - fd) <= tol)) {
      expect.fail(
        `${what}: <grad, v${k}> = ${ad} but finite differences give ${fd} (|diff| ${Math.abs(ad - fd)} > ${tol})`,
      );
    }
  }
}

/** Runs `fn` with the nested debug log captured; restores the config and the sink. */
export function captureNestedLog<T>(fn: () => T): [T, string[]] {
  const lines: string[] = [];
  const prevSink = ng.nested.setLogSink((l) => lines.push(l));
  const prev = ng.config.set({ debug: ["nested"] });
  try {
    return [fn(), lines];
  } finally {
    ng.config.set(prev);
    ng.nested.setLogSink(prevSink);
  }
}
