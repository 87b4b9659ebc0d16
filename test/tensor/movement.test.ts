// Movement and creation kernels against naive references written with index math over
// logical arrays, on contiguous inputs and on arbitrary strided layouts (permuted storage
// order, gaps, offsets, negative strides), plus fast-check properties and error messages.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  NDArray,
  allocate,
  arange,
  broadcastTo,
  concatenate,
  expandDims,
  eye,
  flip,
  fromNested,
  full,
  linspace,
  moveAxis,
  ones,
  pad,
  permute,
  reshape,
  slice,
  squeeze,
  stack,
  swapAxes,
  take,
  takeAlongAxis,
  takeAlongAxisTranspose,
  takeTranspose,
  transpose,
  zeros,
  type DType,
  type SliceSpec,
} from "../../src/tensor/index.js";
import { indices, sizeOf } from "./reference.js";

// ---------------------------------------------------------------------------------------
// naive reference: a logical array is a shape plus an element function

type Nested = number | Nested[];
interface Ref {
  shape: number[];
  at: (idx: number[]) => number;
}

function materialize(r: Ref): Nested {
  const rec = (prefix: number[]): Nested => {
    if (prefix.length === r.shape.length) return r.at(prefix);
    const n = r.shape[prefix.length]!;
    const out: Nested[] = [];
    for (let i = 0; i < n; i++) out.push(rec([...prefix, i]));
    return out;
  };
  return rec([]);
}

/** The reference of an NDArray built with independent index math on its raw storage. */
function refOf(x: NDArray): Ref {
  return {
    shape: x.shape.slice(),
    at: (idx) => {
      let p = x.offset;
      for (let d = 0; d < idx.length; d++) p += idx[d]! * x.strides[d]!;
      return x.data[p]!;
    },
  };
}

function refFlat(r: Ref): number[] {
  return indices(r.shape).map((i) => r.at(i));
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  let k = 0;
  for (let d = 0; d < shape.length; d++) k = k * shape[d]! + idx[d]!;
  return k;
}

function refReshape(r: Ref, shape: number[]): Ref {
  const flat = refFlat(r);
  return { shape, at: (idx) => flat[ravel(idx, shape)]! };
}

function refTranspose(r: Ref, perm: number[]): Ref {
  return {
    shape: perm.map((p) => r.shape[p]!),
    at: (idx) => {
      const src = new Array<number>(perm.length);
      for (let k = 0; k < perm.length; k++) src[perm[k]!] = idx[k]!;
      return r.at(src);
    },
  };
}

function refBroadcast(r: Ref, shape: number[]): Ref {
  const lead = shape.length - r.shape.length;
  return {
    shape,
    at: (idx) => r.at(r.shape.map((d, i) => (d === 1 ? 0 : idx[i + lead]!))),
  };
}

/** Python's range(*slice(start, stop, step).indices(n)), written from the Python docs. */
function pySliceIndices(n: number, start?: number, stop?: number, step = 1): number[] {
  const out: number[] = [];
  if (step > 0) {
    let s = start === undefined ? 0 : start < 0 ? start + n : start;
    let e = stop === undefined ? n : stop < 0 ? stop + n : stop;
    s = Math.min(Math.max(s, 0), n);
    e = Math.min(Math.max(e, 0), n);
    for (let i = s; i < e; i += step) out.push(i);
  } else {
    let s = start === undefined ? n - 1 : start < 0 ? start + n : start;
    let e = stop === undefined ? -1 : stop < 0 ? stop + n : stop;
    s = Math.min(Math.max(s, -1), n - 1);
    e = Math.min(Math.max(e, -1), n - 1);
    for (let i = s; i > e; i += step) out.push(i);
  }
  return out;
}

function refSlice(r: Ref, specs: readonly (SliceSpec | number | null | undefined)[]): Ref {
  const picks: (number[] | number)[] = r.shape.map((n, d) => {
    const s = specs[d];
    if (s === undefined || s === null) return pySliceIndices(n);
    if (typeof s === "number") return s < 0 ? s + n : s;
    return pySliceIndices(n, s.start, s.stop, s.step);
  });
  const shape = picks.filter((p) => Array.isArray(p)).map((p) => (p as number[]).length);
  return {
    shape,
    at: (idx) => {
      let k = 0;
      return r.at(picks.map((p) => (typeof p === "number" ? p : p[idx[k++]!]!)));
    },
  };
}

function refFlip(r: Ref, axes: number[]): Ref {
  return {
    shape: r.shape,
    at: (idx) => r.at(idx.map((i, d) => (axes.includes(d) ? r.shape[d]! - 1 - i : i))),
  };
}

function refConcat(rs: Ref[], axis: number): Ref {
  const shape = rs[0]!.shape.slice();
  shape[axis] = rs.reduce((a, r) => a + r.shape[axis]!, 0);
  return {
    shape,
    at: (idx) => {
      let k = idx[axis]!;
      for (const r of rs) {
        if (k < r.shape[axis]!) {
          const j = idx.slice();
          j[axis] = k;
          return r.at(j);
        }
        k -= r.shape[axis]!;
      }
      throw new Error("unreachable");
    },
  };
}

function refPad(r: Ref, widths: [number, number][], value: number): Ref {
  return {
    shape: r.shape.map((d, i) => d + widths[i]![0] + widths[i]![1]),
    at: (idx) => {
      const src = idx.map((i, d) => i - widths[d]![0]);
      return src.every((i, d) => i >= 0 && i < r.shape[d]!) ? r.at(src) : value;
    },
  };
}

function refTake(r: Ref, ind: Ref, axis: number): Ref {
  const n = r.shape[axis]!;
  const k = ind.shape.length;
  return {
    shape: [...r.shape.slice(0, axis), ...ind.shape, ...r.shape.slice(axis + 1)],
    at: (idx) => {
      let j = ind.at(idx.slice(axis, axis + k));
      if (j < 0) j += n;
      return r.at([...idx.slice(0, axis), j, ...idx.slice(axis + k)]);
    },
  };
}

function refTakeAlong(r: Ref, ind: Ref, axis: number): Ref {
  const n = r.shape[axis]!;
  const shape = r.shape.map((d, i) => (i === axis ? ind.shape[i]! : d === 1 ? ind.shape[i]! : d));
  return {
    shape,
    at: (idx) => {
      let j = ind.at(idx.map((v, d) => (ind.shape[d] === 1 ? 0 : v)));
      if (j < 0) j += n;
      return r.at(idx.map((v, d) => (d === axis ? j : r.shape[d] === 1 ? 0 : v)));
    },
  };
}

