// The WebAssembly SIMD elementwise and reduction kernels (elementwise_wasm.ts):
// - arithmetic, sqrt/rsqrt/abs/neg and the sum/max/min reductions are bitwise identical
//   to the JavaScript kernels (the path switched off), on sizes that are not multiples of
//   the vector width or the chunk, on offset views, with NaN, ±0 and ±∞ in the data;
// - the transcendentals stay within their ULP bounds of independent references over
//   their whole range: log-uniform samples across every exponent of both signs, a dense
//   band around the interesting region and the special values; the maxima are printed;
// - the dtype rules are the same on both paths, and the switch restores the JS results.
import { describe, expect, it } from "vitest";
import * as K from "../src/tensor/index.js";
import { NDArray, erfScalar } from "../src/tensor/index.js";
import {
  WASM_BINARY_OPS,
  WASM_MIN_SIZE,
  WASM_UNARY_OPS,
  setWasmElementwiseEnabled,
  wasmElementwiseAvailable,
  wasmElementwiseChunk,
  wasmUnary,
  type WasmFloat,
  type WasmUnaryOp,
} from "../src/tensor/kernels/elementwise_wasm.js";
import { mulberry32 } from "./tensor/reference.js";
import { erfRef, expm1Ref, expRef, log1pRef, logRef, sigmoidRef, tanhRef } from "./tensor/exact.js";

function withWasm<T>(on: boolean, fn: () => T): T {
  const prev = setWasmElementwiseEnabled(on);
  try {
    return fn();
  } finally {
    setWasmElementwiseEnabled(prev);
  }
}

/** Deterministic uniform [0, 1) generator (mulberry32). */
const rng = mulberry32;

const CHUNK = wasmElementwiseChunk();
/** Sizes around the vector widths, the unrolling and the chunk. */
const SIZES = [1, 2, 3, 4, 5, 7, 9, 17, 33, 100, CHUNK - 1, CHUNK, CHUNK + 3, 2 * CHUNK + 9];
const FLOATS: readonly WasmFloat[] = ["float32", "float64"];

/** Values with the edge cases every kernel must carry through. */
function values(n: number, seed: number, dtype: WasmFloat): Float32Array | Float64Array {
  const r = rng(seed);
  const special = [0, -0, NaN, Infinity, -Infinity, 1, -1, 5e-324, -2.5e-300, 1e300];
  const out = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = r() < 0.05 ? special[Math.floor(r() * special.length)]! : (r() - 0.5) * 20;
  }
  return out;
}

/** An NDArray of `shape` over `data` starting at element `offset` (a contiguous view). */
function view(data: Float32Array | Float64Array, shape: number[], offset = 0): NDArray {
  return new NDArray(data, shape, undefined, offset);
}

const same = (a: number, b: number): boolean => Object.is(a, b) || (a !== a && b !== b);

