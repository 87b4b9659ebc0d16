// The signature cache of ng.jit: shapes, dtypes, static arguments, non-tensor leaves and
// pytree structure each force a retrace; a call with a seen signature does not; the LRU
// evicts the least recently used signature; and cached programs give the eager results.
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/core/tensor.js";
import { expectClose } from "./helpers.js";

const counted = () => {
  let calls = 0;
  const f = (x: Tensor, k: unknown = 1) => {
    calls++;
    return ng.mul(ng.sin(x), typeof k === "number" ? k : 2);
  };
  return { f, calls: () => calls };
};

describe("jit signature cache", () => {
  it("a second call with the same signature does not retrace, and runs the cached program", () => {
    const { f, calls } = counted();
    const jf = ng.jit(f);
    const a = ng.array([1, 2, 3]);
    const b = ng.array([4, 5, 6]);
    expectClose([jf(a)], [f(a)], 1e-6, 1e-7, "first call");
    expectClose([jf(b)], [f(b)], 1e-6, 1e-7, "second call, new values");
    const s = jf.stats();
    expect([s.traces, s.misses, s.hits, s.compiles]).toEqual([1, 1, 1, 1]);
    expect(calls()).toBe(3); // two eager reference calls + one trace
  });

  it("shape, dtype and tree structure each force a retrace", () => {
    const jf = ng.jit((t: any) =>
      ng.sum(
        ng.tree
          .flatten<Tensor>(t)[0]
          .map((x) => ng.sum(x))
          .reduce(ng.add),
      ),
    );
    jf([ng.ones([2])]);
    jf([ng.ones([2])]);
    expect(jf.stats().traces).toBe(1);
    jf([ng.ones([3])]);
    expect(jf.stats().traces).toBe(2);
    jf([ng.ones([3], { dtype: "float64" })]);
    expect(jf.stats().traces).toBe(3);
    jf([ng.ones([3]), ng.ones([3])]);
    expect(jf.stats().traces).toBe(4);
    jf({ a: ng.ones([3]) });
    expect(jf.stats().traces).toBe(5);
    jf({ b: ng.ones([3]) });
    expect(jf.stats().traces).toBe(6);
    jf({ a: ng.ones([3]) });
    expect(jf.stats().traces).toBe(6);
    expect(jf.stats().hits).toBe(2);
  });

  it("static arguments are part of the key by value, structurally", () => {
    const seen: unknown[] = [];
    const jf = ng.jit(
      (x: Tensor, cfg: { scale: number; mode: string }) => {
        seen.push(cfg);
        return cfg.mode === "double" ? ng.mul(x, 2 * cfg.scale) : ng.mul(x, cfg.scale);
      },
      { staticArgnums: [1] },
    );
    const x = ng.array([1, 2]);
    expect(jf(x, { scale: 3, mode: "double" }).toArray()).toEqual([6, 12]);
    expect(jf(x, { mode: "double", scale: 3 }).toArray()).toEqual([6, 12]); // same, keys reordered
    expect(jf.stats().traces).toBe(1);
    expect(jf(x, { scale: 3, mode: "single" }).toArray()).toEqual([3, 6]);
    expect(jf.stats().traces).toBe(2);
    expect(seen.length).toBe(2);
  });

  it("non-tensor leaves of traced arguments are static by value", () => {
    const { f } = counted();
    const jf = ng.jit(f);
    const x = ng.array([0.5]);
    jf(x, 2);
    jf(x, 2);
    expect(jf.stats().traces).toBe(1);
    expectClose([jf(x, 3)], [f(x, 3)], 1e-6, 1e-7, "k = 3");
    expect(jf.stats().traces).toBe(2);
    jf(x, "other");
    expect(jf.stats().traces).toBe(3);
  });

  it("evicts the least recently used signature when full", () => {
    const jf = ng.jit((x: Tensor) => ng.neg(x), { cacheSize: 2 });
    const [a, b, c] = [ng.ones([1]), ng.ones([2]), ng.ones([3])];
    jf(a);
    jf(b);
    jf(a); // a is now the most recently used
    jf(c); // evicts b
    expect(jf.stats()).toMatchObject({ traces: 3, evictions: 1, cacheEntries: 2 });
    jf(a);
    expect(jf.stats().traces).toBe(3);
    jf(b);
    expect(jf.stats()).toMatchObject({ traces: 4, evictions: 2 });
    jf.clearCache();
    expect(jf.stats().cacheEntries).toBe(0);
    jf(b);
    expect(jf.stats().traces).toBe(5);
  });

  it("a jitted function under a transform shares the cache with direct calls", () => {
    const jf = ng.jit((x: Tensor) => ng.sum(ng.exp(x)));
    const x = ng.array([0.1, 0.2]);
    jf(x);
    const g = ng.grad(jf)(x);
    expectClose([g], [ng.exp(x)], 1e-6, 1e-7, "grad");
    expect(jf.stats().traces).toBe(1);
    expect(jf.stats().hits).toBe(1);
  });
});
