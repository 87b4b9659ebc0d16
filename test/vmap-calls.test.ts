// vmap of the convolution and pooling family, of functions with custom derivative rules and
// of the nested-switching call primitives (gradCall, hvpCall, dirDerivCall), each against a
// loop over the batch (float64), against the same computation with nested switching off,
// and against central finite differences.
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import type { BatchDim } from "../src/core/batching.js";
import { evalIR } from "../src/core/ir.js";
import { bind, bind1 } from "../src/core/trace.js";
import { CONV_TEST_CASES, POOL_TEST_CASES } from "../src/primitives/conv_common.js";
import { convP } from "../src/primitives/conv.js";
import { convBackInputP } from "../src/primitives/conv_back_input.js";
import { convBackKernelP } from "../src/primitives/conv_back_kernel.js";
import { maxPoolP } from "../src/primitives/max_pool.js";
import { maxPoolSelectP } from "../src/primitives/max_pool_select.js";
import { maxPoolScatterP } from "../src/primitives/max_pool_scatter.js";
import { dirDerivCallP, gradCallP, hvpCallP } from "../src/nested/calls.js";
import { stageClosed } from "../src/nested/stage.js";
import { expectNear } from "./nested-helpers.js";

const F64 = { dtype: "float64" } as const;
const V = 3;

function randn(seed: number, shape: readonly number[], scale = 1): Tensor {
  return ng.random.normal(ng.random.key(seed), shape as number[], F64).mul(scale);
}

/** One random per-example value per batch element, for an operand of shape `shape`. */
function examples(seed: number, shape: readonly number[], n = V): Tensor[] {
  return Array.from({ length: n }, (_v, b) => randn(seed * 31 + b, shape));
}

/** The per-example results of `f` over `n` examples, stacked along axis 0. */
function loop(n: number, f: (b: number) => Tensor): Tensor {
  return ng.stack(Array.from({ length: n }, (_v, b) => f(b)));
}

/** Central finite differences of a scalar function of one tensor (float64). */
function fdGrad(f: (x: Tensor) => Tensor, x: Tensor, h = 1e-5): number[] {
  const base = Array.from(x.dataSync(), Number);
  return base.map((_v, i) => {
    const plus = base.slice();
    const minus = base.slice();
    plus[i]! += h;
    minus[i]! -= h;
    const fp = f(ng.reshape(ng.array(plus, F64), x.shape)).item();
    const fm = f(ng.reshape(ng.array(minus, F64), x.shape)).item();
    return (fp - fm) / (2 * h);
  });
}

/** Every way of batching a two-operand primitive: unbatched, at 0, at 1 or at the last axis. */
const DIM_CASES: [BatchDim, BatchDim][] = [
  [0, null],
  [null, 0],
  [0, 0],
  [1, -1],
  [null, -1],
  [-1, null],
];

/**
 * Checks a two-operand function under vmap against a loop: operands of per-example shapes
 * `shapes` batched along the axes of DIM_CASES (null: shared), the output at axis 0.
 */
function checkTwoOperand(
  what: string,
  prim: (a: Tensor, b: Tensor) => Tensor,
  shapes: [number[], number[]],
  seed: number,
): void {
  DIM_CASES.forEach(([da, db], k) => {
    const as = examples(seed + k, shapes[0]);
    const bs = examples(seed + 100 + k, shapes[1]);
    const ax = (d: BatchDim, r: number) => (d === null ? 0 : d < 0 ? d + r + 1 : d);
    const aIn = da === null ? as[0]! : ng.stack(as, ax(da, shapes[0].length));
    const bIn = db === null ? bs[0]! : ng.stack(bs, ax(db, shapes[1].length));
    const got = ng.vmap(prim, [da, db])(aIn, bIn);
    const want = loop(V, (i) => prim(da === null ? as[0]! : as[i]!, db === null ? bs[0]! : bs[i]!));
    expect(got.shape, `${what} dims ${da},${db}`).toEqual(want.shape);
    expectNear(got, want, 1e-12, `${what} dims ${da},${db}`);
  });
}