/** Naive scatter-add: out[..., ind[j], ...] += u[..., j, ...]. */
function refTakeTranspose(u: Ref, ind: Ref, axis: number, inShape: number[]): Nested {
  const out = new Array<number>(sizeOf(inShape)).fill(0);
  const k = ind.shape.length;
  const n = inShape[axis]!;
  for (const idx of indices(u.shape)) {
    let j = ind.at(idx.slice(axis, axis + k));
    if (j < 0) j += n;
    out[ravel([...idx.slice(0, axis), j, ...idx.slice(axis + k)], inShape)]! += u.at(idx);
  }
  return materialize({ shape: inShape, at: (idx) => out[ravel(idx, inShape)]! });
}

// ---------------------------------------------------------------------------------------
// building test arrays

/** A contiguous array whose element i (row-major) is start + i. */
function seq(shape: number[], dtype: DType = "float64", start = 1): NDArray {
  const data = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = start + i;
  return new NDArray(data, shape);
}

function ints(values: Nested): NDArray {
  return fromNested(values, "int32");
}

interface Layout {
  perm: number[];
  flips: boolean[];
  gap: number;
  pad: number;
}

/**
 * The same logical array stored in a fresh buffer with another layout: storage order
 * `perm` (outermost first), flipped axes (negative strides), `gap` unused slots per axis
 * and `pad` leading slots (nonzero offset). Unused slots hold a sentinel.
 */
function relayout(x: NDArray, layout: Layout): NDArray {
  const n = x.ndim;
  const sdims = layout.perm.map((a) => x.shape[a]! + layout.gap);
  const sstr = new Array<number>(n);
  let s = 1;
  for (let k = n - 1; k >= 0; k--) {
    sstr[k] = s;
    s *= sdims[k]!;
  }
  const strides = new Array<number>(n);
  for (let k = 0; k < n; k++) strides[layout.perm[k]!] = sstr[k]!;
  let offset = layout.pad;
  if (x.size > 0) {
    for (let d = 0; d < n; d++) {
      if (layout.flips[d]) {
        offset += (x.shape[d]! - 1) * strides[d]!;
        strides[d] = -strides[d]!;
      }
    }
  }
  const data = allocate(x.dtype, layout.pad + s + 1).fill(x.dtype === "bool" ? 1 : 77);
  const ref = refOf(x);
  for (const idx of indices(x.shape)) {
    let p = offset;
    for (let d = 0; d < n; d++) p += idx[d]! * strides[d]!;
    data[p] = ref.at(idx);
  }
  return new NDArray(data, x.shape, strides, offset);
}

const shapeArb = (maxRank = 4, maxDim = 4, minRank = 0) =>
  fc.array(fc.integer({ min: 0, max: maxDim }), { minLength: minRank, maxLength: maxRank });

const layoutArb = (n: number) =>
  fc.record({
    perm: fc.array(fc.double({ noNaN: true }), { minLength: n, maxLength: n }).map((keys) =>
      keys
        .map((k, i) => [k, i] as const)
        .sort((a, b) => a[0] - b[0])
        .map((p) => p[1]),
    ),
    flips: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    gap: fc.integer({ min: 0, max: 2 }),
    pad: fc.integer({ min: 0, max: 3 }),
  });

/** A float64 array of `shape` with small integer values, in an arbitrary layout. */
const arrayOfShape = (shape: number[]) =>
  fc
    .tuple(
      fc.array(fc.integer({ min: -50, max: 50 }), {
        minLength: sizeOf(shape),
        maxLength: sizeOf(shape),
      }),
      layoutArb(shape.length),
      fc.boolean(),
    )
    .map(([vals, layout, strided]) => {
      const x = new NDArray(Float64Array.from(vals), shape);
      return strided ? relayout(x, layout) : x;
    });

const arrayArb = (maxRank = 4, maxDim = 4, minRank = 0) =>
  shapeArb(maxRank, maxDim, minRank).chain(arrayOfShape);

// ---------------------------------------------------------------------------------------

describe("test helpers", () => {
  it("relayout keeps the logical contents but changes strides and offset", () => {
    const x = seq([2, 3, 4]);
    const y = relayout(x, { perm: [2, 0, 1], flips: [true, false, true], gap: 1, pad: 2 });
    expect(y.contiguous).toBe(false);
    expect(y.strides.some((s) => s < 0)).toBe(true);
    expect(y.toArray()).toEqual(x.toArray());
  });

  it("pySliceIndices matches Python on known cases", () => {
    // values from CPython: list(range(*slice(a, b, c).indices(n)))
    expect(pySliceIndices(5, -10, undefined, 2)).toEqual([0, 2, 4]);
    expect(pySliceIndices(5, undefined, undefined, -1)).toEqual([4, 3, 2, 1, 0]);
    expect(pySliceIndices(5, 10, -10, -2)).toEqual([4, 2, 0]);
    expect(pySliceIndices(5, 3, 1, 1)).toEqual([]);
    expect(pySliceIndices(5, -2, undefined, undefined)).toEqual([3, 4]);
    expect(pySliceIndices(0, undefined, undefined, -1)).toEqual([]);
  });
});

