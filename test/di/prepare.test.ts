// Preparation of the ng.di operators: a prepared operator is staged once and
// gives the same results as the plain operator at new points, identical across calls;
// mismatched shapes, dtypes, structure or changed non-tensor constants raise; functions
// that cannot be staged, cache contexts and calls under outer transforms re-run f.
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { expectClose, f64, flatOf, randomVec } from "./helpers.js";

const di = ng.di;
const { autoForward: fwd, autoReverse: rev, secondOrder: so, autoSparse: sparse } = di;

const A = f64([
  [1.0, 0.4, -0.3],
  [0.2, 2.0, 0.5],
  [-0.6, 0.1, 1.5],
]);
const loss = (x: Tensor, d: { A: Tensor }, s: number) =>
  ng.add(ng.mul(s, ng.sum(ng.square(ng.tanh(ng.matmul(d.A, x))))), ng.sum(ng.pow(x, 4)));
const vecf = (x: Tensor, d: { A: Tensor }) => ng.sin(ng.matmul(d.A, ng.square(x)));
const scal = (t: Tensor) => ng.stack([ng.sin(t), ng.mul(t, ng.exp(t))]);
const pts = [randomVec(3, 1), randomVec(3, 2), randomVec(3, 3)].map((v) => f64(v));
const same = (a: unknown, b: unknown) => expect(flatOf(a)).toEqual(flatOf(b));

describe("prepared operators give the plain operator's results, identical across calls", () => {
  const backends: [string, ng.di.Backend][] = [
    ["autoForward", fwd()],
    ["autoReverse", rev()],
    ["secondOrder(fwd, rev)", so(fwd(), rev())],
    ["autoSparse(secondOrder(fwd, rev))", sparse(so(fwd(), rev()))],
  ];
  for (const [name, b] of backends) {
    it(`gradient, jacobian, hvp, hessian with ${name}`, () => {
      const c = () => [di.constant({ A }), di.constant(0.7)] as const;
      const pg = di.prepareGradient(loss, b, pts[0]!, ...c());
      const pj = di.prepareJacobian(vecf, b, pts[0]!, di.constant({ A }));
      const ph = di.prepareHessian(loss, b, pts[0]!, ...c());
      const pv = di.prepareHvp(loss, b, pts[0]!, [pts[2]!], ...c());
      for (const p of [pg, pj, ph, pv]) expect(p.staged).toBe(true);
      for (const x of pts.slice(1)) {
        const g = pg.gradient(x, ...c());
        same(g, pg.gradient(x, ...c()));
        expectClose(flatOf(g), flatOf(di.gradient(loss, b, x, ...c())), 1e-13, 1e-14);
        const [v, g2] = pg.valueAndGradient(x, ...c());
        expectClose(v, di.valueAndGradient(loss, b, x, ...c())[0], 1e-13, 1e-14);
        same(g2, g);
        const J = pj.jacobian(x, di.constant({ A }));
        same(J, pj.jacobian(x, di.constant({ A })));
        expectClose(flatOf(J), flatOf(di.jacobian(vecf, b, x, di.constant({ A }))), 1e-13, 1e-14);
        const H = ph.hessian(x, ...c());
        same(H, ph.hessian(x, ...c()));
        expectClose(flatOf(H), flatOf(di.hessian(loss, b, x, ...c())), 1e-12, 1e-13);
        const [hv] = pv.hvp(x, [pts[0]!], ...c());
        expectClose(flatOf(hv), flatOf(di.hvp(loss, b, x, [pts[0]!], ...c())[0]), 1e-12, 1e-13);
      }
    });
  }
  it("derivative, secondDerivative, pushforward and pullback", () => {
    const pd = di.prepareDerivative(scal, fwd(), 0.3);
    const ps = di.prepareSecondDerivative(scal, so(fwd(), rev()), 0.3);
    const pf = di.preparePushforward(vecf, fwd(), pts[0]!, [pts[1]!, pts[2]!], di.constant({ A }));
    const pb = di.preparePullback(vecf, rev(), pts[0]!, [pts[1]!], di.constant({ A }));
    for (const t of [0.9, -1.4]) {
      expectClose(flatOf(pd.derivative(t)), [Math.cos(t), (1 + t) * Math.exp(t)], 1e-14, 1e-14);
      expectClose(
        flatOf(ps.secondDerivative(t)),
        [-Math.sin(t), (2 + t) * Math.exp(t)],
        1e-14,
        1e-14,
      );
      const [y, dy, d2y] = ps.valueDerivativeAndSecondDerivative(t);
      expectClose(flatOf(y), [Math.sin(t), t * Math.exp(t)], 1e-14, 1e-14);
      expectClose(flatOf(dy), flatOf(pd.derivative(t)), 1e-14, 1e-14);
      same(d2y, ps.secondDerivative(t));
    }
    const x = pts[2]!;
    const got = pf.pushforward(x, [pts[0]!, pts[1]!], di.constant({ A }));
    const want = di.pushforward(vecf, fwd(), x, [pts[0]!, pts[1]!], di.constant({ A }));
    got.forEach((g, k) => expectClose(flatOf(g), flatOf(want[k]), 1e-14, 1e-14));
    const [yb, [dx]] = pb.valueAndPullback(x, [pts[0]!], di.constant({ A }));
    expectClose(flatOf(yb), flatOf(vecf(x, { A })), 1e-14, 1e-14);
    expectClose(
      flatOf(dx),
      flatOf(di.pullback(vecf, rev(), x, [pts[0]!], di.constant({ A }))[0]),
      1e-14,
      1e-14,
    );
  });
  it("sparse preparation keeps the pattern and colouring", () => {
    const banded = (x: Tensor) =>
      ng.sum(
        ng.square(ng.sub(ng.slice(x, [{ start: 1 }]), ng.square(ng.slice(x, [{ stop: -1 }])))),
      );
    const x = f64(randomVec(20, 4));
    const p = di.prepareHessian(banded, sparse(so(fwd(), rev())), x);
    expect(p.coloring!.count).toBe(3);
    expect(p.pattern!.nnz).toBe(3 * 20 - 2);
    const x2 = f64(randomVec(20, 5));
    expectClose(flatOf(p.hessian(x2)), flatOf(di.hessian(banded, rev(), x2)), 1e-12, 1e-13);
    const pj = di.prepareJacobian((z: Tensor) => ng.exp(z), sparse(rev()), x);
    expect(pj.coloring).toMatchObject({ mode: "row", count: 1 });
  });
});

