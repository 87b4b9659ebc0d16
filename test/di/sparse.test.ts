// ng.di.autoSparse: the detected patterns are exact for the modelled primitives
// and conservative otherwise, sparse Jacobians and Hessians equal the dense ones, and they
// take one pass per colour — fewer than columns (asserted through ng.di.stats()).
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { expectClose, f64, flatOf, randomVec } from "./helpers.js";

const di = ng.di;
const { autoForward: fwd, autoReverse: rev, secondOrder: so, autoSparse: sparse } = di;

/** A chained Rosenbrock-like function: tridiagonal Hessian. */
function banded(x: Tensor): Tensor {
  const a = ng.slice(x, [{ start: 1 }]);
  const b = ng.slice(x, [{ stop: -1 }]);
  return ng.add(ng.sum(ng.square(ng.sub(a, ng.square(b)))), ng.mul(0.1, ng.sum(ng.pow(x, 4))));
}

/** A banded vector function: y_i = x_i·x_{i+1} + sin x_{i+2}. */
function stencil(x: Tensor): Tensor {
  const n = x.shape[0]!;
  const s = (k: number) => ng.slice(x, [{ start: k, stop: n - 2 + k }]);
  return ng.add(ng.mul(s(0), s(1)), ng.sin(s(2)));
}

/** The pattern as a dense boolean matrix. */
function denseMask(p: ng.di.Pattern): boolean[][] {
  const M = Array.from({ length: p.rows }, () => new Array<boolean>(p.cols).fill(false));
  for (let r = 0; r < p.rows; r++)
    for (let k = p.rowPtr[r]!; k < p.rowPtr[r + 1]!; k++) M[r]![p.colIdx[k]!] = true;
  return M;
}

/** The nonzero structure of a dense [m, n] Jacobian. */
function nonzeros(J: Tensor, m: number, n: number): boolean[][] {
  const v = flatOf(J);
  return Array.from({ length: m }, (_r, i) =>
    Array.from({ length: n }, (_c, j) => v[i * n + j] !== 0),
  );
}

describe("sparse Hessians", () => {
  const n = 24;
  const x = f64(randomVec(n, 11));
  for (const [name, dense] of [
    ["secondOrder(fwd, rev)", so(fwd(), rev())],
    ["secondOrder(rev, rev)", so(rev(), rev())],
    ["secondOrder(fwd, fwd)", so(fwd(), fwd())],
    ["secondOrder(rev, fwd)", so(rev(), fwd())],
  ] as const) {
    it(`tridiagonal Hessian by ${name}: equal to the dense one in 3 HVPs instead of ${n}`, () => {
      const Hd = di.hessian(banded, dense, x);
      di.resetStats();
      const Hs = di.hessian(banded, sparse(dense), x);
      expect(di.stats().hvp).toBe(3);
      expectClose(Hs, Hd, 1e-12, 1e-12, name);
      di.resetStats();
      di.hessian(banded, dense, x);
      expect(di.stats().hvp).toBe(n);
    });
  }
  it("the Hessian pattern is exactly tridiagonal", () => {
    const p = di.hessianSparsity(banded, x);
    expect(p.nnz).toBe(3 * n - 2);
    expect(di.coloring(p, "column").count).toBe(3);
    const M = denseMask(p);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) expect(M[i]![j]).toBe(Math.abs(i - j) <= 1);
  });
  it("valueGradientAndHessian with autoSparse matches the dense backend", () => {
    const [y, g, H] = di.valueGradientAndHessian(banded, sparse(rev()), x);
    const [y2, g2, H2] = di.valueGradientAndHessian(banded, rev(), x);
    expectClose(y, y2);
    expectClose(g, g2);
    expectClose(H, H2, 1e-12, 1e-12);
  });
});

