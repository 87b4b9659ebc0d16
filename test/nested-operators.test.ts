// Nested switching with the per-sample operators (docs/nested.md):
// losses built on ng.laplacian (a PINN), ng.nn.batchedJacobian (a Jacobian regulariser,
// forward and reverse mode), ng.divergence and ng.hutchinsonTrace, in float64. The outer
// gradient computed with the cost model (auto), with every forced strategy and with
// switching off must agree with each other and with central finite differences, and the
// counters must show what was staged: the operators are built from vmap, jvp and vjp/grad,
// so their inner grad (laplacian with method "hvp"; the default Taylor mode has none) or
// vjp (reverse modes) is staged as a nested call, while
// forward-mode operators (divergence, forward batchedJacobian, Hutchinson by jvp) are
// plain nesting, as jvp and jacfwd are (docs/nested.md, "When it fires").
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import {
  axpy,
  EMPTY_STATS,
  expectAllAgree,
  expectFired,
  expectGradMatchesFD,
  fdDerivative,
  flatValues,
  randn,
  randomLike,
  setup64,
  underEveryConfig,
  type Expect,
  type Run,
} from "./nested-helpers.js";

/** Relative agreement between strategies (the same derivative, rounded differently). */
const AGREE = 1e-9;
/** Relative agreement with finite differences. */
const FD_RTOL = 1e-6;

/** A float64 MLP: tanh on every layer but the last. */
function mlp(sizes: number[]): ng.nn.Layer {
  const layers = sizes
    .slice(1)
    .map((out, i) =>
      i === sizes.length - 2
        ? ng.nn.dense(sizes[i]!, out, { dtype: "float64" })
        : ng.nn.dense(sizes[i]!, out, ng.tanh, { dtype: "float64" }),
    );
  return ng.nn.chain(...layers);
}

/**
 * The whole check of one scenario: the gradient of `loss` at `x` under every configuration,
 * agreement between them, finite differences, and the counters. Returns the runs.
 */
function checkScenario(
  name: string,
  loss: (x: any) => Tensor,
  x: unknown,
  fired: Expect | "none" | { vmapped: readonly string[] },
): Run<unknown>[] {
  const runs = underEveryConfig(() => ng.grad(loss)(x));
  expectAllAgree(runs, AGREE, name);
  expectGradMatchesFD(loss, x, runs[0]!.result, name, { rtol: FD_RTOL });
  for (const r of runs) {
    for (const v of flatValues(r.result))
      expect(Number.isFinite(v), `${name} ${r.label}`).toBe(true);
  }
  if (fired === "none") {
    for (const r of runs) {
      expect(r.stats, `${r.label}: nothing staged`).toEqual(EMPTY_STATS);
    }
  } else if ("vmapped" in fired) {
    expectFiredVmapped(runs, fired.vmapped);
  } else {
    expectFired(runs, fired);
  }
  return runs;
}

/**
 * The counters of a staged inner vjp whose pullback runs under the operator's vmap: the
 * batch rule of the call keeps it a call (the sum trick), and turns inner forward mode —
 * one pass per element of the whole batch — into plain nesting of the batched call, so
 * innerForward is decided but expanded as nest.
 */
function expectFiredVmapped(runs: readonly Run<unknown>[], staged: readonly string[]): void {
  for (const r of runs) {
    const s = r.stats;
    const where = `${r.label}: stats ${JSON.stringify(s)}`;
    expect(s.fallbacks, `${where}: no fallback`).toEqual({});
    if (r.label === "off") {
      expect(s, `${where}: nothing staged with switching off`).toEqual(EMPTY_STATS);
      continue;
    }
    for (const k of staged)
      expect(s.staged[k] ?? 0, `${where}: staged.${k}`).toBeGreaterThanOrEqual(1);
    const strategy = r.label === "auto" ? "nest" : r.label;
    expect(Object.keys(s.decisions), `${where}: decisions`).toEqual([strategy]);
    const expanded = strategy === "innerForward" ? "nest" : strategy;
    expect(Object.keys(s.expansions), `${where}: expansions`).toEqual([expanded]);
  }
}

/** The settings at load (debug may come from NESTGRAD_DEBUG); every test restores them. */
const INITIAL = ng.config.get();

afterEach(() => {
  expect(ng.config.get()).toEqual({ ...INITIAL, nestedSwitching: true, nestedStrategy: "auto" });
});

