// The memory ledger (ng.memory): every reverse-mode derivative releases the residuals it
// registered once its owner is done with them, under every nested-switching setting and
// under jit; the bytes it reports are the residuals counted by hand; and nest keeps more
// alive than forward-over-reverse, read from the ledger's own per-linearization records.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";

const live = () => ng.memory.stats().liveBytes;

function randn(seed: number, shape: number[], dtype: "float32" | "float64" = "float32"): Tensor {
  return ng.random.normal(ng.random.key(seed), shape, { dtype });
}

/** tanh MLP with a linear last layer: params [W1, b1, W2, b2, W3, b3], x [N, d]. */
function mlp(ps: Tensor[], x: Tensor): Tensor {
  let h = x;
  for (let i = 0; i < ps.length; i += 2) {
    h = ng.add(ng.matmul(h, ps[i]!), ps[i + 1]!);
    if (i + 2 < ps.length) h = ng.tanh(h);
  }
  return h;
}

function params(sizes: number[], dtype: "float32" | "float64" = "float32"): Tensor[] {
  const ps: Tensor[] = [];
  sizes.slice(1).forEach((m, l) => {
    ps.push(randn(10 + 2 * l, [sizes[l]!, m], dtype).mul(1 / Math.sqrt(sizes[l]!)));
    ps.push(randn(11 + 2 * l, [m], dtype).mul(0.1));
  });
  return ps;
}

/** A PINN-style nested loss: Σ (d/dt Σ u(t)² − cos t)², u an MLP 1 → H → H → 1. */
function pinnLoss(x: Tensor) {
  return (ps: Tensor[]) => {
    const r = ng.grad((t: Tensor) => ng.sum(ng.square(mlp(ps, t))))(x);
    return ng.sum(ng.square(ng.sub(r, ng.cos(x))));
  };
}

const INITIAL = ng.config.get();
afterEach(() => {
  ng.config.set(INITIAL);
});

