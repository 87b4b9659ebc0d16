/**
 * Sparsity detection and graph colouring for `ng.di.autoSparse`: f is staged to IR (`stageFlat`) and a set of input element indices is propagated
 * through every equation — elementwise ops take the union of the same element of their
 * float inputs, movement ops (broadcast, reshape, transpose, slice, pad, flip,
 * concatenate, take with constant indices, ...) map indices, reductions take the union of
 * the reduced fibre, matmul the union of a row and a column; ops with zero derivative
 * (floor, sign, comparisons, stopGradient) give the empty set, and any primitive not
 * modelled here (conv, pooling, nested call primitives) depends densely on all its inputs,
 * which is conservative and always correct. The Hessian pattern is the Jacobian pattern of
 * the staged gradient. Columns (forward) or rows (reverse) that share no nonzero row
 * (column) get one colour by greedy distance-2 colouring; one compressed pass per colour
 * then recovers every nonzero.
 */
import type { IR, Var } from "../core/ir.js";
import { Tensor, Tracer } from "../core/tensor.js";
import { isFloat } from "../tensor/dtype.js";
import { stageFlat } from "../transforms/make_ir.js";
import { withConfig } from "../config.js";

/** A sparsity pattern in compressed sparse row form. */
export interface Pattern {
  readonly kind: "jacobian" | "hessian";
  readonly rows: number;
  readonly cols: number;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly nnz: number;
  /** Shapes and dtypes of x it was detected for (checked when it is reused). */
  readonly signature: string;
}

/** A colouring of a pattern's columns ("column": pushforwards) or rows ("row": pullbacks). */
export interface Coloring {
  readonly mode: "column" | "row";
  readonly colors: Int32Array;
  /** Number of colours = number of compressed passes. */
  readonly count: number;
}

type Deps = Int32Array[];
const EMPTY = new Int32Array(0);

/** The union of sorted index sets (shares the input when only one is non-empty). */
function union(sets: readonly Int32Array[]): Int32Array {
  let first: Int32Array | null = null;
  let multi = false;
  let total = 0;
  for (const s of sets) {
    if (s.length === 0) continue;
    total += s.length;
    if (first === null) first = s;
    else if (s !== first) multi = true;
  }
  if (first === null) return EMPTY;
  if (!multi) return first;
  const buf = new Int32Array(total);
  let o = 0;
  for (const s of sets) {
    buf.set(s, o);
    o += s.length;
  }
  buf.sort();
  let w = 0;
  for (let i = 0; i < buf.length; i++) if (i === 0 || buf[i] !== buf[w - 1]) buf[w++] = buf[i]!;
  return buf.slice(0, w);
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Calls fn(multiIndex, flat) for every element of `shape` in row-major order. */
function forEachIndex(shape: readonly number[], fn: (m: number[], flat: number) => void): void {
  const n = sizeOf(shape);
  const m = shape.map(() => 0);
  for (let i = 0; i < n; i++) {
    fn(m, i);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++m[d]! < shape[d]!) break;
      m[d] = 0;
    }
  }
}

/** Output deps from an index map: out element -> input flat index (-1: no dependency). */
function gather(outShape: readonly number[], src: Deps, map: (m: number[]) => number): Deps {
  const out: Deps = new Array(sizeOf(outShape));
  forEachIndex(outShape, (m, i) => {
    const j = map(m);
    out[i] = j < 0 ? EMPTY : src[j]!;
  });
  return out;
}

/** Output deps as unions over groups: each input element adds its deps to out[map(m)]. */
function scatter(
  inShape: readonly number[],
  src: Deps,
  outSize: number,
  map: (m: number[]) => number,
): Deps {
  const groups: Int32Array[][] = Array.from({ length: outSize }, () => []);
  forEachIndex(inShape, (m, i) => {
    const j = map(m);
    if (j >= 0) groups[j]!.push(src[i]!);
  });
  return groups.map(union);
}

const ZERO_DERIVATIVE = new Set([
  "argmax",
  "argmin",
  "ceil",
  "floor",
  "round",
  "sign",
  "stopGradient",
]);

const ELEMENTWISE = new Set([
  "abs",
  "add",
  "atan2",
  "cast",
  "cos",
  "div",
  "erf",
  "exp",
  "expm1",
  "log",
  "log1p",
  "maximum",
  "minimum",
  "mod",
  "mul",
  "neg",
  "pow",
  "rsqrt",
  "sigmoid",
  "sin",
  "sqrt",
  "sub",
  "tan",
  "tanh",
  "where",
]);

