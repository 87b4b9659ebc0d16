// vmap: every registered primitive batched by its own rule against
// a loop over the batch (registry-driven, float64, batch axes at the front, at the back, in
// the middle and unbatched arguments), vmap composed with every AD transform and with
// itself against loops, pytree in/out axes, and the errors for bad axes specs.
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { PRIMITIVES } from "../src/primitives/index.js";
import { bind } from "../src/core/trace.js";
import { fromNDArray } from "../src/primitives/convert.js";
import * as K from "../src/tensor/index.js";
import type { DefinedPrimitive, TestInput } from "../src/primitives/define.js";
import { expectClose, f64, randomTensor, rng } from "./transforms-helpers.js";

/** The batch size of every test. */
const B = 3;

/**
 * Example `b` of the inputs of a test case: float inputs drawn from their domain with a
 * seed per example (as test/primitives.test.ts does), fixed inputs (indices, masks)
 * rotated by b over their flattened entries, so they differ per example and stay valid.
 */
function makeExample(inputs: TestInput[], seed: number, b: number): Tensor[] {
  let key = K.random.key(seed + 1000 * b);
  return inputs.map((inp) => {
    const [k1, k2] = K.random.split(key);
    key = k1!;
    if (inp.fixed) {
      const v = inp.fixed(inp.shape).flat();
      const rolled = v.map((_x: number, j: number) => v[(j + b) % v.length]!);
      return fromNDArray(K.fromFlat(rolled, inp.shape));
    }
    const [lo, hi] = inp.domain ?? [-2, 2];
    return fromNDArray(
      K.random.uniform(k2!, inp.shape, { minval: lo, maxval: hi, dtype: "float64" }),
    );
  });
}

/** Where each input's batch axis goes: a function of (input index, example rank), null = unbatched. */
type Placement = (k: number, rank: number) => number | null;
const PLACEMENTS: [string, Placement][] = [
  ["all at axis 0", () => 0],
  ["all at the last axis", (_k, r) => r],
  ["middle axis / unbatched", (k, r) => (k % 2 === 0 ? Math.min(1, r) : null)],
  ["unbatched / last axis", (k, r) => (k % 2 === 1 ? r : null)],
];

it("every registered primitive has a batch rule", () => {
  expect(PRIMITIVES.filter((p) => !p.batch).map((p) => p.name)).toEqual([]);
});

describe.each(PRIMITIVES.map((p) => [p.name, p as DefinedPrimitive<any>] as const))(
  "vmap of primitive %s",
  (_name, prim) => {
    prim.testSpec.cases.forEach((c, k) => {
      for (const [label, place] of PLACEMENTS) {
        const axes = c.inputs.map((inp, j) => place(j, inp.shape.length));
        if (axes.every((a) => a === null)) continue;
        it(`case ${k}, ${label} (inAxes ${JSON.stringify(axes)}) matches a loop over the batch`, () => {
          const examples = Array.from({ length: B }, (_, b) => makeExample(c.inputs, 500 + k, b));
          // Unbatched arguments are example 0's value for every example.
          const perExample = examples.map((xs) =>
            xs.map((x, j) => (axes[j] === null ? examples[0]![j]! : x)),
          );
          const args = c.inputs.map((_inp, j) =>
            axes[j] === null
              ? examples[0]![j]!
              : ng.stack(
                  examples.map((xs) => xs[j]!),
                  axes[j]!,
                ),
          );
          const f = (...xs: Tensor[]) => bind(prim, xs, c.params);
          const got = ng.vmap(f, axes)(...args) as Tensor[];
          const loop = perExample.map((xs) => f(...xs));
          expect(got.length).toBe(loop[0]!.length);
          got.forEach((g, o) => {
            const want = ng.stack(loop.map((outs) => outs[o]!));
            expect(g.shape, `output ${o} shape`).toEqual(want.shape);
            expect(g.dtype, `output ${o} dtype`).toBe(want.dtype);
            expectClose(g, want, 1e-12, 1e-12, `${prim.name} output ${o}`);
          });
        });
      }
    });
  },
);

