// Nested switching (docs/nested.md), scenarios of losses that
// contain an inner derivative (PINN residuals, Jacobian regularisers, Hutchinson traces,
// gradient penalties, Hamiltonian networks, third-order derivatives), each in float64. The
// outer gradient computed with the cost model (auto), with every forced strategy and with
// switching off must agree with each other and with central finite differences, and the
// counters must show that the expected strategy fired (or that staging fell back).
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import {
  captureNestedLog,
  EMPTY_STATS,
  expectAllAgree,
  expectFired,
  expectGradMatchesFD,
  expectNear,
  f64,
  fdDerivative,
  flatValues,
  randn,
  setup64,
  treeDot,
  underEveryConfig,
  type Expect,
  type Run,
} from "./nested-helpers.js";

/** Relative agreement between strategies (the same derivative, rounded differently). */
const AGREE = 1e-9;
/** Relative agreement with finite differences. */
const FD_RTOL = 1e-6;

/** A float64 MLP: tanh on every layer but the last. */
function mlp(sizes: number[], act: (x: Tensor) => Tensor = ng.tanh): ng.nn.Layer {
  const layers = sizes.slice(1).map((out, i) => {
    const last = i === sizes.length - 2;
    return last
      ? ng.nn.dense(sizes[i]!, out, { dtype: "float64" })
      : ng.nn.dense(sizes[i]!, out, act, { dtype: "float64" });
  });
  return ng.nn.chain(...layers);
}

/** The float64 column [n, 1] of n points evenly spaced in [lo, hi]. */
function column(n: number, lo: number, hi: number): Tensor {
  const v = Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  return f64(v.map((x) => [x]));
}

/**
 * The whole check of one scenario: the gradient of `loss` at `x` under every configuration,
 * agreement between them, finite differences, and the counters. Returns the runs.
 */
function checkScenario(
  name: string,
  loss: (x: any) => Tensor,
  x: unknown,
  fired: Expect | "none" | { jacobians: string[] },
): Run<unknown>[] {
  const runs = underEveryConfig(() => ng.grad(loss)(x));
  expectAllAgree(runs, AGREE, name);
  expectGradMatchesFD(loss, x, runs[0]!.result, name, { rtol: FD_RTOL });
  if (fired === "none" || "jacobians" in fired) {
    // Forward-mode inner derivatives (jvp, and jacfwd computed in forward mode) stay plain
    // nesting: nothing is staged; a switched Jacobian records its mode.
    const modes = fired === "none" ? [] : fired.jacobians;
    for (const r of runs) {
      const { jacobians, ...rest } = r.stats;
      const { jacobians: _none, ...empty } = EMPTY_STATS;
      expect(rest, `${r.label}: nothing staged`).toEqual(empty);
      expect(Object.keys(jacobians), `${r.label}: jacobian modes`).toEqual(
        r.label === "off" ? [] : modes,
      );
    }
  } else {
    expectFired(runs, fired);
  }
  return runs;
}

/** The settings at load (debug may come from NESTGRAD_DEBUG); every test restores them. */
const INITIAL = ng.config.get();

afterEach(() => {
  // A test that leaks a setting fails here instead of confusing the next one.
  expect(ng.config.get()).toEqual({ ...INITIAL, nestedSwitching: true, nestedStrategy: "auto" });
});

