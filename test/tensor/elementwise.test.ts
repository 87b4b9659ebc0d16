// Tests of the elementwise kernels against naive references written here: nested index
// loops over NDArray.get (which walks strides on its own), BigInt integer arithmetic and
// a BigInt fixed-point series for erf.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  BINARY_OPS,
  COMPARE_OPS,
  NDArray,
  UNARY_OPS,
  abs,
  add,
  allocate,
  atan2,
  binary,
  cast,
  ceil,
  compare,
  contiguousStrides,
  div,
  eq,
  equal,
  erf,
  exp,
  floor,
  fromFlat,
  fromNested,
  ge,
  greater,
  greaterEqual,
  gt,
  le,
  less,
  lessEqual,
  logicalAnd,
  logicalNot,
  logicalOr,
  lt,
  maximum,
  minimum,
  mod,
  mul,
  ne,
  neg,
  notEqual,
  pow,
  round,
  sigmoid,
  sign,
  sizeOf,
  sub,
  unary,
  where,
  type BinaryOp,
  type CompareOp,
  type DType,
  type UnaryOp,
} from "../../src/tensor/index.js";
import { erfRef } from "./exact.js";

// ---------------------------------------------------------------------------------------
// Helpers: layouts, naive broadcasting, references
// ---------------------------------------------------------------------------------------

const DTYPES: DType[] = ["float32", "float64", "int32", "bool"];

/** Deterministic pseudo-random numbers (LCG) so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

interface Layout {
  perm?: number[];
  flip?: boolean[];
  pad?: number;
}

/**
 * An NDArray of `shape` holding `values` (row-major) in a chosen memory layout: axes
 * permuted in storage, some axes flipped (negative strides), `pad` junk elements in front
 * (nonzero offset). Junk elsewhere in the buffer catches out-of-bounds reads.
 */
function makeArray(shape: number[], dtype: DType, values: number[], layout: Layout = {}): NDArray {
  const n = shape.length;
  const perm = layout.perm ?? shape.map((_, i) => i);
  const physShape = perm.map((p) => shape[p]!);
  const physStrides = contiguousStrides(physShape);
  const strides = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) strides[perm[i]!] = physStrides[i]!;
  let offset = layout.pad ?? 0;
  for (let d = 0; d < n; d++) {
    if (layout.flip?.[d] && shape[d]! > 0) {
      offset += (shape[d]! - 1) * strides[d]!;
      strides[d] = -strides[d]!;
    }
  }
  const size = sizeOf(shape);
  const buf = allocate(dtype, (layout.pad ?? 0) + size + 3);
  buf.fill(dtype === "bool" ? 1 : 77);
  let k = 0;
  for (const idx of indices(shape)) {
    let pos = offset;
    for (let d = 0; d < n; d++) pos += idx[d]! * strides[d]!;
    buf[pos] = values[k++]!;
  }
  return new NDArray(buf, shape, strides, offset);
}

/** A strided layout for `shape`: reversed axis order, every other axis flipped, offset 2. */
function stridedLayout(shape: number[]): Layout {
  return {
    perm: shape.map((_, i) => shape.length - 1 - i),
    flip: shape.map((_, i) => i % 2 === 0),
    pad: 2,
  };
}

