/**
 * Convolution and pooling kernels of the tensor layer,
 * channels-last and N-d (any number of spatial dims >= 1): x [B, ...spatial, Cin],
 * w [...kernel, Cin/groups, Cout], y [B, ...outSpatial, Cout]. A convolution is
 * im2col + the blocked `matmul` kernel: a patch table (the offset in x of every
 * (output position, kernel tap) pair, -1 in the zero padding) is built once, patches are
 * copied into a contiguous matrix P [R, G, K·Cin/G] (R = B·prod(outSpatial), K =
 * prod(kernel), G = groups) and one batched matmul over the groups does the rest. The
 * two adjoints (gradient wrt the input, `convBackInput`, and wrt the kernel,
 * `convBackKernel`) reuse the same table: a matmul followed by col2im (scatter-add), and
 * Pᵀ·ct. Max pooling picks the first maximal element of each window (padding never wins)
 * and exposes the argmax as gather (`maxPoolSelect`) and scatter-add (`maxPoolScatter`).
 */
import { allocate, isFloat, type DataArray, type DType } from "../dtype.js";
import { NDArray } from "../ndarray.js";
import { formatShape, sizeOf, type Shape } from "../shape.js";
import { matmul } from "./matmul.js";
import { formatValue } from "../../util/check.js";

/** Fully resolved convolution geometry, one entry per spatial dim. */
export interface ConvGeometry {
  strides: readonly number[];
  /** [lo, hi] zero padding per spatial dim. */
  padding: readonly (readonly [number, number])[];
  dilation: readonly number[];
  groups: number;
}

/** Fully resolved pooling geometry, one entry per spatial dim. */
export interface PoolGeometry {
  window: readonly number[];
  strides: readonly number[];
  padding: readonly (readonly [number, number])[];
}

/**
 * Output length of a convolution along one dim: ⌊(n + lo + hi − dil·(k−1) − 1) / s⌋ + 1
 * (0 or less when the dilated kernel does not fit the padded input).
 * @example ng.nd.convOutputSize(28, 3, 1, [1, 1], 1) // 28
 */
export function convOutputSize(
  n: number,
  k: number,
  stride: number,
  pad: readonly [number, number],
  dilation: number,
): number {
  return Math.floor((n + pad[0] + pad[1] - dilation * (k - 1) - 1) / stride) + 1;
}

const isPosInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;
const isNonNegInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/**
 * Validates per-dim strides/dilation/padding arrays of length `n` (names the op and field).
 * @example ng.nd.checkSpatialParams("conv", 2, { strides: [1, 1], padding: [[0, 0], [1, 1]] })
 */
export function checkSpatialParams(
  name: string,
  n: number,
  fields: {
    strides?: readonly number[];
    dilation?: readonly number[];
    window?: readonly number[];
    padding?: readonly (readonly [number, number])[];
  },
): void {
  for (const key of ["strides", "dilation", "window"] as const) {
    const v = fields[key];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.length !== n || !v.every(isPosInt)) {
      throw new RangeError(
        `${name}: ${key}: expected ${n} positive integers (one per spatial dim), got ${formatValue(v)}`,
      );
    }
  }
  const p = fields.padding;
  if (p !== undefined) {
    const ok =
      Array.isArray(p) &&
      p.length === n &&
      p.every((q) => Array.isArray(q) && q.length === 2 && q.every(isNonNegInt));
    if (!ok) {
      throw new RangeError(
        `${name}: padding: expected ${n} [lo, hi] pairs of non-negative integers, got ${formatValue(p)}`,
      );
    }
  }
}

/**
 * Validates a convolution of x (shape `xShape`) with w (shape `wShape`) and returns the
 * output shape [B, ...outSpatial, Cout]. Errors name the shapes, the groups and the dim.
 * @example ng.nd.convOutputShape([8, 28, 28, 1], [3, 3, 1, 16], { strides: [1, 1], padding: [[0, 0], [0, 0]], dilation: [1, 1], groups: 1 }) // [8, 26, 26, 16]
 */