describe("ng.memory: grad's residuals, counted by hand", () => {
  // grad of Σ (u(x) − y)² for the MLP d → H → H → 1 at N samples keeps (x has no tangent,
  // so W1 is not needed): x [N, d] for dW1; tanh'(z1) [N, H]; h1 [N, H] for dW2; W2 [H, H]
  // for dh1·W2; tanh'(z2) [N, H]; h2 [N, H]; W3 [H, 1]; the residual r [N, 1] of the
  // square. Biases and sums keep nothing. 8 buffers.
  const residualElements = (N: number, d: number, H: number) => N * d + 4 * N * H + H * H + H + N;
  // A rule may capture a scalar constant of its own (e.g. the 2 of d(r²) = 2r·dr): allow
  // up to two of them.
  const SCALAR_SLACK = 16;

  for (const [dtype, bytes] of [
    ["float32", 4],
    ["float64", 8],
  ] as const) {
    it(`the peak of grad of an MLP loss is its residuals (${dtype})`, () => {
      const [N, d, H] = [8, 3, 5];
      const ps = params([d, H, H, 1], dtype);
      const x = randn(1, [N, d], dtype);
      const y = randn(2, [N, 1], dtype);
      const loss = (q: Tensor[]) => ng.sum(ng.square(ng.sub(mlp(q, x), y)));
      const start = live();
      const m = ng.memory.measure(() => ng.grad(loss)(ps));
      const expected = bytes * residualElements(N, d, H);
      expect(m.peakBytes).toBeGreaterThanOrEqual(expected);
      expect(m.peakBytes).toBeLessThanOrEqual(expected + SCALAR_SLACK);
      expect(m.linearizations).toHaveLength(1);
      const [rec] = m.linearizations;
      expect(rec).toMatchObject({ owner: "grad", bytes: m.peakBytes, released: true });
      expect(rec!.buffers).toBe(8);
      expect(m.retainedBytes).toBe(0);
      expect(live()).toBe(start);
    });
  }

  it("counts each underlying buffer once per linearization (views share one)", () => {
    const w = ng.array([1, 2, 3, 4, 5, 6]);
    const view = ng.reshape(ng.reshape(w, [2, 3]), [6]); // a reshape of contiguous data is a view
    expect((view as any).value.data).toBe((w as any).value.data);
    const x = ng.onesLike(w);
    const m = ng.memory.measure(() =>
      ng.grad((v: Tensor) => ng.add(ng.sum(ng.mul(v, w)), ng.sum(ng.mul(v, view))))(x),
    );
    expect(m.linearizations[0]).toMatchObject({ bytes: 6 * 4, buffers: 1 });
    // many distinct buffers: cos(v_i) of 40 inputs
    const xs = Array.from({ length: 40 }, (_v, i) => ng.array([i, i + 1]));
    const many = ng.memory.measure(() =>
      ng.grad((vs: Tensor[]) => vs.reduce((s, v) => ng.add(s, ng.sum(ng.sin(v))), ng.array(0)))(xs),
    );
    expect(many.linearizations[0]).toMatchObject({ bytes: 40 * 2 * 4, buffers: 40 });
  });

  it("valueAndGrad with aux, and argnums, release too", () => {
    const x = randn(3, [4, 6]);
    const w = randn(4, [6, 2]);
    const start = live();
    const m = ng.memory.measure(() =>
      ng.valueAndGrad((a: Tensor, b: Tensor) => [ng.sum(ng.tanh(ng.matmul(a, b))), a] as const, {
        argnums: [0, 1],
        hasAux: true,
      })(x, w),
    );
    // both differentiated: d(a·b) = da·b + a·db keeps a and b; tanh keeps tanh'(a·b) [4, 2]
    expect(m.peakBytes).toBe(4 * (4 * 6 + 6 * 2 + 4 * 2));
    expect(live()).toBe(start);
  });

  it("stats: live linearizations by owner while a vjp pullback is held; resetPeak", () => {
    const x = randn(5, [16]);
    const before = ng.memory.stats();
    const [, pullback] = ng.vjp((v: Tensor) => ng.sin(v), x);
    const during = ng.memory.stats();
    // d sin(v) = cos(v)·dv keeps cos(v): 16 float32
    expect(during.liveBytes - before.liveBytes).toBe(64);
    expect(during.linearizations - before.linearizations).toBe(1);
    expect(during.byOwner.vjp?.bytes).toBe(64);
    expect(during.awaitingCollection - before.awaitingCollection).toBe(1);
    expect(during.peakBytes).toBeGreaterThanOrEqual(during.liveBytes);
    ng.memory.dispose(pullback);
    const after = ng.memory.stats();
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.linearizations).toBe(before.linearizations);
    expect(after.made - before.made).toBe(1);
    expect(after.released - before.released).toBe(1);
    ng.memory.resetPeak();
    expect(ng.memory.stats().peakBytes).toBe(ng.memory.stats().liveBytes);
  });
});

