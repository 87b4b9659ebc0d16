/**
 * Elementwise kernels of the tensor layer: unary math,
 * binary arithmetic with NumPy broadcasting, comparisons, logical ops, `where` and
 * `cast`. One internal walker (`forEachRow`) owns broadcasting and the strided odometer
 * for every kernel here; each op supplies a tight row loop chosen once per call by a
 * `switch`, so the per-element work has no callbacks. Contiguous same-size and scalar
 * operands take a single-row fast path, and the general path merges dimensions that are
 * contiguous in every operand before walking the rest.
 *
 * Large contiguous float32/float64 operands take the WebAssembly SIMD kernels of
 * elementwise_wasm.ts instead (unary math; binary arithmetic on same-shape, scalar and
 * row-broadcast operands), above per-op sizes measured on the benchmark; the loops here
 * stay the fallback and the reference. Results keep the dtype rules; the arithmetic ops
 * are bitwise identical on both paths, the transcendentals within the ULP bounds stated
 * in elementwise_wasm.ts.
 */
import {
  allocateUninit,
  checkDType,
  promoteTypes,
  toFloat,
  type DataArray,
  type DType,
} from "../dtype.js";
import {
  broadcastAll,
  broadcastShapes,
  broadcastStrides,
  formatShape,
  sizeOf,
  type Shape,
} from "../shape.js";
import { NDArray } from "../ndarray.js";
import {
  WASM_MIN_SIZE,
  wasmBinary,
  wasmBinaryRow,
  wasmBinaryScalar,
  wasmElementwiseAvailable,
  wasmUnary,
  type FloatArray,
  type WasmBinaryOp,
  type WasmUnaryOp,
} from "./elementwise_wasm.js";

// ---------------------------------------------------------------------------------------
// Shared machinery: argument checks and the broadcasting row walker.
// ---------------------------------------------------------------------------------------

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "object") {
    const name = (x as { constructor?: { name?: string } }).constructor?.name;
    return name ? `an instance of ${name}` : "an object";
  }
  return typeof x;
}

/** Checks that `x` is an NDArray; the error names the op and the argument. */
function checkArray(x: unknown, argName: string, opName: string): NDArray {
  if (!(x instanceof NDArray)) {
    throw new TypeError(`${opName}: ${argName}: expected an NDArray, got ${describe(x)}`);
  }
  return x;
}

function checkOp<T extends string>(op: unknown, ops: readonly T[], fnName: string): T {
  if (typeof op !== "string" || !(ops as readonly string[]).includes(op)) {
    throw new TypeError(
      `${fnName}: op: unknown op ${JSON.stringify(op)}; expected one of ${ops.join(", ")}`,
    );
  }
  return op as T;
}

/**
 * Processes one output row: elements `o .. o+n-1` of the (contiguous) output, reading
 * operand k from `p_k` with step `s_k`. Unused operands get 0, 0.
 */
type RowKernel = (
  o: number,
  n: number,
  p0: number,
  s0: number,
  p1: number,
  s1: number,
  p2: number,
  s2: number,
) => void;

/**
 * Walks a row-major output of `outShape` over up to three operands that broadcast to
 * it, calling `row` once per innermost row (once in total on the fast paths).
 */