describe("1. PINN input gradient", () => {
  // u: 1→12→12→12→1 tanh; loss = Σ (∂/∂t Σ u(t)² − cos t)², gradient wrt params and t.
  const model = mlp([1, 12, 12, 12, 1]);
  const [ps0, st] = setup64(1, model);
  const t0 = column(16, -1, 1);
  const loss = ([ps, t]: [any, Tensor]) => {
    const u = ng.nn.stateful(model, ps, st);
    const du = ng.grad((tt: Tensor) => ng.sum(ng.square(u(tt))))(t);
    return ng.sum(ng.square(du.sub(ng.cos(t))));
  };

  it("every strategy = switching off = finite differences; auto is forward-over-reverse", () => {
    checkScenario("PINN", loss, [ps0, t0], { staged: ["grad"] });
  });

  it("argnums [0, 1] on an explicit (ps, t) loss gives the same gradients", () => {
    const runs = underEveryConfig(() =>
      ng.grad((ps: any, t: Tensor) => loss([ps, t]), { argnums: [0, 1] })(ps0, t0),
    );
    expectAllAgree(runs, AGREE, "PINN argnums");
    const ref = ng.config.withConfig({ nestedSwitching: false }, () => ng.grad(loss)([ps0, t0]));
    expectNear(runs[0]!.result, ref, AGREE, "PINN argnums vs tree argument");
    expectFired(runs, { staged: ["grad"] });
  });
});

describe("2. Jacobian regularisation", () => {
  // Σ‖u(x) − y‖² + ‖0.01·J‖², J = ∂u(x)/∂x of the batched output ([3, 2, 3, 2]).
  const x0 = randn(20, [3, 2]);
  const y = randn(21, [3, 2]);
  const regularised = (
    u: (x: Tensor) => Tensor,
    jac: (f: (x: Tensor) => Tensor) => (x: Tensor) => Tensor,
  ): Tensor => {
    const J = jac(u)(x0);
    return ng.add(ng.sum(ng.square(u(x0).sub(y))), ng.sum(ng.square(J.mul(0.01))));
  };

  const plain = mlp([2, 4, 2]);
  const [psPlain, stPlain] = setup64(2, plain);
  const withBN = ng.nn.chain(
    ng.nn.dense(2, 4, ng.tanh, { dtype: "float64" }),
    ng.nn.batchNorm(4, { dtype: "float64" }),
    ng.nn.dense(4, 2, { dtype: "float64" }),
  );
  const [psBN, stBN] = setup64(3, withBN);
  // Move the batchNorm affine parameters away from (1, 0) so that they matter.
  psBN.layer_2 = { scale: randn(22, [4], 0.3).add(1), bias: randn(23, [4], 0.3) };
  expect(stBN.layer_2.training).toBe(true);

  for (const [name, model, ps0, st] of [
    ["MLP 2→4→2", plain, psPlain, stPlain],
    ["MLP 2→4→batchNorm→2 (training mode)", withBN, psBN, stBN],
  ] as const) {
    // The new state of apply is ignored for the loss.
    const u = (ps: any) => (x: Tensor) => (model as ng.nn.Layer).apply(x, ps, st)[0] as Tensor;
    it(`${name}: J by jacrev switches and matches`, () => {
      checkScenario(`${name} jacrev`, (ps) => regularised(u(ps), (f) => ng.jacrev(f)), ps0, {
        staged: ["jacrev"],
        // the plain MLP maps samples independently: compressed pullbacks, vmapped
        batchedPullbacks: model === plain,
      });
    });
    it(`${name}: J by jacfwd (forward mode, as written: d = m) matches`, () => {
      checkScenario(`${name} jacfwd`, (ps) => regularised(u(ps), (f) => ng.jacfwd(f)), ps0, {
        jacobians: ["jacfwd → forward"],
      });
    });
    it(`${name}: jacrev and jacfwd regularisers have the same gradient`, () => {
      const a = ng.grad((ps) => regularised(u(ps), (f) => ng.jacrev(f)))(ps0);
      const b = ng.grad((ps) => regularised(u(ps), (f) => ng.jacfwd(f)))(ps0);
      expectNear(a, b, AGREE, `${name}: jacrev vs jacfwd`);
    });
  }
});

