/**
 * Tests of train/: TrainState construction,
 * computeGradients against ng.grad of the same loss and a closed form, applyGradients
 * against ng.optim.update, purity of trainStep, model state threading, freezing through
 * the TrainState, errors, and sine regression with an nn MLP reaching MSE < 1e-3.
 */
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { Tracer } from "../src/core/tensor.js";
import { expectClose, f64, flat } from "./transforms-helpers.js";

const { optim, train, nn } = ng;

/** A hand-made linear model y = x @ w + b that counts its calls in its state. */
const linear = {
  kind: "linear",
  init: (): [any, any] => [{ w: f64([[0.5], [-1]]), b: f64([0.25]) }, { calls: f64(0) }],
  apply: (x: Tensor, ps: any, st: any): [Tensor, any] => [
    ng.add(ng.matmul(x, ps.w), ps.b),
    { calls: ng.add(st.calls, 1) },
  ],
};

type Data = [Tensor, Tensor];
const X = f64([
  [1, 2],
  [0, -1],
  [3, 0.5],
]);
const Y = f64([[1], [2], [-1]]);

/** MSE objective with stats: the mean prediction. */
const objective = (model: typeof linear, ps: any, st: any, [x, y]: Data): [Tensor, any, any] => {
  const [yHat, st2] = model.apply(x, ps, st);
  return [ng.mean(ng.square(ng.sub(yHat, y))), st2, { meanPred: ng.mean(yHat), tag: "ok" }];
};

const fresh = (rule: ng.optim.Rule = optim.sgd(0.1)) => {
  const [ps, st] = linear.init();
  return train.trainState(linear, ps, st, rule);
};

describe("trainState", () => {
  it("holds model, ps, st, a set-up optimiser and step 0, frozen", () => {
    const ts = fresh(optim.adam());
    expect(ts.model).toBe(linear);
    expect(Number(ts.step)).toBe(0);
    expect(ts.optState.kind).toBe("optState");
    expect(Number(ts.optState.step)).toBe(0);
    expect(flat(ts.optState.state.w.m)).toEqual([0, 0]);
    expect(Object.isFrozen(ts)).toBe(true);
  });
});

describe("computeGradients", () => {
  it("matches ng.grad of the same loss and the closed form 2/n Xᵀ(Xw + b − y)", () => {
    const ts = fresh();
    const [grads, loss, stats, ts2] = train.computeGradients(objective, [X, Y], ts);
    const direct = ng.grad((ps: any) => objective(linear, ps, ts.st, [X, Y])[0])(ts.ps);
    expectClose(grads.w, direct.w, 1e-14, 0);
    expectClose(grads.b, direct.b, 1e-14, 0);
    // closed form
    const xs = X.toArray() as number[][];
    const w = [0.5, -1];
    const r = xs.map((row, i) => row[0]! * w[0]! + row[1]! * w[1]! + 0.25 - flat(Y)[i]!);
    const n = r.length;
    expectClose(
      grads.w,
      [0, 1].map((j) => (2 / n) * r.reduce((s, ri, i) => s + ri * xs[i]![j]!, 0)),
      1e-14,
      1e-15,
    );
    expectClose(grads.b, [(2 / n) * r.reduce((s, ri) => s + ri, 0)], 1e-14, 1e-15);
    expectClose(loss, [r.reduce((s, ri) => s + ri * ri, 0) / n], 1e-14, 0);
    // stats and the new state come back as concrete values, not tracers of the gradient pass
    expect(stats.tag).toBe("ok");
    expect(stats.meanPred instanceof Tracer).toBe(false);
    expect(ts2.st.calls instanceof Tracer).toBe(false);
    expectClose(stats.meanPred, [r.reduce((s, ri, i) => s + ri + flat(Y)[i]!, 0) / n], 1e-14, 0);
    expect(flat(ts2.st.calls)).toEqual([1]);
    // only the model state changed
    expect(ts2.ps).toBe(ts.ps);
    expect(ts2.optState).toBe(ts.optState);
    expect(Number(ts2.step)).toBe(0);
  });
});