function forEachRow(
  outShape: Shape,
  operands: readonly NDArray[],
  row: RowKernel,
  opName: string,
): void {
  const size = sizeOf(outShape);
  if (size === 0) return;
  const k = operands.length;
  const ptr = [0, 0, 0];
  const step = [0, 0, 0];

  // Fast path: every operand is either a single element (step 0) or contiguous with
  // the output's size (then its row-major order is the output's, step 1).
  let fast = true;
  for (let i = 0; i < k; i++) {
    const x = operands[i]!;
    ptr[i] = x.offset;
    if (x.size === 1) step[i] = 0;
    else if (x.contiguous && x.size === size) step[i] = 1;
    else fast = false;
  }
  if (fast) {
    row(0, size, ptr[0]!, step[0]!, ptr[1]!, step[1]!, ptr[2]!, step[2]!);
    return;
  }

  // General path: broadcast strides, drop size-1 dims, merge dims that are contiguous
  // in every operand (outer stride = inner stride * inner size).
  const bs = operands.map((x) => broadcastStrides(x.shape, x.strides, outShape, opName));
  const dims: number[] = [];
  const st: number[][] = [[], [], []];
  for (let d = 0; d < outShape.length; d++) {
    const n = outShape[d]!;
    if (n === 1) continue;
    const last = dims.length - 1;
    let merge = last >= 0;
    for (let i = 0; i < k && merge; i++) {
      if (st[i]![last] !== bs[i]![d]! * n) merge = false;
    }
    if (merge) {
      dims[last] = dims[last]! * n;
      for (let i = 0; i < k; i++) st[i]![last] = bs[i]![d]!;
    } else {
      dims.push(n);
      for (let i = 0; i < 3; i++) st[i]!.push(i < k ? bs[i]![d]! : 0);
    }
  }
  const m = dims.length;
  const inner = dims[m - 1]!;
  const S0 = st[0]!;
  const S1 = st[1]!;
  const S2 = st[2]!;
  const i0 = S0[m - 1]!;
  const i1 = S1[m - 1]!;
  const i2 = S2[m - 1]!;
  let b0 = ptr[0]!;
  let b1 = ptr[1]!;
  let b2 = ptr[2]!;
  const idx = new Array<number>(m).fill(0);
  const rows = size / inner;
  for (let r = 0, o = 0; r < rows; r++, o += inner) {
    row(o, inner, b0, i0, b1, i1, b2, i2);
    // odometer over the outer (merged) dimensions
    for (let d = m - 2; d >= 0; d--) {
      idx[d]!++;
      b0 += S0[d]!;
      b1 += S1[d]!;
      b2 += S2[d]!;
      if (idx[d]! < dims[d]!) break;
      const n = dims[d]!;
      b0 -= S0[d]! * n;
      b1 -= S1[d]! * n;
      b2 -= S2[d]! * n;
      idx[d] = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Scalar helpers used inside row loops (plain functions; V8 inlines them).
// ---------------------------------------------------------------------------------------

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/√π
const ONE_OVER_SQRT_PI = 0.5641895835477563; // 1/√π

/** e^{-x²} with x² split exactly (Veltkamp) so the rounding of x² costs no accuracy. */
function expMinusSquare(x: number): number {
  const c = 134217729 * x; // 2^27 + 1
  const hi = c - (c - x);
  const lo = x - hi;
  // hi*hi is exact (26-bit halves); the remainder 2·hi·lo + lo² is tiny.
  return Math.exp(-hi * hi) * Math.exp(-(2 * hi * lo + lo * lo));
}

/**
 * The error function erf(x) = 2/√π ∫₀ˣ e^{-t²} dt in float64, within about 8 ULP (largest near |x| ≈ 1.7; the WebAssembly kernel used for larger arrays is within 1 ULP).
 * |x| ≤ 1.8: erf(x) = 2/√π · x·e^{-x²} · Σₙ (2x²)ⁿ / (1·3·…·(2n+1)), a series of positive
 * terms (no cancellation). |x| > 1.8: erf = 1 − erfc with the continued fraction
 * erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated backward.
 * @example ng.nd.erfScalar(1) // 0.8427007929497149
 */
export function erfScalar(x: number): number {
  if (x !== x || x === 0) return x; // NaN, ±0
  const ax = Math.abs(x);
  let r: number;
  if (ax <= 1.8) {
    const t = 2 * ax * ax;
    let term = 1;
    let sum = 1;
    for (let k = 3; term > sum * 1e-17; k += 2) {
      term *= t / k;
      sum += term;
    }
    r = TWO_OVER_SQRT_PI * ax * expMinusSquare(ax) * sum;
  } else if (ax < 6) {
    // 60 levels reach full double accuracy for x ≥ 1.8; erfc(6) ≈ 2e-17 < ulp(1)/2, so
    // erf rounds to ±1 beyond 6.
    let f = ax;
    for (let k = 60; k >= 1; k--) f = ax + (0.5 * k) / f;
    r = 1 - (ONE_OVER_SQRT_PI * expMinusSquare(ax)) / f;
  } else {
    r = 1;
  }
  return x < 0 ? -r : r;
}

/** Logistic 1/(1+e^{-x}), stable for large |x| (never forms e^{+large}). */
function sigmoidScalar(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Round half to even (NumPy/IEEE): 2.5 → 2, 3.5 → 4, −2.5 → −2; keeps −0. */
function roundHalfEven(x: number): number {
  const r = Math.round(x); // half rounds toward +∞; r − x is exact here
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Floored modulo of floats: the sign of the result is the sign of the divisor. */
function modFloat(a: number, b: number): number {
  const r = a % b; // fmod: sign of a; NaN for b = 0
  if (r !== 0) return r < 0 !== b < 0 ? r + b : r;
  return b < 0 ? -0 : 0;
}

/** Floored modulo of int32 values; a zero divisor gives 0 (NumPy's result for ints). */
function modInt(a: number, b: number): number {
  if (b === 0) return 0;
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/** C/NumPy pow: pow(1, y) = 1 and pow(−1, ±∞) = 1 (Math.pow gives NaN there). */
function powFloat(a: number, b: number): number {
  if (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) return 1;
  return Math.pow(a, b);
}

/** Integer power with C int32 wraparound (square-and-multiply with Math.imul). */
function powInt(a: number, b: number): number {
  if (b < 0) {
    throw new RangeError(
      `pow: integers to negative integer powers are not allowed (got exponent ${b}); ` +
        `cast the operands to a float dtype first`,
    );
  }
  let result = 1;
  let base = a;
  let e = b;
  while (e > 0) {
    if (e & 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
    e >>>= 1;
  }
  return result;
}

/** A float to int32 by truncation; NaN, ±∞ or out of range throws (the cast kernel's rule). */
function toInt32(v: number, index: number): number {
  const t = Math.trunc(v);
  if (!(t >= -2147483648 && t <= 2147483647)) throw castError(v, index);
  return t;
}

/**
 * The per-element formulas of the kernels that are more than one JS operator, for code
 * that computes the same elements elsewhere (jit's fused loops), so both agree bitwise.
 */
export const SCALAR_FORMULAS = {
  erf: erfScalar,
  sigmoid: sigmoidScalar,
  roundHalfEven,
  modFloat,
  modInt,
  powFloat,
  powInt,
  toInt32,
} as const;

// ---------------------------------------------------------------------------------------
// Unary ops
// ---------------------------------------------------------------------------------------

/** Names of the unary elementwise ops. */
export const UNARY_OPS = [
  "neg",
  "exp",
  "log",
  "log1p",
  "expm1",
  "sin",
  "cos",
  "tan",
  "tanh",
  "sigmoid",
  "sqrt",
  "rsqrt",
  "abs",
  "sign",
  "floor",
  "ceil",
  "round",
  "erf",
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Ops that keep int32 (and turn bool into int32) instead of computing in float. */
const INT_PRESERVING: ReadonlySet<UnaryOp> = new Set<UnaryOp>([
  "neg",
  "abs",
  "sign",
  "floor",
  "ceil",
  "round",
]);

/** Result dtype of a unary op on `dtype`. @example ng.nd.unaryResultDType("exp", "int32") // "float32" */
export function unaryResultDType(op: UnaryOp, dtype: DType): DType {
  if (INT_PRESERVING.has(op)) return dtype === "bool" ? "int32" : dtype;
  return toFloat(dtype);
}

function unaryRow(op: UnaryOp, intOut: boolean, out: DataArray, X: DataArray): RowKernel {
  if (intOut) {
    switch (op) {
      case "neg":
        return (o, n, p, s) => {
          for (const e = o + n; o < e; o++, p += s) out[o] = -X[p]! | 0;
        };
      case "abs":
        return (o, n, p, s) => {
          for (const e = o + n; o < e; o++, p += s) out[o] = Math.abs(X[p]!) | 0;
        };
      case "sign":
        return (o, n, p, s) => {
          for (const e = o + n; o < e; o++, p += s) out[o] = Math.sign(X[p]!);
        };
      default: // floor, ceil, round of integers: identity
        return (o, n, p, s) => {
          for (const e = o + n; o < e; o++, p += s) out[o] = X[p]!;
        };
    }
  }
  switch (op) {
    case "neg":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = -X[p]!;
      };
    case "exp":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.exp(X[p]!);
      };
    case "log":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.log(X[p]!);
      };
    case "log1p":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.log1p(X[p]!);
      };
    case "expm1":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.expm1(X[p]!);
      };
    case "sin":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.sin(X[p]!);
      };
    case "cos":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.cos(X[p]!);
      };
    case "tan":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.tan(X[p]!);
      };
    case "tanh":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.tanh(X[p]!);
      };
    case "sigmoid":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = sigmoidScalar(X[p]!);
      };
    case "sqrt":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.sqrt(X[p]!);
      };
    case "rsqrt":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = 1 / Math.sqrt(X[p]!);
      };
    case "abs":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.abs(X[p]!);
      };
    case "sign":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.sign(X[p]!);
      };
    case "floor":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.floor(X[p]!);
      };
    case "ceil":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = Math.ceil(X[p]!);
      };
    case "round":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = roundHalfEven(X[p]!);
      };
    case "erf":
      return (o, n, p, s) => {
        for (const e = o + n; o < e; o++, p += s) out[o] = erfScalar(X[p]!);
      };
  }
}

