/**
 * Tests of the nn layer contract and the simple layers: dense,
 * the containers, flatten/reshape, embedding against plain-JS references; gradient checks
 * wrt parameters and input in float64 (checkGrads, finite differences); setup,
 * parameterCount, stateful, testMode/trainMode; error messages naming the layer path.
 */
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { expectClose, f64, flat, matmulJs, randn, randomParams } from "./helpers.js";

const nn = ng.nn;
const key = ng.random.key(0);
const F64 = { dtype: "float64" } as const;

describe("dense", () => {
  it("computes act(x @ W + b) against a plain-JS reference", () => {
    const layer = nn.dense(3, 2, ng.tanh, F64);
    const [ps0, st] = nn.setup(key, layer);
    const ps = randomParams(ps0);
    const x = randn(1, [4, 3]);
    const [y, st2] = layer.apply(x, ps, st);
    const z = matmulJs(flat(x), flat(ps.weight), 4, 3, 2);
    const b = flat(ps.bias!);
    expect(y.shape).toEqual([4, 2]);
    expectClose(
      y,
      z.map((v, i) => Math.tanh(v + b[i % 2]!)),
    );
    expect(st2).toEqual({});
  });

  it("initialises weight [in, out] with glorotUniform bounds and a zero bias; dtype option", () => {
    const [ps] = nn.setup(key, nn.dense(30, 20));
    expect(ps.weight.shape).toEqual([30, 20]);
    expect(ps.weight.dtype).toBe("float32");
    const a = Math.sqrt(6 / 50);
    expect(flat(ps.weight).every((v) => Math.abs(v) <= a)).toBe(true);
    expect(flat(ps.bias!)).toEqual(new Array(20).fill(0));
    const [p64] = nn.setup(key, nn.dense(2, 2, F64));
    expect(p64.weight.dtype).toBe("float64");
    const [pNoBias] = nn.setup(key, nn.dense(2, 2, { useBias: false }));
    expect(Object.keys(pNoBias)).toEqual(["weight"]);
    const [pInit] = nn.setup(key, nn.dense(2, 2, { init: nn.init.ones, biasInit: nn.init.ones }));
    expect(flat(pInit.weight)).toEqual([1, 1, 1, 1]);
    expect(flat(pInit.bias!)).toEqual([1, 1]);
  });

  it("works on extra leading axes ([B, T, in] → [B, T, out])", () => {
    const layer = nn.dense(3, 2, F64);
    const [ps] = nn.setup(key, layer);
    const x = randn(2, [2, 5, 3]);
    const [y] = layer.apply(x, ps, {});
    expect(y.shape).toEqual([2, 5, 2]);
    const [y0] = layer.apply(ng.reshape(x, [10, 3]), ps, {});
    expectClose(ng.reshape(y, [10, 2]), y0);
  });

  it("gradients wrt params and input match finite differences to order 2 (tanh)", () => {
    const layer = nn.dense(3, 2, ng.tanh, F64);
    const [ps, st] = nn.setup(key, layer);
    const x = randn(3, [2, 3]);
    ng.testing.checkGrads((xx: Tensor, p: any) => layer.apply(xx, p, st)[0], [x, ps], {
      order: 2,
    });
  });

  it("gradients with relu to order 1", () => {
    const layer = nn.dense(3, 4, ng.relu, F64);
    const [ps, st] = nn.setup(key, layer);
    ng.testing.checkGrads(
      (xx: Tensor, p: any) => layer.apply(xx, p, st)[0],
      [randn(4, [3, 3]), ps],
      {
        order: 1,
      },
    );
  });
});

