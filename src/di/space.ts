/**
 * The flat index space of a pytree of tensors: every
 * operator that builds a matrix (jacobian, hessian, sparse compression) numbers the
 * elements of all leaves one after another, row-major, leaf by leaf in flatten order.
 * This module makes basis and seed directions in that numbering, ravels trees into one
 * vector and cuts a [m, n] matrix back into blocks [...outShape, ...inShape] per pair of
 * leaves — with nestgrad ops, so every result stays differentiable.
 */
import { Tensor } from "../core/tensor.js";
import { flatten, leafPaths, unflatten, type TreeDef } from "../core/tree.js";
import { allocate, isFloat, promoteTypes, type DType } from "../tensor/dtype.js";
import { NDArray } from "../tensor/ndarray.js";
import { formatShape, shapesEqual } from "../tensor/shape.js";
import { describeValue, fromNDArray, scalar } from "../primitives/convert.js";
import { cast } from "../primitives/cast.js";
import { concatenate } from "../primitives/concatenate.js";
import { reshape } from "../primitives/reshape.js";
import { sliceResolved } from "../primitives/slice.js";

/** A pytree of tensors with its leaves' sizes and offsets in the flat numbering. */
export interface Space {
  leaves: Tensor[];
  def: TreeDef;
  paths: string[];
  sizes: number[];
  offsets: number[];
  /** Total number of elements. */
  n: number;
  /** The promoted dtype of all leaves (the dtype of raveled vectors). */
  dtype: DType;
}

/**
 * Flattens a pytree of tensors (number leaves become float64 scalars, JS numbers being
 * doubles); `what` names the tree in errors.
 */
export function spaceOf(tree: unknown, what: string): Space {
  const [raw, def] = flatten(tree, what);
  const paths = leafPaths(def);
  const leaves = raw.map((l, i) => {
    if (l instanceof Tensor) return l;
    if (typeof l === "number") return scalar(l, "float64");
    throw new TypeError(
      `${what}${paths[i]}: expected a Tensor or a number, got ${describeValue(l)}`,
    );
  });
  return spaceOfLeaves(leaves, def, paths);
}

export function spaceOfLeaves(leaves: Tensor[], def: TreeDef, paths = leafPaths(def)): Space {
  const sizes = leaves.map((l) => l.size);
  const offsets: number[] = [];
  let n = 0;
  for (const s of sizes) {
    offsets.push(n);
    n += s;
  }
  const dtype = leaves.reduce<DType>(
    (d, l) => promoteTypes(d, l.dtype),
    leaves[0]?.dtype ?? "float32",
  );
  return { leaves, def, paths, sizes, offsets, n, dtype };
}

/** Throws unless every leaf is floating point (only those can be differentiated). */
export function checkFloat(s: Space, op: string, what: string): void {
  s.leaves.forEach((l, i) => {
    if (!isFloat(l.dtype)) {
      throw new TypeError(
        `${op}: ${what}${s.paths[i]} has dtype ${l.dtype}; only float32/float64 values can be differentiated ` +
          `(pass it in a ng.di.constant(...) context instead)`,
      );
    }
  });
}

/** Checks that `tree` has the structure and shapes of `ref`; returns its leaves cast to ref's dtypes. */
export function matchSpace(ref: Space, tree: unknown, op: string, what: string, against: string) {
  const s = spaceOf(tree, `${op}: ${what}`);
  if (s.leaves.length !== ref.leaves.length || JSON.stringify(s.def) !== JSON.stringify(ref.def)) {
    throw new TypeError(
      `${op}: ${what} must have the structure of ${against} (${ref.leaves.length} leaves), got ${s.leaves.length} leaves`,
    );
  }
  return s.leaves.map((l, i) => {
    const r = ref.leaves[i]!;
    if (!shapesEqual(l.shape, r.shape)) {
      throw new RangeError(
        `${op}: ${what}${ref.paths[i]}: shape ${formatShape(l.shape)} does not match the ${against} shape ${formatShape(r.shape)}`,
      );
    }
    return l.dtype === r.dtype ? l : cast(l, r.dtype);
  });
}

/** The tree of `s` with ones at the flat indices `cols` (one index: a basis direction). */
export function seedTree(s: Space, cols: ArrayLike<number>): unknown {
  const datas = s.leaves.map((l) => allocate(l.dtype, l.size));
  let leaf = 0;
  const sorted = Array.from(cols).sort((a, b) => a - b);
  for (const j of sorted) {
    while (j >= s.offsets[leaf]! + s.sizes[leaf]!) leaf++;
    datas[leaf]![j - s.offsets[leaf]!] = 1;
  }
  return unflatten(
    s.def,
    datas.map((d, i) => fromNDArray(new NDArray(d, s.leaves[i]!.shape))),
  );
}

/** The leaves of `leaves` raveled and joined into one vector of dtype `dtype`. */
export function ravel(leaves: readonly Tensor[], dtype: DType): Tensor {
  if (leaves.length === 0) return fromNDArray(new NDArray(allocate(dtype, 0), [0]));
  const parts = leaves.map((l) => {
    const r = reshape(l, [l.size]);
    return r.dtype === dtype ? r : cast(r, dtype);
  });
  return concatenate(parts, 0);
}

/** A vector of length s.n cut back into a tree shaped (and typed) like s. */
export function unravel(v: Tensor, s: Space): unknown {
  return unflatten(
    s.def,
    s.leaves.map((l, i) => {
      const part = sliceResolved(v, {
        starts: [s.offsets[i]!],
        stops: [s.offsets[i]! + s.sizes[i]!],
        steps: [1],
      });
      const r = reshape(part, l.shape);
      return r.dtype === l.dtype ? r : cast(r, l.dtype);
    }),
  );
}

/**
 * Cuts a [out.n, inn.n] matrix into blocks: the result has out's structure outside and
 * inn's inside, each block of shape [...outLeafShape, ...inLeafShape] (as ng.jacrev).
 */
export function blocks(J: Tensor, out: Space, inn: Space): unknown {
  const perOut = out.leaves.map((o, a) => {
    const row = inn.leaves.map((x, b) => {
      const part = sliceResolved(J, {
        starts: [out.offsets[a]!, inn.offsets[b]!],
        stops: [out.offsets[a]! + out.sizes[a]!, inn.offsets[b]! + inn.sizes[b]!],
        steps: [1, 1],
      });
      const r = reshape(part, [...o.shape, ...x.shape]);
      return r.dtype === o.dtype ? r : cast(r, o.dtype);
    });
    return unflatten(inn.def, row);
  });
  return unflatten(out.def, perOut);
}