describe("vmap: batch rules use batched kernels", () => {
  it("matmul with an unbatched right operand is one matmul on [B·m, k] rows", () => {
    const x = randomTensor([B, 2, 4], rng(1));
    const w = randomTensor([4, 5], rng(2));
    const ir = ng.makeIR((xs: Tensor) => ng.vmap((a: Tensor) => ng.matmul(a, w))(xs))(x);
    const text = ir.toString();
    expect(text.match(/matmul/g)?.length).toBe(1);
    expect(text).not.toContain("broadcastTo");
    const got = ng.vmap((a: Tensor) => ng.matmul(a, w))(x);
    const want = ng.stack([0, 1, 2].map((b) => ng.matmul(ng.slice(x, [b]), w)));
    expectClose(got, want, 1e-12, 1e-12, "matmul rows");
  });

  it("matmul with an unbatched left operand folds the batch into the columns", () => {
    const a = randomTensor([2, 4], rng(3));
    const y = randomTensor([4, 3, B], rng(4));
    const got = ng.vmap((b: Tensor) => ng.matmul(a, b), 2)(y);
    const want = ng.stack([0, 1, 2].map((b) => ng.matmul(a, ng.slice(y, [null, null, b]))));
    expectClose(got, want, 1e-12, 1e-12, "matmul columns");
    const text = ng
      .makeIR((ys: Tensor) => ng.vmap((b: Tensor) => ng.matmul(a, b), 2)(ys))(y)
      .toString();
    expect(text.match(/matmul/g)?.length).toBe(1);
  });

  it("a reduction inside vmap is one reduction over shifted axes (no transpose)", () => {
    const x = randomTensor([4, B, 2], rng(5));
    const f = (xs: Tensor) => ng.vmap((v: Tensor) => ng.sum(v, 1), 1, 1)(xs);
    const text = ng.makeIR(f)(x).toString();
    expect(text.match(/sum/g)?.length).toBe(1);
    expect(text).toContain("axes=(2)");
    expect(text).not.toContain("transpose");
    expectClose(f(x), ng.sum(x, 2), 1e-12, 1e-12, "sum");
  });
});

// ---------------------------------------------------------------------------------------
// Compositions with the AD transforms and with itself, each against a loop.

/** Example b of a batch stacked along axis 0. */
function row(x: Tensor, b: number): Tensor {
  return ng.slice(x, [b]);
}

/** stack(f(b) for b < B). */
function loop(f: (b: number) => Tensor): Tensor {
  return ng.stack(Array.from({ length: B }, (_, b) => f(b)));
}

