/**
 * Tests of ng.nn.losses: values against closed forms in plain JS,
 * the three reductions, stability for huge logits (finite values and gradients), int32
 * vs one-hot labels, gradients against finite differences (order 2 where smooth), and
 * shape/label errors.
 */
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { expectClose, f64, flat, randn } from "./helpers.js";

const nn = ng.nn;
const int = (v: unknown): Tensor => ng.array(v, { dtype: "int32" });
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

describe("regression losses", () => {
  const p = f64([
    [1, -2],
    [0.5, 4],
  ]);
  const t = f64([
    [0, 1],
    [0.5, 1],
  ]);
  const d = [1, -3, 0, 3];

  it("mse, mae with each reduction", () => {
    expectClose(nn.mse(p, t), [mean(d.map((x) => x * x))]);
    expectClose(nn.mse(p, t, { reduction: "sum" }), [19]);
    expectClose(
      nn.mse(p, t, { reduction: "none" }),
      d.map((x) => x * x),
    );
    expect(nn.mse(p, t, { reduction: "none" }).shape).toEqual([2, 2]);
    expectClose(nn.mae(p, t), [7 / 4]);
    expectClose(nn.losses.mae(p, t, { reduction: "sum" }), [7]);
  });

  it("huber: quadratic inside delta, linear outside, C¹ at the joint", () => {
    const h = (x: number, delta: number): number =>
      Math.abs(x) <= delta ? 0.5 * x * x : delta * (Math.abs(x) - 0.5 * delta);
    expectClose(
      nn.huber(p, t, { reduction: "none" }),
      d.map((x) => h(x, 1)),
    );
    expectClose(nn.huber(p, t, { delta: 2 }), [mean(d.map((x) => h(x, 2)))]);
    // Derivative continuous at |d| = delta: both sides give delta.
    const g = ng.grad((x: Tensor) => nn.huber(x, f64([0]), { delta: 1.5, reduction: "sum" }));
    expectClose(g(f64([1.5 - 1e-9])) as Tensor, [1.5], 1e-8);
    expectClose(g(f64([1.5 + 1e-9])) as Tensor, [1.5], 1e-8);
  });

  it("gradients match finite differences", () => {
    const x = randn(1, [3, 2]);
    const y = randn(2, [3, 2]);
    ng.testing.checkGrads((a: Tensor, b: Tensor) => nn.mse(a, b), [x, y], { order: 2 });
    ng.testing.checkGrads((a: Tensor) => nn.mae(a, y), [x], { order: 1 });
    ng.testing.checkGrads((a: Tensor) => nn.huber(a, y, { delta: 0.7 }), [x], { order: 1 });
  });

  it("rejects mismatched shapes and bad options", () => {
    expect(() => nn.mse(ng.zeros([4]), ng.zeros([4, 1]))).toThrow(
      "mse: yPred and yTrue must have the same shape, got [4] and [4, 1]",
    );
    expect(() => nn.mse(ng.zeros([4]), ng.zeros([4]), { reduction: "avg" as any })).toThrow(
      /mse: reduction: expected "mean", "sum" or "none"/,
    );
    expect(() => nn.huber(ng.zeros([1]), ng.zeros([1]), { delta: 0 })).toThrow(/huber: delta/);
  });
});

describe("binaryCrossEntropyWithLogits", () => {
  const bce = (z: number, y: number): number =>
    -y * Math.log(1 / (1 + Math.exp(-z))) - (1 - y) * Math.log(1 - 1 / (1 + Math.exp(-z)));

  it("matches -y log σ(z) - (1-y) log(1-σ(z)) for moderate logits", () => {
    const z = [-3, -0.5, 0, 0.7, 2.5];
    const y = [0, 1, 0.3, 1, 0];
    expectClose(
      nn.binaryCrossEntropyWithLogits(f64(z), f64(y), { reduction: "none" }),
      z.map((zi, i) => bce(zi, y[i]!)),
      1e-12,
    );
  });

  it("is finite, with finite gradients, for huge logits (float32 too)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const z = ng.array([1000, -1000, 1e30, -1e30], { dtype });
      const y = ng.array([1, 0, 0, 1], { dtype });
      const v = flat(nn.binaryCrossEntropyWithLogits(z, y, { reduction: "none" }));
      expect(v[0]).toBe(0);
      expect(v[1]).toBe(0);
      expect(v[2]).toBeCloseTo(1e30, -25);
      expect(v[3]).toBeCloseTo(1e30, -25);
      const g = flat(
        ng.grad((zz: Tensor) => nn.binaryCrossEntropyWithLogits(zz, y, { reduction: "sum" }))(
          z,
        ) as Tensor,
      );
      expect(g).toEqual([0, 0, 1, -1]); // σ(z) - y
    }
  });

  it("gradient is σ(z) - y, to order 2", () => {
    const z = randn(3, [4]);
    const y = f64([0, 1, 0.5, 1]);
    const g = ng.grad((zz: Tensor) => nn.binaryCrossEntropyWithLogits(zz, y, { reduction: "sum" }))(
      z,
    ) as Tensor;
    expectClose(
      g,
      flat(z).map((zi, i) => 1 / (1 + Math.exp(-zi)) - flat(y)[i]!),
      1e-12,
    );
    ng.testing.checkGrads((a: Tensor, b: Tensor) => nn.binaryCrossEntropyWithLogits(a, b), [z, y], {
      order: 2,
    });
  });
});

