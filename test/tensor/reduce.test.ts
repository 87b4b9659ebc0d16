// Reduction kernels against a naive reference that walks every multi-index with
// NDArray.get and combines into plain JS numbers, on contiguous inputs and on strided
// layouts (transposed, flipped, offset, broadcast), plus dtype rules, NaN and empty
// handling, fast-check properties and error messages.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  ARG_REDUCE_OPS,
  NDArray,
  REDUCE_OPS,
  allocate,
  argmax,
  argmin,
  fromNested,
  max,
  min,
  prod,
  reduce,
  sum,
  type DType,
  type ReduceOp,
} from "../../src/tensor/index.js";
import { indices, sizeOf, mulberry32 } from "./reference.js";

// ---------------------------------------------------------------------------------------
// helpers: seeded data, layouts, naive reference

function rng(seed: number): () => number {
  return mulberry32(seed >>> 0 || 1);
}

type Layout = "contiguous" | "transposed" | "flipped" | "offset" | "broadcast";
const LAYOUTS: Layout[] = ["contiguous", "transposed", "flipped", "offset", "broadcast"];

/** Fills storage with small integers (exact in every dtype) or uniform floats. */
function fill(data: ReturnType<typeof allocate>, dtype: DType, r: () => number, ints: boolean) {
  for (let i = 0; i < data.length; i++) {
    if (dtype === "bool") data[i] = r() < 0.5 ? 1 : 0;
    else if (ints || dtype === "int32") data[i] = Math.floor(r() * 11) - 5;
    else data[i] = r() * 2 - 1;
  }
}

/** An array of logical `shape` stored with the given layout. */
function make(shape: number[], dtype: DType, layout: Layout, seed = 1, ints = true): NDArray {
  const r = rng(seed);
  const nd = shape.length;
  switch (layout) {
    case "contiguous": {
      const data = allocate(dtype, sizeOf(shape));
      fill(data, dtype, r, ints);
      return new NDArray(data, shape);
    }
    case "transposed": {
      // storage holds the reversed shape; the view reverses the strides back
      const rev = shape.slice().reverse();
      const base = make(rev, dtype, "contiguous", seed, ints);
      return base.view(shape, base.strides.slice().reverse(), 0);
    }
    case "flipped": {
      const base = make(shape, dtype, "contiguous", seed, ints);
      let off = 0;
      for (let d = 0; d < nd; d++) off += Math.max(shape[d]! - 1, 0) * base.strides[d]!;
      if (sizeOf(shape) === 0) off = 0;
      return base.view(
        shape,
        base.strides.map((s) => -s),
        off,
      );
    }
    case "offset": {
      // a gap of 2 elements after each innermost row and 3 leading elements
      const padded = shape.slice();
      if (nd > 0) padded[nd - 1] = padded[nd - 1]! + 2;
      const data = allocate(dtype, sizeOf(padded) + 3);
      fill(data, dtype, r, ints);
      const strides = new Array<number>(nd);
      let s = 1;
      for (let d = nd - 1; d >= 0; d--) {
        strides[d] = s;
        s *= padded[d]!;
      }
      return new NDArray(data, shape, strides, 3);
    }
    case "broadcast": {
      // every even axis is a stride-0 broadcast of a size-1 axis
      const small = shape.map((d, i) => (i % 2 === 0 ? 1 : d));
      const base = make(small, dtype, "contiguous", seed, ints);
      return base.view(
        shape,
        base.strides.map((s, i) => (i % 2 === 0 ? 0 : s)),
        0,
      );
    }
  }
}

interface RefResult {
  shape: number[];
  values: number[];
}