/** Concrete int indices of a constant input, or null when they are not known. */
function concreteIndices(t: Tensor | undefined): Int32Array | null {
  if (t === undefined || t instanceof Tracer) return null;
  return Int32Array.from(t.dataSync() as ArrayLike<number>);
}

/** The deps of one equation's outputs. */
function rule(
  name: string,
  params: any,
  ins: readonly { shape: readonly number[]; deps: Deps | null; value?: Tensor }[],
  outs: readonly { shape: readonly number[]; float: boolean }[],
): Deps[] {
  const dense = (): Deps[] => {
    const all = union(ins.flatMap((i) => (i.deps ? [union(i.deps)] : [])));
    return outs.map((o) => new Array<Int32Array>(sizeOf(o.shape)).fill(all));
  };
  if (outs.length !== 1) return dense();
  const out = outs[0]!;
  const outSize = sizeOf(out.shape);
  if (!out.float || ZERO_DERIVATIVE.has(name)) return [new Array<Int32Array>(outSize).fill(EMPTY)];
  const x = ins[0]!;
  const xd = x.deps ?? new Array<Int32Array>(sizeOf(x.shape)).fill(EMPTY);
  const p = params as Record<string, any>;
  switch (name) {
    case "reshape":
      return [xd];
    case "broadcastTo": {
      const lead = out.shape.length - x.shape.length;
      const st = stridesOf(x.shape);
      return [
        gather(out.shape, xd, (m) =>
          x.shape.reduce((acc, d, k) => acc + (d === 1 ? 0 : m[k + lead]! * st[k]!), 0),
        ),
      ];
    }
    case "transpose": {
      const st = stridesOf(x.shape);
      const perm = p.perm as number[];
      return [gather(out.shape, xd, (m) => perm.reduce((acc, a, d) => acc + m[d]! * st[a]!, 0))];
    }
    case "slice": {
      const st = stridesOf(x.shape);
      return [
        gather(out.shape, xd, (m) =>
          m.reduce((acc, v, d) => acc + (p.starts[d] + v * p.steps[d]) * st[d]!, 0),
        ),
      ];
    }
    case "sliceScatter": {
      const st = stridesOf(out.shape);
      return [
        scatter(x.shape, xd, outSize, (m) =>
          m.reduce((acc, v, d) => acc + (p.starts[d] + v * p.steps[d]) * st[d]!, 0),
        ),
      ];
    }
    case "pad": {
      const st = stridesOf(x.shape);
      const w = p.widths as [number, number][];
      return [
        gather(out.shape, xd, (m) => {
          let acc = 0;
          for (let d = 0; d < m.length; d++) {
            const v = m[d]! - w[d]![0];
            if (v < 0 || v >= x.shape[d]!) return -1;
            acc += v * st[d]!;
          }
          return acc;
        }),
      ];
    }
    case "flip": {
      const st = stridesOf(x.shape);
      const axes = p.axes as number[];
      return [
        gather(out.shape, xd, (m) =>
          m.reduce((acc, v, d) => acc + (axes.includes(d) ? x.shape[d]! - 1 - v : v) * st[d]!, 0),
        ),
      ];
    }
    case "concatenate": {
      const axis = p.axis as number;
      const starts: number[] = [];
      let acc = 0;
      for (const i of ins) {
        starts.push(acc);
        acc += i.shape[axis]!;
      }
      const out0: Deps = new Array(outSize);
      forEachIndex(out.shape, (m, flat) => {
        let k = starts.length - 1;
        while (m[axis]! < starts[k]!) k--;
        const src = ins[k]!;
        if (!src.deps) return void (out0[flat] = EMPTY);
        const st = stridesOf(src.shape);
        let j = 0;
        for (let d = 0; d < m.length; d++) j += (d === axis ? m[d]! - starts[k]! : m[d]!) * st[d]!;
        out0[flat] = src.deps[j]!;
      });
      return [out0];
    }
    case "sum":
    case "max":
    case "min":
    case "prod": {
      const axes = p.axes as number[];
      const st = stridesOf(out.shape);
      return [
        scatter(x.shape, xd, outSize, (m) => {
          let acc = 0;
          let k = 0;
          for (let d = 0; d < m.length; d++) {
            if (axes.includes(d)) {
              if (p.keepdims) k++;
              continue;
            }
            acc += m[d]! * st[k++]!;
          }
          return acc;
        }),
      ];
    }
    case "matmul": {
      const y = ins[1]!;
      const yd = y.deps ?? new Array<Int32Array>(sizeOf(y.shape)).fill(EMPTY);
      const r = x.shape.length;
      const [mm, kk] = [x.shape[r - 2]!, x.shape[r - 1]!];
      const nn = y.shape[r - 1]!;
      const batch = sizeOf(x.shape.slice(0, r - 2));
      const rowU: Int32Array[] = [];
      const colU: Int32Array[] = [];
      for (let b = 0; b < batch; b++) {
        for (let i = 0; i < mm; i++)
          rowU.push(union(xd.slice((b * mm + i) * kk, (b * mm + i + 1) * kk)));
        for (let j = 0; j < nn; j++) {
          const col: Int32Array[] = [];
          for (let k = 0; k < kk; k++) col.push(yd[(b * kk + k) * nn + j]!);
          colU.push(union(col));
        }
      }
      const o: Deps = new Array(outSize);
      for (let b = 0; b < batch; b++)
        for (let i = 0; i < mm; i++)
          for (let j = 0; j < nn; j++)
            o[(b * mm + i) * nn + j] = union([rowU[b * mm + i]!, colU[b * nn + j]!]);
      return [o];
    }
    case "take": {
      const idx = concreteIndices(ins[1]!.value);
      if (idx === null) return dense();
      const axis = p.axis as number;
      const n = x.shape[axis]!;
      const st = stridesOf(x.shape);
      const ni = ins[1]!.shape.length;
      const ist = stridesOf(ins[1]!.shape);
      return [
        gather(out.shape, xd, (m) => {
          let acc = 0;
          for (let d = 0; d < axis; d++) acc += m[d]! * st[d]!;
          let q = 0;
          for (let d = 0; d < ni; d++) q += m[axis + d]! * ist[d]!;
          const v = idx[q]!;
          acc += (v < 0 ? v + n : v) * st[axis]!;
          for (let d = axis + 1; d < x.shape.length; d++) acc += m[d + ni - 1]! * st[d]!;
          return acc;
        }),
      ];
    }
    case "takeTranspose": {
      const idx = concreteIndices(ins[1]!.value);
      if (idx === null) return dense();
      const axis = p.axis as number;
      const n = out.shape[axis]!;
      const st = stridesOf(out.shape);
      const ni = ins[1]!.shape.length;
      const ist = stridesOf(ins[1]!.shape);
      return [
        scatter(x.shape, xd, outSize, (m) => {
          let acc = 0;
          for (let d = 0; d < axis; d++) acc += m[d]! * st[d]!;
          let q = 0;
          for (let d = 0; d < ni; d++) q += m[axis + d]! * ist[d]!;
          const v = idx[q]!;
          acc += (v < 0 ? v + n : v) * st[axis]!;
          for (let d = axis + 1; d < out.shape.length; d++) acc += m[d + ni - 1]! * st[d]!;
          return acc;
        }),
      ];
    }
  }
  if (ELEMENTWISE.has(name) && ins.every((i) => i.shape.length === out.shape.length)) {
    const o: Deps = new Array(outSize);
    const srcs = ins.filter((i) => i.deps !== null && sizeOf(i.shape) === outSize);
    if (srcs.length === ins.filter((i) => i.deps !== null).length) {
      for (let k = 0; k < outSize; k++) o[k] = union(srcs.map((s) => s.deps![k]!));
      return [o];
    }
  }
  return dense();
}

