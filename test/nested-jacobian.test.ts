// Inner jacfwd/jacrev under an outer transform are computed in the mode with fewer passes
// per sample (src/nested/jacobian.ts). These tests check the structure detection (per
// sample, mixed, partly mixed), the mode chosen for each spelling, and that every switched
// Jacobian equals the Jacobian as written with switching off (1e-9, float64) and finite
// differences at second and third order.
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { blockStructure, planJacobian } from "../src/nested/jacobian.js";
import {
  expectGradMatchesFD,
  expectNear,
  fdDerivative,
  flatValues,
  randn,
  randomLike,
  treeDot,
  axpy,
} from "./nested-helpers.js";

type Ps = Tensor[];

function mlp(ps: Ps, x: Tensor): Tensor {
  const h = ng.tanh(ng.add(ng.matmul(x, ps[0]!), ps[1]!));
  return ng.add(ng.matmul(ng.sin(h), ps[2]!), ps[3]!);
}

function params(d: number, m: number, seed: number, h = 5): Ps {
  return [
    randn(seed, [d, h], 0.7),
    randn(seed + 1, [h], 0.3),
    randn(seed + 2, [h, m], 0.7),
    randn(seed + 3, [m], 0.3),
  ];
}

const off = { nestedSwitching: false } as const;
const on = { nestedSwitching: true, nestedStrategy: "auto" } as const;

function irOf(f: (x: Tensor) => Tensor, x: Tensor) {
  return ng.makeIR(f)(x);
}

describe("structure detection", () => {
  const ps = params(3, 2, 1);
  const X = randn(5, [4, 3]);
  it("a function that maps samples independently is block-diagonal over the batch", () => {
    expect(
      blockStructure(
        irOf((x) => mlp(ps, x), X),
        1,
      ),
    ).toBe(4);
  });
  it("a mean over the batch mixes samples: dense", () => {
    const f = (x: Tensor) => mlp(ps, ng.sub(x, ng.mean(x, 0, true)));
    expect(blockStructure(irOf(f, X), 1)).toBe(1);
  });
  it("batch normalisation mixes samples: dense", () => {
    const f = (x: Tensor) => {
      const mu = ng.mean(x, 0, true);
      const v = ng.mean(ng.square(ng.sub(x, mu)), 0, true);
      return mlp(ps, ng.div(ng.sub(x, mu), ng.sqrt(ng.add(v, 1e-5))));
    };
    expect(blockStructure(irOf(f, X), 1)).toBe(1);
  });
  it("one output column that mixes samples makes the whole Jacobian dense", () => {
    const f = (x: Tensor) => {
      // column 0 adds a sum over the whole batch; column 1 is per sample
      const firstColumn = ng.array([[1, 0]], { dtype: "float64" });
      return ng.add(mlp(ps, x), ng.mul(firstColumn, ng.sum(x)));
    };
    expect(blockStructure(irOf(f, X), 1)).toBe(1);
  });
  it("outputs without the batch axis are dense", () => {
    expect(
      blockStructure(
        irOf((x) => ng.sum(mlp(ps, x), 0), X),
        1,
      ),
    ).toBe(1);
  });
  it("counts passes per sample and keeps the written mode on a tie", () => {
    const ir = irOf((x) => mlp(params(2, 16, 3), x), randn(6, [8, 2]));
    expect(planJacobian(ir, 1, "reverse")).toMatchObject({ mode: "forward", batch: 8 });
    const ir2 = irOf((x) => mlp(params(16, 2, 3), x), randn(6, [8, 16]));
    expect(planJacobian(ir2, 1, "forward")).toMatchObject({ mode: "reverse", batch: 8 });
    const sq = irOf((x) => mlp(params(3, 3, 3), x), randn(6, [8, 3]));
    expect(planJacobian(sq, 1, "forward").mode).toBe("forward");
    expect(planJacobian(sq, 1, "reverse").mode).toBe("reverse");
    // mixed: 8·16 inputs against 8·2 outputs in total
    const mixed = irOf(
      (x) => mlp(params(16, 2, 3), ng.sub(x, ng.mean(x, 0, true))),
      randn(6, [8, 16]),
    );
    expect(planJacobian(mixed, 1, "forward")).toMatchObject({ mode: "reverse", batch: 1 });
  });
});

