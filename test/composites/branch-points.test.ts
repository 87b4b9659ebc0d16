/**
 * The reported branch-point failures as end-to-end cases: curvature of softplus and of
 * the logistic loss at 0 (Newton–CG on logistic regression started at w = 0 must
 * converge), huber's Hessian at a zero residual, elu'(0) and NaN through relu. Oracles
 * are closed forms in plain float64 JS.
 */
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { f64, sigmoidJs } from "./registry.js";

const flat = (t: Tensor): number[] => Array.from(t.dataSync(), Number);

describe("reported branch-point cases", () => {
  it("softplus'' (0) = 1/4 and softplus''' (0) = 0, in float32 and float64", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = ng.array(0, { dtype });
      const d2 = ng.grad(ng.grad(ng.softplus));
      expect(d2(x).item()).toBeCloseTo(0.25, 7);
      expect(ng.grad(d2)(x).item()).toBeCloseTo(0, 7);
      const h = ng.hessian((v: Tensor) => ng.sum(ng.softplus(v)));
      expect(h(ng.array([0, 0], { dtype })).toArray()).toEqual([
        [0.25, 0],
        [0, 0.25],
      ]);
    }
  });

  // Eight samples in R³ whose classes overlap, so the logistic loss has a finite minimiser.
  const X = [
    [1, 0.5, -1.2],
    [1, -0.3, 0.8],
    [1, 1.7, 0.4],
    [1, -1.1, -0.6],
    [1, 0.2, 1.5],
    [1, 0.9, -0.3],
    [1, -0.7, 0.1],
    [1, 1.3, 1.1],
  ];
  const Y = [1, 0, 1, 0, 1, 0, 1, 1];
  const loss = (w: Tensor): Tensor =>
    ng.nn.binaryCrossEntropyWithLogits(ng.matmul(f64(X), w), f64(Y));
  /** The gradient Xᵀ(σ(Xw) - y)/n in plain JS. */
  const gradJs = (w: readonly number[]): number[] => {
    const r = X.map((row, i) => sigmoidJs(row.reduce((s, a, j) => s + a * w[j]!, 0)) - Y[i]!);
    return [0, 1, 2].map((j) => X.reduce((s, row, i) => s + (row[j]! * r[i]!) / X.length, 0));
  };

  it("the logistic loss's Hessian at w = 0 is XᵀX/(4n)", () => {
    const H = ng
      .hessian(loss)(f64([0, 0, 0]))
      .toArray() as number[][];
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        const want = X.reduce((s, row) => s + (row[a]! * row[b]!) / 4, 0) / X.length;
        expect(Math.abs(H[a]![b]! - want)).toBeLessThan(1e-14);
      }
    }
  });

  it("Newton–CG on logistic regression from w = 0 converges", () => {
    let w = f64([0, 0, 0]);
    for (let iter = 0; iter < 12; iter++) {
      const g = ng.grad(loss)(w) as Tensor;
      // conjugate gradients on H p = -g with Hessian-vector products
      let p = ng.zerosLike(w);
      let r = ng.neg(g);
      let d = r;
      let rr = ng.sum(ng.mul(r, r)).item();
      for (let k = 0; k < 3 && rr > 1e-30; k++) {
        const Hd = ng.hvp(loss, w, d) as Tensor;
        const curvature = ng.sum(ng.mul(d, Hd)).item();
        expect(curvature, "the Hessian must be positive definite").toBeGreaterThan(0);
        const alpha = rr / curvature;
        p = ng.add(p, ng.mul(d, alpha));
        r = ng.sub(r, ng.mul(Hd, alpha));
        const rrNew = ng.sum(ng.mul(r, r)).item();
        d = ng.add(r, ng.mul(d, rrNew / rr));
        rr = rrNew;
      }
      w = ng.add(w, p);
    }
    const gFinal = gradJs(flat(w));
    expect(flat(w).every(Number.isFinite)).toBe(true);
    expect(Math.hypot(...gFinal)).toBeLessThan(1e-10);
  });

  it("huber's Hessian at a zero residual is the identity (δ = 1 and 0.5)", () => {
    for (const delta of [1, 0.5]) {
      const f = (p: Tensor) => ng.nn.huber(p, f64([0, 0.3]), { delta, reduction: "sum" });
      expect(
        ng
          .hessian(f)(f64([0, 0.3]))
          .toArray(),
      ).toEqual([
        [1, 0],
        [0, 1],
      ]);
    }
  });

  it("elu'(0) = 1 for alpha = 1 in both modes", () => {
    const x = f64(0);
    expect(ng.grad(ng.elu)(x).item()).toBe(1);
    expect(ng.jvp(ng.elu, [x], [f64(1)])[1].item()).toBe(1);
  });

  it("relu, leakyRelu, clip, elu and softplus propagate NaN", () => {
    const x = f64([NaN, -1, 0, 2]);
    for (const f of [
      ng.relu,
      ng.leakyRelu,
      ng.elu,
      ng.softplus,
      (t: Tensor) => ng.clip(t, -1, 1),
    ]) {
      const y = flat(f(x));
      expect(y[0]).toBeNaN();
      expect(y.slice(1).every(Number.isFinite)).toBe(true);
    }
    expect(flat(ng.relu(f64([NaN, -1, 0, 2])))).toEqual([NaN, 0, 0, 2]);
  });
});