function expectBitwise(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!same(got[i]!, want[i]!)) {
      expect.fail(`${what}: element ${i}: got ${got[i]}, JS kernel ${want[i]}`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// ULP distance: integer distance between the ordered bit patterns.

const u32 = new Uint32Array(2);
const f64v = new Float64Array(u32.buffer);
const f32v = new Float32Array(u32.buffer);

/** A float64 as sign·(hi·2^32 + lo) of its bits, in two parts that subtract exactly. */
function ordered64(v: number): [number, number] {
  f64v[0] = v;
  const hi = u32[1]!;
  const lo = u32[0]!;
  return hi >>> 31 ? [-(hi & 0x7fffffff), -lo] : [hi, lo];
}

function ulps64(a: number, b: number): number {
  if (a !== a || b !== b) return a !== a && b !== b ? 0 : Infinity;
  if (a === b) return Object.is(a, b) ? 0 : Infinity; // a signed-zero mismatch counts as wrong
  const [ah, al] = ordered64(a);
  const [bh, bl] = ordered64(b);
  return Math.abs((ah - bh) * 4294967296 + (al - bl));
}

function ulps32(a: number, b: number): number {
  if (a !== a || b !== b) return a !== a && b !== b ? 0 : Infinity;
  if (a === b) return Object.is(a, b) ? 0 : Infinity;
  f32v[0] = a;
  const ia = u32[0]!;
  f32v[0] = b;
  const ib = u32[0]!;
  const oa = ia >>> 31 ? -(ia & 0x7fffffff) : ia;
  const ob = ib >>> 31 ? -(ib & 0x7fffffff) : ib;
  return Math.abs(oa - ob);
}

// ---------------------------------------------------------------------------------------
// References: the exactly rounded ones of ./tensor/exact.ts for float64; float32 bounds
// against the float64 functions rounded to float32.

/** The JS kernel's sigmoid formula (the float64 "Math" reference of sigmoid). */
function sigmoidJs(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Exactly rounded float64 references. */
const EXACT: Record<WasmUnaryOp, (x: number) => number> = {
  exp: expRef,
  log: logRef,
  log1p: log1pRef,
  expm1: expm1Ref,
  tanh: tanhRef,
  sigmoid: sigmoidRef,
  erf: erfRef,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  abs: Math.abs,
  neg: (x) => -x,
};

/** The float64 functions of the JS kernels (Math.* where there is one). */
const REF: Record<WasmUnaryOp, (x: number) => number> = {
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  tanh: Math.tanh,
  sigmoid: sigmoidJs,
  erf: erfScalar,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  abs: Math.abs,
  neg: (x) => -x,
};
const TRANSCENDENTAL: readonly WasmUnaryOp[] = [
  "exp",
  "log",
  "log1p",
  "expm1",
  "tanh",
  "sigmoid",
  "erf",
];
/** Bounds: float32 within 1 ULP of the float64 function rounded, float64 within 2 ULP. */
const BOUND = { float32: 1, float64: 2 };
/** float64 bounds against Math.*: the target 2, plus Math.tanh's and the sigmoid
 * formula's own errors (up to ~2 ULP measured); erf is only checked exactly. */
const MATH_BOUND: Partial<Record<WasmUnaryOp, number>> = {
  exp: 2,
  log: 2,
  log1p: 2,
  expm1: 2,
  tanh: 3,
  sigmoid: 3,
};

/** Special inputs: signed zeros, infinities, NaN, subnormals, extremes and the
 * overflow/underflow thresholds of exp in both precisions. */
const SPECIAL = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  -2.2250738585072014e-308,
  1.7976931348623157e308,
  -1.7976931348623157e308,
  709.782712893384, // largest x with finite e^x
  709.7827128933841,
  -745.1332191019411, // e^x rounds to the smallest subnormal
  -745.1332191019412,
  -708.3964185322641, // e^x at the smallest normal
  -37.42994775023705,
  1.401298464324817e-45,
  -1.401298464324817e-45,
  1.1754943508222875e-38,
  3.4028234663852886e38,
  88.72283172607422, // float32 overflow threshold of e^x
  88.72284,
  -103.97208404541016, // float32 underflow to 0
  -87.33654,
  -1,
  -1 + 2 ** -53,
  1,
  0.5,
  -0.5,
  0.4,
  0.39999999999999997,
  6,
  -6,
  5.9,
  0.25,
  0.24999999999999997,
  20,
  -20,
  22,
  10,
  710,
  -746,
  1e-300,
  -1e-300,
];

/** Log-uniform magnitudes 2^lo … 2^hi (every exponent), random signs; plus a dense band. */
function rangeSamples(n: number, seed: number, lo: number, hi: number): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const band = i % 2 === 1;
    const e = band ? -12 + 16 * r() : lo + (hi - lo) * r();
    const m = 2 ** Math.floor(e) * (1 + r());
    out[i] = r() < 0.5 ? -m : m;
  }
  return out;
}

/** Max ULP error of the kernel `op` over `xs` against `ref`, in `dtype`. */
function maxUlps(
  op: WasmUnaryOp,
  dtype: WasmFloat,
  xs: Float64Array,
  ref: (x: number) => number,
): { ulps: number; x: number; got: number; want: number } {
  const f32 = dtype === "float32";
  const src = f32 ? Float32Array.from(xs) : xs;
  const out = f32 ? new Float32Array(src.length) : new Float64Array(src.length);
  wasmUnary(op, dtype, src, 0, out, 0, src.length);
  let worst = { ulps: 0, x: 0, got: 0, want: 0 };
  for (let i = 0; i < src.length; i++) {
    const x = src[i]!;
    const want = f32 ? Math.fround(ref(x)) : ref(x);
    const u = f32 ? ulps32(out[i]!, want) : ulps64(out[i]!, want);
    if (u > worst.ulps) worst = { ulps: u, x, got: out[i]!, want };
  }
  return worst;
}

// ---------------------------------------------------------------------------------------

