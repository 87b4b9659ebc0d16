/**
 * Reduction kernels of the tensor layer: sum, prod, max,
 * min over any set of axes (with keepdims) and argmax/argmin over one axis or the
 * flattened array. Every reduction first canonicalises the layout (drops size-1 axes,
 * merges adjacent axes that are contiguous in memory), so a contiguous full reduction,
 * a reduction of trailing axes and a reduction of leading axes all become one or two
 * tight strided loops. Two general loop nests cover every other layout, strided views
 * included: "segments" (the innermost axis is reduced: one accumulator per output,
 * tight loop over that axis) and "rows" (the innermost axis is kept: a whole output
 * row accumulates in a buffer while the reduced axes are walked). No per-element
 * callbacks: a switch per segment/row picks a specialised loop.
 *
 * Float sums, maxima and minima of large contiguous arrays over the innermost axis (row
 * reductions) or over the axis before a kept innermost block (column reductions, e.g. a
 * bias gradient summed over the batch) run in the WebAssembly SIMD kernels of
 * elementwise_wasm.ts, which do the same float64 additions in the same order as the
 * loops here, so the results are bitwise identical on both paths.
 */
import { allocate, allocateUninit, type DataArray, type DType } from "../dtype.js";
import { formatShape, normalizeAxes, normalizeAxis, type Shape, advance } from "../shape.js";
import { NDArray } from "../ndarray.js";
import {
  WASM_MIN_SIZE,
  wasmElementwiseAvailable,
  wasmReduceColumns,
  wasmReduceRows,
} from "./elementwise_wasm.js";

/** The value reductions, in the order the kernels know them. */
export const REDUCE_OPS = ["sum", "prod", "max", "min"] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** The index reductions (result dtype int32). */
export const ARG_REDUCE_OPS = ["argmax", "argmin"] as const;
export type ArgReduceOp = (typeof ARG_REDUCE_OPS)[number];

/** Axis argument of the value reductions: undefined/null = all axes. */
export type AxisArg = number | readonly number[] | null | undefined;

// Internal op codes; the integer variants wrap modulo 2^32 like int32 arithmetic.
const SUM_F = 0;
const SUM_I = 1;
const PROD_F = 2;
const PROD_I = 3;
const MAX = 4;
const MIN = 5;
const IDENTITY = [0, 0, 1, 1, -Infinity, Infinity];

/** Sums `x` over `axis` (all axes by default): bool/int32 give int32 (wrapping), floats keep their dtype (float32 accumulates in float64). An empty reduction gives 0.
 * @example ng.nd.sum(ng.nd.fromNested([[1, 2], [3, 4]]), 0) // [4, 6]
 */
export function sum(x: NDArray, axis?: AxisArg, keepdims = false): NDArray {
  return reduce("sum", x, axis, keepdims);
}

/** Product of `x` over `axis` (all axes by default); dtypes as for `sum`; an empty reduction gives 1.
 * @example ng.nd.prod(ng.nd.fromNested([[1, 2], [3, 4]]), 1) // [2, 12]
 */
export function prod(x: NDArray, axis?: AxisArg, keepdims = false): NDArray {
  return reduce("prod", x, axis, keepdims);
}

/** Maximum of `x` over `axis` (all axes by default); keeps the dtype, propagates NaN, throws on an empty reduction.
 * @example ng.nd.max(ng.nd.fromNested([[1, 5], [3, 4]]), 0) // [3, 5]
 */
export function max(x: NDArray, axis?: AxisArg, keepdims = false): NDArray {
  return reduce("max", x, axis, keepdims);
}

/** Minimum of `x` over `axis` (all axes by default); keeps the dtype, propagates NaN, throws on an empty reduction.
 * @example ng.nd.min(ng.nd.fromNested([[1, 5], [3, 4]]), 1) // [1, 3]
 */
export function min(x: NDArray, axis?: AxisArg, keepdims = false): NDArray {
  return reduce("min", x, axis, keepdims);
}

