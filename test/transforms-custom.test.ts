// customJvp / customVjp in every mode and nesting, stopGradient, valueAndGrad with hasAux
// and argnums lists, pytree arguments and outputs, eager value-dependent branching, makeIR.
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { D, expectClose, f64, flat, modeMixes } from "./transforms-helpers.js";

const XS = [-1.3, -0.2, 0.6, 1.9];
const sig = (x: number) => 1 / (1 + Math.exp(-x));

describe("customJvp", () => {
  // softplus with its true rule
  const softplus = ng.customJvp(
    (x: Tensor) => ng.log1p(ng.exp(x)),
    ([x]: Tensor[], [t]: Tensor[]) => [ng.log1p(ng.exp(x)), ng.mul(t, ng.sigmoid(x))],
  );
  // sin with a deliberately scaled rule: derivatives reveal that the rule (not f) is used
  const sin2 = ng.customJvp(
    (x: Tensor) => ng.sin(x),
    ([x]: Tensor[], [t]: Tensor[]) => [ng.sin(x), ng.mul(t, ng.mul(2, ng.cos(x)))],
  );

  it("values and forward-mode derivatives", () => {
    const x = f64(XS);
    expectClose(
      softplus(x),
      XS.map((v) => Math.log1p(Math.exp(v))),
      1e-14,
    );
    const [y, dy] = ng.jvp(softplus, [x], [f64([1, 2, 3, 4])]);
    expect(y).toBeInstanceOf(ng.Tensor); // not a one-element list (fixed in custom.ts)
    expect(y.shape).toEqual([4]);
    expectClose(
      y,
      XS.map((v) => Math.log1p(Math.exp(v))),
      1e-14,
    );
    expectClose(
      dy,
      XS.map((v, i) => (i + 1) * sig(v)),
      1e-14,
    );
    expectClose(
      ng.jvp(sin2, [x], [ng.onesLike(x)])[1],
      XS.map((v) => 2 * Math.cos(v)),
      1e-14,
    );
  });

  it("reverse mode works through the linearized rule", () => {
    const x = f64(XS);
    expectClose(ng.grad((v: Tensor) => ng.sum(softplus(v)))(x), XS.map(sig), 1e-14);
    expectClose(
      ng.grad((v: Tensor) => ng.sum(sin2(v)))(x),
      XS.map((v) => 2 * Math.cos(v)),
      1e-14,
    );
    const [, pb] = ng.vjp(sin2, x);
    expectClose(
      pb(f64([1, -1, 2, 0.5]))[0],
      XS.map((v, i) => [1, -1, 2, 0.5][i]! * 2 * Math.cos(v)),
      1e-14,
    );
  });

  for (const [a, b] of modeMixes(2)) {
    it(`second order through the rule (${a}∘${b})`, () => {
      for (const x0 of XS) {
        const s = sig(x0);
        expectClose(D(a, D(b, softplus))(f64(x0)), s * (1 - s), 1e-13, 1e-15, `softplus'' x=${x0}`);
        // d/dx [2 cos x] = −2 sin x: the rule itself is differentiated
        expectClose(D(a, D(b, sin2))(f64(x0)), -2 * Math.sin(x0), 1e-13, 1e-15, `sin2'' x=${x0}`);
      }
    });
  }

  it("pytree arguments and outputs, rule with a zero tangent input", () => {
    const f = ng.customJvp(
      (p: { a: Tensor; b: Tensor }) => ({ s: ng.mul(p.a, p.b), d: ng.sub(p.a, p.b) }),
      ([p]: any[], [t]: any[]) => [
        { s: ng.mul(p.a, p.b), d: ng.sub(p.a, p.b) },
        { s: ng.add(ng.mul(t.a, p.b), ng.mul(p.a, t.b)), d: ng.sub(t.a, t.b) },
      ],
    );
    const a = f64([1, 2]);
    const b = f64([3, -1]);
    const out = f({ a, b });
    expectClose(out.s, [3, -2]);
    // only a differentiated: b's tangent is a symbolic zero that the rule receives as zeros
    const ga = ng.grad((v: Tensor) => ng.sum(ng.add(f({ a: v, b }).s, f({ a: v, b }).d)))(a);
    expectClose(ga, [4, 0]);
  });
});