/** Naive reduction: groups elements by their kept indices, combines in float64/int math. */
function naiveReduce(op: ReduceOp, x: NDArray, axes: number[], keepdims: boolean): RefResult {
  const nd = x.ndim;
  const red = new Set(axes.map((a) => (a < 0 ? a + nd : a)));
  const outShape: number[] = [];
  const keptShape: number[] = [];
  for (let d = 0; d < nd; d++) {
    if (red.has(d)) {
      if (keepdims) outShape.push(1);
    } else {
      outShape.push(x.shape[d]!);
      keptShape.push(x.shape[d]!);
    }
  }
  const groups: number[][] = Array.from({ length: sizeOf(keptShape) }, () => []);
  for (const idx of indices(x.shape)) {
    let o = 0;
    for (let d = 0; d < nd; d++) if (!red.has(d)) o = o * x.shape[d]! + idx[d]!;
    groups[o]!.push(x.get(...idx));
  }
  const isInt = x.dtype === "int32" || x.dtype === "bool";
  const values = groups.map((g) => {
    switch (op) {
      case "sum":
        return isInt ? g.reduce((a, b) => (a + b) | 0, 0) : g.reduce((a, b) => a + b, 0);
      case "prod":
        return isInt ? g.reduce((a, b) => Math.imul(a, b), 1) : g.reduce((a, b) => a * b, 1);
      case "max":
        return g.some(Number.isNaN) ? NaN : Math.max(...g);
      case "min":
        return g.some(Number.isNaN) ? NaN : Math.min(...g);
    }
  });
  return { shape: outShape, values };
}

function naiveArg(isMax: boolean, x: NDArray, axis: number | undefined, keepdims: boolean) {
  const nd = x.ndim;
  if (axis === undefined) {
    const vals = indices(x.shape).map((i) => x.get(...i));
    return { shape: keepdims ? new Array<number>(nd).fill(1) : [], values: [pick(isMax, vals)] };
  }
  const ax = axis < 0 ? axis + nd : axis;
  const outShape = x.shape.map((d, i) => (i === ax ? 1 : d)).filter((_, i) => keepdims || i !== ax);
  const kept = x.shape.filter((_, i) => i !== ax);
  const values = indices(kept).map((k) => {
    const vals: number[] = [];
    for (let j = 0; j < x.shape[ax]!; j++) vals.push(x.get(...k.slice(0, ax), j, ...k.slice(ax)));
    return pick(isMax, vals);
  });
  return { shape: outShape, values };
}

function pick(isMax: boolean, vals: number[]): number {
  const nan = vals.findIndex(Number.isNaN);
  if (nan >= 0) return nan;
  let best = 0;
  for (let i = 1; i < vals.length; i++) {
    if (isMax ? vals[i]! > vals[best]! : vals[i]! < vals[best]!) best = i;
  }
  return best;
}

function flatValues(x: NDArray): number[] {
  return Array.from(x.flat());
}

/** Exact comparison (NaN equals NaN) or, with tol > 0, |a - b| <= tol * (1 + |b|). */
function expectValues(got: NDArray, ref: RefResult, tol = 0): void {
  expect(got.shape).toEqual(ref.shape);
  const g = flatValues(got);
  expect(g.length).toBe(ref.values.length);
  for (let i = 0; i < g.length; i++) {
    const a = g[i]!;
    // the reference combines in float64; a float32 result is that value rounded once
    const b = got.dtype === "float32" ? Math.fround(ref.values[i]!) : ref.values[i]!;
    if (Number.isNaN(b)) expect(a).toBeNaN();
    else if (tol === 0) expect(a).toBe(b);
    else expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * (1 + Math.abs(b)));
  }
}

const fnOf = { sum, prod, max, min };

// ---------------------------------------------------------------------------------------

