/**
 * Registry-driven tests of every public composite (see registry.ts): enrolment is complete;
 * values and derivatives to order 3 in every mix of forward and reverse mode match the
 * closed-form oracles (or high-order finite differences) at ordinary points and at branch
 * points, including the documented conventions at kinks; `checkGrads` agrees at every point
 * where the composite is smooth; values and derivatives stay finite for |x| = 1000 in
 * float32 and float64; NaN propagates; and vmap, nested switching off, staged IR and jit
 * (of the derivative, and derivatives of a jitted composite) give the same derivatives.
 */
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { evalIR } from "../../src/core/ir.js";
import * as activations from "../../src/ops/activations.js";
import * as elementwise from "../../src/ops/elementwise.js";
import * as linalg from "../../src/ops/linalg.js";
import * as reductions from "../../src/ops/reductions.js";
import * as losses from "../../src/nn/losses.js";
import {
  DIRECTIONAL,
  ELEMENTWISE,
  NOT_APPLICABLE,
  REGISTRY,
  f64,
  type DirectionalCase,
  type DirectionalEntry,
  type ElementwiseEntry,
} from "./registry.js";

type Mode = "fwd" | "rev";
/** The built-in engine, which every installation has. */
const JIT = { backend: "interpreter" } as const;

/** All sequences of n modes. */
function modeMixes(n: number): Mode[][] {
  if (n === 0) return [[]];
  return modeMixes(n - 1).flatMap((m) => (["fwd", "rev"] as const).map((x) => [...m, x]));
}

const flat = (t: Tensor): number[] => Array.from(t.dataSync(), Number);

/** |a - b| <= atol + rtol·|b| elementwise; NaN must meet NaN and ±inf must be equal. */
function expectClose(
  a: readonly number[],
  b: readonly number[],
  rtol: number,
  atol: number,
  what: string,
): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  a.forEach((x, i) => {
    const y = b[i]!;
    const ok = Number.isNaN(y)
      ? Number.isNaN(x)
      : !Number.isFinite(y)
        ? x === y
        : Math.abs(x - y) <= atol + rtol * Math.abs(y);
    if (!ok) expect.fail(`${what}: element ${i}: got ${x}, expected ${y}`);
  });
}

/** The derivative of an elementwise map: reverse as grad of the sum, forward with unit tangents. */
function dElementwise(mode: Mode, g: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  if (mode === "rev") return (x) => ng.grad((y: Tensor) => ng.sum(g(y)))(x) as Tensor;
  return (x) => ng.jvp(g, [x], [ng.onesLike(x)])[1] as Tensor;
}

/** d/dt g(x + t·v) at t = 0 of a scalar-valued g, in either mode. */
function dDirectional(mode: Mode, g: (x: Tensor) => Tensor, v: Tensor): (x: Tensor) => Tensor {
  if (mode === "rev") return (x) => ng.sum(ng.mul(ng.grad(g)(x) as Tensor, v));
  return (x) => ng.jvp(g, [x], [v])[1] as Tensor;
}

/** Applies the derivative operators of `modes`, innermost last. */
function nest<F>(modes: readonly Mode[], f: F, d: (m: Mode, g: F) => F): F {
  return modes.reduceRight((g, m) => d(m, g), f);
}

/** Central differences of order 4 for the k-th derivative of φ at 0 (k = 1, 2, 3). */
function stencil(phi: (t: number) => number[], k: 1 | 2 | 3): number[] {
  const h = k === 3 ? 1e-2 : 1e-3;
  const c: Record<number, [number, number][]> = {
    1: [
      [-2, 1],
      [-1, -8],
      [1, 8],
      [2, -1],
    ].map(([j, w]) => [j!, w! / (12 * h)] as [number, number]),
    2: [
      [-2, -1],
      [-1, 16],
      [0, -30],
      [1, 16],
      [2, -1],
    ].map(([j, w]) => [j!, w! / (12 * h * h)] as [number, number]),
    3: [
      [-3, 1],
      [-2, -8],
      [-1, 13],
      [1, -13],
      [2, 8],
      [3, -1],
    ].map(([j, w]) => [j!, w! / (8 * h * h * h)] as [number, number]),
  };
  let out: number[] | undefined;
  for (const [j, w] of c[k]!) {
    const y = phi(j * h);
    out = out ? out.map((o, i) => o + w * y[i]!) : y.map((yi) => w * yi);
  }
  return out!;
}
const FD_TOL: Record<number, [number, number]> = {
  1: [1e-8, 1e-9],
  2: [1e-6, 1e-7],
  3: [1e-5, 1e-5],
};

