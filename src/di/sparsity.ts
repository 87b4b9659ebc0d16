/**
 * Sparsity detection and graph colouring for `ng.di.autoSparse`: f is staged to IR (`stageFlat`) and a set of input element indices is propagated
 * through every equation (transforms/dependencies.ts), which is conservative and always
 * correct. The Hessian pattern is the Jacobian pattern of
 * the staged gradient. Columns (forward) or rows (reverse) that share no nonzero row
 * (column) get one colour by greedy distance-2 colouring; one compressed pass per colour
 * then recovers every nonzero.
 */
import type { Tensor } from "../core/tensor.js";
import { dependencies } from "../transforms/dependencies.js";
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
