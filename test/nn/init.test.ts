/**
 * Tests of the initialisers of ng.nn.init: fans, the bounds and
 * standard deviations of the Glorot / Kaiming / truncated-normal rules against their
 * closed forms (sample statistics on large draws), orthogonality, determinism in the key,
 * the factory form with options, dtypes and argument errors.
 */
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { expectClose, flat } from "./helpers.js";

const init = ng.nn.init;
const key = ng.random.key(7);

function sampleStd(t: Tensor): number {
  const v = flat(t);
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
}

describe("initialisers", () => {
  it("fans follow the channels-last layouts", () => {
    expect(init.fans([5])).toEqual([5, 5]);
    expect(init.fans([3, 4])).toEqual([3, 4]);
    expect(init.fans([3, 3, 4, 8])).toEqual([36, 72]);
  });

  it("glorotUniform: U(±gain·√(6/(fanIn+fanOut)))", () => {
    const w = init.glorotUniform(key, [200, 100]);
    const a = Math.sqrt(6 / 300);
    const v = flat(w);
    expect(w.dtype).toBe("float32");
    expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(a);
    expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(0.98 * a);
    expect(sampleStd(w)).toBeCloseTo(a / Math.sqrt(3), 2);
    const w2 = init.glorotUniform({ gain: 2 })(key, [200, 100], "float64");
    expect(w2.dtype).toBe("float64");
    const w1 = init.glorotUniform(key, [200, 100], "float64");
    expectClose(
      w2,
      flat(w1).map((x) => 2 * x),
      1e-12,
    );
  });

  it("glorotNormal, kaimingUniform, kaimingNormal: closed-form spreads", () => {
    expect(sampleStd(init.glorotNormal(key, [200, 100]))).toBeCloseTo(Math.sqrt(2 / 300), 2);
    const ku = init.kaimingUniform(key, [100, 200]);
    const bound = Math.SQRT2 * Math.sqrt(3 / 100);
    expect(Math.max(...flat(ku).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(sampleStd(ku)).toBeCloseTo(bound / Math.sqrt(3), 2);
    expect(sampleStd(init.kaimingNormal(key, [3, 3, 10, 200]))).toBeCloseTo(
      Math.SQRT2 / Math.sqrt(90),
      2,
    );
    expect(sampleStd(init.kaimingNormal({ gain: 1 })(key, [100, 200]))).toBeCloseTo(0.1, 2);
  });

  it("truncatedNormal stays within the bounds (in units of std)", () => {
    const w = init.truncatedNormal({ std: 0.5, mean: 1 })(key, [50, 50], "float64");
    const v = flat(w);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(1 - 1);
    expect(Math.max(...v)).toBeLessThanOrEqual(1 + 1);
    // The std of N(0,1) truncated to ±2 is ≈ 0.8796.
    expect(sampleStd(w)).toBeCloseTo(0.5 * 0.8796, 1);
    expect(w.dtype).toBe("float64");
  });

  it("zeros, ones, constant, normal", () => {
    expect(flat(init.zeros(key, [2, 2]))).toEqual([0, 0, 0, 0]);
    expect(flat(init.ones(key, [3]))).toEqual([1, 1, 1]);
    expect(flat(init.ones()(key, [1]))).toEqual([1]);
    expect(flat(init.constant({ value: 0.5 })(key, [2]))).toEqual([0.5, 0.5]);
    expect(sampleStd(init.normal({ std: 0.1 })(key, [100, 100]))).toBeCloseTo(0.1, 2);
  });

  it("orthogonal: orthonormal columns (tall), rows (wide), with gain; conv shapes", () => {
    const tall = init.orthogonal(key, [6, 3], "float64");
    expectClose(tall.T.matmul(tall), flat(ng.eye(3)), 1e-12);
    const wide = init.orthogonal({ gain: 2 })(key, [3, 6], "float64");
    expectClose(wide.matmul(wide.T), flat(ng.eye(3).mul(4)), 1e-12);
    const square = init.orthogonal(key, [5, 5], "float64");
    expectClose(square.matmul(square.T), flat(ng.eye(5)), 1e-12);
    const conv = init.orthogonal(key, [2, 2, 2, 8], "float64");
    const m = conv.reshape([8, 8]);
    expectClose(m.T.matmul(m), flat(ng.eye(8)), 1e-12);
    expect(() => init.orthogonal(key, [4])).toThrow(
      /init.orthogonal: expected a shape of rank >= 2/,
    );
  });

  it("is deterministic in the key", () => {
    for (const f of [
      init.glorotUniform,
      init.kaimingNormal,
      init.orthogonal,
      init.truncatedNormal,
    ]) {
      expect(flat(f(ng.random.key(1), [4, 3]))).toEqual(flat(f(ng.random.key(1), [4, 3])));
      expect(flat(f(ng.random.key(1), [4, 3]))).not.toEqual(flat(f(ng.random.key(2), [4, 3])));
    }
  });

  it("validates arguments", () => {
    expect(() => init.glorotUniform(3 as any)).toThrow(/init.glorotUniform: expected a key/);
    expect(() => init.zeros(key, [2], "int32" as any)).toThrow(/init.zeros: dtype/);
    expect(() => init.normal({ std: -1 })).toThrow(
      /init.normal: std: expected a finite positive number/,
    );
    expect(() => init.ones(key, [2.5] as any)).toThrow(/init.ones: shape/);
  });
});
