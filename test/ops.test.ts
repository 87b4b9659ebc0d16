/**
 * Tests of the ops/ composites: values against closed forms and
 * naive JS in float64, stability at extreme inputs, Tensor methods, creation functions,
 * argument errors, and first-order gradients against central finite differences.
 */
import { describe, expect, it } from "vitest";
import type { Tensor } from "../src/core/tensor.js";
import { grad } from "../src/transforms/grad.js";
import * as ng from "../src/ops/index.js";

const f64 = { dtype: "float64" } as const;
const arr = (v: unknown): Tensor => ng.array(v, f64);

/** Flat row-major values of a tensor as JS numbers. */
const flat = (t: Tensor): number[] => Array.from(t.dataSync());

function expectClose(
  actual: Tensor | number | number[],
  expected: number | number[],
  tol = 1e-12,
): void {
  const a = typeof actual === "number" ? [actual] : Array.isArray(actual) ? actual : flat(actual);
  const e = typeof expected === "number" ? [expected] : expected;
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => {
    const want = e[i]!;
    if (!Number.isFinite(want)) expect(v).toBe(want);
    else expect(Math.abs(v - want)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
  });
}

/** Central finite differences of a scalar function of one float64 tensor. */
function finiteDiff(f: (x: Tensor) => Tensor, x: Tensor, h = 1e-6): number[] {
  const base = flat(x);
  return base.map((_, i) => {
    const at = (d: number): number => {
      const v = base.slice();
      v[i]! += d;
      return f(ng.reshape(arr(v), x.shape)).item();
    };
    return (at(h) - at(-h)) / (2 * h);
  });
}

function checkGrad(f: (x: Tensor) => Tensor, x: Tensor, tol = 1e-6): void {
  const g = grad(f)(x) as Tensor;
  expect(g.shape).toEqual(x.shape);
  expect(g.dtype).toBe("float64");
  expectClose(g, finiteDiff(f, x), tol);
}

// Naive JS oracles.
const erfJs = (x: number): number => {
  // Abramowitz-Stegun 7.1.26 is too coarse; integrate the series instead (|x| <= 3 here).
  let sum = 0;
  let term = x;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};
const sigmoidJs = (x: number): number => 1 / (1 + Math.exp(-x));

const X = [-2.5, -1.2, -0.3, 0.4, 1.1, 2.7];
const M = [
  [0.5, -1.5, 2.0],
  [1.25, 0.75, -0.5],
];