describe("applyGradients and trainStep", () => {
  it("applyGradients is ng.optim.update on the TrainState", () => {
    const ts = fresh(optim.momentum(0.1));
    const [grads] = train.computeGradients(objective, [X, Y], ts);
    const ts2 = train.applyGradients(ts, grads);
    const [os, ps] = optim.update(ts.optState, ts.ps, grads);
    expectClose(ts2.ps.w, ps.w, 0, 0);
    expectClose(ts2.optState.state.b, os.state.b, 0, 0);
    expect([ts2.step, ts2.optState.step].map(Number)).toEqual([1, 1]);
  });

  it("trainStep = computeGradients then applyGradients, and lowers the loss", () => {
    let ts = fresh(optim.sgd(0.05));
    const [grads, loss0, , tsA] = train.computeGradients(objective, [X, Y], ts);
    const tsB = train.applyGradients(tsA, grads);
    const [loss, stats, ts1] = train.trainStep(objective, [X, Y], ts);
    expectClose(loss, loss0, 0, 0);
    expect(stats.tag).toBe("ok");
    expectClose(ts1.ps.w, tsB.ps.w, 0, 0);
    expect(flat(ts1.st.calls)).toEqual([1]);
    let last = loss.item();
    for (let i = 0; i < 20; i++) {
      let l: Tensor;
      [l, , ts] = train.trainStep(objective, [X, Y], ts);
      expect(l.item()).toBeLessThanOrEqual(last + 1e-12);
      last = l.item();
    }
    expect(Number(ts.step)).toBe(20);
    expect(flat(ts.st.calls)).toEqual([20]);
  });

  it("is pure: the TrainState and data it was given are unchanged", () => {
    const ts = fresh(optim.adam({ lr: 0.1 }));
    const snapshot = (t: typeof ts) => ({
      ps: ng.tree.flatten<Tensor>(t.ps)[0].map(flat),
      st: flat(t.st.calls),
      opt: ng.tree.flatten<Tensor>(t.optState.state)[0].map(flat),
      step: [t.step, t.optState.step].map(Number),
    });
    const before = snapshot(ts);
    const x = flat(X);
    const [, , ts1] = train.trainStep(objective, [X, Y], ts);
    train.trainStep(objective, [X, Y], ts1);
    expect(snapshot(ts)).toEqual(before);
    expect(flat(X)).toEqual(x);
    expect(ts1).not.toBe(ts);
    expect(ts1.ps).not.toBe(ts.ps);
    expect(Object.isFrozen(ts1)).toBe(true);
    // the same inputs give the same outputs
    const [, , again] = train.trainStep(objective, [X, Y], ts);
    expectClose(again.ps.w, ts1.ps.w, 0, 0);
  });

  it("respects frozen parameters in the optimiser state", () => {
    const ts = fresh(optim.sgd(0.1));
    const frozen = { ...ts, optState: optim.freeze(ts.optState, "w") };
    const [, , ts1] = train.trainStep(objective, [X, Y], frozen);
    expect(ts1.ps.w).toBe(ts.ps.w);
    expect(flat(ts1.ps.b)).not.toEqual(flat(ts.ps.b));
  });
});

describe("errors", () => {
  const ts = fresh();
  it("a malformed objective result is named", () => {
    expect(() =>
      train.computeGradients((() => [ng.scalar(1, "float64")]) as never, [X, Y], ts),
    ).toThrow(
      /train.computeGradients: objective must return \[loss, st, stats\], got an array .* of length 1/,
    );
    expect(() =>
      train.trainStep(
        ((m: any, ps: any, st: any, [x]: Data) => [m.apply(x, ps, st)[0], st, {}]) as never,
        [X, Y],
        ts,
      ),
    ).toThrow(
      /train.trainStep: the objective's loss must be a scalar tensor \(shape \[\]\), got float64\[3, 1\]/,
    );
    expect(() => train.computeGradients(3 as never, [X, Y], ts)).toThrow(
      /train.computeGradients: objective must be a function/,
    );
  });
  it("bad TrainStates and models are named", () => {
    expect(() => train.applyGradients({ ps: {} } as never, {})).toThrow(
      /train.applyGradients: ts: expected a TrainState/,
    );
    expect(() => train.trainState(ts.ps, ts.ps, ts.st, optim.sgd())).toThrow(
      /train.trainState: model: expected a layer with apply\(x, ps, st\)/,
    );
    expect(() => train.trainState(linear, ts.ps, ts.st, "adam" as never)).toThrow(
      /optim.setup: rule: expected an optimiser rule/,
    );
  });
  it("gradients that do not match the params name the path", () => {
    expect(() => train.applyGradients(ts, { w: ts.ps.w })).toThrow(
      /optim.update: grads do not have the structure of ps: at \(root\): keys differ \(missing \["b"\]/,
    );
  });
});

describe("training reaches a threshold", () => {
  it("sine regression: MLP 1→32→32→1 (tanh) with adam reaches MSE < 1e-3", () => {
    const model = nn.chain(nn.dense(1, 32, ng.tanh), nn.dense(32, 32, ng.tanh), nn.dense(32, 1));
    const [ps, st] = nn.setup(ng.random.key(0), model);
    const x = ng.reshape(ng.linspace(-Math.PI, Math.PI, 64), [64, 1]);
    const y = ng.sin(x);
    const mseObjective = (m: typeof model, p: any, s: any, [xb, yb]: Data): [Tensor, any, any] => {
      const [yHat, s2] = m.apply(xb, p, s);
      return [nn.mse(yHat, yb), s2, {}];
    };
    let ts = train.trainState(model, ps, st, optim.adam({ lr: 0.01 }));
    let loss = Infinity;
    const t0 = Date.now();
    for (let i = 0; i < 3000 && loss >= 1e-3 * 0.5; i++) {
      let l: Tensor;
      [l, , ts] = train.trainStep(mseObjective, [x, y], ts);
      loss = l.item();
    }
    // Evaluate the final parameters afresh.
    const [yHat] = model.apply(x, ts.ps, ts.st);
    const mse = nn.mse(yHat, y).item();
    console.log(
      `sine regression: ${Number(ts.step)} steps, MSE ${mse.toExponential(3)}, ${Date.now() - t0} ms`,
    );
    expect(mse).toBeLessThan(1e-3);
    expect(ts.ps.layer_1.weight.dtype).toBe("float32");
  });
});