describe("vmap of the convolution family against a loop over the batch", () => {
  CONV_TEST_CASES.forEach((c, ci) => {
    const bip = { ...c.params, inputShape: c.x.slice(1, -1) };
    const bkp = { ...c.params, kernelShape: c.w.slice(0, -2) };
    it(`conv, convBackInput, convBackKernel (case ${ci}, groups ${c.params.groups})`, () => {
      checkTwoOperand("conv", (x, w) => bind1(convP, [x, w], c.params), [c.x, c.w], 10 + ci);
      checkTwoOperand(
        "convBackInput",
        (y, w) => bind1(convBackInputP, [y, w], bip),
        [c.y, c.w],
        20 + ci,
      );
      checkTwoOperand(
        "convBackKernel",
        (x, y) => bind1(convBackKernelP, [x, y], bkp),
        [c.x, c.y],
        30 + ci,
      );
    });
  });

  it("user-level conv and convTranspose with options, and per-example kernels", () => {
    const xs = examples(41, [2, 6, 5, 4]);
    const ws = examples(42, [3, 2, 2, 6]);
    const opts = { stride: [2, 1], padding: "same" as const, groups: 2 };
    const f = (x: Tensor, w: Tensor) => ng.tanh(ng.conv(x, w, opts));
    expectNear(
      ng.vmap(f)(ng.stack(xs), ng.stack(ws)),
      loop(V, (b) => f(xs[b]!, ws[b]!)),
      1e-12,
      "conv both batched",
    );
    const g = (y: Tensor, w: Tensor) => ng.convTranspose(y, w, { stride: 2, groups: 2 });
    const ys = examples(43, [2, 3, 3, 6]);
    const tw = examples(44, [2, 2, 2, 6]);
    expectNear(
      ng.vmap(g, [1, null])(ng.stack(ys, 1), tw[0]!),
      loop(V, (b) => g(ys[b]!, tw[0]!)),
      1e-12,
      "convTranspose x batched",
    );
    expectNear(
      ng.vmap(g, [null, 0])(ys[0]!, ng.stack(tw)),
      loop(V, (b) => g(ys[0]!, tw[b]!)),
      1e-12,
      "convTranspose w batched",
    );
  });

  it("vmap of grad (plain nesting and switched), grad of vmap, jvp of vmap", () => {
    const xs = examples(51, [1, 5, 4, 2]);
    const w = randn(52, [2, 2, 2, 3]);
    const loss = (wt: Tensor, x: Tensor) =>
      ng.sum(ng.square(ng.tanh(ng.conv(x, wt, { padding: 1 }))));
    const perExample = loop(V, (b) => ng.grad(loss)(w, xs[b]!));
    const X = ng.stack(xs);
    for (const nestedSwitching of [true, false]) {
      const got = ng.config.withConfig({ nestedSwitching }, () =>
        ng.vmap((x: Tensor) => ng.grad(loss)(w, x))(X),
      );
      expectNear(
        got,
        perExample,
        1e-11,
        `per-example kernel gradients (switching ${nestedSwitching})`,
      );
      const gx = ng.config.withConfig({ nestedSwitching }, () =>
        ng.vmap((x: Tensor) => ng.grad((xx: Tensor) => loss(w, xx))(x))(X),
      );
      expectNear(
        gx,
        loop(V, (b) => ng.grad((xx: Tensor) => loss(w, xx))(xs[b]!)),
        1e-11,
        `per-example input gradients (switching ${nestedSwitching})`,
      );
    }
    const total = (wt: Tensor) => ng.sum(ng.vmap((x: Tensor) => loss(wt, x))(X));
    const gw = ng.grad(total)(w);
    expectNear(gw, ng.sum(perExample, 0), 1e-11, "grad of vmap");
    expectNear(gw, fdGrad(total, w), 1e-6, "grad of vmap vs finite differences");
    const t = randn(53, w.shape);
    const [, dt] = ng.jvp(total, [w], [t]);
    expectNear(dt, [ng.sum(ng.mul(gw, t)).item()], 1e-11, "jvp of vmap");
  });
});