describe("elementwise composites: values", () => {
  const cases: [string, (x: Tensor) => Tensor, (v: number) => number][] = [
    ["square", ng.square, (v) => v * v],
    ["relu", ng.relu, (v) => Math.max(v, 0)],
    ["leakyRelu", (x) => ng.leakyRelu(x), (v) => (v >= 0 ? v : 0.01 * v)],
    ["leakyRelu(0.2)", (x) => ng.leakyRelu(x, 0.2), (v) => (v >= 0 ? v : 0.2 * v)],
    ["gelu", (x) => ng.gelu(x), (v) => 0.5 * v * (1 + erfJs(v / Math.SQRT2))],
    [
      "gelu approximate",
      (x) => ng.gelu(x, true),
      (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    ],
    ["softplus", ng.softplus, (v) => Math.log(1 + Math.exp(v))],
    ["silu", ng.silu, (v) => v * sigmoidJs(v)],
    ["swish", ng.swish, (v) => v * sigmoidJs(v)],
    ["elu", (x) => ng.elu(x), (v) => (v > 0 ? v : Math.exp(v) - 1)],
    ["elu(0.5)", (x) => ng.elu(x, 0.5), (v) => (v > 0 ? v : 0.5 * (Math.exp(v) - 1))],
    ["clip", (x) => ng.clip(x, -1, 1), (v) => Math.min(Math.max(v, -1), 1)],
    ["clip lo only", (x) => ng.clip(x, 0), (v) => Math.max(v, 0)],
    ["clip hi only", (x) => ng.clip(x, null, 0.5), (v) => Math.min(v, 0.5)],
  ];
  for (const [name, f, oracle] of cases) {
    it(name, () => {
      const y = f(arr(X));
      expect(y.dtype).toBe("float64");
      expect(y.shape).toEqual([X.length]);
      expectClose(y, X.map(oracle), 1e-12);
    });
  }

  it("relu keeps an int32 dtype; float activations promote int32 to float32", () => {
    const i = ng.array([-2, 3], { dtype: "int32" });
    expect(ng.relu(i).dtype).toBe("int32");
    expect(ng.relu(i).toArray()).toEqual([0, 3]);
    expect(ng.softplus(i).dtype).toBe("float32");
    expect(ng.mean(i).dtype).toBe("float32");
    expect(ng.mean(i).item()).toBe(0.5);
  });

  it("clip broadcasts tensor bounds and rejects lo > hi", () => {
    const y = ng.clip(arr([[-5, 5]]), arr([[-1], [0]]), 2);
    expect(y.toArray()).toEqual([
      [-1, 2],
      [0, 2],
    ]);
    expect(() => ng.clip(arr([1]), 2, 1)).toThrow(/clip: lo must not exceed hi/);
    expect(() => ng.clip(arr([1]), NaN, 1)).toThrow(/clip: lo/);
  });
});

describe("reductions: values", () => {
  const rows = M;
  const all = rows.flat();
  const meanJs = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const varJs = (v: number[], ddof = 0): number => {
    const m = meanJs(v);
    return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - ddof);
  };
  const cols = [0, 1, 2].map((j) => rows.map((r) => r[j]!));

  it("mean over all, over an axis, keepdims, negative axis", () => {
    expectClose(ng.mean(arr(M)), meanJs(all));
    expectClose(ng.mean(arr(M), 0), cols.map(meanJs));
    const k = ng.mean(arr(M), -1, true);
    expect(k.shape).toEqual([2, 1]);
    expectClose(k, rows.map(meanJs));
    expectClose(ng.mean(arr(M), [0, 1]), meanJs(all));
  });

  it("variance and std with ddof", () => {
    expectClose(ng.variance(arr(M)), varJs(all));
    expectClose(
      ng.variance(arr(M), 1, false, 1),
      rows.map((r) => varJs(r, 1)),
    );
    expectClose(
      ng.std(arr(M), 0),
      cols.map((c) => Math.sqrt(varJs(c))),
    );
    expectClose(ng.std(arr(M), null, false, 1), Math.sqrt(varJs(all, 1)));
    expect(ng.variance(arr(M), 0, true).shape).toEqual([1, 3]);
    // Two-pass: a large offset does not destroy the variance.
    expectClose(ng.variance(arr([1e9 + 1, 1e9 + 2, 1e9 + 3])), 2 / 3, 1e-9);
  });

  it("sumSquares", () => {
    expectClose(
      ng.sumSquares(arr(M)),
      all.reduce((a, b) => a + b * b, 0),
    );
    expectClose(
      ng.sumSquares(arr(M), 0),
      cols.map((c) => c.reduce((a, b) => a + b * b, 0)),
    );
  });

  it("logsumexp matches the naive formula on moderate values", () => {
    const lse = (v: number[]): number => Math.log(v.reduce((a, b) => a + Math.exp(b), 0));
    expectClose(ng.logsumexp(arr(M)), lse(all));
    expectClose(ng.logsumexp(arr(M), 1), rows.map(lse));
    const k = ng.logsumexp(arr(M), 0, true);
    expect(k.shape).toEqual([1, 3]);
    expectClose(k, cols.map(lse));
  });

  it("softmax and logSoftmax match the naive formulas, along any axis", () => {
    const sm = (v: number[]): number[] => {
      const e = v.map(Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / s);
    };
    expectClose(ng.softmax(arr(M)), rows.flatMap(sm));
    expectClose(
      ng.logSoftmax(arr(M)),
      rows.flatMap((r) => sm(r).map(Math.log)),
    );
    const s0 = ng.softmax(arr(M), 0);
    const c0 = cols.map(sm);
    expectClose(
      s0,
      [0, 1].flatMap((i) => c0.map((c) => c[i]!)),
    );
  });
});

