/**
 * Pytrees: nested plain objects and arrays whose leaves are tensors,
 * numbers or other values. Written once here: flatten, unflatten, map, and structure
 * comparison with error messages that give the path of the first difference. `map`
 * takes the function first, as `jax.tree.map` does, and its type follows the tree's.
 */
import type { Tensor } from "./tensor.js";
import { describe as describeValue } from "../util/options.js";

/** A node of a tree's structure. */
export type TreeDef =
  | { readonly kind: "leaf" }
  | { readonly kind: "none"; readonly value: null | undefined }
  | { readonly kind: "array"; readonly children: readonly TreeDef[] }
  | {
      readonly kind: "object";
      readonly keys: readonly string[];
      readonly children: readonly TreeDef[];
    };

const LEAF: TreeDef = { kind: "leaf" };

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object") return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * The deepest nesting of arrays and objects a pytree may have. Deeper trees are almost
 * certainly a mistake, and walking them would overflow the stack.
 */
export const MAX_DEPTH = 1000;

/**
 * Leaves in depth-first order (object keys in insertion order) and the structure.
 * A cyclic tree (a node that contains itself) or one nested more than MAX_DEPTH levels
 * is a RangeError naming `what` (the op and argument, default "tree.flatten: tree") and
 * the path where it was found. Shared subtrees that are not cycles are fine.
 * @example ng.tree.flatten({ a: 1, b: [2, 3] }) // [[1, 2, 3], def]
 */
export function flatten<L = unknown>(tree: unknown, what = "tree.flatten: tree"): [L[], TreeDef] {
  // A lone leaf (a tensor, a number): nothing to walk.
  if (tree !== null && tree !== undefined && !Array.isArray(tree) && !isPlainObject(tree)) {
    return [[tree as L], LEAF];
  }
  const st: FlattenState = { leaves: [], ancestors: new Set(), path: [], what };
  const def = walkTree(st, tree, null);
  return [st.leaves as L[], def];
}

/**
 * The state of one `flatten`: the leaves so far, the containers on the current path from
 * the root and the path's segments (an array index, an object key, null for the root;
 * formatted only for an error message).
 */
interface FlattenState {
  leaves: unknown[];
  ancestors: Set<unknown>;
  path: (number | string | null)[];
  what: string;
}

function formatPath(path: readonly (number | string | null)[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (typeof seg === "string") out += formatKey(seg);
  }
  return out;
}

function enterNode(st: FlattenState, x: object, seg: number | string | null): void {
  st.path.push(seg);
  if (st.ancestors.has(x)) {
    throw new RangeError(
      `${st.what}${formatPath(st.path)}: cyclic pytree: this node contains itself (a reference back to one of its ancestors)`,
    );
  }
  if (st.path.length > MAX_DEPTH) {
    throw new RangeError(
      `${st.what}: the pytree is nested more than ${MAX_DEPTH} levels deep ` +
        `(along ${formatPath(st.path.slice(0, 8))}…); is it built recursively by mistake?`,
    );
  }
  st.ancestors.add(x);
}

function walkTree(st: FlattenState, x: unknown, seg: number | string | null): TreeDef {
  if (x === null || x === undefined) return { kind: "none", value: x };
  if (Array.isArray(x)) {
    enterNode(st, x, seg);
    const children = x.map((c, i) => walkTree(st, c, i));
    st.ancestors.delete(x);
    st.path.pop();
    return { kind: "array", children };
  }
  if (isPlainObject(x)) {
    enterNode(st, x, seg);
    const keys = Object.keys(x);
    const children = keys.map((k) => walkTree(st, x[k], k));
    st.ancestors.delete(x);
    st.path.pop();
    return { kind: "object", keys, children };
  }
  st.leaves.push(x);
  return LEAF;
}

/**
 * Rebuilds a tree of structure `def` from `leaves` (in flatten order).
 * @example
 * const [leaves, def] = ng.tree.flatten({ a: 1, b: [2, 3] });
 * ng.tree.unflatten(def, leaves.map((v) => v * 10)) // { a: 10, b: [20, 30] }
 */
