// The ng.di scenario table: every scenario through every backend and every
// operator, checked against closed forms (finite differences to their own tolerance);
// operators a backend cannot serve must raise an error naming the operator and the backend.
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import {
  BACKENDS,
  SCENARIOS,
  blocksOf,
  expectClose,
  flatOf,
  matTVec,
  matVec,
  randomVec,
  sizesOf,
  unflatLike,
  type BackendCase,
  type Scenario,
} from "./helpers.js";

const di = ng.di;

function run(s: Scenario, bc: BackendCase) {
  const b = bc.make();
  const x0 = flatOf(s.x);
  const J = s.J(x0);
  const [m, n] = [J.length, x0.length];
  const y0 = s.y(x0);
  const outSizes = sizesOf(s.f(s.x, ...s.contexts().map((c) => (c as { value: unknown }).value)));
  const inSizes = sizesOf(s.x);
  const [r1, a1] = bc.tol1;
  const close1 = (got: unknown, want: number[], what: string) =>
    expectClose(flatOf(got), want, r1, a1, `${s.name} / ${bc.name} / ${what}`);
  const ctx = () => s.contexts();
  const ts = [randomVec(n, 1), randomVec(n, 2)];
  const tx = ts.map((t) => unflatLike(s.x, t));
  const us = [randomVec(m, 3), randomVec(m, 4)];
  const yLike = s.f(s.x, ...s.contexts().map((c) => (c as { value: unknown }).value));
  const ty = us.map((u) => unflatLike(yLike, u));

  // the base operators, batched: two directions each
  if (bc.base === "pushforward") {
    const dys = di.pushforward(s.f, b, s.x, tx, ...ctx());
    expect(dys.length).toBe(2);
    dys.forEach((dy, k) => close1(dy, matVec(J, ts[k]!), `pushforward[${k}]`));
    const [y, dys2] = di.valueAndPushforward(s.f, b, s.x, tx, ...ctx());
    close1(y, y0, "valueAndPushforward value");
    close1(dys2[1], matVec(J, ts[1]!), "valueAndPushforward[1]");
    expect(() => di.pullback(s.f, b, s.x, ty, ...ctx())).toThrow(
      new RegExp(
        `ng\\.di\\.pullback: backend .*${b.name.replace(/[()[\]{}.*+?^$|\\]/g, "\\$&")}.* cannot serve pullback`,
      ),
    );
    expect(() => di.valueAndPullback(s.f, b, s.x, ty, ...ctx())).toThrow(
      /cannot serve valueAndPullback/,
    );
  } else {
    const dxs = di.pullback(s.f, b, s.x, ty, ...ctx());
    expect(dxs.length).toBe(2);
    dxs.forEach((dx, k) => close1(dx, matTVec(J, us[k]!), `pullback[${k}]`));
    const [y, dxs2] = di.valueAndPullback(s.f, b, s.x, ty, ...ctx());
    close1(y, y0, "valueAndPullback value");
    close1(dxs2[1], matTVec(J, us[1]!), "valueAndPullback[1]");
    expect(() => di.pushforward(s.f, b, s.x, tx, ...ctx())).toThrow(
      /ng\.di\.pushforward: backend .* cannot serve pushforward/,
    );
    expect(() => di.valueAndPushforward(s.f, b, s.x, tx, ...ctx())).toThrow(
      /cannot serve valueAndPushforward/,
    );
  }

  // composed first-order operators
  close1(di.jacobian(s.f, b, s.x, ...ctx()), blocksOf(J, outSizes, inSizes), "jacobian");
  const [yj, Jv] = di.valueAndJacobian(s.f, b, s.x, ...ctx());
  close1(yj, y0, "valueAndJacobian value");
  close1(Jv, blocksOf(J, outSizes, inSizes), "valueAndJacobian");
  if (n === 1) {
    close1(
      di.derivative(s.f, b, s.x, ...ctx()),
      J.map((r) => r[0]!),
      "derivative",
    );
    const [yd, dd] = di.valueAndDerivative(s.f, b, s.x, ...ctx());
    close1(yd, y0, "valueAndDerivative value");
    close1(
      dd,
      J.map((r) => r[0]!),
      "valueAndDerivative",
    );
  } else {
    expect(() => di.derivative(s.f, b, s.x, ...ctx())).toThrow(
      /ng\.di\.derivative: x must be a scalar/,
    );
  }
  if (m === 1 && sizesOf(yLike).length === 1) {
    close1(di.gradient(s.f, b, s.x, ...ctx()), J[0]!, "gradient");
    const [yg, g] = di.valueAndGradient(s.f, b, s.x, ...ctx());
    close1(yg, y0, "valueAndGradient value");
    close1(g, J[0]!, "valueAndGradient");
  } else {
    expect(() => di.gradient(s.f, b, s.x, ...ctx())).toThrow(/must return a scalar/);
  }

  // second order
  if (bc.tol2 === null) return;
  const [r2, a2] = bc.tol2;
  const close2 = (got: unknown, want: number[], what: string) =>
    expectClose(flatOf(got), want, r2, a2, `${s.name} / ${bc.name} / ${what}`);
  if (s.H) {
    const H = s.H(x0);
    const hv = di.hvp(s.f, b, s.x, tx, ...ctx());
    hv.forEach((h, k) => close2(h, matVec(H, ts[k]!), `hvp[${k}]`));
    const [g, hv2] = di.gradientAndHvp(s.f, b, s.x, tx, ...ctx());
    close1(g, J[0]!, "gradientAndHvp gradient");
    close2(hv2[0], matVec(H, ts[0]!), "gradientAndHvp[0]");
    close2(di.hessian(s.f, b, s.x, ...ctx()), blocksOf(H, inSizes, inSizes), "hessian");
    const [yh, gh, Hh] = di.valueGradientAndHessian(s.f, b, s.x, ...ctx());
    close1(yh, y0, "valueGradientAndHessian value");
    close1(gh, J[0]!, "valueGradientAndHessian gradient");
    close2(Hh, blocksOf(H, inSizes, inSizes), "valueGradientAndHessian");
  }
  if (s.D2) {
    const D2 = s.D2(x0);
    close2(di.secondDerivative(s.f, b, s.x, ...ctx()), D2, "secondDerivative");
    const [y, dy, d2y] = di.valueDerivativeAndSecondDerivative(s.f, b, s.x, ...ctx());
    close1(y, y0, "valueDerivativeAndSecondDerivative value");
    close1(
      dy,
      J.map((r) => r[0]!),
      "valueDerivativeAndSecondDerivative derivative",
    );
    close2(d2y, D2, "valueDerivativeAndSecondDerivative");
  }
}