describe("stability", () => {
  it("softplus of large and very negative inputs", () => {
    expectClose(ng.softplus(arr([1000, -1000, 0])), [1000, 0, Math.log(2)]);
    expectClose(ng.softplus(ng.array([100])), 100, 1e-7); // float32 too
    expectClose(ng.softplus(arr([-40])), Math.exp(-40), 1e-12);
  });

  it("logsumexp of large and of -inf values", () => {
    expectClose(ng.logsumexp(arr([1000, 1000])), 1000 + Math.log(2));
    expectClose(ng.logsumexp(arr([-1000, -1000])), -1000 + Math.log(2));
    expectClose(ng.logsumexp(arr([-Infinity, 0])), 0);
    expectClose(ng.logsumexp(arr([-Infinity, -Infinity])), -Infinity);
    expectClose(
      ng.logsumexp(ng.array([88, 89, 90])),
      90 + Math.log(1 + Math.exp(-1) + Math.exp(-2)),
      1e-6,
    );
  });

  it("softmax rows sum to 1 with large logits (float32 and float64)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const s = ng.softmax(
        ng.array(
          [
            [1000, 999, -1000],
            [5e4, 5e4, 5e4],
          ],
          { dtype },
        ),
      );
      const v = s.toArray() as number[][];
      for (const row of v) {
        expect(row.every(Number.isFinite)).toBe(true);
        expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
      }
      expect(v[1]![0]).toBeCloseTo(1 / 3, 6);
    }
    expectClose(ng.logSoftmax(arr([0, 1000])), [-1000, 0]);
  });

  it("elu and gelu at extreme x give no NaN, in value or gradient", () => {
    const x = arr([-1e5, -50, 50, 1e5]);
    for (const f of [
      (t: Tensor) => ng.elu(t),
      (t: Tensor) => ng.gelu(t),
      (t: Tensor) => ng.gelu(t, true),
    ]) {
      const y = flat(f(x));
      expect(y.every(Number.isFinite)).toBe(true);
      const g = flat(grad((t: Tensor) => ng.sum(f(t)))(x) as Tensor);
      expect(g.every(Number.isFinite)).toBe(true);
      expectClose(g[3]!, 1, 1e-12);
    }
    expectClose(ng.elu(arr([-1e5])), -1);
    expectClose(ng.gelu(arr([-1e5, 1e5])), [0, 1e5]);
    const gs = flat(grad((t: Tensor) => ng.sum(ng.softplus(t)))(arr([-1000, 1000])) as Tensor);
    expect(gs).toEqual([0, 1]);
  });

  it("norm of zero has a zero gradient, not NaN", () => {
    expectClose(ng.norm(arr([0, 0, 0])), 0);
    expect(flat(grad((t: Tensor) => ng.norm(t))(arr([0, 0, 0])) as Tensor)).toEqual([0, 0, 0]);
    const g = grad((t: Tensor) => ng.sum(ng.norm(t, 2, 1)))(
      arr([
        [0, 0],
        [3, 4],
      ]),
    ) as Tensor;
    expectClose(g, [0, 0, 0.6, 0.8]);
  });
});

describe("linear algebra: values", () => {
  it("norm of each order, over axes", () => {
    const all = M.flat();
    expectClose(ng.norm(arr(M)), Math.sqrt(all.reduce((a, b) => a + b * b, 0)));
    expectClose(
      ng.norm(arr(M), 1),
      all.reduce((a, b) => a + Math.abs(b), 0),
    );
    expectClose(ng.norm(arr(M), "inf"), 2);
    expectClose(
      ng.norm(arr(M), 1, 1),
      M.map((r) => r.reduce((a, b) => a + Math.abs(b), 0)),
    );
    expectClose(ng.norm(arr(M), "inf", 0), [1.25, 1.5, 2]);
    expect(ng.norm(arr(M), 2, 1, true).shape).toEqual([2, 1]);
  });

  it("dot, outer, trace", () => {
    expectClose(ng.dot(arr([1, 2, 3]), arr([4, 5, 6])), 32);
    expect(ng.dot(arr([1, 2, 3]), arr([4, 5, 6])).shape).toEqual([]);
    expectClose(ng.dot(arr(M), arr([1, 0, 2])), [4.5, 0.25]);
    expectClose(
      ng.dot(
        arr([
          [1, 2],
          [3, 4],
        ]),
        arr([
          [5, 6],
          [7, 8],
        ]),
      ),
      [19, 22, 43, 50],
    );
    expectClose(ng.dot(arr(2), arr([1, 3])), [2, 6]);
    const o = ng.outer(arr([1, 2]), arr([[3, 4, 5]]));
    expect(o.shape).toEqual([2, 3]);
    expectClose(o, [3, 4, 5, 6, 8, 10]);
    expectClose(
      ng.trace(
        arr([
          [1, 2],
          [3, 4],
        ]),
      ),
      5,
    );
    expectClose(ng.trace(arr(M)), 0.5 + 0.75);
    expectClose(ng.trace(arr([[1], [2], [3]])), 1);
    expectClose(ng.trace(ng.zeros([0, 3], f64)), 0);
    expectClose(ng.trace(ng.eye(5, 5, f64)), 5);
  });
});