describe("WebAssembly elementwise kernels", () => {
  it("are available in Node (SIMD) with a chunk that is a multiple of 4", () => {
    expect(wasmElementwiseAvailable()).toBe(true);
    expect(CHUNK).toBeGreaterThanOrEqual(1024);
    expect(CHUNK % 4).toBe(0);
  });

  describe("transcendentals: ULP accuracy over the whole range", () => {
    const report: string[] = [];
    const check = (
      what: string,
      op: WasmUnaryOp,
      dtype: WasmFloat,
      xs: Float64Array,
      ref: (x: number) => number,
      bound: number,
    ) => {
      const w = maxUlps(op, dtype, xs, ref);
      report.push(
        `${op} ${dtype} vs ${what}: max ${w.ulps} ULP (at x = ${w.x}; ${xs.length} samples)`,
      );
      if (w.ulps > bound) {
        expect.fail(
          `${op} ${dtype} vs ${what}: ${w.ulps} ULP at x = ${w.x}: got ${w.got}, want ${w.want}`,
        );
      }
    };
    for (const op of TRANSCENDENTAL) {
      it(`${op} float32: ≤ 1 ULP from the float64 function rounded`, () => {
        const xs = Float64Array.from([...rangeSamples(200_000, 21, -149, 128), ...SPECIAL]);
        check("Math.*", op, "float32", xs, REF[op], BOUND.float32);
        check("exact", op, "float32", xs.subarray(0, 6000), EXACT[op], BOUND.float32);
      });
      it(`${op} float64: ≤ 2 ULP from the exactly rounded value`, () => {
        const exactXs = Float64Array.from([
          ...rangeSamples(op === "erf" ? 3000 : 20_000, 31, -1074, 1024),
          ...(op === "erf"
            ? Array.from({ length: 3000 }, (_, i) => -6.5 + (13 * (i + 0.5)) / 3000)
            : []),
          ...SPECIAL,
        ]);
        check("exact", op, "float64", exactXs, EXACT[op], BOUND.float64);
        const bound = MATH_BOUND[op];
        if (bound !== undefined) {
          const xs = Float64Array.from([...rangeSamples(200_000, 41, -1074, 1024), ...SPECIAL]);
          check("Math.*", op, "float64", xs, REF[op], bound);
        }
      });
    }
    it("reports the measured maxima", () => {
      console.log(`WebAssembly transcendentals, max ULP error:\n  ${report.join("\n  ")}`);
      expect(report.length).toBeGreaterThanOrEqual(TRANSCENDENTAL.length * 3);
    });
  });

  it("special values come out exactly", () => {
    const cases: [WasmUnaryOp, number, number][] = [
      ["exp", 0, 1],
      ["exp", -0, 1],
      ["exp", Infinity, Infinity],
      ["exp", -Infinity, 0],
      ["exp", 709.782712893384, 1.7976931348622732e308],
      ["exp", 709.7827128933841, Infinity],
      ["exp", -745.1332191019411, 5e-324],
      ["exp", -745.1332191019412, 0],
      ["log", 0, -Infinity],
      ["log", -0, -Infinity],
      ["log", -1e-300, NaN],
      ["log", Infinity, Infinity],
      ["log", 1, 0],
      ["log", 5e-324, -744.4400719213812],
      ["log1p", -1, -Infinity],
      ["log1p", -0, -0],
      ["log1p", 5e-324, 5e-324],
      ["log1p", -2, NaN],
      ["log1p", Infinity, Infinity],
      ["expm1", -0, -0],
      ["expm1", 5e-324, 5e-324],
      ["expm1", -Infinity, -1],
      ["expm1", Infinity, Infinity],
      ["expm1", 710, Infinity],
      ["tanh", -0, -0],
      ["tanh", Infinity, 1],
      ["tanh", -Infinity, -1],
      ["tanh", 1e-300, 1e-300],
      ["tanh", -30, -1],
      ["sigmoid", 0, 0.5],
      ["sigmoid", -0, 0.5],
      ["sigmoid", Infinity, 1],
      ["sigmoid", -Infinity, 0],
      ["sigmoid", 40, 1],
      ["sigmoid", -800, 0],
      ["erf", -0, -0],
      ["erf", Infinity, 1],
      ["erf", -Infinity, -1],
      ["erf", 6, 1],
      ["erf", 5e-324, 5e-324],
    ];
    for (const dtype of FLOATS) {
      for (const [op, x, want] of cases) {
        const src = dtype === "float32" ? new Float32Array([x]) : new Float64Array([x]);
        const out = dtype === "float32" ? new Float32Array(1) : new Float64Array(1);
        wasmUnary(op, dtype, src, 0, out, 0, 1);
        const w = dtype === "float32" ? Math.fround(REF[op](src[0]!)) : want;
        if (!same(out[0]!, w)) expect.fail(`${op}(${x}) ${dtype}: got ${out[0]}, want ${w}`);
      }
      for (const op of WASM_UNARY_OPS) {
        const src = dtype === "float32" ? new Float32Array([NaN]) : new Float64Array([NaN]);
        const out = dtype === "float32" ? new Float32Array(1) : new Float64Array(1);
        wasmUnary(op, dtype, src, 0, out, 0, 1);
        expect(out[0], `${op}(NaN) ${dtype}`).toBeNaN();
      }
    }
  });

  it("sqrt, rsqrt, abs, neg are bitwise identical to the JS kernels", () => {
    for (const op of ["sqrt", "rsqrt", "abs", "neg"] as const) {
      for (const dtype of FLOATS) {
        for (const n of SIZES) {
          const data = values(n + 3, n, dtype);
          const x = view(data, [n], 3);
          const js = withWasm(false, () => K.unary(op, x));
          const out = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
          wasmUnary(op, dtype, data, 3, out, 0, n);
          expectBitwise(out, js.flat(), `${op} ${dtype} n=${n}`);
          const w = withWasm(true, () => K.unary(op, x));
          expectBitwise(w.flat(), js.flat(), `${op} ${dtype} n=${n} (unary)`);
        }
      }
    }
  });

  it("unary ops through K.unary: dtype rules, offsets and fallback", () => {
    for (const op of WASM_UNARY_OPS) {
      for (const dtype of FLOATS) {
        const n = 3000;
        const data = values(n + 5, 1, dtype);
        const x = view(data, [30, 100], 5);
        const w = withWasm(true, () => K.unary(op, x));
        const j = withWasm(false, () => K.unary(op, x));
        expect(w.dtype).toBe(dtype);
        expect(w.shape).toEqual([30, 100]);
        const f32 = dtype === "float32";
        const flat = w.flat();
        const ref = j.flat();
        for (let i = 0; i < n; i++) {
          const u = f32 ? ulps32(flat[i]!, ref[i]!) : ulps64(flat[i]!, ref[i]!);
          // erf: the JS series itself is off by up to ~8 ULP in float64
          const bound = op === "erf" && !f32 ? 16 : BOUND[dtype] + 1;
          if (u > bound) expect.fail(`${op} ${dtype} at ${i}: wasm ${flat[i]}, JS ${ref[i]}`);
        }
        // switched off: exactly the JS scalar functions
        const x0 = data[5]!;
        const want = REF[op](x0);
        expect(same(ref[0]!, f32 ? Math.fround(want) : want)).toBe(true);
      }
    }
    // int32 input: float32 output through the JS loop, unchanged
    const xi = K.fromFlat(
      Int32Array.from({ length: 1000 }, (_, i) => i - 500),
      [1000],
    );
    expect(K.exp(xi).dtype).toBe("float32");
    expect(K.neg(xi).dtype).toBe("int32");
    expect(K.neg(xi).get(0)).toBe(500);
  });

  describe("binary ops are bitwise identical to the JS kernels", () => {
    for (const op of WASM_BINARY_OPS) {
      it(op, () => {
        for (const dtype of FLOATS) {
          for (const n of SIZES) {
            const a = view(values(n + 1, 2 * n, dtype), [n], 1);
            const b = view(values(n + 2, 2 * n + 1, dtype), [n], 2);
            const s = K.fromNested(dtype === "float32" ? Math.fround(-1.37) : -1.37, dtype);
            for (const [x, y, what] of [
              [a, b, "vv"],
              [s, b, "sv"],
              [a, s, "vs"],
            ] as const) {
              const j = withWasm(false, () => K.binary(op, x, y));
              const w = withWasm(true, () => K.binary(op, x, y));
              expect(w.dtype).toBe(j.dtype);
              expectBitwise(w.flat(), j.flat(), `${op} ${dtype} ${what} n=${n}`);
            }
          }
        }
      });
    }

    it("every pair of special values (signed zeros, NaN, infinities, extremes)", () => {
      const special = [0, -0, NaN, Infinity, -Infinity, 1, -1, 5e-324, 3.4e38, -1e-45, 2.5];
      const k = special.length;
      for (const dtype of FLOATS) {
        const reps = Math.ceil(4096 / (k * k));
        const n = k * k * reps;
        const A = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
        const B = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
        for (let i = 0; i < n; i++) {
          A[i] = special[Math.floor(i / k) % k]!;
          B[i] = special[i % k]!;
        }
        for (const op of WASM_BINARY_OPS) {
          const x = view(A, [n]);
          const y = view(B, [n]);
          const j = withWasm(false, () => K.binary(op, x, y));
          const w = withWasm(true, () => K.binary(op, x, y));
          expectBitwise(w.flat(), j.flat(), `${op} ${dtype} special pairs`);
          for (const v of special) {
            const sv = K.fromNested(v, dtype);
            for (const [p, q] of [
              [sv, y],
              [x, sv],
            ] as const) {
              const js = withWasm(false, () => K.binary(op, p, q));
              const ws = withWasm(true, () => K.binary(op, p, q));
              expectBitwise(ws.flat(), js.flat(), `${op} ${dtype} scalar ${v}`);
            }
          }
        }
      }
    });

    it("row broadcasting, both orders, rows shorter and longer than the chunk", () => {
      for (const dtype of FLOATS) {
        for (const [m, n] of [
          [700, 3],
          [64, 33],
          [3, 1000],
          [2, CHUNK + 5],
          [1000, 1],
        ] as const) {
          const M = view(values(m * n + 4, m + n, dtype), [m, n], 4);
          const v = view(values(n + 1, n, dtype), [n], 1);
          const v2 = view(values(n + 1, n + 7, dtype), [1, 1, n], 1);
          const M3 = view(M.data as Float64Array, [1, m, n], 4);
          for (const op of WASM_BINARY_OPS) {
            for (const [x, y] of [
              [M, v],
              [v, M],
              [M3, v2],
              [v2, M],
            ] as const) {
              const j = withWasm(false, () => K.binary(op, x, y));
              const w = withWasm(true, () => K.binary(op, x, y));
              expect(w.shape).toEqual(j.shape);
              expectBitwise(w.flat(), j.flat(), `${op} ${dtype} [${x.shape}] ⊕ [${y.shape}]`);
            }
          }
        }
      }
    });

    it("broadcast views (zero strides) of a scalar or a row take the same values as the JS loops", () => {
      for (const dtype of FLOATS) {
        const [m, n] = [300, 70];
        const M = view(values(m * n + 2, 11, dtype), [m, n], 2);
        const row = view(values(n + 3, 5, dtype), [n], 3);
        const one = view(values(2, 9, dtype), [], 1);
        const rowB = K.broadcastTo(row, [m, n]); // strides [0, 1]
        const oneB = K.broadcastTo(one, [m, n]); // strides [0, 0]
        const rowB3 = K.broadcastTo(K.reshape(row, [1, n]), [2, m, n]);
        const M3 = K.broadcastTo(M, [2, m, n]);
        for (const op of WASM_BINARY_OPS) {
          for (const [x, y] of [
            [M, rowB],
            [rowB, M],
            [oneB, M],
            [M, oneB],
            [K.flip(M, [1]), oneB], // a strided operand stays on the JS loops
            [M3.toContiguous(), rowB3],
          ] as const) {
            const j = withWasm(false, () => K.binary(op, x, y));
            const w = withWasm(true, () => K.binary(op, x, y));
            expect(w.shape).toEqual(j.shape);
            expectBitwise(w.flat(), j.flat(), `${op} ${dtype} [${x.strides}] ⊕ [${y.strides}]`);
          }
        }
      }
    });

    it("mixed dtypes keep the promotion rules and stay exact", () => {
      const n = 5000;
      const a32 = view(values(n, 3, "float32"), [n]);
      const a64 = view(values(n, 4, "float64"), [n]);
      const bools = K.fromFlat(
        Uint8Array.from({ length: n }, (_, i) => (i % 3) & 1),
        [n],
      );
      const ints = K.fromFlat(
        Int32Array.from({ length: n }, (_, i) => (i * 7919) % 40000000),
        [n],
      );
      const big = K.fromNested(16777217, "int32"); // not a float32
      const cases: [NDArray, NDArray][] = [
        [a32, a64],
        [a64, a32],
        [a32, bools],
        [ints, a64],
        [a32, ints],
        [a32, big],
        [K.fromNested(3, "int32"), a32],
        [K.fromNested(true), a64],
      ];
      for (const op of WASM_BINARY_OPS) {
        for (const [x, y] of cases) {
          const j = withWasm(false, () => K.binary(op, x, y));
          const w = withWasm(true, () => K.binary(op, x, y));
          expect(w.dtype).toBe(j.dtype);
          expectBitwise(
            w.flat(),
            j.flat(),
            `${op} ${x.dtype}[${x.shape}] ⊕ ${y.dtype}[${y.shape}]`,
          );
        }
      }
    });
  });

  describe("reductions are bitwise identical to the JS kernels", () => {
    /** [shape, axis] cases: rows, columns (row accumulation and the strided pairs), long
     * rows across chunks, a 3-d slab and a full reduction. */
    const cases: [number[], number | number[] | undefined][] = [
      [[300, 37], 1],
      [[5, 2 * CHUNK + 9], 1],
      [[1, 3 * CHUNK + 2], -1],
      [[3 * CHUNK + 1], undefined],
      [[2000, 7], 1],
      [[700, 33], 0],
      [[2001, 5], 0],
      [[4000, 3], 0],
      [[CHUNK + 3, 2], 0],
      [[3, CHUNK + 7], 0],
      [[2, 2 * CHUNK + 3], 0],
      [[4, 300, 20], 1],
      [[4, 301, 6], 1],
      [
        [60, 70],
        [0, 1],
      ],
    ];
    for (const kind of ["sum", "max", "min"] as const) {
      it(kind, () => {
        for (const dtype of FLOATS) {
          for (const [shape, axis] of cases) {
            const size = shape.reduce((p, q) => p * q, 1);
            const data = values(size + 2, size, dtype);
            const x = view(data, shape, 2);
            const j = withWasm(false, () => K.reduce(kind, x, axis));
            const w = withWasm(true, () => K.reduce(kind, x, axis));
            expect(w.dtype).toBe(dtype);
            expect(w.shape).toEqual(j.shape);
            expectBitwise(w.flat(), j.flat(), `${kind} ${dtype} [${shape}] axis ${axis}`);
          }
        }
      });
    }

    it("max/min keep the sign of the first zero and propagate NaN", () => {
      for (const dtype of FLOATS) {
        const n = 4 * CHUNK + 3;
        const make = (fill: (i: number) => number) => {
          const d = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
          for (let i = 0; i < n; i++) d[i] = fill(i);
          return view(d, [n]);
        };
        const rows = [
          make((i) => (i === 5 ? -0 : i === 9 ? 0 : -1 - i)), // max is a zero: -0 comes first
          make((i) => (i === 5 ? 0 : i === 9 ? -0 : 1 + i)), // min is a zero: +0 first
          make((i) => (i === n - 1 ? NaN : i)),
          make(() => -Infinity),
          make((i) => (i % 2 ? -0 : 0)),
        ];
        for (const x of rows) {
          for (const kind of ["max", "min", "sum"] as const) {
            const j = withWasm(false, () => K.reduce(kind, x));
            const w = withWasm(true, () => K.reduce(kind, x));
            expectBitwise(w.flat(), j.flat(), `${kind} ${dtype}`);
            const cols = K.reshape(x, [n, 1]);
            const j2 = withWasm(false, () => K.reduce(kind, K.broadcastTo(cols, [n, 20]), 0));
            const w2 = withWasm(true, () => K.reduce(kind, K.broadcastTo(cols, [n, 20]), 0));
            expectBitwise(w2.flat(), j2.flat(), `${kind} ${dtype} (broadcast view)`);
          }
        }
      }
    });
  });

  it("switching off restores the JS kernels everywhere and reports the previous state", () => {
    expect(setWasmElementwiseEnabled(false)).toBe(true);
    expect(wasmElementwiseAvailable()).toBe(false);
    const x = view(values(5000, 9, "float64"), [5000]);
    const e = K.exp(x).flat();
    for (let i = 0; i < 5000; i++) expect(same(e[i]!, Math.exp(x.data[i]!))).toBe(true);
    expect(setWasmElementwiseEnabled(true)).toBe(false);
    expect(wasmElementwiseAvailable()).toBe(true);
  });

  it("thresholds are positive sizes for every kernel op", () => {
    for (const op of WASM_UNARY_OPS) expect(WASM_MIN_SIZE.unary[op]).toBeGreaterThan(0);
    for (const op of WASM_BINARY_OPS) expect(WASM_MIN_SIZE.binary[op]).toBeGreaterThan(0);
    expect(WASM_MIN_SIZE.reduce).toBeGreaterThan(0);
  });
});