describe("vmap of pooling against a loop over the batch", () => {
  POOL_TEST_CASES.forEach((c, ci) => {
    it(`maxPool, maxPoolSelect, maxPoolScatter (case ${ci})`, () => {
      const p = c.params;
      const xs = examples(60 + ci, c.x);
      for (const axis of [0, 1, c.x.length]) {
        expectNear(
          ng.vmap((x: Tensor) => bind1(maxPoolP, [x], p), axis)(ng.stack(xs, axis)),
          loop(V, (b) => bind1(maxPoolP, [xs[b]!], p)),
          1e-14,
          `maxPool axis ${axis}`,
        );
      }
      const sel = (t: Tensor, x: Tensor) => bind1(maxPoolSelectP, [t, x], p);
      const sca = (ct: Tensor, x: Tensor) => bind1(maxPoolScatterP, [ct, x], p);
      checkTwoOperand("maxPoolSelect", sel, [c.x, c.x], 70 + ci);
      checkTwoOperand("maxPoolScatter", sca, [c.y, c.x], 80 + ci);
    });
  });

  it("maxPool and meanPool inside vmap, with derivatives in every order", () => {
    const xs = examples(91, [2, 5, 4, 3]);
    const X = ng.stack(xs);
    const padding: [number, number][] = [
      [1, 1],
      [0, 0],
    ];
    const opts = { window: [3, 2], stride: [2, 2], padding };
    const f = (x: Tensor) =>
      ng.add(ng.sum(ng.square(ng.maxPool(x, opts))), ng.sum(ng.sin(ng.meanPool(x, opts))));
    expectNear(
      ng.vmap(f)(X),
      loop(V, (b) => f(xs[b]!)),
      1e-12,
      "values",
    );
    const want = loop(V, (b) => ng.grad(f)(xs[b]!));
    for (const nestedSwitching of [true, false]) {
      const got = ng.config.withConfig({ nestedSwitching }, () => ng.vmap(ng.grad(f))(X));
      expectNear(got, want, 1e-12, `vmap of grad (switching ${nestedSwitching})`);
    }
    expectNear(ng.grad((x: Tensor) => ng.sum(ng.vmap(f)(x)))(X), want, 1e-12, "grad of vmap");
    const ts = examples(92, xs[0]!.shape);
    const [, dt] = ng.jvp(ng.vmap(f), [X], [ng.stack(ts)]);
    expectNear(
      dt,
      loop(V, (b) => ng.sum(ng.mul(ng.grad(f)(xs[b]!), ts[b]!))),
      1e-12,
      "jvp of vmap",
    );
  });
});