describe("3. Jacobian with respect to parameters", () => {
  const model = mlp([2, 3, 1]);
  const [ps0, st] = setup64(4, model);
  const x = randn(30, [2, 2]);
  const u = (ps: any) => model.apply(x, ps, st)[0] as Tensor;

  it("J = jacrev of W ↦ u(x; W) for one weight matrix (the rest captured)", () => {
    const loss = (ps: any) => {
      const J = ng.jacrev((W: Tensor) => u({ ...ps, layer_1: { ...ps.layer_1, weight: W } }))(
        ps.layer_1.weight,
      ) as Tensor;
      expect(J.shape).toEqual([2, 1, 2, 3]);
      return ng.sum(ng.square(J));
    };
    checkScenario("jacrev wrt W", loss, ps0, { staged: ["jacrev"] });
  });

  it("J = jacrev of p ↦ u(x; p) for the whole parameter tree", () => {
    const loss = (ps: any) => {
      const J = ng.jacrev(u)(ps);
      const [leaves] = ng.tree.flatten<Tensor>(J);
      expect(leaves.length).toBe(4);
      return leaves.map((l) => ng.sum(ng.square(l))).reduce((a, b) => ng.add(a, b));
    };
    checkScenario("jacrev wrt params", loss, ps0, { staged: ["jacrev"] });
  });
});

describe("4. Hutchinson trace of the input Jacobian", () => {
  const model = mlp([3, 5, 3]);
  const [ps0, st] = setup64(5, model);
  const x = randn(40, [1, 3]);
  const probes = [f64([[1, -1, 1]]), f64([[-1, -1, 1]]), f64([[1, 1, -1]])];
  const u = (ps: any) => (z: Tensor) => model.apply(z, ps, st)[0] as Tensor;

  it("⟨v, Jᵀv⟩ by the ng.vjp pullback switches and matches", () => {
    const loss = (ps: any) => {
      const [, pullback] = ng.vjp(u(ps), x);
      const est = probes
        .map((v) => ng.sum(v.mul(pullback(v)[0] as Tensor)))
        .reduce((a, b) => ng.add(a, b));
      return ng.square(est);
    };
    checkScenario("Hutchinson vjp", loss, ps0, { staged: ["vjp"] });
  });

  it("⟨v, Jv⟩ by ng.jvp (plain nesting) matches, and equals the vjp estimate", () => {
    const est = (ps: any, how: "jvp" | "vjp") => {
      const terms = probes.map((v) => {
        if (how === "jvp") return ng.sum(v.mul(ng.jvp(u(ps), [x], [v])[1] as Tensor));
        const [, pullback] = ng.vjp(u(ps), x);
        return ng.sum(v.mul(pullback(v)[0] as Tensor));
      });
      return ng.square(terms.reduce((a, b) => ng.add(a, b)));
    };
    checkScenario("Hutchinson jvp", (ps) => est(ps, "jvp"), ps0, "none");
    const a = ng.grad((ps) => est(ps, "jvp"))(ps0);
    const b = ng.grad((ps) => est(ps, "vjp"))(ps0);
    expectNear(a, b, AGREE, "Hutchinson jvp vs vjp");
  });
});

describe("5. Gradient penalty (WGAN-GP)", () => {
  const critic = mlp([4, 8, 1]);
  const [ps0, st] = setup64(6, critic);
  const x = randn(50, [5, 4]);

  it("mean D(x) + 10·mean((‖∇ₓD(x)ᵢ‖ − 1)²) switches and matches", () => {
    const loss = (ps: any) => {
      const D = (z: Tensor) => critic.apply(z, ps, st)[0] as Tensor;
      const gx = ng.grad((z: Tensor) => ng.sum(D(z)))(x) as Tensor;
      const norms = ng.sqrt(ng.sum(ng.square(gx), 1));
      return ng.add(ng.mean(D(x)), ng.mean(ng.square(norms.sub(1))).mul(10));
    };
    checkScenario("WGAN-GP", loss, ps0, { staged: ["grad"] });
  });
});