describe("vmap composed with AD", () => {
  const W = randomTensor([3, 2], rng(11));
  const X = randomTensor([B, 3], rng(12));
  const V = randomTensor([B, 3], rng(13));
  // A per-example scalar loss f(w, x) = Σ tanh(x @ w)² + sin(x)·x.
  const loss = (w: Tensor, x: Tensor) =>
    ng.add(ng.sum(ng.square(ng.tanh(ng.matmul(x, w)))), ng.sum(ng.mul(ng.sin(x), x)));
  // A per-example vector function h: R³ → R².
  const h = (x: Tensor) => ng.tanh(ng.matmul(ng.mul(x, x), W));

  it("vmap of grad gives per-example gradients (w.r.t. the input and the shared weights)", () => {
    const gx = ng.vmap(ng.grad(loss, { argnums: 1 }), [null, 0])(W, X);
    expectClose(
      gx,
      loop((b) => ng.grad(loss, { argnums: 1 })(W, row(X, b))),
      1e-12,
      1e-12,
      "dx",
    );
    const gw = ng.vmap(ng.grad(loss), [null, 0])(W, X);
    expect(gw.shape).toEqual([B, 3, 2]);
    expectClose(
      gw,
      loop((b) => ng.grad(loss)(W, row(X, b))),
      1e-12,
      1e-12,
      "dw",
    );
  });

  it("grad of vmap sums the per-example gradients", () => {
    const total = (w: Tensor) => ng.sum(ng.vmap((x: Tensor) => loss(w, x))(X));
    const got = ng.grad(total)(W);
    let want = ng.zerosLike(W);
    for (let b = 0; b < B; b++) want = ng.add(want, ng.grad(loss)(W, row(X, b)));
    expectClose(got, want, 1e-12, 1e-12, "grad of vmap");
    // and against central finite differences of the batched loss
    expect(() => ng.testing.checkGrads(total, [W], { order: 2, rtol: 1e-6 })).not.toThrow();
  });

  it("jvp of vmap equals the per-example jvps", () => {
    const [y, t] = ng.jvp(ng.vmap(h), [X], [V]);
    expectClose(
      y,
      loop((b) => h(row(X, b))),
      1e-12,
      1e-12,
      "primal",
    );
    expectClose(
      t,
      loop((b) => ng.jvp(h, [row(X, b)], [row(V, b)])[1]),
      1e-12,
      1e-12,
      "tangent",
    );
  });

  it("vmap of jvp equals the per-example jvps (tangents batched along another axis)", () => {
    const Vt = ng.transpose(V); // [3, B]: tangents batched along axis 1
    const got = ng.vmap((x: Tensor, v: Tensor) => ng.jvp(h, [x], [v])[1], [0, 1])(X, Vt);
    expectClose(
      got,
      loop((b) => ng.jvp(h, [row(X, b)], [row(V, b)])[1]),
      1e-12,
      1e-12,
      "vmap of jvp",
    );
  });

  it("vmap of jacrev and of jacfwd give per-example Jacobians", () => {
    const want = loop((b) => ng.jacrev(h)(row(X, b)));
    expect(want.shape).toEqual([B, 2, 3]);
    expectClose(ng.vmap(ng.jacrev(h))(X), want, 1e-12, 1e-12, "vmap of jacrev");
    expectClose(ng.vmap(ng.jacfwd(h))(X), want, 1e-12, 1e-12, "vmap of jacfwd");
  });

  it("vmap of a Hessian and grad of vmap of grad (second order through vmap)", () => {
    const s = (x: Tensor) => ng.sum(ng.mul(ng.sin(x), ng.square(x)));
    expectClose(
      ng.vmap(ng.hessian(s))(X),
      loop((b) => ng.hessian(s)(row(X, b))),
      1e-12,
      1e-12,
      "hessian",
    );
    const g2 = ng.grad((x: Tensor) => ng.sum(ng.vmap(ng.grad(s))(x)))(X);
    // d/dx Σ_b Σ_i ∂s/∂x_i = Σ_j H_ij per example
    const want = loop((b) => ng.sum(ng.hessian(s)(row(X, b)), 0));
    expectClose(g2, want, 1e-12, 1e-12, "grad of vmap of grad");
  });
});

