/**
 * Matrix multiplication kernel of the tensor layer with
 * NumPy `matmul` semantics: 1-D operands are promoted (vector·vector gives a scalar),
 * leading batch dimensions broadcast, and a batch loop runs a 2-D kernel. Float results
 * come from a cache-blocked GotoBLAS-style kernel: panels of B (KC×NC) and blocks of A
 * (MC×KC) are packed into Float64Arrays (which also reads strided/transposed views and
 * converts dtypes), and a 4×4 register-blocked micro-kernel accumulates in float64. A
 * float32 result is accumulated in float64 and rounded once, which measured faster in V8
 * than float32 storage and is more accurate. bool/int32 products give int32, computed
 * exactly with wrapping 32-bit arithmetic (Math.imul). Small or thin problems skip the
 * packing and use direct strided loops. Where WebAssembly SIMD is available, float products
 * of m·n·k ≥ 512 use its kernels instead (gemm_wasm.ts), and large ones are split across
 * worker threads (gemm_threads.ts; the `threads` setting), with bitwise the same result.
 */
import {
  allocate,
  allocateUninit,
  dtypeOfData,
  promoteTypes,
  type DataArray,
  type DType,
} from "../dtype.js";
import { formatShape, type Shape } from "../shape.js";
import { NDArray } from "../ndarray.js";
import { gemmWasm, wasmGemmAvailable } from "./gemm_wasm.js";
import { gemmThreaded } from "./gemm_threads.js";
import { packStrips } from "./pack.js";

// Block sizes (in elements), tuned on x86-64 with 48 KiB L1d / 2 MiB L2 per core:
// a KC×NR micro-panel of B (8 KiB) stays in L1, an MC×KC block of A (256 KiB) in L2.
const MR = 4;
const NR = 4;
const KC = 256;
const MC = 128;
const NC = 512;
/** Problems with fewer multiply-adds than this (or an M or N below 4) skip packing. */
const PACK_THRESHOLD = 4096;
// m·n·k from which the WebAssembly SIMD kernels are used (packing costs O(mk + kn + mn)).
const WASM_THRESHOLD = 8 * 8 * 8;

/**
 * Matrix product with NumPy `matmul` semantics: a [..., m, k] @ b [..., k, n] → [..., m, n]
 * with broadcast batch dimensions; a 1-D `a` is a row vector and a 1-D `b` a column
 * vector, and the promoted dimension is removed from the result. The result dtype is
 * promoteTypes(a.dtype, b.dtype), except bool @ bool, which gives int32. Float results are
 * accumulated in float64; int32 results wrap modulo 2^32. `into`, when given, is the
 * storage of the result (of its dtype, at least its size; its contents are overwritten; the
 * result is a view of its first elements), for callers that manage their buffers (jit's
 * interpreter).
 * @example ng.nd.matmul(ng.nd.fromNested([[1, 2], [3, 4]]), ng.nd.fromNested([5, 6])) // [17, 39]
 */