describe("value reductions against the naive reference", () => {
  const cases: [number[], number | number[] | undefined][] = [
    [[], undefined],
    [[5], undefined],
    [[5], 0],
    [[3, 4], undefined],
    [[3, 4], 0],
    [[3, 4], 1],
    [[3, 4], -1],
    [[3, 20], 0], // rows path: kept innermost axis of length >= 16
    [[40, 3], 0], // segments path with a strided innermost reduction
    [
      [2, 3, 4],
      [0, 2],
    ],
    [[2, 3, 4], [1]],
    [
      [2, 3, 4],
      [0, 1],
    ],
    [
      [2, 3, 4],
      [1, 2],
    ],
    [
      [2, 1, 4, 5],
      [0, 2],
    ],
    [
      [2, 3, 4, 5],
      [1, 3],
    ],
    [[4, 1, 17], [0]],
    [[2, 3, 4], []],
    [[3, 4, 2, 17], [1]], // rows path with two outer kept axes
    [
      [2, 3, 5, 16],
      [0, 2],
    ], // rows path with two unmergeable reduced axes
    [
      [3, 5, 2, 3],
      [0, 2],
    ], // segments path with kept axes between reduced ones
  ];
  for (const op of REDUCE_OPS) {
    for (const dtype of ["float32", "float64", "int32", "bool"] as DType[]) {
      it(`${op} ${dtype} over many shapes and layouts`, () => {
        for (const [shape, axis] of cases) {
          for (const layout of LAYOUTS) {
            for (const keepdims of [false, true]) {
              const x = make(shape, dtype, layout, shape.length * 7 + 3);
              const got = fnOf[op](x, axis, keepdims);
              const axes =
                axis === undefined
                  ? shape.map((_, i) => i)
                  : typeof axis === "number"
                    ? [axis]
                    : axis;
              expectValues(got, naiveReduce(op, x, axes, keepdims));
            }
          }
        }
      });
    }
  }

  it("float sums of random floats match float64 references", () => {
    for (const layout of LAYOUTS) {
      for (const dtype of ["float32", "float64"] as DType[]) {
        const x = make([6, 33, 18], dtype, layout, 11, false);
        for (const axis of [undefined, 0, 1, 2, [0, 2], [0, 1]]) {
          const axes = axis === undefined ? [0, 1, 2] : typeof axis === "number" ? [axis] : axis;
          const tol = dtype === "float32" ? 1e-6 : 1e-12;
          expectValues(sum(x, axis), naiveReduce("sum", x, axes, false), tol);
          expectValues(max(x, axis), naiveReduce("max", x, axes, false));
        }
      }
    }
  });

  it("reduce(op, ...) dispatches and rejects unknown ops", () => {
    const x = fromNested([
      [1, 2],
      [3, 4],
    ]);
    expect(reduce("sum", x, 0).toArray()).toEqual([4, 6]);
    expect(reduce("prod", x, 1).toArray()).toEqual([2, 12]);
    expect(reduce("max", x).item()).toBe(4);
    expect(reduce("min", x, null, true).toArray()).toEqual([[1]]);
    expect(() => reduce("mean" as ReduceOp, x)).toThrow(/reduce: unknown op "mean"/);
    expect(ARG_REDUCE_OPS).toEqual(["argmax", "argmin"]);
  });
});

describe("dtype rules", () => {
  it("sum/prod of bool and int32 give int32; max/min keep the dtype", () => {
    const b = fromNested([true, true, false]);
    expect(sum(b).dtype).toBe("int32");
    expect(sum(b).item()).toBe(2);
    expect(prod(b).dtype).toBe("int32");
    expect(prod(b).item()).toBe(0);
    expect(max(b).dtype).toBe("bool");
    expect(max(b).item()).toBe(true);
    expect(min(b).item()).toBe(false);
    const i = fromNested([1, -7, 3], "int32");
    expect(sum(i).dtype).toBe("int32");
    expect(max(i).dtype).toBe("int32");
    expect(min(i).item()).toBe(-7);
    expect(sum(fromNested([1, 2], "float64")).dtype).toBe("float64");
    expect(sum(fromNested([1, 2], "float32")).dtype).toBe("float32");
  });

  it("int32 sums and products wrap modulo 2^32 on both loop paths", () => {
    const big = 2147483647;
    expect(sum(fromNested([big, 1], "int32")).item()).toBe(-2147483648);
    expect(prod(fromNested([65536, 65536, 3], "int32")).item()).toBe(0);
    expect(prod(fromNested([65537, 65537], "int32")).item()).toBe(Math.imul(65537, 65537));
    // rows path: kept axis of length 16
    const rows = new NDArray(new Int32Array(48).fill(big), [3, 16]);
    expect(Array.from(sum(rows, 0).flat())).toEqual(new Array(16).fill((3 * big) | 0));
    expect(Array.from(prod(rows, 0).flat())).toEqual(
      new Array(16).fill(Math.imul(Math.imul(big, big), big)),
    );
  });

  it("float32 sums accumulate in float64 (1e6 elements of 0.1)", () => {
    const x = new NDArray(new Float32Array(1e6).fill(0.1), [1000, 1000]);
    const exact = Math.fround(0.1) * 1e6;
    expect(Math.abs((sum(x).item() as number) - exact) / exact).toBeLessThan(1e-6);
    const cols = sum(x, 0).flat();
    expect(Math.abs(cols[0]! - Math.fround(0.1) * 1000)).toBeLessThan(1e-4);
    expect(sum(x).dtype).toBe("float32");
  });
});