describe("customVjp", () => {
  // sin with the true VJP, residual cos(x)
  const sinV = ng.customVjp(
    (x: Tensor) => ng.sin(x),
    (x: Tensor) => [ng.sin(x), ng.cos(x)],
    (c: Tensor, g: Tensor) => [ng.mul(g, c)],
  );
  // a non-symmetric linear map x ↦ A x: forward mode must transpose the bwd correctly
  const A = f64([
    [1, 2, 0],
    [-1, 0.5, 3],
  ]);
  const Ax = ng.customVjp(
    (x: Tensor) => ng.matmul(A, x),
    (x: Tensor) => [ng.matmul(A, x), null],
    (_r: null, g: Tensor) => [ng.matmul(ng.transpose(A), g)],
  );
  // a two-argument function with residuals in a pytree: f(x, y) = x² y
  const sqMul = ng.customVjp(
    (x: Tensor, y: Tensor) => ng.mul(ng.square(x), y),
    (x: Tensor, y: Tensor) => [ng.mul(ng.square(x), y), { x, y }],
    (r: { x: Tensor; y: Tensor }, g: Tensor) => [
      ng.mul(g, ng.mul(2, ng.mul(r.x, r.y))),
      ng.mul(g, ng.square(r.x)),
    ],
  );
  // the identity with clipped gradients: bwd differs from the true derivative on purpose
  const clipGrad = ng.customVjp(
    (x: Tensor) => ng.mul(x, 1),
    (x: Tensor) => [ng.mul(x, 1), null],
    (_r: null, g: Tensor) => [ng.clip(g, -1, 1)],
  );

  it("values and gradients; bwd is what reverse mode uses", () => {
    const x = f64(XS);
    expectClose(sinV(x), XS.map(Math.sin), 1e-15);
    expectClose(ng.grad((v: Tensor) => ng.sum(sinV(v)))(x), XS.map(Math.cos), 1e-15);
    expectClose(ng.grad((v: Tensor) => ng.sum(ng.mul(clipGrad(v), 5)))(x), [1, 1, 1, 1]);
    const [gx, gy] = ng.grad((a: Tensor, b: Tensor) => ng.sum(sqMul(a, b)), { argnums: [0, 1] })(
      f64([1.5, -2]),
      f64([3, 0.5]),
    );
    expectClose(gx, [2 * 1.5 * 3, 2 * -2 * 0.5]);
    expectClose(gy, [1.5 ** 2, 4]);
  });

  it("forward mode (jvp) through customVjp agrees with the true derivative", () => {
    const x = f64(XS);
    const v = f64([0.5, -1, 2, 3]);
    const [y, dy] = ng.jvp(sinV, [x], [v]);
    expectClose(y, XS.map(Math.sin), 1e-15);
    expectClose(
      dy,
      XS.map((xi, i) => Math.cos(xi) * flat(v)[i]!),
      1e-14,
    );
    // non-symmetric: the tangent is A v, not Aᵀ v
    const [, dA] = ng.jvp(Ax, [f64([1, 1, 1])], [f64([1, 2, 3])]);
    expectClose(dA, [1 + 4 + 0, -1 + 1 + 9], 1e-14);
    expectClose(ng.jacfwd(Ax)(f64([0.3, 0.1, -2])), flat(A), 1e-14);
    expectClose(ng.jacrev(Ax)(f64([0.3, 0.1, -2])), flat(A), 1e-14);
    // two arguments, both with tangents
    const [, ds] = ng.jvp(sqMul, [f64([1.5]), f64([3])], [f64([0.1]), f64([-2])]);
    expectClose(ds, [2 * 1.5 * 3 * 0.1 + 1.5 ** 2 * -2], 1e-14);
  });

  for (const [a, b] of modeMixes(2)) {
    it(`second order through customVjp (${a}∘${b}): d²/dx² sin = −sin`, () => {
      for (const x0 of XS) {
        expectClose(D(a, D(b, sinV))(f64(x0)), -Math.sin(x0), 1e-13, 1e-15, `x=${x0}`);
      }
    });
  }

  it("grad∘grad through customVjp with two arguments", () => {
    // ∂/∂y [∂/∂x x² y] = 2x
    for (const x0 of [0.5, -1.5]) {
      const mixed = ng.grad((y: Tensor) => ng.grad((x: Tensor) => ng.sum(sqMul(x, y)))(f64(x0)), {
        argnums: 0,
      })(f64(2.0));
      expectClose(mixed, 2 * x0, 1e-14);
    }
    // Hessian of x ↦ Σ sin(x) is diag(−sin x)
    const H = ng.hessian((x: Tensor) => ng.sum(sinV(x)))(f64(XS));
    expectClose(
      H,
      XS.flatMap((xi, i) => XS.map((_v, j) => (i === j ? -Math.sin(xi) : 0))),
      1e-14,
      1e-15,
    );
  });
});

