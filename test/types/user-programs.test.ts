// Realistic user programs written in strict TypeScript without a single type assertion or
// `any`: they compile only if the transforms, tree.map, the nn layers and the training
// API carry their types through (grad returns the argument's type, vmap keeps f's, ...).
// They also run, each checked against an independent oracle (central finite differences
// in float64 or a closed form), and carry type-level assertions (expectTypeOf).
import { describe, expect, expectTypeOf, it } from "vitest";
import * as ng from "../../src/index.js";
import { nn, optim, train, tree, type Tensor } from "../../src/index.js";

const F64: { dtype: "float64" } = { dtype: "float64" };
const f64 = (v: number | number[] | number[][]): Tensor => ng.array(v, F64);

/** The elements of a tensor as a flat list of numbers. */
const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** A deterministic pseudo-random float64 tensor. */
function randn(seed: number, shape: number[], scale = 1): Tensor {
  return ng.random.normal(ng.random.key(seed), shape, F64).mul(scale);
}

/** Central difference of a scalar function of one number. */
function central(f: (s: number) => number, h = 1e-5): number {
  return (f(h) - f(-h)) / (2 * h);
}

/** `t` with `s` added to element `i` (flat, row-major). */
function bump(t: Tensor, i: number, s: number): Tensor {
  const v = values(t);
  v[i]! += s;
  return ng.reshape(f64(v), t.shape);
}

/** Leaf `k` of tree `ps`, element `i`, moved by `s`: the tree otherwise unchanged. */
function bumpLeaf<T extends nn.Params>(ps: T, k: number, i: number, s: number): T {
  let n = 0;
  return tree.map((p: Tensor) => (n++ === k ? bump(p, i, s) : p), ps);
}

/** Expects |a - b| <= rtol·max(1, |b|). */
function expectNear(a: number, b: number, rtol: number, what: string): void {
  expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(
    rtol * Math.max(1, Math.abs(b)),
  );
}

/** Checks every element of every leaf of grad `g` against central differences of `loss`. */
function expectTreeGradFD<T extends nn.Params>(
  loss: (ps: T) => Tensor,
  ps: T,
  g: T,
  rtol = 1e-6,
): void {
  const gLeaves = tree.leaves(g);
  tree.leaves(ps).forEach((p, k) => {
    if (!(p instanceof ng.Tensor)) throw new Error("expected tensor leaves");
    const gk = gLeaves[k];
    if (!(gk instanceof ng.Tensor)) throw new Error("expected tensor gradient leaves");
    const gv = values(gk);
    for (let i = 0; i < p.size; i++) {
      const fd = central((s) => loss(bumpLeaf(ps, k, i, s)).item());
      expectNear(gv[i]!, fd, rtol, `leaf ${k} element ${i}`);
    }
  });
}