describe("ng.di scenario table: every backend × every operator vs closed forms", () => {
  for (const s of SCENARIOS) {
    describe(s.name, () => {
      for (const bc of BACKENDS) it(bc.name, () => run(s, bc));
    });
  }
});

describe("ng.di argument checks", () => {
  const f = (x: ng.Tensor) => ng.sum(ng.square(x));
  const x = ng.array([1, 2], { dtype: "float64" });
  it("rejects a non-backend, a non-context and a non-list of directions", () => {
    expect(() => di.gradient(f, {} as never, x)).toThrow(/backend must be a backend/);
    expect(() => di.gradient(f, di.autoReverse(), x, x)).toThrow(
      /argument 3 must be a context, ng\.di\.constant\(value\) or ng\.di\.cache\(value\)/,
    );
    expect(() => di.pushforward(f, di.autoForward(), x, x as never)).toThrow(/list of directions/);
    expect(() => di.pushforward(f, di.autoForward(), x, [ng.ones([3])])).toThrow(
      /tangents\[0\]: shape \[3\] does not match the x shape \[2\]/,
    );
    expect(() => di.gradient(f, di.autoReverse(), ng.array([1, 2], { dtype: "int32" }))).toThrow(
      /x has dtype int32/,
    );
    expect(() => di.finiteDifferences({ method: "sideways" as never })).toThrow(/method must be/);
    expect(() => di.finiteDifferences({ step: -1 })).toThrow(/step must be a positive/);
  });
  it("numbers as x are float64 scalars", () => {
    const d = di.derivative((t: ng.Tensor) => ng.mul(t, t), di.autoForward(), 3);
    expect(d.dtype).toBe("float64");
    expect(d.item()).toBe(6);
  });
  it("a constant context is not differentiated; a cache is passed through", () => {
    const c = ng.array([3, 4], { dtype: "float64" });
    const g = di.gradient(
      (z: ng.Tensor, k: ng.Tensor) => ng.sum(ng.mul(z, k)),
      di.autoReverse(),
      x,
      di.constant(c),
    );
    expectClose(g, [3, 4]);
    const scratch: { calls: number } = { calls: 0 };
    di.gradient(
      (z: ng.Tensor, s: { calls: number }) => {
        s.calls++;
        return ng.sum(z);
      },
      di.autoReverse(),
      x,
      di.cache(scratch),
    );
    expect(scratch.calls).toBeGreaterThan(0);
  });
  it("float32 inputs keep float32 results", () => {
    const x32 = ng.array([0.5, 1.5]);
    for (const b of [di.autoForward(), di.autoReverse()]) {
      const g = di.gradient((z: ng.Tensor) => ng.sum(ng.exp(z)), b, x32);
      expect(g.dtype).toBe("float32");
      expectClose(g, [Math.exp(0.5), Math.exp(1.5)], 1e-6, 1e-6);
    }
  });
});