function unaryImpl(op: UnaryOp, x: NDArray): NDArray {
  checkArray(x, "x", op);
  const dtype = unaryResultDType(op, x.dtype);
  const out = allocateUninit(dtype, x.size);
  const minSize = WASM_MIN_SIZE.unary[op as WasmUnaryOp];
  if (
    minSize !== undefined &&
    x.size >= minSize &&
    x.contiguous &&
    x.dtype === dtype &&
    (dtype === "float32" || dtype === "float64") &&
    wasmElementwiseAvailable()
  ) {
    wasmUnary(op as WasmUnaryOp, dtype, x.data, x.offset, out as FloatArray, 0, x.size);
    return new NDArray(out, x.shape);
  }
  forEachRow(x.shape, [x], unaryRow(op, dtype === "int32", out, x.data), op);
  return new NDArray(out, x.shape);
}

/**
 * Applies the unary op named `op` elementwise. Transcendental ops return float32 for
 * float32/int32/bool input and float64 for float64; neg/abs/sign/floor/ceil/round keep
 * int32 (bool becomes int32). float32 results are computed in double and rounded once.
 * @example ng.nd.unary("exp", ng.nd.fromNested([0, 1])) // float32 [1, 2.7182817]
 */
export function unary(op: UnaryOp, x: NDArray): NDArray {
  return unaryImpl(checkOp(op, UNARY_OPS, "unary"), x);
}

/**
 * Negation −x; int32 wraps like C (−(−2³¹) = −2³¹); bool gives int32.
 * @example ng.nd.neg(ng.nd.fromNested([1, -2])) // [-1, 2]
 */