export function convOutputShape(
  xShape: Shape,
  wShape: Shape,
  g: ConvGeometry,
  name = "conv",
): number[] {
  const n = wShape.length - 2;
  if (n < 1) {
    throw new RangeError(
      `${name}: w must have rank >= 3 ([...kernel, Cin/groups, Cout]), got shape ${formatShape(wShape)}`,
    );
  }
  if (xShape.length !== n + 2) {
    throw new RangeError(
      `${name}: x must have rank ${n + 2} ([B, ...spatial, Cin] for a ${n}-d kernel of shape ` +
        `${formatShape(wShape)}), got shape ${formatShape(xShape)}`,
    );
  }
  checkSpatialParams(name, n, g);
  if (!isPosInt(g.groups)) {
    throw new RangeError(`${name}: groups: expected a positive integer, got ${String(g.groups)}`);
  }
  const cin = xShape[n + 1]!;
  const cig = wShape[n]!;
  const cout = wShape[n + 1]!;
  const wDesc = `(w shape ${formatShape(wShape)}, groups ${g.groups})`;
  if (cin % g.groups !== 0) {
    throw new RangeError(
      `${name}: groups ${g.groups} does not divide the ${cin} input channels of x (shape ${formatShape(xShape)})`,
    );
  }
  if (cout % g.groups !== 0) {
    throw new RangeError(
      `${name}: groups ${g.groups} does not divide the ${cout} output channels of w (shape ${formatShape(wShape)})`,
    );
  }
  if (cin !== cig * g.groups) {
    throw new RangeError(
      `${name}: x has ${cin} input channels but w expects ${cig * g.groups} ${wDesc}`,
    );
  }
  const out = [xShape[0]!];
  for (let d = 0; d < n; d++) {
    const k = wShape[d]!;
    const o = convOutputSize(xShape[d + 1]!, k, g.strides[d]!, g.padding[d]!, g.dilation[d]!);
    if (k < 1 || o < 1) {
      const span = g.dilation[d]! * (k - 1) + 1;
      const padded = xShape[d + 1]! + g.padding[d]![0] + g.padding[d]![1];
      throw new RangeError(
        `${name}: kernel (dilated size ${span}) is larger than the padded input (size ${padded}) ` +
          `along spatial dim ${d}: x shape ${formatShape(xShape)}, w shape ${formatShape(wShape)}`,
      );
    }
    out.push(o);
  }
  out.push(cout);
  return out;
}

/**
 * Validates a pooling of x (shape [B, ...spatial, C]) and returns the output shape. Each
 * padding side must be smaller than the window, so every window holds an input element.
 * @example ng.nd.poolOutputShape([1, 4, 4, 3], { window: [2, 2], strides: [2, 2], padding: [[0, 0], [0, 0]] }) // [1, 2, 2, 3]
 */
export function poolOutputShape(xShape: Shape, g: PoolGeometry, name = "pool"): number[] {
  const n = xShape.length - 2;
  if (n < 1) {
    throw new RangeError(
      `${name}: x must have rank >= 3 ([B, ...spatial, C]), got shape ${formatShape(xShape)}`,
    );
  }
  checkSpatialParams(name, n, g);
  const out = [xShape[0]!];
  for (let d = 0; d < n; d++) {
    const k = g.window[d]!;
    const [lo, hi] = g.padding[d]!;
    if (lo >= k || hi >= k) {
      throw new RangeError(
        `${name}: padding [${lo}, ${hi}] along spatial dim ${d} must be smaller than the window (${k})`,
      );
    }
    const o = convOutputSize(xShape[d + 1]!, k, g.strides[d]!, [lo, hi], 1);
    if (o < 1) {
      throw new RangeError(
        `${name}: window ${k} is larger than the padded input (size ${xShape[d + 1]! + lo + hi}) ` +
          `along spatial dim ${d}: x shape ${formatShape(xShape)}`,
      );
    }
    out.push(o);
  }
  out.push(xShape[n + 1]!);
  return out;
}

// ---------------------------------------------------------------------------------------
// the patch table

/**
 * Offsets into a contiguous x [B, ...inSp, C] of channel 0 of the input element under
 * every (output row r, kernel tap t): tab[r·K + t], or -1 where the tap falls into padding.
 * Rows enumerate [B, ...outSp] row-major; taps enumerate the kernel row-major.
 */