export function matmul(a: NDArray, b: NDArray, into?: DataArray): NDArray {
  checkArray(a, "a");
  checkArray(b, "b");
  const outShape = matmulShape(a.shape, b.shape);
  const outDtype = matmulDType(a.dtype, b.dtype);
  const aVec = a.ndim === 1;
  const bVec = b.ndim === 1;
  const m = aVec ? 1 : a.shape[a.ndim - 2]!;
  const k = a.shape[a.ndim - 1]!;
  const n = bVec ? 1 : b.shape[b.ndim - 1]!;
  // strides of the (promoted) matrices: row stride, column stride
  const aRs = aVec ? 0 : a.strides[a.ndim - 2]!;
  const aCs = a.strides[a.ndim - 1]!;
  const bRs = bVec ? b.strides[0]! : b.strides[b.ndim - 2]!;
  const bCs = bVec ? 0 : b.strides[b.ndim - 1]!;

  const batchShape = outShape.slice(0, outShape.length - (aVec ? 0 : 1) - (bVec ? 0 : 1));
  const aBatch = batchStrides(a, aVec ? 1 : 2, batchShape);
  const bBatch = batchStrides(b, bVec ? 1 : 2, batchShape);
  let batches = 1;
  for (const d of batchShape) batches *= d;

  const size = batches * m * n;
  if (into !== undefined && (dtypeOfData(into) !== outDtype || into.length < size)) {
    throw new TypeError(
      `matmul: into must be a ${outDtype} array of at least ${size} elements, got ${dtypeOfData(into)}[${into.length}]`,
    );
  }
  const isInt = outDtype === "int32";
  // WebAssembly SIMD kernels for float problems large enough to amortise the packing; they
  // write every element of the result, so its storage need not be cleared first
  const wasm = !isInt && k > 0 && m * n * k >= WASM_THRESHOLD && wasmGemmAvailable();
  const out =
    into !== undefined
      ? into.subarray(0, size)
      : wasm
        ? allocateUninit(outDtype, size)
        : allocate(outDtype, size);
  if (out.length === 0 || k === 0) return new NDArray(into ? out.fill(0) : out, outShape);

  if (wasm) {
    const [aOffs, bOffs] = batchOffsets(batchShape, aBatch, bBatch, a.offset, b.offset);
    const c = out as Float32Array | Float64Array;
    const dt = outDtype as "float32" | "float64";
    // split across worker threads where they run and the product is large enough
    if (gemmThreaded(dt, m, n, k, a.data, aOffs, aRs, aCs, b.data, bOffs, bRs, bCs, c)) {
      return new NDArray(out, outShape);
    }
    for (let t = 0; t < batches; t++) {
      gemmWasm(dt, m, n, k, a.data, aOffs[t]!, aRs, aCs, b.data, bOffs[t]!, bRs, bCs, c, t * m * n);
    }
    return new NDArray(out, outShape);
  }
  if (into !== undefined) out.fill(0); // the loops below accumulate into zeroed storage
  const packed = !isInt && m >= MR && n >= NR && m * n * k >= PACK_THRESHOLD;
  const ctx = packed ? new PackContext(m, n, k) : null;
  // float32 results accumulate in a float64 scratch matrix and are rounded once
  const scratch = !isInt && outDtype !== "float64" ? new Float64Array(m * n) : null;
  const [aOffs, bOffs] = batchOffsets(batchShape, aBatch, bBatch, a.offset, b.offset);
  for (let t = 0; t < batches; t++) {
    const aOff = aOffs[t]!;
    const bOff = bOffs[t]!;
    const cOff = t * m * n;
    if (isInt) {
      gemmInt(m, n, k, a.data, aOff, aRs, aCs, b.data, bOff, bRs, bCs, out as Int32Array, cOff);
    } else {
      const c = scratch ?? (out as Float64Array);
      const c0 = scratch ? 0 : cOff;
      if (scratch) scratch.fill(0);
      if (ctx) ctx.gemm(a.data, aOff, aRs, aCs, b.data, bOff, bRs, bCs, c, c0);
      else gemmSmall(m, n, k, a.data, aOff, aRs, aCs, b.data, bOff, bRs, bCs, c, c0);
      if (scratch) out.set(scratch, cOff);
    }
  }
  return new NDArray(out, outShape);
}

/** Element offsets of A and B for each matrix of the (broadcast) batch, in row-major order. */
function batchOffsets(
  batchShape: Shape,
  aBatch: readonly number[],
  bBatch: readonly number[],
  aOff: number,
  bOff: number,
): [number[], number[]] {
  const nb = batchShape.length;
  let batches = 1;
  for (const d of batchShape) batches *= d;
  const aOffs = new Array<number>(batches);
  const bOffs = new Array<number>(batches);
  const idx = new Array<number>(nb).fill(0);
  for (let t = 0; t < batches; t++) {
    aOffs[t] = aOff;
    bOffs[t] = bOff;
    for (let d = nb - 1; d >= 0; d--) {
      idx[d]!++;
      aOff += aBatch[d]!;
      bOff += bBatch[d]!;
      if (idx[d]! < batchShape[d]!) break;
      aOff -= aBatch[d]! * batchShape[d]!;
      bOff -= bBatch[d]! * batchShape[d]!;
      idx[d] = 0;
    }
  }
  return [aOffs, bOffs];
}

/**
 * Result shape of `matmul` for operands of shapes `aShape` and `bShape` (NumPy rules);
 * throws the same errors as `matmul`.
 * @example ng.nd.matmulShape([2, 1, 3, 4], [5, 4, 6]) // [2, 5, 3, 6]
 */