describe("ng.memory: every owner releases", () => {
  const x = randn(6, [5]);
  const f = (v: Tensor) => ng.mul(ng.tanh(v), ng.exp(v));

  it("vjp: pullback, then dispose; a disposed pullback cannot run", () => {
    const start = live();
    const [y, pullback] = ng.vjp(f, x);
    expect(live()).toBeGreaterThan(start);
    const [dx] = pullback(ng.onesLike(y));
    expect(dx.shape).toEqual([5]);
    expect(live()).toBeGreaterThan(start); // still callable: still held
    ng.memory.dispose(pullback);
    expect(live()).toBe(start);
    ng.memory.dispose(pullback); // twice: nothing
    expect(() => pullback(ng.onesLike(y))).toThrow(/vjp: this pullback was disposed/);
  });

  it("vjp: a dropped pullback is released when garbage collected", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const start = live();
    // made in a separate function so that nothing here keeps the pullback
    const made = ((): number => {
      const [y, pullback] = ng.vjp(f, x);
      pullback(ng.onesLike(y));
      return live();
    })();
    expect(made).toBeGreaterThan(start);
    for (let i = 0; i < 50 && live() !== start; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(live()).toBe(start);
  });

  it("jacrev, jacfwd, hessian, hvp", () => {
    const start = live();
    const jr = ng.jacrev(f)(x);
    expect(live()).toBe(start);
    const h = ng.hessian((v: Tensor) => ng.sum(f(v)))(x);
    expect(live()).toBe(start);
    const hv = ng.hvp((v: Tensor) => ng.sum(f(v)), x, ng.onesLike(x));
    expect(live()).toBe(start);
    // the results are right, so the released linearizations did their work
    const jf = ng.jacfwd(f)(x);
    expect(ng.testing.allclose(jr, jf, { rtol: 1e-5, atol: 1e-6 })).toBe(true);
    const hvRef = ng.matmul(h, ng.onesLike(x));
    expect(ng.testing.allclose(hv, hvRef, { rtol: 1e-4, atol: 1e-5 })).toBe(true);
  });

  it("an hvp's inner linearization counts its eager forward-mode residuals (primal and tangent)", () => {
    const v = randn(7, [32]);
    const m = ng.memory.measure(() => ng.hvp((u: Tensor) => ng.sum(ng.sin(u)), v, v));
    // d sin(u) = cos(u)·du keeps cos(u): a JVP tracer of the outer jvp, whose primal and
    // tangent are 32 float32 each
    // (one linearization: the inner gradient, whoever makes it under the switching setting)
    expect(m.linearizations).toHaveLength(1);
    expect(m.linearizations[0]).toMatchObject({
      bytes: 2 * 32 * 4,
      viaTracers: 2 * 32 * 4,
      released: true,
    });
    expect(m.peakBytes).toBe(2 * 32 * 4);
    expect(m.retainedBytes).toBe(0);
  });

  it("vmap of grad (per-sample gradients) counts the batched residuals once", () => {
    const xs = randn(8, [10, 4]);
    const m = ng.memory.measure(() => ng.vmap(ng.grad((u: Tensor) => ng.sum(ng.sin(u))))(xs));
    expect(m.peakBytes).toBe(10 * 4 * 4); // cos(u) for the whole batch
    expect(m.retainedBytes).toBe(0);
  });
});