function patchTable(
  xShape: Shape,
  kSp: readonly number[],
  outSp: readonly number[],
  strides: readonly number[],
  padding: readonly (readonly [number, number])[],
  dilation: readonly number[],
): Int32Array {
  const n = kSp.length;
  const B = xShape[0]!;
  const C = xShape[n + 1]!;
  const K = sizeOf(kSp);
  const R = B * sizeOf(outSp);
  // element strides of the spatial dims of x, and of the batch
  const xs = new Array<number>(n);
  let acc = C;
  for (let d = n - 1; d >= 0; d--) {
    xs[d] = acc;
    acc *= xShape[d + 1]!;
  }
  const xsB = acc;
  // tap offsets per dim: kOff[t·n + d] = k_d·dil_d
  const kOff = new Int32Array(K * n);
  const kIdx = new Array<number>(n).fill(0);
  for (let t = 0; t < K; t++) {
    for (let d = 0; d < n; d++) kOff[t * n + d] = kIdx[d]! * dilation[d]!;
    for (let d = n - 1; d >= 0; d--) {
      if (++kIdx[d]! < kSp[d]!) break;
      kIdx[d] = 0;
    }
  }
  const tab = new Int32Array(R * K);
  const o = new Array<number>(n).fill(0);
  const base = new Array<number>(n);
  let b = 0;
  for (let r = 0; r < R; r++) {
    for (let d = 0; d < n; d++) base[d] = o[d]! * strides[d]! - padding[d]![0];
    const rowOff = b * xsB;
    const tr = r * K;
    if (n === 2) {
      // the common 2-d case without the inner dim loop
      const b0 = base[0]!;
      const b1 = base[1]!;
      const n0 = xShape[1]!;
      const n1 = xShape[2]!;
      const s0 = xs[0]!;
      for (let t = 0; t < K; t++) {
        const i0 = b0 + kOff[2 * t]!;
        const i1 = b1 + kOff[2 * t + 1]!;
        tab[tr + t] = i0 >= 0 && i0 < n0 && i1 >= 0 && i1 < n1 ? rowOff + i0 * s0 + i1 * C : -1;
      }
    } else {
      for (let t = 0; t < K; t++) {
        let off = rowOff;
        for (let d = 0; d < n; d++) {
          const i = base[d]! + kOff[t * n + d]!;
          if (i < 0 || i >= xShape[d + 1]!) {
            off = -1;
            break;
          }
          off += i * xs[d]!;
        }
        tab[tr + t] = off;
      }
    }
    for (let d = n - 1; d >= 0; d--) {
      if (++o[d]! < outSp[d]!) break;
      o[d] = 0;
      if (d === 0) b++;
    }
  }
  return tab;
}

/** Sizes of one convolution problem (x [B, ...inSp, Cin], w [...kSp, Cig, Cout]). */
interface Plan {
  xShape: number[];
  wShape: number[];
  yShape: number[];
  outSp: number[];
  kSp: number[];
  G: number;
  Cin: number;
  Cig: number;
  Cout: number;
  Cog: number;
  K: number;
  R: number;
  /** K·Cig: the length of one group's patch. */
  KC: number;
  tab: Int32Array;
}

function makePlan(xShape: Shape, wShape: Shape, g: ConvGeometry, name: string): Plan {
  const yShape = convOutputShape(xShape, wShape, g, name);
  const n = wShape.length - 2;
  const kSp = wShape.slice(0, n);
  const outSp = yShape.slice(1, n + 1);
  const G = g.groups;
  const Cig = wShape[n]!;
  const Cout = wShape[n + 1]!;
  const K = sizeOf(kSp);
  return {
    xShape: xShape.slice(),
    wShape: wShape.slice(),
    yShape,
    outSp,
    kSp,
    G,
    Cin: Cig * G,
    Cig,
    Cout,
    Cog: Cout / G,
    K,
    R: yShape[0]! * sizeOf(outSp),
    KC: K * Cig,
    tab: patchTable(xShape, kSp, outSp, g.strides, g.padding, g.dilation),
  };
}

function checkFloat(name: string, arg: string, x: NDArray): void {
  if (!(x instanceof NDArray)) {
    throw new TypeError(`${name}: ${arg}: expected an NDArray, got ${typeof x}`);
  }
  if (!isFloat(x.dtype)) {
    throw new TypeError(`${name}: ${arg}: expected float32 or float64, got ${x.dtype}`);
  }
}