describe("preparation checks and fallbacks", () => {
  const p = di.prepareGradient(loss, rev(), pts[0]!, di.constant({ A }), di.constant(0.7));
  it("a mismatched shape, dtype, structure or constant raises, naming expected and actual", () => {
    expect(() => p.gradient(f64([1, 2]), di.constant({ A }), di.constant(0.7))).toThrow(
      /x: prepared for float64\[3\], got float64\[2\]/,
    );
    expect(() => p.gradient(ng.array([1, 2, 3]), di.constant({ A }), di.constant(0.7))).toThrow(
      /prepared for float64\[3\], got float32\[3\]/,
    );
    expect(() => p.gradient(pts[1]!, di.constant({ A: f64([[1]]) }), di.constant(0.7))).toThrow(
      /context 0\.A: prepared for float64\[3, 3\], got float64\[1, 1\]/,
    );
    expect(() => p.gradient(pts[1]!, di.constant({ B: A }), di.constant(0.7))).toThrow(
      /context 0 has a different tree structure/,
    );
    expect(() => p.gradient(pts[1]!, di.constant({ A }), di.constant(0.8))).toThrow(
      /non-tensor leaf changed since preparation \(0\.7 -> 0\.8\)/,
    );
    expect(() => p.gradient(pts[1]!, di.constant({ A }))).toThrow(/prepared with 2 context/);
  });
  it("f that reads values is re-run, with the reason", () => {
    const f = (x: Tensor) => (ng.sum(x).item() > 0 ? ng.sum(ng.square(x)) : ng.sum(x));
    const q = di.prepareGradient(f, rev(), f64([1, 2]));
    expect(q.staged).toBe(false);
    expect(q.reason).toMatch(/cannot be staged/);
    expectClose(q.gradient(f64([3, 4])), [6, 8]);
    expectClose(q.gradient(f64([-3, -4])), [1, 1]);
  });
  it("a cache context is never staged", () => {
    const f = (x: Tensor, s: { sq?: Tensor }) => {
      s.sq = ng.square(x);
      return ng.sum(ng.mul(s.sq, x));
    };
    const q = di.prepareGradient(f, rev(), f64([1, 2]), di.cache({}));
    expect(q.staged).toBe(false);
    expect(q.reason).toMatch(/cache/);
    const scratch: { sq?: Tensor } = {};
    expectClose(q.gradient(f64([1, -2]), di.cache(scratch)), [3, 12]);
    expect(scratch.sq).toBeDefined();
  });
  it("under an outer transform the prepared operator switches like the plain one", () => {
    ng.nested.resetStats();
    const x = pts[1]!;
    const outer = (s: Tensor) =>
      ng.sum(ng.square(p.gradient(x, di.constant({ A }), di.constant(0.7)))).mul(s);
    expectClose(
      ng.grad(outer)(f64(2)),
      ng.sum(ng.square(p.gradient(x, di.constant({ A }), di.constant(0.7)))),
    );
    const viaA = ng.grad((M: Tensor) =>
      ng.sum(p.gradient(x, di.constant({ A: M }), di.constant(0.7))),
    )(A);
    const ref = ng.grad((M: Tensor) => ng.sum(ng.grad((z: Tensor) => loss(z, { A: M }, 0.7))(x)))(
      A,
    );
    expectClose(viaA, ref, 1e-12, 1e-13);
    expect(
      Object.values(ng.nested.stats().staged).reduce((a, b) => a + b, 0),
    ).toBeGreaterThanOrEqual(1);
  });
});