describe("6. the same loss written four ways", () => {
  const model = mlp([1, 6, 6, 1]);
  const [ps0, st] = setup64(7, model);
  const t = column(5, -0.8, 0.9);
  const residual = (du: Tensor) => ng.sum(ng.square(du.sub(ng.cos(t))));
  const net = (ps: any) => (tt: Tensor) => model.apply(tt, ps, st)[0] as Tensor;

  const ways: [string, (ps: any) => Tensor][] = [
    [
      "a plain closure over ps",
      (ps) => residual(ng.grad((tt: Tensor) => ng.sum(ng.square(net(ps)(tt))))(t)),
    ],
    [
      "nn.stateful",
      (ps) => {
        const u = ng.nn.stateful(model, ps, st);
        return residual(ng.grad((tt: Tensor) => ng.sum(ng.square(u(tt))))(t));
      },
    ],
    [
      "an explicit function of (t, ps) with argnums 0",
      (ps) =>
        residual(
          ng.grad((tt: Tensor, p: any) => ng.sum(ng.square(model.apply(tt, p, st)[0])), {
            argnums: 0,
          })(t, ps),
        ),
    ],
  ];

  const grads: unknown[] = [];
  for (const [name, loss] of ways) {
    it(`${name}: switches, gives every parameter its gradient`, () => {
      const runs = checkScenario(name, loss, ps0, { staged: ["grad"] });
      for (const r of runs) {
        for (const v of flatValues(r.result)) expect(Number.isFinite(v)).toBe(true);
        // No parameter lost its gradient (every leaf has a non-zero one).
        const [leaves] = ng.tree.flatten<Tensor>(r.result);
        for (const l of leaves) expect(ng.sum(ng.abs(l)).item()).toBeGreaterThan(0);
      }
      grads.push(runs[0]!.result);
    });
  }

  it("the three ways give equal gradients", () => {
    expect(grads.length).toBe(3);
    expectNear(grads[1], grads[0], AGREE, "stateful vs closure");
    expectNear(grads[2], grads[0], AGREE, "argnums vs closure");
  });

  it("a closure capturing tracers of two outer transforms (jvp over W1 of grad over W2)", () => {
    const lossW = (W1: Tensor, W2: Tensor) =>
      ways[0]![1]({
        ...ps0,
        layer_1: { ...ps0.layer_1, weight: W1 },
        layer_2: { ...ps0.layer_2, weight: W2 },
      });
    const W1 = ps0.layer_1.weight as Tensor;
    const W2 = ps0.layer_2.weight as Tensor;
    const dW1 = randn(60, [...W1.shape]);
    // The inner grad's closure captures W1 (a tracer of the outer jvp) and W2 (a tracer of
    // the outer grad).
    const runs = underEveryConfig(() =>
      ng.jvp((w1: Tensor) => ng.grad((w2: Tensor) => lossW(w1, w2))(W2), [W1], [dW1]),
    );
    expectAllAgree(runs, AGREE, "two outer transforms");
    for (const r of runs) {
      const s = r.stats;
      const where = `${r.label}: ${JSON.stringify(s)}`;
      expect(s.fallbacks, where).toEqual({});
      if (r.label === "off") {
        expect(s.staged, where).toEqual({});
        continue;
      }
      // Both grads are staged: the one over W2 is itself an inner derivative of the jvp.
      expect(s.staged.grad, where).toBe(2);
      const strategy = r.label === "auto" ? "nest" : r.label;
      expect(Object.keys(s.decisions), where).toEqual([strategy]);
      // The outer jvp's tangents are concrete, so the grad over W2 is expanded eagerly; the
      // inner one is expanded under the (symbolic) linearization of the grad over W2, except
      // with innerForward, where the grad over W2 itself runs in forward mode.
      expect(s.expansions[`${strategy} (eager)`] ?? 0, where).toBeGreaterThanOrEqual(1);
      if (strategy !== "innerForward") {
        expect(s.expansions[strategy] ?? 0, where).toBeGreaterThanOrEqual(1);
      }
    }
    // The inner grad's closure was converted with both outer tracers (W1 and W2) as inputs.
    const [, lines] = captureNestedLog(() =>
      ng.jvp((w1: Tensor) => ng.grad((w2: Tensor) => lossW(w1, w2))(W2), [W1], [dW1]),
    );
    expect(lines.join("\n")).toMatch(/staged inner grad: \d+ equations, 2 captured tracer\(s\)/);
    const [g2, mixed] = runs[0]!.result as [Tensor, Tensor];
    // The primal is the gradient wrt W2: that of the plain closure.
    const full = ng.grad(ways[0]![1])(ps0);
    expectNear(g2, full.layer_2.weight, AGREE, "grad wrt W2 vs full gradient");
    // The tangent is ∂²L/∂W2∂W1·dW1: against nested finite differences.
    for (let k = 0; k < 2; k++) {
      const dW2 = randn(61 + k, [...W2.shape]);
      const fd = fdDerivative((s) =>
        fdDerivative((r) => lossW(W1.add(dW1.mul(s)), W2.add(dW2.mul(r))).item()),
      );
      const ad = treeDot(mixed, dW2);
      expect(Math.abs(ad - fd), `mixed: ${ad} vs nested FD ${fd}`).toBeLessThanOrEqual(
        FD_RTOL * Math.abs(fd),
      );
    }
  });
});

