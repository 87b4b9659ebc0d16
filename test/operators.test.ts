// Per-sample operators: nn.batchedJacobian, laplacian,
// hessianDiagonal, divergence and hutchinsonTrace, in float64, against closed forms
// (f(x) = sin(x₀)·x₁², quadratic forms xᵀAx, linear fields Ax), against the dense
// Jacobian/Hessian of the whole batch for small MLPs (per-sample diagonal blocks), and
// their own derivatives (with respect to the inputs and to MLP parameters, in reverse and
// forward mode) against central finite differences. Bad input raises naming the argument.
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import {
  axpy,
  expectGradMatchesFD,
  expectNear,
  f64,
  fdDerivative,
  flatValues,
  randn,
  randomLike,
  setup64,
  treeDot,
} from "./nested-helpers.js";

/** Agreement of two exact computations (rounding only). */
const EXACT = 1e-12;
/** Agreement with finite differences. */
const FD_RTOL = 1e-6;

type Field = (x: Tensor) => Tensor;

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

/** The network as a function of x for parameters ps. */
function net(model: ng.nn.Layer, st: ng.nn.State) {
  return (ps: ng.nn.Params): Field =>
    (x) =>
      model.apply(x, ps, st)[0];
}

/** The per-sample blocks out[b] = dense[b, :, b, :] of a dense batch Jacobian [B, m, B, d]. */
function diagonalBlocks(dense: Tensor): number[] {
  const [b, m, , d] = dense.shape as [number, number, number, number];
  const v = dense.dataSync();
  const out: number[] = [];
  for (let i = 0; i < b; i++)
    for (let o = 0; o < m; o++)
      for (let c = 0; c < d; c++) out.push(Number(v[((i * m + o) * b + i) * d + c]));
  return out;
}

/** [B, d] values per sample: the diagonal of each per-sample block of [B, d, B, d]. */
function blockDiagonals(dense: Tensor): number[][] {
  const [b, d] = dense.shape as [number, number];
  const v = dense.dataSync();
  return Array.from({ length: b }, (_, i) =>
    Array.from({ length: d }, (_, c) => Number(v[((i * d + c) * b + i) * d + c])),
  );
}

/** Every ±1 vector of length d, broadcast over the batch: [2^d, B, d]. */
function allRademacher(b: number, d: number): Tensor {
  const rows: number[][][] = [];
  for (let s = 0; s < 2 ** d; s++) {
    const v = Array.from({ length: d }, (_, j) => ((s >> j) & 1 ? -1 : 1));
    rows.push(Array.from({ length: b }, () => v));
  }
  return f64(rows);
}

// ---------------------------------------------------------------------------------------
// Closed forms
// ---------------------------------------------------------------------------------------

describe("closed form: f(x) = sin(x₀)·x₁² per sample", () => {
  const x = f64([
    [0.3, 0.5],
    [1.1, -2.0],
    [-0.7, 0.9],
    [2.5, 0.1],
  ]);
  const f: Field = (z) => ng.mul(ng.sin(ng.slice(z, [null, 0])), ng.square(ng.slice(z, [null, 1])));
  // ∇f = [cos x₀ x₁², 2 sin x₀ x₁] as a vector field (its Jacobian is the Hessian of f).
  const gradField: Field = (z) => {
    const a = ng.slice(z, [null, 0]);
    const b = ng.slice(z, [null, 1]);
    return ng.stack([ng.mul(ng.cos(a), ng.square(b)), ng.mul(ng.mul(ng.sin(a), b), 2)], 1);
  };
  const rows = x.toArray() as number[][];
  const hess = rows.map(([a, b]) => [
    [-Math.sin(a!) * b! * b!, 2 * Math.cos(a!) * b!],
    [2 * Math.cos(a!) * b!, 2 * Math.sin(a!)],
  ]);

  it("laplacian = −sin x₀·x₁² + 2 sin x₀, hessianDiagonal = [−sin x₀·x₁², 2 sin x₀]", () => {
    expectNear(
      ng.laplacian(f)(x),
      rows.map(([a, b]) => -Math.sin(a!) * b! * b! + 2 * Math.sin(a!)),
      EXACT,
      "laplacian",
    );
    expectNear(
      ng.hessianDiagonal(f)(x),
      hess.map((h) => [h[0]![0]!, h[1]![1]!]).flat(),
      EXACT,
      "hessianDiagonal",
    );
    // [B, 1] outputs are accepted too, with the same [B] result.
    expectNear(
      ng.laplacian((z) => ng.reshape(f(z), [-1, 1]))(x),
      ng.laplacian(f)(x),
      EXACT,
      "laplacian of [B, 1]",
    );
    expect(ng.laplacian(f)(x).shape).toEqual([4]);
    expect(ng.hessianDiagonal(f)(x).shape).toEqual([4, 2]);
  });

  it("batchedJacobian of ∇f is the per-sample Hessian in every mode; divergence is the Laplacian", () => {
    for (const mode of ["auto", "forward", "reverse"] as const) {
      const J = ng.nn.batchedJacobian(gradField, x, { mode, check: true });
      expect(J.shape).toEqual([4, 2, 2]);
      expectNear(J, hess.flat(2), EXACT, `batchedJacobian ${mode}`);
    }
    expectNear(ng.divergence(gradField)(x), ng.laplacian(f)(x), EXACT, "divergence of ∇f");
  });
});