describe("containers", () => {
  it("chain keys children layer_1, layer_2, ... and composes them", () => {
    const model = nn.chain(nn.dense(3, 4, ng.tanh, F64), nn.dense(4, 2, F64));
    const [ps, st] = nn.setup(key, model);
    expect(Object.keys(ps)).toEqual(["layer_1", "layer_2"]);
    expect(st).toEqual({ layer_1: {}, layer_2: {} });
    const x = randn(5, [3, 3]);
    const h = ng.tanh(x.matmul(ps.layer_1.weight).add(ps.layer_1.bias!));
    expectClose(model.apply(x, ps, st)[0], h.matmul(ps.layer_2.weight).add(ps.layer_2.bias!));
    // Different children get different keys.
    expect(flat(ps.layer_1.weight)).not.toEqual(flat(ps.layer_2.weight).slice(0, 12));
  });

  it("chain with named layers keys them by name", () => {
    const model = nn.chain({ encoder: nn.dense(4, 2, F64), decoder: nn.dense(2, 4, F64) });
    const [ps, st] = nn.setup(key, model);
    expect(Object.keys(ps)).toEqual(["encoder", "decoder"]);
    const [y] = model.apply(randn(6, [1, 4]), ps, st);
    expect(y.shape).toEqual([1, 4]);
  });

  it("parallel applies branches to one input (or x[i]) and connects them", () => {
    const a = nn.dense(2, 3, F64);
    const b = nn.dense(2, 3, ng.tanh, F64);
    const model = nn.parallel(ng.add, a, b);
    const [ps, st] = nn.setup(key, model);
    const x = randn(7, [4, 2]);
    const ya = a.apply(x, ps.layer_1, {})[0];
    const yb = b.apply(x, ps.layer_2, {})[0];
    expectClose(model.apply(x, ps, st)[0], ya.add(yb));
    const x2 = randn(8, [4, 2]);
    const tuple = nn.parallel(null, a, b);
    const [ys] = tuple.apply([x, x2], ps, st);
    expect(Array.isArray(ys)).toBe(true);
    expectClose(ys[1], b.apply(x2, ps.layer_2, {})[0]);
  });

  it("skipConnection adds the input (params are the inner layer's)", () => {
    const inner = nn.dense(3, 3, ng.tanh, F64);
    const model = nn.skipConnection(inner);
    const [ps, st] = nn.setup(key, model);
    expect(Object.keys(ps)).toEqual(["weight", "bias"]);
    const x = randn(9, [2, 3]);
    expectClose(model.apply(x, ps, st)[0], inner.apply(x, ps, {})[0].add(x));
    const cat = nn.skipConnection(inner, (y: Tensor, xx: Tensor) => ng.concat([y, xx], -1));
    expect(cat.apply(x, ps, st)[0].shape).toEqual([2, 6]);
    ng.testing.checkGrads((xx: Tensor, p: any) => model.apply(xx, p, st)[0], [x, ps], {
      order: 2,
    });
  });

  it("wrappedFunction applies a function, no params", () => {
    const model = nn.chain(
      nn.dense(2, 2, F64),
      nn.wrappedFunction((x: Tensor) => ng.sin(x)),
    );
    const [ps, st] = nn.setup(key, model);
    expect(ps.layer_2).toEqual({});
    const x = randn(10, [3, 2]);
    expectClose(
      model.apply(x, ps, st)[0],
      ng.sin(x.matmul(ps.layer_1.weight).add(ps.layer_1.bias!)),
    );
    ng.testing.checkGrads((xx: Tensor, p: any) => model.apply(xx, p, st)[0], [x, ps], {
      order: 2,
    });
  });

  it("parallel gradients to order 2", () => {
    const model = nn.parallel(ng.mul, nn.dense(2, 2, ng.tanh, F64), nn.dense(2, 2, F64));
    const [ps, st] = nn.setup(key, model);
    ng.testing.checkGrads(
      (xx: Tensor, p: any) => model.apply(xx, p, st)[0],
      [randn(11, [2, 2]), ps],
      {
        order: 2,
      },
    );
  });
});