/** The oracle's value or k-th derivative at every point of an elementwise entry. */
function elementwiseExpected(e: ElementwiseEntry, xs: readonly number[], k: number): number[] {
  if (e.oracle) return xs.map((x) => e.oracle!(x)[k]!);
  if (k === 0) return xs.map(e.value!);
  return stencil((t) => flat(e.f(f64(xs.map((x) => x + t)))), k as 1 | 2 | 3);
}
const elementwiseTol = (e: ElementwiseEntry, k: number): [number, number] =>
  e.oracle || k === 0 ? [1e-10, 1e-12] : FD_TOL[k]!;

const pointsOf = (e: ElementwiseEntry): number[] => [...e.ordinary, ...e.branch];
/** Points at least 1e-4 from every kink, where finite differences are valid. */
const smoothPointsOf = (e: ElementwiseEntry): number[] =>
  pointsOf(e).filter((x) => (e.kinks ?? []).every((k) => Math.abs(x - k) > 1e-4));

function directionalExpected(e: DirectionalEntry, c: DirectionalCase, k: number): number {
  return e.oracle(c.x, c.v)[k]!;
}
const tensorOf = (
  e: DirectionalEntry,
  a: readonly number[],
  dtype: "float32" | "float64" = "float64",
) => ng.reshape(ng.array([...a], { dtype }), [...e.shape]);

let saved: ReturnType<typeof ng.config.get> | undefined;
afterEach(() => {
  if (saved) ng.config.set(saved);
  saved = undefined;
});

describe("registry completeness", () => {
  const modules = { activations, elementwise, reductions, linalg, losses };
  const covered = new Set<string>(REGISTRY.flatMap((e) => e.covers));

  for (const [mod, ns] of Object.entries(modules)) {
    it(`every function exported by ${mod} is enrolled or listed as not applicable`, () => {
      const names = Object.entries(ns)
        .filter(([, v]) => typeof v === "function")
        .map(([n]) => `${mod}.${n}` as const);
      expect(names.length).toBeGreaterThan(0);
      const missing = names.filter((n) => !covered.has(n) && !(n in NOT_APPLICABLE));
      expect(missing, "enrol these in test/composites/registry.ts").toEqual([]);
    });
  }

  it("every enrolment names a real export, and the lists do not overlap", () => {
    const exists = (name: string): boolean => {
      const [mod, fn] = name.split(".") as [keyof typeof modules, string];
      return typeof (modules[mod] as Record<string, unknown>)[fn] === "function";
    };
    expect([...covered].filter((n) => !exists(n))).toEqual([]);
    expect(Object.keys(NOT_APPLICABLE).filter((n) => !exists(n))).toEqual([]);
    expect(Object.keys(NOT_APPLICABLE).filter((n) => covered.has(n))).toEqual([]);
  });

  it("every entry has a branch point, and kinks state their convention", () => {
    for (const e of ELEMENTWISE) {
      expect(e.branch.length, e.name).toBeGreaterThan(0);
      expect(e.oracle !== undefined || e.value !== undefined, e.name).toBe(true);
      if (e.kinks?.length) {
        expect(e.convention, e.name).toBeTruthy();
        expect(e.oracle, `${e.name}: a kink needs a closed-form convention`).toBeDefined();
      }
    }
    for (const e of DIRECTIONAL) expect(e.cases.length, e.name).toBeGreaterThan(0);
  });
});