/**
 * Applies the value reduction `op` ("sum" | "prod" | "max" | "min") over `axis`
 * (undefined/null = all axes; negative axes count from the end). With `keepdims` the
 * reduced axes stay as size 1, so the result broadcasts against `x`.
 * @example ng.nd.reduce("sum", ng.nd.ones([2, 3, 4]), [0, 2], true).shape // [1, 3, 1]
 */
export function reduce(op: ReduceOp, x: NDArray, axis?: AxisArg, keepdims = false): NDArray {
  if (!(REDUCE_OPS as readonly string[]).includes(op)) {
    throw new TypeError(
      `reduce: unknown op ${JSON.stringify(op)}; expected one of ${REDUCE_OPS.join(", ")}`,
    );
  }
  checkArray(x, op);
  checkKeepdims(keepdims, op);
  const axes = normalizeAxes(axis, x.ndim, `${op}: axis`);
  const reduced = axisMask(axes, x.ndim);
  const outShape = reducedShape(x.shape, reduced, keepdims);
  const isInt = x.dtype === "int32" || x.dtype === "bool";
  let code: number;
  let outDtype: DType = x.dtype;
  if (op === "sum" || op === "prod") {
    if (isInt) outDtype = "int32";
    code = op === "sum" ? (isInt ? SUM_I : SUM_F) : isInt ? PROD_I : PROD_F;
  } else {
    code = op === "max" ? MAX : MIN;
  }
  const outSize = sizeOfShape(outShape);
  let redCount = 1;
  for (let d = 0; d < x.ndim; d++) if (reduced[d]) redCount *= x.shape[d]!;
  // an empty reduction leaves a sum's output as allocated (zeros); every other path writes it all
  const out = redCount === 0 ? allocate(outDtype, outSize) : allocateUninit(outDtype, outSize);

  if (redCount === 0) {
    if (code === MAX || code === MIN) throw emptyError(op, x.shape, reduced);
    if (IDENTITY[code] !== 0) out.fill(IDENTITY[code]!);
    return new NDArray(out, outShape);
  }
  if (outSize === 0) return new NDArray(out, outShape);
  if (redCount === 1) {
    // nothing to combine: the result is x itself (cast to the output dtype)
    out.set(x.flat());
    return new NDArray(out, outShape);
  }

  const plan = canonicalize(x.shape, x.strides, reduced);
  if (reduceWasm(code, x, plan, out)) return new NDArray(out, outShape);
  if (useRows(plan)) reduceRows(code, x.data, x.offset, plan, out);
  else reduceSegments(code, x.data, x.offset, plan, out);
  return new NDArray(out, outShape);
}

/**
 * The WebAssembly path of float sum/max/min over one reduced axis of a contiguous
 * layout: rows (the reduced axis innermost) or columns (a kept block innermost, the
 * reduced axis before it, at most one kept axis before that). Mirrors the loop the
 * JavaScript path would pick (sumUnit, the row accumulation or sumStrided), so the
 * result is the same bit for bit. Returns false where it does not apply.
 */
function reduceWasm(code: number, x: NDArray, plan: Plan, out: DataArray): boolean {
  if (code !== SUM_F && code !== MAX && code !== MIN) return false;
  const dtype = x.dtype;
  if (dtype !== "float32" && dtype !== "float64") return false;
  if (x.size < WASM_MIN_SIZE.reduce || plan.redSizes.length !== 1) return false;
  const kind = code === SUM_F ? "sum" : code === MAX ? "max" : "min";
  const ks = plan.keptSizes;
  const kst = plan.keptStrides;
  const R = plan.redSizes[0]!;
  if (!plan.lastKept) {
    if (plan.redStrides[0] !== 1) return false;
    const rows = ks.length === 0 ? 1 : ks[0]!;
    if (ks.length > 1 || (ks.length === 1 && kst[0] !== R)) return false;
    if (!wasmElementwiseAvailable()) return false;
    wasmReduceRows(kind, dtype, x.data, x.offset, rows, R, out, 0);
    return true;
  }
  const L = ks[ks.length - 1]!;
  if (kst[ks.length - 1] !== 1 || plan.redStrides[0] !== L) return false;
  if (ks.length > 2 || (ks.length === 2 && kst[0] !== R * L)) return false;
  if (!wasmElementwiseAvailable()) return false;
  const outer = ks.length === 2 ? ks[0]! : 1;
  wasmReduceColumns(
    kind,
    dtype,
    x.data,
    x.offset,
    outer,
    R,
    L,
    kind === "sum" && !useRows(plan),
    out,
  );
  return true;
}