describe("nested vmap and pytree axes", () => {
  it("vmap of vmap with different in axes computes all pairs", () => {
    const X = randomTensor([B, 4], rng(21)); // rows are examples
    const Y = randomTensor([4, 2], rng(22)); // columns are examples
    const f = (x: Tensor, y: Tensor) => ng.sum(ng.mul(ng.sin(x), y));
    const got = ng.vmap(ng.vmap(f, [0, null]), [null, 1])(X, Y);
    expect(got.shape).toEqual([2, B]);
    const want = ng.stack(
      [0, 1].map((j) => ng.stack([0, 1, 2].map((i) => f(row(X, i), ng.slice(Y, [null, j]))))),
    );
    expectClose(got, want, 1e-12, 1e-12, "pairs");
  });

  it("nested vmap over both axes of one argument equals the elementwise function", () => {
    const X = randomTensor([B, 2], rng(23));
    const g = (x: Tensor) => ng.mul(ng.exp(x), x);
    expectClose(ng.vmap(ng.vmap(g), 1)(X), ng.transpose(g(X)), 1e-12, 1e-12, "vmap∘vmap");
  });

  it("pytree inAxes {a: 0, b: null} and outAxes 1", () => {
    const A = randomTensor([B, 3], rng(24));
    const bvec = randomTensor([3], rng(25));
    const f = ({ a, b }: { a: Tensor; b: Tensor }) => ({
      prod: ng.mul(a, b),
      total: ng.reshape(ng.sum(ng.add(a, b)), [1]),
    });
    const got = ng.vmap(f, [{ a: 0, b: null }], 1)({ a: A, b: bvec });
    expect(got.prod.shape).toEqual([3, B]);
    expect(got.total.shape).toEqual([1, B]);
    expectClose(
      got.prod,
      ng.transpose(loop((i) => f({ a: row(A, i), b: bvec }).prod)),
      1e-12,
      1e-12,
      "prod",
    );
    expectClose(
      got.total,
      ng.transpose(loop((i) => f({ a: row(A, i), b: bvec }).total)),
      1e-12,
      1e-12,
      "total",
    );
    // per-leaf outAxes, and an unbatched output with outAxes null
    const both = ng.vmap(
      ({ a, b }: { a: Tensor; b: Tensor }) => ({ y: ng.mul(a, b), c: ng.neg(b) }),
      [{ a: 0, b: null }],
      { y: 0, c: null },
    )({ a: A, b: bvec });
    expect(both.y.shape).toEqual([B, 3]);
    expectClose(both.c, ng.neg(bvec), 0, 0, "unbatched output");
  });

  it("vmap over an MLP (nn.dense) matches a loop, and per-example parameter gradients", () => {
    const model = ng.nn.chain(
      ng.nn.dense(3, 5, ng.tanh, { dtype: "float64" }),
      ng.nn.dense(5, 2, { dtype: "float64" }),
    );
    const [ps, st] = ng.nn.setup(ng.random.key(7), model);
    const X = randomTensor([B, 3], rng(26));
    const Y = randomTensor([B, 2], rng(27));
    const apply = (x: Tensor) => model.apply(x, ps, st)[0] as Tensor;
    expectClose(
      ng.vmap(apply)(X),
      loop((b) => apply(row(X, b))),
      1e-12,
      1e-12,
      "mlp",
    );
    const lossOf = (p: typeof ps, x: Tensor, y: Tensor) =>
      ng.sum(ng.square(ng.sub(model.apply(x, p, st)[0], y)));
    const perEx = ng.vmap(ng.grad(lossOf), [null, 0, 0])(ps, X, Y);
    for (let b = 0; b < B; b++) {
      const gb = ng.grad(lossOf)(ps, row(X, b), row(Y, b));
      const [got] = ng.tree.flatten(ng.tree.map((g: Tensor) => row(g, b), perEx));
      const [want] = ng.tree.flatten(gb);
      got.forEach((g, i) =>
        expectClose(g as Tensor, want[i] as Tensor, 1e-12, 1e-12, `example ${b} leaf ${i}`),
      );
    }
  });
});

describe("vmap errors", () => {
  const X = f64([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  it("an inAxes tree that does not match the arguments names the path", () => {
    const fa = ({ a }: { a: Tensor; b?: Tensor }) => a;
    expect(() => ng.vmap(fa, [{ a: 0 }])({ a: X, b: X })).toThrow(
      /inAxes\[0\].*extra|inAxes\[0\].*missing.*"b"/,
    );
    expect(() => ng.vmap((x: Tensor) => x, [0, 0])(X)).toThrow(/inAxes.*2 axis specs.*length 1/);
    expect(() => ng.vmap((p: Tensor[]) => p[0]!, [[0, null, 0]])([X, X])).toThrow(
      /inAxes\[0\].*3 axis specs.*length 2/,
    );
  });

  it("batch sizes that differ name both arguments and sizes", () => {
    const Y = ng.ones([4, 2], { dtype: "float64" });
    expect(() => ng.vmap((x: Tensor, y: Tensor) => ng.add(x, y))(X, Y)).toThrow(
      /argument\[0\] has 3.*argument\[1\] has 4/,
    );
    expect(() => ng.vmap((p: { u: Tensor; v: Tensor }) => p.u)({ u: X, v: Y })).toThrow(
      /argument\[0\]\.u has 3.*argument\[0\]\.v has 4/,
    );
  });

  it("no batched argument", () => {
    expect(() => ng.vmap((x: Tensor) => x, null)(X)).toThrow(/no argument is batched/);
  });

  it("outAxes null for a batched output", () => {
    expect(() => ng.vmap((x: Tensor) => ng.sin(x), 0, null)(X)).toThrow(
      /batched but its outAxes is null/,
    );
  });

  it("reading a value inside vmap", () => {
    expect(() => ng.vmap((x: Tensor) => ng.mul(x, ng.sum(x).item()))(X)).toThrow(
      /item\(\) inside vmap/,
    );
  });

  it("an out-of-range batched index raises instead of reading another example", () => {
    const idx = ng.array([[0], [5], [1]], { dtype: "int32" });
    expect(() => ng.vmap((x: Tensor, i: Tensor) => ng.take(x, i))(X, idx)).toThrow();
  });
});