function checkSameDType(name: string, a: NDArray, b: NDArray, an: string, bn: string): DType {
  if (a.dtype !== b.dtype) {
    throw new TypeError(`${name}: ${an} (${a.dtype}) and ${bn} (${b.dtype}) must have one dtype`);
  }
  return a.dtype;
}

/** P[r·G·KC + g·KC + t·Cig + ci] = x[tab[r·K + t] + g·Cig + ci] (0 in the padding). */
function im2col(p: Plan, x: DataArray, dtype: DType): DataArray {
  const { R, K, G, Cig, KC, tab } = p;
  const P = allocate(dtype, R * G * KC);
  const rowLen = G * KC;
  for (let r = 0; r < R; r++) {
    const pr = r * rowLen;
    const tr = r * K;
    for (let t = 0; t < K; t++) {
      const s = tab[tr + t]!;
      if (s < 0) continue; // zeros already
      if (G === 1) {
        const q = pr + t * Cig;
        for (let c = 0; c < Cig; c++) P[q + c] = x[s + c]!;
      } else {
        for (let g = 0; g < G; g++) {
          const q = pr + g * KC + t * Cig;
          const sg = s + g * Cig;
          for (let c = 0; c < Cig; c++) P[q + c] = x[sg + c]!;
        }
      }
    }
  }
  return P;
}

/** Wraps a [G, M, N] result as [M, G·N] (a copy when G > 1): out[m, g·N + j] = a[g, m, j]. */
function ungroup(a: NDArray, G: number, M: number, N: number, shape: number[]): NDArray {
  const src = a.flat();
  if (G === 1) return new NDArray(src, shape);
  const out = allocate(a.dtype, G * M * N);
  const W = G * N;
  for (let g = 0; g < G; g++) {
    for (let m = 0; m < M; m++) {
      const s = (g * M + m) * N;
      const o = m * W + g * N;
      for (let j = 0; j < N; j++) out[o + j] = src[s + j]!;
    }
  }
  return new NDArray(out, shape);
}

/**
 * Direct loops over the patch table, for problems too thin for the packed matmul to pay:
 * fewer than 4 output channels per group (depthwise convolutions, mean pooling). Measured
 * on [8, 28, 28, C] inputs with 3×3 kernels: im2col + matmul is 1.5–3× faster than direct
 * loops from Cout/groups = 4 up, even for 1 input channel; direct loops win below that.
 */
const enum Direct {
  Forward,
  BackInput,
  BackKernel,
}

function useDirect(p: Plan): boolean {
  return p.Cog < 4;
}

/**
 * One loop nest for the three members of the family over rows r, taps t, groups g and
 * channels ci, co, with xv = x[tab[r·K + t] + g·Cig + ci], wv = w[(t·Cig + ci)·Cout + g·Cog + co],
 * yv = y[r·Cout + g·Cog + co]: Forward accumulates y += xv·wv, BackInput x += Σ yv·wv,
 * BackKernel w += xv·yv. `a` and `b` are the two inputs, `acc` the float64 output.
 */
function directLoop(p: Plan, mode: Direct, a: DataArray, b: DataArray, acc: Float64Array): void {
  const { R, K, G, Cig, Cog, Cout, tab } = p;
  if (Cig === 1 && Cog === 1) {
    depthwiseLoop(p, mode, a, b, acc);
    return;
  }
  for (let r = 0; r < R; r++) {
    const yr = r * Cout;
    for (let t = 0; t < K; t++) {
      const s = tab[r * K + t]!;
      if (s < 0) continue;
      for (let g = 0; g < G; g++) {
        const yg = yr + g * Cog;
        for (let ci = 0; ci < Cig; ci++) {
          const xi = s + g * Cig + ci;
          const wi = (t * Cig + ci) * Cout + g * Cog;
          if (mode === Direct.Forward) {
            const xv = a[xi]!; // a = x, b = w, acc = y
            for (let co = 0; co < Cog; co++) acc[yg + co]! += xv * b[wi + co]!;
          } else if (mode === Direct.BackInput) {
            let sum = 0; // a = y, b = w, acc = x
            for (let co = 0; co < Cog; co++) sum += a[yg + co]! * b[wi + co]!;
            acc[xi]! += sum;
          } else {
            const xv = a[xi]!; // a = x, b = y, acc = w
            for (let co = 0; co < Cog; co++) acc[wi + co]! += xv * b[yg + co]!;
          }
        }
      }
    }
  }
}

