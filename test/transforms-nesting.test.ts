// Nested differentiation: perturbation confusion in every mix of modes,
// higher-order derivatives, Hessians of pytree arguments, jacfwd vs jacrev, hvp, and the
// 1/‖x‖ composition h = g ∘ ∇f, each against closed forms or finite differences in plain JS.
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import {
  D,
  expectClose,
  f64,
  flat,
  modeMixes,
  rng,
  randomTensor,
  type Mode,
} from "./transforms-helpers.js";

const XS = [-1.7, -0.3, 0.5, 2.25];

describe("perturbation confusion", () => {
  // d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1. A confused implementation gives 2.
  for (const [outer, inner] of modeMixes(2) as [Mode, Mode][]) {
    it(`d/dx [x · d/dy (x + y)] = 1 (outer ${outer}, inner ${inner})`, () => {
      for (const x0 of XS) {
        const f = (x: Tensor) => ng.mul(x, D(inner, (y: Tensor) => ng.add(x, y))(f64(0.7)));
        expectClose(D(outer, f)(f64(x0)), 1, 0, 1e-14, `x=${x0}`);
      }
    });
  }

  // d/dx [x · (d/dy x·y)|_{y=y0}] = d/dx [x · x] = 2x; the inner closure captures the outer x.
  for (const [outer, inner] of modeMixes(2) as [Mode, Mode][]) {
    it(`d/dx [x · d/dy (x·y)] = 2x with a captured x (outer ${outer}, inner ${inner})`, () => {
      for (const x0 of XS) {
        const f = (x: Tensor) => ng.mul(x, D(inner, (y: Tensor) => ng.mul(x, y))(f64(-1.3)));
        expectClose(D(outer, f)(f64(x0)), 2 * x0, 1e-14, 1e-14, `x=${x0}`);
      }
    });
  }

  // Three levels sharing variables: d/dx [x · d/dy [y · d/dz (x·y·z)]] = d/dx [x · 2xy] = 4xy.
  for (const [a, b, c] of modeMixes(3) as [Mode, Mode, Mode][]) {
    it(`three levels with shared closures (${a}, ${b}, ${c})`, () => {
      const y0 = 0.9;
      for (const x0 of XS) {
        const f = (x: Tensor) =>
          ng.mul(
            x,
            D(b, (y: Tensor) => ng.mul(y, D(c, (z: Tensor) => ng.mul(ng.mul(x, y), z))(f64(1.1))))(
              f64(y0),
            ),
          );
        expectClose(D(a, f)(f64(x0)), 4 * x0 * y0, 1e-13, 1e-14, `x=${x0}`);
      }
    });
  }
});

describe("higher-order derivatives", () => {
  for (const modes of modeMixes(3)) {
    it(`d³/dx³ sin(x) = -cos(x) (${modes.join("∘")})`, () => {
      const d3 = modes.reduce(
        (g, m) => D(m, g),
        (x: Tensor) => ng.sin(x),
      );
      for (const x0 of XS) expectClose(d3(f64(x0)), -Math.cos(x0), 1e-13, 1e-14, `x=${x0}`);
    });
  }

  it("4th derivative of x⁵ − 3x⁴ + x is 120x − 72 in all 16 mode mixes", () => {
    const p = (x: Tensor) => ng.add(ng.sub(ng.pow(x, 5), ng.mul(3, ng.pow(x, 4))), x);
    for (const modes of modeMixes(4)) {
      const d4 = modes.reduce((g, m) => D(m, g), p);
      for (const x0 of [-1.5, 0.4, 1.0, 2.5]) {
        expectClose(d4(f64(x0)), 120 * x0 - 72, 1e-12, 1e-11, `${modes.join("∘")} x=${x0}`);
      }
    }
  });

  it("4th derivative of a vector polynomial via nested grad of sums", () => {
    // f(x) = Σ xᵢ⁵ − 3xᵢ⁴ + xᵢ; each level differentiates the sum of the previous gradient.
    const p = (x: Tensor) => ng.sum(ng.add(ng.sub(ng.pow(x, 5), ng.mul(3, ng.pow(x, 4))), x));
    let g: (x: Tensor) => Tensor = p;
    for (let k = 0; k < 3; k++) {
      const prev = g;
      g = (x: Tensor) => ng.sum(ng.grad(prev)(x));
    }
    const xs = [-1.5, 0.4, 2.5];
    expectClose(
      ng.grad(g)(f64(xs)),
      xs.map((x) => 120 * x - 72),
      1e-12,
      1e-11,
    );
  });
});

