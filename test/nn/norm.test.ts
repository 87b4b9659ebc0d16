/**
 * Tests of the normalisation layers and dropout: batchNorm in training
 * and test mode (batch vs running statistics, the running-average update), layerNorm and
 * groupNorm against plain-JS references; dropout's determinism, scaling and test mode;
 * gradient checks wrt parameters and input in float64 (order 2; order 1 for dropout).
 */
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { expectClose, flat, randn, randomParams } from "./helpers.js";

const nn = ng.nn;
const key = ng.random.key(0);
const F64 = { dtype: "float64" } as const;

/** Per-group mean and biased variance of `vals`. */
function stats(vals: number[]): [number, number] {
  const m = vals.reduce((a, b) => a + b, 0) / vals.length;
  return [m, vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length];
}

describe("batchNorm", () => {
  const eps = 1e-5;

  it("training mode normalises with batch statistics and updates the running averages", () => {
    const layer = nn.batchNorm(3, { ...F64, momentum: 0.1 });
    const [ps0, st] = nn.setup(key, layer);
    expect(st.training).toBe(true);
    expect(flat(st.runningMean)).toEqual([0, 0, 0]);
    expect(flat(st.runningVar)).toEqual([1, 1, 1]);
    const ps = randomParams(ps0);
    const x = randn(1, [5, 3], 2).add(1);
    const [y, st2] = layer.apply(x, ps, st);
    const xs = flat(x);
    const sc = flat(ps.scale!);
    const bi = flat(ps.bias!);
    const want: number[] = new Array(15);
    for (let c = 0; c < 3; c++) {
      const col = [0, 1, 2, 3, 4].map((i) => xs[i * 3 + c]!);
      const [m, v] = stats(col);
      col.forEach(
        (val, i) => (want[i * 3 + c] = ((val - m) / Math.sqrt(v + eps)) * sc[c]! + bi[c]!),
      );
      expect(flat(st2.runningMean)[c]).toBeCloseTo(0.1 * m, 12);
      expect(flat(st2.runningVar)[c]).toBeCloseTo(0.9 + 0.1 * v * (5 / 4), 12);
    }
    expectClose(y, want);
    expect(st2.training).toBe(true);
  });

  it("reduces over every axis but the last for images [B, H, W, C]", () => {
    const layer = nn.batchNorm(2, { ...F64, affine: false });
    const [ps, st] = nn.setup(key, layer);
    expect(ps).toEqual({});
    const x = randn(2, [2, 3, 3, 2]);
    const [y] = layer.apply(x, ps, st);
    const yv = flat(y);
    for (let c = 0; c < 2; c++) {
      const col = yv.filter((_, i) => i % 2 === c);
      const [m, v] = stats(col);
      expect(Math.abs(m)).toBeLessThan(1e-12);
      expect(v).toBeCloseTo(1 - eps * 1, 4);
    }
  });

  it("test mode uses the running statistics and leaves them unchanged", () => {
    const layer = nn.batchNorm(2, F64);
    const [ps0, st0] = nn.setup(key, layer);
    const ps = randomParams(ps0);
    // Two training steps to move the running statistics.
    let st = st0;
    for (const seed of [3, 4]) st = layer.apply(randn(seed, [6, 2], 3), ps, st)[1];
    const tst = nn.testMode(st);
    const x = randn(5, [4, 2]);
    const [y, st2] = layer.apply(x, ps, tst);
    expect(st2).toBe(tst);
    const rm = flat(st.runningMean);
    const rv = flat(st.runningVar);
    const sc = flat(ps.scale!);
    const bi = flat(ps.bias!);
    expectClose(
      y,
      flat(x).map(
        (v, i) => ((v - rm[i % 2]!) / Math.sqrt(rv[i % 2]! + eps)) * sc[i % 2]! + bi[i % 2]!,
      ),
    );
    // Test-mode output of one sample does not depend on the rest of the batch.
    const [y1] = layer.apply(ng.slice(x, [{ start: 0, stop: 1 }]), ps, tst);
    expectClose(y1, flat(y).slice(0, 2));
  });

  it("gradients wrt params and input to order 2, in both modes", () => {
    const layer = nn.batchNorm(2, F64);
    const [ps0, st] = nn.setup(key, layer);
    const ps = randomParams(ps0);
    const x = randn(6, [4, 2]);
    ng.testing.checkGrads((xx: Tensor, p: any) => layer.apply(xx, p, st)[0], [x, ps], { order: 2 });
    const tst = nn.testMode(layer.apply(x, ps, st)[1]);
    ng.testing.checkGrads((xx: Tensor, p: any) => layer.apply(xx, p, tst)[0], [x, ps], {
      order: 2,
    });
  });

  it("running statistics are not differentiated", () => {
    const layer = nn.batchNorm(2, F64);
    const [ps, st] = nn.setup(key, layer);
    const x = randn(7, [4, 2]);
    const g = ng.grad((xx: Tensor) => ng.sum(layer.apply(xx, ps, st)[1].runningMean))(x) as Tensor;
    expect(flat(g)).toEqual(new Array(8).fill(0));
  });

  it("rejects a batch with one value per feature in training mode, and bad state", () => {
    const layer = nn.batchNorm(2);
    const [ps, st] = nn.setup(key, layer);
    expect(() => layer.apply(ng.ones([1, 2]), ps, st)).toThrow(
      /batchNorm 2: training mode needs more than one value/,
    );
    expect(() => layer.apply(ng.ones([3, 2]), ps, { ...st, training: 1 as any })).toThrow(
      "batchNorm: state.training: expected a boolean, got number 1",
    );
    expect(() => layer.apply(ng.ones([3, 3]), ps, st)).toThrow(
      "batchNorm 2: expected input with last dimension 2, got shape [3, 3]",
    );
  });
});

