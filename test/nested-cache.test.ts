// The decision cache of nested switching and the account in ng.nested.stats()
// (docs/nested.md "Staging once"): repeated calls with the same signature
// are served without staging, a shape or captured-structure change stages again, a
// closed-over tensor that changes between calls is never stale (checked against switching
// off and float64 finite differences), and decisions, substitutions and expansions add up.
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { expectGradMatchesFD, expectNear, f64, randn } from "./nested-helpers.js";

const INITIAL = ng.config.get();
afterEach(() => {
  ng.config.set(INITIAL);
  ng.nested.resetStats();
});

/** The gradient of `loss` at `w` with switching off: the plain-nesting oracle. */
function off(loss: (w: Tensor) => Tensor, w: Tensor): Tensor {
  return ng.config.withConfig({ nestedSwitching: false }, () => ng.grad(loss)(w)) as Tensor;
}

/**
 * Checks that the counters add up: every decision either ran (expanded under an outer
 * derivative, or evaluated without one), was substituted, or is pending; per strategy,
 * decisions + substitutions in − substitutions out = expansions + evaluations + pending.
 */
function expectAccountAddsUp(s: ng.nested.NestedStats): void {
  const where = JSON.stringify(s);
  const plain = (k: string) => k.replace(" (eager)", "");
  const lhs: Record<string, number> = {};
  const rhs: Record<string, number> = {};
  const add = (t: Record<string, number>, k: string, n: number) => (t[k] = (t[k] ?? 0) + n);
  for (const [k, n] of Object.entries(s.decisions)) add(lhs, k, n);
  for (const [k, { count }] of Object.entries(s.substitutions)) {
    const [from, to] = k.split(" → ") as [string, string];
    add(lhs, from, -count);
    add(lhs, to, count);
  }
  for (const t of [s.expansions, s.evaluations, s.pending])
    for (const [k, n] of Object.entries(t)) add(rhs, plain(k), n);
  const keys = new Set([...Object.keys(lhs), ...Object.keys(rhs)]);
  for (const k of keys) expect(lhs[k] ?? 0, `${k}: ${where}`).toBe(rhs[k] ?? 0);
  const total = (t: Record<string, number>) => Object.values(t).reduce((a, b) => a + b, 0);
  expect(total(s.decisions), where).toBe(
    total(s.expansions) + total(s.evaluations) + total(s.pending),
  );
  // Every decided call was staged or served by the cache.
  expect(total(s.decisions), where).toBe(total(s.staged) + total(s.cacheHits));
}

// A PINN-like residual: the inner closure over the parameters is created anew on every call.
const x0 = f64([0.3, -0.8, 1.1]);
const data = f64([0.5, 1.5, -0.25]);
const pinn = (c: Tensor) => (w: Tensor) => {
  const du = ng.grad((x: Tensor) => ng.sum(ng.tanh(x.mul(w)).mul(c)))(x0);
  return ng.sum(ng.square(du));
};
const w0 = f64([0.7, -0.4, 0.9]);