describe("closed form: quadratic form xᵀAx and linear field Ax", () => {
  const A = f64([
    [1.5, -0.4, 2.0],
    [0.3, -2.2, 0.7],
    [-1.1, 0.6, 0.9],
  ]);
  const Av = A.toArray() as number[][];
  const x = randn(1, [5, 3]);
  const quad: Field = (z) => ng.sum(ng.mul(ng.matmul(z, A), z), 1); // Σ_ij x_i A_ij x_j
  const lin: Field = (z) => ng.matmul(z, A.T); // (A x_b) per sample

  it("Hessian 2·sym(A): laplacian 2 tr A, hessianDiagonal 2 diag A", () => {
    const tr = Av[0]![0]! + Av[1]![1]! + Av[2]![2]!;
    expectNear(ng.laplacian(quad)(x), new Array(5).fill(2 * tr), EXACT, "laplacian");
    expectNear(
      ng.hessianDiagonal(quad)(x),
      new Array(5).fill([0, 1, 2].map((i) => 2 * Av[i]![i]!)).flat(),
      EXACT,
      "hessianDiagonal",
    );
    // Against the per-sample Jacobian of the gradient field: 2·sym(A) = A + Aᵀ.
    const g = (z: Tensor) => ng.grad((w: Tensor) => ng.sum(quad(w)))(z) as Tensor;
    const sym = Av.map((r, i) => r.map((a, j) => a + Av[j]![i]!));
    for (const mode of ["forward", "reverse"] as const) {
      expectNear(
        ng.nn.batchedJacobian(g, x, { mode }),
        new Array(5).fill(sym.flat()).flat(),
        EXACT,
        `Hessian by batchedJacobian ${mode}`,
      );
    }
  });

  it("linear field: batchedJacobian A, divergence tr A, Hutchinson exact with all 2^d probes", () => {
    const tr = Av[0]![0]! + Av[1]![1]! + Av[2]![2]!;
    for (const mode of ["auto", "forward", "reverse"] as const) {
      expectNear(
        ng.nn.batchedJacobian(lin, x, { mode }),
        new Array(5).fill(Av.flat()).flat(),
        EXACT,
        mode,
      );
    }
    expectNear(ng.divergence(lin)(x), new Array(5).fill(tr), EXACT, "divergence");
    const probes = allRademacher(5, 3);
    for (const mode of ["jvp", "vjp"] as const) {
      expectNear(ng.hutchinsonTrace(lin, x, probes, { mode }), new Array(5).fill(tr), EXACT, mode);
      // The basis vectors scaled by √d are exact probes too.
      const basis = ng.broadcastTo(
        ng.reshape(ng.eye(3, 3, { dtype: "float64" }).mul(Math.sqrt(3)), [3, 1, 3]),
        [3, 5, 3],
      );
      expectNear(
        ng.hutchinsonTrace(lin, x, basis, { mode }),
        new Array(5).fill(tr),
        EXACT,
        `${mode} basis`,
      );
    }
  });

  it("non-square linear maps: [B, 3] → [B, 2] and [B, 3] → [B, 4]", () => {
    for (const m of [2, 4]) {
      const M = randn(10 + m, [m, 3]);
      const f: Field = (z) => ng.matmul(z, M.T);
      const want = new Array(5).fill(flatValues(M)).flat();
      for (const mode of ["auto", "forward", "reverse"] as const) {
        const J = ng.nn.batchedJacobian(f, x, { mode, check: true });
        expect(J.shape).toEqual([5, m, 3]);
        expectNear(J, want, EXACT, `m=${m} ${mode}`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------
// Against the dense Jacobian / Hessian of the whole batch (small MLPs)
// ---------------------------------------------------------------------------------------

describe("against the dense Jacobian/Hessian of the batch (small MLPs)", () => {
  it("batchedJacobian = diagonal blocks of jacrev, for d < m, d = m and d > m, every mode", () => {
    for (const [d, m] of [
      [2, 4],
      [3, 3],
      [4, 2],
    ] as const) {
      const model = mlp([d, 6, m]);
      const [ps, st] = setup64(20 + d, model);
      const f = net(model, st)(ps);
      const x = randn(30 + d, [4, d]);
      const dense = ng.jacrev(f)(x) as Tensor;
      expect(dense.shape).toEqual([4, m, 4, d]);
      const want = diagonalBlocks(dense);
      for (const mode of ["auto", "forward", "reverse"] as const) {
        const J = ng.nn.batchedJacobian(f, x, { mode });
        expect(J.shape).toEqual([4, m, d]);
        expectNear(J, want, EXACT, `${d}→${m} ${mode}`);
      }
    }
  });

  it("laplacian and hessianDiagonal = diagonals of the per-sample blocks of the dense Hessian", () => {
    const model = mlp([3, 7, 7, 1]);
    const [ps, st] = setup64(40, model);
    const u = net(model, st)(ps);
    const x = randn(41, [5, 3]);
    const H = ng.hessian((z: Tensor) => ng.sum(u(z)))(x) as Tensor; // [5, 3, 5, 3]
    const diag = blockDiagonals(H);
    expectNear(ng.hessianDiagonal(u)(x), diag.flat(), EXACT, "hessianDiagonal");
    expectNear(
      ng.laplacian(u)(x),
      diag.map((r) => r.reduce((a, b) => a + b, 0)),
      EXACT,
      "laplacian",
    );
  });

  it("divergence and Hutchinson (all 2^d probes: exact; random probes: = dense ⟨v, Jv⟩)", () => {
    const model = mlp([3, 6, 3]);
    const [ps, st] = setup64(50, model);
    const f = net(model, st)(ps);
    const x = randn(51, [4, 3]);
    const blocks = diagonalBlocks(ng.jacrev(f)(x) as Tensor); // [4, 3, 3] flat
    const traces = [0, 1, 2, 3].map(
      (b) => blocks[b * 9]! + blocks[b * 9 + 4]! + blocks[b * 9 + 8]!,
    );
    expectNear(ng.divergence(f)(x), traces, EXACT, "divergence");
    for (const mode of ["jvp", "vjp"] as const) {
      expectNear(
        ng.hutchinsonTrace(f, x, allRademacher(4, 3), { mode }),
        traces,
        EXACT,
        `${mode} exact`,
      );
    }
    const v = randn(52, [6, 4, 3]);
    const vv = v.toArray() as number[][][];
    const want = [0, 1, 2, 3].map((b) => {
      let s = 0;
      for (const probe of vv) {
        const p = probe[b]!;
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 3; j++) s += p[i]! * blocks[b * 9 + i * 3 + j]! * p[j]!;
      }
      return s / vv.length;
    });
    const a = ng.hutchinsonTrace(f, x, v, { mode: "jvp" });
    const b = ng.hutchinsonTrace(f, x, v, { mode: "vjp" });
    expectNear(a, want, EXACT, "jvp estimate");
    expectNear(b, want, EXACT, "vjp estimate");
    expectNear(ng.hutchinsonTrace(f, x, v), a, 0, "default mode is jvp");
  });

  it("float32 inputs give float32 results close to float64", () => {
    const model = mlp([2, 5, 2]);
    const [ps, st] = setup64(60, model);
    const f = net(model, st)(ps);
    const x = randn(61, [3, 2]);
    const J64 = ng.nn.batchedJacobian(f, x);
    const ps32 = ng.tree.map((t: Tensor) => t.cast("float32"), ps);
    const J32 = ng.nn.batchedJacobian(net(model, st)(ps32), x.cast("float32"), { mode: "reverse" });
    expect(J32.dtype).toBe("float32");
    expectNear(J32, J64, 1e-5, "float32 vs float64");
  });
});

// ---------------------------------------------------------------------------------------
// Derivatives of the operators (reverse and forward mode) against finite differences
// ---------------------------------------------------------------------------------------

/** The operators as functions of (ps, x) for one MLP each, all reduced by a fixed weighting. */
function operatorCases(): {
  name: string;
  run: (ps: any, x: Tensor) => Tensor;
  ps: any;
  x: Tensor;
}[] {
  const scalarModel = mlp([2, 5, 1]);
  const [sps, sst] = setup64(70, scalarModel);
  const u = net(scalarModel, sst);
  const fieldModel = mlp([2, 5, 2]);
  const [fps, fst] = setup64(71, fieldModel);
  const v = net(fieldModel, fst);
  const wideModel = mlp([2, 4, 3]);
  const [wps, wst] = setup64(72, wideModel);
  const w = net(wideModel, wst);
  const x = randn(73, [3, 2]);
  const probes = randn(74, [2, 3, 2]);
  const weigh = (t: Tensor, seed: number) => ng.sum(ng.mul(t, randn(seed, [...t.shape])));
  return [
    { name: "laplacian", run: (ps, z) => weigh(ng.laplacian(u(ps))(z), 1), ps: sps, x },
    { name: "hessianDiagonal", run: (ps, z) => weigh(ng.hessianDiagonal(u(ps))(z), 2), ps: sps, x },
    { name: "divergence", run: (ps, z) => weigh(ng.divergence(v(ps))(z), 3), ps: fps, x },
    ...(["jvp", "vjp"] as const).map((mode) => ({
      name: `hutchinsonTrace ${mode}`,
      run: (ps: any, z: Tensor) => weigh(ng.hutchinsonTrace(v(ps), z, probes, { mode }), 4),
      ps: fps,
      x,
    })),
    ...(["forward", "reverse"] as const).map((mode) => ({
      name: `batchedJacobian ${mode}`,
      run: (ps: any, z: Tensor) => weigh(ng.nn.batchedJacobian(w(ps), z, { mode }), 5),
      ps: wps,
      x,
    })),
  ];
}

describe("derivatives of the operators vs central finite differences (float64)", () => {
  for (const c of operatorCases()) {
    it(`${c.name}: grad wrt x and wrt the MLP parameters (reverse mode)`, () => {
      const loss = ([ps, z]: [any, Tensor]) => c.run(ps, z);
      const g = ng.grad(loss)([c.ps, c.x]);
      expectGradMatchesFD(loss, [c.ps, c.x], g, c.name, { rtol: FD_RTOL });
      // (The output bias has a zero gradient: it does not change any derivative in x.)
      for (const v of flatValues(g)) expect(Number.isFinite(v)).toBe(true);
    });
    it(`${c.name}: jvp along a random direction of (ps, x) (forward mode)`, () => {
      const loss = ([ps, z]: [any, Tensor]) => c.run(ps, z);
      const p: [any, Tensor] = [c.ps, c.x];
      const dir = randomLike(p, 90);
      const [, t] = ng.jvp(loss, [p], [dir]);
      const fd = fdDerivative((s) => loss(axpy(p, s, dir)).item());
      expect(Math.abs((t as Tensor).item() - fd)).toBeLessThanOrEqual(FD_RTOL * Math.abs(fd));
      // The same number as the reverse-mode gradient dotted with the direction.
      const g = ng.grad(loss)(p);
      expect(Math.abs(treeDot(g, dir) - (t as Tensor).item())).toBeLessThanOrEqual(
        1e-10 * Math.abs(fd),
      );
    });
  }
});

describe("compositions with vmap and second order", () => {
  it("vmap over a stack of parameter sets = a loop over them", () => {
    const model = mlp([2, 4, 1]);
    const [ps0, st] = setup64(80, model);
    const [ps1] = setup64(81, model);
    const u = net(model, st);
    const x = randn(82, [3, 2]);
    const both = ng.tree.unflatten(
      ng.tree.flatten(ps0)[1],
      ng.tree
        .flatten<Tensor>(ps0)[0]
        .map((a, i) => ng.stack([a, ng.tree.flatten<Tensor>(ps1)[0][i]!])),
    );
    const batched = ng.vmap((ps: any) => ng.laplacian(u(ps))(x))(both) as Tensor;
    expect(batched.shape).toEqual([2, 3]);
    expectNear(
      batched,
      [...flatValues(ng.laplacian(u(ps0))(x)), ...flatValues(ng.laplacian(u(ps1))(x))],
      EXACT,
      "vmap over parameter sets",
    );
  });
});

// ---------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------

describe("bad input", () => {
  const x = randn(100, [4, 3]);
  const lin: Field = (z) => ng.matmul(z, randn(101, [3, 3]));

  it("x must be a float [B, d]", () => {
    expect(() => ng.nn.batchedJacobian(lin, randn(102, [3]))).toThrow(
      /batchedJacobian: x must have shape \[B, d\] \(batch first, rank 2\), got float64\[3\] \(rank 1\)/,
    );
    expect(() => ng.laplacian((z) => ng.sum(z, 1))(randn(103, [2, 3, 1]))).toThrow(
      /laplacian: x must have shape \[B, d\].*\[2, ?3, ?1\]/,
    );
    expect(() => ng.divergence(lin)(ng.array([[1, 2]], { dtype: "int32" }))).toThrow(
      /divergence: x must be float32 or float64, got dtype int32/,
    );
    expect(() => ng.hessianDiagonal((z) => ng.sum(z, 1))(undefined as any)).toThrow(
      /hessianDiagonal: x must be a Tensor of shape \[B, d\]/,
    );
  });

  it("f must map [B, d] to the documented output shape", () => {
    expect(() => ng.nn.batchedJacobian((z) => ng.sum(z, 1), x)).toThrow(
      /batchedJacobian: f must map x \[4, ?3\] sample-wise to \[B, m\] = \[4, \*\], got float64\[4\]/,
    );
    expect(() => ng.nn.batchedJacobian((z) => ng.sum(z, 0, true), x, { mode: "reverse" })).toThrow(
      /batchedJacobian: f must map x .* to \[B, m\] = \[4, \*\], got float64\[1, ?3\]/,
    );
    expect(() => ng.laplacian((z) => z)(x)).toThrow(
      /laplacian: f must map x \[4, ?3\] sample-wise to \[B\] or \[B, 1\] = \[4, 1\], got float64\[4, ?3\]/,
    );
    expect(() => ng.divergence((z) => ng.sum(z, 1, true))(x)).toThrow(
      /divergence: f must map x .* to \[B, d\] = \[4, 3\], got float64\[4, ?1\]/,
    );
    expect(() =>
      ng.hutchinsonTrace((z) => ng.sum(z, 1), x, randn(104, [2, 4, 3]), { mode: "vjp" }),
    ).toThrow(/hutchinsonTrace: f must map x .* to \[B, d\] = \[4, 3\], got float64\[4\]/);
    expect(() => ng.laplacian("nope" as any)).toThrow(
      /laplacian: f must be a function, got string/,
    );
  });

  it("options and probes are validated", () => {
    expect(() => ng.nn.batchedJacobian(lin, x, { mode: "sideways" as any })).toThrow(
      /batchedJacobian: options.mode must be "auto", "forward" or "reverse", got "sideways"/,
    );
    expect(() => ng.hutchinsonTrace(lin, x, randn(105, [2, 3, 3]))).toThrow(
      /hutchinsonTrace: v must have shape \[S, B, d\] = \[S ≥ 1, 4, 3\].*got \[2, ?3, ?3\]/,
    );
    expect(() => ng.hutchinsonTrace(lin, x, randn(106, [4, 3]))).toThrow(
      /hutchinsonTrace: v must have shape \[S, B, d\]/,
    );
    expect(() => ng.hutchinsonTrace(lin, x, randn(107, [2, 4, 3]).cast("float32"))).toThrow(
      /hutchinsonTrace: v has dtype float32 but x has float64/,
    );
    expect(() => ng.hutchinsonTrace(lin, x, randn(108, [2, 4, 3]), { mode: "fwd" as any })).toThrow(
      /hutchinsonTrace: options.mode must be "jvp" or "vjp", got "fwd"/,
    );
  });

  it("check: true raises on a function that mixes samples (subtracting the batch mean)", () => {
    const mixing: Field = (z) => ng.sub(lin(z), ng.mean(lin(z), 0, true));
    for (const mode of ["forward", "reverse"] as const) {
      expect(() => ng.nn.batchedJacobian(mixing, x, { mode, check: true })).toThrow(
        /batchedJacobian: f mixes samples: ∂f\[i\]\/∂x\[j\] ≠ 0 for i ≠ j \(e\.g\. i=0, j=1/,
      );
      // Without the check the (meaningless) diagonal blocks come back.
      expect(ng.nn.batchedJacobian(mixing, x, { mode }).shape).toEqual([4, 3, 3]);
    }
    // A sample-wise function passes the check.
    expect(ng.nn.batchedJacobian(lin, x, { check: true }).shape).toEqual([4, 3, 3]);
  });

  it("check: true inside vmap says it needs concrete values", () => {
    const xs = randn(109, [2, 4, 3]);
    // A nonlinear field, so that its Jacobian depends on the (batched) input.
    const curved: Field = (z) => ng.tanh(lin(z));
    expect(() =>
      ng.vmap((z: Tensor) => ng.nn.batchedJacobian(curved, z, { check: true }))(xs),
    ).toThrow(/batchedJacobian: check: true needs concrete values/);
  });
});