export function neg(x: NDArray): NDArray {
  return unaryImpl("neg", x);
}
/**
 * Exponential eˣ.
 * @example ng.nd.exp(ng.nd.fromNested([0, 1], "float64")) // [1, 2.718281828459045]
 */
export function exp(x: NDArray): NDArray {
  return unaryImpl("exp", x);
}
/** Natural logarithm ln x (NaN for x < 0, −∞ at 0). @example ng.nd.log(ng.nd.fromNested([1])) // [0] */
export function log(x: NDArray): NDArray {
  return unaryImpl("log", x);
}
/** ln(1 + x), accurate for small |x|. @example ng.nd.log1p(ng.nd.fromNested([0])) // [0] */
export function log1p(x: NDArray): NDArray {
  return unaryImpl("log1p", x);
}
/** eˣ − 1, accurate for small |x|. @example ng.nd.expm1(ng.nd.fromNested([0])) // [0] */
export function expm1(x: NDArray): NDArray {
  return unaryImpl("expm1", x);
}
/** Sine (radians). @example ng.nd.sin(ng.nd.fromNested([0])) // [0] */
export function sin(x: NDArray): NDArray {
  return unaryImpl("sin", x);
}
/** Cosine (radians). @example ng.nd.cos(ng.nd.fromNested([0])) // [1] */
export function cos(x: NDArray): NDArray {
  return unaryImpl("cos", x);
}
/** Tangent (radians). @example ng.nd.tan(ng.nd.fromNested([0])) // [0] */
export function tan(x: NDArray): NDArray {
  return unaryImpl("tan", x);
}
/** Hyperbolic tangent. @example ng.nd.tanh(ng.nd.fromNested([0])) // [0] */
export function tanh(x: NDArray): NDArray {
  return unaryImpl("tanh", x);
}
/**
 * Logistic sigmoid 1/(1+e^{−x}), evaluated as e^{x}/(1+e^{x}) for x < 0 so it is stable
 * (no overflow, no 0/0) for any |x|.
 * @example ng.nd.sigmoid(ng.nd.fromNested([0, -1000, 1000])) // [0.5, 0, 1]
 */
export function sigmoid(x: NDArray): NDArray {
  return unaryImpl("sigmoid", x);
}
/** Square root (NaN for x < 0). @example ng.nd.sqrt(ng.nd.fromNested([4])) // [2] */
export function sqrt(x: NDArray): NDArray {
  return unaryImpl("sqrt", x);
}
/** Reciprocal square root 1/√x. @example ng.nd.rsqrt(ng.nd.fromNested([4])) // [0.5] */
export function rsqrt(x: NDArray): NDArray {
  return unaryImpl("rsqrt", x);
}
/** Absolute value |x|; int32 wraps like C (|−2³¹| = −2³¹); bool gives int32. @example ng.nd.abs(ng.nd.fromNested([-2])) // [2] */
export function abs(x: NDArray): NDArray {
  return unaryImpl("abs", x);
}
/** Sign −1, 0 or 1 (NaN stays NaN); int32 stays int32, bool gives int32. @example ng.nd.sign(ng.nd.fromNested([-3, 0, 2])) // [-1, 0, 1] */
export function sign(x: NDArray): NDArray {
  return unaryImpl("sign", x);
}
/** Floor ⌊x⌋; int32 unchanged, bool gives int32. @example ng.nd.floor(ng.nd.fromNested([-1.5])) // [-2] */
export function floor(x: NDArray): NDArray {
  return unaryImpl("floor", x);
}
/** Ceiling ⌈x⌉; int32 unchanged, bool gives int32. @example ng.nd.ceil(ng.nd.fromNested([-1.5])) // [-1] */
export function ceil(x: NDArray): NDArray {
  return unaryImpl("ceil", x);
}
/**
 * Round to nearest, ties to even (NumPy semantics); int32 unchanged, bool gives int32.
 * @example ng.nd.round(ng.nd.fromNested([0.5, 1.5, 2.5, -2.5])) // [0, 2, 2, -2]
 */
export function round(x: NDArray): NDArray {
  return unaryImpl("round", x);
}
/**
 * Error function erf(x) = 2/√π ∫₀ˣ e^{−t²} dt, within about 8 ULP in float64 on the JavaScript path and 1 ULP on the WebAssembly path.
 * @example ng.nd.erf(ng.nd.fromNested([0, 1], "float64")) // [0, 0.8427007929497149]
 */
export function erf(x: NDArray): NDArray {
  return unaryImpl("erf", x);
}

// ---------------------------------------------------------------------------------------
// Binary arithmetic
// ---------------------------------------------------------------------------------------