describe("user programs type-check without casts and compute the right numbers", () => {
  it("PINN: the gradient of a loss holding u'' (grad of grad through a closure over params)", () => {
    const model = nn.chain(nn.dense(1, 6, ng.tanh, F64), nn.dense(6, 1, F64));
    const [ps, st] = nn.setup(ng.random.key(1), model);
    type P = typeof ps;
    // u(ps, t) for one scalar t; u'' by nesting grad, closing over the parameters.
    const u = (p: P, t: Tensor): Tensor => ng.sum(model.apply(ng.reshape(t, [1, 1]), p, st)[0]);
    const uxx = (p: P, t: Tensor): Tensor => ng.grad(ng.grad((s: Tensor) => u(p, s)))(t);
    const points = [-0.8, -0.1, 0.5, 0.9].map((t) => f64(t));
    // Residual of u'' = -π² sin(πt).
    const loss = (p: P): Tensor =>
      points
        .map((t) => ng.square(uxx(p, t).add(ng.sin(t.mul(Math.PI)).mul(Math.PI ** 2))))
        .reduce((a, b) => a.add(b));
    const g = ng.grad(loss)(ps);
    expectTypeOf(g).toEqualTypeOf<P>();
    expectTypeOf(uxx(ps, points[0]!)).toEqualTypeOf<Tensor>();
    // u'' itself against a second central difference of u.
    const t0 = 0.3;
    const h = 1e-4;
    const uAt = (t: number) => u(ps, f64(t)).item();
    const fd2 = (uAt(t0 + h) - 2 * uAt(t0) + uAt(t0 - h)) / (h * h);
    expectNear(uxx(ps, f64(t0)).item(), fd2, 1e-5, "u''");
    expectTreeGradFD(loss, ps, g);
  });

  it("MAML: one inner step with tree.map over params and grads, differentiated", () => {
    type P = { w: Tensor; b: Tensor };
    const ps: P = { w: randn(2, [3]), b: f64(0.2) };
    const inner = (p: P, x: Tensor, y: Tensor): Tensor =>
      ng.mean(ng.square(ng.matmul(x, p.w).add(p.b).sub(y)));
    const [xs, ys] = [randn(3, [5, 3]), randn(4, [5])];
    const [xq, yq] = [randn(5, [4, 3]), randn(6, [4])];
    const alpha = 0.1;
    const adapt = (p: P): P => {
      const gs = ng.grad(inner)(p, xs, ys);
      expectTypeOf(gs).toEqualTypeOf<P>();
      return tree.map((q: Tensor, g: Tensor) => q.sub(g.mul(alpha)), p, gs);
    };
    const outer = (p: P): Tensor => inner(adapt(p), xq, yq);
    const [value, metaGrad] = ng.valueAndGrad(outer)(ps);
    expectTypeOf(value).toEqualTypeOf<Tensor>();
    expectTypeOf(metaGrad).toEqualTypeOf<P>();
    expect(Object.keys(metaGrad)).toEqual(["w", "b"]);
    expectTreeGradFD(outer, ps, metaGrad);
    // A multi-tree map whose leaves become numbers keeps the structure.
    const sizes = tree.map((q: Tensor, g: Tensor) => q.size + g.size, ps, metaGrad);
    expectTypeOf(sizes).toEqualTypeOf<{ w: number; b: number }>();
    expect(sizes).toEqual({ w: 6, b: 2 });
  });

  it("WGAN-GP: a gradient penalty from vmap(grad) of the critic, differentiated in the params", () => {
    type P = { w1: Tensor; w2: Tensor };
    const ps: P = { w1: randn(7, [3, 4], 0.7), w2: randn(8, [4], 0.7) };
    // Critic of one sample x [3].
    const critic = (p: P, x: Tensor): Tensor => ng.sum(ng.tanh(ng.matmul(x, p.w1)).mul(p.w2));
    const xs = randn(9, [5, 3]);
    const perSample = ng.vmap(ng.grad(critic, { argnums: 1 }), [null, 0]);
    expectTypeOf(perSample).returns.toEqualTypeOf<Tensor>();
    const gx = perSample(ps, xs);
    expect(gx.shape).toEqual([5, 3]);
    // Closed form: ∇ₓ critic = W1 (w2 ⊙ (1 − tanh²(x W1))).
    for (let b = 0; b < 5; b++) {
      const x = ng.reshape(ng.slice(xs, [b]), [3]);
      const th = ng.tanh(ng.matmul(x, ps.w1));
      const want = ng.matmul(ps.w1, ps.w2.mul(ng.sub(1, ng.square(th))));
      values(want).forEach((v, j) => expectNear(values(gx)[b * 3 + j]!, v, 1e-12, `∇x[${b}]`));
    }
    const penalty = (p: P): Tensor => {
      const norms = ng.sqrt(ng.sum(ng.square(perSample(p, xs)), 1));
      return ng.mean(ng.square(norms.sub(1)));
    };
    const g = ng.grad(penalty)(ps);
    expectTypeOf(g).toEqualTypeOf<P>();
    expectTreeGradFD(penalty, ps, g);
  });

  it("Newton–CG: Hessian-vector products drive conjugate gradients to a minimiser", () => {
    // f(x) = ½ xᵀAx − bᵀx + Σ log(eˣ + e⁻ˣ): H = A + diag(1 − tanh²x), positive definite.
    const m = randn(11, [4, 4], 0.5);
    const a = ng.matmul(ng.transpose(m), m).add(ng.eye(4, null, F64));
    const bv = randn(12, [4]);
    const f = (x: Tensor): Tensor =>
      ng
        .sum(x.mul(ng.matmul(a, x)))
        .mul(0.5)
        .sub(ng.sum(bv.mul(x)))
        .add(ng.sum(ng.log(ng.exp(x).add(ng.exp(x.neg())))));
    const hv = (x: Tensor, v: Tensor): Tensor => ng.hvp(f, x, v);
    expectTypeOf(ng.hvp(f, bv, bv)).toEqualTypeOf<Tensor>();
    // hvp against the closed-form Hessian.
    const x0 = randn(13, [4]);
    const v0 = randn(14, [4]);
    const hWant = ng.matmul(a, v0).add(ng.sub(1, ng.square(ng.tanh(x0))).mul(v0));
    values(hv(x0, v0)).forEach((v, i) => expectNear(v, values(hWant)[i]!, 1e-12, `Hv[${i}]`));
    const dot = (u: Tensor, w: Tensor): number => ng.sum(u.mul(w)).item();
    let x = ng.zerosLike(bv);
    for (let newton = 0; newton < 8; newton++) {
      const g = ng.grad(f)(x);
      // Solve H p = −g by conjugate gradients.
      let p = ng.zerosLike(g);
      let r = g.neg();
      let d = r;
      for (let k = 0; k < 4 && dot(r, r) > 1e-30; k++) {
        const hd = hv(x, d);
        const step = dot(r, r) / dot(d, hd);
        p = p.add(d.mul(step));
        const r2 = r.sub(hd.mul(step));
        d = r2.add(d.mul(dot(r2, r2) / dot(r, r)));
        r = r2;
      }
      x = x.add(p);
    }
    expect(Math.sqrt(dot(ng.grad(f)(x), ng.grad(f)(x)))).toBeLessThan(1e-10);
  });

  it("per-sample gradients with vmap(grad) match the closed form", () => {
    type P = { w: Tensor; b: Tensor };
    const ps: P = { w: randn(21, [3]), b: f64(-0.3) };
    const loss = (p: P, x: Tensor, y: Tensor): Tensor =>
      ng.square(ng.sum(x.mul(p.w)).add(p.b).sub(y));
    const X = randn(22, [6, 3]);
    const Y = randn(23, [6]);
    const perEx = ng.vmap(ng.grad(loss), [null, 0, 0])(ps, X, Y);
    expectTypeOf(perEx).toEqualTypeOf<P>();
    expect(perEx.w.shape).toEqual([6, 3]);
    // d/dw (x·w + b − y)² = 2 r x, d/db = 2 r.
    const r = values(ng.matmul(X, ps.w).add(ps.b).sub(Y));
    const xv = values(X);
    r.forEach((ri, n) => {
      expectNear(values(perEx.b)[n]!, 2 * ri, 1e-12, `b[${n}]`);
      for (let j = 0; j < 3; j++)
        expectNear(values(perEx.w)[n * 3 + j]!, 2 * ri * xv[n * 3 + j]!, 1e-12, `w[${n}, ${j}]`);
    });
  });

  it("h = g(∇f): the gradient of a function of a gradient, in both modes", () => {
    // f = Σ x³/3, ∇f = x², h = Σ sin(x²), ∇h = 2x cos(x²).
    const gradF = ng.grad((x: Tensor) => ng.sum(ng.pow(x, 3)).div(3));
    const h = (x: Tensor): Tensor => ng.sum(ng.sin(gradF(x)));
    const x = randn(31, [5]);
    const want = values(x).map((v) => 2 * v * Math.cos(v * v));
    const gRev = ng.grad(h)(x);
    expectTypeOf(gRev).toEqualTypeOf<Tensor>();
    values(gRev).forEach((v, i) => expectNear(v, want[i]!, 1e-12, `reverse ${i}`));
    // Forward mode: one JVP per basis direction.
    const [, jvpOut] = ng.jvp(h, [x], [f64([0, 0, 1, 0, 0])]);
    expectTypeOf(jvpOut).toEqualTypeOf<Tensor>();
    expectNear(jvpOut.item(), want[2]!, 1e-12, "forward");
    // vjp: the pullback returns a tuple of the argument types.
    const [y, pullback] = ng.vjp(h, x);
    expectTypeOf(y).toEqualTypeOf<Tensor>();
    const [dx] = pullback(f64(1));
    expectTypeOf(pullback(f64(1))).toEqualTypeOf<[x: Tensor]>();
    values(dx).forEach((v, i) => expectNear(v, want[i]!, 1e-12, `vjp ${i}`));
    const jac = ng.jacrev(gradF)(x);
    expectTypeOf(jac).toEqualTypeOf<Tensor>();
    expect(jac.shape).toEqual([5, 5]);
    expectTypeOf(ng.hessian(h)(x)).toEqualTypeOf<Tensor>();
  });

  it("model.apply, stateful and trainStep: typed results and a decreasing loss", () => {
    const model = nn.chain(nn.dense(2, 8, ng.tanh, F64), nn.dense(8, 1, F64));
    const [ps, st] = nn.setup(ng.random.key(41), model);
    const x = randn(42, [16, 2]);
    const y = ng.sin(ng.sum(x, { axis: 1, keepdims: true }));
    const [yHat, st2] = model.apply(x, ps, st);
    expectTypeOf(yHat).toEqualTypeOf<Tensor>();
    expectTypeOf(st2).toEqualTypeOf(st);
    expectTypeOf(ps.layer_1.weight).toEqualTypeOf<Tensor>();
    const net = nn.stateful(model, ps, st);
    expectTypeOf(net).parameter(0).toEqualTypeOf<Tensor>();
    expect(values(net(x))).toEqual(values(yHat));
    // The gradient the training loop uses is the gradient of the objective.
    const mse = (p: typeof ps): Tensor => ng.mean(ng.square(model.apply(x, p, st)[0].sub(y)));
    let ts = train.trainState(model, ps, st, optim.sgd(0.2));
    const [grads, loss0] = train.computeGradients(
      (mdl, p, s, [xb, yb]: [Tensor, Tensor]) => {
        const [out, s2] = mdl.apply(xb, p, s);
        return [ng.mean(ng.square(out.sub(yb))), s2, { n: xb.shape[0] }];
      },
      [x, y],
      ts,
    );
    expectTypeOf(grads).toEqualTypeOf<typeof ps>();
    expectNear(loss0.item(), mse(ps).item(), 1e-12, "loss");
    const k = 0;
    const fd = central((s) => mse(bumpLeaf(ps, k, 1, s)).item());
    expectNear(values(tree.leaves(grads)[k]!)[1]!, fd, 1e-6, "grad vs FD");
    let last = loss0.item();
    for (let i = 0; i < 30; i++) {
      const [loss, stats, ts2] = train.trainStep(
        (mdl, p, s, [xb, yb]: [Tensor, Tensor]) => {
          const [out, s2] = mdl.apply(xb, p, s);
          return [ng.mean(ng.square(out.sub(yb))), s2, { n: xb.shape[0] }];
        },
        [x, y],
        ts,
      );
      expectTypeOf(stats).toEqualTypeOf<{ n: number }>();
      ts = ts2;
      last = loss.item();
    }
    expectTypeOf(ts.ps).toEqualTypeOf<typeof ps>();
    expect(last).toBeLessThan(loss0.item() * 0.5);
    // Save and load: the loaded tree has the template's type and predicts identically.
    const back = train.loadBinary(train.saveBinary({ ps: ts.ps, st: ts.st }), { ps, st });
    expectTypeOf(back.ps).toEqualTypeOf<typeof ps>();
    expect(values(model.apply(x, back.ps, back.st)[0])).toEqual(
      values(model.apply(x, ts.ps, ts.st)[0]),
    );
    // An optimiser step by hand: update returns the params' type.
    const os = optim.setup(optim.adam({ lr: 1e-2 }), ps);
    const [, ps2] = optim.update(os, ps, ng.grad(mse)(ps));
    expectTypeOf(ps2).toEqualTypeOf<typeof ps>();
    expect(mse(ps2).item()).toBeLessThan(mse(ps).item());
  });
});

