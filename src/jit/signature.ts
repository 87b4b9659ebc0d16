/**
 * Cache keys of `ng.jit`: a jitted function is staged once per signature, and the
 * signature is the pytree structure of the arguments, the shape and dtype of every tensor
 * leaf, and the value of everything else: static arguments (`staticArgnums`) and
 * non-tensor leaves (numbers, strings, booleans by value; functions and other objects by
 * identity). Static arguments must be hashable; a tensor or a traced value there is an
 * error that names the argument.
 */
import { Tensor, Tracer } from "../core/tensor.js";
import { flatten, leafPaths, unflatten, type TreeDef } from "../core/tree.js";
import { NDArray } from "../tensor/ndarray.js";
import { describe } from "../util/options.js";

const ids = new WeakMap<object, number>();
let nextId = 0;

/** A number unique to the object for as long as it lives (identity in keys). */
export function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = ++nextId));
  return id;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object") return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * A string equal for structurally equal values: numbers, strings, booleans, arrays and
 * plain objects (keys in any order) by value; anything else by identity.
 */
export function structuralKey(x: unknown): string {
  if (x === null) return "null";
  switch (typeof x) {
    case "undefined":
      return "undef";
    case "number":
      return Object.is(x, -0) ? "n-0" : `n${x}`;
    case "string":
      return `s${JSON.stringify(x)}`;
    case "boolean":
      return x ? "T" : "F";
    case "bigint":
      return `b${x}`;
    case "symbol":
    case "function":
      return `#${idOf(x as object)}`;
  }
  if (Array.isArray(x)) return `[${x.map(structuralKey).join(",")}]`;
  if (isPlainObject(x)) {
    return `{${Object.keys(x)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${structuralKey(x[k])}`)
      .join(",")}}`;
  }
  return `#${idOf(x as object)}`;
}

const HASHABLE = "(a number, string, boolean, function, or a plain array/object of them)";

/** Throws unless static argument `i` is hashable; the error names the argument and the path. */
function checkStatic(x: unknown, i: number, path = ""): void {
  const where = path ? ` at ${path}` : "";
  if (x instanceof Tracer) {
    throw new TypeError(
      `jit: static argument ${i}${where} is a traced value (${x.toString()}): static arguments are part of ` +
        `the cache key and must be concrete; pass it as a regular (traced) argument instead of listing it in staticArgnums`,
    );
  }
  if (x instanceof Tensor || x instanceof NDArray) {
    throw new TypeError(
      `jit: static argument ${i} must be hashable ${HASHABLE}, got a ${x instanceof Tensor ? "Tensor" : "NDArray"}${where}; ` +
        `pass tensors as regular arguments (remove ${i} from staticArgnums)`,
    );
  }
  if (x === null || typeof x !== "object") {
    if (typeof x === "symbol") {
      throw new TypeError(
        `jit: static argument ${i} must be hashable ${HASHABLE}, got a symbol${where}`,
      );
    }
    return;
  }
  if (Array.isArray(x)) {
    x.forEach((y, k) => checkStatic(y, i, `${path}[${k}]`));
    return;
  }
  if (isPlainObject(x)) {
    for (const k of Object.keys(x)) checkStatic(x[k], i, `${path}.${k}`);
    return;
  }
  throw new TypeError(
    `jit: static argument ${i} must be hashable ${HASHABLE}, got ${describe(x)}${where}`,
  );
}

/** The arguments of one call, split into traced tensor leaves and everything else. */
export interface ArgPlan {
  /** The cache key of the call's signature. */
  readonly key: string;
  /** Tensor leaves of the non-static arguments, in flatten order. */
  readonly leaves: Tensor[];
  /** Non-tensor object leaves of the arguments (an output may pass them through). */
  readonly opaque: ReadonlySet<unknown>;
  /** The arguments with the tensor leaves replaced by `traced` (same order as `leaves`). */
  rebuild(traced: readonly Tensor[]): unknown[];
}

/** Splits `args` into traced leaves and static values, and computes the signature key. */
export function planArgs(args: readonly unknown[], staticArgnums: readonly number[]): ArgPlan {
  for (const i of staticArgnums) {
    if (i >= args.length) {
      throw new RangeError(
        `jit: staticArgnums names argument ${i}, but f was called with ${args.length} argument(s)`,
      );
    }
  }
  const leaves: Tensor[] = [];
  const opaque = new Set<unknown>();
  const parts: string[] = [`${args.length}`];
  const rebuilders: ((traced: readonly Tensor[]) => unknown)[] = [];
  args.forEach((arg, i) => {
    if (staticArgnums.includes(i)) {
      checkStatic(arg, i);
      parts.push(`S${structuralKey(arg)}`);
      rebuilders.push(() => arg);
      return;
    }
    const [raw, def] = flatten(arg);
    const slots: (number | null)[] = [];
    const keys = raw.map((leaf, k) => {
      if (leaf instanceof Tensor) {
        slots.push(leaves.length);
        leaves.push(leaf);
        return `T${leaf.dtype}[${leaf.shape.join(",")}]`;
      }
      if (leaf instanceof NDArray) {
        throw new TypeError(
          `jit: argument ${i}${leafPaths(def)[k]}: got an NDArray; convert it with ng.array(...) to pass it as a tensor`,
        );
      }
      slots.push(null);
      if (leaf !== null && typeof leaf === "object") opaque.add(leaf);
      return structuralKey(leaf);
    });
    parts.push(`A${treeKey(def)}(${keys.join(";")})`);
    rebuilders.push((traced) =>
      unflatten(
        def,
        raw.map((leaf, k) => (slots[k] === null ? leaf : traced[slots[k]!])),
      ),
    );
  });
  return {
    key: parts.join("|"),
    leaves,
    opaque,
    rebuild: (traced) => rebuilders.map((r) => r(traced)),
  };
}

const treeKeys = new WeakMap<TreeDef, string>();
function treeKey(def: TreeDef): string {
  let k = treeKeys.get(def);
  if (k === undefined) treeKeys.set(def, (k = JSON.stringify(def)));
  return k;
}
