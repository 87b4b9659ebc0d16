/**
 * Tests of optim/ (one test list runs every rule): every rule
 * is enrolled once in RULES (optim-rules.ts) with an independent plain-JS reference, and
 * shared checks run over the list: the first two steps against the reference on a nested
 * params tree, state round trip through restore, purity, convergence on a quadratic, and
 * freezing. Then the closed forms (Adam's first step ≈ −lr·sign(g), ...), chaining,
 * schedules, tensor hyperparameters, differentiating through an update, and errors.
 */
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { expectClose, f64, flat } from "./transforms-helpers.js";
import { RULES, type Ref } from "./optim-rules.js";

const { optim, train } = ng;
type Rule = ng.optim.Rule;

// ---------------------------------------------------------------------------------------
// Shared fixtures: a nested params tree and two gradient trees, in float64.

const P0 = {
  a: [
    [0.5, -1.0],
    [2.0, 0.25],
  ],
  b: [[1.5, -0.3, 0.1], { c: -2.0 }],
};
const G1 = {
  a: [
    [0.3, -0.2],
    [1.5, -0.01],
  ],
  b: [[0.7, -2.0, 0.05], { c: 0.4 }],
};
const G2 = {
  a: [
    [-0.1, 0.4],
    [0.8, 0.02],
  ],
  b: [[-0.6, 1.0, -0.3], { c: -0.2 }],
};

/** The nested tree shape of P0 with leaves as float64 tensors. */
function tree(v: typeof P0): any {
  return { a: f64(v.a), b: [f64(v.b[0]), { c: f64((v.b[1] as { c: number }).c) }] };
}
const leaves = (t: unknown): number[][] => ng.tree.flatten<Tensor>(t)[0].map((x) => flat(x));

/** The reference trajectory of params after each gradient of `grads`. */
function refTrajectory(ref: Ref, p0: number[][], grads: number[][][]): number[][][] {
  let states = ref.init(p0.map((l) => l.length));
  let p = p0;
  const out: number[][][] = [];
  grads.forEach((g, t) => {
    const [s, u] = ref.step(states, p, g, t);
    states = s;
    p = p.map((l, i) => l.map((x, j) => x - u[i]![j]!));
    out.push(p);
  });
  return out;
}

function expectLeaves(got: unknown, want: number[][], what: string, rtol = 1e-12): void {
  const g = leaves(got);
  expect(g.length).toBe(want.length);
  g.forEach((l, i) => expectClose(l, want[i]!, rtol, 1e-14, `${what} leaf ${i}`));
}

