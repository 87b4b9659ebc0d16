// Bad input across the public API: every row of errors-table.cases.ts
// must throw its error class with a message naming the op and the argument, and no row
// may leak an internal error (a stack overflow, "x is not a function", an invalid typed
// array length). Then the behaviour behind the fixes: weak typing of JS numbers, cycle
// and depth limits of pytrees, allocation limits, and hvp's argument forms.
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { groups, type BadInput } from "./errors-table.cases.js";

/** The error `row.run()` throws (fails the test when it returns normally). */
function thrown(row: BadInput): Error {
  try {
    row.run();
  } catch (e) {
    return e as Error;
  }
  throw new Error(`expected "${row.what}" to throw, but it returned normally`);
}

const internalLeaks = [
  /Maximum call stack size exceeded/,
  /Invalid typed array length/,
  /Array buffer allocation failed/,
  /^\S+ is not a function/,
  /Cannot read properties of/,
  /is not iterable/,
  /Converting circular structure/,
];

describe("the table of bad inputs", () => {
  const all = Object.values(groups).flat();

  it("has at least 90 rows, and every area of the API has some", () => {
    expect(all.length).toBeGreaterThanOrEqual(90);
    for (const [area, rows] of Object.entries(groups)) {
      expect(rows.length, `rows for ${area}`).toBeGreaterThan(0);
    }
  });

  for (const [area, rows] of Object.entries(groups)) {
    describe(area, () => {
      for (const row of rows) {
        it(row.what, () => {
          const e = thrown(row);
          expect(e, `${row.what}: ${e.message}`).toBeInstanceOf(row.error);
          for (const leak of internalLeaks) expect(e.message).not.toMatch(leak);
          for (const s of row.says) {
            if (typeof s === "string") expect(e.message).toContain(s);
            else expect(e.message).toMatch(s);
          }
        });
      }
    });
  }
});

/** The dtype and values of a tensor, for compact comparisons. */
const dv = (t: Tensor) => [t.dtype, t.toArray()];

describe("weak typing of JS numbers (JAX's rule)", () => {
  const i = ng.array([1, 2, 3], { dtype: "int32" });
  const b = ng.array([true, false]);

  it("a JS integer next to an int32 tensor stays int32", () => {
    expect(dv(ng.add(i, 2))).toEqual(["int32", [3, 4, 5]]);
    expect(dv(ng.mul(3, i))).toEqual(["int32", [3, 6, 9]]);
    expect(dv(i.sub(1))).toEqual(["int32", [0, 1, 2]]);
  });

  it("a JS fraction next to an int32 tensor promotes to float32", () => {
    expect(dv(ng.add(i, 0.5))).toEqual(["float32", [1.5, 2.5, 3.5]]);
    expect(dv(ng.mul(i, 0.25))).toEqual(["float32", [0.25, 0.5, 0.75]]);
    expect(dv(ng.less(i, 1.5))).toEqual(["bool", [true, false, false]]);
    expect(dv(ng.where(ng.array([true, false, true]), i, 0.5))).toEqual(["float32", [1, 0.5, 3]]);
  });

  it("an integer outside the int32 range next to int32 promotes instead of wrapping", () => {
    const y = ng.add(i, 2 ** 31);
    expect(y.dtype).toBe("float32");
    expect(y.toArray()).toEqual([2 ** 31 + 1, 2 ** 31 + 2, 2 ** 31 + 3].map(Math.fround));
  });

  it("a JS number next to a bool tensor gives int32 or float32, never bool", () => {
    expect(dv(ng.mul(b, 3))).toEqual(["int32", [3, 0]]);
    expect(dv(ng.add(b, 0.5))).toEqual(["float32", [1.5, 0.5]]);
    expect(dv(ng.add(b, -1))).toEqual(["int32", [0, -1]]);
  });

  it("a JS number next to a float tensor takes the tensor's precision", () => {
    const x = ng.array([1], { dtype: "float64" });
    const y = ng.add(x, 0.1);
    expect(y.dtype).toBe("float64");
    // float64 arithmetic: 1 + 0.1 exactly as JS computes it (float32 would round 0.1).
    expect(y.item()).toBe(1 + 0.1);
    expect(ng.add(ng.array([1]), 0.1).dtype).toBe("float32");
  });

  it("two JS numbers compute in the default float32", () => {
    expect(ng.add(1, 2).dtype).toBe("float32");
  });
});