describe("flatten and reshape", () => {
  it("keep the batch axis", () => {
    const x = f64([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    const [y] = nn.flatten().apply(x, {}, {});
    expect(y.toArray()).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    const [z] = nn.reshape([4, 1]).apply(x, {}, {});
    expect(z.shape).toEqual([2, 4, 1]);
    expect(flat(z)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(nn.reshape([-1, 2]).apply(x, {}, {})[0].shape).toEqual([2, 2, 2]);
    expect(() => nn.reshape([3]).apply(x, {}, {})).toThrow(
      /reshape \[3\]: cannot reshape samples of shape \[2, 2\] \(size 4\) to \[3\]/,
    );
  });
});

describe("embedding", () => {
  it("looks rows up by int32 index; gradients scatter-add into the rows used", () => {
    const layer = nn.embedding(5, 3, F64);
    const [ps, st] = nn.setup(key, layer);
    expect(ps.weight.shape).toEqual([5, 3]);
    const idx = ng.array(
      [
        [0, 4],
        [4, 2],
      ],
      { dtype: "int32" },
    );
    const [y] = layer.apply(idx, ps, st);
    expect(y.shape).toEqual([2, 2, 3]);
    const w = ps.weight.toArray() as number[][];
    expect(y.toArray()).toEqual([
      [w[0], w[4]],
      [w[4], w[2]],
    ]);
    const g = ng.grad((p: any) => ng.sum(layer.apply(idx, p, st)[0]))(ps) as any;
    expect(g.weight.toArray()).toEqual([
      [1, 1, 1],
      [0, 0, 0],
      [1, 1, 1],
      [0, 0, 0],
      [2, 2, 2],
    ]);
    ng.testing.checkGrads((p: any) => ng.tanh(layer.apply(idx, p, st)[0]), [ps], { order: 2 });
  });

  it("rejects float or out-of-range indices", () => {
    const layer = nn.embedding(5, 3);
    const [ps, st] = nn.setup(key, layer);
    expect(() => layer.apply(ng.array([1.0]), ps, st)).toThrow(
      /embedding 5 → 3: expected int32 indices, got dtype float32/,
    );
    expect(() => layer.apply(ng.array([1, 5], { dtype: "int32" }), ps, st)).toThrow(
      /index 5 \(element 1 of shape \[2\]\) is out of range \[0, 5\)/,
    );
  });
});

describe("setup, parameterCount, stateful, modes", () => {
  it("parameterCount counts every trainable scalar (model or params tree)", () => {
    expect(nn.parameterCount(nn.dense(3, 2))).toBe(8);
    expect(nn.parameterCount(nn.dense(3, 2, { useBias: false }))).toBe(6);
    const model = nn.chain(
      nn.dense(3, 4),
      nn.batchNorm(4),
      nn.dropout(0.5),
      nn.layerNorm(4, { affine: false }),
      nn.dense(4, 1),
    );
    // dense 12+4, batchNorm 4+4 (running stats are state), dense 4+1
    expect(nn.parameterCount(model)).toBe(29);
    const [ps] = nn.setup(key, model);
    expect(nn.parameterCount(ps)).toBe(29);
    expect(nn.parameterCount(nn.lstmCell(3, 5))).toBe(3 * 20 + 5 * 20 + 20);
    expect(nn.parameterCount(nn.gruCell(3, 5))).toBe(3 * 15 + 5 * 15 + 30);
    expect(nn.parameterCount(nn.embedding(10, 4))).toBe(40);
  });

  it("setup is deterministic in the key", () => {
    const model = nn.chain(nn.dense(3, 4), nn.dense(4, 2));
    const [a] = nn.setup(ng.random.key(3), model);
    const [b] = nn.setup(ng.random.key(3), model);
    const [c] = nn.setup(ng.random.key(4), model);
    expect(flat(a.layer_1.weight)).toEqual(flat(b.layer_1.weight));
    expect(flat(a.layer_1.weight)).not.toEqual(flat(c.layer_1.weight));
  });

  it("stateful threads the state and is differentiable", () => {
    const model = nn.chain(nn.dense(2, 3, ng.tanh, F64), nn.batchNorm(3, F64), nn.dense(3, 1, F64));
    const [ps, st] = nn.setup(key, model);
    const f = nn.stateful(model, ps, st);
    const x = randn(12, [6, 2]);
    const y = f(x);
    expect(y.shape).toEqual([6, 1]);
    const [yRef, stRef] = model.apply(x, ps, st);
    expectClose(y, yRef);
    expectClose(f.state.layer_2.runningMean, stRef.layer_2.runningMean);
    // Gradients through the wrapper; in training mode batchNorm's output does not depend
    // on the running statistics, so f is a pure function of x despite the state updates.
    ng.testing.checkGrads((xx: Tensor) => f(xx), [x], { order: 2 });
    ng.testing.checkGrads((p: any) => nn.stateful(model, p, st)(x), [ps], { order: 1 });
    // The stored state stays concrete (no leaked tracers): test mode still evaluates.
    const g = nn.stateful(model, ps, nn.testMode(f.state));
    expect(g(x).shape).toEqual([6, 1]);
  });

  it("testMode / trainMode set every training flag in the tree", () => {
    const model = nn.chain(nn.dense(2, 2), nn.dropout(0.5), nn.chain(nn.batchNorm(2)));
    const [, st] = nn.setup(key, model);
    expect(st.layer_2.training).toBe(true);
    const t = nn.testMode(st);
    expect(t.layer_2.training).toBe(false);
    expect(t.layer_3.layer_1.training).toBe(false);
    expect(st.layer_2.training).toBe(true); // not mutated
    expect(t.layer_2.key).toBe(st.layer_2.key);
    const back = nn.trainMode(t);
    expect(back.layer_3.layer_1.training).toBe(true);
    // A hostile "__proto__" key stays data: no prototype is changed.
    const hostile = nn.testMode(JSON.parse('{"__proto__": {"polluted": true}, "training": true}'));
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(hostile)).toBe(Object.prototype);
    expect(hostile.training).toBe(false);
  });
});

describe("errors name the layer path and the shapes", () => {
  const model = nn.chain(nn.dense(3, 4, ng.tanh), nn.dense(4, 2));
  const [ps, st] = nn.setup(key, model);

  it("wrong input feature size", () => {
    expect(() => model.apply(ng.zeros([8, 5]), ps, st)).toThrow(
      "chain.layer_1 (dense 3 → 4): expected input with last dimension 3, got shape [8, 5]",
    );
    const bad = nn.chain(nn.dense(3, 4, ng.tanh), nn.dense(3, 2));
    const [p2, s2] = nn.setup(key, bad);
    expect(() => bad.apply(ng.zeros([8, 3]), p2, s2)).toThrow(
      "chain.layer_2 (dense 3 → 2): expected input with last dimension 3, got shape [8, 4]",
    );
    const [p42] = nn.setup(key, nn.dense(4, 2));
    expect(() => nn.dense(4, 2).apply(ng.zeros([8, 3]), p42, {})).toThrow(
      "dense 4 → 2: expected input with last dimension 4, got shape [8, 3]",
    );
  });

  it("nested and named containers give the full path", () => {
    const outer = nn.chain({
      body: nn.chain(nn.dense(2, 2), nn.dense(3, 1)),
      head: nn.dense(1, 1),
    });
    const [p, s] = nn.setup(key, outer);
    expect(() => outer.apply(ng.zeros([1, 2]), p, s)).toThrow(
      "chain.body.layer_2 (dense 3 → 1): expected input with last dimension 3, got shape [1, 2]",
    );
    const par = nn.parallel(ng.add, nn.dense(2, 2), nn.skipConnection(nn.dense(3, 3)));
    const [pp, sp] = nn.setup(key, par);
    expect(() => par.apply(ng.zeros([1, 2]), pp, sp)).toThrow(
      "parallel.layer_2 (dense 3 → 3): expected input with last dimension 3, got shape [1, 2]",
    );
  });

  it("missing and extra parameter keys", () => {
    const { bias: _b, ...noBias } = ps.layer_1;
    expect(() => model.apply(ng.zeros([1, 3]), { ...ps, layer_1: noBias }, st)).toThrow(
      "chain.layer_1: params are missing key 'bias'",
    );
    expect(() =>
      model.apply(
        ng.zeros([1, 3]),
        // @ts-expect-error: an unknown parameter key, rejected at compile time too
        { ...ps, layer_2: { ...ps.layer_2, gamma: ng.zeros([2]) } },
        st,
      ),
    ).toThrow("chain.layer_2: params have an unexpected key 'gamma'");
    // @ts-expect-error: a missing child, rejected at compile time too
    expect(() => model.apply(ng.zeros([1, 3]), { layer_1: ps.layer_1 }, st)).toThrow(
      "chain: params are missing key 'layer_2'",
    );
    // @ts-expect-error: an extra child, rejected at compile time too
    expect(() => model.apply(ng.zeros([1, 3]), { ...ps, layer_3: {} }, st)).toThrow(
      "chain: params have an unexpected key 'layer_3'",
    );
    expect(() =>
      model.apply(
        ng.zeros([1, 3]),
        { ...ps, layer_2: { ...ps.layer_2, weight: ng.zeros([2, 4]) } },
        st,
      ),
    ).toThrow("chain.layer_2: params.weight: expected shape [4, 2], got [2, 4]");
    // @ts-expect-error: a missing child state, rejected at compile time too
    expect(() => model.apply(ng.zeros([1, 3]), ps, { layer_1: {} })).toThrow(
      "chain: state are missing key 'layer_2'",
    );
  });

  it("errors from ops inside a child get the child's path; error class is kept", () => {
    const model2 = nn.chain(
      nn.dense(2, 2),
      nn.wrappedFunction((x: Tensor) => ng.reshape(x, [5])),
    );
    const [p, s] = nn.setup(key, model2);
    let err: unknown;
    try {
      model2.apply(ng.zeros([1, 2]), p, s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RangeError);
    expect(String((err as Error).message)).toMatch(
      /^chain\.layer_2 \(wrappedFunction\(anonymous\)\): reshape: cannot reshape/,
    );
  });

  it("factories validate their arguments", () => {
    expect(() => nn.dense(0, 2)).toThrow(
      "dense: inFeatures: expected a positive integer, got number 0",
    );
    expect(() => nn.dense(2, 2, { dtype: "int32" as any })).toThrow(/dense: dtype/);
    expect(() => nn.chain(nn.dense(2, 2), 3 as any)).toThrow(/chain: layer 2: expected a layer/);
    expect(() => nn.dropout(1.5)).toThrow(/dropout: rate: expected a number in \[0, 1\]/);
    expect(() => nn.groupNorm(6, 4)).toThrow(/divisible/);
    expect(() => nn.setup(key, {} as any)).toThrow(/setup: model: expected a layer/);
    expect(() => nn.dense(2, 2, { init: 3 as any })).toThrow(
      /dense: init: expected an initialiser/,
    );
  });
});