describe("NaN, ties, empty and scalar inputs", () => {
  it("max/min propagate NaN on both loop paths", () => {
    const x = fromNested([
      [1, NaN, 3],
      [4, 5, 6],
    ]);
    expect(max(x).item()).toBeNaN();
    expect(min(x).item()).toBeNaN();
    const m = max(x, 0).toArray() as number[];
    expect(m[0]).toBe(4);
    expect(m[1]).toBeNaN();
    const rows = new NDArray(new Float64Array(40).fill(1), [2, 20]);
    rows.data[25] = NaN;
    rows.data[1] = NaN;
    const r = Array.from(max(rows, 0).flat());
    expect(r.filter(Number.isNaN).length).toBe(2);
    expect(Number.isNaN(r[5]!) && Number.isNaN(r[1]!)).toBe(true);
    expect(min(fromNested([NaN, -Infinity])).item()).toBeNaN();
    expect(max(fromNested([-Infinity, -Infinity])).item()).toBe(-Infinity);
  });

  it("argmax/argmin: first occurrence on ties, the first NaN wins", () => {
    expect(argmax(fromNested([1, 3, 3, 2])).item()).toBe(1);
    expect(argmin(fromNested([2, 0, 5, 0])).item()).toBe(1);
    expect(argmax(fromNested([1, NaN, 7, NaN])).item()).toBe(1);
    expect(argmin(fromNested([1, 0, NaN, NaN])).item()).toBe(2);
    expect(argmax(fromNested([-Infinity, -Infinity])).item()).toBe(0);
    expect(argmin(fromNested([Infinity, Infinity])).item()).toBe(0);
    // rows path (kept innermost axis of length 20)
    const x = new NDArray(new Float32Array(60).fill(2), [3, 20]);
    x.data[20 + 4] = NaN;
    x.data[40 + 4] = NaN;
    x.data[40 + 7] = 9;
    x.data[20 + 7] = 9;
    const am = Array.from(argmax(x, 0).flat());
    expect(am[4]).toBe(1);
    expect(am[7]).toBe(1);
    expect(am[0]).toBe(0);
    expect(argmax(x, 0).dtype).toBe("int32");
  });

  it("argmax/argmin against the naive reference on all layouts", () => {
    for (const layout of LAYOUTS) {
      for (const dtype of ["float32", "float64", "int32", "bool"] as DType[]) {
        for (const shape of [[7], [3, 4], [3, 20], [20, 3], [2, 3, 4], [2, 1, 5, 3]]) {
          const x = make(shape, dtype, layout, 5 + shape.length);
          for (const keepdims of [false, true]) {
            const axes: (number | undefined)[] = [undefined, ...shape.map((_, i) => i), -1];
            for (const axis of axes) {
              expectValues(argmax(x, axis, keepdims), naiveArg(true, x, axis, keepdims));
              expectValues(argmin(x, axis, keepdims), naiveArg(false, x, axis, keepdims));
            }
          }
        }
      }
    }
  });

  it("empty reductions: sum 0, prod 1, max/min/argmax throw", () => {
    const e = new NDArray(new Float32Array(0), [2, 0]);
    expect(sum(e, 1).toArray()).toEqual([0, 0]);
    expect(prod(e, 1).toArray()).toEqual([1, 1]);
    expect(sum(e).item()).toBe(0);
    expect(prod(e).item()).toBe(1);
    expect(sum(e, 0).shape).toEqual([0]);
    expect(max(e, 0).shape).toEqual([0]); // nothing empty is reduced
    expect(sum(new NDArray(new Int32Array(0), [0]), 0, true).toArray()).toEqual([0]);
    expect(() => max(e, 1)).toThrow(
      "max: cannot reduce over axis 1 of size 0 in shape [2, 0]: no identity",
    );
    expect(() => min(e)).toThrow(/min: cannot reduce over axis 1 of size 0/);
    expect(() => argmax(e, 1)).toThrow(/argmax: cannot reduce over axis 1 of size 0/);
    expect(() => argmin(e)).toThrow(/argmin: cannot reduce over the flattened array of size 0/);
    expect(argmax(e, 0).shape).toEqual([0]);
  });

  it("rank-0 inputs reduce to themselves", () => {
    const s = fromNested(3.5, "float64");
    expect(sum(s).item()).toBe(3.5);
    expect(sum(s).shape).toEqual([]);
    expect(max(s, null, true).shape).toEqual([]);
    expect(sum(fromNested(true)).item()).toBe(1);
    expect(sum(fromNested(true)).dtype).toBe("int32");
    expect(argmax(s).item()).toBe(0);
    expect(() => argmax(s, 0)).toThrow(/argmax: axis/);
  });
});