describe("sparse Jacobians", () => {
  const n = 30;
  const x = f64(randomVec(n, 5));
  it("a banded stencil by compressed pushforwards (column colouring): 3 passes instead of 30", () => {
    const Jd = di.jacobian(stencil, fwd(), x);
    di.resetStats();
    const Js = di.jacobian(stencil, sparse(fwd()), x);
    expect(di.stats().pushforward).toBe(3);
    expectClose(Js, Jd, 1e-14, 1e-14);
  });
  it("a banded stencil by compressed pullbacks (row colouring): fewer passes than rows", () => {
    const Jd = di.jacobian(stencil, rev(), x);
    di.resetStats();
    const Js = di.jacobian(stencil, sparse(rev()), x);
    const p = di.jacobianSparsity(stencil, x);
    expect(di.stats().pullback).toBe(di.coloring(p, "row").count);
    expect(di.stats().pullback).toBeLessThan(n - 2);
    expectClose(Js, Jd, 1e-14, 1e-14);
  });
  it("an elementwise function needs one pass (diagonal Jacobian)", () => {
    di.resetStats();
    const J = di.jacobian((z: Tensor) => ng.tanh(z), sparse(fwd()), x);
    expect(di.stats().pushforward).toBe(1);
    expectClose(
      J,
      di.jacobian((z: Tensor) => ng.tanh(z), rev(), x),
    );
  });
  it("a pattern of the wrong shape is rejected", () => {
    const p = di.jacobianSparsity(stencil, x);
    expect(() =>
      di.jacobian(stencil, sparse(fwd(), { pattern: p }), f64(randomVec(n + 1, 1))),
    ).toThrow(/was detected for x = float64\[30\]/);
  });
});

describe("pattern detection through the modelled primitives", () => {
  // each case: a function whose Jacobian has structural zeros, checked against the
  // nonzeros of the dense Jacobian (random inputs: no accidental zeros)
  const C = f64(randomVec(12, 9));
  // exact: the pattern equals the nonzeros; structural (max/min): it contains them
  const cases: [string, (x: Tensor) => Tensor, number[], ("exact" | "structural")?][] = [
    [
      "reshape + transpose + sum over an axis",
      (x) => ng.sum(ng.transpose(ng.reshape(ng.sin(x), [3, 4])), 1),
      [12],
    ],
    [
      "broadcast + mul by a constant row",
      (x) => ng.mul(ng.reshape(x, [3, 1]), ng.reshape(C, [3, 4])),
      [3],
    ],
    [
      "flip + pad + slice",
      (x) => ng.slice(ng.pad(ng.flip(ng.exp(x), 0), [[2, 1]]), [{ start: 1, stop: 6 }]),
      [6],
    ],
    [
      "concatenate + max over an axis",
      (x) => ng.max(ng.reshape(ng.concatenate([x, ng.square(x)]), [4, 3]), 1),
      [6],
      "structural",
    ],
    ["take with constant indices", (x) => ng.take(ng.cos(x), [4, 0, 0, 2]), [5]],
    [
      "matmul with a block-diagonal operand",
      (x) => ng.matmul(ng.reshape(x, [2, 3]), ng.reshape(C, [3, 4])),
      [6],
    ],
    [
      "where + stopGradient + comparison",
      (x) => ng.where(ng.greater(x, 0), ng.mul(x, ng.stopGradient(x)), ng.sin(x)),
      [5],
    ],
    ["prod and min over all axes", (x) => ng.stack([ng.prod(x), ng.min(x)]), [4], "structural"],
  ];
  for (const [name, f, shape, kind = "exact"] of cases) {
    it(name, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = ng.reshape(f64(randomVec(n, 21).map((v) => v + 0.05)), shape);
      const p = di.jacobianSparsity(f, x);
      const J = di.jacobian(f, rev(), x);
      const M = denseMask(p);
      const NZ = nonzeros(J, p.rows, n);
      if (kind === "exact") expect(M).toEqual(NZ);
      else NZ.forEach((row, i) => row.forEach((nz, j) => nz && expect(M[i]![j]).toBe(true)));
      expectClose(di.jacobian(f, sparse(fwd()), x), J, 1e-14, 1e-14, name);
      expectClose(di.jacobian(f, sparse(rev()), x), J, 1e-14, 1e-14, name);
    });
  }
  it("an unmodelled primitive (conv) is dense: conservative and still exact", () => {
    const w = f64(randomVec(3, 4));
    const f = (x: Tensor) =>
      ng.reshape(ng.conv(ng.reshape(ng.sin(x), [1, 6, 1]), ng.reshape(w, [3, 1, 1])), [4]);
    const x = f64(randomVec(6, 3));
    const p = di.jacobianSparsity(f, x);
    expect(p.nnz).toBe(4 * 6);
    expectClose(di.jacobian(f, sparse(fwd()), x), di.jacobian(f, rev(), x), 1e-14, 1e-14);
  });
  it("inner derivatives are expanded before analysis", () => {
    // d/dz [cos(z)·z] is diagonal
    const inner = (z: Tensor) => ng.grad((w: Tensor) => ng.sum(ng.mul(ng.sin(w), z)))(z);
    const x = f64(randomVec(6, 3));
    expect(di.jacobianSparsity(inner, x).nnz).toBe(6);
    expectClose(di.jacobian(inner, sparse(fwd()), x), di.jacobian(inner, rev(), x), 1e-14, 1e-14);
  });
});