/** Names of the binary arithmetic ops. */
export const BINARY_OPS = [
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "maximum",
  "minimum",
  "atan2",
  "mod",
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/**
 * Result dtype of a binary op: promoteTypes(a, b), except that div and atan2 of
 * int32/bool give float32 and bool∘bool arithmetic gives int32 (maximum/minimum of two
 * bools stay bool).
 * @example ng.nd.binaryResultDType("div", "int32", "int32") // "float32"
 */
export function binaryResultDType(op: BinaryOp, a: DType, b: DType): DType {
  const p = promoteTypes(a, b);
  if (op === "div" || op === "atan2") return toFloat(p);
  if (p === "bool" && op !== "maximum" && op !== "minimum") return "int32";
  return p;
}

function binaryRowInt(op: BinaryOp, out: DataArray, A: DataArray, B: DataArray): RowKernel {
  switch (op) {
    case "add":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = (A[pa]! + B[pb]!) | 0;
      };
    case "sub":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = (A[pa]! - B[pb]!) | 0;
      };
    case "mul":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = Math.imul(A[pa]!, B[pb]!);
      };
    case "pow":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = powInt(A[pa]!, B[pb]!);
      };
    case "mod":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = modInt(A[pa]!, B[pb]!);
      };
    case "maximum":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = Math.max(A[pa]!, B[pb]!);
      };
    case "minimum":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = Math.min(A[pa]!, B[pb]!);
      };
    case "div":
    case "atan2":
      // never reached: these always produce a float dtype
      throw new Error(`internal: ${op} has no integer kernel`);
  }
}

function binaryRowFloat(op: BinaryOp, out: DataArray, A: DataArray, B: DataArray): RowKernel {
  switch (op) {
    case "add":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = A[pa]! + B[pb]!;
      };
    case "sub":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = A[pa]! - B[pb]!;
      };
    case "mul":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = A[pa]! * B[pb]!;
      };
    case "div":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = A[pa]! / B[pb]!;
      };
    case "pow":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = powFloat(A[pa]!, B[pb]!);
      };
    case "maximum":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = Math.max(A[pa]!, B[pb]!);
      };
    case "minimum":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = Math.min(A[pa]!, B[pb]!);
      };
    case "atan2":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = Math.atan2(A[pa]!, B[pb]!);
      };
    case "mod":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = modFloat(A[pa]!, B[pb]!);
      };
  }
}

/** Whether the values of `x` convert exactly to `dtype` (a float dtype). */
function exactIn(x: NDArray, dtype: DType): boolean {
  return x.dtype === dtype || dtype === "float64" || x.dtype === "bool";
}

/** A value of a size-1 operand, when `dtype` represents it exactly. */
function scalarIn(x: NDArray, dtype: DType): number | undefined {
  const v = x.data[x.offset]!;
  return dtype === "float64" || v !== v || Math.fround(v) === v ? v : undefined;
}

/**
 * The WebAssembly fast path of a float binary op: both operands full-size and
 * contiguous, one a single element, or one a contiguous vector broadcast along the
 * leading axes of the other (row broadcasting). Returns false where it does not apply.
 */
function binaryWasm(
  op: BinaryOp,
  dtype: DType,
  a: NDArray,
  b: NDArray,
  shape: Shape,
  out: DataArray,
): boolean {
  const minSize = WASM_MIN_SIZE.binary[op as WasmBinaryOp];
  const size = out.length;
  if (minSize === undefined || size < minSize) return false;
  if (dtype !== "float32" && dtype !== "float64") return false;
  const full = (x: NDArray) => x.size === size && x.contiguous && exactIn(x, dtype);
  const wop = op as WasmBinaryOp;
  const o = out as FloatArray;
  if (full(a) && full(b)) {
    if (!wasmElementwiseAvailable()) return false;
    wasmBinary(wop, dtype, a.data, a.offset, b.data, b.offset, o, size);
    return true;
  }
  for (const [bx, y, left] of [
    [a, b, true],
    [b, a, false],
  ] as const) {
    if (!full(y)) continue;
    const x = repeated(bx);
    if (x.size === 1) {
      const s = scalarIn(x, dtype);
      if (s === undefined || !wasmElementwiseAvailable()) return false;
      wasmBinaryScalar(wop, dtype, s, left, y.data, y.offset, o, size);
      return true;
    }
    if (isTrailingVector(x, shape) && exactIn(x, dtype)) {
      if (!wasmElementwiseAvailable()) return false;
      const cols = x.size;
      wasmBinaryRow(wop, dtype, y.data, y.offset, x.data, x.offset, size / cols, cols, left, o);
      return true;
    }
  }
  return false;
}

/**
 * What a broadcast view repeats: for `x` whose leading axes have stride 0 (or length 1) and
 * whose other axes are contiguous, those axes as one contiguous vector (a single element
 * when every axis is broadcast), so that `broadcastTo(b, …)` operands take the scalar and
 * row kernels as `b` itself would; else `x`.
 */
function repeated(x: NDArray): NDArray {
  if (x.contiguous || x.size <= 1) return x;
  let lead = 0;
  while (lead < x.ndim && (x.strides[lead] === 0 || x.shape[lead] === 1)) lead++;
  if (lead === 0) return x;
  let stride = 1;
  for (let d = x.ndim - 1; d >= lead; d--) {
    if (x.shape[d] !== 1 && x.strides[d] !== stride) return x;
    stride *= x.shape[d]!;
  }
  return new NDArray(x.data, x.shape.slice(lead), undefined, x.offset);
}