describe("hessian, jacobians and hvp", () => {
  // f({a, b}, [c], s) with argnums [0, 1]; s is a non-differentiated static scale.
  const f = (ab: { a: Tensor; b: Tensor }, cs: [Tensor], s: number) =>
    ng.add(
      ng.add(
        ng.mul(ng.sum(ng.sin(ab.a)), ng.sum(ng.pow(ab.b, 3))),
        ng.mul(s, ng.mul(ng.sum(ng.pow(cs[0], 3)), ng.sum(ng.exp(ng.mul(ab.a, 0.5))))),
      ),
      ng.mul(ng.sum(ab.b), ng.square(ng.sum(cs[0]))),
    );
  const next = rng(7);
  const a = randomTensor([2], next);
  const b = randomTensor([3], next);
  const c = randomTensor([2, 2], next);
  const grads = ng.grad(f, { argnums: [0, 1] });

  it("hessian of a function of two pytree arguments matches finite differences of the gradient", () => {
    const H = ng.hessian(f, { argnums: [0, 1] })({ a, b }, [c], 1.5);
    const leaves: [string, (t: any) => any, Tensor][] = [
      ["a", (t) => t[0].a, a],
      ["b", (t) => t[0].b, b],
      ["c", (t) => t[1][0], c],
    ];
    const setLeaf = (name: string, v: Tensor): [{ a: Tensor; b: Tensor }, [Tensor]] => {
      const ab = { a: name === "a" ? v : a, b: name === "b" ? v : b };
      return [ab, [name === "c" ? v : c]];
    };
    const eps = 1e-5;
    for (const [inName, , inVal] of leaves) {
      const base = flat(inVal);
      for (let j = 0; j < base.length; j++) {
        const plus = base.slice();
        const minus = base.slice();
        plus[j]! += eps;
        minus[j]! -= eps;
        const gp = grads(...setLeaf(inName, ng.reshape(f64(plus), inVal.shape)), 1.5);
        const gm = grads(...setLeaf(inName, ng.reshape(f64(minus), inVal.shape)), 1.5);
        for (const [outName, pick, outVal] of leaves) {
          const fd = flat(pick(gp)).map((p, i) => (p - flat(pick(gm))[i]!) / (2 * eps));
          // H[out][in] has shape [...out.shape, ...in.shape]; take column j.
          const block = pick(H)[inName === "c" ? 1 : 0];
          const blk = inName === "c" ? block[0] : block[inName];
          expect(blk.shape).toEqual([...outVal.shape, ...inVal.shape]);
          const col = flat(blk).filter((_v, k) => k % base.length === j);
          expectClose(col, fd, 1e-6, 1e-8, `H[${outName}][${inName}] column ${j}`);
        }
      }
    }
  });

  it("hessian is symmetric across pytree leaves", () => {
    const H = ng.hessian(f, { argnums: [0, 1] })({ a, b }, [c], 1.5);
    const Hac = flat(H[0].a[1][0]); // [2, 2, 2]: d²f/da dc
    const Hca = flat(H[1][0][0].a); // [2, 2, 2]: d²f/dc da
    // Hac[i, p, q] == Hca[p, q, i]
    for (let i = 0; i < 2; i++)
      for (let pq = 0; pq < 4; pq++) {
        expectClose(Hac[i * 4 + pq]!, Hca[pq * 2 + i]!, 1e-12, 1e-13);
      }
  });

  it("jacfwd equals jacrev on a vector function and matches the closed form", () => {
    // F(x) = [x0·x1·x2, sin(x0) + x2², exp(x1)·x0]
    const F = (x: Tensor) =>
      ng.stack([
        ng.prod(x),
        ng.add(ng.sin(ng.slice(x, [0])), ng.square(ng.slice(x, [2]))),
        ng.mul(ng.exp(ng.slice(x, [1])), ng.slice(x, [0])),
      ]);
    const xs = [0.3, -1.2, 0.8];
    const [x0, x1, x2] = xs as [number, number, number];
    const J = [
      [x1 * x2, x0 * x2, x0 * x1],
      [Math.cos(x0), 0, 2 * x2],
      [Math.exp(x1), x0 * Math.exp(x1), 0],
    ];
    const Jf = ng.jacfwd(F)(f64(xs));
    const Jr = ng.jacrev(F)(f64(xs));
    expect(Jf.shape).toEqual([3, 3]);
    expect(Jr.shape).toEqual([3, 3]);
    expectClose(Jf, J.flat(), 1e-14, 1e-15, "jacfwd");
    expectClose(Jr, J.flat(), 1e-14, 1e-15, "jacrev");
  });

  it("jacfwd equals jacrev for matrix inputs and outputs", () => {
    const W = randomTensor([3, 2], rng(3));
    const F = (x: Tensor) => ng.tanh(ng.matmul(x, W));
    const x = randomTensor([2, 3], rng(4));
    const Jf = ng.jacfwd(F)(x);
    const Jr = ng.jacrev(F)(x);
    expect(Jf.shape).toEqual([2, 2, 2, 3]);
    expectClose(Jf, Jr, 1e-13, 1e-15);
  });

  it("hvp equals hessian · v and the closed form", () => {
    // f(x) = Σ xᵢ³ + (Σ xᵢ)² ⇒ H = diag(6x) + 2·𝟙𝟙ᵀ
    const fx = (x: Tensor) => ng.add(ng.sum(ng.pow(x, 3)), ng.square(ng.sum(x)));
    const xs = [0.5, -1.0, 2.0, 0.25];
    const vs = [1.0, 0.5, -2.0, 3.0];
    const H = ng.hessian(fx)(f64(xs));
    const Hv = ng.matmul(H, f64(vs));
    const got = ng.hvp(fx, f64(xs), f64(vs));
    const sv = vs.reduce((s, v) => s + v, 0);
    const closed = xs.map((x, i) => 6 * x * vs[i]! + 2 * sv);
    expectClose(got, closed, 1e-13, 1e-14, "hvp");
    expectClose(Hv, closed, 1e-13, 1e-14, "H·v");
  });

  it("hvp on a pytree argument", () => {
    const fx = (p: { u: Tensor; w: Tensor }) => ng.sum(ng.mul(ng.square(p.u), ng.sin(p.w)));
    const u = f64([0.3, -0.7]);
    const w = f64([1.1, 0.4]);
    const du = f64([1, 2]);
    const dw = f64([-0.5, 0.25]);
    const out = ng.hvp(fx, { u, w }, { u: du, w: dw });
    // ∂²/∂u² = 2 sin w, ∂²/∂u∂w = 2u cos w, ∂²/∂w² = −u² sin w (all diagonal)
    const U = flat(u),
      W = flat(w),
      DU = flat(du),
      DW = flat(dw);
    expectClose(
      out.u,
      U.map((ui, i) => 2 * Math.sin(W[i]!) * DU[i]! + 2 * ui * Math.cos(W[i]!) * DW[i]!),
      1e-13,
      1e-15,
    );
    expectClose(
      out.w,
      U.map((ui, i) => 2 * ui * Math.cos(W[i]!) * DU[i]! - ui * ui * Math.sin(W[i]!) * DW[i]!),
      1e-13,
      1e-15,
    );
  });
});

