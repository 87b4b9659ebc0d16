// Eager reads (x.item(), x.toArray(), x.dataSync(), Number(x)) of values that carry a
// derivative: they work, but never drop the derivative silently. By default they warn once
// per call site; config.eagerReads "error" makes them errors and "allow" silences them.
// Value-dependent control flow keeps working and gives the derivative of the branch taken,
// checked against float64 central differences.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";

const f64 = (v: number | number[]) => ng.array(v, { dtype: "float64" });

let seen: string[] = [];
let prevHandler: ng.WarningHandler;
const INITIAL = ng.config.get();

beforeEach(() => {
  seen = [];
  prevHandler = ng.setWarningHandler((m) => seen.push(m));
});

afterEach(() => {
  ng.setWarningHandler(prevHandler);
  expect(ng.config.get()).toEqual(INITIAL);
});

/** Central difference in float64 of a scalar function of a number. */
function centralDiff(f: (x: number) => number, x: number, h = 1e-6): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

describe("eager reads under derivative transforms", () => {
  it("warn once per call site under grad, naming the method and this file", () => {
    const f = (x: Tensor) => ng.mul(x, x.item());
    for (let i = 0; i < 3; i++) ng.grad(f)(f64(2));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/item\(\) at .*eager-reads\.test\.ts:\d+:\d+/);
    expect(seen[0]).toMatch(/no derivative flows through it/);
    expect(seen[0]).toMatch(/ng\.stopGradient\(x\)/);
    expect(seen[0]).toMatch(/eagerReads/);
    // The read value is a constant: d/dx (x * c) = c = 2, not 2x = 4.
    expect(ng.grad(f)(f64(2)).item()).toBe(2);
  });

  it("two different call sites warn once each", () => {
    const f = (x: Tensor) => ng.add(ng.mul(x, x.item()), x.toArray() as number);
    ng.grad(f)(f64(1));
    ng.grad(f)(f64(3));
    expect(seen).toHaveLength(2);
    expect(seen.some((m) => m.startsWith("nestgrad: item()"))).toBe(true);
    expect(seen.some((m) => m.startsWith("nestgrad: toArray()"))).toBe(true);
  });

  it("warn under jvp (toArray) and under vjp (dataSync)", () => {
    ng.jvp((x: Tensor) => ng.mul(x, (x.toArray() as number[])[0]!), [f64([1, 2])], [f64([1, 1])]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^nestgrad: toArray\(\) at .*eager-reads\.test\.ts/);
    const [, pullback] = ng.vjp((x: Tensor) => ng.mul(x, x.dataSync()[1]!), f64([1, 2]));
    pullback(f64([1, 1]));
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatch(/^nestgrad: dataSync\(\) at .*eager-reads\.test\.ts/);
  });

  it("numeric coercion (Number(x)) is a read too; a larger tensor cannot be coerced", () => {
    const f = (x: Tensor) => (Number(x) > 0 ? ng.sin(x) : ng.cos(x));
    expect(ng.grad(f)(f64(0.5)).item()).toBeCloseTo(Math.cos(0.5), 12);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^nestgrad: Number\(x\)/);
    expect(Number(f64(3))).toBe(3);
    expect(`${f64(3)}`).toMatch(/array\(3/);
    expect(() => Number(f64([1, 2]))).toThrow(/exactly one element, got shape \[2\]/);
  });

  it("no warning outside transforms, for values without a derivative, or after stopGradient", () => {
    const c = f64(5);
    expect(c.item()).toBe(5);
    expect(c.toArray()).toBe(5);
    // Reads of a closed-over constant, of stopGradient(x), and of a value computed from it.
    const f = (x: Tensor) => {
      const s = ng.stopGradient(x);
      const k = c.item() + s.item() + ng.mul(s, 2).item();
      return ng.mul(x, k);
    };
    expect(ng.grad(f)(f64(2)).item()).toBe(5 + 2 + 4);
    ng.jvp(f, [f64(2)], [f64(1)]);
    expect(seen).toEqual([]);
  });

  it("reads made by the library itself are not the user's and do not warn", () => {
    // testing.allclose reads its arguments with dataSync() inside the library.
    const f = (x: Tensor) => ng.mul(x, ng.testing.allclose(x, f64(2)) ? 1 : 0);
    expect(ng.grad(f)(f64(2)).item()).toBe(1);
    expect(seen).toEqual([]);
    // The same read written in user code warns.
    ng.grad((x: Tensor) => ng.mul(x, x.dataSync()[0]! === 2 ? 1 : 0))(f64(2));
    expect(seen).toHaveLength(1);
  });

  it("a read of an outer transform's value inside an inner one warns", () => {
    // The inner grad is over y; x carries the outer derivative, which the read would drop.
    const outer = (x: Tensor) =>
      ng.grad((y: Tensor) => ng.mul(y, ng.mul(y, x.item())))(ng.mul(x, 1));
    ng.grad(outer)(f64(3));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^nestgrad: item\(\)/);
  });

  it('eagerReads: "error" throws an EagerReadError that names the method and says what to do', () => {
    const f = (x: Tensor) => ng.mul(x, x.item());
    const prev = ng.config.set({ eagerReads: "error" });
    try {
      expect(() => ng.grad(f)(f64(2))).toThrow(ng.EagerReadError);
      expect(() => ng.grad(f)(f64(2))).toThrow(
        /item\(\) reads the value of a float64\[\] tensor that carries a derivative/,
      );
      expect(() => ng.grad(f)(f64(2))).toThrow(/ng\.stopGradient\(x\)/);
      expect(() => ng.grad(f)(f64(2))).toThrow(/eager-reads\.test\.ts/);
      expect(() => ng.jvp((x: Tensor) => ng.mul(x, x.dataSync()[0]!), [f64(1)], [f64(1)])).toThrow(
        /dataSync\(\)/,
      );
      // Reads that drop nothing stay allowed.
      expect(
        ng
          .grad((x: Tensor) => ng.mul(x, ng.stopGradient(x).item()))(f64(2))
          .item(),
      ).toBe(2);
      expect(f64(7).item()).toBe(7);
    } finally {
      ng.config.set(prev);
    }
    expect(seen).toEqual([]);
  });

  it('eagerReads: "allow" reads silently', () => {
    ng.config.withConfig({ eagerReads: "allow" }, () => {
      expect(
        ng
          .grad((x: Tensor) => ng.mul(x, x.item()))(f64(2))
          .item(),
      ).toBe(2);
    });
    expect(seen).toEqual([]);
  });

  it("value-dependent control flow works in warn mode: the derivative of the branch taken", () => {
    // f(x) = x³ for x > 0, sin(x) otherwise.
    const f = (x: Tensor) => (x.item() > 0 ? ng.mul(x, ng.mul(x, x)) : ng.sin(x));
    const ref = (x: number) => (x > 0 ? x ** 3 : Math.sin(x));
    for (const x of [1.3, -0.7]) {
      const fd = centralDiff(ref, x);
      expect(ng.grad(f)(f64(x)).item()).toBeCloseTo(fd, 6);
      const [, t] = ng.jvp(f, [f64(x)], [f64(1)]);
      expect((t as Tensor).item()).toBeCloseTo(fd, 6);
      const [, pb] = ng.vjp(f, f64(x));
      const [dx] = pb(f64(1)) as [Tensor];
      expect(dx.item()).toBeCloseTo(fd, 6);
    }
    // Second order through the branch: f'' = 6x on the right, -sin(x) on the left.
    expect(ng.grad(ng.grad(f))(f64(1.3)).item()).toBeCloseTo(6 * 1.3, 10);
    expect(ng.grad(ng.grad(f))(f64(-0.7)).item()).toBeCloseTo(-Math.sin(-0.7), 10);
    expect(seen).toHaveLength(1);
  });

  it("staging still raises a ConcretizationError, whatever eagerReads says", () => {
    const f = (x: Tensor) => ng.mul(x, x.item());
    ng.config.withConfig({ eagerReads: "allow" }, () => {
      expect(() => ng.makeIR(f)(f64(2))).toThrow(ng.ConcretizationError);
    });
    expect(seen).toEqual([]);
  });

  it("a batched value inside vmap has no single value: reading it is an error", () => {
    expect(() => ng.vmap((x: Tensor) => ng.mul(x, x.item()))(f64([1, 2]))).toThrow(
      /item\(\) inside vmap/,
    );
  });
});
