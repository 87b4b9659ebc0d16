/**
 * The WebAssembly SIMD path of matmul: packs the strided operands into
 * the layout of gemm_kernel.wat inside one growable WebAssembly memory, runs the 4×8
 * (float32) or 4×4 (float64) register-blocked kernel, and copies C out. Where
 * WebAssembly or its SIMD proposal is unavailable, `wasmGemmAvailable()` is false and
 * matmul keeps its JavaScript kernels. `setWasmGemmEnabled(false)` switches it off
 * (for comparisons and tests).
 */
import type { DataArray } from "../dtype.js";
import { GEMM_WASM_BASE64 } from "./gemm_wasm.generated.js";
import { packStrips } from "./pack.js";

interface Kernels {
  memory: WebAssembly.Memory;
  f32: (ap: number, bp: number, c: number, m4: number, n8: number, k: number) => void;
  f64: (ap: number, bp: number, c: number, m4: number, n4: number, k: number) => void;
}

let kernels: Kernels | null | undefined;
let enabled = true;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
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

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
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
  const bpE = mp * k;
  const cE = bpE + k * np;
  const bytes = (cE + mp * np) * es;
  const have = K.memory.buffer.byteLength;
  if (bytes > have) K.memory.grow(Math.ceil((bytes - have) / 65536));
  const view = f32 ? new Float32Array(K.memory.buffer) : new Float64Array(K.memory.buffer);
  // A in strips of 4 rows (row-fastest within a column), B in strips of NR columns
  packStrips(view, apE, A, aOff, aCs, aRs, k, m, 4);
  packStrips(view, bpE, B, bOff, bRs, bCs, k, n, NR);
  if (f32) K.f32(apE * es, bpE * es, cE * es, mp / 4, np / 8, k);
  else K.f64(apE * es, bpE * es, cE * es, mp / 4, np / 4, k);
  for (let i = 0; i < m; i++) C.set(view.subarray(cE + i * np, cE + i * np + n), cOff + i * n);
}