describe("reshape", () => {
  it("returns a view of a contiguous array, offset kept", () => {
    const base = seq([10]);
    const x = slice(base, [{ start: 2, stop: 8 }]);
    expect(x.offset).toBe(2);
    const y = reshape(x, [2, -1]);
    expect(y.shape).toEqual([2, 3]);
    expect(y.data).toBe(base.data);
    expect(y.toArray()).toEqual([
      [3, 4, 5],
      [6, 7, 8],
    ]);
  });

  it("copies a transposed array when no strides express it, views when they do", () => {
    const x = transpose(seq([2, 3, 4]), [2, 0, 1]); // shape [4, 2, 3], strides [1, 12, 4]
    const y = reshape(x, [24]);
    expect(y.data).not.toBe(x.data);
    expect(y.toArray()).toEqual(refFlat(refOf(x)));
    const v = reshape(x, [4, 6]); // axes 1 and 2 form one run of stride 4
    expect(v.data).toBe(x.data);
    expect(v.strides).toEqual([1, 4]);
    expect(v.toArray()).toEqual(materialize(refReshape(refOf(x), [4, 6])));
  });

  it("splits or merges strided axes without copying when strides can express it", () => {
    const base = seq([3, 8]);
    const x = slice(base, [null, { step: 2 }]); // shape [3, 4], strides [8, 2]
    const y = reshape(x, [3, 2, 2]);
    expect(y.data).toBe(base.data);
    expect(y.strides).toEqual([8, 4, 2]);
    expect(y.toArray()).toEqual(materialize(refReshape(refOf(x), [3, 2, 2])));
    const m = reshape(x, [12]); // rows continue with stride 2: still a view
    expect(m.data).toBe(base.data);
    expect(m.toArray()).toEqual(refFlat(refOf(x)));
    const x2 = slice(base, [null, { stop: 6, step: 2 }]); // shape [3, 3], strides [8, 2]
    const z = reshape(x2, [9]);
    expect(z.data).not.toBe(base.data);
    expect(z.toArray()).toEqual(refFlat(refOf(x2)));
  });

  it("reshapes a broadcast view without copying", () => {
    const b = broadcastTo(seq([1, 3]), [4, 3]);
    const y = reshape(b, [2, 2, 3]);
    expect(y.data).toBe(b.data);
    expect(y.toArray()).toEqual(materialize(refReshape(refOf(b), [2, 2, 3])));
    const f = reshape(flip(seq([2, 3])), [3, 2]);
    expect(f.toArray()).toEqual([
      [6, 5],
      [4, 3],
      [2, 1],
    ]);
  });

  it("handles scalars, size-1 and zero-size shapes", () => {
    expect(reshape(seq([1, 1]), []).toArray()).toBe(1);
    expect(reshape(seq([]), [1, 1, 1]).toArray()).toEqual([[[1]]]);
    expect(reshape(seq([0, 3]), [3, 0, 5]).shape).toEqual([3, 0, 5]);
    expect(reshape(seq([0, 3]), [-1]).shape).toEqual([0]);
    expect(reshape(seq([2, 3]), [-1]).toArray()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("errors name the shapes and the -1 problems", () => {
    expect(() => reshape(seq([2, 3]), [4, 2])).toThrow(
      /reshape: cannot reshape an array of shape \[2, 3\] \(6 elements\) into shape \[4, 2\] \(8 elements\)/,
    );
    expect(() => reshape(seq([2, 3]), [-1, -1])).toThrow(/only one dimension may be -1/);
    expect(() => reshape(seq([2, 3]), [4, -1])).toThrow(/cannot infer the -1 in \[4,-1\]/);
    expect(() => reshape(seq([0]), [0, -1])).toThrow(/ambiguous/);
    expect(() => reshape(seq([2, 3]), [2, 1.5])).toThrow(
      /reshape: shape\[1\]: expected a non-negative integer or -1/,
    );
    expect(() => reshape(seq([2]), [-2, -1])).toThrow(/shape\[0\]/);
    expect(() => reshape([1, 2] as unknown as NDArray, [2])).toThrow(
      /reshape: x: expected an NDArray/,
    );
    expect(() => reshape(seq([2]), 2 as unknown as number[])).toThrow(
      /reshape: shape: expected an array/,
    );
  });

  it("property: matches the reference and round-trips on any layout", () => {
    fc.assert(
      fc.property(
        arrayArb(),
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        (x, ones1, rot) => {
          // a new shape: the dims of x in rotated order with 1s inserted, one of them -1
          const dims = x.shape.slice();
          const r = dims.length > 0 ? rot % dims.length : 0;
          const rotated = [...dims.slice(r), ...dims.slice(0, r)];
          for (const pos of ones1) rotated.splice(Math.min(pos, rotated.length), 0, 1);
          const target = rotated.slice();
          if (x.size > 0 && target.length > 0) target[rot % target.length] = -1;
          const y = reshape(x, target);
          expect(y.shape).toEqual(rotated);
          expect(y.toArray()).toEqual(materialize(refReshape(refOf(x), rotated)));
          expect(reshape(y, x.shape).toArray()).toEqual(x.toArray());
          if (x.contiguous) expect(y.data).toBe(x.data);
        },
      ),
    );
  });
});

describe("transpose / permute / swapAxes / moveAxis", () => {
  it("default reverses the axes as an O(1) view", () => {
    const x = seq([2, 3, 4]);
    const t = transpose(x);
    expect(t.shape).toEqual([4, 3, 2]);
    expect(t.data).toBe(x.data);
    expect(t.toArray()).toEqual(materialize(refTranspose(refOf(x), [2, 1, 0])));
    expect(transpose(seq([])).toArray()).toBe(1);
  });

  it("accepts negative axes; permute is an alias", () => {
    const x = seq([2, 3, 4]);
    expect(transpose(x, [-1, 0, -2]).toArray()).toEqual(
      materialize(refTranspose(refOf(x), [2, 0, 1])),
    );
    expect(permute(x, [1, 2, 0]).toArray()).toEqual(transpose(x, [1, 2, 0]).toArray());
  });

  it("swapAxes and moveAxis", () => {
    const x = seq([2, 3, 4, 5]);
    expect(swapAxes(x, 0, -1).toArray()).toEqual(materialize(refTranspose(refOf(x), [3, 1, 2, 0])));
    expect(moveAxis(x, 0, -1).shape).toEqual([3, 4, 5, 2]);
    expect(moveAxis(x, -1, 1).toArray()).toEqual(materialize(refTranspose(refOf(x), [0, 3, 1, 2])));
    // numpy.moveaxis(x, [0, 1], [-1, -2]).shape == (4, 5, 3, 2)
    expect(moveAxis(x, [0, 1], [-1, -2]).shape).toEqual([4, 5, 3, 2]);
    expect(moveAxis(x, [0, 1], [-1, -2]).toArray()).toEqual(
      materialize(refTranspose(refOf(x), [2, 3, 1, 0])),
    );
  });

  it("errors name perm and its entries", () => {
    const x = seq([2, 3]);
    expect(() => transpose(x, [0])).toThrow(
      /transpose: perm: expected a permutation of 2 axes for shape \[2, 3\]/,
    );
    expect(() => transpose(x, [0, 0])).toThrow(/transpose: perm: axis 0 appears more than once/);
    expect(() => transpose(x, [0, 2])).toThrow(/transpose: perm\[1\]: axis 2 is out of range/);
    expect(() => permute(x, [0, 1.5])).toThrow(/permute: perm\[1\]: expected an integer axis/);
    expect(() => swapAxes(x, 0, 2)).toThrow(/swapAxes: b: axis 2 is out of range/);
    expect(() => moveAxis(x, [0, 1], [0])).toThrow(
      /moveAxis: source and destination must have the same number/,
    );
    expect(() => moveAxis(x, 3, 0)).toThrow(/moveAxis: source: axis 3 is out of range/);
    expect(() => transpose({} as NDArray)).toThrow(/transpose: x: expected an NDArray/);
  });

  it("property: transpose then the inverse permutation is the identity", () => {
    fc.assert(
      fc.property(
        arrayArb().chain((x) =>
          fc.tuple(
            fc.constant(x),
            layoutArb(x.ndim).map((l) => l.perm),
          ),
        ),
        ([x, perm]) => {
          const t = transpose(x, perm);
          expect(t.data).toBe(x.data);
          expect(t.toArray()).toEqual(materialize(refTranspose(refOf(x), perm)));
          const inv = new Array<number>(perm.length);
          perm.forEach((p, i) => (inv[p] = i));
          const back = transpose(t, inv);
          expect(back.shape).toEqual(x.shape);
          expect(back.strides).toEqual(x.strides);
          expect(back.toArray()).toEqual(x.toArray());
        },
      ),
    );
  });
});

describe("broadcastTo", () => {
  it("is a stride-0 view matching the reference", () => {
    const x = seq([3, 1]);
    const b = broadcastTo(x, [2, 3, 4]);
    expect(b.strides).toEqual([0, 1, 0]);
    expect(b.data).toBe(x.data);
    expect(b.toArray()).toEqual(materialize(refBroadcast(refOf(x), [2, 3, 4])));
    expect(broadcastTo(seq([]), [2, 2]).toArray()).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(broadcastTo(seq([1, 3]), [0, 3]).shape).toEqual([0, 3]);
  });

  it("works on strided views", () => {
    const x = relayout(seq([1, 3]), { perm: [1, 0], flips: [false, true], gap: 1, pad: 2 });
    expect(broadcastTo(x, [2, 2, 3]).toArray()).toEqual(
      materialize(refBroadcast(refOf(x), [2, 2, 3])),
    );
  });

  it("errors name both shapes", () => {
    expect(() => broadcastTo(seq([2, 3]), [3, 3])).toThrow(
      /broadcastTo: cannot broadcast shape \[2, 3\] to \[3, 3\]/,
    );
    expect(() => broadcastTo(seq([2, 3]), [3])).toThrow(/\[2, 3\] to \[3\]/);
    expect(() => broadcastTo(seq([2]), [-1])).toThrow(/broadcastTo: shape\[0\]/);
  });
});

describe("slice", () => {
  const x = seq([4, 5]);

  it("basic cases against NumPy results", () => {
    // numpy: x[1:3, ::2], x[-1], x[:, -2:], x[::-1, 4:0:-2], x[10:, :]
    expect(slice(x, [{ start: 1, stop: 3 }, { step: 2 }]).toArray()).toEqual([
      [6, 8, 10],
      [11, 13, 15],
    ]);
    expect(slice(x, [-1]).toArray()).toEqual([16, 17, 18, 19, 20]);
    expect(slice(x, [null, { start: -2 }]).toArray()).toEqual([
      [4, 5],
      [9, 10],
      [14, 15],
      [19, 20],
    ]);
    expect(slice(x, [{ step: -1 }, { start: 4, stop: 0, step: -2 }]).toArray()).toEqual([
      [20, 18],
      [15, 13],
      [10, 8],
      [5, 3],
    ]);
    expect(slice(x, [{ start: 10 }]).shape).toEqual([0, 5]);
    expect(slice(x, [1, 2]).toArray()).toBe(8);
    expect(slice(x, []).toArray()).toEqual(x.toArray());
    expect(slice(x, [undefined, 0]).toArray()).toEqual([1, 6, 11, 16]);
  });

  it("is an O(1) view with offset and negative strides", () => {
    const s = slice(x, [
      { start: 3, stop: 0, step: -2 },
      { start: 1, step: 3 },
    ]);
    expect(s.data).toBe(x.data);
    expect(s.strides).toEqual([-10, 3]);
    expect(s.offset).toBe(16);
    expect(s.toArray()).toEqual([
      [17, 20],
      [7, 10],
    ]);
  });

  it("views of views: slice of transpose of broadcast, slice of flip", () => {
    const b = broadcastTo(seq([3, 1]), [2, 3, 4]);
    const t = transpose(b, [2, 0, 1]);
    const s = slice(t, [{ start: 1, step: 2 }, -1, { step: -1 }]);
    const ref = refSlice(refTranspose(refBroadcast(refOf(seq([3, 1])), [2, 3, 4]), [2, 0, 1]), [
      { start: 1, step: 2 },
      -1,
      { step: -1 },
    ]);
    expect(s.data).toBe(b.data);
    expect(s.toArray()).toEqual(materialize(ref));
    const f = slice(flip(x, 1), [
      { start: 1, stop: 3 },
      { start: 1, step: 2 },
    ]);
    expect(f.toArray()).toEqual(
      materialize(
        refSlice(refFlip(refOf(x), [1]), [
          { start: 1, stop: 3 },
          { start: 1, step: 2 },
        ]),
      ),
    );
    const ss = slice(slice(x, [{ step: -1 }, { start: 1 }]), [{ start: 1, stop: 3 }, { step: -2 }]);
    expect(ss.toArray()).toEqual(
      materialize(
        refSlice(refSlice(refOf(x), [{ step: -1 }, { start: 1 }]), [
          { start: 1, stop: 3 },
          { step: -2 },
        ]),
      ),
    );
  });

  it("zero-size axes and empty results", () => {
    const e = seq([0, 3]);
    expect(slice(e, [{ step: -1 }, 1]).shape).toEqual([0]);
    const z = slice(x, [{ start: 2, stop: 2 }, { step: -1 }]);
    expect(z.shape).toEqual([0, 5]);
    expect(z.toArray()).toEqual([]);
    expect(reshape(z, [5, 0]).shape).toEqual([5, 0]);
  });

  it("errors name the spec entry", () => {
    expect(() => slice(x, [null, { step: 0 }])).toThrow(
      /slice: specs\[1\]\.step: step must not be 0/,
    );
    expect(() => slice(x, [4])).toThrow(
      /slice: specs\[0\]: index 4 is out of range for axis 0 of size 4/,
    );
    expect(() => slice(x, [0, -6])).toThrow(
      /specs\[1\]: index -6 is out of range for axis 1 of size 5/,
    );
    expect(() => slice(x, [0, 0, 0])).toThrow(/slice: specs: got 3 entries for an array of rank 2/);
    expect(() => slice(x, [{ start: 0.5 }])).toThrow(
      /slice: specs\[0\]\.start: expected an integer/,
    );
    expect(() => slice(x, [1.5])).toThrow(/slice: specs\[0\]: expected an integer index/);
    expect(() => slice(x, ["a" as unknown as number])).toThrow(
      /slice: specs\[0\]: expected a number, null or/,
    );
    expect(() => slice(x, 3 as unknown as [])).toThrow(/slice: specs: expected an array/);
  });

  const specArb = (n: number) =>
    fc.oneof(
      fc.constant(null),
      n > 0 ? fc.integer({ min: -n, max: n - 1 }) : fc.constant(undefined),
      fc.record(
        {
          start: fc.integer({ min: -n - 3, max: n + 3 }),
          stop: fc.integer({ min: -n - 3, max: n + 3 }),
          step: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: -4, max: -1 })),
        },
        { requiredKeys: [] },
      ),
    );

  it("property: random start/stop/step matches the naive Python-slice reference", () => {
    fc.assert(
      fc.property(
        arrayArb(4, 5).chain((a) =>
          fc.tuple(
            fc.constant(a),
            fc
              .tuple(...a.shape.map((n) => specArb(n)))
              .chain((specs) =>
                fc.integer({ min: 0, max: specs.length }).map((k) => specs.slice(0, k)),
              ),
          ),
        ),
        ([a, specs]) => {
          const s = slice(a, specs as (SliceSpec | number | null)[]);
          expect(s.data).toBe(a.data);
          const ref = refSlice(refOf(a), specs as (SliceSpec | number | null)[]);
          expect(s.shape).toEqual(ref.shape);
          expect(s.toArray()).toEqual(materialize(ref));
        },
      ),
    );
  });
});

