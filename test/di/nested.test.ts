// ng.di operators under outer transforms: an inner di operator
// takes part in nested switching like the native transforms (stats count the staged
// call), every captured or constant parameter gets its gradient, and the results agree
// with the native nesting and with finite differences of the outer derivative.
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { expectClose, f64, flatOf, randomVec } from "./helpers.js";

const di = ng.di;
const { autoForward: fwd, autoReverse: rev, secondOrder: so, finiteDifferences: fd } = di;

const W = f64([
  [0.5, -0.3, 0.8],
  [0.1, 0.9, -0.4],
]);
const x = f64([0.7, -0.2, 0.4]);
/** A one-layer network D(x; W) = Σ tanh(W x)². */
const D = (z: Tensor, w: Tensor) => ng.sum(ng.square(ng.tanh(ng.matmul(w, z))));

function stagedCount(): number {
  return Object.values(ng.nested.stats().staged).reduce((a, b) => a + b, 0);
}

describe("a di operator inside an outer ng.grad", () => {
  // gradient penalty P(W) = ‖∇ₓ D(x; W)‖²
  const native = ng.grad((w: Tensor) => ng.sum(ng.square(ng.grad((z: Tensor) => D(z, w))(x))))(W);
  const byFD = di.gradient(
    (w: Tensor) => ng.sum(ng.square(ng.grad((z: Tensor) => D(z, w))(x))),
    fd(),
    W,
  );
  it("the native nesting agrees with finite differences (the oracle)", () => {
    expectClose(native, byFD, 1e-6, 1e-8);
  });
  for (const [name, inner] of [
    ["autoReverse", rev()],
    ["autoForward", fwd()],
    ["secondOrder(fwd, rev)", so(fwd(), rev())],
  ] as const) {
    it(`W as a constant context, inner ${name}`, () => {
      ng.nested.resetStats();
      const g = ng.grad((w: Tensor) => ng.sum(ng.square(di.gradient(D, inner, x, di.constant(w)))))(
        W,
      );
      expectClose(g, native, 1e-12, 1e-13);
      if (name !== "autoForward") expect(stagedCount()).toBeGreaterThanOrEqual(1);
    });
    it(`W captured by a closure, inner ${name}`, () => {
      ng.nested.resetStats();
      const g = ng.grad((w: Tensor) =>
        ng.sum(ng.square(di.gradient((z: Tensor) => D(z, w), inner, x))),
      )(W);
      expectClose(g, native, 1e-12, 1e-13);
      if (name !== "autoForward") expect(stagedCount()).toBeGreaterThanOrEqual(1);
    });
  }
  it("with switching off the result is the same (plain nesting)", () => {
    ng.nested.resetStats();
    const g = ng.config.withConfig({ nestedSwitching: false }, () =>
      ng.grad((w: Tensor) => ng.sum(ng.square(di.gradient(D, rev(), x, di.constant(w)))))(W),
    );
    expectClose(g, native, 1e-12, 1e-13);
    expect(stagedCount()).toBe(0);
  });
  it("an inner di.hvp under an outer ng.grad (third order) vs finite differences", () => {
    const v = f64([0.3, 0.1, -0.5]);
    const h = (w: Tensor) => ng.sum(di.hvp(D, so(fwd(), rev()), x, [v], di.constant(w))[0]);
    ng.nested.resetStats();
    const g = ng.grad(h)(W);
    expect(stagedCount()).toBeGreaterThanOrEqual(1);
    expectClose(g, di.gradient(h, fd(), W), 1e-6, 1e-7);
  });
  it("an inner di.jacobian with autoReverse switches through its pullbacks", () => {
    const j = (w: Tensor) =>
      ng.sum(ng.square(di.jacobian((z: Tensor) => ng.tanh(ng.matmul(w, z)), rev(), x)));
    ng.nested.resetStats();
    const g = ng.grad(j)(W);
    expect(ng.nested.stats().staged.vjp ?? 0).toBeGreaterThanOrEqual(1);
    const ref = ng.grad((w: Tensor) =>
      ng.sum(ng.square(ng.jacrev((z: Tensor) => ng.tanh(ng.matmul(w, z)))(x))),
    )(W);
    expectClose(g, ref, 1e-12, 1e-13);
  });
});

describe("a di operator inside another di operator", () => {
  const P = (w: Tensor) => ng.sum(ng.square(ng.grad((z: Tensor) => D(z, w))(x)));
  const ref = ng.grad(P)(W);
  for (const [name, outer] of [
    ["autoReverse", rev()],
    ["autoForward", fwd()],
  ] as const) {
    it(`outer ${name} over inner autoReverse`, () => {
      ng.nested.resetStats();
      const g = di.gradient(
        (w: Tensor) => ng.sum(ng.square(di.gradient(D, rev(), x, di.constant(w)))),
        outer,
        W,
      );
      expectClose(g, ref, 1e-12, 1e-13);
      expect(stagedCount()).toBeGreaterThanOrEqual(1);
    });
  }
  it("valueAndGradient of a loss whose data are contexts, differentiated wrt parameters", () => {
    const xs = f64(randomVec(12, 7)).reshape([4, 3]);
    const loss = (w: Tensor, data: { xs: Tensor }) => {
      // per-sample input-gradient norms, through di.gradient under the outer di operator
      const gx = di.gradient(
        (z: Tensor) => ng.sum(ng.tanh(ng.matmul(z, ng.transpose(w)))),
        rev(),
        data.xs,
      );
      return ng.mean(ng.square(gx));
    };
    const [v, g] = di.valueAndGradient(loss, rev(), W, di.constant({ xs }));
    const nativeLoss = (w: Tensor) =>
      ng.mean(
        ng.square(ng.grad((z: Tensor) => ng.sum(ng.tanh(ng.matmul(z, ng.transpose(w)))))(xs)),
      );
    expectClose(v, nativeLoss(W), 1e-14, 1e-14);
    expectClose(g, ng.grad(nativeLoss)(W), 1e-12, 1e-13);
    expectClose(flatOf(g), flatOf(di.gradient(nativeLoss, fd(), W)), 1e-6, 1e-8);
  });
});