/** Index of the maximum along `axis` (over the flattened array when `axis` is undefined/null) as int32; the first occurrence wins ties, and the first NaN counts as the maximum (NumPy).
 * @example ng.nd.argmax(ng.nd.fromNested([[1, 5], [7, 4]]), 1) // [1, 0]
 */
export function argmax(x: NDArray, axis?: number | null, keepdims = false): NDArray {
  return argReduce("argmax", x, axis, keepdims);
}

/** Index of the minimum along `axis` (over the flattened array when `axis` is undefined/null) as int32; the first occurrence wins ties, and the first NaN counts as the minimum (NumPy).
 * @example ng.nd.argmin(ng.nd.fromNested([[1, 5], [7, 4]]), 0) // [0, 1]
 */
export function argmin(x: NDArray, axis?: number | null, keepdims = false): NDArray {
  return argReduce("argmin", x, axis, keepdims);
}

function argReduce(
  op: ArgReduceOp,
  x: NDArray,
  axis: number | null | undefined,
  keepdims: boolean,
): NDArray {
  checkArray(x, op);
  checkKeepdims(keepdims, op);
  const isMax = op === "argmax";
  if (axis === undefined || axis === null) {
    if (x.size === 0) {
      throw new RangeError(
        `${op}: cannot reduce over the flattened array of size 0 (shape ${formatShape(x.shape)}): no identity`,
      );
    }
    const flat = new NDArray(x.flat(), [x.size]);
    const out = new Int32Array(1);
    if (x.size > 1) argSegments(isMax, flat.data, flat.offset, [], [], x.size, 1, out);
    return new NDArray(out, keepdims ? new Array<number>(x.ndim).fill(1) : []);
  }
  const ax = normalizeAxis(axis, x.ndim, `${op}: axis`);
  const reduced = axisMask([ax], x.ndim);
  const outShape = reducedShape(x.shape, reduced, keepdims);
  const n = x.shape[ax]!;
  if (n === 0) throw emptyError(op, x.shape, reduced);
  const out = new Int32Array(sizeOfShape(outShape));
  if (out.length === 0 || n === 1) return new NDArray(out, outShape);
  const plan = canonicalize(x.shape, x.strides, reduced);
  // exactly one reduced axis survives canonicalisation (n >= 2, nothing to merge with)
  const rs = plan.redStrides[0]!;
  if (useRows(plan)) argRows(isMax, x.data, x.offset, plan, n, rs, out);
  else argSegments(isMax, x.data, x.offset, plan.keptSizes, plan.keptStrides, n, rs, out);
  return new NDArray(out, outShape);
}

// ---------------------------------------------------------------------------------------
// validation and shapes

function checkArray(x: unknown, op: string): asserts x is NDArray {
  if (!(x instanceof NDArray)) {
    throw new TypeError(
      `${op}: x: expected an NDArray, got ${x === null ? "null" : Array.isArray(x) ? "an array" : typeof x}`,
    );
  }
}

function checkKeepdims(keepdims: unknown, op: string): void {
  if (typeof keepdims !== "boolean") {
    throw new TypeError(`${op}: keepdims: expected a boolean, got ${String(keepdims)}`);
  }
}

function axisMask(axes: readonly number[], ndim: number): boolean[] {
  const mask = new Array<boolean>(ndim).fill(false);
  for (const a of axes) mask[a] = true;
  return mask;
}