describe("the transforms' static types follow f and the options", () => {
  it("argnums tuples, hasAux, jacobians of trees and custom rules", () => {
    type P = { w: Tensor; b: Tensor };
    const ps: P = { w: f64([1, 2]), b: f64(0.5) };
    const x = f64([3, -1]);
    const f = (p: P, z: Tensor): Tensor => ng.sum(z.mul(p.w).add(p.b));
    // argnums as a tuple gives a tuple of gradients.
    const [gp, gz] = ng.grad(f, { argnums: [0, 1] })(ps, x);
    expectTypeOf(gp).toEqualTypeOf<P>();
    expectTypeOf(gz).toEqualTypeOf<Tensor>();
    expect(values(gz)).toEqual([1, 2]);
    expect(values(gp.w)).toEqual([3, -1]);
    expect(gp.b.item()).toBe(2);
    expectTypeOf(ng.grad(f, { argnums: 1 })).returns.toEqualTypeOf<Tensor>();
    expectTypeOf(ng.grad(f)).parameters.toEqualTypeOf<[p: P, z: Tensor]>();
    // hasAux: [[value, aux], grad] and [grad, aux].
    const withAux = (p: P, z: Tensor): [Tensor, { y: Tensor }] => {
      const y = z.mul(p.w);
      return [ng.sum(y), { y }];
    };
    const [[v, aux], g] = ng.valueAndGrad(withAux, { hasAux: true })(ps, x);
    expectTypeOf(v).toEqualTypeOf<Tensor>();
    expectTypeOf(aux).toEqualTypeOf<{ y: Tensor }>();
    expectTypeOf(g).toEqualTypeOf<P>();
    expect(v.item()).toBe(1);
    expect(values(aux.y)).toEqual([3, -2]);
    const [g2, aux2] = ng.grad(withAux, { hasAux: true })(ps, x);
    expectTypeOf(g2).toEqualTypeOf<P>();
    expectTypeOf(aux2).toEqualTypeOf<{ y: Tensor }>();
    // The Jacobian of a tensor-valued f with respect to a tree has the tree's type.
    const jp = ng.jacfwd((p: P) => z2(p))(ps);
    expectTypeOf(jp).toEqualTypeOf<P>();
    expect(jp.w.shape).toEqual([2, 2]);
    function z2(p: P): Tensor {
      return p.w.mul(p.b);
    }
    // jvp over a tree of primals; customJvp keeps f's signature.
    const [out, tOut] = ng.jvp(f, [ps, x], [ps, x]);
    expectTypeOf(out).toEqualTypeOf<Tensor>();
    expectTypeOf(tOut).toEqualTypeOf<Tensor>();
    const softplus = ng.customJvp(
      (z: Tensor) => ng.log(ng.exp(z).add(1)),
      ([z], [t]) => [ng.log(ng.exp(z).add(1)), t.mul(ng.sigmoid(z))],
    );
    expectTypeOf(softplus).toEqualTypeOf<(z: Tensor) => Tensor>();
    expectNear(ng.grad(softplus)(f64(0.3)).item(), 1 / (1 + Math.exp(-0.3)), 1e-12, "customJvp");
  });
});

describe("tree.map takes the function first, like jax.tree.map", () => {
  it("rejects a tree in the function position with a hint", () => {
    const ps = { w: f64([1, 2]) };
    // @ts-expect-error: the old tree-first order no longer compiles
    expect(() => tree.map(ps, (p: Tensor) => p)).toThrow(
      /tree\.map: fn \(argument 1\) must be a function, got an object \(tree\.map takes the function first, like jax\.tree\.map/,
    );
    const neg = tree.map((p: Tensor) => p.neg(), ps);
    expectTypeOf(neg).toEqualTypeOf<{ w: Tensor }>();
    expect(values(neg.w)).toEqual([-1, -2]);
    expect(tree.mapWithPath((path, p: Tensor) => `${path}:${p.size}`, ps)).toEqual({ w: ".w:2" });
    expect(() => tree.map((p: Tensor, q: Tensor) => p.add(q), ps, { v: ps.w })).toThrow(
      /tree\.map: tree 2 does not have the structure of tree 1/,
    );
    expect(tree.leaves({ a: ps.w, b: [ps.w, null] })).toHaveLength(2);
    expect(tree.describe(tree.structure({ a: 1, b: [2] }))).toBe("{a: *, b: [*]}");
  });
});