describe("creation", () => {
  it("zeros, ones, full default to float32 and honour dtype", () => {
    expect(ng.zeros([2, 3]).dtype).toBe("float32");
    expect(ng.zeros([2, 3]).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(ng.ones(3, f64).dtype).toBe("float64");
    expect(ng.ones(3).toArray()).toEqual([1, 1, 1]);
    expect(ng.full([2], 7, { dtype: "int32" }).toArray()).toEqual([7, 7]);
    expect(ng.full([], 2.5).item()).toBe(2.5);
  });

  it("arange in its call forms, linspace, eye", () => {
    expect(ng.arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(ng.arange(2, 5).toArray()).toEqual([2, 3, 4]);
    expect(ng.arange(1, 7, 2).toArray()).toEqual([1, 3, 5]);
    expect(ng.arange(3, f64).dtype).toBe("float64");
    expect(ng.arange(1, 3, { dtype: "int32" }).dtype).toBe("int32");
    expect(ng.arange(5, 0, -2, { dtype: "int32" }).toArray()).toEqual([5, 3, 1]);
    expect(ng.linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(ng.linspace(0, 1, 3, f64).dtype).toBe("float64");
    expect(ng.eye(2).toArray()).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(ng.eye(2, 3, { k: 1 }).toArray()).toEqual([
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });

  it("zerosLike, onesLike, fullLike take shape and dtype, also under grad", () => {
    const x = arr([[1, 2, 3]]);
    expect(ng.zerosLike(x).dtype).toBe("float64");
    expect(ng.zerosLike(x).toArray()).toEqual([[0, 0, 0]]);
    expect(ng.onesLike(x, { dtype: "int32" }).dtype).toBe("int32");
    expect(ng.fullLike(x, 4).toArray()).toEqual([[4, 4, 4]]);
    const g = grad((t: Tensor) => ng.sum(ng.mul(t, ng.fullLike(t, 3))))(x) as Tensor;
    expect(g.toArray()).toEqual([[3, 3, 3]]);
  });

  it("reject bad arguments with the function's name", () => {
    expect(() => ng.zeros([2], { dtype: "float16" as never })).toThrow(/zeros: options.dtype/);
    expect(() => ng.ones([2], "float64" as never)).toThrow(/ones: options/);
    expect(() => ng.full([2], "a" as never)).toThrow(/full: value/);
    expect(() => ng.arange("3" as never)).toThrow(/arange: argument 0/);
    expect(() => ng.linspace(0, 1, 3, { dtype: "int32" })).toThrow(/linspace/);
    expect(() => ng.zeros([-1])).toThrow(/zeros/);
  });
});

describe("argument errors", () => {
  it("name the function and the argument", () => {
    expect(() => ng.variance(arr([1, 2]), 0, false, 2)).toThrow(/variance: ddof = 2/);
    expect(() => ng.std(arr([1, 2]), 0, false, -1)).toThrow(/std: ddof/);
    expect(() => ng.mean(arr([1, 2]), 1)).toThrow(/mean: axis/);
    expect(() => ng.softmax(arr([1, 2]), 3)).toThrow(/softmax: axis/);
    expect(() => ng.logsumexp(arr([1, 2]), 0, "yes" as never)).toThrow(/logsumexp: keepdims/);
    expect(() => ng.trace(arr([1, 2]))).toThrow(/trace: x: expected a 2-D tensor/);
    expect(() => ng.dot(arr([1, 2]), arr([1, 2, 3]))).toThrow(
      /dot: a and b must have the same length/,
    );
    expect(() => ng.norm(arr([1]), 3 as never)).toThrow(/norm: ord/);
    expect(() => ng.leakyRelu(arr([1]), "0.1" as never)).toThrow(/leakyRelu: negativeSlope/);
    expect(() => ng.elu(arr([1]), NaN)).toThrow(/elu: alpha/);
    expect(() => ng.gelu(arr([1]), 1 as never)).toThrow(/gelu: approximate/);
    expect(() => ng.square([1, 2] as never)).toThrow(/square: x/);
  });
});

describe("Tensor methods", () => {
  it("chain on concrete tensors", () => {
    const x = arr([1, 2, 3]);
    expect(x.add(1).mul(2).sum().item()).toBe(18);
    expect(x.pow(2).neg().toArray()).toEqual([-1, -4, -9]);
    expect(x.square().sqrt().toArray()).toEqual([1, 2, 3]);
    expect(x.mean().item()).toBe(2);
    expect(x.max().item()).toBe(3);
    expect(x.min().item()).toBe(1);
    expect(x.exp().log().sub(x).abs().max().item()).toBeLessThan(1e-15);
    expect(x.cast("int32").dtype).toBe("int32");
    expect(x.lt(2).toArray()).toEqual([true, false, false]);
    expect(x.ge(2).toArray()).toEqual([false, true, true]);
    expect(x.eq(arr([1, 0, 3])).toArray()).toEqual([true, false, true]);
    expect(x.div(2).toArray()).toEqual([0.5, 1, 1.5]);
    expect(x.slice([{ start: 1 }]).toArray()).toEqual([2, 3]);
    expect(x.dot(x).item()).toBe(14);
    expect(x.norm(1).item()).toBe(6);
    expect(x.flatten().shape).toEqual([3]);
  });

  it("shape methods and the T getter", () => {
    const m = arr(M);
    expect(m.T.shape).toEqual([3, 2]);
    expect(m.T.toArray()).toEqual([
      [0.5, 1.25],
      [-1.5, 0.75],
      [2.0, -0.5],
    ]);
    expect(m.reshape([3, 2]).shape).toEqual([3, 2]);
    expect(m.transpose([1, 0]).toArray()).toEqual(m.T.toArray());
    expect(m.matmul(m.T).shape).toEqual([2, 2]);
    expectClose(m.matmul(m.T), [
      0.25 + 2.25 + 4,
      0.625 - 1.125 - 1,
      0.625 - 1.125 - 1,
      1.5625 + 0.5625 + 0.25,
    ]);
    expect(m.sum(0).toArray()).toEqual([1.75, -0.75, 1.5]);
    expect(m.sum(1, true).shape).toEqual([2, 1]);
    expect(m.flatten().shape).toEqual([6]);
    expectClose(m.softmax().sum(-1), [1, 1], 1e-12);
    expect(m.argmax(1).toArray()).toEqual([2, 0]);
  });

  it("work on tracers inside grad", () => {
    const f = (t: Tensor): Tensor => t.mul(t).add(t.sin()).sum();
    const x = arr([0.3, -1.1, 2.0]);
    expectClose(
      grad(f)(x) as Tensor,
      flat(x).map((v) => 2 * v + Math.cos(v)),
    );
    const g = grad((t: Tensor) => t.T.matmul(t).sum())(arr(M)) as Tensor;
    expectClose(
      g,
      finiteDiff((t) => t.T.matmul(t).sum(), arr(M)),
      1e-6,
    );
  });

  it("installTensorMethods is idempotent", () => {
    ng.installTensorMethods();
    ng.installTensorMethods();
    expect(arr([1, 2]).add(1).toArray()).toEqual([2, 3]);
    expect(Object.keys(arr([1]))).not.toContain("add");
  });
});

describe("gradients against central finite differences (float64)", () => {
  // Inputs avoid the kinks of relu/leakyRelu/elu/clip/norm-1/inf so the derivative exists.
  const x = arr(X);
  const wX = arr([0.7, -1.3, 0.2, 1.9, -0.4, 1.1]);
  const wM = arr([
    [0.3, -0.8, 1.4],
    [-1.2, 0.5, 0.9],
  ]);
  const weighted = (f: (t: Tensor) => Tensor, w: Tensor) => (t: Tensor) => ng.sum(ng.mul(f(t), w));
  const unary: [string, (t: Tensor) => Tensor][] = [
    ["square", ng.square],
    ["relu", ng.relu],
    ["leakyRelu", (t) => ng.leakyRelu(t, 0.1)],
    ["gelu", (t) => ng.gelu(t)],
    ["gelu approximate", (t) => ng.gelu(t, true)],
    ["softplus", ng.softplus],
    ["silu", ng.silu],
    ["swish", ng.swish],
    ["elu", (t) => ng.elu(t, 1.5)],
    ["clip", (t) => ng.clip(t, -2, 1.5)],
  ];
  for (const [name, f] of unary) {
    it(name, () => checkGrad(weighted(f, wX), x));
  }

  const matrix: [string, (t: Tensor) => Tensor][] = [
    ["logsumexp all", (t) => ng.logsumexp(t)],
    ["logsumexp axis 1", (t) => ng.sum(ng.mul(ng.logsumexp(t, 1), arr([0.6, -1.1])))],
    ["softmax axis -1", weighted((t) => ng.softmax(t), wM)],
    ["softmax axis 0", weighted((t) => ng.softmax(t, 0), wM)],
    ["logSoftmax", weighted((t) => ng.logSoftmax(t), wM)],
    ["mean", (t) => ng.mean(ng.mul(t, t))],
    ["mean axis 0", (t) => ng.sum(ng.mul(ng.mean(t, 0), arr([1, -2, 3])))],
    ["variance", (t) => ng.variance(t)],
    [
      "variance axis 1 ddof 1",
      (t) => ng.sum(ng.mul(ng.variance(t, 1, false, 1), arr([0.6, -1.1]))),
    ],
    ["std", (t) => ng.std(t)],
    ["std axis 0", (t) => ng.sum(ng.std(t, 0))],
    ["sumSquares", (t) => ng.sumSquares(t)],
    ["norm 2", (t) => ng.norm(t)],
    ["norm 2 axis 1", (t) => ng.sum(ng.mul(ng.norm(t, 2, 1), arr([0.6, -1.1])))],
    ["norm 1", (t) => ng.norm(t, 1)],
    ["norm inf", (t) => ng.norm(t, "inf")],
    ["trace", (t) => ng.trace(ng.mul(t, t))],
    ["dot matrix-vector", (t) => ng.sum(ng.mul(ng.dot(t, arr([0.5, -1, 2])), arr([1, -3])))],
    ["dot vector-vector", (t) => ng.dot(ng.reshape(t, [6]), ng.reshape(wM, [6]))],
    [
      "outer",
      (t) =>
        ng.sum(
          ng.mul(
            ng.outer(ng.slice(t, [0]), arr([1, -2])),
            arr([
              [1, 2],
              [3, 4],
              [5, 6],
            ]),
          ),
        ),
    ],
    ["trace of a product", (t) => ng.trace(ng.matmul(t, ng.transpose(wM)))],
  ];
  for (const [name, f] of matrix) {
    it(name, () => checkGrad(f, arr(M), 1e-6));
  }

  it("softmax gradient matches the closed form diag(s) - s sᵀ", () => {
    const v = [0.4, -0.2, 1.3];
    const w = [1, 2, -1];
    const g = flat(grad((t: Tensor) => ng.sum(ng.mul(ng.softmax(t), arr(w))))(arr(v)) as Tensor);
    const e = v.map(Math.exp);
    const s = e.map((a) => a / e.reduce((p, q) => p + q, 0));
    const sw = s.reduce((a, si, i) => a + si * w[i]!, 0);
    expectClose(
      g,
      s.map((si, i) => si * (w[i]! - sw)),
      1e-12,
    );
  });

  it("logsumexp gradient is softmax, also for large inputs", () => {
    const v = arr([1000, 1001, 999]);
    const g = grad((t: Tensor) => ng.logsumexp(t))(v) as Tensor;
    expectClose(g, flat(ng.softmax(v)), 1e-12);
  });

  it("second derivatives (grad of grad) of elementwise activations match closed forms", () => {
    const sg = X.map(sigmoidJs);
    const phi = (v: number): number => Math.exp((-v * v) / 2) / Math.sqrt(2 * Math.PI);
    const cases: [(t: Tensor) => Tensor, (v: number, i: number) => number][] = [
      [ng.softplus, (_v, i) => sg[i]! * (1 - sg[i]!)],
      [ng.silu, (v, i) => sg[i]! * (1 - sg[i]!) * (2 + v * (1 - 2 * sg[i]!))],
      [(t) => ng.gelu(t), (v) => phi(v) * (2 - v * v)],
      [(t) => ng.elu(t), (v) => (v > 0 ? 0 : Math.exp(v))],
    ];
    for (const [f, d2] of cases) {
      const df = (t: Tensor): Tensor => ng.sum(grad((u: Tensor) => ng.sum(f(u)))(t) as Tensor);
      expectClose(grad(df)(x) as Tensor, X.map(d2), 1e-10);
    }
  });
});