describe("h(x) = g(∇f(x)) with f = 1/‖x‖, g(r) = (Σr)³", () => {
  const n = 5;
  const f = (x: Tensor) => ng.div(1, ng.sqrt(ng.sum(ng.square(x))));
  const g = (r: Tensor) => ng.pow(ng.sum(r), 3);
  const h = (x: Tensor) => g(ng.grad(f)(x));

  function closedForm(x: number[]): { gradF: number[]; gradH: number[] } {
    const r2 = x.reduce((s, v) => s + v * v, 0);
    const r = Math.sqrt(r2);
    const gradF = x.map((v) => -v / r ** 3);
    const s = gradF.reduce((p, v) => p + v, 0);
    const gg = x.map(() => 3 * s * s); // ∇g(∇f(x))
    // H_f = −I/‖x‖³ + 3 x xᵀ/‖x‖⁵
    const xg = x.reduce((p, v, i) => p + v * gg[i]!, 0);
    const gradH = x.map((v, i) => -gg[i]! / r ** 3 + (3 * v * xg) / r ** 5);
    return { gradF, gradH };
  }

  for (const seed of [1, 2, 3]) {
    it(`grad(h), jvp(grad f) and the closed form agree to 1e-10 (seed ${seed})`, () => {
      const next = rng(seed);
      const xs = Array.from({ length: n }, () => next(-2, 2));
      const x = f64(xs);
      const { gradF, gradH } = closedForm(xs);
      expectClose(ng.grad(f)(x), gradF, 1e-12, 0, "∇f");
      const viaGrad = ng.grad(h)(x);
      const dir = ng.grad(g)(ng.grad(f)(x));
      const [, viaJvp] = ng.jvp(ng.grad(f), [x], [dir]);
      expect(viaGrad.dtype).toBe("float64");
      expectClose(viaGrad, gradH, 1e-10, 0, "grad(h) vs closed form");
      expectClose(viaJvp, gradH, 1e-10, 0, "jvp(grad f) vs closed form");
      expectClose(viaGrad, viaJvp, 1e-10, 0, "grad(h) vs jvp(grad f)");
      // The same through hvp and through a forward-mode gradient of g.
      expectClose(ng.hvp(f, x, dir), gradH, 1e-10, 0, "hvp");
    });
  }
});