describe("every rule (shared checks)", () => {
  describe.each(RULES)("$name", (c) => {
    it("first two steps match the plain-JS reference on a nested params tree", () => {
      const ps0 = tree(P0);
      const os0 = optim.setup(c.make(), ps0);
      const [os1, ps1] = optim.update(os0, ps0, tree(G1));
      const [os2, ps2] = optim.update(os1, ps1, tree(G2));
      const want = refTrajectory(c.ref, leaves(ps0), [leaves(tree(G1)), leaves(tree(G2))]);
      expectLeaves(ps1, want[0]!, "step 1");
      expectLeaves(ps2, want[1]!, "step 2");
      expect([os0.step, os1.step, os2.step].map(Number)).toEqual([0, 1, 2]);
      expect(os2.step.dtype).toBe("int32");
      // The params tree keeps its structure (nested objects and arrays).
      expect(ng.tree.structureDifference(ng.tree.flatten(ps2)[1], ng.tree.flatten(ps0)[1])).toBe(
        null,
      );
      expect(ps2.b[1].c.dtype).toBe("float64");
    });

    it("state round trip: setup → update → restore(saved) → update equals two updates", () => {
      const rule = c.make();
      const ps0 = tree(P0);
      const [os1, ps1] = optim.update(optim.setup(rule, ps0), ps0, tree(G1));
      // The state is a pytree of tensors: copy every leaf as a fresh tensor, as a file would.
      const saved = {
        state: ng.tree.map((x: Tensor) => f64(x.toArray()), os1.state),
        step: os1.step,
      };
      const restored = optim.restore(optim.setup(rule, ps0), saved);
      expect(Number(restored.step)).toBe(1);
      const [, a] = optim.update(os1, ps1, tree(G2));
      const [, b] = optim.update(restored, ps1, tree(G2));
      expectLeaves(b, leaves(a), "restored", 0);
    });

    it("the state survives ng.train.saveJSON/loadJSON and saveBinary/loadBinary", () => {
      const rule = c.make();
      const ps0 = tree(P0);
      const [os1, ps1] = optim.update(optim.setup(rule, ps0), ps0, tree(G1));
      const saved = { state: os1.state, step: os1.step };
      const fresh = optim.setup(rule, ps0);
      const template = { state: fresh.state, step: fresh.step };
      const [, want] = optim.update(os1, ps1, tree(G2));
      for (const loaded of [
        train.loadJSON(train.saveJSON(saved), template),
        train.loadBinary(train.saveBinary(saved), template),
      ]) {
        const restored = optim.restore(fresh, loaded);
        expect(Number(restored.step)).toBe(1);
        const [, got] = optim.update(restored, ps1, tree(G2));
        expectLeaves(got, leaves(want), "after load", 0);
      }
    });

    it("is pure: the optimiser state, params and grads are unchanged", () => {
      const ps0 = tree(P0);
      const g = tree(G1);
      const os0 = optim.setup(c.make(), ps0);
      const before = leaves(os0.state);
      const [os1] = optim.update(os0, ps0, g);
      optim.update(os1, ps0, g);
      expect(Number(os0.step)).toBe(0);
      expect(leaves(os0.state)).toEqual(before);
      expect(leaves(ps0)).toEqual(leaves(tree(P0)));
      expect(leaves(g)).toEqual(leaves(tree(G1)));
      expect(Object.isFrozen(os1)).toBe(true);
    });

    it("converges on a quadratic ½ Σ h (p − c)²", () => {
      const h = f64([0.5, 1, 1.5, 0.8]);
      const cs = f64([1, -2, 0.5, 3]);
      const loss = (ps: { w: Tensor }): Tensor =>
        ng.sum(ng.mul(h, ng.square(ng.sub(ps.w, cs)))).mul(0.5);
      let ps = { w: f64([0, 0, 0, 0]) };
      let os = optim.setup(c.make(), ps);
      const dl = ng.grad(loss);
      for (let i = 0; i < c.converge.steps; i++) [os, ps] = optim.update(os, ps, dl(ps));
      const target = flat(cs).map((ci, i) =>
        (c.converge.target ?? ((_h, x) => x))(flat(h)[i]!, ci),
      );
      expectClose(ps.w, target, 0, c.converge.tol, "converged params");
    });

    it("freezing: frozen leaves and their state stay put; thaw resumes training", () => {
      const ps0 = tree(P0);
      const os0 = optim.freeze(optim.setup(c.make(), ps0), "b");
      expect(os0.frozen).toEqual([".b[0]", ".b[1].c"]);
      const [os1, ps1] = optim.update(os0, ps0, tree(G1));
      expect(ps1.b[0]).toBe(ps0.b[0]);
      expect(ps1.b[1].c).toBe(ps0.b[1].c);
      // The state of frozen leaves is not advanced: the very same tensors.
      const before = ng.tree.flatten(os0.state.b)[0];
      ng.tree.flatten(os1.state.b)[0].forEach((x, i) => expect(x).toBe(before[i]));
      // The trained leaf moves as if it were the whole tree.
      const want = refTrajectory(c.ref, [flat(P0.a.flat())], [[flat(G1.a.flat())]]);
      expectClose(ps1.a, want[0]![0]!, 1e-12, 1e-14, "unfrozen leaf");
      const [, ps2] = optim.update(optim.thaw(os1), ps1, tree(G1));
      expect(flat(ps2.b[1].c)).not.toEqual(flat(ps1.b[1].c));
    });
  });
});