describe("errors name the argument", () => {
  const x = fromNested([
    [1, 2],
    [3, 4],
  ]);
  it("rejects non-NDArray inputs, bad axes and bad keepdims", () => {
    expect(() => sum([1, 2] as unknown as NDArray)).toThrow(
      /sum: x: expected an NDArray, got an array/,
    );
    expect(() => argmin(null as unknown as NDArray)).toThrow(/argmin: x: expected an NDArray/);
    expect(() => sum(x, 2)).toThrow(/sum: axis.*out of range for an array of rank 2/);
    expect(() => max(x, [0, -2])).toThrow(/max: axis.*appears more than once/);
    expect(() => prod(x, 0.5)).toThrow(/prod: axis.*integer/);
    expect(() => min(x, 0, "yes" as unknown as boolean)).toThrow(
      /min: keepdims: expected a boolean, got yes/,
    );
    expect(() => argmax(x, -3)).toThrow(/argmax: axis.*out of range/);
    expect(() => argmax(x, [0] as unknown as number)).toThrow(/argmax: axis/);
  });
});

// ---------------------------------------------------------------------------------------
// properties

const arrayArb = fc.record({
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
  dtype: fc.constantFrom<DType>("float32", "float64", "int32", "bool"),
  layout: fc.constantFrom<Layout>(...LAYOUTS),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  axisBits: fc.integer({ min: 0, max: 15 }),
  keepdims: fc.boolean(),
});

function axesOf(bits: number, nd: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < nd; d++) if (bits & (1 << d)) out.push(d);
  return out;
}

describe("properties", () => {
  it("sum over any axes equals the naive sum, with keepdims shapes", () => {
    fc.assert(
      fc.property(arrayArb, ({ shape, dtype, layout, seed, axisBits, keepdims }) => {
        const x = make(shape, dtype, layout, seed);
        const axes = axesOf(axisBits, shape.length);
        const got = sum(x, axes, keepdims);
        expectValues(got, naiveReduce("sum", x, axes, keepdims));
        expect(got.shape.length).toBe(keepdims ? shape.length : shape.length - axes.length);
      }),
      { numRuns: 300 },
    );
  });

  it("sum over all axes equals summing one axis at a time", () => {
    fc.assert(
      fc.property(arrayArb, ({ shape, dtype, layout, seed }) => {
        const x = make(shape, dtype, layout, seed);
        let y = x;
        for (let d = shape.length - 1; d >= 0; d--) y = sum(y, d);
        expect(y.shape).toEqual([]);
        expect(sum(x).item()).toBe(Number(y.item()));
      }),
      { numRuns: 200 },
    );
  });

  it("max and min over any non-empty axes equal the naive result", () => {
    fc.assert(
      fc.property(arrayArb, ({ shape, dtype, layout, seed, axisBits, keepdims }) => {
        const x = make(shape, dtype, layout, seed, seed % 2 === 0);
        const axes = axesOf(axisBits, shape.length);
        const emptyReduced = axes.some((a) => shape[a] === 0);
        if (emptyReduced) {
          expect(() => max(x, axes, keepdims)).toThrow(/no identity/);
          return;
        }
        expectValues(max(x, axes, keepdims), naiveReduce("max", x, axes, keepdims));
        expectValues(min(x, axes, keepdims), naiveReduce("min", x, axes, keepdims));
      }),
      { numRuns: 300 },
    );
  });

  it("keepdims results broadcast back: shape has 1 exactly at the reduced axes", () => {
    fc.assert(
      fc.property(arrayArb, ({ shape, layout, seed, axisBits }) => {
        const x = make(shape, "float64", layout, seed);
        const axes = axesOf(axisBits, shape.length);
        const got = prod(x, axes, true);
        expect(got.shape).toEqual(shape.map((d, i) => (axes.includes(i) ? 1 : d)));
        expect(sum(x, axes, false).size).toBe(got.size);
      }),
      { numRuns: 100 },
    );
  });
});