describe("flip / squeeze / expandDims", () => {
  it("flip is a negative-stride view", () => {
    const x = seq([2, 3, 2]);
    const f = flip(x, [0, -1]);
    expect(f.data).toBe(x.data);
    expect(f.strides).toEqual([-6, 2, -1]);
    expect(f.toArray()).toEqual(materialize(refFlip(refOf(x), [0, 2])));
    expect(flip(x).toArray()).toEqual(materialize(refFlip(refOf(x), [0, 1, 2])));
    expect(flip(seq([])).toArray()).toBe(1);
    expect(flip(seq([0, 2])).shape).toEqual([0, 2]);
    expect(() => flip(x, 3)).toThrow(/flip: axes: axis 3 is out of range/);
    expect(() => flip(x, [1, 1])).toThrow(/flip: axes: axis 1 appears more than once/);
  });

  it("property: flip twice is the identity", () => {
    fc.assert(
      fc.property(
        arrayArb().chain((x) =>
          fc.tuple(fc.constant(x), fc.subarray(Array.from({ length: x.ndim }, (_, i) => i))),
        ),
        ([x, axes]) => {
          const f = flip(x, axes);
          expect(f.toArray()).toEqual(materialize(refFlip(refOf(x), axes)));
          const ff = flip(f, axes);
          expect(ff.offset).toBe(x.offset);
          expect(ff.toArray()).toEqual(x.toArray());
        },
      ),
    );
  });

  it("squeeze", () => {
    const x = seq([1, 3, 1, 2]);
    expect(squeeze(x).shape).toEqual([3, 2]);
    expect(squeeze(x).toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(squeeze(x, -2).shape).toEqual([1, 3, 2]);
    expect(squeeze(x, [0, 2]).data).toBe(x.data);
    expect(squeeze(seq([1])).toArray()).toBe(1);
    expect(() => squeeze(x, 1)).toThrow(
      /squeeze: axes: cannot squeeze axis 1 of size 3 \(shape \[1, 3, 1, 2\]\); expected size 1/,
    );
    expect(() => squeeze(x, 4)).toThrow(/squeeze: axes: axis 4 is out of range/);
  });

  it("expandDims", () => {
    const x = transpose(seq([2, 3]));
    const e = expandDims(x, [0, -1]);
    expect(e.shape).toEqual([1, 3, 2, 1]);
    expect(e.data).toBe(x.data);
    expect(e.toArray()).toEqual(
      [x.toArray()].map((r) => (r as number[][]).map((row) => row.map((v) => [v]))),
    );
    expect(expandDims(seq([]), 0).toArray()).toEqual([1]);
    expect(expandDims(seq([2]), 1).toArray()).toEqual([[1], [2]]);
    expect(expandDims(seq([2, 3]), 1).contiguous).toBe(true);
    expect(() => expandDims(x, 3)).toThrow(
      /expandDims: axis: axis 3 is out of range for an array of rank 3/,
    );
    expect(() => expandDims(x, [0, 0])).toThrow(/expandDims: axis: axis 0 appears more than once/);
  });
});

describe("concatenate / stack", () => {
  it("matches the reference on every axis with strided inputs", () => {
    const a = relayout(seq([2, 3, 4]), {
      perm: [2, 1, 0],
      flips: [true, false, true],
      gap: 1,
      pad: 1,
    });
    const b = transpose(seq([4, 1, 2], "float64", 100), [2, 1, 0]); // [2, 1, 4]
    const c = broadcastTo(seq([1, 4], "float64", 50), [2, 5, 4]);
    const out = concatenate([a, b, c], 1);
    expect(out.shape).toEqual([2, 9, 4]);
    expect(out.toArray()).toEqual(materialize(refConcat([refOf(a), refOf(b), refOf(c)], 1)));
    const big = [seq([3, 40]), flip(seq([3, 20]), 1)];
    expect(concatenate(big, -1).toArray()).toEqual(materialize(refConcat(big.map(refOf), 1)));
    expect(concatenate([seq([2, 2]), seq([0, 2]), seq([1, 2])]).toArray()).toEqual([
      [1, 2],
      [3, 4],
      [1, 2],
    ]);
  });

  it("promotes dtypes", () => {
    const out = concatenate([fromNested([true, false]), ints([3]), seq([1], "float32", 0.5)]);
    expect(out.dtype).toBe("float32");
    expect(out.toArray()).toEqual([1, 0, 3, 0.5]);
    const many = concatenate([fromNested(new Array(20).fill(true)), ints(new Array(20).fill(7))]);
    expect(many.dtype).toBe("int32");
    expect(many.toArray()).toEqual([...new Array(20).fill(1), ...new Array(20).fill(7)]);
    expect(concatenate([fromNested([true]), fromNested([false])]).toArray()).toEqual([true, false]);
  });

  it("zero-size outputs", () => {
    expect(concatenate([seq([0, 3]), seq([0, 2])], 1).shape).toEqual([0, 5]);
    expect(concatenate([seq([0])]).toArray()).toEqual([]);
  });

  it("errors name the array index and both shapes", () => {
    expect(() => concatenate([seq([2, 3]), seq([2, 3]), seq([3, 3])], 1)).toThrow(
      /concatenate: xs\[2\] has shape \[3, 3\] but xs\[0\] has shape \[2, 3\]; expected the same rank and the same dimensions except along axis 1/,
    );
    expect(() => concatenate([seq([2, 3]), seq([6])])).toThrow(/xs\[1\] has shape \[6\]/);
    expect(() => concatenate([])).toThrow(/concatenate: xs: expected at least one array/);
    expect(() => concatenate([seq([])])).toThrow(/cannot concatenate rank-0 arrays/);
    expect(() => concatenate([seq([2]), 3 as unknown as NDArray])).toThrow(
      /concatenate: xs\[1\]: expected an NDArray/,
    );
    expect(() => concatenate([seq([2])], 1)).toThrow(/concatenate: axis: axis 1 is out of range/);
  });

  it("property: concatenate then slice recovers the parts", () => {
    fc.assert(
      fc.property(
        shapeArb(3, 4, 1).chain((shape) =>
          fc
            .tuple(
              fc.integer({ min: 0, max: shape.length - 1 }),
              fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
            )
            .chain(([axis, lens]) =>
              fc.tuple(
                fc.constant(axis),
                fc.tuple(
                  ...lens.map((l) => arrayOfShape(shape.map((d, i) => (i === axis ? l : d)))),
                ),
              ),
            ),
        ),
        ([axis, parts]) => {
          const out = concatenate(parts, axis);
          expect(out.toArray()).toEqual(materialize(refConcat(parts.map(refOf), axis)));
          let start = 0;
          for (const p of parts) {
            const specs: (SliceSpec | null)[] = p.shape.map(() => null);
            specs[axis] = { start, stop: start + p.shape[axis]! };
            expect(slice(out, specs).toArray()).toEqual(p.toArray());
            start += p.shape[axis]!;
          }
        },
      ),
    );
  });

  it("stack", () => {
    const a = seq([2, 3]);
    const b = transpose(seq([3, 2], "float64", 10));
    const s = stack([a, b], 1);
    expect(s.shape).toEqual([2, 2, 3]);
    expect(s.toArray()).toEqual([
      [a.toArray(), b.toArray()].map((r) => (r as number[][])[0]),
      [a.toArray(), b.toArray()].map((r) => (r as number[][])[1]),
    ]);
    expect(stack([a, b], -1).toArray()).toEqual(
      materialize({ shape: [2, 3, 2], at: ([i, j, k]) => [a, b][k!]!.get(i!, j!) }),
    );
    expect(stack([seq([]), seq([], "float64", 5)]).toArray()).toEqual([1, 5]);
    expect(() => stack([a, seq([3, 2])])).toThrow(
      /stack: xs\[1\] has shape \[3, 2\] but xs\[0\] has shape \[2, 3\]/,
    );
    expect(() => stack([a], 3)).toThrow(
      /stack: axis: axis 3 is out of range for an array of rank 3/,
    );
    expect(() => stack([])).toThrow(/stack: xs: expected at least one array/);
  });
});

describe("pad", () => {
  it("matches the reference with strided input and a fill value", () => {
    const x = relayout(seq([2, 3, 20]), {
      perm: [1, 2, 0],
      flips: [false, true, true],
      gap: 2,
      pad: 3,
    });
    const w: [number, number][] = [
      [1, 0],
      [0, 2],
      [3, 1],
    ];
    expect(pad(x, w, -1).toArray()).toEqual(materialize(refPad(refOf(x), w, -1)));
    const small = flip(seq([2, 3]), 0);
    expect(pad(small, 1).toArray()).toEqual(
      materialize(
        refPad(
          refOf(small),
          [
            [1, 1],
            [1, 1],
          ],
          0,
        ),
      ),
    );
  });

  it("examples, scalars, zero-size, dtypes", () => {
    expect(pad(ones([2]), [[1, 2]]).toArray()).toEqual([0, 1, 1, 0, 0]);
    expect(pad(seq([]), []).toArray()).toBe(1);
    expect(pad(seq([]), 3).toArray()).toBe(1);
    expect(
      pad(
        seq([0, 2]),
        [
          [1, 0],
          [0, 1],
        ],
        9,
      ).toArray(),
    ).toEqual([[9, 9, 9]]);
    expect(pad(ints([1, 2]), [[0, 1]], 5).toArray()).toEqual([1, 2, 5]);
    expect(pad(fromNested([false]), [[1, 1]], true).toArray()).toEqual([true, false, true]);
  });

  it("errors name widths entries and value", () => {
    const x = seq([2, 3]);
    expect(() => pad(x, [[1, 1]])).toThrow(
      /pad: widths: expected 2 \[before, after\] pairs for shape \[2, 3\], got 1/,
    );
    expect(() =>
      pad(x, [
        [1, 1],
        [0, -1],
      ]),
    ).toThrow(/pad: widths\[1\]\[1\]: expected an integer >= 0, got -1/);
    expect(() => pad(x, -2)).toThrow(/pad: widths: expected an integer >= 0, got -2/);
    expect(() => pad(x, [[1, 1], [1] as unknown as [number, number]])).toThrow(
      /pad: widths\[1\]: expected a \[before, after\] pair/,
    );
    expect(() => pad(ints([1]), 1, 0.5)).toThrow(/pad: value: 0.5 is not representable as int32/);
    expect(() => pad(x, 1, "a" as unknown as number)).toThrow(
      /pad: value: expected a number or boolean/,
    );
  });
});

describe("take / takeTranspose", () => {
  it("gathers along an axis with negative indices and any index shape", () => {
    const x = relayout(seq([3, 4, 2]), {
      perm: [2, 0, 1],
      flips: [true, false, false],
      gap: 1,
      pad: 2,
    });
    const idx = ints([
      [3, -1],
      [0, 1],
      [-4, 2],
    ]);
    const out = take(x, idx, 1);
    expect(out.shape).toEqual([3, 3, 2, 2]);
    expect(out.toArray()).toEqual(materialize(refTake(refOf(x), refOf(idx), 1)));
    expect(take(x, ints(2), 0).toArray()).toEqual(slice(x, [2]).toArray());
    expect(take(x, ints([5, 0, -24]), undefined).toArray()).toEqual(
      [5, 0, 0].map((k) => refFlat(refOf(x))[k]),
    );
    expect(take(x, ints([[-1]]), -1).shape).toEqual([3, 4, 1, 1]);
    // long inner rows use block copies
    const wide = seq([3, 2, 40]);
    const ti = transpose(ints([[2, 0, 2]]));
    expect(take(wide, ti, 0).toArray()).toEqual(materialize(refTake(refOf(wide), refOf(ti), 0)));
  });

  it("zero-size and bool", () => {
    expect(take(seq([3, 2]), ints([]), 0).shape).toEqual([0, 2]);
    expect(take(seq([0, 2]), ints([1, 0]), 1).shape).toEqual([0, 2]);
    expect(take(fromNested([true, false]), ints([1, 1, 0])).toArray()).toEqual([
      false,
      false,
      true,
    ]);
  });

  it("errors name the index, axis size and dtype", () => {
    const x = seq([3, 4]);
    expect(() => take(x, ints([0, 4]), 1)).toThrow(
      /take: indices: index 4 is out of range for axis 1 of size 4/,
    );
    expect(() => take(x, ints([-13]))).toThrow(
      /index -13 is out of range for the flattened array of size 12/,
    );
    expect(() => take(x, seq([1]), 0)).toThrow(/take: indices: expected dtype int32, got float64/);
    expect(() => take(x, ints([0]), 2)).toThrow(/take: axis: axis 2 is out of range/);
    expect(() => take(x, [0] as unknown as NDArray)).toThrow(/take: indices: expected an NDArray/);
    expect(() => take(seq([0]), ints([0]), 0)).toThrow(
      /index 0 is out of range for axis 0 of size 0/,
    );
  });

  it("takeTranspose scatters and accumulates duplicates", () => {
    const u = seq([2, 3]);
    const idx = ints([0, 2, 0]);
    const out = takeTranspose(u, idx, 1, [2, 4]);
    expect(out.toArray()).toEqual([
      [1 + 3, 0, 2, 0],
      [4 + 6, 0, 5, 0],
    ]);
    expect(out.dtype).toBe("float64");
    expect(takeTranspose(ones([3]), ints([0, 2, 0]), 0, [3]).toArray()).toEqual([2, 0, 1]);
    expect(takeTranspose(seq([3]), ints([5, -1, 5]), undefined, [2, 3]).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 6],
    ]);
    const t = flip(seq([2, 3, 2]), 1);
    const ti = ints([[1, -1, 0]]);
    expect(takeTranspose(take(t, ti, 1), ti, 1, [2, 3, 2]).toArray()).toEqual(
      refTakeTranspose(refOf(take(t, ti, 1)), refOf(ti), 1, [2, 3, 2]),
    );
  });

  it("takeTranspose errors", () => {
    expect(() => takeTranspose(seq([2, 3]), ints([0, 1]), 1, [2, 4])).toThrow(
      /takeTranspose: updates: expected shape \[2, 2\] \(inputShape \[2, 4\] with indices of shape \[2\] at axis 1\), got \[2, 3\]/,
    );
    expect(() => takeTranspose(seq([2]), ints([0, 4]), 0, [4])).toThrow(
      /takeTranspose: indices: index 4 is out of range for axis 0 of size 4/,
    );
    expect(() => takeTranspose(fromNested([true]), ints([0]), 0, [1])).toThrow(
      /updates: expected a numeric dtype, got bool/,
    );
    expect(() => takeTranspose(seq([1]), ints([0]), 1, [1])).toThrow(
      /takeTranspose: axis: axis 1 is out of range/,
    );
    expect(() => takeTranspose(seq([1]), ints([0]), 0, [-1])).toThrow(
      /takeTranspose: inputShape\[0\]/,
    );
  });

  const takeCase = arrayArb(3, 4, 1).chain((x) =>
    fc.integer({ min: -x.ndim, max: x.ndim - 1 }).chain((axis) => {
      const n = x.shape[axis < 0 ? axis + x.ndim : axis]!;
      return fc.tuple(
        fc.constant(x),
        fc.constant(axis),
        shapeArb(2, 3).chain((ishape) =>
          fc
            .array(n > 0 ? fc.integer({ min: -n, max: n - 1 }) : fc.constant(0), {
              minLength: n > 0 ? sizeOf(ishape) : 0,
              maxLength: n > 0 ? sizeOf(ishape) : 0,
            })
            .map((v) => new NDArray(Int32Array.from(v), n > 0 ? ishape : [0])),
        ),
      );
    }),
  );

  it("property: take matches the naive gather", () => {
    fc.assert(
      fc.property(takeCase, ([x, axis, idx]) => {
        const ax = axis < 0 ? axis + x.ndim : axis;
        expect(take(x, idx, axis).toArray()).toEqual(
          materialize(refTake(refOf(x), refOf(idx), ax)),
        );
      }),
    );
  });

  it("property: takeTranspose is the adjoint of take (float64, exact on integers)", () => {
    fc.assert(
      fc.property(
        takeCase.chain(([x, axis, idx]) => {
          const ax = axis < 0 ? axis + x.ndim : axis;
          const ushape = [...x.shape.slice(0, ax), ...idx.shape, ...x.shape.slice(ax + 1)];
          return fc.tuple(
            fc.constant(x),
            fc.constant(axis),
            fc.constant(idx),
            arrayOfShape(ushape),
          );
        }),
        ([x, axis, idx, u]) => {
          const ax = axis < 0 ? axis + x.ndim : axis;
          const tx = take(x, idx, axis);
          const tu = takeTranspose(u, idx, axis, x.shape);
          expect(tu.toArray()).toEqual(refTakeTranspose(refOf(u), refOf(idx), ax, x.shape.slice()));
          const dot = (a: NDArray, b: NDArray): number => {
            const fa = refFlat(refOf(a));
            const fb = refFlat(refOf(b));
            return fa.reduce((s, v, i) => s + v * fb[i]!, 0);
          };
          expect(dot(tx, u)).toBe(dot(x, tu));
        },
      ),
    );
  });
});