describe("7. h = g ∘ ∇f with f = 1/‖x‖, g = (Σ r)³", () => {
  const xv = [0.3, -0.5, 0.8, 0.4];
  const f = (x: Tensor) => ng.div(1, ng.sqrt(ng.sum(ng.square(x))));
  const g = (r: Tensor) => ng.pow(ng.sum(r), 3);
  const h = (x: Tensor) => g(ng.grad(f)(x));

  function closedForm(x: number[]): number[] {
    const n = Math.hypot(...x);
    const gradF = x.map((v) => -v / n ** 3);
    const s = gradF.reduce((a, b) => a + b, 0);
    const gradG = 3 * s * s;
    // H_f = −I/‖x‖³ + 3xxᵀ/‖x‖⁵; ∇h = H_f · (gradG · 𝟙)
    const sx = x.reduce((a, b) => a + b, 0);
    return x.map((xi) => gradG * (-1 / n ** 3 + (3 * xi * sx) / n ** 5));
  }

  it("ng.grad(h) switches and matches the closed form to 1e-10 in every strategy", () => {
    const runs = underEveryConfig(() => ng.grad(h)(f64(xv)));
    const expected = closedForm(xv);
    for (const r of runs) expectNear(r.result, expected, 1e-10, `∇h (${r.label})`, 0);
    expectFired(runs, { staged: ["grad"] });
  });
});

describe("8. third order", () => {
  const model = mlp([2, 5, 1]);
  const [ps0, st] = setup64(8, model);
  const x = randn(70, [3, 2]);
  const v = randn(71, [3, 2]);

  it("gradient of L(w) = Σ hvp(f_w, x, v)² matches finite differences", () => {
    const loss = (ps: any) => {
      const fw = (z: Tensor) => ng.sum(model.apply(z, ps, st)[0] as Tensor);
      return ng.sum(ng.square(ng.hvp(fw, x, v) as Tensor));
    };
    // hvp = jvp(grad(f)): the outer jvp's tangents are concrete (eager expansion).
    checkScenario("Σ hvp²", loss, ps0, { staged: ["grad"], eager: true });
  });

  it("grad(grad(grad(sin(x)·x³))) matches the closed form in every strategy", () => {
    const f = (x: Tensor) => ng.mul(ng.sin(x), ng.pow(x, 3));
    const d3 = (x: number) =>
      -(x ** 3) * Math.cos(x) - 9 * x * x * Math.sin(x) + 18 * x * Math.cos(x) + 6 * Math.sin(x);
    for (const x0 of [0.7, -1.3, 2.1]) {
      const runs = underEveryConfig(() => ng.grad(ng.grad(ng.grad(f)))(f64(x0)));
      for (const r of runs) expectNear(r.result, [d3(x0)], 1e-10, `f'''(${x0}) (${r.label})`, 0);
      // A scalar inner input: auto chooses inner forward mode.
      expectFired(runs, { staged: ["grad"], auto: "innerForward" });
    }
  });
});