/** Propagates element dependency sets through `ir`; inputs are numbered by `offsets`. */
export function dependencies(ir: IR, offsets: readonly number[]): Deps[] {
  const env = new Map<Var, Deps | null>();
  const values = new Map<Var, Tensor>();
  ir.inVars.forEach((v, i) => {
    if (!isFloat(v.aval.dtype)) return void env.set(v, null);
    const base = offsets[i]!;
    env.set(
      v,
      Array.from({ length: v.aval.size }, (_x, k) => Int32Array.of(base + k)),
    );
  });
  ir.constVars.forEach((v, i) => {
    env.set(v, null);
    values.set(v, ir.consts[i]!);
  });
  for (const e of ir.eqns) {
    const ins = e.inputs.map((v) => {
      const deps = isFloat(v.aval.dtype) ? (env.get(v) ?? null) : null;
      const value = values.get(v);
      return value === undefined
        ? { shape: v.aval.shape, deps }
        : { shape: v.aval.shape, deps, value };
    });
    const outs = rule(
      e.prim.name,
      e.params,
      ins,
      e.outputs.map((v) => ({ shape: v.aval.shape, float: isFloat(v.aval.dtype) })),
    );
    e.outputs.forEach((v, i) => env.set(v, outs[i]!));
  }
  return ir.outVars.map((v) => env.get(v) ?? new Array<Int32Array>(v.aval.size).fill(EMPTY));
}

