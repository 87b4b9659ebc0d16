/**
 * Shared argument handling of the transforms: flattening pytrees of
 * arguments into tensors with their paths, argnums selection, and validation of tangents
 * and cotangents against primals with errors that name the path and the shapes.
 */
import { Tensor } from "../core/tensor.js";
import { flatten, leafPaths, assertSameStructure, type TreeDef } from "../core/tree.js";
import { isFloat } from "../tensor/dtype.js";
import { formatShape, shapesEqual } from "../tensor/shape.js";
import { describeValue, scalar } from "../primitives/convert.js";
import { formatValue } from "../util/check.js";

/** A flattened pytree of tensors with the path of each leaf. */
export interface FlatTree {
  leaves: Tensor[];
  def: TreeDef;
  paths: string[];
}

/** Flattens `tree`, converting number leaves to float32 scalars; `what` names the tree in errors. */
export function flattenTensors(tree: unknown, what: string): FlatTree {
  const [raw, def] = flatten(tree, what);
  const paths = leafPaths(def);
  const leaves = raw.map((l, i) => {
    if (l instanceof Tensor) return l;
    if (typeof l === "number") return scalar(l, "float32");
    throw new TypeError(
      `${what}${paths[i]}: expected a Tensor or a number, got ${describeValue(l)}`,
    );
  });
  return { leaves, def, paths };
}

/** Validates argnums against the number of arguments and returns them as a list. */
export function normalizeArgnums(
  argnums: number | readonly number[],
  nargs: number,
  fname: string,
): number[] {
  if (typeof argnums !== "number" && !Array.isArray(argnums)) {
    throw new TypeError(
      `${fname}: argnums must be an integer or a list of integers, got ${formatValue(argnums)}`,
    );
  }
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  if (list.length === 0) throw new RangeError(`${fname}: argnums must name at least one argument`);
  for (const a of list) {
    if (!Number.isInteger(a) || a < 0 || a >= nargs) {
      throw new RangeError(
        `${fname}: argnums ${formatValue(argnums)} is out of range: the function was called with ${nargs} argument(s)`,
      );
    }
  }
  if (new Set(list).size !== list.length)
    throw new RangeError(`${fname}: argnums ${formatValue(argnums)} has duplicates`);
  return list;
}

/** Checks that differentiated inputs are floating point. */
export function checkFloatInputs(flat: FlatTree, fname: string, what: string): void {
  flat.leaves.forEach((x, i) => {
    if (!isFloat(x.dtype)) {
      throw new TypeError(
        `${fname}: ${what}${flat.paths[i]} has dtype ${x.dtype}; only float32/float64 inputs can be differentiated ` +
          `(pass it as a non-differentiated argument, see argnums)`,
      );
    }
  });
}

/**
 * Checks that `other` (tangents or cotangents) has the structure, shapes and dtypes of
 * `ref` and returns its leaves; errors name `what` and the path.
 */
export function matchTree(ref: FlatTree, other: unknown, what: string, against: string): Tensor[] {
  const flat = flattenTensors(other, what);
  assertSameStructure(ref.def, flat.def, what, against);
  flat.leaves.forEach((t, i) => {
    const r = ref.leaves[i]!;
    if (!shapesEqual(t.shape, r.shape)) {
      throw new RangeError(
        `${what}${ref.paths[i]}: shape ${formatShape(t.shape)} does not match the ${against} shape ${formatShape(r.shape)}`,
      );
    }
  });
  return flat.leaves;
}