function reducedShape(shape: Shape, reduced: readonly boolean[], keepdims: boolean): number[] {
  const out: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (!reduced[d]) out.push(shape[d]!);
    else if (keepdims) out.push(1);
  }
  return out;
}

function sizeOfShape(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function emptyError(op: string, shape: Shape, reduced: readonly boolean[]): RangeError {
  let axis = 0;
  while (!(reduced[axis] && shape[axis] === 0)) axis++;
  return new RangeError(
    `${op}: cannot reduce over axis ${axis} of size 0 in shape ${formatShape(shape)}: no identity`,
  );
}

// ---------------------------------------------------------------------------------------
// layout canonicalisation

/** Kept and reduced axes (outer to inner, size >= 2 each) after merging contiguous runs. */
interface Plan {
  keptSizes: number[];
  keptStrides: number[];
  redSizes: number[];
  redStrides: number[];
  /** Whether the innermost surviving axis is a kept one. */
  lastKept: boolean;
}

function canonicalize(shape: Shape, strides: readonly number[], reduced: readonly boolean[]): Plan {
  const sizes: number[] = [];
  const strs: number[] = [];
  const red: boolean[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue; // size-1 axes change nothing
    const k = sizes.length - 1;
    // merge into the previous axis when both are of the same kind and adjacent in memory
    if (k >= 0 && red[k] === reduced[d] && strs[k] === strides[d]! * n) {
      sizes[k] = sizes[k]! * n;
      strs[k] = strides[d]!;
    } else {
      sizes.push(n);
      strs.push(strides[d]!);
      red.push(reduced[d]!);
    }
  }
  const plan: Plan = {
    keptSizes: [],
    keptStrides: [],
    redSizes: [],
    redStrides: [],
    lastKept: sizes.length > 0 && !red[sizes.length - 1],
  };
  for (let i = 0; i < sizes.length; i++) {
    if (red[i]) {
      plan.redSizes.push(sizes[i]!);
      plan.redStrides.push(strs[i]!);
    } else {
      plan.keptSizes.push(sizes[i]!);
      plan.keptStrides.push(strs[i]!);
    }
  }
  return plan;
}

/** Row accumulation pays off when the innermost axis is kept and not much shorter than the innermost reduced axis. */
function useRows(plan: Plan): boolean {
  if (!plan.lastKept) return false;
  const L = plan.keptSizes[plan.keptSizes.length - 1]!;
  return L >= 16 || L >= plan.redSizes[plan.redSizes.length - 1]!;
}

// ---------------------------------------------------------------------------------------
// "segments": the innermost reduced axis is walked by a tight loop per output element

function reduceSegments(
  code: number,
  src: DataArray,
  offset: number,
  plan: Plan,
  out: DataArray,
): void {
  const ks = plan.keptSizes;
  const kst = plan.keptStrides;
  const rs = plan.redSizes;
  const rst = plan.redStrides;
  const nk = ks.length;
  const nr = rs.length;
  const n = rs[nr - 1]!;
  const s = rst[nr - 1]!;
  let outerRed = 1;
  for (let d = 0; d < nr - 1; d++) outerRed *= rs[d]!;
  const kIdx = new Array<number>(nk).fill(0);
  const rIdx = new Array<number>(nr).fill(0);
  const init = IDENTITY[code]!;
  const outSize = out.length;
  let base = offset;
  for (let o = 0; o < outSize; o++) {
    let acc = init;
    if (outerRed === 1) {
      acc = segment(code, src, base, n, s, init);
    } else {
      let p = base;
      for (let q = 0; q < outerRed; q++) {
        acc = segment(code, src, p, n, s, acc);
        p = advance(rIdx, rs, rst, nr - 2, p);
      }
    }
    out[o] = acc;
    base = advance(kIdx, ks, kst, nk - 1, base);
  }
}

/** Combines `n` elements src[p], src[p+s], ... into the accumulator `acc`. */
function segment(
  code: number,
  src: DataArray,
  p: number,
  n: number,
  s: number,
  acc: number,
): number {
  switch (code) {
    case SUM_F:
      return s === 1 ? sumUnit(src, p, n, acc) : sumStrided(src, p, n, s, acc);
    case SUM_I:
      for (let i = 0; i < n; i++, p += s) acc = (acc + src[p]!) | 0;
      return acc;
    case PROD_F:
      for (let i = 0; i < n; i++, p += s) acc *= src[p]!;
      return acc;
    case PROD_I:
      for (let i = 0; i < n; i++, p += s) acc = Math.imul(acc, src[p]!);
      return acc;
    case MAX:
      if (acc !== acc) return acc;
      for (let i = 0; i < n; i++, p += s) {
        const v = src[p]!;
        if (v > acc) acc = v;
        else if (v !== v) return v;
      }
      return acc;
    default:
      if (acc !== acc) return acc;
      for (let i = 0; i < n; i++, p += s) {
        const v = src[p]!;
        if (v < acc) acc = v;
        else if (v !== v) return v;
      }
      return acc;
  }
}

// Four independent float64 accumulators: faster (no loop-carried dependency on one
// register) and more accurate than one running sum.
function sumUnit(src: DataArray, p: number, n: number, acc: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  const end = p + n;
  const end4 = end - 3;
  for (; p < end4; p += 4) {
    a0 += src[p]!;
    a1 += src[p + 1]!;
    a2 += src[p + 2]!;
    a3 += src[p + 3]!;
  }
  for (; p < end; p++) a0 += src[p]!;
  return acc + (a0 + a1 + (a2 + a3));
}

function sumStrided(src: DataArray, p: number, n: number, s: number, acc: number): number {
  let a0 = 0;
  let a1 = 0;
  let i = 0;
  for (; i + 1 < n; i += 2, p += 2 * s) {
    a0 += src[p]!;
    a1 += src[p + s]!;
  }
  if (i < n) a0 += src[p]!;
  return acc + (a0 + a1);
}

// ---------------------------------------------------------------------------------------
// "rows": the innermost axis is kept; a whole output row accumulates in a buffer

function reduceRows(
  code: number,
  src: DataArray,
  offset: number,
  plan: Plan,
  out: DataArray,
): void {
  const ks = plan.keptSizes;
  const kst = plan.keptStrides;
  const rs = plan.redSizes;
  const rst = plan.redStrides;
  const nk = ks.length;
  const nr = rs.length;
  const L = ks[nk - 1]!;
  const sL = kst[nk - 1]!;
  const rows = out.length / L;
  let redCount = 1;
  for (const r of rs) redCount *= r;
  const intAcc = code === SUM_I || code === PROD_I;
  // int sums/products wrap exactly in an Int32Array; everything else accumulates in float64
  const accI = intAcc ? new Int32Array(L) : null;
  const accF = intAcc ? null : new Float64Array(L);
  const init = IDENTITY[code]!;
  const kIdx = new Array<number>(nk).fill(0);
  const rIdx = new Array<number>(nr).fill(0);
  let base = offset;
  for (let row = 0; row < rows; row++) {
    if (accI !== null) accI.fill(init);
    else accF!.fill(init);
    let p = base;
    for (let q = 0; q < redCount; q++) {
      if (accI !== null) rowInt(code, accI, src, p, L, sL);
      else rowFloat(code, accF!, src, p, L, sL);
      p = advance(rIdx, rs, rst, nr - 1, p);
    }
    out.set(accI ?? accF!, row * L);
    base = advance(kIdx, ks, kst, nk - 2, base);
  }
}

function rowFloat(
  code: number,
  acc: Float64Array,
  src: DataArray,
  p: number,
  L: number,
  s: number,
): void {
  switch (code) {
    case SUM_F:
      if (s === 1) {
        let j = 0;
        for (; j < L - 3; j += 4, p += 4) {
          acc[j]! += src[p]!;
          acc[j + 1]! += src[p + 1]!;
          acc[j + 2]! += src[p + 2]!;
          acc[j + 3]! += src[p + 3]!;
        }
        for (; j < L; j++, p++) acc[j]! += src[p]!;
      } else for (let j = 0; j < L; j++, p += s) acc[j]! += src[p]!;
      return;
    case PROD_F:
      for (let j = 0; j < L; j++, p += s) acc[j]! *= src[p]!;
      return;
    case MAX:
      for (let j = 0; j < L; j++, p += s) {
        const v = src[p]!;
        if (v > acc[j]! || v !== v) acc[j] = v; // a NaN in acc[j] is never replaced
      }
      return;
    default:
      for (let j = 0; j < L; j++, p += s) {
        const v = src[p]!;
        if (v < acc[j]! || v !== v) acc[j] = v;
      }
      return;
  }
}

function rowInt(
  code: number,
  acc: Int32Array,
  src: DataArray,
  p: number,
  L: number,
  s: number,
): void {
  if (code === SUM_I) {
    // |acc + v| < 2^32, so the Int32Array store wraps exactly
    for (let j = 0; j < L; j++, p += s) acc[j] = acc[j]! + src[p]!;
  } else {
    for (let j = 0; j < L; j++, p += s) acc[j] = Math.imul(acc[j]!, src[p]!);
  }
}

// ---------------------------------------------------------------------------------------
// argmax / argmin: one reduced axis of length n (>= 2) and stride rs

function argSegments(
  isMax: boolean,
  src: DataArray,
  offset: number,
  ks: readonly number[],
  kst: readonly number[],
  n: number,
  rs: number,
  out: Int32Array,
): void {
  const nk = ks.length;
  const kIdx = new Array<number>(nk).fill(0);
  let base = offset;
  for (let o = 0; o < out.length; o++) {
    out[o] = isMax ? argmaxSegment(src, base, n, rs) : argminSegment(src, base, n, rs);
    base = advance(kIdx, ks, kst, nk - 1, base);
  }
}

function argmaxSegment(src: DataArray, p: number, n: number, s: number): number {
  let best = -Infinity;
  let idx = 0;
  for (let i = 0; i < n; i++, p += s) {
    const v = src[p]!;
    if (v > best) {
      best = v;
      idx = i;
    } else if (v !== v) return i; // the first NaN wins
  }
  return idx;
}

function argminSegment(src: DataArray, p: number, n: number, s: number): number {
  let best = Infinity;
  let idx = 0;
  for (let i = 0; i < n; i++, p += s) {
    const v = src[p]!;
    if (v < best) {
      best = v;
      idx = i;
    } else if (v !== v) return i;
  }
  return idx;
}

function argRows(
  isMax: boolean,
  src: DataArray,
  offset: number,
  plan: Plan,
  n: number,
  rs: number,
  out: Int32Array,
): void {
  const ks = plan.keptSizes;
  const kst = plan.keptStrides;
  const nk = ks.length;
  const L = ks[nk - 1]!;
  const sL = kst[nk - 1]!;
  const rows = out.length / L;
  const best = new Float64Array(L);
  const idx = new Int32Array(L);
  const kIdx = new Array<number>(nk).fill(0);
  let base = offset;
  for (let row = 0; row < rows; row++) {
    best.fill(isMax ? -Infinity : Infinity);
    idx.fill(0);
    for (let i = 0, p0 = base; i < n; i++, p0 += rs) {
      if (isMax) {
        for (let j = 0, p = p0; j < L; j++, p += sL) {
          const v = src[p]!;
          const b = best[j]!;
          // replace when larger, or on the first NaN (a NaN in best is never replaced)
          if (v > b || (v !== v && b === b)) {
            best[j] = v;
            idx[j] = i;
          }
        }
      } else {
        for (let j = 0, p = p0; j < L; j++, p += sL) {
          const v = src[p]!;
          const b = best[j]!;
          if (v < b || (v !== v && b === b)) {
            best[j] = v;
            idx[j] = i;
          }
        }
      }
    }
    out.set(idx, row * L);
    base = advance(kIdx, ks, kst, nk - 2, base);
  }
}