describe("takeAlongAxis / takeAlongAxisTranspose", () => {
  it("picks per-row labels (cross-entropy gather)", () => {
    const logits = seq([3, 4]);
    const labels = ints([[2], [0], [-1]]);
    expect(takeAlongAxis(logits, labels, 1).toArray()).toEqual([[3], [5], [12]]);
    expect(takeAlongAxis(logits, labels, -1).shape).toEqual([3, 1]);
  });

  it("broadcasts non-axis dims and reads strided inputs", () => {
    const x = relayout(seq([1, 4, 3]), {
      perm: [2, 1, 0],
      flips: [false, true, true],
      gap: 1,
      pad: 1,
    });
    const idx = transpose(
      ints([
        [[3], [-1]],
        [[0], [-4]],
      ]),
      [1, 0, 2],
    ); // shape [2, 2, 1]
    const bidx = broadcastTo(ints([[[1], [3]]]), [2, 2, 3]);
    const a = takeAlongAxis(x, idx, 1);
    expect(a.shape).toEqual([2, 2, 3]);
    expect(() => takeAlongAxis(x, idx, 2)).toThrow(/do not broadcast outside axis 2/);
    expect(a.toArray()).toEqual(materialize(refTakeAlong(refOf(x), refOf(idx), 1)));
    const b = takeAlongAxis(x, bidx, 1);
    expect(b.toArray()).toEqual(materialize(refTakeAlong(refOf(x), refOf(bidx), 1)));
    const c = takeAlongAxis(x, ints([[[0, 2, 1, 1]]]), 2);
    expect(c.toArray()).toEqual(
      materialize(refTakeAlong(refOf(x), refOf(ints([[[0, 2, 1, 1]]])), 2)),
    );
    expect(takeAlongAxis(seq([2, 3]), new NDArray(new Int32Array(0), [2, 0]), 1).shape).toEqual([
      2, 0,
    ]);
  });

  it("errors", () => {
    const x = seq([2, 3]);
    expect(() => takeAlongAxis(x, ints([0, 1]), 0)).toThrow(
      /takeAlongAxis: indices: expected rank 2 like x \(shape \[2, 3\]\), got shape \[2\]/,
    );
    expect(() => takeAlongAxis(x, ints([[3]]), 1)).toThrow(
      /takeAlongAxis: indices: index 3 is out of range for axis 1 of size 3/,
    );
    expect(() => takeAlongAxis(x, ints([[0], [0], [0]]), 1)).toThrow(
      /takeAlongAxis: x of shape \[2, 3\] and indices of shape \[3, 1\] do not broadcast outside axis 1/,
    );
    expect(() => takeAlongAxis(x, fromNested([[0]]), 1)).toThrow(
      /expected dtype int32, got float32/,
    );
    expect(() => takeAlongAxisTranspose(seq([2, 2]), ints([[0], [1]]), 1, [2, 3])).toThrow(
      /takeAlongAxisTranspose: updates: expected shape \[2, 1\], got \[2, 2\]/,
    );
  });

  it("property: takeAlongAxisTranspose is the adjoint of takeAlongAxis, with broadcasting", () => {
    const caseArb = shapeArb(3, 3, 1).chain((shape) =>
      fc
        .tuple(
          fc.integer({ min: 0, max: shape.length - 1 }),
          fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
          fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
          fc.integer({ min: 0, max: 3 }),
        )
        .chain(([axis, xOne, iOne, m]) => {
          const n = shape[axis]!;
          const xs = shape.map((d, i) => (i !== axis && xOne[i] ? 1 : d));
          const is = shape.map((d, i) => (i === axis ? (n > 0 ? m : 0) : iOne[i] ? 1 : d));
          const outShape = shape.map((_d, i) => (i === axis || xs[i] === 1 ? is[i]! : xs[i]!));
          return fc.tuple(
            fc.constant(axis),
            arrayOfShape(xs),
            fc
              .array(fc.integer({ min: -Math.max(n, 1), max: Math.max(n - 1, 0) }), {
                minLength: sizeOf(is),
                maxLength: sizeOf(is),
              })
              .map((v) => new NDArray(Int32Array.from(v), is)),
            arrayOfShape(outShape),
          );
        }),
    );
    fc.assert(
      fc.property(caseArb, ([axis, x, idx, u]) => {
        const g = takeAlongAxis(x, idx, axis);
        expect(g.toArray()).toEqual(materialize(refTakeAlong(refOf(x), refOf(idx), axis)));
        const t = takeAlongAxisTranspose(u, idx, axis, x.shape);
        expect(t.shape).toEqual(x.shape);
        const dot = (a: NDArray, b: NDArray): number => {
          const fa = refFlat(refOf(a));
          const fb = refFlat(refOf(b));
          return fa.reduce((s, v, i) => s + v * fb[i]!, 0);
        };
        expect(dot(g, u)).toBe(dot(x, t));
      }),
    );
  });
});

