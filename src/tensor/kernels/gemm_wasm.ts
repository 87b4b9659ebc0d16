/**
 * The WebAssembly SIMD path of matmul: puts the strided operands into
 * the layout of gemm_kernel.wat inside one growable WebAssembly memory (each copied as it
 * lies where the kernels can read it there, else packed), runs the 4×8 (float32) or
 * 4×4 (float64) register-blocked kernel over blocks of rows of A, and copies C out.
 * Large products are split across worker threads by gemm_threads.ts, on a shared memory
 * with the same kernels and layout. Where WebAssembly or its SIMD proposal is
 * unavailable, `wasmGemmAvailable()` is false and matmul keeps its JavaScript kernels.
 * `setWasmGemmEnabled(false)` switches it off (for comparisons and tests).
 */
import type { DataArray } from "../dtype.js";
import { decodeBase64 } from "./base64.js";
import { GEMM_WASM_BASE64 } from "./gemm_wasm.generated.js";
import { packStrips } from "./pack.js";

/**
 * A kernel of gemm_kernel.wat: C (4·m4 rows × nb strips of B) = A·B, row 4s + r of A at
 * byte a + s·ass + r·ars, its element p a further p·aps bytes on (see `place`).
 */
export type GemmKernel = (
  a: number,
  ass: number,
  ars: number,
  aps: number,
  bp: number,
  bss: number,
  bps: number,
  c: number,
  m4: number,
  nb: number,
  k: number,
) => void;

interface Kernels {
  memory: WebAssembly.Memory;
  f32: GemmKernel;
  f64: GemmKernel;
  pack: PackLines;
}

let kernels: Kernels | null | undefined;
let enabled = true;

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
      pack_lines: PackLines;
    };
    kernels = { memory, f32: ex.gemm_f32, f64: ex.gemm_f64, pack: ex.pack_lines };
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
 * How `place` put an operand, as the kernels take it, in bytes: from a strip
 * of lines to the next (ss), from a line to the next within a strip (ls), and from an
 * element of a line to the next (ps). Lines are the rows of A and the columns of B.
 */
export interface Placed {
  ss: number;
  ls: number;
  ps: number;
}

let readInPlace = true;
let modulePack = true;

/** How the WebAssembly path may place operands (a test switch: every choice gives the same bits). */
export interface GemmPlacement {
  /** Read operands where they lie when the kernels can (else pack every operand). */
  inPlace: boolean;
  /** Pack runs of contiguous elements with the module's pack_lines (else with packStrips). */
  modulePack: boolean;
}

/** Test switch: sets how operands are placed; returns the previous setting. */
export function setGemmPlacement(p: GemmPlacement): GemmPlacement {
  const prev = { inPlace: readInPlace, modulePack };
  readInPlace = p.inPlace;
  modulePack = p.modulePack;
  return prev;
}

/**
 * An operand as `count` lines of `len` elements: line i at element i·across, its element p
 * a further p·along on; strips of `width` lines. Lines are the rows of A (width 4) and the
 * columns of B (width NR). `unitLines`: the kernels load a strip's lines as vectors (B);
 * `once`: the kernels read the operand once (A when B is one strip wide, B when A is one
 * block of ROW_STRIPS strips), else once per strip or block of the other operand.
 */
export interface Lines {
  len: number;
  count: number;
  width: number;
  along: number;
  across: number;
  unitLines: boolean;
  once: boolean;
}

/** A (m×k, strides aRs, aCs) as lines, for a B of n columns in strips of `nr`. */
export function aLines(
  m: number,
  k: number,
  aRs: number,
  aCs: number,
  n: number,
  nr: number,
): Lines {
  return { len: k, count: m, width: 4, along: aCs, across: aRs, unitLines: false, once: n <= nr };
}

/** B (k×n, strides bRs, bCs) as lines in strips of `nr`, for an A of m rows. */
export function bLines(
  k: number,
  n: number,
  bRs: number,
  bCs: number,
  nr: number,
  m: number,
): Lines {
  return {
    len: k,
    count: n,
    width: nr,
    along: bRs,
    across: bCs,
    unitLines: true,
    once: m <= 4 * ROW_STRIPS,
  };
}

/** Elements from the first to the last element of the lines (non-negative strides). */
function span(l: Lines, count: number): number {
  return (count - 1) * l.across + (l.len - 1) * l.along + 1;
}

/**
 * Whether the kernels read the lines where they lie: with non-negative strides, if the copy
 * they take (lines padded to a multiple of the width) is at most twice the packed size;
 * for vector loads (B) only if lines are adjacent; and only if each line is contiguous or
 * the operand is read once. Packing pays where an operand is read many times: the kernels
 * then read whole cache lines, where a strided line costs a cache line per element p.
 */