export function matmulShape(aShape: Shape, bShape: Shape): number[] {
  if (aShape.length === 0 || bShape.length === 0) {
    const which = aShape.length === 0 ? "a" : "b";
    throw new RangeError(
      `matmul: ${which} must have at least 1 dimension, got a scalar (shape []); ` +
        `a has shape ${formatShape(aShape)}, b has shape ${formatShape(bShape)} (use mul for scalars)`,
    );
  }
  const ka = aShape[aShape.length - 1]!;
  const kb = bShape.length === 1 ? bShape[0]! : bShape[bShape.length - 2]!;
  if (ka !== kb) {
    throw new RangeError(
      `matmul: contracting dimensions differ: a has shape ${formatShape(aShape)} (contracting dim ${ka}), ` +
        `b has shape ${formatShape(bShape)} (contracting dim ${kb})`,
    );
  }
  const aBatch = aShape.slice(0, Math.max(0, aShape.length - 2));
  const bBatch = bShape.slice(0, Math.max(0, bShape.length - 2));
  const nb = Math.max(aBatch.length, bBatch.length);
  const batch = new Array<number>(nb);
  for (let i = 0; i < nb; i++) {
    const da = i < nb - aBatch.length ? 1 : aBatch[i - (nb - aBatch.length)]!;
    const db = i < nb - bBatch.length ? 1 : bBatch[i - (nb - bBatch.length)]!;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(
        `matmul: batch dimensions cannot be broadcast: a has shape ${formatShape(aShape)} ` +
          `(batch ${formatShape(aBatch)}), b has shape ${formatShape(bShape)} (batch ${formatShape(bBatch)})`,
      );
    }
    batch[i] = da === 1 ? db : da;
  }
  if (aShape.length > 1) batch.push(aShape[aShape.length - 2]!);
  if (bShape.length > 1) batch.push(bShape[bShape.length - 1]!);
  return batch;
}

/**
 * Result dtype of `matmul`: promoteTypes, with bool @ bool giving int32.
 * @example ng.nd.matmulDType("bool", "bool") // "int32"
 */
export function matmulDType(a: DType, b: DType): DType {
  const t = promoteTypes(a, b);
  return t === "bool" ? "int32" : t;
}

/**
 * Floating-point operations of `matmul(a, b)` counted as 2·m·n·k per batch element
 * (one multiply and one add per term), for benchmarks.
 * @example ng.nd.matmulFlops([64, 64], [64, 64]) // 524288
 */
export function matmulFlops(aShape: Shape, bShape: Shape): number {
  const out = matmulShape(aShape, bShape);
  let size = 1;
  for (const d of out) size *= d;
  return 2 * size * aShape[aShape.length - 1]!;
}

function checkArray(x: unknown, name: string): asserts x is NDArray {
  if (!(x instanceof NDArray)) {
    throw new TypeError(
      `matmul: ${name}: expected an NDArray, got ${x === null ? "null" : Array.isArray(x) ? "an array" : typeof x}`,
    );
  }
}

/** Strides of x's batch dimensions read as broadcast to `batchShape` (0 where broadcast). */
function batchStrides(x: NDArray, matDims: number, batchShape: Shape): number[] {
  const nb = batchShape.length;
  const xb = x.ndim - matDims;
  const out = new Array<number>(nb).fill(0);
  for (let i = 0; i < xb; i++) {
    const d = nb - xb + i;
    out[d] = x.shape[i] === 1 ? 0 : x.strides[i]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// small / thin float problems: direct strided loops, float64 accumulation, C += A·B

function gemmSmall(
  m: number,
  n: number,
  k: number,
  A: DataArray,
  aOff: number,
  aRs: number,
  aCs: number,
  B: DataArray,
  bOff: number,
  bRs: number,
  bCs: number,
  C: Float64Array,
  cOff: number,
): void {
  if (n < 8) {
    // dot-product order: one tight loop over k per output element
    for (let i = 0; i < m; i++) {
      const ai = aOff + i * aRs;
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0, pa = ai, pb = bOff + j * bCs; p < k; p++, pa += aCs, pb += bRs) {
          s += A[pa]! * B[pb]!;
        }
        C[cOff + i * n + j]! += s;
      }
    }
    return;
  }
  // i-k-j order: the inner loop walks a row of B and a row of C
  for (let i = 0; i < m; i++) {
    const ci = cOff + i * n;
    for (let p = 0; p < k; p++) {
      const aip = A[aOff + i * aRs + p * aCs]!;
      const pb0 = bOff + p * bRs;
      for (let j = 0, pb = pb0; j < n; j++, pb += bCs) C[ci + j]! += aip * B[pb]!;
    }
  }
}

// ---------------------------------------------------------------------------------------
// int32 results: exact wrapping arithmetic, C += A·B