describe("creation", () => {
  it("full / zeros / ones", () => {
    expect(full([2, 2], 7, "int32").toArray()).toEqual([
      [7, 7],
      [7, 7],
    ]);
    expect(full([2], 7, "int32").dtype).toBe("int32");
    expect(full([], 2.5).toArray()).toBe(2.5);
    expect(full(3, true).toArray()).toEqual([1, 1, 1]);
    expect(full([2], 3, "bool").toArray()).toEqual([true, true]);
    expect(full([0, 4], 1).shape).toEqual([0, 4]);
    expect(zeros([2, 3]).dtype).toBe("float32");
    expect(zeros([2, 3]).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(ones([2], "float64").toArray()).toEqual([1, 1]);
    expect(ones([1], "bool").toArray()).toEqual([true]);
    expect(zeros([], "int32").toArray()).toBe(0);
  });

  it("full / zeros / ones errors", () => {
    expect(() => full([2], 1.5, "int32")).toThrow(/full: value: 1.5 is not representable as int32/);
    expect(() => full([2], 2 ** 31, "int32")).toThrow(/2147483648 is not representable as int32/);
    expect(() => full([2], NaN, "int32")).toThrow(/NaN is not representable as int32/);
    expect(() => full([2, -1], 0)).toThrow(
      /full: shape\[1\]: expected a non-negative integer dimension, got -1/,
    );
    expect(() => full([2], 0, "int64" as DType)).toThrow(/full: dtype: unknown dtype "int64"/);
    expect(() => zeros([1.5])).toThrow(/zeros: shape\[0\]/);
    expect(() => ones("3" as unknown as number[])).toThrow(/ones: shape: expected an array/);
    expect(() => full([1], "x" as unknown as number)).toThrow(
      /full: value: expected a number or boolean/,
    );
  });

  it("arange follows NumPy", () => {
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(arange(4).dtype).toBe("float32");
    expect(arange(1, 7, 2).toArray()).toEqual([1, 3, 5]);
    expect(arange(5, 0, -2, "int32").toArray()).toEqual([5, 3, 1]);
    expect(arange(0, 1, 0.25, "float64").toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(arange(3, 1).shape).toEqual([0]);
    expect(arange(0, 1, 0.3, "float64").toArray()).toEqual([0, 0.3, 0.6, 0.8999999999999999]);
    expect(() => arange(0, 5, 0)).toThrow(/arange: step: step must not be 0/);
    expect(() => arange(0, Infinity)).toThrow(/arange: stop: expected a finite number/);
    expect(() => arange(0, 2, 0.5, "int32")).toThrow(/arange: int32 needs integer start and step/);
    expect(() => arange(3, undefined, 1, "bool")).toThrow(/arange: dtype: bool is not supported/);
  });

  it("linspace", () => {
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(2, 3, 1).toArray()).toEqual([2]);
    expect(linspace(2, 3, 0).shape).toEqual([0]);
    const l = linspace(0, 0.3, 7, "float64");
    expect(l.get(6)).toBe(0.3);
    expect(l.get(2)).toBeCloseTo(0.1, 15);
    expect(() => linspace(0, 1, -1)).toThrow(/linspace: num: expected an integer >= 0, got -1/);
    expect(() => linspace(0, 1, 2, "int32")).toThrow(
      /linspace: dtype: expected float32 or float64, got int32/,
    );
    expect(() => linspace(0, NaN, 2)).toThrow(/linspace: stop: expected a finite number/);
  });

  it("eye against index math", () => {
    for (const [n, m, k] of [
      [3, 3, 0],
      [2, 4, 1],
      [4, 2, -1],
      [3, 3, 5],
      [3, 3, -3],
      [0, 2, 0],
    ] as const) {
      const e = eye(n, m, k, "int32");
      expect(e.toArray()).toEqual(
        materialize({ shape: [n, m], at: ([i, j]) => (j! - i! === k ? 1 : 0) }),
      );
    }
    expect(eye(2).toArray()).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(eye(2, undefined, 0, "bool").toArray()).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(() => eye(-1)).toThrow(/eye: n: expected an integer >= 0, got -1/);
    expect(() => eye(2, 2.5)).toThrow(/eye: m: expected an integer/);
    expect(() => eye(2, 2, 0, "x" as DType)).toThrow(/eye: dtype: unknown dtype/);
  });
});