describe("vmap of functions with custom rules keeps the rules", () => {
  const XS = [-1.3, 0.4, 2.1];
  const X = ng.array(XS, F64);
  // sin with a deliberately scaled rule: a factor 2 reveals that the rule (not f) was used
  const sin2 = ng.customJvp(
    (x: Tensor) => ng.sin(x),
    ([x]: Tensor[], [t]: Tensor[]) => [ng.sin(x), ng.mul(t, ng.mul(2, ng.cos(x)))],
  );
  // a·sin(x) with the rule scaled by 2 in x and 3 in a
  const asin = ng.customJvp(
    (x: Tensor, a: Tensor) => ng.mul(a, ng.sin(x)),
    ([x, a]: Tensor[], [tx, ta]: Tensor[]) => [
      ng.mul(a, ng.sin(x)),
      ng.add(ng.mul(tx, ng.mul(2, ng.mul(a, ng.cos(x)))), ng.mul(ta, ng.mul(3, ng.sin(x)))),
    ],
  );
  // x·w with a backward rule scaled by 3 (for x) and 5 (for w)
  const xw = ng.customVjp(
    (x: Tensor, w: Tensor) => ng.mul(x, w),
    (x: Tensor, w: Tensor) => [ng.mul(x, w), [x, w]],
    ([x, w]: Tensor[], ct: Tensor) => [ng.mul(3, ng.mul(ct, w)), ng.mul(5, ng.mul(ct, x))],
  );

  it("customJvp: values, vmap of grad, grad of vmap, jvp of vmap, vmap of jvp", () => {
    expectNear(ng.vmap(sin2)(X), XS.map(Math.sin), 1e-15, "values");
    const twoCos = XS.map((v) => 2 * Math.cos(v));
    for (const nestedSwitching of [true, false]) {
      const g = ng.config.withConfig({ nestedSwitching }, () => ng.vmap(ng.grad(sin2))(X));
      expectNear(g, twoCos, 1e-14, `vmap of grad (switching ${nestedSwitching})`);
    }
    expectNear(ng.grad((x: Tensor) => ng.sum(ng.vmap(sin2)(x)))(X), twoCos, 1e-14, "grad of vmap");
    const T = ng.array([1, -2, 0.5], F64);
    expectNear(
      ng.jvp(ng.vmap(sin2), [X], [T])[1],
      twoCos.map((v, i) => v * [1, -2, 0.5][i]!),
      1e-14,
      "jvp of vmap",
    );
    const vj = ng.vmap((x: Tensor, t: Tensor) => ng.jvp(sin2, [x], [t])[1])(X, T);
    expectNear(
      vj,
      twoCos.map((v, i) => v * [1, -2, 0.5][i]!),
      1e-14,
      "vmap of jvp",
    );
  });

  it("customJvp with an unbatched argument: its gradient sums the rule over the batch", () => {
    const a = ng.array(1.7, F64);
    expectNear(
      ng.vmap(asin, [0, null])(X, a),
      XS.map((v) => 1.7 * Math.sin(v)),
      1e-15,
      "values",
    );
    const total = (x: Tensor, s: Tensor) => ng.sum(ng.vmap(asin, [0, null])(x, s));
    const [gx, ga] = ng.grad(total, { argnums: [0, 1] })(X, a) as Tensor[];
    expectNear(
      gx!,
      XS.map((v) => 2 * 1.7 * Math.cos(v)),
      1e-14,
      "d/dx",
    );
    expectNear(ga!, [3 * XS.reduce((s, v) => s + Math.sin(v), 0)], 1e-14, "d/da");
    const perExample = ng.vmap((x: Tensor) => ng.grad((s: Tensor) => asin(x, s))(a))(X);
    expectNear(
      perExample,
      XS.map((v) => 3 * Math.sin(v)),
      1e-14,
      "per-example d/da",
    );
  });

  it("customVjp: the backward rule under vmap, forward mode through it, unbatched w", () => {
    const w = ng.array([0.5, -1.5], F64);
    const xs = examples(101, [2]);
    const Xb = ng.stack(xs);
    expectNear(
      ng.vmap(xw, [0, null])(Xb, w),
      loop(V, (b) => ng.mul(xs[b]!, w)),
      1e-15,
      "values",
    );
    const total = (x: Tensor, s: Tensor) => ng.sum(ng.vmap(xw, [0, null])(x, s));
    const [gx, gw] = ng.grad(total, { argnums: [0, 1] })(Xb, w) as Tensor[];
    expectNear(
      gx!,
      loop(V, () => ng.mul(3, w)),
      1e-14,
      "d/dx = 3w",
    );
    expectNear(gw!, ng.mul(5, ng.sum(Xb, 0)), 1e-14, "d/dw = 5 Σ x");
    for (const nestedSwitching of [true, false]) {
      const pg = ng.config.withConfig({ nestedSwitching }, () =>
        ng.vmap((x: Tensor) => ng.grad((s: Tensor) => ng.sum(xw(x, s)))(w))(Xb),
      );
      expectNear(pg, ng.mul(5, Xb), 1e-14, `per-example d/dw (switching ${nestedSwitching})`);
    }
    // forward mode is the transpose of bwd: d(xw) = 3w·dx + 5x·dw
    const Tx = ng.stack(examples(102, [2]));
    const tw = ng.array([2, 1], F64);
    const want = ng.add(ng.mul(3, ng.mul(w, Tx)), ng.mul(5, ng.mul(Xb, tw)));
    expectNear(ng.jvp(ng.vmap(xw, [0, null]), [Xb, w], [Tx, tw])[1], want, 1e-14, "jvp of vmap");
    const vj = ng.vmap((x: Tensor, t: Tensor) => ng.jvp(xw, [x, w], [t, tw])[1])(Xb, Tx);
    expectNear(vj, want, 1e-14, "vmap of jvp");
  });
});

// ---- nested calls: an MLP u(ps, x) with x ∈ R², and a vector-valued field v(ps, x) ----

interface Params {
  W1: Tensor;
  b1: Tensor;
  W2: Tensor;
}

function params(seed: number, out = 1): Params {
  return {
    W1: randn(seed, [5, 2], 0.8),
    b1: randn(seed + 1, [5], 0.3),
    W2: randn(seed + 2, [out, 5], 0.8),
  };
}

/** v(ps, x) = W2 tanh(W1 x + b1) + x₀² x₁: a field R² → R^out. */
function field(ps: Params, x: Tensor): Tensor {
  const h = ng.tanh(ng.add(ng.matmul(ps.W1, x), ps.b1));
  const cubic = ng.mul(
    ng.square(ng.sum(ng.mul(x, ng.array([1, 0], F64)))),
    ng.sum(ng.mul(x, ng.array([0, 1], F64))),
  );
  return ng.add(ng.matmul(ps.W2, h), cubic);
}

/** u(ps, x): the scalar MLP. */
function u(ps: Params, x: Tensor): Tensor {
  return ng.sum(field(ps, x));
}

const STRATEGIES = ["auto", "forwardOverReverse", "nest", "innerForward"] as const;

/** How many inner derivatives were staged as call primitives since the last reset. */
function stagedCount(): number {
  return Object.values(ng.nested.stats().staged).reduce((a, b) => a + b, 0);
}

