/**
 * The WebAssembly SIMD path of matmul: puts the strided operands into
 * the layout of gemm_kernel.wat inside one growable WebAssembly memory (A copied as it
 * lies when its rows are contiguous, else packed; B packed), runs the 4×8 (float32) or
 * 4×4 (float64) register-blocked kernel over blocks of rows of A, and copies C out.
 * Large products are split across worker threads by gemm_threads.ts, on a shared memory
 * with the same kernels and layout. Where WebAssembly or its SIMD proposal is
 * unavailable, `wasmGemmAvailable()` is false and matmul keeps its JavaScript kernels.
 * `setWasmGemmEnabled(false)` switches it off (for comparisons and tests).
 */
import type { DataArray } from "../dtype.js";
import { GEMM_WASM_BASE64 } from "./gemm_wasm.generated.js";
import { packStrips } from "./pack.js";

/**
 * A kernel of gemm_kernel.wat: C (4·m4 rows × nb strips of B) = A·B, row 4s + r of A at
 * byte a + s·ass + r·ars, its element p a further p·aps bytes on (see `placeA`).
 */
export type GemmKernel = (
  a: number,
  ass: number,
  ars: number,
  aps: number,
  bp: number,
  c: number,
  m4: number,
  nb: number,
  k: number,
) => void;

interface Kernels {
  memory: WebAssembly.Memory;
  f32: GemmKernel;
  f64: GemmKernel;
}

let kernels: Kernels | null | undefined;
let enabled = true;

/** The bytes of a base64 string (atob: in browsers and Node alike). */
export function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function load(): Kernels | null {
  if (kernels !== undefined) return kernels;
  kernels = null;
  try {
    if (typeof WebAssembly === "undefined") return null;
    const bytes = decodeBase64(GEMM_WASM_BASE64);
    if (!WebAssembly.validate(bytes)) return null; // no SIMD support
    const memory = new WebAssembly.Memory({ initial: 16 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const ex = instance.exports as unknown as {
      gemm_f32: Kernels["f32"];
      gemm_f64: Kernels["f64"];
    };
    kernels = { memory, f32: ex.gemm_f32, f64: ex.gemm_f64 };
  } catch {
    kernels = null;
  }
  return kernels;
}

/** True when the WebAssembly SIMD kernels can run here (and are enabled). */
export function wasmGemmAvailable(): boolean {
  return enabled && load() !== null;
}

/** Enables or disables the WebAssembly path; returns the previous setting. */
export function setWasmGemmEnabled(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/** Row strips (4 rows each) of A per kernel call. */
export const ROW_STRIPS = 16;

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/**
 * How `placeA` put A, as the kernels take it: bytes from a strip of 4 rows to the next,
 * from a row to the next, and from an element of a row to the next.
 */
export interface PlacedA {
  ass: number;
  ars: number;
  aps: number;
}

/**
 * Elements of memory `placeA` needs for an m×k operand with row stride aRs and column
 * stride aCs: rows of contiguous elements (aCs = 1) are copied as they lie, padded with
 * zeros to a multiple of 4 rows, if that takes at most twice the packed size; any other
 * layout is packed in strips of 4 rows.
 */
export function placeASize(m: number, k: number, aRs: number, aCs: number): number {
  const mp = roundUp(m, 4);
  return asItLies(m, k, aRs, aCs) ? (mp - 1) * aRs + k : mp * k;
}

function asItLies(m: number, k: number, aRs: number, aCs: number): boolean {
  const mp = roundUp(m, 4);
  return aCs === 1 && aRs >= 0 && (mp - 1) * aRs + k <= 2 * mp * k;
}

/**
 * Puts A (m×k, strided) at element `dst` of `view` for the kernels: rows of contiguous
 * elements by one copy (TypedArray.set: a memcpy for the same element type), other layouts
 * (transposed, strided columns) packed in strips of 4 rows. Uses placeASize(...) elements.
 */
export function placeA(
  view: Float32Array | Float64Array,
  dst: number,
  A: DataArray,
  aOff: number,
  aRs: number,
  aCs: number,
  m: number,
  k: number,
): PlacedA {
  const es = view.BYTES_PER_ELEMENT;
  if (!asItLies(m, k, aRs, aCs)) {
    packStrips(view, dst, A, aOff, aCs, aRs, k, m, 4);
    return { ass: 4 * k * es, ars: es, aps: 4 * es };
  }
  const elems = placeASize(m, k, aRs, aCs);
  const span = (m - 1) * aRs + k;
  view.set(A.subarray(aOff, aOff + span), dst);
  // the rows past m, up to a multiple of 4, read zeros (their results are dropped)
  if (elems > span) view.fill(0, dst + span, dst + elems);
  return { ass: 4 * aRs * es, ars: aRs * es, aps: es };
}

/**
 * C[cOff + i·n + j] = Σ_p A[i, p]·B[p, j] for strided A (m×k) and B (k×n), in the
 * precision of `dtype` (C must be a Float32Array for float32, Float64Array for float64).
 */
export function gemmWasm(
  dtype: "float32" | "float64",
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
  C: Float32Array | Float64Array,
  cOff: number,
): void {
  const K = load()!;
  const f32 = dtype === "float32";
  const es = f32 ? 4 : 8;
  const NR = f32 ? 8 : 4;
  const mp = roundUp(m, 4);
  const np = roundUp(n, NR);
  const apE = 0;
  const bpE = placeASize(m, k, aRs, aCs);
  const cE = bpE + k * np;
  const bytes = (cE + mp * np) * es;
  const have = K.memory.buffer.byteLength;
  if (bytes > have) K.memory.grow(Math.ceil((bytes - have) / 65536));
  const view = f32 ? new Float32Array(K.memory.buffer) : new Float64Array(K.memory.buffer);
  // A copied as it lies or packed in strips of 4 rows; B in strips of NR columns
  const a = placeA(view, apE, A, aOff, aRs, aCs, m, k);
  packStrips(view, bpE, B, bOff, bRs, bCs, k, n, NR);
  // blocks of ROW_STRIPS strips of A, so that the block stays in cache while the kernel
  // sweeps the column strips of B (each element still sums over k in the same order)
  const m4 = mp / 4;
  const fn = f32 ? K.f32 : K.f64;
  for (let s0 = 0; s0 < m4; s0 += ROW_STRIPS) {
    const a0 = apE * es + s0 * a.ass;
    const rows = Math.min(ROW_STRIPS, m4 - s0);
    fn(a0, a.ass, a.ars, a.aps, bpE * es, (cE + s0 * 4 * np) * es, rows, np / NR, k);
  }
  if (np === n) C.set(view.subarray(cE, cE + m * n), cOff);
  else for (let i = 0; i < m; i++) C.set(view.subarray(cE + i * np, cE + i * np + n), cOff + i * n);
}