describe.each(ELEMENTWISE.map((e) => [e.name, e] as const))("%s", (_name, e) => {
  const xs = pointsOf(e);
  const x = f64(xs);

  it("value at ordinary and branch points", () => {
    const [rtol, atol] = elementwiseTol(e, 0);
    expectClose(flat(e.f(x)), elementwiseExpected(e, xs, 0), rtol, atol, `${e.name} value`);
  });

  for (const k of [1, 2, 3]) {
    it(`derivative of order ${k} in every mix of modes, against the oracle${e.kinks ? " and conventions" : ""}`, () => {
      const want = elementwiseExpected(e, xs, k);
      const [rtol, atol] = elementwiseTol(e, k);
      for (const modes of modeMixes(k)) {
        const got = flat(nest(modes, e.f, dElementwise)(x));
        expectClose(got, want, rtol, atol, `${e.name} ${modes.join("∘")} at ${xs}`);
      }
    });
  }

  it("checkGrads to order 3 in both modes wherever it is smooth", () => {
    ng.testing.checkGrads(e.f, [f64(smoothPointsOf(e))], { order: 3 });
  });

  for (const dtype of ["float32", "float64"] as const) {
    it(`finite values and derivatives at ±1000 (${dtype})`, () => {
      const big = ng.array([-1000, 1000], { dtype });
      for (const k of [0, 1, 2, 3]) {
        for (const modes of [Array<Mode>(k).fill("rev"), Array<Mode>(k).fill("fwd")]) {
          const got = nest(modes, e.f, dElementwise)(big);
          expect(got.dtype).toBe(dtype);
          const vals = flat(got);
          expect(vals.every(Number.isFinite), `${e.name} order ${k} ${modes}: ${vals}`).toBe(true);
          if (e.oracle) {
            expectClose(
              vals,
              [-1000, 1000].map((v) => e.oracle!(v)[k]!),
              1e-6,
              1e-6,
              `${e.name} order ${k}`,
            );
          }
        }
      }
    });
  }

  it("NaN propagates", () => {
    for (const dtype of ["float32", "float64"] as const) {
      expect(flat(e.f(ng.array([NaN, 0.5], { dtype })))[0]).toBeNaN();
    }
  });

  it("vmap, nested switching off, staged IR and jit give the same third derivatives", () => {
    const third = (modes: Mode[]) => nest(modes, e.f, dElementwise);
    const want = flat(third(["rev", "rev", "rev"])(x));
    // per-example scalar functions, vmapped over the points
    const scalarD3 = ng.grad(ng.grad(ng.grad((s: Tensor) => ng.sum(e.f(s)))));
    expectClose(flat(ng.vmap(scalarD3)(x) as Tensor), want, 1e-12, 1e-12, `${e.name} vmap`);
    const ir = ng.makeIR(third(["rev", "fwd", "rev"]))(x);
    expectClose(flat(evalIR(ir, [x])[0]!), want, 1e-12, 1e-12, `${e.name} makeIR`);
    const jitted = ng.jit(third(["fwd", "rev", "rev"]), JIT);
    expectClose(flat(jitted(x) as Tensor), want, 1e-12, 1e-12, `${e.name} jit`);
    const ofJit = nest(["rev", "fwd", "rev"], ng.jit(e.f, JIT) as typeof e.f, dElementwise);
    expectClose(flat(ofJit(x)), want, 1e-12, 1e-12, `${e.name} derivatives of jit(f)`);
    saved = ng.config.set({ nestedSwitching: false });
    for (const modes of [
      ["rev", "rev", "rev"],
      ["fwd", "rev", "rev"],
    ] as Mode[][]) {
      expectClose(flat(third(modes)(x)), want, 1e-12, 1e-12, `${e.name} switching off ${modes}`);
    }
  });
});

