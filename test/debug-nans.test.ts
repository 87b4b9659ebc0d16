// config.debugNans: the first primitive whose output holds a NaN or an infinity raises a
// FloatingPointError naming it, the derivative rule it ran in, its input shapes/dtypes and
// the user's stack frame (this file), eagerly and inside grad, jvp, vjp and vmap; and
// locateNonFinite re-runs a function eagerly to find that primitive.
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";

const f64 = (v: number | number[]) => ng.array(v, { dtype: "float64" });
const INITIAL = ng.config.get();

afterEach(() => {
  expect(ng.config.get()).toEqual(INITIAL);
});

/** The FloatingPointError `fn` throws with debugNans on (fails the test if none). */
function caught(fn: () => unknown): ng.FloatingPointError {
  let err: unknown;
  ng.config.withConfig({ debugNans: true }, () => {
    try {
      fn();
    } catch (e) {
      err = e;
    }
  });
  expect(err).toBeInstanceOf(ng.FloatingPointError);
  return err as ng.FloatingPointError;
}

describe("debugNans", () => {
  it("is off by default: NaN flows through silently", () => {
    expect(ng.config.get().debugNans).toBe(false);
    expect(Number.isNaN(ng.log(ng.array(-1)).item())).toBe(true);
    expect(ng.div(ng.array(1), ng.array(0)).item()).toBe(Infinity);
  });

  it("log(-1) eagerly: names the primitive, the input shape and this file", () => {
    const e = caught(() => ng.log(ng.array([2, -1, 3])));
    expect(e.primitive).toBe("log");
    expect(e.rules).toEqual([]);
    expect(e.inputs).toEqual([{ shape: [3], dtype: "float32", nonFinite: 0 }]);
    expect(e.output).toMatchObject({ index: 0, shape: [3], nans: 1, infs: 0 });
    expect(e.frame).toMatch(/debug-nans\.test\.ts:\d+:\d+$/);
    expect(e.message).toMatch(/primitive 'log' produced 1 NaN value .*input 0: float32\[3\]/);
    expect(e.message).toMatch(/inputs were finite/);
    expect(e.message).toMatch(/debug-nans\.test\.ts/);
  });

  it("finite results pass, and the results equal those with the check off", () => {
    const f = (x: Tensor) => ng.sum(ng.mul(ng.log(x), ng.sqrt(x)));
    const x = f64([0.5, 2, 3]);
    const off = ng.grad(f)(x).toArray();
    const on = ng.config.withConfig({ debugNans: true }, () => ng.grad(f)(x).toArray());
    expect(on).toEqual(off);
  });

  it("0/0 in a forward pass under grad names div and its two input shapes", () => {
    const f = (x: Tensor) => {
      const z = ng.sub(x, x);
      return ng.sum(ng.div(z, z));
    };
    const e = caught(() => ng.grad(f)(f64([1, 2])));
    expect(e.primitive).toBe("div");
    expect(e.inputs.map((i) => i.shape)).toEqual([[2], [2]]);
    expect(e.inputs.every((i) => i.dtype === "float64" && i.nonFinite === 0)).toBe(true);
    expect(e.output.nans).toBe(2);
    expect(e.frame).toMatch(/debug-nans\.test\.ts/);
  });

  it("a NaN only in the derivative: grad of sqrt at 0 names the backward pass and sqrt", () => {
    // sqrt(0) = 0 is finite; d sqrt/dx = 1 / (2 sqrt x) = Inf at 0.
    const f = (x: Tensor) => ng.sum(ng.sqrt(x));
    expect(ng.config.withConfig({ debugNans: true }, () => f(f64([0, 1])).item())).toBe(1);
    const e = caught(() => ng.grad(f)(f64([0, 1])));
    expect(e.output.infs).toBe(1);
    expect(e.rules.join(" ")).toMatch(/sqrt/);
    expect(e.message).toMatch(/backward pass/);
    expect(e.message).toMatch(/rule of sqrt/);
    expect(e.frame).toMatch(/debug-nans\.test\.ts/);
  });

  it("the backward pass of vjp is checked too", () => {
    const e = caught(() => {
      const [, pullback] = ng.vjp((x: Tensor) => ng.sqrt(x), f64([4, 0]));
      pullback(f64([1, 1]));
    });
    expect(e.output.infs).toBe(1);
    expect(e.message).toMatch(/rule of sqrt/);
  });

  it("inside jvp: an infinite tangent is caught in the JVP rule that computes it", () => {
    // sqrt(0) = 0 is finite, its tangent 1 / (2 sqrt 0) is not: div inside sqrt's JVP rule.
    const e = caught(() => ng.jvp((x: Tensor) => ng.sqrt(x), [f64([1, 0])], [f64([1, 1])]));
    expect(e.primitive).toBe("div");
    expect(e.rules).toEqual(["the JVP rule of sqrt"]);
    expect(e.output.infs).toBe(1);
    expect(e.message).toMatch(/primitive 'div' in the JVP rule of sqrt produced 1 infinite value/);
    expect(e.frame).toMatch(/debug-nans\.test\.ts/);
  });

  it("under a nested derivative the chain of derivative rules is reported", () => {
    // The backward pass of x sqrt x at 0 computes 0 · ∞ (the sqrt term's 1 / (2 sqrt x));
    // under an outer grad that backward pass runs inside the outer derivative's rules.
    const inner = (x: Tensor) => ng.sum(ng.mul(x, ng.sqrt(x)));
    const outer = (x: Tensor) => ng.sum(ng.square(ng.grad(inner)(x)));
    const e = caught(() => ng.grad(outer)(f64([0, 1])));
    expect(e.rules.length).toBeGreaterThanOrEqual(2);
    expect(e.rules.some((r) => /^the backward pass \(transpose rule of/.test(r))).toBe(true);
    expect(e.message).toMatch(/rule of sqrt/);
    expect(e.frame).toMatch(/debug-nans\.test\.ts/);
  });

  it("inside vmap: names the primitive and the batched input shape", () => {
    const e = caught(() => ng.vmap((x: Tensor) => ng.log(ng.sub(x, 1)))(f64([3, 0.5, 2])));
    expect(e.primitive).toBe("log");
    expect(e.inputs).toEqual([{ shape: [3], dtype: "float64", nonFinite: 0 }]);
    expect(e.frame).toMatch(/debug-nans\.test\.ts/);
  });

  it("non-finite inputs are reported as such: the cause is upstream", () => {
    const e = caught(() => ng.add(ng.array([NaN, 1]), ng.array(1)));
    expect(e.primitive).toBe("add");
    expect(e.inputs[0]!.nonFinite).toBe(1);
    expect(e.message).toMatch(/already had 1 non-finite/);
    expect(e.message).toMatch(/cause lies upstream/);
  });

  it("locateNonFinite runs eagerly with the check on and restores the setting", () => {
    const f = (x: Tensor, y: Tensor) => ng.mul(ng.exp(x), ng.log(y));
    const e = ng.locateNonFinite(f, [f64([1, 2]), f64([1, -2])]);
    expect(e).toBeInstanceOf(ng.FloatingPointError);
    expect(e!.primitive).toBe("log");
    expect(e!.frame).toMatch(/debug-nans\.test\.ts/);
    expect(ng.locateNonFinite(f, [f64([1, 2]), f64([1, 2])])).toBeNull();
    expect(ng.config.get().debugNans).toBe(false);
    // Other errors propagate.
    expect(() =>
      ng.locateNonFinite(() => {
        throw new RangeError("boom");
      }, []),
    ).toThrow(RangeError);
    expect(() => ng.locateNonFinite(42 as never, [])).toThrow(/fn must be a function/);
  });
});