describe("pytrees: cycles, depth and sharing", () => {
  it("a shared subtree is not a cycle", () => {
    const shared = { w: ng.array([1]) };
    const [leaves] = ng.tree.flatten({ a: shared, b: [shared, shared] });
    expect(leaves).toHaveLength(3);
  });

  it("a tree exactly at the depth limit flattens; one level more is an error", () => {
    const nest = (d: number) => {
      let v: unknown = 1;
      for (let k = 0; k < d; k++) v = [v];
      return v;
    };
    expect(ng.tree.flatten(nest(ng.tree.MAX_DEPTH))[0]).toEqual([1]);
    expect(() => ng.tree.flatten(nest(ng.tree.MAX_DEPTH + 1))).toThrow(
      /more than 1000 levels deep/,
    );
  });

  it("gradients through a deep (but legal) pytree still work", () => {
    let v: unknown = ng.array([2], { dtype: "float64" });
    for (let k = 0; k < 200; k++) v = { inner: v };
    const leaf = (t: any): Tensor => ("inner" in t ? leaf(t.inner) : t);
    const g = ng.grad((t: unknown) => ng.sum(ng.square(leaf(t))))(v);
    expect(leaf(g).toArray()).toEqual([4]);
  });
});

describe("allocation limits", () => {
  it("errors are RangeErrors (AllocationError) naming the op, the shape and the limit", () => {
    const e = thrown({
      what: "zeros too large",
      run: () => ng.zeros([2 ** 31]),
      error: RangeError,
      says: [],
    });
    expect(e).toBeInstanceOf(ng.AllocationError);
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe(
      "zeros: cannot allocate an array of shape [2147483648] (2147483648 elements) of float32, " +
        "8.00 GiB: more than the limit of 2147483647 elements per array",
    );
  });

  it("an empty tensor with a huge dimension is fine (zero elements)", () => {
    expect(ng.zeros([0, 1e10]).shape).toEqual([0, 1e10]);
  });
});

describe("hvp argument forms", () => {
  const x = ng.array([0.5, -1, 2], { dtype: "float64" });
  const v = ng.array([1, 2, 3], { dtype: "float64" });
  const cube = (t: Tensor) => ng.sum(ng.pow(t, 3));

  it("hvp(f, x, v) is H v = 6 x v for f = Σ x³", () => {
    expect(ng.hvp(cube, x, v).toArray()).toEqual([3, -12, 36]);
  });

  it("a function of several arguments takes the list spread, as the error suggests", () => {
    const f = (a: Tensor, c: Tensor) => ng.add(cube(a), ng.sum(ng.mul(a, c)));
    // H = [[diag(6a), I], [I, 0]]: H [v, w] = [6 a v + w, v].
    const w = ng.array([1, 1, 1], { dtype: "float64" });
    const [ha, hc] = ng.hvp((xs: Tensor[]) => f(xs[0]!, xs[1]!), [x, v], [v, w]);
    expect(ha.toArray()).toEqual([4, -11, 37]);
    expect(hc.toArray()).toEqual([1, 2, 3]);
  });
});

describe("jvp and integer inputs", () => {
  it("an integer value closed over, not passed as a primal, is fine", () => {
    const n = ng.array([2], { dtype: "int32" });
    const x = ng.array([3], { dtype: "float64" });
    const [y, dy] = ng.jvp((t: Tensor) => ng.mul(t, n), [x], [ng.onesLike(x)]);
    expect([y.toArray(), dy.toArray()]).toEqual([[6], [2]]);
  });

  it("checkGrads still accepts an int32 argument (it is held fixed)", () => {
    const n = ng.array([2], { dtype: "int32" });
    const x = ng.array([0.3], { dtype: "float64" });
    expect(() =>
      ng.testing.checkGrads((t: Tensor, k: Tensor) => ng.mul(ng.sin(t), k), [x, n], {
        order: 2,
      }),
    ).not.toThrow();
  });
});

describe("user rules that return the wrong thing", () => {
  it("customJvp rule returning a bare tensor says what arrived", () => {
    const f = ng.customJvp(
      (x: Tensor) => ng.sin(x),
      ([x]: Tensor[]) => ng.sin(x!) as never,
    );
    const x = ng.array([1]);
    expect(() => ng.jvp(f, [x], [x])).toThrow(
      /customJvp: rule must return \[out, tangentOut\], got a Tensor of shape \[1\]/,
    );
  });

  it("customVjp fwd returning a bare tensor says what arrived", () => {
    const f = ng.customVjp(
      (x: Tensor) => ng.sum(x),
      (x: Tensor) => ng.sum(x) as never,
      (_r: unknown, g: Tensor) => [g],
    );
    expect(() => ng.grad(f)(ng.array([1, 2]))).toThrow(
      /customVjp: fwd must return \[output, residuals\], got a Tensor of shape \[\]/,
    );
  });
});
