// The fast paths of eager dispatch (bench/dispatch.ts measures them): the NDArray
// constructor's layout handling, the scalar path of fromNested, the shape helpers' small
// cases, pytree flattening without a walk for a lone leaf, the interpreters handing
// primitives to their parent without closures (the current trace is restored when a rule
// throws), and ConcreteTensor reading its shape from its array. Each is checked against an
// independent reference: values written out by hand, or the general path it short-cuts.
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import { ShapedArray } from "../../src/core/aval.js";
import { JVPTrace } from "../../src/core/jvp.js";
import { StagingTrace } from "../../src/core/staging.js";
import { ConcreteTensor } from "../../src/core/tensor.js";
import {
  bind,
  bindIn,
  currentTrace,
  evalTrace,
  jvpIn,
  withTrace,
  type Primitive,
} from "../../src/core/trace.js";
import { flatten, leafPaths, unflatten } from "../../src/core/tree.js";
import { NDArray, fromNested } from "../../src/tensor/ndarray.js";
import {
  broadcastShapes,
  broadcastStrides,
  contiguousStrides,
  normalizeAxes,
  sizeOf,
} from "../../src/tensor/shape.js";

/** Row-major elements of a strided array, read one by one through `get` (the reference). */
function elementsByIndex(x: NDArray): number[] {
  const out: number[] = [];
  const idx = new Array<number>(x.ndim).fill(0);
  for (let k = 0; k < x.size; k++) {
    out.push(x.get(...idx));
    for (let d = x.ndim - 1; d >= 0; d--) {
      if (++idx[d]! < x.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

describe("NDArray constructor", () => {
  const data = new Float32Array([0, 1, 2, 3, 4, 5]);

  it("default strides: row-major and contiguous", () => {
    const x = new NDArray(data, [2, 3]);
    expect(x.strides).toEqual([3, 1]);
    expect(x.contiguous).toBe(true);
    expect(x.size).toBe(6);
    expect(Array.from(x.flat())).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new NDArray(new Float64Array([7]), []).strides).toEqual([]);
    expect(new NDArray(data, [6]).strides).toEqual([1]);
    expect(new NDArray(data, [1, 2, 3]).strides).toEqual([6, 3, 1]);
  });

  it("given non-contiguous layouts: contiguity is computed, reads follow the strides", () => {
    // a transposed view [3, 2] of [[0, 1, 2], [3, 4, 5]]
    const t = new NDArray(data, [3, 2], [1, 3], 0);
    expect(t.contiguous).toBe(false);
    expect(Array.from(t.flat())).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(t.flat())).toEqual(elementsByIndex(t));
    // a broadcast view (stride 0) and a reversed one (negative stride, offset at the end)
    const b = new NDArray(data, [2, 3], [0, 1], 3);
    expect(b.contiguous).toBe(false);
    expect(Array.from(b.flat())).toEqual([3, 4, 5, 3, 4, 5]);
    const r = new NDArray(data, [6], [-1], 5);
    expect(r.contiguous).toBe(false);
    expect(Array.from(r.flat())).toEqual([5, 4, 3, 2, 1, 0]);
    // size-1 dimensions may carry any stride and stay contiguous; an offset row is contiguous
    expect(new NDArray(data, [1, 3], [99, 1], 3).contiguous).toBe(true);
    expect(Array.from(new NDArray(data, [1, 3], [99, 1], 3).flat())).toEqual([3, 4, 5]);
    // explicit row-major strides are recognised as contiguous
    expect(new NDArray(data, [2, 3], [3, 1], 0).contiguous).toBe(true);
    // an empty array is contiguous whatever its strides
    expect(new NDArray(data, [2, 0], [5, 7], 0).contiguous).toBe(true);
  });

  it("keeps copies: changing the caller's shape or strides afterwards has no effect", () => {
    const shape = [2, 3];
    const strides = [1, 2];
    const x = new NDArray(data, shape, strides, 0);
    shape[0] = 3;
    strides[1] = 1;
    expect(x.shape).toEqual([2, 3]);
    expect(x.strides).toEqual([1, 2]);
    expect(x.size).toBe(6);
    // frozen inputs (as callers may pass) are accepted and copied
    const y = new NDArray(data, Object.freeze([3, 2]), Object.freeze([2, 1]), 0);
    expect(y.shape).toEqual([3, 2]);
    expect(y.contiguous).toBe(true);
    // two arrays never share a shape or strides array
    const z = new NDArray(data, x.shape);
    expect(z.shape).not.toBe(x.shape);
    expect(new NDArray(data, [2, 3]).strides).not.toBe(new NDArray(data, [2, 3]).strides);
  });

  it("views and contiguous copies of views", () => {
    const x = new NDArray(data, [2, 3]);
    const v = x.view([3, 2], [1, 3], 0);
    expect(v.contiguous).toBe(false);
    const c = v.toContiguous();
    expect(c.contiguous).toBe(true);
    expect(c.strides).toEqual([2, 1]);
    expect(c.toArray()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
  });
});

describe("fromNested on a scalar (the path of every JS number an op meets)", () => {
  it("infers float32 for numbers and bool for booleans, rank 0", () => {
    const a = fromNested(2.5);
    expect(a.dtype).toBe("float32");
    expect(a.shape).toEqual([]);
    expect(a.item()).toBe(2.5);
    const b = fromNested(true);
    expect(b.dtype).toBe("bool");
    expect(b.item()).toBe(true);
    // the same as the general path through a one-element list, reshaped
    for (const v of [0, -3, 1e-8, Infinity, NaN, false]) {
      const viaList = fromNested([v]);
      expect(fromNested(v).dtype).toBe(viaList.dtype);
      expect(Array.from(fromNested(v).flat())).toEqual(Array.from(viaList.flat()));
    }
  });

  it("converts to the given dtype with the general path's checks and messages", () => {
    expect(fromNested(3, "int32").dtype).toBe("int32");
    expect(fromNested(3, "bool").item()).toBe(true);
    expect(fromNested(0, "bool").item()).toBe(false);
    expect(fromNested(true, "float64").item()).toBe(1);
    expect(() => fromNested(2.5, "int32", "scalar: v")).toThrow(
      "scalar: v: expected integers in the int32 range, element 0 is 2.5",
    );
    expect(() => fromNested(2 ** 31, "int32")).toThrow(/int32 range, element 0 is 2147483648/);
    expect(() => fromNested(1, "int64" as never)).toThrow(/dtype: unknown dtype "int64"/);
  });

  it("weakly typed scalars in ops keep their dtypes", () => {
    const i = ng.array([1, 2], { dtype: "int32" });
    expect(ng.add(i, 1).dtype).toBe("int32");
    expect(ng.add(i, 0.5).dtype).toBe("float32");
    expect(ng.add(i, 0.5).toArray()).toEqual([1.5, 2.5]);
    expect(ng.mul(ng.array([1, 2], { dtype: "float64" }), 3).dtype).toBe("float64");
  });
});

describe("shape helpers: small cases", () => {
  it("contiguousStrides returns fresh row-major strides at every rank", () => {
    expect(contiguousStrides([])).toEqual([]);
    expect(contiguousStrides([5])).toEqual([1]);
    expect(contiguousStrides([2, 3])).toEqual([3, 1]);
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(contiguousStrides([2, 0, 4])).toEqual([0, 4, 1]);
    const a = contiguousStrides([2, 3]);
    a[0] = 100;
    expect(contiguousStrides([2, 3])).toEqual([3, 1]);
  });

  it("broadcastShapes and broadcastStrides", () => {
    expect(broadcastShapes([3, 1], [4])).toEqual([3, 4]);
    expect(broadcastShapes([], [2, 3])).toEqual([2, 3]);
    expect(() => broadcastShapes([2], [3], "add")).toThrow(
      "add: shapes [2] and [3] cannot be broadcast together (dimension 0 of the aligned shapes: 2 vs 3)",
    );
    expect(broadcastStrides([3, 1], [1, 1], [2, 3, 4])).toEqual([0, 1, 0]);
    expect(broadcastStrides([], [], [2])).toEqual([0]);
    expect(() => broadcastStrides([2, 3], [3, 1], [2, 4])).toThrow(
      "broadcastTo: cannot broadcast shape [2, 3] to [2, 4] (dimension 1: 3 vs 4)",
    );
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(sizeOf([])).toBe(1);
  });

  it("normalizeAxes sorts, rejects duplicates, and checks ranges first", () => {
    expect(normalizeAxes(undefined, 3)).toEqual([0, 1, 2]);
    expect(normalizeAxes(null, 0)).toEqual([]);
    expect(normalizeAxes([0, 2], 3)).toEqual([0, 2]);
    expect(normalizeAxes([2, 0], 3)).toEqual([0, 2]);
    expect(normalizeAxes([-1, 0, 1], 3)).toEqual([0, 1, 2]);
    expect(normalizeAxes(-1, 2)).toEqual([1]);
    expect(() => normalizeAxes([1, -2], 3)).toThrow(
      "axis: axis 1 appears more than once in [1,-2]",
    );
    expect(() => normalizeAxes([0, 2, 0], 3, "sum: axis")).toThrow(
      "sum: axis: axis 0 appears more than once",
    );
    // an axis out of range is reported before a duplicate
    expect(() => normalizeAxes([0, 0, 5], 2)).toThrow(/axis 5 is out of range/);
  });
});

describe("pytrees", () => {
  const x = ng.array([1, 2]);

  it("a lone leaf flattens without a walk", () => {
    const [leaves, def] = flatten(x);
    expect(leaves).toEqual([x]);
    expect(leaves[0]).toBe(x);
    expect(def).toEqual({ kind: "leaf" });
    expect(flatten(3)[0]).toEqual([3]);
    expect(flatten("s")[1]).toEqual({ kind: "leaf" });
    expect(flatten(null)).toEqual([[], { kind: "none", value: null }]);
    expect(unflatten(def, [5])).toBe(5);
    expect(leafPaths(def)).toEqual([""]);
  });

  it("paths, order and rebuilding of nested trees", () => {
    const tree = { b: [x, { "a-b": x, c: null }], a: 2 };
    const [leaves, def] = flatten(tree);
    expect(leaves).toEqual([x, x, 2]);
    expect(leafPaths(def)).toEqual([".b[0]", '.b[1]["a-b"]', ".a"]);
    expect(leafPaths(def, "p")).toEqual(["p.b[0]", 'p.b[1]["a-b"]', "p.a"]);
    expect(unflatten(def, [1, 2, 3])).toEqual({ b: [1, { "a-b": 2, c: null }], a: 3 });
    // holes of a sparse array have no leaves and no paths
    // eslint-disable-next-line no-sparse-arrays
    const [sl, sd] = flatten([, x]);
    expect(sl).toEqual([x]);
    expect(leafPaths(sd)).toEqual(["[1]"]);
    expect(() => unflatten(def, [1, 2])).toThrow("tree.unflatten: too few leaves (2)");
    expect(() => unflatten(def, [1, 2, 3, 4])).toThrow(
      "tree.unflatten: structure has 3 leaves but 4 were given",
    );
  });

  it("cycles and deep nesting are named by their path", () => {
    const a: unknown[] = [1];
    a.push({ b: a });
    expect(() => flatten(a)).toThrow(
      "tree.flatten: tree[1].b: cyclic pytree: this node contains itself",
    );
    expect(() => flatten({ "x y": [a] }, "grad: argument")).toThrow(
      'grad: argument["x y"][0][1].b: cyclic pytree',
    );
    let deep: unknown = 1;
    for (let i = 0; i < 1001; i++) deep = [deep];
    expect(() => flatten(deep)).toThrow(
      `tree.flatten: tree: the pytree is nested more than 1000 levels deep (along ${"[0]".repeat(7)}…)`,
    );
    // a shared subtree that is not a cycle is fine
    const shared = [x];
    expect(flatten([shared, shared])[0]).toEqual([x, x]);
  });
});

describe("ConcreteTensor reads shape and dtype from its array", () => {
  it("agrees with its aval", () => {
    for (const t of [ng.array([[1, 2, 3]]), ng.array(2, { dtype: "int32" }), ng.zeros([2, 0])]) {
      expect(t).toBeInstanceOf(ConcreteTensor);
      expect(t.shape).toEqual(t.aval.shape);
      expect(t.dtype).toBe(t.aval.dtype);
      expect(t.ndim).toBe(t.aval.ndim);
      expect(t.size).toBe(t.aval.size);
    }
    expect(new ShapedArray([2, 3], "float32").size).toBe(6);
    expect(new ShapedArray([], "float32").size).toBe(1);
  });
});

/** A primitive for the trace tests: identity, whose impl or JVP rule may throw. */
function testPrimitive(throwIn: "impl" | "jvp" | null): Primitive {
  return {
    name: "testPrim",
    impl: ([x]) => {
      if (throwIn === "impl") throw new Error("impl failed");
      return [x!];
    },
    abstractEval: ([x]) => [x!],
    jvp: ([x], [t]) => {
      if (throwIn === "jvp") throw new Error("jvp failed");
      return [[x!], [t!]];
    },
  };
}

describe("interpreters: handing primitives on", () => {
  it("bindIn and jvpIn run under the given trace and restore the current one", () => {
    const x = ng.array([1, 2]);
    const staging = new StagingTrace(evalTrace, "test");
    let seen: unknown;
    const probe: Primitive = {
      ...testPrimitive(null),
      impl: ([a]) => {
        seen = currentTrace();
        return [a!];
      },
    };
    withTrace(staging, () => bindIn(evalTrace, probe, [x], {}));
    expect(seen).toBe(evalTrace);
    expect(() => bindIn(evalTrace, testPrimitive("impl"), [x], {})).toThrow("impl failed");
    expect(currentTrace()).toBe(evalTrace);
    const jvpTrace = new JVPTrace(evalTrace);
    expect(() =>
      withTrace(staging, () => jvpIn(evalTrace, testPrimitive("jvp"), [x], [x], {})),
    ).toThrow("jvp failed");
    expect(currentTrace()).toBe(evalTrace);
    // through the JVP interpreter: with a tangent the rule runs, without one the parent
    const lifted = jvpTrace.lift(x, ng.array([1, 1]));
    expect(() => withTrace(jvpTrace, () => bind(testPrimitive("jvp"), [lifted]))).toThrow(
      "jvp failed",
    );
    expect(currentTrace()).toBe(evalTrace);
    expect(() => withTrace(jvpTrace, () => bind(testPrimitive("impl"), [x]))).toThrow(
      "impl failed",
    );
    expect(currentTrace()).toBe(evalTrace);
    // staging hands a primitive with none of its tracers to its parent (here: eval)
    const [y] = withTrace(staging, () => bind(testPrimitive(null), [x]));
    expect(y).toBeInstanceOf(ConcreteTensor);
    expect(currentTrace()).toBe(evalTrace);
  });

  it("a JVP input of another trace is a constant; outputs of non-float dtype drop tangents", () => {
    const outer = new JVPTrace(evalTrace);
    const inner = new JVPTrace(outer);
    const x = ng.array([1, 2]);
    const a = outer.lift(x, ng.array([1, 1]));
    const b = inner.lift(x, ng.array([10, 10]));
    // d/d(inner) of a·b is a·db only: the outer tracer is a constant to the inner trace
    const prod = withTrace(inner, () => ng.mul(a, b));
    const [p, t] = inner.unpack(prod);
    expect(t).not.toBeNull();
    expect(outer.unpack(t!)[0].toArray()).toEqual([10, 20]);
    expect(outer.unpack(p)[1]!.toArray()).toEqual([1, 2]);
    const cmp = withTrace(inner, () => ng.greater(b, 1));
    expect(cmp.dtype).toBe("bool");
    expect(inner.unpack(cmp)[1]).toBeNull();
  });

  it("a leaked tracer names the primitive and the input", () => {
    let leaked: ng.Tensor | undefined;
    ng.grad((x: ng.Tensor) => {
      leaked = x;
      return ng.sum(x);
    })(ng.array([1, 2]));
    expect(() => ng.add(ng.array([1, 2]), leaked!)).toThrow(
      /^add: input 1 is a tracer of jvp#\d+ used after its transform ended \(a leaked tracer/,
    );
  });

  it("gradients of small programs match hand-written derivatives", () => {
    const x = ng.array([0.5, -1, 2], { dtype: "float64" });
    const y = ng.array([1.5, 2, -0.5], { dtype: "float64" });
    const [gx, gy] = ng.grad((a: ng.Tensor, b: ng.Tensor) => ng.sum(ng.tanh(ng.mul(a, b))), {
      argnums: [0, 1],
    })(x, y) as ng.Tensor[];
    const xs = [0.5, -1, 2];
    const ys = [1.5, 2, -0.5];
    const sech2 = xs.map((v, i) => 1 - Math.tanh(v * ys[i]!) ** 2);
    const gxv = gx!.toArray() as number[];
    const gyv = gy!.toArray() as number[];
    xs.forEach((v, i) => {
      expect(gxv[i]).toBeCloseTo(sech2[i]! * ys[i]!, 12);
      expect(gyv[i]).toBeCloseTo(sech2[i]! * v, 12);
    });
    // broadcasting and matmul: d/dW sum((x W + b)) = xᵀ 1, d/db = N·1
    const X = ng.array(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "float64" },
    );
    const W = ng.array(
      [
        [1, 0, 2],
        [0, 1, 3],
      ],
      { dtype: "float64" },
    );
    const bias = ng.array([1, 1, 1], { dtype: "float64" });
    const [gW, gb] = ng.grad((w: ng.Tensor, b: ng.Tensor) => ng.sum(ng.add(ng.matmul(X, w), b)), {
      argnums: [0, 1],
    })(W, bias) as ng.Tensor[];
    expect(gW!.toArray()).toEqual([
      [4, 4, 4],
      [6, 6, 6],
    ]);
    expect(gb!.toArray()).toEqual([2, 2, 2]);
  });
});