describe("9. fallback on value-dependent code", () => {
  const x = f64([0.4, -0.2, 0.9]);
  const w0 = f64([0.5, -1.2, 0.8]);
  const reads: [string, (y: Tensor) => boolean][] = [
    ["item()", (y) => ng.sum(y).item() > 0],
    ["toArray()", (y) => (y.toArray() as number[])[2]! > 0],
  ];
  for (const [how, positive] of reads) {
    it(`an inner function branching on ${how} falls back, stays correct, and logs why`, () => {
      const loss = (w: Tensor) => {
        const inner = (y: Tensor) =>
          positive(y) ? ng.sum(ng.sin(y).mul(w).mul(y)) : ng.sum(ng.cos(y).mul(w));
        return ng.sum(ng.square(ng.grad(inner)(x)));
      };
      const [g, lines] = captureNestedLog(() => {
        ng.nested.resetStats();
        return ng.grad(loss)(w0);
      });
      const s = ng.nested.stats();
      expect(s.fallbacks["value-dependent code"] ?? 0, JSON.stringify(s)).toBeGreaterThanOrEqual(1);
      expect(s.staged, "nothing was staged").toEqual({});
      const log = lines.join("\n");
      expect(log).toMatch(/fell back/);
      expect(log).toMatch(/value-dependent code/);
      expect(log).toContain(how);
      expectGradMatchesFD(loss, w0, g, `fallback ${how}`, { rtol: FD_RTOL });
      const off = ng.config.withConfig({ nestedSwitching: false }, () => ng.grad(loss)(w0));
      expectNear(g, off, AGREE, `fallback ${how} vs switching off`);
      // The debug setting was restored.
      expect(ng.config.get().debug).toEqual(INITIAL.debug);
    });
  }

  it("the debug log is silent unless the nested channel is on", () => {
    const lines: string[] = [];
    const prevSink = ng.nested.setLogSink((l) => lines.push(l));
    try {
      ng.config.withConfig({ debug: [] }, () =>
        ng.grad((w: Tensor) => ng.sum(ng.grad((y: Tensor) => ng.sum(ng.sin(y.mul(w))))(x)))(w0),
      );
    } finally {
      ng.nested.setLogSink(prevSink);
    }
    expect(lines).toEqual([]);
    // A cold cache, so that the logged call stages (a cached decision would skip staging).
    ng.nested.clearCache();
    const [, logged] = captureNestedLog(() =>
      ng.grad((w: Tensor) => ng.sum(ng.grad((y: Tensor) => ng.sum(ng.sin(y.mul(w))))(x)))(w0),
    );
    const log = logged.join("\n");
    expect(log).toMatch(/staged inner grad/);
    expect(log).toMatch(/strategy nest: .*budget/);
    expect(log).toMatch(/expanded .* by nest/);
  });

  it("auto picks forward-over-reverse when nesting's residuals exceed the memory budget", () => {
    const loss = (w: Tensor) => ng.sum(ng.grad((y: Tensor) => ng.sum(ng.sin(y.mul(w))))(x));
    const reference = ng.config.withConfig({ nestedSwitching: false }, () => ng.grad(loss)(w0));
    ng.nested.resetStats();
    const [g, lines] = captureNestedLog(() =>
      ng.config.withConfig({ nestedMemoryBudget: 0 }, () => ng.grad(loss)(w0)),
    );
    expect(ng.nested.stats().decisions).toEqual({ forwardOverReverse: 1 });
    expect(ng.nested.stats().expansions.forwardOverReverse).toBeGreaterThanOrEqual(1);
    expectNear(g, reference, 1e-12, "budget 0");
    expect(lines.join("\n")).toMatch(/strategy forwardOverReverse: .*budget 0\.0 MiB/);
  });
});