/** True when `x` is contiguous and its shape (without leading 1s) is a suffix of `shape`. */
function isTrailingVector(x: NDArray, shape: Shape): boolean {
  if (!x.contiguous || x.size <= 1) return false;
  let lead = 0;
  while (lead < x.ndim && x.shape[lead] === 1) lead++;
  const k = x.ndim - lead;
  if (k > shape.length) return false;
  for (let i = 0; i < k; i++) if (x.shape[lead + i] !== shape[shape.length - k + i]) return false;
  return true;
}

function binaryImpl(op: BinaryOp, a: NDArray, b: NDArray): NDArray {
  checkArray(a, "a", op);
  checkArray(b, "b", op);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const dtype = binaryResultDType(op, a.dtype, b.dtype);
  const out = allocateUninit(dtype, sizeOf(shape));
  if (binaryWasm(op, dtype, a, b, shape, out)) return new NDArray(out, shape);
  const row =
    dtype === "int32"
      ? binaryRowInt(op, out, a.data, b.data)
      : binaryRowFloat(op, out, a.data, b.data);
  forEachRow(shape, [a, b], row, op);
  return new NDArray(out, shape);
}

/**
 * Applies the binary op named `op` elementwise with NumPy broadcasting; the result dtype
 * is `binaryResultDType(op, a.dtype, b.dtype)`.
 * @example ng.nd.binary("add", ng.nd.fromNested([[1], [2]]), ng.nd.fromNested([10, 20])) // [[11, 21], [12, 22]]
 */
export function binary(op: BinaryOp, a: NDArray, b: NDArray): NDArray {
  return binaryImpl(checkOp(op, BINARY_OPS, "binary"), a, b);
}

/**
 * a + b with broadcasting; int32 wraps like C.
 * @example ng.nd.add(ng.nd.fromNested([1, 2]), ng.nd.fromNested(10)) // [11, 12]
 */
export function add(a: NDArray, b: NDArray): NDArray {
  return binaryImpl("add", a, b);
}
/** a − b with broadcasting; int32 wraps like C. @example ng.nd.sub(ng.nd.fromNested([3]), ng.nd.fromNested([1])) // [2] */
export function sub(a: NDArray, b: NDArray): NDArray {
  return binaryImpl("sub", a, b);
}
/** a · b with broadcasting; int32 wraps like C (Math.imul). @example ng.nd.mul(ng.nd.fromNested([3]), ng.nd.fromNested([2])) // [6] */
export function mul(a: NDArray, b: NDArray): NDArray {
  return binaryImpl("mul", a, b);
}
/**
 * True division a / b with broadcasting; int32/bool operands give float32.
 * @example ng.nd.div(ng.nd.fromNested([1], "int32"), ng.nd.fromNested([2], "int32")) // float32 [0.5]
 */
export function div(a: NDArray, b: NDArray): NDArray {
  return binaryImpl("div", a, b);
}
/**
 * Power aᵇ with broadcasting (C pow semantics for floats). For int32 results a negative
 * exponent throws a RangeError (as NumPy does); positive powers wrap like C.
 * @example ng.nd.pow(ng.nd.fromNested([2, 3], "int32"), ng.nd.fromNested(2, "int32")) // int32 [4, 9]
 */
export function pow(a: NDArray, b: NDArray): NDArray {
  return binaryImpl("pow", a, b);
}
/** Elementwise maximum; NaN in either operand gives NaN. @example ng.nd.maximum(ng.nd.fromNested([1, 5]), ng.nd.fromNested([3])) // [3, 5] */
export function maximum(a: NDArray, b: NDArray): NDArray {
  return binaryImpl("maximum", a, b);
}
/** Elementwise minimum; NaN in either operand gives NaN. @example ng.nd.minimum(ng.nd.fromNested([1, 5]), ng.nd.fromNested([3])) // [1, 3] */
export function minimum(a: NDArray, b: NDArray): NDArray {
  return binaryImpl("minimum", a, b);
}
/** Two-argument arctangent atan2(a, b) = angle of (b, a); int32/bool give float32. @example ng.nd.atan2(ng.nd.fromNested([1]), ng.nd.fromNested([1])) // [0.7853982] */
export function atan2(a: NDArray, b: NDArray): NDArray {
  return binaryImpl("atan2", a, b);
}
/**
 * Floored modulo a − ⌊a/b⌋·b: the result has the sign of the divisor (NumPy/Python `%`).
 * Floats: b = 0 gives NaN. int32: b = 0 gives 0 (NumPy's value, without its warning).
 * @example ng.nd.mod(ng.nd.fromNested([-7, 7], "int32"), ng.nd.fromNested(3, "int32")) // [2, 1]
 */
export function mod(a: NDArray, b: NDArray): NDArray {
  return binaryImpl("mod", a, b);
}

// ---------------------------------------------------------------------------------------
// Comparisons and logical ops (bool results)
// ---------------------------------------------------------------------------------------