describe.each(DIRECTIONAL.map((e) => [e.name, e] as const))("%s", (_name, e) => {
  describe.each(e.cases.map((c) => [c.label, c] as const))("at %s", (_label, c) => {
    const x = tensorOf(e, c.x);
    const v = tensorOf(e, c.v);
    const orders = c.orders ?? 3;
    const dv = (m: Mode, g: (t: Tensor) => Tensor) => dDirectional(m, g, v);

    it("value", () => {
      expectClose(flat(e.f(x)), [directionalExpected(e, c, 0)], 1e-12, 1e-300, `${e.name} value`);
    });

    it(`directional derivatives to order ${orders} in every mix of modes${c.kink ? " (convention)" : ""}`, () => {
      for (let k = 1; k <= orders; k++) {
        const want = directionalExpected(e, c, k);
        for (const modes of modeMixes(k)) {
          const got = flat(nest(modes, e.f, dv)(x));
          expectClose(
            got,
            [want],
            1e-9,
            1e-10,
            `${e.name} ${modes.join("∘")} (${c.kink ?? "smooth"})`,
          );
        }
      }
    });

    if (!c.kink && !c.noFd) {
      it("checkGrads to order 3 in both modes", () => {
        ng.testing.checkGrads(e.f, [x], { order: 3 });
      });
    }

    if (c.label === "large") {
      it("finite derivatives in float32 too", () => {
        const x32 = tensorOf(e, c.x, "float32");
        const v32 = tensorOf(e, c.v, "float32");
        for (let k = 0; k <= 3; k++) {
          const want = directionalExpected(e, c, k);
          for (const modes of [Array<Mode>(k).fill("rev"), Array<Mode>(k).fill("fwd")]) {
            const got = flat(nest(modes, e.f, (m, g) => dDirectional(m, g, v32))(x32));
            expect(got.every(Number.isFinite), `${e.name} order ${k}: ${got}`).toBe(true);
            expectClose(got, [want], 1e-5, 1e-4, `${e.name} float32 order ${k}`);
          }
        }
      });
    }
  });

  const c0 = e.cases[0]!;
  it("NaN propagates", () => {
    const withNan = [NaN, ...c0.x.slice(1)];
    expect(flat(e.f(tensorOf(e, withNan)))[0]).toBeNaN();
  });

  it("vmap, nested switching off, staged IR and jit give the same third derivatives", () => {
    const x = tensorOf(e, c0.x);
    const v = tensorOf(e, c0.v);
    const third = (modes: Mode[]) => nest(modes, e.f, (m, g) => dDirectional(m, g, v));
    const want = flat(third(["rev", "rev", "rev"])(x));
    expectClose(want, [directionalExpected(e, c0, 3)], 1e-9, 1e-10, `${e.name} oracle`);
    const batch = ng.stack([x, x]);
    expectClose(
      flat(ng.vmap(third(["rev", "fwd", "rev"]))(batch) as Tensor),
      [...want, ...want],
      1e-12,
      1e-12,
      `${e.name} vmap`,
    );
    const ir = ng.makeIR(third(["fwd", "rev", "rev"]))(x);
    expectClose(flat(evalIR(ir, [x])[0]!), want, 1e-12, 1e-12, `${e.name} makeIR`);
    const jitted = ng.jit(third(["rev", "fwd", "rev"]), JIT);
    expectClose(flat(jitted(x) as Tensor), want, 1e-12, 1e-12, `${e.name} jit`);
    const ofJit = nest(["fwd", "rev", "rev"], ng.jit(e.f, JIT) as typeof e.f, (m, g) =>
      dDirectional(m, g, v),
    );
    expectClose(flat(ofJit(x)), want, 1e-12, 1e-12, `${e.name} derivatives of jit(f)`);
    saved = ng.config.set({ nestedSwitching: false });
    for (const modes of [
      ["rev", "rev", "rev"],
      ["rev", "fwd", "rev"],
    ] as Mode[][]) {
      expectClose(flat(third(modes)(x)), want, 1e-12, 1e-12, `${e.name} switching off ${modes}`);
    }
  });

  if (e.pair) {
    const { f2, a, b } = e.pair;
    it("checkGrads to order 3 in both arguments, both modes", () => {
      ng.testing.checkGrads(f2, [a, b], { order: 3 });
    });
  }
});