/** The flat parameter vector and its inverse, for finite differences over all parameters. */
function flatParams(ps: Params): [Tensor, (v: Tensor) => Params] {
  const v = ng.concat([ng.reshape(ps.W1, [-1]), ps.b1, ng.reshape(ps.W2, [-1])]);
  const n1 = ps.W1.size;
  const n2 = n1 + ps.b1.size;
  const unflat = (t: Tensor): Params => ({
    W1: ng.reshape(ng.slice(t, [{ start: 0, stop: n1 }]), ps.W1.shape),
    b1: ng.slice(t, [{ start: n1, stop: n2 }]),
    W2: ng.reshape(ng.slice(t, [{ start: n2, stop: t.size }]), ps.W2.shape),
  });
  return [v, unflat];
}

/**
 * The parameter gradient of `loss` under every strategy and with switching off, checked
 * against each other and against finite differences; asserts a nested call was staged.
 */
function checkOuterGrad(what: string, loss: (ps: Params) => Tensor, ps: Params): void {
  const off = ng.config.withConfig({ nestedSwitching: false }, () => ng.grad(loss)(ps));
  const [v, unflat] = flatParams(ps);
  expectNear(
    off,
    fdGrad((t) => loss(unflat(t)), v),
    1e-6,
    `${what}: switching off vs finite differences`,
  );
  for (const nestedStrategy of STRATEGIES) {
    ng.nested.resetStats();
    const got = ng.config.withConfig({ nestedStrategy }, () => ng.grad(loss)(ps));
    expect(stagedCount(), `${what} (${nestedStrategy}): a nested call was staged`).toBeGreaterThan(
      0,
    );
    expectNear(got, off, 1e-10, `${what} (${nestedStrategy}) vs switching off`);
  }
}