describe("closed forms", () => {
  const g = [3, -0.5, 1e-3, -20];
  const p = [1, 2, -3, 0.5];
  const first = (rule: Rule): number[] => {
    const [, ps] = optim.update(optim.setup(rule, { w: f64(p) }), { w: f64(p) }, { w: f64(g) });
    return flat(ps.w).map((x, i) => p[i]! - x); // the update u = p − p' (to ~1e-15 absolute)
  };

  it("adam's first update is lr · sign(g) up to ε", () => {
    const u = first(optim.adam({ lr: 0.01 }));
    expectClose(
      u,
      g.map((x) => 0.01 * Math.sign(x)),
      1e-4,
      1e-15,
    );
    // Exactly lr · g / (|g| + ε).
    expectClose(
      u,
      g.map((x) => (0.01 * x) / (Math.abs(x) + 1e-8)),
      1e-13,
      1e-15,
    );
  });

  it("sgd: u = lr · g", () => {
    expectClose(
      first(optim.sgd(0.1)),
      g.map((x) => 0.1 * x),
      1e-14,
      1e-15,
    );
  });

  it("momentum and Nesterov, two steps by hand", () => {
    // heavy ball: v1 = g1, v2 = β g1 + g2, u = lr·v; Nesterov: u1 = lr(1+β) g1, u2 = lr(g2 + β v2)
    const lr = 0.1;
    const b = 0.9;
    for (const nesterov of [false, true]) {
      const rule = optim.momentum(lr, { beta: b, nesterov });
      let ps = { w: f64([0]) };
      let os = optim.setup(rule, ps);
      [os, ps] = optim.update(os, ps, { w: f64([2]) });
      [os, ps] = optim.update(os, ps, { w: f64([-1]) });
      const v2 = b * 2 - 1;
      const u1 = nesterov ? lr * (2 + b * 2) : lr * 2;
      const u2 = nesterov ? lr * (-1 + b * v2) : lr * v2;
      expectClose(ps.w, [-u1 - u2], 1e-14, 0, `nesterov=${nesterov}`);
      expectClose(os.state.w, [v2], 1e-14, 1e-15);
    }
  });

  it("rmsprop's first update is lr · g / (√(1−ρ) |g| + ε)", () => {
    expectClose(
      first(optim.rmsprop({ lr: 0.01, rho: 0.9 })),
      g.map((x) => (0.01 * x) / (Math.sqrt(0.1) * Math.abs(x) + 1e-8)),
      1e-12,
      1e-15,
    );
  });

  it("centered rmsprop's first update is lr · g / (√(0.1·0.9) |g| + ε)", () => {
    // s = 0.1 g², mg = 0.1 g → s − mg² = 0.09 g²
    expectClose(
      first(optim.rmsprop({ lr: 0.01, rho: 0.9, centered: true })),
      g.map((x) => (0.01 * x) / (0.3 * Math.abs(x) + 1e-8)),
      1e-12,
      1e-15,
    );
  });

  it("adagrad's first update is lr · g / (|g| + ε)", () => {
    expectClose(
      first(optim.adagrad({ lr: 0.5 })),
      g.map((x) => (0.5 * x) / (Math.abs(x) + 1e-8)),
      1e-13,
      1e-15,
    );
  });

  it("lion's first update is lr · (sign(g) + λ p)", () => {
    expectClose(
      first(optim.lion({ lr: 0.01, weightDecay: 0.5 })),
      g.map((x, i) => 0.01 * (Math.sign(x) + 0.5 * p[i]!)),
      1e-14,
      1e-15,
    );
  });

  it("adamw's decay is decoupled: u = adam's update + lr · λ · p", () => {
    const a = first(optim.adam({ lr: 0.01 }));
    const w = first(optim.adamw({ lr: 0.01, weightDecay: 0.1 }));
    expectClose(
      w,
      a.map((x, i) => x + 0.01 * 0.1 * p[i]!),
      1e-13,
      1e-15,
    );
    // whereas coupled weight decay enters Adam's normalisation: its first step stays ≈ lr·sign.
    const coupled = first(optim.chain(optim.weightDecay(0.1), optim.adam({ lr: 0.01 })));
    expectClose(
      coupled,
      g.map((x, i) => 0.01 * Math.sign(x + 0.1 * p[i]!)),
      1e-4,
      1e-15,
    );
  });

  it("adam keeps the bias-uncorrected moments in its state", () => {
    const ps = { w: f64(p) };
    const [os] = optim.update(optim.setup(optim.adam(), ps), ps, { w: f64(g) });
    expectClose(
      os.state.w.m,
      g.map((x) => 0.1 * x),
      1e-14,
      1e-15,
    );
    expectClose(
      os.state.w.v,
      g.map((x) => 0.001 * x * x),
      1e-12,
      1e-15,
    );
  });
});