describe("PINN loss with ng.laplacian (Poisson: Δu = f in the square, u = 0 on its edge)", () => {
  // u: 2→8→8→1 tanh; loss = mean((Δu(x) − f(x))²) + mean(u(x_b)²).
  const model = mlp([2, 8, 8, 1]);
  const [ps0, st] = setup64(1, model);
  const xi = randn(2, [6, 2], 0.5);
  const xb = randn(3, [4, 2]);
  const source = ng.mul(ng.sin(ng.sum(xi, 1)), -2);
  const u = (ps: any) => (z: Tensor) => model.apply(z, ps, st)[0] as Tensor;
  // The vmap(jvp(grad)) path, whose inner grad is what nested switching acts on.
  const loss = (ps: any, x: Tensor = xi, method: "hvp" | "taylor" = "hvp") => {
    const r = ng.sub(ng.laplacian(u(ps), { method })(x), source);
    return ng.add(ng.mean(ng.square(r)), ng.mean(ng.square(u(ps)(xb))));
  };

  it("in Taylor mode (the default) nothing is staged, and every configuration = finite differences", () => {
    checkScenario("PINN laplacian (Taylor)", (ps: any) => loss(ps, xi, "taylor"), ps0, "none");
  });

  it("the inner grad is staged; every strategy = switching off = finite differences", () => {
    // The inner gradient sits under the operator's own JVP (one per basis direction, vmapped),
    // whose tangents are concrete: the call is expanded eagerly by the chosen strategy, and
    // the outer gradient differentiates that expansion (captured parameters included).
    checkScenario("PINN laplacian", loss, ps0, { staged: ["grad"], eager: true });
  });

  it("gradient with respect to parameters and collocation points together", () => {
    checkScenario("PINN laplacian (ps, x)", ([ps, x]: [any, Tensor]) => loss(ps, x), [ps0, xi], {
      staged: ["grad"],
      eager: true,
    });
  });

  it("forward mode: jvp of the loss along a parameter direction = finite differences, in every configuration", () => {
    const dir = randomLike(ps0, 4);
    const runs = underEveryConfig(() => ng.jvp(loss, [ps0], [dir])[1] as Tensor);
    expectAllAgree(runs, AGREE, "PINN jvp");
    const fd = fdDerivative((s) => loss(axpy(ps0, s, dir)).item());
    const ad = (runs[0]!.result as Tensor).item();
    expect(Math.abs(ad - fd), `jvp ${ad} vs FD ${fd}`).toBeLessThanOrEqual(FD_RTOL * Math.abs(fd));
  });

  it("hessianDiagonal in the loss (an anisotropic operator) switches the same way", () => {
    const w = ng.array([1.0, 0.25], { dtype: "float64" });
    const aniso = (ps: any) =>
      ng.mean(
        ng.square(
          ng.sub(ng.sum(ng.mul(ng.hessianDiagonal(u(ps), { method: "hvp" })(xi), w), 1), source),
        ),
      );
    checkScenario("anisotropic hessianDiagonal", aniso, ps0, { staged: ["grad"], eager: true });
  });
});

describe("Jacobian regulariser with nn.batchedJacobian", () => {
  // Σ‖u(x) − y‖² + 0.1·Σ‖J_b‖², J [B, m, d] per sample.
  for (const [d, m] of [
    [2, 3],
    [3, 2],
  ] as const) {
    const model = mlp([d, 5, m]);
    const [ps0, st] = setup64(10 + d, model);
    const x = randn(11 + d, [4, d]);
    const y = randn(12 + d, [4, m]);
    const u = (ps: any) => (z: Tensor) => model.apply(z, ps, st)[0] as Tensor;
    const loss = (ps: any, mode: "auto" | "forward" | "reverse") => {
      const J = ng.nn.batchedJacobian(u(ps), x, { mode });
      return ng.add(ng.sum(ng.square(u(ps)(x).sub(y))), ng.sum(ng.square(J)).mul(0.1));
    };

    it(`${d}→${m}, reverse mode: the inner vjp is staged and every strategy matches`, () => {
      checkScenario(`regulariser ${d}→${m} reverse`, (ps) => loss(ps, "reverse"), ps0, {
        vmapped: ["vjp"],
      });
    });
    it(`${d}→${m}, forward mode: plain nesting (nothing staged) and matches`, () => {
      checkScenario(`regulariser ${d}→${m} forward`, (ps) => loss(ps, "forward"), ps0, "none");
    });
    it(`${d}→${m}: auto picks ${d <= m ? "forward" : "reverse"} mode, and the modes agree`, () => {
      const runs = checkScenario(
        `regulariser ${d}→${m} auto`,
        (ps) => loss(ps, "auto"),
        ps0,
        d <= m ? "none" : { vmapped: ["vjp"] },
      );
      const fwd = ng.grad((ps: any) => loss(ps, "forward"))(ps0);
      const rev = ng.grad((ps: any) => loss(ps, "reverse"))(ps0);
      expectAllAgree(
        [
          runs[0]!,
          { ...runs[0]!, label: "forwardOverReverse", result: fwd },
          { ...runs[0]!, label: "nest", result: rev },
        ],
        AGREE,
        "auto vs forward vs reverse",
      );
    });
  }
});

describe("divergence of a vector-field MLP (continuous-normalising-flow regulariser)", () => {
  const model = mlp([3, 6, 3]);
  const [ps0, st] = setup64(20, model);
  const x = randn(21, [5, 3]);
  const loss = (ps: any) => {
    const field = (z: Tensor) => model.apply(z, ps, st)[0] as Tensor;
    return ng.add(ng.mean(ng.square(ng.divergence(field)(x))), ng.mean(ng.square(field(x))));
  };

  it("forward mode inside: plain nesting, every configuration = finite differences", () => {
    checkScenario("divergence", loss, ps0, "none");
  });
});

describe("Hutchinson trace estimate in a loss", () => {
  const model = mlp([3, 6, 3]);
  const [ps0, st] = setup64(30, model);
  const x = randn(31, [4, 3]);
  const probes = ng.where(ng.greater(randn(32, [5, 4, 3]), 0), 1, -1).cast("float64");
  const loss = (ps: any, mode: "jvp" | "vjp") => {
    const field = (z: Tensor) => model.apply(z, ps, st)[0] as Tensor;
    return ng.sum(ng.square(ng.hutchinsonTrace(field, x, probes, { mode })));
  };

  it("vjp variant: the inner vjp is staged and every strategy matches", () => {
    checkScenario("Hutchinson vjp", (ps) => loss(ps, "vjp"), ps0, { vmapped: ["vjp"] });
  });

  it("jvp variant: plain nesting; the same gradient as the vjp variant", () => {
    const runs = checkScenario("Hutchinson jvp", (ps) => loss(ps, "jvp"), ps0, "none");
    const viaVjp = ng.grad((ps: any) => loss(ps, "vjp"))(ps0);
    expectAllAgree([runs[0]!, { ...runs[0]!, label: "nest", result: viaVjp }], AGREE, "jvp vs vjp");
  });
});