describe("vmap of nested calls inside an outer transform", () => {
  const ps = params(200);
  const xs = examples(201, [2], 4);
  const X = ng.stack(xs);

  it("grad: per-example input gradients inside an outer grad", () => {
    const loss = (p: Params) =>
      ng.sum(ng.square(ng.vmap((x: Tensor) => ng.grad((t: Tensor) => u(p, t))(x))(X)));
    const inner = ng.vmap((x: Tensor) => ng.grad((t: Tensor) => u(ps, t))(x))(X);
    expectNear(
      inner,
      loop(4, (b) => ng.grad((t: Tensor) => u(ps, t))(xs[b]!)),
      1e-13,
      "inner values",
    );
    checkOuterGrad("vmap(grad)", loss, ps);
    // and an outer forward-mode derivative of the same loss
    const [v, unflat] = flatParams(ps);
    const dir = randn(202, [v.size]);
    const [, dl] = ng.jvp((t: Tensor) => loss(unflat(t)), [v], [dir]);
    const g = ng.grad((t: Tensor) => loss(unflat(t)))(v);
    expectNear(dl, [ng.sum(ng.mul(g, dir)).item()], 1e-11, "outer jvp vs outer grad");
  });

  it("valueAndGrad with aux: per-example values, aux and gradients", () => {
    const loss = (p: Params) => {
      const [vals, grads] = ng.vmap((x: Tensor) =>
        ng.valueAndGrad((t: Tensor) => [u(p, t), ng.sin(t)] as const, { hasAux: true })(x),
      )(X) as [[Tensor, Tensor], Tensor];
      return ng.add(
        ng.sum(ng.mul(vals[0], vals[0])),
        ng.add(ng.sum(ng.mul(vals[1], grads)), ng.sum(ng.exp(grads))),
      );
    };
    const [[val, aux], gr] = ng.vmap((x: Tensor) =>
      ng.valueAndGrad((t: Tensor) => [u(ps, t), ng.sin(t)] as const, { hasAux: true })(x),
    )(X) as [[Tensor, Tensor], Tensor];
    expectNear(
      val,
      loop(4, (b) => u(ps, xs[b]!)),
      1e-13,
      "values",
    );
    expectNear(aux, ng.sin(X), 1e-15, "aux");
    expectNear(
      gr,
      loop(4, (b) => ng.grad((t: Tensor) => u(ps, t))(xs[b]!)),
      1e-13,
      "gradients",
    );
    checkOuterGrad("vmap(valueAndGrad)", loss, ps);
  });

  it("hvp: per-example Hessian-vector products inside an outer grad", () => {
    const vs = ng.stack(examples(203, [2], 4));
    const hv = (p: Params) =>
      ng.vmap((x: Tensor, d: Tensor) => ng.hvp((t: Tensor) => u(p, t), x, d))(X, vs);
    const want = loop(4, (b) =>
      ng.matmul(
        ng.hessian((t: Tensor) => u(ps, t))(xs[b]!),
        ng.reshape(ng.slice(vs, [{ start: b, stop: b + 1 }]), [2]),
      ),
    );
    expectNear(hv(ps), want, 1e-12, "values vs the dense Hessian");
    checkOuterGrad("vmap(hvp)", (p) => ng.sum(ng.square(hv(p))), ps);
  });

  it("jacrev: per-example Jacobians of a vector field inside an outer grad", () => {
    // R² → R²: as many outputs as inputs, so jacrev stays in reverse mode (a staged pullback)
    const pv = params(210, 2);
    const jac = (p: Params) => ng.vmap((x: Tensor) => ng.jacrev((t: Tensor) => field(p, t))(x))(X);
    const want = loop(4, (b) => ng.jacfwd((t: Tensor) => field(pv, t))(xs[b]!));
    expectNear(jac(pv), want, 1e-12, "values vs jacfwd");
    checkOuterGrad("vmap(jacrev)", (p) => ng.sum(ng.square(jac(p))), pv);
  });

  it("per-example parameter gradients of a gradient penalty (hvpCall and dirDerivCall batched)", () => {
    // loss_b(ps) = u(ps, x_b)² + |∇ₓu(ps, x_b)|²: its parameter gradient needs the inner
    // gradient's value tangent (dirDerivCall) and gradient tangent (hvpCall), both bound
    // under the vmap when forward-over-reverse is forced.
    const penalty = (p: Params, x: Tensor) => {
      const [v, g] = ng.valueAndGrad((t: Tensor) => u(p, t))(x) as [Tensor, Tensor];
      return ng.add(ng.square(v), ng.sum(ng.square(g)));
    };
    const want = ng.config.withConfig({ nestedSwitching: false }, () =>
      xs.map((x) => ng.grad((p: Params) => penalty(p, x))(ps) as Params),
    );
    const [v, unflat] = flatParams(ps);
    expectNear(
      want[1]!,
      fdGrad((t) => penalty(unflat(t), xs[1]!), v),
      1e-6,
      "loop vs finite differences",
    );
    for (const nestedStrategy of STRATEGIES) {
      ng.nested.resetStats();
      const got = ng.config.withConfig({ nestedStrategy }, () =>
        ng.vmap((x: Tensor) => ng.grad((p: Params) => penalty(p, x))(ps))(X),
      ) as Params;
      expect(stagedCount()).toBeGreaterThan(0);
      for (const k of ["W1", "b1", "W2"] as const) {
        expectNear(got[k], ng.stack(want.map((w) => w[k])), 1e-10, `${k} (${nestedStrategy})`);
      }
    }
    // and the outer gradient of the batch loss through the same vmap
    checkOuterGrad(
      "grad of a vmapped penalty",
      (p) => ng.sum(ng.vmap((x: Tensor) => penalty(p, x))(X)),
      ps,
    );
  });

  it("per-example gradients via vmap(grad) under makeIR stage one batched gradCall", () => {
    const perExample = (p: Params, Xs: Tensor) =>
      ng.vmap((x: Tensor) => ng.grad((q: Params) => ng.square(u(q, x)))(p))(Xs);
    const ir = ng.makeIR(perExample)(ps, X);
    const text = ir.toString();
    expect(text).toContain("gradCall");
    const flatIn = [ps.W1, ps.b1, ps.W2, X];
    const outs = evalIR(ir, flatIn);
    const want = xs.map((x) => ng.grad((q: Params) => ng.square(u(q, x)))(ps) as Params);
    const keys = ["W1", "W2", "b1"] as const; // outputs follow the sorted keys of the tree
    const got = ng.tree.unflatten<Params>(ng.tree.flatten(ps)[1], outs);
    for (const k of keys) expectNear(got[k], ng.stack(want.map((w) => w[k])), 1e-12, `makeIR ${k}`);
    expect(flatIn.length).toBe(4);
  });
});