/** `directLoop` for a depthwise convolution (Cin/groups = Cout/groups = 1): channel loops are contiguous. */
function depthwiseLoop(p: Plan, mode: Direct, a: DataArray, b: DataArray, acc: Float64Array): void {
  const { R, K, G: C, tab } = p;
  for (let r = 0; r < R; r++) {
    const yr = r * C;
    for (let t = 0; t < K; t++) {
      const s = tab[r * K + t]!;
      if (s < 0) continue;
      const wt = t * C;
      if (mode === Direct.Forward) {
        for (let c = 0; c < C; c++) acc[yr + c]! += a[s + c]! * b[wt + c]!;
      } else if (mode === Direct.BackInput) {
        for (let c = 0; c < C; c++) acc[s + c]! += a[yr + c]! * b[wt + c]!;
      } else {
        for (let c = 0; c < C; c++) acc[wt + c]! += a[s + c]! * b[yr + c]!;
      }
    }
  }
}

function fromAcc(acc: Float64Array, dtype: DType, shape: number[]): NDArray {
  return new NDArray(dtype === "float64" ? acc : Float32Array.from(acc), shape);
}

/**
 * N-d convolution (cross-correlation, as in every DL library), channels-last:
 * y[b, o, g·Cog + co] = Σ_{t, ci} x[b, o·s + t·dil − lo, g·Cig + ci] · w[t, ci, g·Cog + co].
 * x and w must share a float dtype.
 * @example ng.nd.conv(ng.nd.ones([1, 4, 4, 1]), ng.nd.ones([3, 3, 1, 1]), { strides: [1, 1], padding: [[0, 0], [0, 0]], dilation: [1, 1], groups: 1 }) // 2x2 of 9
 */
export function conv(x: NDArray, w: NDArray, g: ConvGeometry): NDArray {
  checkFloat("conv", "x", x);
  checkFloat("conv", "w", w);
  const dtype = checkSameDType("conv", x, w, "x", "w");
  const p = makePlan(x.shape, w.shape, g, "conv");
  const { R, G, KC, Cog, Cout } = p;
  if (useDirect(p)) {
    const acc = new Float64Array(sizeOf(p.yShape));
    directLoop(p, Direct.Forward, x.flat(), w.flat(), acc);
    return fromAcc(acc, dtype, p.yShape);
  }
  const P = im2col(p, x.flat(), dtype);
  const wd = w.flat();
  const a = new NDArray(P, [G, R, KC], [KC, G * KC, 1], 0);
  const b = new NDArray(wd, [G, KC, Cog], [Cog, Cout, 1], 0);
  return ungroup(matmul(a, b), G, R, Cog, p.yShape);
}

/**
 * The adjoint of `conv` wrt x: the gradient of ⟨conv(x, w), ct⟩ wrt x, for x of shape
 * [B, ...inputSpatial, Cin] (ct must have conv's output shape for that x):
 * dx[b, i, g·Cig + ci] = Σ_{o, t : o·s + t·dil − lo = i} Σ_co ct[b, o, g·Cog + co] · w[t, ci, g·Cog + co].
 * @example
 * const geom = { strides: [1, 1], padding: [[0, 0], [0, 0]], dilation: [1, 1], groups: 1 };
 * ng.nd.convBackInput(ng.nd.ones([1, 2, 2, 1]), ng.nd.ones([3, 3, 1, 1]), geom, [4, 4]).shape // [1, 4, 4, 1]
 */