describe("ng.memory: nested derivatives under every strategy and under jit", () => {
  const [N, H] = [32, 8];
  const ps = params([1, H, H, 1]);
  const x = randn(20, [N, 1]);
  const loss = pinnLoss(x);
  const settings: [string, Partial<ng.config.Config>][] = [
    ["off", { nestedSwitching: false }],
    ["auto", { nestedStrategy: "auto" }],
    ["nest", { nestedStrategy: "nest" }],
    ["forwardOverReverse", { nestedStrategy: "forwardOverReverse" }],
    ["innerForward", { nestedStrategy: "innerForward" }],
  ];
  const reference = ng.grad(pinnLoss(ng.cast(x, "float64")))(
    ps.map((p) => ng.cast(p, "float64")),
  ) as Tensor[];

  for (const [name, config] of settings) {
    it(`grad of grad releases everything (${name}), twice (the decision cache)`, () => {
      ng.config.set(config);
      const start = live();
      for (let k = 0; k < 2; k++) {
        const m = ng.memory.measure(() => ng.grad(loss)(ps) as Tensor[]);
        expect(m.retainedBytes).toBe(0);
        expect(m.linearizations.every((r) => r.released)).toBe(true);
        expect(m.peakBytes).toBeGreaterThan(0);
        m.value.forEach((g, i) =>
          expect(ng.testing.allclose(g, reference[i]!, { rtol: 2e-3, atol: 1e-4 })).toBe(true),
        );
      }
      expect(live()).toBe(start);
    });
  }

  for (const backend of ["interpreter", "auto"]) {
    it(`jit(grad(loss)) releases everything (backend ${backend})`, () => {
      const start = live();
      const g = ng.jit(ng.grad(loss), { backend });
      const first = ng.memory.measure(() => g(ps) as Tensor[]);
      expect(first.retainedBytes).toBe(0);
      const second = ng.memory.measure(() => g(ps) as Tensor[]);
      // compiled: the call linearizes nothing eagerly
      expect(second.linearizations).toHaveLength(0);
      expect(second.peakBytes).toBe(0);
      second.value.forEach((v, i) =>
        expect(ng.testing.allclose(v, reference[i]!, { rtol: 2e-3, atol: 1e-4 })).toBe(true),
      );
      expect(live()).toBe(start);
    });
  }

  it("nest keeps more alive than forwardOverReverse (read from the records)", () => {
    const start = live();
    const run = (strategy: "nest" | "forwardOverReverse") => {
      ng.config.set({ nestedStrategy: strategy });
      return ng.memory.measure(() => ng.grad(loss)(ps));
    };
    const nest = run("nest");
    const fr = run("forwardOverReverse");
    // the peak is the highest live level any registration reached
    for (const m of [nest, fr]) {
      const highest = Math.max(...m.linearizations.map((r) => r.liveBytesAfter));
      expect(m.peakBytes).toBe(highest - m.startBytes);
    }
    const outer = (m: typeof nest) => m.linearizations.find((r) => r.owner === "grad")!;
    // forwardOverReverse: the outer linearization keeps only the call's inputs (the
    // parameters and x) and the residual 2(r − cos x) [N, 1] of the square
    const paramElements = ps.reduce((s, p) => s + p.size, 0);
    expect(outer(fr).bytes).toBe(4 * (paramElements + N + N));
    // nest: the outer linearization holds the inner backward pass's residuals with their
    // derivatives: at least tanh'(z1), tanh'(z2), h1, h2 ([N, H] each)
    expect(outer(nest).bytes).toBeGreaterThan(4 * 4 * N * H);
    // and its peak is that linearization (the inner one's residuals are outer tracers)
    expect(nest.peakBytes).toBe(outer(nest).bytes);
    expect(nest.peakBytes).toBeGreaterThan(fr.peakBytes);
    expect(outer(nest).bytes).toBeGreaterThan(10 * outer(fr).bytes);
    expect(live()).toBe(start);
  });
});

describe("ng.memory: measure and dispose", () => {
  it("measurements nest, and the outer one sees the inner peak", () => {
    const x = randn(30, [64]);
    const g = () => ng.grad((v: Tensor) => ng.sum(ng.tanh(v)))(x);
    const outer = ng.memory.measure(() => {
      const inner = ng.memory.measure(g);
      expect(inner.peakBytes).toBe(256);
      return inner.linearizations.length;
    });
    expect(outer.value).toBe(1);
    expect(outer.peakBytes).toBe(256);
    expect(outer.linearizations).toHaveLength(1);
  });

  it("a measured function that throws leaves the ledger consistent", () => {
    const start = live();
    expect(() =>
      ng.memory.measure(() => {
        ng.grad((v: Tensor) => ng.sum(ng.exp(v)))(ng.array([1, 2]));
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(live()).toBe(start);
  });

  it("rejects bad arguments with the op and argument named", () => {
    expect(() => ng.memory.measure(42 as never)).toThrow(
      /memory\.measure: fn must be a function, got number 42/,
    );
    expect(() => ng.memory.measure(() => Promise.resolve(1))).toThrow(
      /memory\.measure: fn returned a Promise/,
    );
    expect(() => ng.memory.dispose(() => 1)).toThrow(
      /memory\.dispose: pullback must be a pullback returned by ng\.vjp/,
    );
    expect(() => ng.memory.dispose(undefined)).toThrow(/memory\.dispose/);
  });
});