describe("layerNorm", () => {
  it("normalises each sample over the trailing shape", () => {
    const layer = nn.layerNorm(4, F64);
    const [ps0, st] = nn.setup(key, layer);
    const ps = randomParams(ps0);
    const x = randn(8, [3, 4], 2);
    const xs = flat(x);
    const sc = flat(ps.scale!);
    const bi = flat(ps.bias!);
    const want: number[] = [];
    for (let r = 0; r < 3; r++) {
      const row = xs.slice(r * 4, r * 4 + 4);
      const [m, v] = stats(row);
      row.forEach((val, c) => want.push(((val - m) / Math.sqrt(v + 1e-5)) * sc[c]! + bi[c]!));
    }
    expectClose(layer.apply(x, ps, st)[0], want);
    ng.testing.checkGrads((xx: Tensor, p: any) => layer.apply(xx, p, st)[0], [x, ps], { order: 2 });
  });

  it("supports a multi-axis shape and checks it", () => {
    const layer = nn.layerNorm([2, 3], { ...F64, affine: false });
    const [ps, st] = nn.setup(key, layer);
    const x = randn(9, [2, 2, 3]);
    const y = flat(layer.apply(x, ps, st)[0]);
    for (let b = 0; b < 2; b++) {
      const [m, v] = stats(y.slice(b * 6, b * 6 + 6));
      expect(Math.abs(m)).toBeLessThan(1e-12);
      expect(v).toBeCloseTo(1, 4);
    }
    expect(() => layer.apply(ng.ones([2, 3, 2]), ps, st)).toThrow(
      "layerNorm [2, 3]: expected input whose trailing dimensions are [2, 3], got shape [2, 3, 2]",
    );
  });
});