export function convBackInput(
  ct: NDArray,
  w: NDArray,
  g: ConvGeometry,
  inputSpatial: readonly number[],
): NDArray {
  checkFloat("convBackInput", "ct", ct);
  checkFloat("convBackInput", "w", w);
  const dtype = checkSameDType("convBackInput", ct, w, "ct", "w");
  const n = w.ndim - 2;
  const xShape = [ct.shape[0]!, ...inputSpatial, (w.shape[n] ?? 0) * g.groups];
  const p = makePlan(xShape, w.shape, g, "convBackInput");
  checkCtShape("convBackInput", ct.shape, p.yShape);
  const { R, G, K, KC, Cig, Cog, Cout, tab } = p;
  if (useDirect(p)) {
    const acc = new Float64Array(sizeOf(xShape));
    directLoop(p, Direct.BackInput, ct.flat(), w.flat(), acc);
    return fromAcc(acc, dtype, xShape);
  }
  const a = new NDArray(ct.flat(), [G, R, Cog], [Cog, Cout, 1], 0);
  const b = new NDArray(w.flat(), [G, Cog, KC], [Cog, 1, Cout], 0);
  const dP = matmul(a, b).flat(); // [G, R, KC]
  // col2im: scatter-add each patch entry back to its input element (float64 accumulation)
  const acc = new Float64Array(sizeOf(xShape));
  for (let r = 0; r < R; r++) {
    for (let t = 0; t < K; t++) {
      const s = tab[r * K + t]!;
      if (s < 0) continue;
      for (let gi = 0; gi < G; gi++) {
        const q = (gi * R + r) * KC + t * Cig;
        const sg = s + gi * Cig;
        for (let c = 0; c < Cig; c++) acc[sg + c]! += dP[q + c]!;
      }
    }
  }
  return fromAcc(acc, dtype, xShape);
}

/**
 * The adjoint of `conv` wrt w: the gradient of ⟨conv(x, w), ct⟩ wrt w, for w of shape
 * [...kernelSpatial, Cin/groups, Cout] (Cout = ct's channels):
 * dw[t, ci, g·Cog + co] = Σ_{b, o} x[b, o·s + t·dil − lo, g·Cig + ci] · ct[b, o, g·Cog + co].
 * @example
 * const geom = { strides: [1, 1], padding: [[0, 0], [0, 0]], dilation: [1, 1], groups: 1 };
 * ng.nd.convBackKernel(ng.nd.ones([1, 4, 4, 1]), ng.nd.ones([1, 2, 2, 1]), geom, [3, 3]) // 3x3 of 4
 */
export function convBackKernel(
  x: NDArray,
  ct: NDArray,
  g: ConvGeometry,
  kernelSpatial: readonly number[],
): NDArray {
  checkFloat("convBackKernel", "x", x);
  checkFloat("convBackKernel", "ct", ct);
  const dtype = checkSameDType("convBackKernel", x, ct, "x", "ct");
  const n = x.ndim - 2;
  const cin = x.shape[n + 1] ?? 0;
  const wShape = [...kernelSpatial, Math.floor(cin / g.groups), ct.shape[ct.ndim - 1] ?? 0];
  if (kernelSpatial.length !== n) {
    throw new RangeError(
      `convBackKernel: kernel shape ${formatShape(kernelSpatial)} needs ${n} spatial dims for x of shape ${formatShape(x.shape)}`,
    );
  }
  const p = makePlan(x.shape, wShape, g, "convBackKernel");
  checkCtShape("convBackKernel", ct.shape, p.yShape);
  const { R, G, KC, Cog, Cout } = p;
  if (useDirect(p)) {
    const acc = new Float64Array(sizeOf(wShape));
    directLoop(p, Direct.BackKernel, x.flat(), ct.flat(), acc);
    return fromAcc(acc, dtype, wShape);
  }
  const P = im2col(p, x.flat(), dtype);
  const a = new NDArray(P, [G, KC, R], [KC, 1, G * KC], 0);
  const b = new NDArray(ct.flat(), [G, R, Cog], [Cog, Cout, 1], 0);
  return ungroup(matmul(a, b), G, KC, Cog, wShape);
}