function gemmInt(
  m: number,
  n: number,
  k: number,
  A: DataArray,
  aOff: number,
  aRs: number,
  aCs: number,
  B: DataArray,
  bOff: number,
  bRs: number,
  bCs: number,
  C: Int32Array,
  cOff: number,
): void {
  for (let i = 0; i < m; i++) {
    const ci = cOff + i * n;
    for (let p = 0; p < k; p++) {
      const aip = A[aOff + i * aRs + p * aCs]! | 0;
      const pb0 = bOff + p * bRs;
      // |C + imul| < 2^32, so the Int32Array store wraps exactly
      for (let j = 0, pb = pb0; j < n; j++, pb += bCs)
        C[ci + j] = C[ci + j]! + Math.imul(aip, B[pb]!);
    }
  }
}

// ---------------------------------------------------------------------------------------
// packed, cache-blocked float kernel

/** Pack buffers for one m×n×k problem, reused across the batch loop. */
class PackContext {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly ap: Float64Array;
  readonly bp: Float64Array;
  readonly edge = new Float64Array(MR * NR);

  constructor(m: number, n: number, k: number) {
    this.m = m;
    this.n = n;
    this.k = k;
    const kc = Math.min(KC, k);
    this.ap = new Float64Array(kc * roundUp(Math.min(MC, m), MR));
    this.bp = new Float64Array(kc * roundUp(Math.min(NC, n), NR));
  }

  /** C[cOff + i·n + j] += Σ_p A[i, p]·B[p, j] over the strided operands. */
  gemm(
    A: DataArray,
    aOff: number,
    aRs: number,
    aCs: number,
    B: DataArray,
    bOff: number,
    bRs: number,
    bCs: number,
    C: Float64Array,
    cOff: number,
  ): void {
    const { m, n, k, ap, bp } = this;
    for (let j0 = 0; j0 < n; j0 += NC) {
      const nc = Math.min(NC, n - j0);
      for (let p0 = 0; p0 < k; p0 += KC) {
        const kc = Math.min(KC, k - p0);
        // B in NR-wide column strips, A in MR-tall row strips (zero-padded)
        packStrips(bp, 0, B, bOff + p0 * bRs + j0 * bCs, bRs, bCs, kc, nc, NR);
        for (let i0 = 0; i0 < m; i0 += MC) {
          const mc = Math.min(MC, m - i0);
          packStrips(ap, 0, A, aOff + i0 * aRs + p0 * aCs, aCs, aRs, kc, mc, MR);
          for (let si = 0; si < mc; si += MR) {
            const mr = Math.min(MR, mc - si);
            for (let sj = 0; sj < nc; sj += NR) {
              const nr = Math.min(NR, nc - sj);
              const o = cOff + (i0 + si) * n + j0 + sj;
              if (mr === MR && nr === NR) micro4x4(ap, bp, si * kc, sj * kc, kc, C, o, n);
              else {
                const e = this.edge;
                e.fill(0);
                micro4x4(ap, bp, si * kc, sj * kc, kc, e, 0, NR);
                for (let r = 0; r < mr; r++) {
                  for (let c = 0; c < nr; c++) C[o + r * n + c]! += e[r * NR + c]!;
                }
              }
            }
          }
        }
      }
    }
  }
}

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/** C[o + r·ldc + c] += Σ_p ap[pa + p·4 + r]·bp[pb + p·4 + c] for a 4×4 tile (16 accumulators). */
function micro4x4(
  ap: Float64Array,
  bp: Float64Array,
  pa: number,
  pb: number,
  kc: number,
  C: Float64Array,
  o: number,
  ldc: number,
): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0,
    c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0,
    c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0,
    c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let p = 0; p < kc; p++, pa += MR, pb += NR) {
    const a0 = ap[pa]!;
    const a1 = ap[pa + 1]!;
    const a2 = ap[pa + 2]!;
    const a3 = ap[pa + 3]!;
    const b0 = bp[pb]!;
    const b1 = bp[pb + 1]!;
    const b2 = bp[pb + 2]!;
    const b3 = bp[pb + 3]!;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
  }
  C[o]! += c00;
  C[o + 1]! += c01;
  C[o + 2]! += c02;
  C[o + 3]! += c03;
  o += ldc;
  C[o]! += c10;
  C[o + 1]! += c11;
  C[o + 2]! += c12;
  C[o + 3]! += c13;
  o += ldc;
  C[o]! += c20;
  C[o + 1]! += c21;
  C[o + 2]! += c22;
  C[o + 3]! += c23;
  o += ldc;
  C[o]! += c30;
  C[o + 1]! += c31;
  C[o + 2]! += c32;
  C[o + 3]! += c33;
}