describe("10. Hamiltonian network", () => {
  const H = mlp([2, 16, 16, 1]);
  const [ps0, st] = setup64(9, H);
  const z = randn(80, [6, 2]); // columns (q, p)
  const target = randn(81, [6, 2]); // columns (q̇, ṗ)
  // (∂H/∂q, ∂H/∂p) · [[0, −1], [1, 0]] = (∂H/∂p, −∂H/∂q)
  const symplectic = f64([
    [0, -1],
    [1, 0],
  ]);

  it("‖(∂H/∂p, −∂H/∂q) − (q̇, ṗ)‖² switches and matches", () => {
    const loss = (ps: any) => {
      const dH = ng.grad((zz: Tensor) => ng.sum(H.apply(zz, ps, st)[0] as Tensor))(z) as Tensor;
      return ng.sum(ng.square(ng.matmul(dH, symplectic).sub(target)));
    };
    checkScenario("Hamiltonian", loss, ps0, { staged: ["grad"] });
  });
});

describe("more shapes of inner derivatives", () => {
  const model = mlp([2, 4, 1]);
  const [ps0, st] = setup64(10, model);
  const x = randn(90, [3, 2]);
  const u = (ps: any) => (z: Tensor) => model.apply(z, ps, st)[0] as Tensor;

  it("inner valueAndGrad with the value used (its tangent is a dirDerivCall)", () => {
    const loss = (ps: any) => {
      const [val, gx] = ng.valueAndGrad((z: Tensor) => ng.sum(ng.square(u(ps)(z))))(x);
      return ng.add(ng.mul(val, val), ng.sum(ng.square(gx as Tensor)));
    };
    checkScenario("valueAndGrad", loss, ps0, { staged: ["valueAndGrad"] });
  });

  it("inner valueAndGrad with hasAux (aux outputs depend on the parameters)", () => {
    const loss = (ps: any) => {
      const [[val, aux], gx] = ng.valueAndGrad(
        (z: Tensor) => {
          const y = u(ps)(z);
          return [ng.sum(ng.square(y)), { y, m: ng.mean(y) }];
        },
        { hasAux: true },
      )(x);
      return ng.add(
        ng.add(val, ng.sum(ng.square(aux.y))),
        ng.add(ng.mul(aux.m, 3), ng.sum(ng.square(gx as Tensor))),
      );
    };
    checkScenario("valueAndGrad hasAux", loss, ps0, { staged: ["valueAndGrad"] });
  });

  it("the outer variable is both the inner argument and captured by the inner closure", () => {
    const loss = ([ps, z]: [any, Tensor]) => {
      const gz = ng.grad((zz: Tensor) => ng.sum(u(ps)(zz).mul(ng.sum(ng.sin(z)))))(z) as Tensor;
      return ng.sum(ng.square(gz.sub(z)));
    };
    checkScenario("argument = capture", loss, [ps0, x], { staged: ["grad"] });
  });

  it("a vjp cotangent that depends on the parameters", () => {
    const loss = (ps: any) => {
      const [y, pullback] = ng.vjp(u(ps), x);
      const [gx] = pullback(ng.tanh(y as Tensor));
      return ng.sum(ng.square(gx as Tensor));
    };
    checkScenario("vjp cotangent", loss, ps0, { staged: ["vjp"] });
  });

  it("inner grad with argnums [0, 1] over the input and one captured weight", () => {
    const loss = (ps: any) => {
      const [gz, gb] = ng.grad(
        (z: Tensor, b: Tensor) =>
          ng.sum(ng.square(model.apply(z, { ...ps, layer_2: { ...ps.layer_2, bias: b } }, st)[0])),
        { argnums: [0, 1] },
      )(x, ps.layer_2.bias) as [Tensor, Tensor];
      return ng.add(ng.sum(ng.square(gz)), ng.sum(ng.square(gb)));
    };
    checkScenario("argnums [0, 1]", loss, ps0, { staged: ["grad"] });
  });

  it("Σ hessian(f_w)(x₀)² (jacfwd over a switched jacrev) matches", () => {
    const x0 = randn(91, [2]);
    const loss = (ps: any) => {
      const f = (z: Tensor) => ng.sum(u(ps)(ng.reshape(z, [1, 2])));
      const Hm = ng.hessian(f)(x0) as Tensor;
      expect(Hm.shape).toEqual([2, 2]);
      return ng.sum(ng.square(Hm));
    };
    // With nest, the switched jacrev linearizes once and shares it between its pullbacks
    // (no call primitive to expand eagerly); forced forward-over-reverse expands its
    // pullback gradCalls eagerly under jacfwd's concrete tangents.
    checkScenario("Σ hessian²", loss, ps0, { staged: ["jacrev"], eager: "exceptNest" });
  });
});