/** Σ‖J‖² of per-sample Jacobians (vmap) of the MLP, as a function of the parameters. */
function perSampleLoss(jac: typeof ng.jacrev, X: Tensor) {
  return (ps: Ps) =>
    ng.sum(ng.square(ng.vmap((x: Tensor) => jac((z: Tensor) => mlp(ps, z))(x) as Tensor)(X)));
}

/** The same with the Jacobian of the whole batch (block-diagonal), no vmap. */
function batchLoss(jac: typeof ng.jacrev, X: Tensor, mix = false) {
  return (ps: Ps) =>
    ng.sum(
      ng.square(
        jac((z: Tensor) => mlp(ps, mix ? ng.sub(z, ng.mul(0.5, ng.mean(z, 0, true))) : z))(
          X,
        ) as Tensor,
      ),
    );
}

const CELLS = [
  { d: 2, m: 5, mode: "forward" },
  { d: 5, m: 2, mode: "reverse" },
] as const;

describe.each(CELLS)("d = $d, m = $m: both spellings run in $mode mode", ({ d, m, mode }) => {
  const ps = params(d, m, 11);
  const X = randn(12, [3, d]);
  for (const [name, jac] of [
    ["jacrev", ng.jacrev],
    ["jacfwd", ng.jacfwd],
  ] as const) {
    it(`${name} per sample (vmap): gradient equals switching off and finite differences`, () => {
      const loss = perSampleLoss(jac as typeof ng.jacrev, X);
      const ref = ng.config.withConfig(off, () => ng.grad(loss)(ps));
      ng.nested.resetStats();
      const g = ng.config.withConfig(on, () => ng.grad(loss)(ps));
      expect(Object.keys(ng.nested.stats().jacobians)).toEqual([`${name} → ${mode}`]);
      expectNear(g, ref, 1e-9, `${name} switched vs off`);
      expectGradMatchesFD(loss, ps, g, `${name} switched vs FD`, { rtol: 1e-6 });
    });
    it(`${name} of a whole batch: compressed per-sample passes equal the dense Jacobian`, () => {
      const inner = (z: Tensor) => mlp(ps, z);
      const dense = ng.config.withConfig(off, () => ng.jacrev(inner)(X));
      // under an outer jvp the inner Jacobian is switched; its primal is the Jacobian
      ng.nested.resetStats();
      const [J] = ng.config.withConfig(on, () =>
        ng.jvp((x: Tensor) => jac(inner)(x) as Tensor, [X], [ng.zerosLike(X)]),
      );
      expect(J.shape).toEqual([3, m, 3, d]);
      expect(ng.nested.stats().jacobians[`${name} → ${mode}`]?.because).toContain(
        "block-diagonal over a batch of 3",
      );
      expectNear(J, dense, 1e-12, `${name} compressed vs dense`);
      const loss = batchLoss(jac as typeof ng.jacrev, X);
      const ref = ng.config.withConfig(off, () => ng.grad(loss)(ps));
      const g = ng.config.withConfig(on, () => ng.grad(loss)(ps));
      expectNear(g, ref, 1e-9, `${name} batch switched vs off`);
      expectGradMatchesFD(loss, ps, g, `${name} batch switched vs FD`, { rtol: 1e-6 });
    });
    it(`${name} of a function that mixes samples: dense, and still exact`, () => {
      const loss = batchLoss(jac as typeof ng.jacrev, X, true);
      const ref = ng.config.withConfig(off, () => ng.grad(loss)(ps));
      ng.nested.resetStats();
      const g = ng.config.withConfig(on, () => ng.grad(loss)(ps));
      const rec = Object.values(ng.nested.stats().jacobians)[0]!;
      expect(rec.because).not.toContain("block-diagonal");
      expectNear(g, ref, 1e-9, `${name} mixing switched vs off`);
    });
    it(`${name}: third order (a Hessian-vector product of the loss) equals off and finite differences`, () => {
      const loss = perSampleLoss(jac as typeof ng.jacrev, X);
      const v = randomLike(ps, 3);
      const hv = (cfg: object) =>
        ng.config.withConfig(cfg, () => ng.jvp(ng.grad(loss), [ps], [v])[1]);
      const ref = hv(off);
      const got = hv(on);
      expectNear(got, ref, 1e-9, `${name} HVP switched vs off`);
      // FD of the directional derivative of the gradient along v, projected on w
      const w = randomLike(ps, 4);
      const fd = fdDerivative(
        (s) =>
          treeDot(
            ng.config.withConfig(off, () => ng.grad(loss)(axpy(ps, s, v))),
            w,
          ),
        1e-3,
      );
      const ad = treeDot(got, w);
      expect(Math.abs(ad - fd)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(fd)));
    });
  }
});