function checkCtShape(name: string, got: Shape, want: Shape): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new RangeError(
      `${name}: cotangent must have the convolution's output shape ${formatShape(want)}, got ${formatShape(got)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// max pooling

/**
 * For every output element of a max pooling of x (row-major over [B, ...outSp, C]), the
 * row-major index in x of its window's first maximal element (padding never wins; a NaN
 * wins over numbers).
 * @example
 * const x = ng.nd.fromNested([[[1], [3], [2], [0]]]); // [B=1, 4, C=1]
 * ng.nd.maxPoolArgmax(x, { window: [2], strides: [2], padding: [[0, 0]] }) // Int32Array [1, 2]
 */
export function maxPoolArgmax(x: NDArray, g: PoolGeometry): Int32Array {
  checkFloat("maxPool", "x", x);
  const yShape = poolOutputShape(x.shape, g, "maxPool");
  const n = x.ndim - 2;
  const C = x.shape[n + 1]!;
  const outSp = yShape.slice(1, n + 1);
  const dil = new Array<number>(n).fill(1);
  const tab = patchTable(x.shape, g.window, outSp, g.strides, g.padding, dil);
  const K = sizeOf(g.window);
  const R = yShape[0]! * sizeOf(outSp);
  const xd = x.flat();
  const idx = new Int32Array(R * C).fill(-1);
  const best = new Float64Array(C);
  for (let r = 0; r < R; r++) {
    const ir = r * C;
    for (let t = 0; t < K; t++) {
      const s = tab[r * K + t]!;
      if (s < 0) continue;
      for (let c = 0; c < C; c++) {
        const v = xd[s + c]!;
        const b = best[c]!;
        // strict > keeps the first maximum; a NaN wins once and then stays (b !== b)
        if (idx[ir + c]! < 0 || (b === b && (v > b || v !== v))) {
          best[c] = v;
          idx[ir + c] = s + c;
        }
      }
    }
  }
  return idx;
}

/**
 * Max pooling of x [B, ...spatial, C] over windows (channels-last); padding acts as −∞.
 * @example ng.nd.maxPool(ng.nd.fromNested([[[1], [3], [2], [0]]]), { window: [2], strides: [2], padding: [[0, 0]] }) // [[[3], [2]]]
 */
export function maxPool(x: NDArray, g: PoolGeometry): NDArray {
  const idx = maxPoolArgmax(x, g);
  const yShape = poolOutputShape(x.shape, g, "maxPool");
  const xd = x.flat();
  const out = allocate(x.dtype, idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = idx[i]! < 0 ? -Infinity : xd[idx[i]!]!;
  return new NDArray(out, yShape);
}

/**
 * Gathers t (shape of x) at the argmax of each pooling window of x: the tangent of
 * maxPool(x) in direction t. Linear in t.
 * @example
 * const x = ng.nd.fromNested([[[1], [3], [2], [0]]]); // [B=1, 4, C=1]
 * const geom = { window: [2], strides: [2], padding: [[0, 0]] };
 * ng.nd.maxPoolSelect(ng.nd.fromNested([[[10], [11], [12], [13]]]), x, geom).toArray() // [[[11], [12]]]
 */
export function maxPoolSelect(t: NDArray, x: NDArray, g: PoolGeometry): NDArray {
  checkFloat("maxPoolSelect", "t", t);
  checkShapesMatch("maxPoolSelect", t.shape, x.shape);
  const idx = maxPoolArgmax(x, g);
  const yShape = poolOutputShape(x.shape, g, "maxPool");
  const td = t.flat();
  const out = allocate(t.dtype, idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = idx[i]! < 0 ? 0 : td[idx[i]!]!;
  return new NDArray(out, yShape);
}

/**
 * Scatter-adds ct (maxPool's output shape) into zeros of x's shape at the argmax of each
 * window of x: the adjoint of `maxPoolSelect` in t.
 * @example
 * const x = ng.nd.fromNested([[[1], [3], [2], [0]]]); // [B=1, 4, C=1]
 * const geom = { window: [2], strides: [2], padding: [[0, 0]] };
 * ng.nd.maxPoolScatter(ng.nd.fromNested([[[5], [6]]]), x, geom).toArray() // [[[0], [5], [6], [0]]]
 */
export function maxPoolScatter(ct: NDArray, x: NDArray, g: PoolGeometry): NDArray {
  checkFloat("maxPoolScatter", "ct", ct);
  const idx = maxPoolArgmax(x, g);
  const yShape = poolOutputShape(x.shape, g, "maxPool");
  checkShapesMatch("maxPoolScatter", ct.shape, yShape);
  const cd = ct.flat();
  const acc = new Float64Array(x.size);
  for (let i = 0; i < idx.length; i++) if (idx[i]! >= 0) acc[idx[i]!]! += cd[i]!;
  return new NDArray(ct.dtype === "float64" ? acc : Float32Array.from(acc), x.shape);
}

function checkShapesMatch(name: string, got: Shape, want: Shape): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new RangeError(`${name}: expected shape ${formatShape(want)}, got ${formatShape(got)}`);
  }
}