export function unflatten<T = unknown>(def: TreeDef, leaves: readonly unknown[]): T {
  const st = { leaves, i: 0 };
  const out = buildTree(st, def);
  if (st.i !== leaves.length) {
    throw new RangeError(
      `tree.unflatten: structure has ${st.i} leaves but ${leaves.length} were given`,
    );
  }
  return out as T;
}

function buildTree(st: { leaves: readonly unknown[]; i: number }, d: TreeDef): unknown {
  switch (d.kind) {
    case "leaf":
      if (st.i >= st.leaves.length)
        throw new RangeError(`tree.unflatten: too few leaves (${st.leaves.length})`);
      return st.leaves[st.i++];
    case "none":
      return d.value;
    case "array":
      return d.children.map((c) => buildTree(st, c));
    case "object": {
      const out: Record<string, unknown> = {};
      d.keys.forEach((k, j) => {
        Object.defineProperty(out, k, {
          value: buildTree(st, d.children[j]!),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      });
      return out;
    }
  }
}

/** Number of leaves of a structure. @example ng.tree.numLeaves(ng.tree.structure({ a: 1, b: [2, 3] })) // 3 */
export function numLeaves(def: TreeDef): number {
  switch (def.kind) {
    case "leaf":
      return 1;
    case "none":
      return 0;
    default:
      return def.children.reduce((s, c) => s + numLeaves(c), 0);
  }
}

type IsAny<T> = 0 extends 1 & T ? true : false;

/** Depth countdown that bounds the structural recursion of the tree types below. */
type Prev = [never, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/**
 * A tree of tensors: tensors in nested plain objects and arrays (null and undefined are
 * empty subtrees). Parameter trees, gradients and tangents have this type.
 */
export type TensorTree =
  Tensor | null | undefined | readonly TensorTree[] | { readonly [key: string]: TensorTree };

/**
 * The union of the leaf types of a tree type, e.g. `Tensor` for `{ w: Tensor; b: Tensor[] }`.
 * @example type L = ng.tree.LeafOf<{ w: ng.Tensor; n: number }>; // Tensor | number
 */
export type LeafOf<T, D extends number = 10> =
  IsAny<T> extends true
    ? any
    : [D] extends [never]
      ? unknown
      : T extends Tensor
        ? T
        : T extends null | undefined
          ? never
          : // a fast path that also covers recursive aliases such as TensorTree itself
            [T] extends [TensorTree]
            ? Tensor
            : T extends (...args: never[]) => unknown
              ? T
              : T extends readonly (infer E)[]
                ? LeafOf<E, Prev[D]>
                : T extends object
                  ? LeafOf<T[keyof T], Prev[D]>
                  : T;

/**
 * The type of `tree.map(fn, t)` when `t: T` and fn returns R: T itself when its leaves are
 * already of type R (mapping Tensor -> Tensor over a parameter tree keeps its type), else
 * T's structure with every leaf replaced by R.
 * @example type G = ng.tree.MapLeaves<{ w: ng.Tensor }, number>; // { w: number }
 */
export type MapLeaves<T, R> =
  IsAny<T> extends true
    ? any
    : [LeafOf<T>] extends [R]
      ? [R] extends [LeafOf<T>]
        ? T
        : MappedLeaves<T, R>
      : MappedLeaves<T, R>;

type MappedLeaves<T, R> = T extends Tensor
  ? R
  : T extends null | undefined
    ? T
    : T extends (...args: never[]) => unknown
      ? R
      : T extends readonly unknown[]
        ? number extends T["length"]
          ? MapLeaves<T[number], R>[]
          : { -readonly [K in keyof T]: MapLeaves<T[K], R> }
        : T extends object
          ? string extends keyof T
            ? { [key: string]: MapLeaves<T[string], R> }
            : { [K in keyof T]: MapLeaves<T[K], R> }
          : R;

/**
 * The parameter type of a map callback for leaves of T: where nothing is known about the
 * leaves (an `unknown` tree) it is `never`, so a callback may declare the leaf type itself.
 */
type LeafParam<T> = NoInfer<unknown extends LeafOf<T> ? never : LeafOf<T>>;

/** The callback parameter types for the leaves of each tree of a tuple of trees. */
type LeavesOf<Ts extends readonly unknown[]> = { [K in keyof Ts]: LeafParam<Ts[K]> };

function checkMapFn(fn: unknown, what: string): void {
  if (typeof fn === "function") return;
  const hint =
    fn !== null && typeof fn === "object"
      ? ` (${what} takes the function first, like jax.tree.map: ${what}(fn, tree, ...rest))`
      : "";
  throw new TypeError(
    `${what}: fn (argument 1) must be a function, got ${describeValue(fn)}${hint}`,
  );
}

function mapImpl(
  fn: (...args: unknown[]) => unknown,
  tree: unknown,
  rest: readonly unknown[],
  what: string,
  withPath: boolean,
): unknown {
  const [leaves, def] = flatten(tree);
  const others = rest.map((r, k) => {
    const [l, d] = flatten(r);
    assertSameStructure(def, d, `${what}: tree ${k + 2}`, "tree 1");
    return l;
  });
  const paths = withPath ? leafPaths(def) : [];
  return unflatten(
    def,
    leaves.map((l, i) => {
      const ls = [l, ...others.map((o) => o[i])];
      return withPath ? fn(paths[i]!, ...ls) : fn(...ls);
    }),
  );
}

/**
 * Applies `fn` to every leaf of `tree` (and the corresponding leaves of `rest`, which
 * must have the same structure), keeping the structure. The function comes first, as in
 * `jax.tree.map`. Mapping tensors to tensors over a tensor tree gives the tree's own type
 * (also for a generic `T extends TensorTree`); otherwise the result is `MapLeaves<T, R>`.
 * @example
 * const ps = { w: ng.array([1, 2]) };
 * const gs = { w: ng.array([10, 10]) };
 * const ps2 = ng.tree.map((p: ng.Tensor, g: ng.Tensor) => p.sub(g.mul(0.1)), ps, gs); // { w: [0, 1] }
 */
export function map<T extends TensorTree, Rest extends TensorTree[]>(
  fn: (leaf: Tensor, ...rest: { [K in keyof Rest]: Tensor }) => Tensor,
  tree: T,
  ...rest: Rest
): T;
export function map<T, Rest extends unknown[], R>(
  fn: (leaf: LeafParam<T>, ...rest: LeavesOf<Rest>) => R,
  tree: T,
  ...rest: Rest
): MapLeaves<T, R>;
export function map<T, Rest extends unknown[], R>(
  fn: (leaf: LeafParam<T>, ...rest: LeavesOf<Rest>) => R,
  tree: T,
  ...rest: Rest
): MapLeaves<T, R> {
  checkMapFn(fn, "tree.map");
  return mapImpl(fn as (...a: unknown[]) => unknown, tree, rest, "tree.map", false) as MapLeaves<
    T,
    R
  >;
}

/**
 * Like `map`, but `fn` also receives the path of the leaf first, e.g. `.layers[0].weight`
 * (as `jax.tree_util.tree_map_with_path`).
 * @example ng.tree.mapWithPath((path, x: ng.Tensor) => path, { w: x }) // { w: ".w" }
 */
export function mapWithPath<T, Rest extends unknown[], R>(
  fn: (path: string, leaf: LeafParam<T>, ...rest: LeavesOf<Rest>) => R,
  tree: T,
  ...rest: Rest
): MapLeaves<T, R> {
  checkMapFn(fn, "tree.mapWithPath");
  return mapImpl(
    fn as (...a: unknown[]) => unknown,
    tree,
    rest,
    "tree.mapWithPath",
    true,
  ) as MapLeaves<T, R>;
}

/**
 * The leaves of a tree in flatten order (as `jax.tree.leaves`).
 * @example ng.tree.leaves({ a: 1, b: [2, 3] }) // [1, 2, 3]
 */
export function leaves<T>(tree: T): LeafOf<T>[] {
  return flatten<LeafOf<T>>(tree)[0];
}

/**
 * The structure of a tree (as `jax.tree.structure`); `unflatten(structure(t), leaves(t))`
 * rebuilds t.
 * @example ng.tree.describe(ng.tree.structure({ a: x, b: [y] })) // "{a: *, b: [*]}"
 */
export function structure(tree: unknown): TreeDef {
  return flatten(tree)[1];
}

/**
 * The path of each leaf, e.g. `.layers[0].weight`.
 * @example ng.tree.leafPaths(ng.tree.structure({ a: 1, b: [2, 3] })) // [".a", ".b[0]", ".b[1]"]
 */
export function leafPaths(def: TreeDef, prefix = ""): string[] {
  if (def.kind === "leaf") return [prefix];
  const out: string[] = [];
  collectPaths(def, prefix, out);
  return out;
}

function collectPaths(def: TreeDef, prefix: string, out: string[]): void {
  switch (def.kind) {
    case "leaf":
      out.push(prefix);
      return;
    case "none":
      return;
    case "array":
      // (`i in` skips the holes of a sparse array's structure, as flatMap did)
      for (let i = 0; i < def.children.length; i++) {
        if (i in def.children) collectPaths(def.children[i]!, `${prefix}[${i}]`, out);
      }
      return;
    case "object":
      for (let i = 0; i < def.children.length; i++) {
        collectPaths(def.children[i]!, `${prefix}${formatKey(def.keys[i]!)}`, out);
      }
      return;
  }
}

function formatKey(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

/** A structure as short text, `*` for each leaf. @example ng.tree.describe(ng.tree.structure({ a: 1, b: [2] })) // "{a: *, b: [*]}" */
export function describe(def: TreeDef): string {
  switch (def.kind) {
    case "leaf":
      return "*";
    case "none":
      return String(def.value);
    case "array":
      return `[${def.children.map(describe).join(", ")}]`;
    case "object":
      return `{${def.keys.map((k, i) => `${k}: ${describe(def.children[i]!)}`).join(", ")}}`;
  }
}

/**
 * Returns the path of the first difference between two structures, or null if equal.
 * @example ng.tree.structureDifference(ng.tree.structure([1, 2]), ng.tree.structure([1])) // "(root): array of length 2 vs 1"
 */
export function structureDifference(a: TreeDef, b: TreeDef, path = ""): string | null {
  if (a.kind !== b.kind) return `${path || "(root)"}: ${describe(a)} vs ${describe(b)}`;
  if (a.kind === "array" && b.kind === "array") {
    if (a.children.length !== b.children.length) {
      return `${path || "(root)"}: array of length ${a.children.length} vs ${b.children.length}`;
    }
    for (let i = 0; i < a.children.length; i++) {
      const d = structureDifference(a.children[i]!, b.children[i]!, `${path}[${i}]`);
      if (d) return d;
    }
  }
  if (a.kind === "object" && b.kind === "object") {
    const missing = a.keys.filter((k) => !b.keys.includes(k));
    const extra = b.keys.filter((k) => !a.keys.includes(k));
    if (missing.length || extra.length) {
      return `${path || "(root)"}: keys differ (missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)})`;
    }
    for (let i = 0; i < a.keys.length; i++) {
      const k = a.keys[i]!;
      const d = structureDifference(
        a.children[i]!,
        b.children[b.keys.indexOf(k)]!,
        `${path}${formatKey(k)}`,
      );
      if (d) return d;
    }
  }
  return null;
}

/**
 * Throws a TypeError naming `what` and the path where structures `expected` and `actual` differ.
 * @example ng.tree.assertSameStructure(ng.tree.structure({ a: 1 }), ng.tree.structure({ a: 2 }), "grads", "params")
 */
export function assertSameStructure(
  expected: TreeDef,
  actual: TreeDef,
  what: string,
  against: string,
): void {
  const d = structureDifference(expected, actual);
  if (d !== null) throw new TypeError(`${what} does not have the structure of ${against}: at ${d}`);
}
