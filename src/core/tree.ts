/**
 * Pytrees (DESIGN.md §2): nested plain objects and arrays whose leaves are tensors,
 * numbers or other values. Written once here: flatten, unflatten, map, and structure
 * comparison with error messages that give the path of the first difference.
 */

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

/** Leaves in depth-first order (object keys in insertion order) and the structure. */
export function flatten<L = unknown>(tree: unknown): [L[], TreeDef] {
  const leaves: L[] = [];
  const walk = (x: unknown): TreeDef => {
    if (x === null || x === undefined) return { kind: "none", value: x };
    if (Array.isArray(x)) return { kind: "array", children: x.map(walk) };
    if (isPlainObject(x)) {
      const keys = Object.keys(x);
      return { kind: "object", keys, children: keys.map((k) => walk(x[k])) };
    }
    leaves.push(x as L);
    return LEAF;
  };
  const def = walk(tree);
  return [leaves, def];
}

/** Rebuilds a tree of structure `def` from `leaves` (in flatten order). */
export function unflatten<T = unknown>(def: TreeDef, leaves: readonly unknown[]): T {
  let i = 0;
  const build = (d: TreeDef): unknown => {
    switch (d.kind) {
      case "leaf":
        if (i >= leaves.length)
          throw new RangeError(`tree.unflatten: too few leaves (${leaves.length})`);
        return leaves[i++];
      case "none":
        return d.value;
      case "array":
        return d.children.map(build);
      case "object": {
        const out: Record<string, unknown> = {};
        d.keys.forEach((k, j) => {
          Object.defineProperty(out, k, {
            value: build(d.children[j]!),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        });
        return out;
      }
    }
  };
  const out = build(def);
  if (i !== leaves.length) {
    throw new RangeError(
      `tree.unflatten: structure has ${i} leaves but ${leaves.length} were given`,
    );
  }
  return out as T;
}

/** Number of leaves of a structure. */
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

/** Applies `fn` to every leaf (with its path), keeping the structure. */
export function map<R = unknown>(
  tree: unknown,
  fn: (leaf: any, path: string) => R,
  ...rest: unknown[]
): any {
  const [leaves, def] = flatten(tree);
  const others = rest.map((r, k) => {
    const [l, d] = flatten(r);
    assertSameStructure(def, d, `tree.map: tree ${k + 1}`, "tree 0");
    return l;
  });
  const paths = leafPaths(def);
  return unflatten(
    def,
    leaves.map((l, i) => (fn as (...a: unknown[]) => R)(l, ...others.map((o) => o[i]), paths[i]!)),
  );
}

/** The path of each leaf, e.g. `.layers[0].weight`. */
export function leafPaths(def: TreeDef, prefix = ""): string[] {
  switch (def.kind) {
    case "leaf":
      return [prefix];
    case "none":
      return [];
    case "array":
      return def.children.flatMap((c, i) => leafPaths(c, `${prefix}[${i}]`));
    case "object":
      return def.children.flatMap((c, i) => leafPaths(c, `${prefix}${formatKey(def.keys[i]!)}`));
  }
}

function formatKey(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

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

/** Returns the path of the first difference between two structures, or null if equal. */
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

/** Throws a TypeError naming `what` and the path where structures `expected` and `actual` differ. */
export function assertSameStructure(
  expected: TreeDef,
  actual: TreeDef,
  what: string,
  against: string,
): void {
  const d = structureDifference(expected, actual);
  if (d !== null) throw new TypeError(`${what} does not have the structure of ${against}: at ${d}`);
}