describe("dirDerivCall with a vector-valued output (the batched directional derivative)", () => {
  it("J·t, its transpose Jᵀct, and its derivative in x", () => {
    const pv = params(300, 3);
    const x = randn(301, [2]);
    const t = randn(302, [2]);
    const f = (z: Tensor) => field(pv, z);
    const r = stageClosed((zs) => [f(zs[0]!)], [x], "test");
    if (!r.ok) throw new Error(r.detail);
    const ir = r.staged.ir;
    const jt = (z: Tensor, d: Tensor) => bind(dirDerivCallP, [z, d], { ir, cols: [0] })[0]!;
    const J = ng.jacfwd(f)(x);
    expectNear(jt(x, t), ng.matmul(J, t), 1e-13, "J·t");
    const ct = randn(303, [3]);
    const [, pb] = ng.vjp((d: Tensor) => jt(x, d), t);
    expectNear(pb(ct)[0], ng.matmul(ng.transpose(J), ct), 1e-13, "Jᵀct by the transpose rule");
    const s = (z: Tensor) => ng.sum(ng.mul(ct, jt(z, t)));
    expectNear(ng.grad(s)(x), fdGrad(s, x), 1e-7, "d/dx ⟨ct, J(x)·t⟩ vs finite differences");
    const vjpTwice = (z: Tensor) => ng.sum(ng.square(ng.vjp((d: Tensor) => jt(z, d), t)[1](ct)[0]));
    expectNear(
      ng.grad(vjpTwice)(x),
      fdGrad(vjpTwice, x),
      1e-7,
      "d/dx |Jᵀct|² vs finite differences",
    );
  });
});