describe("inner forward mode for a scalar inner input", () => {
  it("auto chooses innerForward for an inner grad wrt a rank-0 tensor, with the same answer", () => {
    const s0 = f64(0.6);
    const w0 = f64([0.5, -1.1, 0.9]);
    const loss = (w: Tensor) =>
      ng.square(ng.grad((s: Tensor) => ng.sum(ng.tanh(w.mul(s)).mul(w)))(s0) as Tensor);
    const runs = checkScenario("scalar inner input", loss, w0, {
      staged: ["grad"],
      auto: "innerForward",
    });
    expect(runs[0]!.stats.decisions).toEqual({ innerForward: 1 });
  });
});

describe("config", () => {
  it("rejects unknown keys and bad values with messages naming them", () => {
    const before = ng.config.get();
    expect(() => ng.config.set({ nestedSwitchin: false } as any)).toThrow(
      /unknown option "nestedSwitchin".*did you mean "nestedSwitching"\?.*nestedSwitching, nestedStrategy, nestedMemoryBudget, debug/,
    );
    expect(() => ng.config.set({ nestedStrategy: "fast" } as any)).toThrow(
      /nestedStrategy must be one of auto, forwardOverReverse, nest, innerForward, got "fast"/,
    );
    expect(() => ng.config.set({ nestedSwitching: "yes" } as any)).toThrow(
      /nestedSwitching must be a boolean, got "yes"/,
    );
    expect(() => ng.config.set({ debug: "nested" } as any)).toThrow(
      /debug must be an array of channel names/,
    );
    expect(() => ng.config.set({ debug: [1] } as any)).toThrow(/debug must be an array/);
    expect(() => ng.config.set(null as any)).toThrow(/expected an object of settings, got null/);
    expect(() => ng.config.set({ nestedMemoryBudget: -1 })).toThrow(
      /nestedMemoryBudget must be a non-negative number of bytes, got number -1/,
    );
    expect(ng.config.get()).toEqual(before);
  });

  it("a rejected set changes nothing, even when some of its settings were valid", () => {
    const before = ng.config.get();
    try {
      expect(() => ng.config.set({ nestedSwitching: false, bogus: 1 } as any)).toThrow(
        /unknown option "bogus"/,
      );
      expect(() => ng.config.set({ nestedStrategy: "nest", debug: "x" } as any)).toThrow(
        /debug must be an array/,
      );
      expect(ng.config.get()).toEqual(before);
    } finally {
      ng.config.set(before);
    }
  });

  it("set returns the previous settings and withConfig restores them, also on throw", () => {
    const prev = ng.config.set({ nestedStrategy: "nest" });
    expect(prev.nestedStrategy).toBe("auto");
    expect(ng.config.get().nestedStrategy).toBe("nest");
    ng.config.set(prev);
    expect(() =>
      ng.config.withConfig({ nestedSwitching: false }, () => {
        expect(ng.config.get().nestedSwitching).toBe(false);
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(ng.config.get().nestedSwitching).toBe(true);
  });

  it("stats are snapshots and resetStats clears them", () => {
    ng.nested.resetStats();
    const w = f64([0.3, 0.7]);
    ng.grad((v: Tensor) => ng.sum(ng.grad((y: Tensor) => ng.sum(ng.sin(y.mul(v))))(w)))(w);
    const s = ng.nested.stats();
    expect(s.staged.grad).toBe(1);
    s.staged.grad = 99;
    expect(ng.nested.stats().staged.grad).toBe(1);
    ng.nested.resetStats();
    expect(ng.nested.stats()).toEqual(EMPTY_STATS);
  });
});