/** Names of the comparison ops. */
export const COMPARE_OPS = [
  "equal",
  "notEqual",
  "less",
  "lessEqual",
  "greater",
  "greaterEqual",
] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

function compareRow(op: CompareOp, out: DataArray, A: DataArray, B: DataArray): RowKernel {
  switch (op) {
    case "equal":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = A[pa]! === B[pb]! ? 1 : 0;
      };
    case "notEqual":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = A[pa]! !== B[pb]! ? 1 : 0;
      };
    case "less":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = A[pa]! < B[pb]! ? 1 : 0;
      };
    case "lessEqual":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = A[pa]! <= B[pb]! ? 1 : 0;
      };
    case "greater":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = A[pa]! > B[pb]! ? 1 : 0;
      };
    case "greaterEqual":
      return (o, n, pa, sa, pb, sb) => {
        for (const e = o + n; o < e; o++, pa += sa, pb += sb) out[o] = A[pa]! >= B[pb]! ? 1 : 0;
      };
  }
}

function compareImpl(op: CompareOp, a: NDArray, b: NDArray): NDArray {
  checkArray(a, "a", op);
  checkArray(b, "b", op);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = allocateUninit("bool", sizeOf(shape));
  forEachRow(shape, [a, b], compareRow(op, out, a.data, b.data), op);
  return new NDArray(out, shape);
}

/**
 * Compares `a` and `b` elementwise (values compared as doubles, IEEE semantics: NaN is
 * unequal to everything) with broadcasting; the result is bool.
 * @example ng.nd.compare("less", ng.nd.fromNested([1, 3]), ng.nd.fromNested(2)) // [true, false]
 */
export function compare(op: CompareOp, a: NDArray, b: NDArray): NDArray {
  return compareImpl(checkOp(op, COMPARE_OPS, "compare"), a, b);
}
/** a == b → bool, with broadcasting. @example ng.nd.equal(ng.nd.fromNested([1, 2]), ng.nd.fromNested(2)) // [false, true] */
export function equal(a: NDArray, b: NDArray): NDArray {
  return compareImpl("equal", a, b);
}
/**
 * a != b → bool (true where either is NaN), with broadcasting.
 * @example ng.nd.notEqual(ng.nd.fromNested([1, 2]), ng.nd.fromNested(2)) // [true, false]
 */
export function notEqual(a: NDArray, b: NDArray): NDArray {
  return compareImpl("notEqual", a, b);
}
/** a < b → bool, with broadcasting. @example ng.nd.less(ng.nd.fromNested([1, 3]), ng.nd.fromNested(2)) // [true, false] */
export function less(a: NDArray, b: NDArray): NDArray {
  return compareImpl("less", a, b);
}
/** a ≤ b → bool, with broadcasting. @example ng.nd.lessEqual(ng.nd.fromNested([2, 3]), ng.nd.fromNested(2)) // [true, false] */
export function lessEqual(a: NDArray, b: NDArray): NDArray {
  return compareImpl("lessEqual", a, b);
}
/** a > b → bool, with broadcasting. @example ng.nd.greater(ng.nd.fromNested([1, 3]), ng.nd.fromNested(2)) // [false, true] */
export function greater(a: NDArray, b: NDArray): NDArray {
  return compareImpl("greater", a, b);
}
/** a ≥ b → bool, with broadcasting. @example ng.nd.greaterEqual(ng.nd.fromNested([1, 2]), ng.nd.fromNested(2)) // [false, true] */
export function greaterEqual(a: NDArray, b: NDArray): NDArray {
  return compareImpl("greaterEqual", a, b);
}
/** Alias of `equal`. @example ng.nd.eq(ng.nd.fromNested([1, 2]), ng.nd.fromNested(2)) // [false, true] */
export const eq = equal;
/** Alias of `notEqual`. @example ng.nd.ne(ng.nd.fromNested([1, 2]), ng.nd.fromNested(2)) // [true, false] */
export const ne = notEqual;
/** Alias of `less`. @example ng.nd.lt(ng.nd.fromNested([1, 3]), ng.nd.fromNested(2)) // [true, false] */
export const lt = less;
/** Alias of `lessEqual`. @example ng.nd.le(ng.nd.fromNested([2, 3]), ng.nd.fromNested(2)) // [true, false] */
export const le = lessEqual;
/** Alias of `greater`. @example ng.nd.gt(ng.nd.fromNested([1, 3]), ng.nd.fromNested(2)) // [false, true] */
export const gt = greater;
/** Alias of `greaterEqual`. @example ng.nd.ge(ng.nd.fromNested([1, 2]), ng.nd.fromNested(2)) // [false, true] */
export const ge = greaterEqual;