describe("chaining", () => {
  const ps = { x: f64([3, 0]), y: f64([[0, 4]]) };
  const grads = { x: f64([3, 0]), y: f64([[0, 4]]) }; // global norm 5

  it("chain(clipByGlobalNorm, adam) clips before Adam sees the gradient", () => {
    // With ε = 1 Adam's first step is lr · g / (|g| + 1), which depends on the scale of g.
    const rule = optim.chain(optim.clipByGlobalNorm(1), optim.adam({ lr: 0.1, eps: 1 }));
    const [, out] = optim.update(optim.setup(rule, ps), ps, grads);
    const u = (gc: number): number => (0.1 * gc) / (Math.abs(gc) + 1);
    expectClose(out.x, [3 - u(0.6), 0], 1e-14, 0);
    expectClose(out.y, [0, 4 - u(0.8)], 1e-14, 0);
  });

  it("clipByGlobalNorm uses the norm over all leaves, not per leaf", () => {
    const [, out] = optim.update(optim.setup(optim.clipByGlobalNorm(2.5), ps), ps, grads);
    expectClose(out.x, [3 - 1.5, 0], 1e-14, 0);
    expectClose(out.y, [0, 4 - 2], 1e-14, 0);
    // Below the threshold the gradient passes unchanged.
    const [, same] = optim.update(optim.setup(optim.clipByGlobalNorm(10), ps), ps, grads);
    expectClose(same.y, [0, 0], 0, 1e-15);
  });

  it("frozen leaves do not count in the global norm", () => {
    const os = optim.freeze(optim.setup(optim.clipByGlobalNorm(2), ps), "y");
    const [, out] = optim.update(os, ps, grads);
    expectClose(out.x, [3 - 2, 0], 1e-14, 0); // ‖g_x‖ = 3 → scaled to 2
    expect(out.y).toBe(ps.y);
  });

  it("order matters: chain(sgd, clip) clips the scaled step", () => {
    const rule = optim.chain(optim.sgd(10), optim.clipByValue(-1, 1));
    const [, out] = optim.update(
      optim.setup(rule, { w: f64([0, 0]) }),
      { w: f64([0, 0]) },
      {
        w: f64([0.05, -3]),
      },
    );
    expectClose(out.w, [-0.5, 1], 1e-14, 0);
    expect(rule.rules.map((r) => r.kind)).toEqual(["sgd", "clipByValue"]);
  });

  it("a chain's state is the list of its rules' states", () => {
    const rule = optim.chain(optim.clipByGlobalNorm(1), optim.momentum(0.1));
    const os = optim.setup(rule, { w: f64([1, 2]) });
    expect(os.state.w[0]).toBe(null);
    expect(flat(os.state.w[1])).toEqual([0, 0]);
  });

  it("an empty chain subtracts the gradient itself", () => {
    const [, out] = optim.update(
      optim.setup(optim.chain(), { w: f64([1]) }),
      { w: f64([1]) },
      {
        w: f64([0.25]),
      },
    );
    expectClose(out.w, [0.75], 0, 0);
  });
});

