/**
 * Element dependency propagation over staged IR: each input element is numbered, and
 * every equation maps the index sets of its inputs' elements to its outputs' — elementwise
 * ops take the union of the same element of their float inputs, movement ops (broadcast,
 * reshape, transpose, slice, pad, flip, concatenate, take with constant indices, ...) map
 * indices, reductions take the union of the reduced fibre, matmul the union of a row and a
 * column; ops with zero derivative (floor, sign, comparisons, stopGradient) give the empty
 * set, and any primitive not modelled here (conv, pooling, call primitives) depends densely
 * on all its inputs, which is conservative and always correct. The result is the
 * structural sparsity pattern of the Jacobian: `ng.di`'s sparsity detection and nested
 * switching's per-sample structure detection both read it.
 */
import type { IR, Var } from "../core/ir.js";
import { Tensor, Tracer } from "../core/tensor.js";
import { isFloat } from "../tensor/dtype.js";

/** Per element, the sorted input element indices it depends on. */
export type Deps = Int32Array[];
export const EMPTY = new Int32Array(0);

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

/**
 * For `take` along `axis` with constant indices `idx` (shape `idxShape`) from an array of
 * `shape`: maps a multi-index of the taken result to the flat index of the element of the
 * array it reads (and `takeTranspose` scatters into).
 */
function takenElement(
  idx: Int32Array,
  axis: number,
  shape: readonly number[],
  idxShape: readonly number[],
): (m: number[]) => number {
  const n = shape[axis]!;
  const st = stridesOf(shape);
  const ni = idxShape.length;
  const ist = stridesOf(idxShape);
  return (m) => {
    let acc = 0;
    for (let d = 0; d < axis; d++) acc += m[d]! * st[d]!;
    let q = 0;
    for (let d = 0; d < ni; d++) q += m[axis + d]! * ist[d]!;
    const v = idx[q]!;
    acc += (v < 0 ? v + n : v) * st[axis]!;
    for (let d = axis + 1; d < shape.length; d++) acc += m[d + ni - 1]! * st[d]!;
    return acc;
  };
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
      return [gather(out.shape, xd, takenElement(idx, p.axis as number, x.shape, ins[1]!.shape))];
    }
    case "takeTranspose": {
      const idx = concreteIndices(ins[1]!.value);
      if (idx === null) return dense();
      const at = takenElement(idx, p.axis as number, out.shape, ins[1]!.shape);
      return [scatter(x.shape, xd, outSize, at)];
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