describe("stopGradient", () => {
  it("blocks gradients in both modes", () => {
    const f = (x: Tensor) => ng.mul(x, ng.stopGradient(x));
    for (const mode of ["fwd", "rev"] as const) {
      for (const x0 of XS) expectClose(D(mode, f)(f64(x0)), x0, 1e-15, 0, `${mode} x=${x0}`);
    }
    expectClose(ng.grad((x: Tensor) => ng.sum(ng.stopGradient(ng.sin(x))))(f64(XS)), [0, 0, 0, 0]);
  });

  for (const [a, b] of modeMixes(2)) {
    it(`blocks gradients under nesting (${a}∘${b})`, () => {
      // outer(x) = x · d/dy [sg(x·y) · y] at y0 = x · sg(x·y0) ⇒ d/dx = x·y0 (not 2x·y0)
      const y0 = 1.7;
      const outer = (x: Tensor) =>
        ng.mul(x, D(b, (y: Tensor) => ng.mul(ng.stopGradient(ng.mul(x, y)), y))(f64(y0)));
      for (const x0 of XS) expectClose(D(a, outer)(f64(x0)), x0 * y0, 1e-14, 1e-15, `x=${x0}`);
      // second derivative of x ↦ x² · sg(x) is 2·sg(x)
      const g = (x: Tensor) => ng.mul(ng.square(x), ng.stopGradient(x));
      for (const x0 of XS) expectClose(D(a, D(b, g))(f64(x0)), 2 * x0, 1e-14, 1e-15, `x=${x0}`);
    });
  }
});

describe("valueAndGrad, argnums and hasAux", () => {
  const f = (a: Tensor, n: number, c: { w: Tensor }) => {
    const loss = ng.add(ng.sum(ng.mul(ng.square(a), n)), ng.sum(ng.sin(c.w)));
    return [loss, { twice: ng.mul(loss, 2), label: "aux" }] as const;
  };
  const a = f64([1, -2]);
  const w = f64([0.3, 0.4, 0.5]);

  it("valueAndGrad with hasAux and an argnums list", () => {
    const [[value, aux], [ga, gc]] = ng.valueAndGrad(f, { argnums: [0, 2], hasAux: true })(a, 3, {
      w,
    });
    const expected = 3 * (1 + 4) + [0.3, 0.4, 0.5].reduce((s, v) => s + Math.sin(v), 0);
    expectClose(value, expected, 1e-15);
    expectClose(aux.twice, 2 * expected, 1e-15);
    expect(aux.label).toBe("aux");
    expectClose(ga, [6, -12]);
    expectClose(gc.w, [0.3, 0.4, 0.5].map(Math.cos), 1e-15);
  });

  it("grad with hasAux returns [grads, aux]; a single argnum returns the gradient itself", () => {
    const [g, aux] = ng.grad(f, { argnums: 2, hasAux: true })(a, 3, { w });
    expectClose(g.w, [0.3, 0.4, 0.5].map(Math.cos), 1e-15);
    expect(aux.label).toBe("aux");
    const [v, g0] = ng.valueAndGrad((x: Tensor, y: Tensor) => ng.sum(ng.mul(x, y)), { argnums: 1 })(
      a,
      f64([5, 7]),
    );
    expectClose(v, 5 - 14);
    expectClose(g0, [1, -2]);
  });

  it("argnums order is respected", () => {
    const g = ng.grad((x: Tensor, y: Tensor) => ng.sum(ng.mul(ng.square(x), y)), {
      argnums: [1, 0],
    })(f64([2]), f64([3]));
    expectClose(g[0], [4]); // d/dy x²y = x²
    expectClose(g[1], [12]); // d/dx x²y = 2xy
  });
});

describe("pytrees through vjp and jvp", () => {
  const f = (p: { w: Tensor; b: Tensor }, xs: [Tensor, Tensor]) => ({
    y: ng.add(ng.matmul(p.w, xs[0]), p.b),
    z: [ng.sum(ng.mul(xs[0], xs[1]))],
  });
  const w = f64([
    [1, 2],
    [3, 4],
  ]);
  const b = f64([0.5, -0.5]);
  const x0 = f64([1, -1]);
  const x1 = f64([2, 3]);

  it("jvp with pytree primals and tangents", () => {
    const [out, tout] = ng.jvp(
      f,
      [{ w, b }, [x0, x1]],
      [
        {
          w: f64([
            [1, 0],
            [0, 1],
          ]),
          b: f64([1, 1]),
        },
        [f64([0, 1]), f64([1, 0])],
      ],
    );
    expectClose(out.y, [1 - 2 + 0.5, 3 - 4 - 0.5]);
    expectClose(out.z[0], 2 - 3);
    // dy = dW x0 + W dx0 + db = [1, -1] + [2, 4] + [1, 1]
    expectClose(tout.y, [4, 4]);
    // dz = dx0·x1 + x0·dx1 = 3 + 1
    expectClose(tout.z[0], 4);
  });

  it("vjp with pytree primals and cotangents", () => {
    const [out, pullback] = ng.vjp(f, { w, b }, [x0, x1]);
    expect(out.y.shape).toEqual([2]);
    const [gp, gx] = pullback({ y: f64([1, 2]), z: [f64(3)] });
    // ȳ = [1, 2]: W̄ = ȳ x0ᵀ, b̄ = ȳ, x̄0 = Wᵀȳ + z̄ x1, x̄1 = z̄ x0
    expectClose(gp.w, [1, -1, 2, -2]);
    expectClose(gp.b, [1, 2]);
    expectClose(gx[0], [1 + 6 + 6, 2 + 8 + 9]);
    expectClose(gx[1], [3, -3]);
  });
});