function asItLies(l: Lines): boolean {
  if (!readInPlace || l.along < 0 || l.across < 0) return false;
  if ((l.unitLines && l.across !== 1) || (!l.once && l.along !== 1)) return false;
  const cp = roundUp(l.count, l.width);
  return span(l, cp) <= 2 * cp * l.len;
}

/**
 * Whether packed lines are packed by the module's `pack_lines` from a copy of the span they
 * cover (lines adjacent, so that each strip's run at p is contiguous, and a span at most
 * twice the packed size); else packStrips packs them element by element.
 */
function packsInModule(l: Lines): boolean {
  return (
    modulePack &&
    l.across === 1 &&
    l.along >= 0 &&
    span(l, l.count) <= 2 * roundUp(l.count, l.width) * l.len
  );
}

/** Elements of memory `place` needs for the lines. */
export function placedSize(l: Lines): number {
  const cp = roundUp(l.count, l.width);
  if (asItLies(l)) return span(l, cp);
  // packed, followed by the copy pack_lines reads from
  return cp * l.len + (packsInModule(l) ? span(l, l.count) : 0);
}

/** The `pack_lines` export of gemm_kernel.wat (byte addresses and strides). */
export type PackLines = (
  src: number,
  along: number,
  len: number,
  strips: number,
  bytes: number,
  dst: number,
) => void;

/**
 * Puts the lines of `src` (its first element at `off`) at element `dst` of `view`, for the
 * kernels: where they lie, by one copy of the span they cover (TypedArray.set, a memcpy
 * for the same element type; the lines past `count`, up to a multiple of the width, then
 * read zeros or elements of the operand, whose results are dropped), else packed in strips
 * (by `pack`, the module's pack_lines, and packStrips for what it does not take). Uses
 * placedSize(l) elements.
 */
export function place(
  view: Float32Array | Float64Array,
  dst: number,
  src: DataArray,
  off: number,
  l: Lines,
  pack: PackLines,
): Placed {
  const es = view.BYTES_PER_ELEMENT;
  const { len, count, width, along, across } = l;
  if (asItLies(l)) {
    const elems = span(l, roundUp(count, width)); // placedSize(l), the lines padded
    const n = span(l, count);
    view.set(src.subarray(off, off + n), dst);
    if (elems > n) view.fill(0, dst + n, dst + elems);
    return { ss: width * across * es, ls: across * es, ps: along * es };
  }
  let done = 0; // lines packed by pack_lines (whole strips)
  if (packsInModule(l)) {
    const copy = dst + roundUp(count, width) * len;
    view.set(src.subarray(off, off + span(l, count)), copy);
    const strips = Math.floor(count / width);
    pack(copy * es, along * es, len, strips, width * es, dst * es);
    done = strips * width;
  }
  if (done < count) {
    const o = dst + done * len;
    packStrips(view, o, src, off + done * across, along, across, len, count - done, width);
  }
  return { ss: width * len * es, ls: es, ps: width * es };
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
  const al = aLines(m, k, aRs, aCs, n, NR);
  const bl = bLines(k, n, bRs, bCs, NR, m);
  const bpE = placedSize(al);
  const cE = bpE + placedSize(bl);
  const bytes = (cE + mp * np) * es;
  const have = K.memory.buffer.byteLength;
  if (bytes > have) K.memory.grow(Math.ceil((bytes - have) / 65536));
  const view = f32 ? new Float32Array(K.memory.buffer) : new Float64Array(K.memory.buffer);
  const a = place(view, apE, A, aOff, al, K.pack);
  const b = place(view, bpE, B, bOff, bl, K.pack);
  // blocks of ROW_STRIPS strips of A, so that the block stays in cache while the kernel
  // sweeps the column strips of B (each element still sums over k in the same order)
  const m4 = mp / 4;
  const fn = f32 ? K.f32 : K.f64;
  for (let s0 = 0; s0 < m4; s0 += ROW_STRIPS) {
    const a0 = apE * es + s0 * a.ss;
    const rows = Math.min(ROW_STRIPS, m4 - s0);
    fn(a0, a.ss, a.ls, a.ps, bpE * es, b.ss, b.ps, (cE + s0 * 4 * np) * es, rows, np / NR, k);
  }
  if (np === n) C.set(view.subarray(cE, cE + m * n), cOff);
  else for (let i = 0; i < m; i++) C.set(view.subarray(cE + i * np, cE + i * np + n), cOff + i * n);
}