/** The pattern of the flat function `fn` (outputs raveled and joined as rows). */
export function detectPattern(
  fn: (xs: Tensor[]) => Tensor[],
  xs: readonly Tensor[],
  kind: "jacobian" | "hessian",
  signature: string,
): Pattern {
  // Inner derivatives are expanded to primitives (no call primitives) so they can be analysed.
  const ir = withConfig({ nestedSwitching: false }, () =>
    stageFlat(fn, xs, `ng.di ${kind} sparsity`),
  );
  const offsets: number[] = [];
  let n = 0;
  for (const x of xs) {
    offsets.push(n);
    n += x.size;
  }
  const rowsDeps = dependencies(ir, offsets).flat();
  const rowPtr = new Int32Array(rowsDeps.length + 1);
  rowsDeps.forEach((d, r) => (rowPtr[r + 1] = rowPtr[r]! + d.length));
  const colIdx = new Int32Array(rowPtr[rowsDeps.length]!);
  rowsDeps.forEach((d, r) => colIdx.set(d, rowPtr[r]!));
  return {
    kind,
    rows: rowsDeps.length,
    cols: n,
    rowPtr,
    colIdx,
    nnz: colIdx.length,
    signature,
  };
}

/** The transposed pattern (columns as rows). */
function transposeCSR(p: Pattern): { ptr: Int32Array; idx: Int32Array } {
  const ptr = new Int32Array(p.cols + 1);
  for (let k = 0; k < p.nnz; k++) ptr[p.colIdx[k]! + 1]!++;
  for (let j = 0; j < p.cols; j++) ptr[j + 1]! += ptr[j]!;
  const idx = new Int32Array(p.nnz);
  const fill = ptr.slice(0, p.cols);
  for (let r = 0; r < p.rows; r++)
    for (let k = p.rowPtr[r]!; k < p.rowPtr[r + 1]!; k++) idx[fill[p.colIdx[k]!]!++] = r;
  return { ptr, idx };
}

/**
 * Greedy distance-2 colouring of the items of `itemPtr/itemIdx` (item -> its lines) where
 * two items conflict when they share a line (`linePtr/lineIdx`: line -> its items).
 */
function greedy(
  nItems: number,
  itemPtr: Int32Array,
  itemIdx: Int32Array,
  linePtr: Int32Array,
  lineIdx: Int32Array,
): { colors: Int32Array; count: number } {
  const colors = new Int32Array(nItems).fill(-1);
  const mark = new Int32Array(nItems + 1).fill(-1);
  let count = 0;
  for (let j = 0; j < nItems; j++) {
    for (let a = itemPtr[j]!; a < itemPtr[j + 1]!; a++) {
      const line = itemIdx[a]!;
      for (let b = linePtr[line]!; b < linePtr[line + 1]!; b++) {
        const c = colors[lineIdx[b]!]!;
        if (c >= 0) mark[c] = j;
      }
    }
    let c = 0;
    while (mark[c] === j) c++;
    colors[j] = c;
    if (c + 1 > count) count = c + 1;
  }
  return { colors, count };
}

/** Colours columns (for compressed pushforwards) or rows (for compressed pullbacks). */
export function colorPattern(p: Pattern, mode: "column" | "row"): Coloring {
  const t = transposeCSR(p);
  const r =
    mode === "column"
      ? greedy(p.cols, t.ptr, t.idx, p.rowPtr, p.colIdx)
      : greedy(p.rows, p.rowPtr, p.colIdx, t.ptr, t.idx);
  return { mode, ...r };
}

/** The members of each colour. */
export function colorGroups(c: Coloring): number[][] {
  const groups: number[][] = Array.from({ length: c.count }, () => []);
  c.colors.forEach((k, j) => groups[k]!.push(j));
  return groups;
}

/**
 * Gather/scatter indices that decompress compressed results C (colours × compressed
 * length, flattened) into the dense [rows, cols] matrix (flattened): J[dst] = C[src].
 */
export function decompressionIndices(
  p: Pattern,
  c: Coloring,
): { src: Int32Array; dst: Int32Array } {
  const src = new Int32Array(p.nnz);
  const dst = new Int32Array(p.nnz);
  for (let r = 0; r < p.rows; r++) {
    for (let k = p.rowPtr[r]!; k < p.rowPtr[r + 1]!; k++) {
      const j = p.colIdx[k]!;
      dst[k] = r * p.cols + j;
      src[k] = c.mode === "column" ? c.colors[j]! * p.rows + r : c.colors[r]! * p.cols + j;
    }
  }
  return { src, dst };
}