describe("groupNorm", () => {
  it("normalises each (sample, group) over its channels and positions", () => {
    const layer = nn.groupNorm(4, 2, F64);
    const [ps0, st] = nn.setup(key, layer);
    const ps = randomParams(ps0);
    const x = randn(10, [2, 3, 4], 2); // [B, L, C]
    const xs = flat(x);
    const sc = flat(ps.scale!);
    const bi = flat(ps.bias!);
    const want: number[] = new Array(xs.length);
    for (let b = 0; b < 2; b++)
      for (let g = 0; g < 2; g++) {
        const idx: number[] = [];
        for (let l = 0; l < 3; l++)
          for (let c = 2 * g; c < 2 * g + 2; c++) idx.push(b * 12 + l * 4 + c);
        const [m, v] = stats(idx.map((i) => xs[i]!));
        idx.forEach((i) => {
          const c = i % 4;
          want[i] = ((xs[i]! - m) / Math.sqrt(v + 1e-5)) * sc[c]! + bi[c]!;
        });
      }
    expectClose(layer.apply(x, ps, st)[0], want);
    ng.testing.checkGrads((xx: Tensor, p: any) => layer.apply(xx, p, st)[0], [x, ps], { order: 2 });
  });
});

describe("dropout", () => {
  const x = ng.ones([20, 50], F64);

  it("zeroes about `rate` of the elements and scales the rest by 1/(1 - rate)", () => {
    const layer = nn.dropout(0.25);
    const [ps, st] = nn.setup(key, layer);
    const [y, st2] = layer.apply(x, ps, st);
    const v = flat(y);
    const zeros = v.filter((e) => e === 0).length;
    expect(v.every((e) => e === 0 || Math.abs(e - 1 / 0.75) < 1e-12)).toBe(true);
    expect(zeros / v.length).toBeGreaterThan(0.2);
    expect(zeros / v.length).toBeLessThan(0.3);
    // The mean is preserved in expectation.
    expect(Math.abs(v.reduce((a, b) => a + b, 0) / v.length - 1)).toBeLessThan(0.1);
    expect(st2.training).toBe(true);
    expect(flat(st2.key)).not.toEqual(flat(st.key));
  });

  it("is deterministic in the state's key and draws a new mask on each call", () => {
    const layer = nn.dropout(0.5);
    const [ps, st] = nn.setup(key, layer);
    const [a, s1] = layer.apply(x, ps, st);
    const [b] = layer.apply(x, ps, st);
    expect(flat(a)).toEqual(flat(b));
    const [c] = layer.apply(x, ps, s1);
    expect(flat(c)).not.toEqual(flat(a));
    const f = nn.stateful(layer, ps, st);
    expect(flat(f(x))).toEqual(flat(a));
    expect(flat(f(x))).toEqual(flat(c));
  });

  it("is the identity in test mode and for rate 0; zero for rate 1", () => {
    const layer = nn.dropout(0.5);
    const [ps, st] = nn.setup(key, layer);
    const xr = randn(11, [3, 4]);
    const t = nn.testMode(st);
    const [y, s] = layer.apply(xr, ps, t);
    expect(y).toBe(xr);
    expect(s).toBe(t);
    expect(nn.dropout(0).apply(xr, ps, st)[0]).toBe(xr);
    expect(flat(nn.dropout(1).apply(xr, ps, st)[0])).toEqual(new Array(12).fill(0));
  });

  it("sharedAxes share one mask value along those axes", () => {
    const layer = nn.dropout(0.5, { sharedAxes: [1] });
    const [ps, st] = nn.setup(key, layer);
    const y = layer.apply(ng.ones([8, 5], F64), ps, st)[0].toArray() as number[][];
    for (const row of y) expect(new Set(row).size).toBe(1);
  });

  it("gradients wrt the input (fixed key) to order 1", () => {
    const layer = nn.dropout(0.3);
    const [ps, st] = nn.setup(key, layer);
    ng.testing.checkGrads((xx: Tensor) => layer.apply(xx, ps, st)[0], [randn(12, [4, 5])], {
      order: 1,
    });
  });
});