describe("bookkeeping", () => {
  it("a training loop stages the decision once and serves it from the cache", () => {
    const ps = params(2, 5, 21);
    const X = randn(22, [4, 2]);
    ng.nested.resetStats();
    const lines: string[] = [];
    const prevSink = ng.nested.setLogSink((l) => lines.push(l));
    const prev = ng.config.set({ debug: ["nested"] });
    try {
      for (let k = 0; k < 3; k++) ng.grad(perSampleLoss(ng.jacrev, X))(ps);
    } finally {
      ng.config.set(prev);
      ng.nested.setLogSink(prevSink);
    }
    expect(ng.nested.stats().jacobians["jacrev → forward"]?.count).toBe(3);
    expect(lines.filter((l) => l.includes("(cached)") && l.includes("jacrev")).length).toBe(2);
  });
  it("without an outer transform jacrev and jacfwd run as written (nothing recorded)", () => {
    ng.nested.resetStats();
    const ps = params(2, 5, 31);
    const J = ng.jacrev((z: Tensor) => mlp(ps, z))(randn(1, [2]));
    expect(J.shape).toEqual([5, 2]);
    expect(ng.nested.stats().jacobians).toEqual({});
  });
  it("a block structure is never reused for another function behind the same source text", () => {
    // The same closure text stands for a per-sample map first and for a sample-mixing one
    // next: the second call must not reuse the first call's block-diagonal structure.
    const ps = params(2, 2, 51);
    const X = randn(52, [3, 2]);
    const perSample = (z: Tensor) => mlp(ps, z);
    const mixing = (z: Tensor) => mlp(ps, ng.sub(z, ng.mean(z, 0, true)));
    let model = perSample;
    const loss = (s: Tensor) => ng.sum(ng.square(ng.jacrev((z: Tensor) => model(z))(ng.mul(X, s))));
    const s = ng.array(1.1, { dtype: "float64" });
    for (const m of [perSample, mixing]) {
      model = m;
      const ref = ng.config.withConfig(off, () => ng.grad(loss)(s));
      const got = ng.config.withConfig(on, () => ng.grad(loss)(s));
      expectNear(got, ref, 1e-9, m === perSample ? "per-sample" : "mixing after per-sample");
    }
  });
  it("pytree arguments and several outputs keep their structure", () => {
    const a = randn(41, [2]);
    const b = randn(42, [3]);
    const f = (x: { a: Tensor; b: Tensor }) => ({
      u: ng.mul(ng.sin(x.a), ng.sum(x.b)),
      v: ng.concatenate([ng.exp(x.b), ng.tanh(x.a)], 0),
    });
    const outer = (s: Tensor) => {
      const J = ng.jacrev(f)({ a: ng.mul(a, s), b }) as any;
      return ng.add(ng.sum(ng.square(J.u.a)), ng.sum(ng.mul(J.v.b, J.u.b.sum())));
    };
    const s = ng.array(1.3, { dtype: "float64" });
    const ref = ng.config.withConfig(off, () => ng.grad(outer)(s));
    const got = ng.config.withConfig(on, () => ng.grad(outer)(s));
    expectNear(got, ref, 1e-9, "pytree jacobian");
    expect(flatValues(got).length).toBe(1);
  });
});
