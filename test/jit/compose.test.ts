// jit composed with the transforms in every order: jit of a derivative or a vmap stages
// through it; a derivative or vmap of a jitted function binds a jitCall whose rules run
// compiled derivative and batched programs. Oracles: closed-form derivatives, eager
// evaluation of the same composition, and float64 central finite differences.
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/core/tensor.js";
import { expectClose } from "./helpers.js";

const f64 = (v: unknown) => ng.array(v, { dtype: "float64" });
const W = f64([
  [0.5, -1.0, 0.25],
  [1.5, 0.3, -0.7],
  [-0.2, 0.8, 1.1],
]);
/** A scalar function with curvature in every direction. */
const f = (x: Tensor) => ng.sum(ng.mul(ng.tanh(ng.matmul(W, x)), ng.sin(x)));
const x0 = f64([0.3, -0.6, 0.9]);
const v0 = f64([1.0, 0.5, -2.0]);
const close = (a: Tensor | Tensor[], b: Tensor | Tensor[], what: string, tol = 1e-10) =>
  expectClose([a].flat(), [b].flat(), tol, tol, what);

/** Central finite-difference gradient of a scalar function in float64. */
function fdGrad(fn: (x: Tensor) => Tensor, x: Tensor, eps = 1e-6): Tensor {
  const xs = Array.from(x.dataSync());
  const g = xs.map((_v, i) => {
    const plus = xs.slice();
    const minus = xs.slice();
    plus[i]! += eps;
    minus[i]! -= eps;
    return (fn(f64(plus)).item() - fn(f64(minus)).item()) / (2 * eps);
  });
  return f64(g);
}

afterEach(() => ng.config.set({ nestedSwitching: true, nestedStrategy: "auto" }));

describe("jit composed with transforms", () => {
  it("jit∘grad and grad∘jit match the closed form of d/dx Σ sin(x)·x", () => {
    const h = (x: Tensor) => ng.sum(ng.mul(ng.sin(x), x));
    const closed = ng.add(ng.sin(x0), ng.mul(x0, ng.cos(x0)));
    close(ng.jit(ng.grad(h))(x0), closed, "jit(grad)");
    const jh = ng.jit(h);
    close(ng.grad(jh)(x0), closed, "grad(jit)");
    expect(jh.stats().compiles).toBeGreaterThanOrEqual(2);
    expect(jh.stats().backend).toMatch(/interpreter|onnxruntime/);
  });

  it("grad of a jitted function matches finite differences and eager grad", () => {
    const jf = ng.jit(f);
    close(ng.grad(jf)(x0), fdGrad(f, x0), "grad(jit) vs FD", 1e-7);
    close(ng.grad(jf)(x0), ng.grad(f)(x0), "grad(jit) vs eager");
    // the second call reuses the cached program and the derived programs
    const before = jf.stats();
    ng.grad(jf)(x0);
    expect(jf.stats().traces).toBe(before.traces);
    expect(jf.stats().compiles).toBe(before.compiles);
  });

  it("jvp∘jit equals eager jvp", () => {
    const [y, t] = ng.jvp(ng.jit(f), [x0], [v0]);
    const [ey, et] = ng.jvp(f, [x0], [v0]);
    close(y, ey, "primal");
    close(t, et, "tangent");
  });

  it("jit∘vmap and vmap∘jit equal eager vmap", () => {
    const xs = f64([
      [0.1, 0.2, 0.3],
      [-1, 0.5, 2],
      [0.7, -0.4, 0.0],
    ]);
    const expected = ng.vmap(f)(xs);
    close(ng.jit(ng.vmap(f))(xs), expected, "jit(vmap)");
    close(ng.vmap(ng.jit(f))(xs), expected, "vmap(jit)");
    close(ng.vmap(ng.grad(ng.jit(f)))(xs), ng.vmap(ng.grad(f))(xs), "vmap(grad(jit))");
    // in-axes other than 0 and an unbatched argument
    const g = (x: Tensor, s: Tensor) => ng.mul(ng.sin(x), s);
    const s = f64(2.5);
    close(
      ng.vmap(ng.jit(g), [1, null])(ng.transpose(xs), s),
      ng.vmap(g, [1, null])(ng.transpose(xs), s),
      "vmap(jit) with in-axes [1, null]",
    );
  });

  it("jit∘grad∘grad, grad(x ↦ grad(jit f)(x)) and hessian(jit f) equal eager", () => {
    const gg = (x: Tensor) => ng.grad((y: Tensor) => ng.sum(ng.grad(f)(y)))(x);
    close(ng.jit(gg)(x0), gg(x0), "jit(grad(grad))");
    const jf = ng.jit(f);
    const viaJit = ng.grad((y: Tensor) => ng.sum(ng.grad(jf)(y)))(x0);
    close(viaJit, gg(x0), "grad(grad(jit))");
    close(ng.hessian(jf)(x0), ng.hessian(f)(x0), "hessian(jit)");
    close(ng.jit(ng.hessian(f))(x0), ng.hessian(f)(x0), "jit(hessian)");
  });

  for (const nestedSwitching of [true, false]) {
    it(`grad∘grad(jit) with nested switching ${nestedSwitching ? "on" : "off"} matches finite differences`, () => {
      ng.config.set({ nestedSwitching });
      const jf = ng.jit(f);
      const penalty = (x: Tensor) => ng.sum(ng.square(ng.grad(jf)(x)));
      const eager = (x: Tensor) => ng.sum(ng.square(ng.grad(f)(x)));
      close(ng.grad(penalty)(x0), fdGrad(eager, x0), "vs FD", 1e-6);
      close(ng.grad(penalty)(x0), ng.grad(eager)(x0), "vs eager");
    });
  }

  for (const strategy of ["nest", "forwardOverReverse", "innerForward"] as const) {
    it(`jit inside a nested inner function of an outer grad (strategy ${strategy})`, () => {
      ng.config.set({ nestedStrategy: strategy });
      const inner = ng.jit((x: Tensor, p: Tensor) => ng.sum(ng.mul(ng.tanh(ng.mul(x, p)), x)));
      const outer = (p: Tensor) => ng.sum(ng.square(ng.grad((x: Tensor) => inner(x, p))(x0)));
      const eagerOuter = (p: Tensor) =>
        ng.sum(ng.square(ng.grad((x: Tensor) => ng.sum(ng.mul(ng.tanh(ng.mul(x, p)), x)))(x0)));
      close(ng.grad(outer)(v0), fdGrad(eagerOuter, v0), "vs FD", 1e-6);
      // and the whole thing jitted: the nested call primitives are inlined
      close(ng.jit(ng.grad(outer))(v0), ng.grad(eagerOuter)(v0), "jit(grad(outer))");
    });
  }

  it("a jitted function closing over an outer tracer gets its gradient (not cached)", () => {
    const c = f64([1, 2, 3]);
    let traces = 0;
    const outer = (p: Tensor) => {
      const jg = ng.jit((x: Tensor) => ng.sum(ng.mul(ng.sin(ng.mul(x, p)), x)));
      const y = jg(c);
      traces += jg.stats().traces;
      expect(jg.stats().cacheEntries).toBe(0);
      return y;
    };
    const eager = (p: Tensor) => ng.sum(ng.mul(ng.sin(ng.mul(c, p)), c));
    close(ng.grad(outer)(v0), ng.grad(eager)(v0), "closure capture");
    expect(traces).toBe(1);
  });

  it("jit of jit and makeIR of jit inline the inner function", () => {
    const inner = ng.jit(f);
    const outer = ng.jit((x: Tensor) => ng.mul(inner(x), 2));
    close(outer(x0), ng.mul(f(x0), 2), "jit(jit)");
    expect(inner.stats().inlined).toBe(1);
    const ir = ng.makeIR(inner)(x0);
    expect(ir.eqns.map((e) => e.prim.name)).not.toContain("jitCall");
    expect(ir.eqns.length).toBeGreaterThan(1);
  });

  it("pytree arguments and outputs, custom rules and integer outputs pass through", () => {
    const g = (p: { w: Tensor; b: Tensor[] }, x: Tensor) => ({
      y: ng.add(ng.matmul(p.w, x), p.b[0]!),
      idx: ng.argmax(x),
      n: 3,
      tag: "out",
    });
    const p = { w: W, b: [f64([1, 2, 3])] };
    const r = ng.jit(g)(p, x0);
    const e = g(p, x0);
    close(r.y, e.y, "y");
    expect(r.idx.toArray()).toEqual(e.idx.toArray());
    expect(r.n).toBe(3);
    expect(r.tag).toBe("out");
    const softplus = ng.customJvp(
      (x: Tensor) => ng.log1p(ng.exp(x)),
      ([x]: Tensor[], [t]: Tensor[]) => [ng.log1p(ng.exp(x!)), ng.mul(t!, ng.sigmoid(x!))],
    );
    const h = (x: Tensor) => ng.sum(softplus(ng.mul(x, x)));
    close(ng.jit(ng.grad(h))(x0), ng.grad(h)(x0), "jit(grad(customJvp))");
    close(ng.grad(ng.jit(h))(x0), ng.grad(h)(x0), "grad(jit(customJvp))");
  });
});