describe("schedules", () => {
  const S = optim.schedules;
  it("constant", () => {
    expect([0, 7, 1e6].map(S.constant(0.3))).toEqual([0.3, 0.3, 0.3]);
  });
  it("exponential, smooth and staircase", () => {
    const s = S.exponential(2, 0.5, 10);
    expectClose([0, 5, 10, 20].map(s), [2, 2 * 0.5 ** 0.5, 1, 0.5], 1e-15, 0);
    const st = S.exponential(2, 0.5, 10, { staircase: true });
    expect([0, 9, 10, 19, 20].map(st)).toEqual([2, 2, 1, 1, 0.5]);
  });
  it("cosine", () => {
    const s = S.cosine(1, 100);
    expectClose([0, 25, 50, 100, 500].map(s), [1, (1 + Math.SQRT1_2) / 2, 0.5, 0, 0], 1e-15, 1e-15);
    const a = S.cosine(2, 10, { alpha: 0.1 });
    expectClose([0, 5, 10, 11].map(a), [2, 2 * (0.9 * 0.5 + 0.1), 0.2, 0.2], 1e-15, 1e-15);
  });
  it("linearWarmup, alone and composed with another schedule", () => {
    const w = S.linearWarmup(1, 4);
    expect([0, 1, 2, 4, 100].map(w)).toEqual([0, 0.25, 0.5, 1, 1]);
    const wi = S.linearWarmup(1, 4, undefined, { init: 0.2 });
    expectClose([0, 2, 4].map(wi), [0.2, 0.6, 1], 1e-15, 0);
    const wc = S.linearWarmup(1e-3, 100, S.cosine(1e-3, 900));
    expectClose([50, 100, 550, 1000, 2000].map(wc), [5e-4, 1e-3, 5e-4, 0, 0], 1e-12, 1e-18);
    expect(S.linearWarmup(1, 2, 0.5)(3)).toBe(0.5);
  });
  it("a rule evaluates its schedule at the update's step (0 on the first)", () => {
    const seen: number[] = [];
    const rule = optim.sgd((t) => (seen.push(t), 1));
    let ps = { w: f64([0]) };
    let os = optim.setup(rule, ps);
    for (let i = 0; i < 3; i++) [os, ps] = optim.update(os, ps, { w: f64([1]) });
    expect(seen).toEqual([0, 1, 2]);
    expectClose(ps.w, [-3], 0, 0);
  });
  it("any hyperparameter takes a schedule (adam's beta1)", () => {
    const sched = optim.adam({ lr: 0.1, beta1: S.constant(0.5) });
    const plain = optim.adam({ lr: 0.1, beta1: 0.5 });
    const ps = tree(P0);
    const run = (r: Rule): unknown => {
      let os = optim.setup(r, ps);
      let q = ps;
      for (const g of [G1, G2]) [os, q] = optim.update(os, q, tree(g));
      return q;
    };
    expectLeaves(run(sched), leaves(run(plain)), "scheduled beta1", 0);
  });
  it("bad schedule arguments and values are reported", () => {
    expect(() => S.exponential(1, 0, 10)).toThrow(/schedules.exponential: decayRate must be > 0/);
    expect(() => S.cosine(1, -1)).toThrow(/schedules.cosine: decaySteps must be > 0/);
    expect(() => S.linearWarmup(1, 0)).toThrow(/linearWarmup: warmupSteps/);
    expect(() => S.constant(NaN)).toThrow(/schedules.constant: v must be a finite number/);
    expect(() => S.cosine(1, 10)(-1)).toThrow(/step must be a non-negative number/);
    const rule = optim.adam({ lr: () => NaN });
    const ps = { w: f64([1]) };
    expect(() => optim.update(optim.setup(rule, ps), ps, { w: f64([1]) })).toThrow(
      /optim.adam: lr \(schedule value at step 0\) must be a number in \[0, ∞\), got NaN/,
    );
    const beta = optim.momentum(0.1, { beta: () => 1 });
    expect(() => optim.update(optim.setup(beta, ps), ps, { w: f64([1]) })).toThrow(
      /optim.momentum: beta \(schedule value at step 0\) must be a number in \[0, 1\)/,
    );
  });
});

describe("tensor hyperparameters and differentiating through updates", () => {
  it("a rank-0 tensor hyperparameter gives the same result as the number", () => {
    const ps = tree(P0);
    const a = optim.update(
      optim.setup(optim.adam({ lr: f64(0.05), beta1: f64(0.8) }), ps),
      ps,
      tree(G1),
    );
    const b = optim.update(optim.setup(optim.adam({ lr: 0.05, beta1: 0.8 }), ps), ps, tree(G1));
    expectLeaves(a[1], leaves(b[1]), "tensor lr", 1e-15);
  });

  it("the derivative of the loss after an SGD step with respect to lr (closed form)", () => {
    // L(p) = ½ p², one step p1 = p0 − lr p0 → L(p1) = ½ (1−lr)² p0², dL/dlr = −(1−lr) p0²
    const p0 = 3;
    const f = (lr: Tensor): Tensor => {
      const ps = { w: f64(p0) };
      const [, ps1] = optim.update(optim.setup(optim.sgd(lr), ps), ps, { w: ps.w });
      return ng.mul(ng.square(ps1.w), 0.5);
    };
    expectClose(ng.grad(f)(f64(0.2)), [-(1 - 0.2) * p0 * p0], 1e-14, 0);
  });

  const smooth = RULES.filter((c) => c.smooth);
  it.each(smooth)("two unrolled $name steps differentiate like finite differences", (c) => {
    // Meta-learning shape: params after two updates driven by the loss's own gradient.
    const loss = (w: Tensor): Tensor => ng.sum(ng.mul(ng.sin(w), ng.square(w)));
    const f = (w0: Tensor): Tensor => {
      let ps = { w: w0 };
      let os = optim.setup(c.make(), ps);
      for (let i = 0; i < 2; i++)
        [os, ps] = optim.update(os, ps, ng.grad((q: typeof ps) => loss(q.w))(ps));
      return ps.w;
    };
    ng.testing.checkGrads(f, [f64([0.7, -1.3, 2.1])], { order: 1 });
  });
});