describe("the decision cache", () => {
  it("stages once and serves repeated calls with the same signature from the cache", () => {
    const loss = pinn(data);
    const ref = off(loss, w0);
    ng.nested.resetStats();
    for (let step = 0; step < 4; step++) expectNear(ng.grad(loss)(w0), ref, 1e-12, `step ${step}`);
    const s = ng.nested.stats();
    expect(s.staged, JSON.stringify(s)).toEqual({ grad: 1 });
    expect(s.cacheHits, JSON.stringify(s)).toEqual({ grad: 3 });
    expect(s.decisions).toEqual({ nest: 4 });
    expect(s.expansions).toEqual({ nest: 4 });
    expect(s.invalidations).toBe(0);
    expectAccountAddsUp(s);
    expectGradMatchesFD(loss, w0, ref, "cached PINN residual");
  });

  it("stages again when the shape of the differentiated input changes", () => {
    const loss = (n: number) => (w: Tensor) =>
      ng.sum(ng.grad((x: Tensor) => ng.sum(ng.sin(x.mul(ng.sum(w)))))(randn(3, [n])));
    ng.nested.resetStats();
    ng.grad(loss(3))(w0);
    ng.grad(loss(3))(w0);
    const g = ng.grad(loss(5))(w0);
    const s = ng.nested.stats();
    expect(s.staged, JSON.stringify(s)).toEqual({ grad: 2 });
    expect(s.cacheHits, JSON.stringify(s)).toEqual({ grad: 1 });
    expectNear(g, off(loss(5), w0), 1e-12, "after the shape change");
  });

  it("drops a cached decision when the captured structure changes, and stays correct", () => {
    // The same source text and input shape, but the closure captures a value of another
    // shape: a vector, then a matrix (broadcast against x, so the inner computation grows).
    const matrix = randn(4, [2, 3]);
    ng.nested.resetStats();
    for (const c of [data, data, data, matrix, matrix]) {
      const g = ng.grad(pinn(c))(w0);
      expectNear(g, off(pinn(c), w0), 1e-12, `captured ${c.shape.join("×")}`);
    }
    const s = ng.nested.stats();
    // staged (vector), hit (fingerprint kept), hit, hit with another structure (dropped),
    // staged again (matrix).
    expect(s.invalidations, JSON.stringify(s)).toBe(1);
    expect(s.staged, JSON.stringify(s)).toEqual({ grad: 2 });
    expect(s.cacheHits, JSON.stringify(s)).toEqual({ grad: 3 });
    expectAccountAddsUp(s);
    expectGradMatchesFD(pinn(matrix), w0, ng.grad(pinn(matrix))(w0), "captured matrix");
  });

  for (const strategy of ["auto", "forwardOverReverse", "innerForward", "nest"] as const) {
    it(`never uses a stale closed-over tensor (${strategy})`, () => {
      ng.config.set({ nestedStrategy: strategy });
      // One hoisted inner function (the same identity every call) reading a variable that
      // is reassigned between calls, and a fresh closure per call: both must see the new data.
      let current = data;
      const hoisted = (x: Tensor) => ng.sum(ng.tanh(x.mul(ng.sum(w0))).mul(current));
      const viaHoisted = (w: Tensor) =>
        ng.sum(ng.square(ng.grad((x: Tensor) => hoisted(x.mul(w)))(x0)));
      ng.nested.resetStats();
      for (let step = 0; step < 3; step++) {
        current = randn(20 + step, [3]);
        const loss = pinn(current);
        const g = ng.grad(loss)(w0);
        expectNear(g, off(loss, w0), 1e-12, `fresh closure, step ${step}`);
        expectGradMatchesFD(loss, w0, g, `fresh closure, step ${step}`);
        const h = ng.grad(viaHoisted)(w0);
        expectNear(h, off(viaHoisted, w0), 1e-12, `hoisted, step ${step}`);
        expectGradMatchesFD(viaHoisted, w0, h, `hoisted, step ${step}`);
      }
      const s = ng.nested.stats();
      if (strategy === "auto" || strategy === "nest") {
        // Served by plain nesting of the fresh function, after one staging each.
        expect(s.staged, JSON.stringify(s)).toEqual({ grad: 2 });
        expect(s.cacheHits, JSON.stringify(s)).toEqual({ grad: 4 });
      } else {
        // A strategy that needs the IR stages every call: the IR holds the constants.
        expect(s.staged, JSON.stringify(s)).toEqual({ grad: 6 });
        expect(s.cacheHits, JSON.stringify(s)).toEqual({});
      }
      expectAccountAddsUp(s);
    });
  }

  it("serves an inner vjp from the cache, every pullback included", () => {
    const x = randn(5, [4, 2]);
    const e = f64([
      [1, 0],
      [1, 0],
      [1, 0],
      [1, 0],
    ]);
    const loss = (w: Tensor) => {
      const [y, pullback] = ng.vjp((z: Tensor) => ng.tanh(ng.matmul(z, w)), x);
      return ng.add(ng.sum(ng.square(y)), ng.sum(ng.square(pullback(e)[0] as Tensor)));
    };
    const w = randn(6, [2, 2]);
    const ref = off(loss, w);
    ng.nested.resetStats();
    for (let step = 0; step < 3; step++) expectNear(ng.grad(loss)(w), ref, 1e-12, `step ${step}`);
    const s = ng.nested.stats();
    expect(s.staged).toEqual({ vjp: 1 });
    expect(s.cacheHits).toEqual({ vjp: 2 });
    expectAccountAddsUp(s);
    expectGradMatchesFD(loss, w, ref, "cached inner vjp");
  });

  it("resetStats empties the cache, clearCache too", () => {
    const loss = pinn(data);
    ng.nested.resetStats();
    ng.grad(loss)(w0);
    ng.grad(loss)(w0);
    ng.nested.clearCache();
    ng.grad(loss)(w0);
    expect(ng.nested.stats().staged).toEqual({ grad: 2 });
    ng.nested.resetStats();
    ng.grad(loss)(w0);
    expect(ng.nested.stats().staged).toEqual({ grad: 1 });
    expect(ng.nested.stats().cacheHits).toEqual({});
  });
});