describe("a training step as one jitted program", () => {
  it("equals the eager step for several steps (nn + optim + train)", () => {
    const model = ng.nn.chain(ng.nn.dense(3, 8, ng.tanh), ng.nn.dense(8, 2));
    const [ps, st] = ng.nn.setup(ng.random.key(0), model);
    const x = ng.random.normal(ng.random.key(1), [16, 3]);
    const y = ng.random.normal(ng.random.key(2), [16, 2]);
    const objective = (m: any, p: any, s: any, [xb, yb]: [Tensor, Tensor]) => {
      const [yHat, s2] = m.apply(xb, p, s);
      return [ng.nn.mse(yHat, yb), s2, {}] as [Tensor, unknown, unknown];
    };
    const step = (ts: any, xb: Tensor, yb: Tensor) => ng.train.trainStep(objective, [xb, yb], ts);
    const jstep = ng.jit(step);
    let eager: any = ng.train.trainState(model, ps, st, ng.optim.adam({ lr: 1e-2 }));
    let jitted: any = eager;
    for (let i = 0; i < 3; i++) {
      const [le, , te] = step(eager, x, y);
      const [lj, , tj] = jstep(jitted, x, y);
      expectClose([lj], [le], 1e-5, 1e-6, `loss at step ${i}`);
      expectClose(
        ng.tree.flatten<Tensor>(tj.ps)[0],
        ng.tree.flatten<Tensor>(te.ps)[0],
        1e-5,
        1e-6,
        `params after step ${i}`,
      );
      expect(Number(tj.step)).toBe(Number(te.step));
      expect(Number(tj.optState.step)).toBe(Number(te.optState.step));
      eager = te;
      jitted = tj;
    }
    expect(jstep.stats().backend).toMatch(/interpreter|onnxruntime/);
  });
});