describe("freezing", () => {
  const ps = { enc: { w: f64([1, 2]), b: f64([0]) }, dec: [f64([3]), f64([4])] };
  const g = { enc: { w: f64([1, 1]), b: f64([1]) }, dec: [f64([1]), f64([1])] };
  const os = optim.setup(optim.sgd(1), ps);

  it("by path string, list of keys or predicate", () => {
    expect(optim.freeze(os, ".enc").frozen).toEqual([".enc.w", ".enc.b"]);
    expect(optim.freeze(os, "enc.w").frozen).toEqual([".enc.w"]);
    expect(optim.freeze(os, "dec[1]").frozen).toEqual([".dec[1]"]);
    expect(optim.freeze(os, ["dec", 0]).frozen).toEqual([".dec[0]"]);
    expect(optim.freeze(os, (path) => path.endsWith(".b")).frozen).toEqual([".enc.b"]);
    expect(optim.freeze(os, "").frozen.length).toBe(4);
    // "enc" must not match a sibling "encoder": prefixes match whole keys only.
    const os2 = optim.setup(optim.sgd(1), { enc: f64([1]), encoder: f64([1]) });
    expect(optim.freeze(os2, "enc").frozen).toEqual([".enc"]);
  });

  it("freeze twice, thaw a part, thaw all", () => {
    const f = optim.freeze(optim.freeze(os, "enc"), "dec[0]");
    expect(f.frozen).toEqual([".enc.w", ".enc.b", ".dec[0]"]);
    expect(optim.thaw(f, "enc.w").frozen).toEqual([".enc.b", ".dec[0]"]);
    expect(optim.thaw(f).frozen).toEqual([]);
    expect(os.frozen).toEqual([]); // freeze is pure
    const [, out] = optim.update(f, ps, g);
    expect(out.enc.w).toBe(ps.enc.w);
    expectClose(out.dec[1], [3], 0, 0);
  });

  it("an unknown path is an error that lists the parameter paths", () => {
    expect(() => optim.freeze(os, "encoder")).toThrow(
      /optim.freeze: no parameter at path ".encoder"; the parameter leaves are: .enc.w, .enc.b, .dec\[0\], .dec\[1\]/,
    );
    expect(() => optim.freeze(os, 3 as never)).toThrow(/optim.freeze: expected a path string/);
  });
});