describe("one account in ng.nested.stats()", () => {
  const W = randn(1, [1, 6]);
  const V = randn(2, [6, 1]);
  const u = (x: Tensor, w: Tensor = W) =>
    ng.sum(ng.matmul(ng.tanh(ng.matmul(ng.reshape(x, [1, 1]), w)), V));
  const xs = f64([0.1, 0.5, -0.3, 0.9]);

  it("vmap(grad(grad(u))): the substitution says why, and the counts add up", () => {
    ng.nested.resetStats();
    const r = ng.vmap(ng.grad(ng.grad((x: Tensor) => u(x))))(xs);
    const ref = ng.config.withConfig({ nestedSwitching: false }, () =>
      ng.vmap(ng.grad(ng.grad((x: Tensor) => u(x))))(xs),
    );
    expectNear(r, ref, 1e-12, "vmap(grad(grad(u)))");
    const s = ng.nested.stats();
    const where = JSON.stringify(s);
    // A scalar inner input: the cost model picks inner forward mode for both grads; under
    // vmap each is batched into a call over the whole batch and runs as nest instead.
    expect(s.decisions, where).toEqual({ innerForward: 2 });
    expect(s.substitutions["innerForward → nest"]?.count, where).toBe(2);
    expect(s.substitutions["innerForward → nest"]?.because, where).toMatch(/vmap.*batch/);
    expect(s.pending, where).toEqual({});
    expectAccountAddsUp(s);
    // u''(x) = Σ_j V_j W_j² tanh''(W_j x), with tanh'' = −2 tanh (1 − tanh²).
    const th = ng.tanh(ng.matmul(ng.reshape(xs, [4, 1]), W));
    const closed = ng.matmul(
      th
        .mul(ng.sub(1, ng.square(th)))
        .mul(ng.square(W))
        .mul(-2),
      V,
    );
    expectNear(r, ng.reshape(closed, [4]), 1e-12, "closed form");
  });

  it("under an outer grad too, each decision is expanded once", () => {
    const loss = (w: Tensor) => ng.sum(ng.vmap(ng.grad(ng.grad((x: Tensor) => u(x, w))))(xs));
    ng.nested.resetStats();
    const g = ng.grad(loss)(W);
    const s = ng.nested.stats();
    expect(
      Object.values(s.expansions).reduce((a, b) => a + b, 0),
      JSON.stringify(s),
    ).toBe(Object.values(s.decisions).reduce((a, b) => a + b, 0));
    expectAccountAddsUp(s);
    expectNear(g, off(loss, W), 1e-10, "grad of vmap(grad(grad(u)))");
    expectGradMatchesFD(loss, W, g, "grad of vmap(grad(grad(u)))");
  });

  it("an inner call evaluated without an outer derivative is counted as evaluated", () => {
    // Under vmap alone the batched call is computed by its impl: no outer derivative.
    ng.nested.resetStats();
    ng.vmap(ng.grad((x: Tensor) => u(x)))(xs);
    const s = ng.nested.stats();
    expect(s.evaluations, JSON.stringify(s)).toEqual({ nest: 1 });
    expectAccountAddsUp(s);
  });
});