function logicalBinary(op: "logicalAnd" | "logicalOr", a: NDArray, b: NDArray): NDArray {
  checkArray(a, "a", op);
  checkArray(b, "b", op);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = allocateUninit("bool", sizeOf(shape));
  const A = a.data;
  const B = b.data;
  const row: RowKernel =
    op === "logicalAnd"
      ? (o, n, pa, sa, pb, sb) => {
          for (const e = o + n; o < e; o++, pa += sa, pb += sb)
            out[o] = A[pa]! !== 0 && B[pb]! !== 0 ? 1 : 0;
        }
      : (o, n, pa, sa, pb, sb) => {
          for (const e = o + n; o < e; o++, pa += sa, pb += sb)
            out[o] = A[pa]! !== 0 || B[pb]! !== 0 ? 1 : 0;
        };
  forEachRow(shape, [a, b], row, op);
  return new NDArray(out, shape);
}

/**
 * Logical AND of any dtypes (nonzero, including NaN, is true) with broadcasting → bool.
 * @example ng.nd.logicalAnd(ng.nd.fromNested([0, 1, 2]), ng.nd.fromNested(1)) // [false, true, true]
 */
export function logicalAnd(a: NDArray, b: NDArray): NDArray {
  return logicalBinary("logicalAnd", a, b);
}
/**
 * Logical OR of any dtypes (nonzero is true) with broadcasting → bool.
 * @example ng.nd.logicalOr(ng.nd.fromNested([0, 2]), ng.nd.fromNested(0)) // [false, true]
 */
export function logicalOr(a: NDArray, b: NDArray): NDArray {
  return logicalBinary("logicalOr", a, b);
}
/**
 * Logical NOT of any dtype (zero → true, nonzero/NaN → false) → bool.
 * @example ng.nd.logicalNot(ng.nd.fromNested([0, 2])) // [true, false]
 */
export function logicalNot(x: NDArray): NDArray {
  checkArray(x, "x", "logicalNot");
  const out = allocateUninit("bool", x.size);
  const X = x.data;
  forEachRow(
    x.shape,
    [x],
    (o, n, p, s) => {
      for (const e = o + n; o < e; o++, p += s) out[o] = X[p]! === 0 ? 1 : 0;
    },
    "logicalNot",
  );
  return new NDArray(out, x.shape);
}

// ---------------------------------------------------------------------------------------
// where and cast
// ---------------------------------------------------------------------------------------

/**
 * Selects `a` where `cond` is nonzero (NaN counts as true) and `b` elsewhere; all three
 * broadcast together. The result dtype is promoteTypes(a, b).
 * @example ng.nd.where(ng.nd.fromNested([true, false]), ng.nd.fromNested([1, 2]), ng.nd.fromNested(0)) // [1, 0]
 */
export function where(cond: NDArray, a: NDArray, b: NDArray): NDArray {
  checkArray(cond, "cond", "where");
  checkArray(a, "a", "where");
  checkArray(b, "b", "where");
  let shape: number[];
  try {
    shape = broadcastAll([cond.shape, a.shape, b.shape], "where");
  } catch {
    throw new RangeError(
      `where: shapes cond ${formatShape(cond.shape)}, a ${formatShape(a.shape)} and ` +
        `b ${formatShape(b.shape)} cannot be broadcast together`,
    );
  }
  const out = allocateUninit(promoteTypes(a.dtype, b.dtype), sizeOf(shape));
  const C = cond.data;
  const A = a.data;
  const B = b.data;
  forEachRow(
    shape,
    [cond, a, b],
    (o, n, pc, sc, pa, sa, pb, sb) => {
      for (const e = o + n; o < e; o++, pc += sc, pa += sa, pb += sb)
        out[o] = C[pc]! !== 0 ? A[pa]! : B[pb]!;
    },
    "where",
  );
  return new NDArray(out, shape);
}

function castError(v: number, index: number): RangeError {
  const why = Number.isFinite(v) ? " (outside the int32 range [-2147483648, 2147483647])" : "";
  return new RangeError(`cast: cannot cast ${v} at index ${index} to int32${why}`);
}

/**
 * Converts `x` to `dtype`. To int32: truncation toward zero; NaN, ±∞ or a value outside
 * the int32 range throws a RangeError naming the value and its flat (row-major) index.
 * To bool: nonzero (NaN included) → true. Float64 → float32 rounds to nearest. Casting
 * to the same dtype returns `x` itself (arrays are immutable).
 * @example ng.nd.cast(ng.nd.fromNested([1.7, -1.7]), "int32") // int32 [1, -1]
 */
export function cast(x: NDArray, dtype: DType): NDArray {
  checkArray(x, "x", "cast");
  const dt = checkDType(dtype, "dtype");
  if (dt === x.dtype) return x;
  const out = allocateUninit(dt, x.size);
  const X = x.data;
  let row: RowKernel;
  if (dt === "int32") {
    row = (o, n, p, s) => {
      for (const e = o + n; o < e; o++, p += s) {
        out[o] = toInt32(X[p]!, o);
      }
    };
  } else if (dt === "bool") {
    row = (o, n, p, s) => {
      for (const e = o + n; o < e; o++, p += s) out[o] = X[p]! !== 0 ? 1 : 0;
    };
  } else {
    row = (o, n, p, s) => {
      for (const e = o + n; o < e; o++, p += s) out[o] = X[p]!;
    };
  }
  forEachRow(x.shape, [x], row, "cast");
  return new NDArray(out, x.shape);
}