/** All multi-indices of `shape` in row-major order. */
function* indices(shape: readonly number[]): Generator<number[]> {
  if (shape.some((d) => d === 0)) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (;;) {
    yield idx.slice();
    let d = shape.length - 1;
    for (; d >= 0; d--) {
      idx[d]!++;
      if (idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/** Naive NumPy broadcasting of several shapes (independent of src/tensor/shape.ts). */
function naiveBroadcast(...shapes: (readonly number[])[]): number[] {
  const n = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let d = 1;
    for (const s of shapes) {
      const e = s[i - (n - s.length)] ?? 1;
      if (e === 1) continue;
      if (d !== 1 && d !== e) throw new Error("incompatible");
      d = e;
    }
    out.push(d);
  }
  return out;
}

/** Element of `x` at output index `outIdx` after broadcasting (via NDArray.get). */
function at(x: NDArray, outIdx: number[]): number {
  const k = outIdx.length - x.ndim;
  return x.get(...x.shape.map((d, i) => (d === 1 ? 0 : outIdx[i + k]!)));
}

/** The value `v` as stored in `dtype`. */
function store(dtype: DType, v: number): number {
  if (dtype === "float32") return Math.fround(v);
  if (dtype === "bool") return v !== 0 ? 1 : 0;
  if (dtype === "int32") return v | 0;
  return v;
}

function naiveMap(
  arrays: NDArray[],
  dtype: DType,
  f: (...v: number[]) => number,
): { shape: number[]; values: number[] } {
  const shape = naiveBroadcast(...arrays.map((a) => a.shape));
  const values: number[] = [];
  for (const idx of indices(shape)) values.push(store(dtype, f(...arrays.map((a) => at(a, idx)))));
  return { shape, values };
}

const same = (x: number, y: number): boolean => x === y || (x !== x && y !== y);

/** Asserts shape, dtype and exact (NaN-aware) values. */
function expectArray(
  actual: NDArray,
  expected: { shape: number[]; values: number[] },
  dtype: DType,
): void {
  expect(actual.dtype).toBe(dtype);
  expect([...actual.shape]).toEqual(expected.shape);
  const got = Array.from(actual.flat());
  expect(got.length).toBe(expected.values.length);
  const bad = got.findIndex((v, i) => !same(v, expected.values[i]!));
  if (bad >= 0) {
    expect.fail(`element ${bad}: got ${got[bad]}, expected ${expected.values[bad]}`);
  }
}

/** Asserts values within a relative tolerance (NaN matches NaN, infinities exactly). */
function expectClose(got: ArrayLike<number>, want: number[], rtol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (same(g, w)) continue;
    if (!(Math.abs(g - w) <= rtol * Math.abs(w))) {
      expect.fail(`element ${i}: got ${g}, expected ${w} (rtol ${rtol})`);
    }
  }
}

/** Ops whose float kernels may differ from Math.* by a few ULP (see expectUlps). */
const ULP_OPS: readonly string[] = ["exp", "log", "log1p", "expm1", "tanh"];

/** Distance in units in the last place of the dtype of `got` (Float32Array: float32). */
function ulpDistance(a: number, b: number, f32: boolean): number {
  const dv = new DataView(new ArrayBuffer(8));
  const ordered = (v: number): bigint => {
    if (f32) {
      dv.setFloat32(0, v);
      const i = dv.getInt32(0);
      return BigInt(i < 0 ? -(i & 0x7fffffff) : i);
    }
    dv.setFloat64(0, v);
    const i = dv.getBigInt64(0);
    return i < 0n ? -(i & 0x7fffffffffffffffn) : i;
  };
  const d = ordered(a) - ordered(b);
  return Number(d < 0n ? -d : d);
}

/** Asserts values within `ulps` units in the last place (NaN matches NaN, signed zeros exactly). */
function expectUlps(
  got: Float32Array | Float64Array | ArrayLike<number>,
  want: number[],
  ulps: number,
): void {
  expect(got.length).toBe(want.length);
  const f32 = got instanceof Float32Array;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (same(g, w) && (g !== 0 || Object.is(g, w))) continue;
    if (g !== g || w !== w || g === 0 || w === 0 || ulpDistance(g, w, f32) > ulps) {
      expect.fail(`element ${i}: got ${g}, expected ${w} (within ${ulps} ULP)`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Unary ops
// ---------------------------------------------------------------------------------------

const I32 = (v: bigint): number => Number(BigInt.asIntN(32, v));

function roundHalfEvenRef(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

const UNARY_REF: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  abs: Math.abs,
  sign: Math.sign,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEvenRef,
  erf: erfRef,
};
/** Integer-result references (C wraparound via BigInt). */
const UNARY_INT_REF: Partial<Record<UnaryOp, (x: number) => number>> = {
  neg: (x) => I32(-BigInt(x)),
  abs: (x) => I32(BigInt(Math.abs(x))),
  sign: Math.sign,
  floor: (x) => x,
  ceil: (x) => x,
  round: (x) => x,
};
const INT_PRESERVING = ["neg", "abs", "sign", "floor", "ceil", "round"];

function expectedUnaryDType(op: UnaryOp, dtype: DType): DType {
  if (INT_PRESERVING.includes(op)) {
    return dtype === "bool" ? "int32" : dtype;
  }
  return dtype === "float64" ? "float64" : "float32";
}

function unaryValues(dtype: DType, count: number, seed: number): number[] {
  const r = rng(seed);
  if (dtype === "bool") return Array.from({ length: count }, () => (r() < 0.5 ? 0 : 1));
  if (dtype === "int32") return Array.from({ length: count }, () => Math.floor(r() * 21) - 10);
  const special = [0, -0, 0.5, 1.5, 2.5, -2.5, -0.5, 1e-9, -40, 40, 800, -800, NaN, Infinity];
  return Array.from({ length: count }, (_, i) =>
    i < special.length ? special[i]! : (r() - 0.5) * 8,
  );
}

describe("unary ops", () => {
  it("lists every op once", () => {
    expect(new Set(UNARY_OPS).size).toBe(UNARY_OPS.length);
    expect(UNARY_OPS.length).toBe(18);
  });

  for (const op of UNARY_OPS) {
    for (const dtype of DTYPES) {
      it(`${op} on ${dtype} matches the reference (contiguous and strided)`, () => {
        const shape = [3, 4, 5];
        const values = unaryValues(dtype, 60, 7 + dtype.length);
        const outDtype = expectedUnaryDType(op, dtype);
        const intRef = outDtype === "int32" ? UNARY_INT_REF[op] : undefined;
        const ref = intRef ?? UNARY_REF[op];
        for (const layout of [{}, stridedLayout(shape)]) {
          const x = makeArray(shape, dtype, values, layout);
          const y = unary(op, x);
          const expected = naiveMap([x], outDtype, ref);
          if (op === "erf" || op === "sigmoid") {
            expect(y.dtype).toBe(outDtype);
            expectClose(y.flat(), expected.values, outDtype === "float32" ? 1.2e-7 : 2e-15);
          } else if (ULP_OPS.includes(op) && outDtype !== "int32") {
            // large contiguous inputs take the WebAssembly polynomial kernels: ≤ 1 ULP
            // (float32) / 2 ULP (float64) from Math.*, not bitwise equal
            expect(y.dtype).toBe(outDtype);
            expectUlps(y.flat(), expected.values, outDtype === "float32" ? 1 : 2);
          } else {
            expectArray(y, expected, outDtype);
          }
        }
      });
    }
  }

  it("named functions equal the generic unary and never touch their input", () => {
    const x = makeArray([2, 3], "float64", [0.5, -1, 2, 3.5, -2.5, 0.1]);
    const before = Array.from(x.data);
    expect(Array.from(neg(x).flat())).toEqual(Array.from(unary("neg", x).flat()));
    expect(Array.from(exp(x).flat())).toEqual(Array.from(unary("exp", x).flat()));
    expect(Array.from(round(x).flat())).toEqual([0, -1, 2, 4, -2, 0]);
    expect(Array.from(x.data)).toEqual(before);
  });

  it("handles rank-0 and size-0 inputs", () => {
    const s = exp(fromNested(0, "float64"));
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(1);
    const e = sign(makeArray([0, 3], "int32", []));
    expect(e.shape).toEqual([0, 3]);
    expect(e.dtype).toBe("int32");
    expect(e.size).toBe(0);
  });

  it("int32 neg and abs wrap like C", () => {
    const x = fromFlat(Int32Array.from([-2147483648, 2147483647, -5]), [3]);
    expect(Array.from(neg(x).flat())).toEqual([-2147483648, -2147483647, 5]);
    expect(Array.from(abs(x).flat())).toEqual([-2147483648, 2147483647, 5]);
  });

  it("round is round-half-to-even", () => {
    const x = fromNested([-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001], "float64");
    const y = Array.from(round(x).flat());
    expect(y).toEqual([-4, -2, -2, -0, 0, 2, 2, 4, 2, 3]);
    expect(Object.is(y[3], -0)).toBe(true);
    const f = round(fromNested([0.5, 1.5, 2.5, 4503599627370495.5], "float64"));
    expect(Array.from(f.flat())).toEqual([0, 2, 2, 4503599627370496]);
    expect(Array.from(floor(fromNested([true, false])).flat())).toEqual([1, 0]);
    expect(ceil(fromNested([true, false])).dtype).toBe("int32");
  });

  it("sigmoid is stable for large |x|", () => {
    const y = Array.from(sigmoid(fromNested([-1000, -745, -40, 0, 40, 1000], "float64")).flat());
    expect(y[0]).toBe(0);
    expect(y[1]).toBeGreaterThan(0);
    expect(y[2]).toBeCloseTo(Math.exp(-40), 30);
    expect(y[3]).toBe(0.5);
    expect(y[4]).toBe(1);
    expect(y[5]).toBe(1);
    expect(y.every((v) => Number.isFinite(v))).toBe(true);
  });

  it("erf matches a 400-bit reference to ~1e-15 relative over many magnitudes", () => {
    const r = rng(42);
    const xs: number[] = [1, 0.5, 1.8, 1.8000000000000003, 2, 3, 5.9, 6, -1, -2.5];
    for (let i = 0; i < 400; i++) xs.push((r() - 0.5) * 14);
    for (let i = 0; i < 100; i++) xs.push(Math.exp(-r() * 60) * (r() < 0.5 ? -1 : 1));
    const y = erf(fromNested(xs, "float64")).flat();
    expectClose(y, xs.map(erfRef), 1.5e-15);
  });

  it("erf handles special values and float32", () => {
    const y = Array.from(erf(fromNested([0, -0, NaN, Infinity, -Infinity, 30], "float64")).flat());
    expect(Object.is(y[0], 0)).toBe(true);
    expect(Object.is(y[1], -0)).toBe(true);
    expect(y[2]).toBeNaN();
    expect(y.slice(3)).toEqual([1, -1, 1]);
    const f = erf(fromNested([0.3, -1.2]));
    expect(f.dtype).toBe("float32");
    expect(Array.from(f.flat())).toEqual(
      [0.3, -1.2].map((v) => Math.fround(erfRef(Math.fround(v)))),
    );
  });

  it("rejects bad arguments", () => {
    expect(() => exp([1, 2] as unknown as NDArray)).toThrow(
      /exp: x: expected an NDArray, got an array/,
    );
    expect(() => unary("cube" as UnaryOp, fromNested([1]))).toThrow(
      /unary: op: unknown op "cube"; expected one of neg, exp/,
    );
  });
});

// ---------------------------------------------------------------------------------------
// Binary ops
// ---------------------------------------------------------------------------------------

const PROMO: Record<DType, Record<DType, DType>> = {
  bool: { bool: "bool", int32: "int32", float32: "float32", float64: "float64" },
  int32: { bool: "int32", int32: "int32", float32: "float32", float64: "float64" },
  float32: { bool: "float32", int32: "float32", float32: "float32", float64: "float64" },
  float64: { bool: "float64", int32: "float64", float32: "float64", float64: "float64" },
};

function expectedBinaryDType(op: BinaryOp, a: DType, b: DType): DType {
  const p = PROMO[a][b];
  if (op === "div" || op === "atan2") return p === "float64" ? "float64" : "float32";
  if (p === "bool" && op !== "maximum" && op !== "minimum") return "int32";
  return p;
}

const FLOAT_REF: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: (a, b) => (a !== a || b !== b ? NaN : a >= b ? a : b),
  minimum: (a, b) => (a !== a || b !== b ? NaN : a <= b ? a : b),
  atan2: Math.atan2,
  mod: (a, b) => a - b * Math.floor(a / b),
};
const INT_REF: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => I32(BigInt(a) + BigInt(b)),
  sub: (a, b) => I32(BigInt(a) - BigInt(b)),
  mul: (a, b) => I32(BigInt(a) * BigInt(b)),
  div: () => NaN, // never an int32 result
  pow: (a, b) => I32(BigInt(a) ** BigInt(b)),
  maximum: (a, b) => (a >= b ? a : b),
  minimum: (a, b) => (a <= b ? a : b),
  atan2: () => NaN, // never an int32 result
  mod: (a, b) => (b === 0 ? 0 : a - b * Math.floor(a / b)),
};

function binaryRef(op: BinaryOp, outDtype: DType): (a: number, b: number) => number {
  return outDtype === "int32" ? INT_REF[op] : FLOAT_REF[op];
}

function binaryValues(dtype: DType, count: number, seed: number, exponent: boolean): number[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => {
    if (dtype === "bool") return r() < 0.5 ? 0 : 1;
    if (dtype === "int32") return exponent ? Math.floor(r() * 5) : Math.floor(r() * 13) - 6;
    return (Math.floor(r() * 17) - 8) / 2; // halves: exact floored-mod reference
  });
}

const PAIRS: [number[], number[]][] = [
  [
    [3, 1],
    [1, 4],
  ],
  [[2, 3, 4], [4]],
  [[], [2, 2]],
  [
    [0, 3],
    [1, 3],
  ],
  [
    [2, 1, 3],
    [4, 1],
  ],
  [[5], [5]],
  [[2, 3], []],
  [
    [1, 1],
    [2, 1, 3],
  ],
];
const DTYPE_PAIRS: [DType, DType][] = [
  ["float32", "float32"],
  ["float64", "float32"],
  ["int32", "int32"],
  ["int32", "float32"],
  ["bool", "bool"],
  ["bool", "int32"],
  ["float64", "int32"],
];

describe("binary ops", () => {
  for (const op of BINARY_OPS) {
    for (const [da, db] of DTYPE_PAIRS) {
      it(`${op}(${da}, ${db}) matches the reference over broadcasting pairs and layouts`, () => {
        const outDtype = expectedBinaryDType(op, da, db);
        const ref = binaryRef(op, outDtype);
        let seed = 1;
        for (const [sa, sb] of PAIRS) {
          const va = binaryValues(da, sizeOf(sa), seed++, false);
          const vb = binaryValues(db, sizeOf(sb), seed++, op === "pow");
          const layouts: [Layout, Layout][] = [
            [{}, {}],
            [stridedLayout(sa), {}],
            [{}, stridedLayout(sb)],
            [stridedLayout(sa), stridedLayout(sb)],
          ];
          for (const [la, lb] of layouts) {
            const a = makeArray(sa, da, va, la);
            const b = makeArray(sb, db, vb, lb);
            const expected = naiveMap([a, b], outDtype, ref);
            expectArray(binary(op, a, b), expected, outDtype);
            // swapped operands (not for int pow: the base values may be negative exponents)
            if (op !== "pow" || outDtype !== "int32") {
              expectArray(binary(op, b, a), naiveMap([b, a], outDtype, ref), outDtype);
            }
          }
        }
      });
    }
  }

  it("named functions equal the generic binary", () => {
    const a = makeArray([2, 3], "float32", [1, -2, 3.5, 4, 0.5, -6]);
    const b = makeArray([3], "float32", [2, -3, 0.25]);
    const named = { add, sub, mul, div, pow, maximum, minimum, atan2, mod };
    for (const op of BINARY_OPS) {
      expect(Array.from(named[op](a, b).flat())).toEqual(Array.from(binary(op, a, b).flat()));
    }
  });

  it("follows the dtype promotion table for every op and dtype pair", () => {
    for (const op of BINARY_OPS) {
      for (const da of DTYPES) {
        for (const db of DTYPES) {
          const a = makeArray([2], da, [1, 1]);
          const b = makeArray([2], db, [1, 1]);
          expect(binary(op, a, b).dtype, `${op}(${da}, ${db})`).toBe(
            expectedBinaryDType(op, da, db),
          );
        }
      }
    }
    expect(div(fromNested([1], "int32"), fromNested([2], "int32")).dtype).toBe("float32");
    expect(add(fromNested([true]), fromNested([true])).item()).toBe(2);
    expect(maximum(fromNested([true]), fromNested([false])).item()).toBe(true);
  });

  it("int32 arithmetic wraps like C int32", () => {
    const i = (v: number[]) => fromFlat(Int32Array.from(v), [v.length]);
    const max = 2147483647;
    const min = -2147483648;
    expect(Array.from(add(i([max, min]), i([1, -1])).flat())).toEqual([min, max]);
    expect(Array.from(sub(i([min]), i([1])).flat())).toEqual([max]);
    expect(Array.from(mul(i([65536, 46341, max]), i([65536, 46341, max])).flat())).toEqual([
      0,
      I32(46341n * 46341n),
      1,
    ]);
    expect(Array.from(pow(i([2, 3, -1, 0]), i([31, 40, 7, 0])).flat())).toEqual([
      min,
      I32(3n ** 40n),
      -1,
      1,
    ]);
    expect(Array.from(mod(i([min]), i([-1])).flat())).toEqual([0]);
  });

  it("mod is floored (sign of the divisor) for floats and ints; zero divisors", () => {
    const f = (v: number[]) => fromNested(v, "float64");
    const y = Array.from(
      mod(f([-7, 7, -7, 7, -0.5, 6, 6, 5.5]), f([3, -3, -3, 3, 1, 3, -3, 2])).flat(),
    );
    expect(y).toEqual([2, -2, -1, 1, 0.5, 0, -0, 1.5]);
    expect(Object.is(y[5], 0)).toBe(true);
    expect(Object.is(y[6], -0)).toBe(true);
    const i = (v: number[]) => fromFlat(Int32Array.from(v), [v.length]);
    expect(Array.from(mod(i([-7, 7, -7, 7, 5, -5]), i([3, -3, -3, 3, 0, 0])).flat())).toEqual([
      2, -2, -1, 1, 0, 0,
    ]);
    const z = Array.from(mod(f([1, 0]), f([0, 0])).flat());
    expect(z[0]).toBeNaN();
    expect(z[1]).toBeNaN();
    expect(mod(fromNested([-1]), fromNested([3])).dtype).toBe("float32");
  });

  it("maximum and minimum propagate NaN; pow follows C special cases", () => {
    const a = fromNested([NaN, 1, 2, NaN], "float64");
    const b = fromNested([1, NaN, 1, NaN], "float64");
    expect(Array.from(maximum(a, b).flat()).map(Number.isNaN)).toEqual([true, true, false, true]);
    expect(Array.from(minimum(a, b).flat()).map(Number.isNaN)).toEqual([true, true, false, true]);
    const p = pow(
      fromNested([1, -1, -1, 2, NaN], "float64"),
      fromNested([NaN, Infinity, -Infinity, 0.5, 0], "float64"),
    );
    expect(Array.from(p.flat())).toEqual([1, 1, 1, Math.SQRT2, 1]);
  });

  it("pow of int32 with a negative exponent throws like NumPy", () => {
    const a = fromFlat(Int32Array.from([2, 3]), [2]);
    const b = fromFlat(Int32Array.from([1, -2]), [2]);
    expect(() => pow(a, b)).toThrow(
      /pow: integers to negative integer powers are not allowed \(got exponent -2\)/,
    );
    expect(Array.from(pow(cast(a, "float32"), b).flat())).toEqual([2, 1 / 9].map(Math.fround));
  });

  it("float32 results are rounded once from double", () => {
    const a = fromNested([1], "float32");
    const b = fromNested([3], "float64");
    expect(div(a, b).item()).toBe(1 / 3);
    const c = fromNested([16777216], "float32");
    expect(add(c, fromNested([1], "float32")).item()).toBe(16777216);
    expect(add(c, fromNested([1.5], "float32")).item()).toBe(16777218);
  });

  it("covers the walker's layouts: stride-0 views, size-1 views, mergeable dims", () => {
    // a [3, 4] view of a length-4 buffer with stride 0 on the first axis
    const base = fromNested([1, 2, 3, 4], "float64");
    const bc = base.view([3, 4], [0, 1], 0);
    const col = makeArray([3, 1], "float64", [10, 20, 30], { pad: 1 });
    expectArray(
      add(bc, col),
      naiveMap([bc, col], "float64", (x, y) => x + y),
      "float64",
    );
    // a size-1 array with a nonzero offset and odd strides
    const one = new NDArray(Float64Array.from([9, 9, 5]), [1, 1], [7, 3], 2);
    const m = makeArray([2, 3], "float64", [1, 2, 3, 4, 5, 6], stridedLayout([2, 3]));
    expectArray(
      mul(m, one),
      naiveMap([m, one], "float64", (x, y) => x * y),
      "float64",
    );
    // a slice view whose inner dims are contiguous but whose outer stride skips elements
    const big = fromFlat(
      Float64Array.from({ length: 24 }, (_, k) => k),
      [4, 6],
    );
    const sl = big.view([4, 2, 2], [6, 2, 1], 1);
    const other = makeArray([2, 2], "float64", [100, 200, 300, 400]);
    expectArray(
      sub(sl, other),
      naiveMap([sl, other], "float64", (x, y) => x - y),
      "float64",
    );
  });

  it("names the op and both shapes when shapes do not broadcast", () => {
    const a = fromNested([[1, 2, 3]]);
    const b = fromNested([[1, 2]]);
    expect(() => add(a, b)).toThrow(/add: shapes \[1, 3\] and \[1, 2\] cannot be broadcast/);
    expect(() => binary("atan2", a, b)).toThrow(/atan2: shapes \[1, 3\] and \[1, 2\]/);
    expect(() => mul(a, 3 as unknown as NDArray)).toThrow(
      /mul: b: expected an NDArray, got number/,
    );
    expect(() => binary("plus" as BinaryOp, a, a)).toThrow(/binary: op: unknown op "plus"/);
  });

  it("fast-check: add equals the naive reference and is commutative", () => {
    const dim = fc.integer({ min: 0, max: 4 });
    const caseArb = fc.array(dim, { minLength: 0, maxLength: 4 }).chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        keepA: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
        keepB: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
        dropA: fc.integer({ min: 0, max: shape.length }),
        dropB: fc.integer({ min: 0, max: shape.length }),
        stridedA: fc.boolean(),
        stridedB: fc.boolean(),
        dtypeA: fc.constantFrom<DType>(...DTYPES),
        dtypeB: fc.constantFrom<DType>(...DTYPES),
        seed: fc.integer({ min: 0, max: 1 << 30 }),
      }),
    );
    fc.assert(
      fc.property(caseArb, (c) => {
        const sa = c.shape.map((d, i) => (c.keepA[i] ? d : 1)).slice(c.dropA);
        const sb = c.shape.map((d, i) => (c.keepB[i] ? d : 1)).slice(c.dropB);
        const a = makeArray(
          sa,
          c.dtypeA,
          binaryValues(c.dtypeA, sizeOf(sa), c.seed, false),
          c.stridedA ? stridedLayout(sa) : {},
        );
        const b = makeArray(
          sb,
          c.dtypeB,
          binaryValues(c.dtypeB, sizeOf(sb), c.seed + 1, false),
          c.stridedB ? stridedLayout(sb) : {},
        );
        const outDtype = expectedBinaryDType("add", c.dtypeA, c.dtypeB);
        const ab = add(a, b);
        expectArray(ab, naiveMap([a, b], outDtype, binaryRef("add", outDtype)), outDtype);
        const ba = add(b, a);
        expect([...ba.shape]).toEqual([...ab.shape]);
        expect(Array.from(ba.flat())).toEqual(Array.from(ab.flat()));
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------
// Comparisons, logical ops, where, cast
// ---------------------------------------------------------------------------------------

const COMPARE_REF: Record<CompareOp, (a: number, b: number) => boolean> = {
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  less: (a, b) => a < b,
  lessEqual: (a, b) => a <= b,
  greater: (a, b) => a > b,
  greaterEqual: (a, b) => a >= b,
};

describe("comparisons and logical ops", () => {
  for (const op of COMPARE_OPS) {
    it(`${op} matches the reference with broadcasting, mixed dtypes, NaN and layouts`, () => {
      let seed = 100;
      for (const [sa, sb] of PAIRS) {
        for (const [da, db] of DTYPE_PAIRS) {
          const va = binaryValues(da, sizeOf(sa), seed++, false);
          const vb = binaryValues(db, sizeOf(sb), seed++, false);
          if (da === "float64" && va.length > 1) va[1] = NaN;
          const a = makeArray(sa, da, va, stridedLayout(sa));
          const b = makeArray(sb, db, vb);
          const ref = (x: number, y: number) => (COMPARE_REF[op](x, y) ? 1 : 0);
          expectArray(compare(op, a, b), naiveMap([a, b], "bool", ref), "bool");
        }
      }
    });
  }

  it("named functions and aliases agree with compare", () => {
    const a = fromNested([1, 2, 3, NaN], "float64");
    const b = fromNested([2, 2, 2, NaN], "float64");
    const named = { equal, notEqual, less, lessEqual, greater, greaterEqual };
    for (const op of COMPARE_OPS) {
      expect(named[op](a, b).toArray()).toEqual(compare(op, a, b).toArray());
    }
    expect(eq(a, b).toArray()).toEqual([false, true, false, false]);
    expect(ne(a, b).toArray()).toEqual([true, false, true, true]);
    expect(lt(a, b).toArray()).toEqual([true, false, false, false]);
    expect(le(a, b).toArray()).toEqual([true, true, false, false]);
    expect(gt(a, b).toArray()).toEqual([false, false, true, false]);
    expect(ge(a, b).toArray()).toEqual([false, true, true, false]);
    expect(() => compare("same" as CompareOp, a, b)).toThrow(/compare: op: unknown op "same"/);
    expect(() => less(a, fromNested([1, 2]))).toThrow(/less: shapes \[4\] and \[2\]/);
  });

  it("logicalAnd/Or/Not treat nonzero (and NaN) as true, any dtype, broadcasting", () => {
    const a = makeArray([3, 1], "float64", [0, NaN, -2], stridedLayout([3, 1]));
    const b = makeArray([4], "int32", [0, 1, 5, 0]);
    const truth = (v: number) => v !== 0;
    expectArray(
      logicalAnd(a, b),
      naiveMap([a, b], "bool", (x, y) => (truth(x) && truth(y) ? 1 : 0)),
      "bool",
    );
    expectArray(
      logicalOr(a, b),
      naiveMap([a, b], "bool", (x, y) => (truth(x) || truth(y) ? 1 : 0)),
      "bool",
    );
    expectArray(
      logicalNot(a),
      naiveMap([a], "bool", (x) => (truth(x) ? 0 : 1)),
      "bool",
    );
    expect(logicalNot(fromNested([true, false])).toArray()).toEqual([false, true]);
    expect(() =>
      logicalAnd(
        a,
        fromNested([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toThrow(/logicalAnd: shapes \[3, 1\] and \[2, 2\]/);
    expect(() => logicalNot(null as unknown as NDArray)).toThrow(
      /logicalNot: x: expected an NDArray, got null/,
    );
  });
});

describe("where", () => {
  it("broadcasts all three operands and promotes a with b", () => {
    const cond = makeArray([3, 1], "float32", [0, NaN, 2], stridedLayout([3, 1]));
    const a = makeArray([1, 4], "int32", [1, 2, 3, 4]);
    const b = makeArray([], "float32", [0.5]);
    const y = where(cond, a, b);
    expectArray(
      y,
      naiveMap([cond, a, b], "float32", (c, x, z) => (c !== 0 ? x : z)),
      "float32",
    );
    expect(y.toArray()).toEqual([
      [0.5, 0.5, 0.5, 0.5],
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ]);
    const z = where(
      fromNested([true, false]),
      fromNested([true, true]),
      fromNested([false, false]),
    );
    expect(z.dtype).toBe("bool");
    expect(z.toArray()).toEqual([true, false]);
    const empty = where(
      makeArray([0, 2], "bool", []),
      fromNested([1, 2], "float64"),
      fromNested(0),
    );
    expect(empty.shape).toEqual([0, 2]);
    expect(empty.dtype).toBe("float64");
  });

  it("matches the reference for strided operands of all ranks", () => {
    const shapes: [number[], number[], number[]][] = [
      [[2, 3, 4], [4], [3, 1]],
      [[], [2, 2], [1]],
      [
        [4, 1],
        [1, 5],
        [4, 5],
      ],
    ];
    let seed = 5;
    for (const [sc, sa, sb] of shapes) {
      const c = makeArray(
        sc,
        "int32",
        binaryValues("bool", sizeOf(sc), seed++, false),
        stridedLayout(sc),
      );
      const a = makeArray(
        sa,
        "float64",
        binaryValues("float64", sizeOf(sa), seed++, false),
        stridedLayout(sa),
      );
      const b = makeArray(sb, "float32", binaryValues("float32", sizeOf(sb), seed++, false));
      expectArray(
        where(c, a, b),
        naiveMap([c, a, b], "float64", (x, y, z) => (x ? y : z)),
        "float64",
      );
    }
  });

  it("names the three shapes when they do not broadcast", () => {
    expect(() => where(fromNested([1, 0, 1]), fromNested([1, 2]), fromNested(0))).toThrow(
      /where: shapes cond \[3\], a \[2\] and b \[\] cannot be broadcast together/,
    );
    expect(() => where(fromNested([1]), "a" as unknown as NDArray, fromNested(0))).toThrow(
      /where: a: expected an NDArray, got string/,
    );
  });
});

describe("cast", () => {
  it("truncates toward zero to int32 and reads strided inputs", () => {
    const x = makeArray(
      [2, 3],
      "float64",
      [1.7, -1.7, 0.5, -0.5, 2147483647.9, -2147483648.9],
      stridedLayout([2, 3]),
    );
    const y = cast(x, "int32");
    expectArray(y, naiveMap([x], "int32", Math.trunc), "int32");
    expect(y.toArray()).toEqual([
      [1, -1, 0],
      [0, 2147483647, -2147483648],
    ]);
  });

  it("casts to bool (nonzero and NaN are true) and between floats", () => {
    expect(cast(fromNested([0, -0, NaN, 0.1, -3], "float64"), "bool").toArray()).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    expect(cast(fromNested([0.1], "float64"), "float32").item()).toBe(Math.fround(0.1));
    expect(cast(fromNested([true, false]), "float64").toArray()).toEqual([1, 0]);
    expect(cast(fromFlat(Int32Array.from([-3, 7]), [2]), "float32").toArray()).toEqual([-3, 7]);
    const e = cast(makeArray([0], "float32", []), "int32");
    expect(e.shape).toEqual([0]);
    expect(e.dtype).toBe("int32");
  });

  it("returns the input itself for the same dtype", () => {
    const x = fromNested([1, 2]);
    expect(cast(x, "float32")).toBe(x);
  });

  it("throws a RangeError naming the value and its flat index", () => {
    const f = (v: number[]) => fromNested(v, "float64");
    expect(() => cast(f([1, 2, 3, NaN]), "int32")).toThrow(
      /cast: cannot cast NaN at index 3 to int32/,
    );
    expect(() => cast(f([Infinity]), "int32")).toThrow(/cannot cast Infinity at index 0 to int32/);
    expect(() => cast(f([0, -Infinity]), "int32")).toThrow(/cannot cast -Infinity at index 1/);
    expect(() => cast(f([0, 0, 3e9]), "int32")).toThrow(
      /cannot cast 3000000000 at index 2 to int32 \(outside the int32 range/,
    );
    expect(() => cast(f([0, 0, 3e9]), "int32")).toThrow(RangeError);
    // the index is the row-major index of the (strided) input
    const s = makeArray([2, 2], "float64", [0, 1, NaN, 3], stridedLayout([2, 2]));
    expect(() => cast(s, "int32")).toThrow(/NaN at index 2/);
  });

  it("validates its arguments", () => {
    expect(() => cast(fromNested([1]), "int64" as DType)).toThrow(/dtype: unknown dtype "int64"/);
    expect(() => cast({} as NDArray, "int32")).toThrow(
      /cast: x: expected an NDArray, got an instance of Object/,
    );
  });

  it("does not share storage with its input", () => {
    const x = fromNested([1, 2], "float64");
    const y = cast(x, "float32");
    expect(y.data).not.toBe(x.data);
    expect(greater(x, fromNested(1.5)).data).not.toBe(x.data);
  });
});