describe("crossEntropyWithLogits", () => {
  const logits = f64([
    [2, 0, -1],
    [0.5, 0.5, 3],
  ]);
  const lse = (r: number[]): number => Math.log(r.reduce((a, b) => a + Math.exp(b), 0));
  const rows = logits.toArray() as number[][];

  it("int32 labels: logsumexp(z) - z[label]", () => {
    const want = [lse(rows[0]!) - 2, lse(rows[1]!) - 3];
    expectClose(nn.crossEntropyWithLogits(logits, int([0, 2]), { reduction: "none" }), want, 1e-12);
    expectClose(nn.crossEntropyWithLogits(logits, int([0, 2])), [mean(want)], 1e-12);
    expectClose(
      nn.crossEntropyWithLogits(logits, int([0, 2]), { reduction: "sum" }),
      [want[0]! + want[1]!],
      1e-12,
    );
  });

  it("one-hot and probability labels agree with the int32 form and the closed form", () => {
    const oneHot = f64([
      [1, 0, 0],
      [0, 0, 1],
    ]);
    expectClose(
      nn.crossEntropyWithLogits(logits, oneHot),
      nn.crossEntropyWithLogits(logits, int([0, 2])),
      1e-12,
    );
    const probs = f64([
      [0.2, 0.3, 0.5],
      [0.6, 0.4, 0],
    ]);
    const want = rows.map((r, i) =>
      (probs.toArray() as number[][])[i]!.reduce((s, p, c) => s - p * (r[c]! - lse(r)), 0),
    );
    expectClose(nn.crossEntropyWithLogits(logits, probs, { reduction: "none" }), want, 1e-12);
  });

  it("is finite for huge logits, with gradient softmax - onehot", () => {
    const z = ng.array([[1e4, 0, -1e4]], { dtype: "float32" });
    expectClose(nn.crossEntropyWithLogits(z, int([0])), [0]);
    expectClose(nn.crossEntropyWithLogits(z, int([2])), [2e4]);
    const g = ng.grad((zz: Tensor) => nn.crossEntropyWithLogits(zz, int([2])))(z) as Tensor;
    expectClose(g, [1, 0, -1]);
  });

  it("gradients to order 2 wrt logits (int labels) and wrt both (probability labels)", () => {
    const z = randn(4, [3, 4]);
    ng.testing.checkGrads((a: Tensor) => nn.crossEntropyWithLogits(a, int([0, 3, 1])), [z], {
      order: 2,
    });
    const p = ng.softmax(randn(5, [3, 4]));
    ng.testing.checkGrads((a: Tensor, b: Tensor) => nn.crossEntropyWithLogits(a, b), [z, p], {
      order: 2,
    });
  });

  it("supports extra leading axes ([B, T, C] with labels [B, T])", () => {
    const z = randn(6, [2, 3, 4]);
    const labels = int([
      [0, 1, 2],
      [3, 0, 1],
    ]);
    const l = nn.crossEntropyWithLogits(z, labels, { reduction: "none" });
    expect(l.shape).toEqual([2, 3]);
    expectClose(
      ng.reshape(l, [6]),
      nn.crossEntropyWithLogits(ng.reshape(z, [6, 4]), ng.reshape(labels, [6]), {
        reduction: "none",
      }),
      1e-12,
    );
  });

  it("rejects bad labels", () => {
    expect(() => nn.crossEntropyWithLogits(logits, int([0, 3]))).toThrow(
      "crossEntropyWithLogits: labels: class index 3 (element 1) is out of range [0, 3)",
    );
    expect(() => nn.crossEntropyWithLogits(logits, int([0, 1, 2]))).toThrow(
      /int32 labels must have the logits' shape without the class axis, \[2\], got \[3\]/,
    );
    expect(() => nn.crossEntropyWithLogits(logits, f64([[1, 0, 0]]))).toThrow(
      "crossEntropyWithLogits: logits and probability labels must have the same shape, got [2, 3] and [1, 3]",
    );
  });
});

describe("klDivergence", () => {
  const p = [
    [0.2, 0.3, 0.5],
    [0.7, 0.3, 0],
  ];
  const q = [
    [0.1, 0.6, 0.3],
    [0.4, 0.4, 0.2],
  ];
  const kl = p.map((r, i) =>
    r.reduce((s, pi, c) => (pi > 0 ? s + pi * Math.log(pi / q[i]![c]!) : s), 0),
  );
  const logQ = ng.log(f64(q));

  it("KL(P‖Q) per sample with 0·log 0 = 0; probabilities or log targets", () => {
    expectClose(nn.klDivergence(logQ, f64(p), { reduction: "none" }), kl, 1e-12);
    expectClose(nn.klDivergence(logQ, f64(p)), [mean(kl)], 1e-12);
    const logP = ng.log(f64([p[0]!]));
    expectClose(nn.klDivergence(ng.log(f64([q[0]!])), logP, { logTarget: true }), [kl[0]!], 1e-12);
    expectClose(nn.klDivergence(logQ, ng.exp(logQ)), [0], 1e-12);
  });

  it("gradients are finite where p = 0, and match finite differences", () => {
    const g = ng.grad((t: Tensor) => nn.klDivergence(logQ, t, { reduction: "sum" }))(
      f64(p),
    ) as Tensor;
    expect(flat(g).every(Number.isFinite)).toBe(true);
    const lq = ng.logSoftmax(randn(7, [2, 3]));
    const pp = ng.softmax(randn(8, [2, 3]));
    ng.testing.checkGrads((a: Tensor, b: Tensor) => nn.klDivergence(a, b), [lq, pp], { order: 2 });
    ng.testing.checkGrads(
      (a: Tensor, b: Tensor) => nn.klDivergence(a, b, { logTarget: true }),
      [lq, ng.log(pp)],
      {
        order: 2,
      },
    );
  });
});