describe("eager transforms read values", () => {
  const f = (x: Tensor) => (x.item() > 0 ? ng.mul(ng.square(x), x) : ng.sin(x));
  const df = (x0: number) => (x0 > 0 ? 3 * x0 * x0 : Math.cos(x0));
  const d2f = (x0: number) => (x0 > 0 ? 6 * x0 : -Math.sin(x0));

  it("branching on .item() gives the derivative of the branch taken, in every mode and order", () => {
    for (const x0 of XS) {
      for (const m of ["fwd", "rev"] as const)
        expectClose(D(m, f)(f64(x0)), df(x0), 1e-14, 1e-15, `${m} x=${x0}`);
      for (const [a, b] of modeMixes(2)) {
        expectClose(D(a, D(b, f))(f64(x0)), d2f(x0), 1e-14, 1e-15, `${a}∘${b} x=${x0}`);
      }
    }
  });

  it("loops whose trip count depends on values", () => {
    // halve until below 1: f(x) = x / 2^k where k depends on x
    const halve = (x: Tensor) => {
      let y = x;
      while (y.item() >= 1) y = ng.div(y, 2);
      return y;
    };
    expectClose(ng.grad(halve)(f64(5)), 1 / 8);
    expectClose(ng.grad(halve)(f64(0.5)), 1);
    expectClose(ng.grad(ng.grad((x: Tensor) => ng.mul(halve(x), x)))(f64(5)), 2 / 8);
  });
});

describe("makeIR", () => {
  it("toString shows the equations and typecheck passes", () => {
    const ir = ng.makeIR((x: Tensor, y: Tensor) => ng.sum(ng.mul(ng.sin(x), y)))(
      ng.zeros([3], { dtype: "float64" }),
      f64([1, 2, 3]),
    );
    const text = ir.toString();
    expect(text).toMatch(/^\{ lambda /);
    expect(text).toMatch(/float64\[3\]/);
    expect(text).toMatch(/= sin /);
    expect(text).toMatch(/= mul /);
    expect(text).toMatch(/= sum/);
    expect(text).toMatch(/in \(\w+\) \}$/);
    expect(ir.eqns.map((e) => e.prim.name)).toEqual(["sin", "mul", "sum"]);
    expect(() => ir.typecheck()).not.toThrow();
  });

  it("stages transformed functions: the IR of grad(f) typechecks and has f's derivative equations", () => {
    const f = (x: Tensor) => ng.sum(ng.sin(x));
    // With nested switching off the inner gradient is traced through: its equations appear.
    const ir = ng.config.withConfig({ nestedSwitching: false }, () =>
      ng.makeIR(ng.grad(f))(ng.zeros([4], { dtype: "float64" })),
    );
    expect(() => ir.typecheck()).not.toThrow();
    const names = ir.eqns.map((e) => e.prim.name);
    expect(names).toContain("cos");
    expect(ir.outVars[0]!.aval.toString()).toBe("float64[4]");
    // With switching on (the default) it is one gradCall carrying f's IR.
    const staged = ng.makeIR(ng.grad(f))(ng.zeros([4], { dtype: "float64" }));
    expect(() => staged.typecheck()).not.toThrow();
    expect(staged.eqns.map((e) => e.prim.name)).toEqual(["gradCall"]);
    expect(staged.toString()).toMatch(/gradCall\[wrt=\(0\), strategy=nest, kind=grad/);
    const irJ = ng.makeIR((x: Tensor) => ng.jvp(f, [x], [ng.onesLike(x)])[1])(
      ng.zeros([2], { dtype: "float64" }),
    );
    expect(() => irJ.typecheck()).not.toThrow();
    expect(irJ.eqns.map((e) => e.prim.name)).toContain("cos");
  });
});