describe("batch rules of the call primitives, bound directly, against a loop", () => {
  // f(x, c) = Σ tanh(c x) + (x₀ x₁)² with x ∈ R², c ∈ R^{3×2}: a scalar with a full Hessian
  const f = (x: Tensor, c: Tensor) =>
    ng.add(ng.sum(ng.tanh(ng.matmul(c, x))), ng.square(ng.prod(x)));
  const x0 = randn(400, [2]);
  const c0 = randn(401, [3, 2]);
  const r = stageClosed((zs) => [f(zs[0]!, zs[1]!)], [x0, c0], "test");
  if (!r.ok) throw new Error(r.detail);
  const ir = r.staged.ir;
  const xs = examples(402, [2]);
  const cs = examples(403, [3, 2]);
  const ts = examples(404, [2]);
  const tcs = examples(405, [3, 2]);
  /** Each input batched (stacked along axis 0) or shared (example 0), by the pattern. */
  const cases: boolean[][] = [
    [true, false, true, false],
    [false, true, false, false],
    [false, false, true, true],
    [true, true, false, true],
  ];
  const pick = (all: Tensor[], batched: boolean, b: number) => (batched ? all[b]! : all[0]!);
  const arg = (all: Tensor[], batched: boolean) => (batched ? ng.stack(all) : all[0]!);
  const axes = (pattern: boolean[]) => pattern.map((p) => (p ? 0 : null));

  it("gradCall: values and gradients, and an outer gradient through the batched call", () => {
    const gc = (x: Tensor, c: Tensor, strategy: string) =>
      bind(gradCallP, [x, c], { ir, wrt: [0], strategy, kind: "test" });
    for (const strategy of ["forwardOverReverse", "nest", "innerForward"]) {
      for (const pattern of cases) {
        const [bx, bc] = pattern;
        if (!bx && !bc) continue;
        const got = ng.vmap((x: Tensor, c: Tensor) => gc(x, c, strategy), axes([bx!, bc!]))(
          arg(xs, bx!),
          arg(cs, bc!),
        ) as Tensor[];
        const want = (b: number) => gc(pick(xs, bx!, b), pick(cs, bc!, b), strategy);
        expectNear(
          got[0]!,
          loop(V, (b) => want(b)[0]!),
          1e-13,
          `value ${strategy} ${pattern}`,
        );
        expectNear(
          got[1]!,
          loop(V, (b) => want(b)[1]!),
          1e-13,
          `gradient ${strategy} ${pattern}`,
        );
        // outer reverse pass over the batched call: d/dc Σ_b (f_b + |∇ₓf_b|²)
        const outer = (c: Tensor) => {
          const [v, g] = ng.vmap((x: Tensor, cc: Tensor) => gc(x, cc, strategy), axes([bx!, bc!]))(
            arg(xs, bx!),
            c,
          ) as Tensor[];
          return ng.add(ng.sum(v!), ng.sum(ng.square(g!)));
        };
        const c = arg(cs, bc!);
        expectNear(ng.grad(outer)(c), fdGrad(outer, c), 1e-7, `outer grad ${strategy} ${pattern}`);
      }
    }
  });

  it("hvpCall: H[rows, cols]·t per example, its transpose and its derivative", () => {
    const hv = (x: Tensor, c: Tensor, t: Tensor, tc: Tensor) =>
      bind(hvpCallP, [x, c, t, tc], { ir, rows: [0, 1], cols: [0, 1] });
    for (const pattern of cases) {
      const [bx, bc, bt, btc] = pattern as [boolean, boolean, boolean, boolean];
      const ins: [Tensor, Tensor, Tensor, Tensor] = [
        arg(xs, bx),
        arg(cs, bc),
        arg(ts, bt),
        arg(tcs, btc),
      ];
      const got = ng.vmap(hv, axes(pattern))(...ins) as Tensor[];
      const want = (b: number) =>
        hv(pick(xs, bx, b), pick(cs, bc, b), pick(ts, bt, b), pick(tcs, btc, b));
      expectNear(
        got[0]!,
        loop(V, (b) => want(b)[0]!),
        1e-12,
        `rows x ${pattern}`,
      );
      expectNear(
        got[1]!,
        loop(V, (b) => want(b)[1]!),
        1e-12,
        `rows c ${pattern}`,
      );
      // the transpose (wrt t) and the third-order derivative (wrt x) of the batched call
      const s = (x: Tensor, t: Tensor) => {
        const o = ng.vmap(hv, axes(pattern))(x, ins[1]!, t, ins[3]!) as Tensor[];
        return ng.add(ng.sum(ng.square(o[0]!)), ng.sum(ng.sin(o[1]!)));
      };
      const [gx, gt] = ng.grad(s, { argnums: [0, 1] })(ins[0]!, ins[2]!) as Tensor[];
      expectNear(
        gx!,
        fdGrad((x) => s(x, ins[2]!), ins[0]!),
        1e-6,
        `d/dx ${pattern}`,
      );
      expectNear(
        gt!,
        fdGrad((t) => s(ins[0]!, t), ins[2]!),
        1e-6,
        `d/dt ${pattern}`,
      );
    }
  });

  it("dirDerivCall: the per-example ⟨∇f, t⟩, its transpose and its derivative", () => {
    const dd = (x: Tensor, c: Tensor, t: Tensor, tc: Tensor) =>
      bind(dirDerivCallP, [x, c, t, tc], { ir, cols: [0, 1] })[0]!;
    for (const pattern of cases) {
      const [bx, bc, bt, btc] = pattern as [boolean, boolean, boolean, boolean];
      const ins: [Tensor, Tensor, Tensor, Tensor] = [
        arg(xs, bx),
        arg(cs, bc),
        arg(ts, bt),
        arg(tcs, btc),
      ];
      const got = ng.vmap(dd, axes(pattern))(...ins);
      const want = loop(V, (b) =>
        dd(pick(xs, bx, b), pick(cs, bc, b), pick(ts, bt, b), pick(tcs, btc, b)),
      );
      expectNear(got, want, 1e-13, `values ${pattern}`);
      const s = (x: Tensor, t: Tensor) =>
        ng.sum(ng.square(ng.vmap(dd, axes(pattern))(x, ins[1]!, t, ins[3]!)));
      const [gx, gt] = ng.grad(s, { argnums: [0, 1] })(ins[0]!, ins[2]!) as Tensor[];
      expectNear(
        gx!,
        fdGrad((x) => s(x, ins[2]!), ins[0]!),
        1e-6,
        `d/dx ${pattern}`,
      );
      expectNear(
        gt!,
        fdGrad((t) => s(ins[0]!, t), ins[2]!),
        1e-6,
        `d/dt ${pattern}`,
      );
    }
  });

  it("vmap over the pullback of a loss with an inner gradient (forward-over-reverse)", () => {
    const ps = params(500, 1);
    const X = ng.stack(examples(501, [2], 4));
    // a vector-valued loss: per-example |∇ₓu|² + u
    const losses = (p: Params) =>
      ng.vmap((x: Tensor) => {
        const [v, g] = ng.valueAndGrad((t: Tensor) => u(p, t))(x) as [Tensor, Tensor];
        return ng.add(v, ng.sum(ng.square(g)));
      })(X);
    const cts = examples(502, [4]);
    for (const nestedStrategy of STRATEGIES) {
      const [, pb] = ng.config.withConfig({ nestedStrategy }, () => ng.vjp(losses, ps));
      const got = ng.vmap((ct: Tensor) => pb(ct)[0])(ng.stack(cts)) as Params;
      const want = cts.map((ct) => pb(ct)[0] as Params);
      for (const k of ["W1", "b1", "W2"] as const) {
        expectNear(got[k], ng.stack(want.map((w) => w[k])), 1e-12, `${k} (${nestedStrategy})`);
      }
    }
  });
});