describe("errors", () => {
  const ps = { layer: { weight: f64([[1, 2]]), bias: f64([0]) } };
  const os = optim.setup(optim.adam(), ps);
  const good = { layer: { weight: f64([[1, 1]]), bias: f64([1]) } };

  it("grads that do not match ps name the path", () => {
    // @ts-expect-error: a missing gradient leaf, rejected at compile time too
    expect(() => optim.update(os, ps, { layer: { weight: good.layer.weight } })).toThrow(
      /optim.update: grads do not have the structure of ps: at .layer: keys differ \(missing \["bias"\], extra \[\]\)/,
    );
    expect(() => optim.update(os, ps, { layer: { weight: f64([1, 1]), bias: f64([1]) } })).toThrow(
      /optim.update: grads.layer.weight: expected shape \[1, 2\] \(the parameter's\), got \[2\]/,
    );
    // @ts-expect-error: a number where a tensor belongs, rejected at compile time too
    expect(() => optim.update(os, ps, { layer: { weight: 1, bias: f64([1]) } })).toThrow(
      /optim.update: grads.layer.weight: expected a tensor, got number 1/,
    );
  });

  it("params that do not match the optimiser state name the path", () => {
    const other = { layer: { weight: f64([[1, 2]]), bias: f64([0]), extra: f64([0]) } };
    expect(() => optim.update(os, other, other)).toThrow(
      /optim.update: ps does not have the structure the optimiser state was set up for: at .layer: keys differ \(missing \[\], extra \["extra"\]\)/,
    );
    expect(() => optim.update({} as never, ps, good)).toThrow(
      /optim.update: optState: expected the result of ng.optim.setup/,
    );
  });

  it("setup rejects non-float leaves and non-rules", () => {
    expect(() => optim.setup(optim.sgd(), { a: { b: ng.array([1], { dtype: "int32" }) } })).toThrow(
      /optim.setup: ps.a.b: expected a float tensor, got dtype int32/,
    );
    expect(() => optim.setup(optim.sgd(), { a: [f64([1]), "x"] })).toThrow(
      /optim.setup: ps.a\[1\]: expected a float tensor, got string x/,
    );
    expect(() => optim.setup({ kind: "x" } as never, ps)).toThrow(
      /optim.setup: rule: expected an optimiser rule/,
    );
    expect(() => optim.chain(optim.sgd(), 3 as never)).toThrow(/optim.chain: rules\[1\]/);
  });

  it("bad hyperparameters name the rule and the hyperparameter", () => {
    expect(() => optim.sgd(-1)).toThrow(/optim.sgd: lr must be a number in \[0, ∞\), got -1/);
    expect(() => optim.adam({ beta1: 1 })).toThrow(
      /optim.adam: beta1 must be a number in \[0, 1\), got 1/,
    );
    expect(() => optim.adam({ lr: "big" as never })).toThrow(
      /optim.adam: lr: expected a number, a rank-0 tensor or a schedule/,
    );
    expect(() => optim.adam({ lr: f64([1, 2]) })).toThrow(
      /optim.adam: lr: a tensor hyperparameter must have shape \[\], got float64\[2\]/,
    );
    expect(() => optim.momentum(0.1, { nesterov: 1 as never })).toThrow(
      /optim.momentum: options.nesterov must be a boolean/,
    );
    expect(() => optim.rmsprop({ centered: "yes" as never })).toThrow(
      /optim.rmsprop: options.centered/,
    );
    expect(() => optim.clipByGlobalNorm(0)).toThrow(
      /optim.clipByGlobalNorm: maxNorm must be a number in \(0, ∞\)/,
    );
    expect(() => optim.clipByValue(1, -1)).toThrow(/optim.clipByValue: lo must not exceed hi/);
    expect(() => optim.adamw("fast" as never)).toThrow(/optim.adamw: options must be an object/);
  });

  it("restore checks structure, shapes and dtypes against the fresh state", () => {
    expect(() =>
      optim.restore(os, {
        state: { layer: { weight: { m: f64([[0, 0]]), v: f64([[0, 0]]) } } },
        step: 1,
      }),
    ).toThrow(
      /optim.restore: saved.state does not have the structure of the optimiser state: at .layer: keys differ/,
    );
    const bad = ng.tree.map((x: Tensor) => ng.array(x.toArray(), { dtype: "float32" }), os.state);
    expect(() => optim.restore(os, { state: bad, step: 1 })).toThrow(
      /optim.restore: saved.state.layer.weight.m: expected float64\[1, 2\], got float32\[1, 2\]/,
    );
    expect(() => optim.restore(os, { state: os.state, step: -1 })).toThrow(
      /optim.restore: saved.step: expected a non-negative integer/,
    );
  });
});

describe("float32 params", () => {
  it("keep their dtype through every rule", () => {
    const ps = { w: ng.array([1, -2, 3]) };
    for (const c of RULES) {
      let os = optim.setup(c.make(), ps);
      let q = ps;
      for (let i = 0; i < 2; i++) [os, q] = optim.update(os, q, { w: ng.array([0.5, -0.1, 2]) });
      expect(q.w.dtype, c.name).toBe("float32");
      expect(
        ng.tree.flatten<Tensor>(os.state)[0].every((t) => t.dtype === "float32"),
        c.name,
      ).toBe(true);
    }
  });
});
