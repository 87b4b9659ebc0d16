/**
 * `vmap(f, inAxes, outAxes)`: vectorises f over a batch axis with the
 * batching interpreter, so f is written for one example and runs on a batch with batched
 * kernels. in/out axes are a number, null (unbatched), or a pytree prefix of the
 * arguments / outputs. Nests with itself and with every AD transform.
 */
import { BatchTrace } from "../core/batching.js";
import { Tensor } from "../core/tensor.js";
import { currentTrace, withTrace } from "../core/trace.js";
import { flatten, leafPaths, numLeaves, unflatten, type TreeDef } from "../core/tree.js";
import { formatShape, normalizeAxis } from "../tensor/shape.js";
import { moveBatchAxis } from "../primitives/batching.js";
import { flattenTensors } from "./args.js";
import type { Fn, Tensors } from "./types.js";
import { checkFunction, checkReturned } from "../util/check.js";

export { moveBatchAxis };

export type AxisSpec = number | null | readonly AxisSpec[] | { readonly [k: string]: AxisSpec };

/** Broadcasts an axes spec (a prefix of the tree `def`) to one entry per leaf of `def`. */
function axesPerLeaf(def: TreeDef, spec: unknown, what: string, path = ""): (number | null)[] {
  if (spec === null || typeof spec === "number") {
    const n = numLeaves(def);
    return new Array<number | null>(n).fill(spec as number | null);
  }
  if (spec === undefined) {
    throw new TypeError(`${what}${path}: missing axis spec (use a number, or null for unbatched)`);
  }
  if (Array.isArray(spec)) {
    if (def.kind !== "array" || def.children.length !== spec.length) {
      throw new TypeError(
        `${what}${path}: an array of ${spec.length} axis specs does not match ${def.kind === "array" ? `an array of length ${def.children.length}` : `a ${def.kind}`}`,
      );
    }
    return def.children.flatMap((c, i) => axesPerLeaf(c, spec[i], what, `${path}[${i}]`));
  }
  if (typeof spec === "object") {
    const keys = Object.keys(spec as object);
    if (def.kind !== "object")
      throw new TypeError(`${what}${path}: an object of axis specs does not match a ${def.kind}`);
    const missing = def.keys.filter((k) => !keys.includes(k));
    const extra = keys.filter((k) => !def.keys.includes(k));
    if (missing.length || extra.length) {
      throw new TypeError(
        `${what}${path}: keys differ from the value's (missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)})`,
      );
    }
    return def.children.flatMap((c, i) =>
      axesPerLeaf(
        c,
        (spec as Record<string, unknown>)[def.keys[i]!],
        what,
        `${path}.${def.keys[i]}`,
      ),
    );
  }
  throw new TypeError(
    `${what}${path}: expected a number, null or a tree of them, got ${typeof spec}`,
  );
}

/**
 * Vectorising map: `vmap(f, inAxes, outAxes)(...args)` applies f to slices of the args
 * along their batch axes and stacks the results along `outAxes`. The batched function has
 * f's parameters and result type (batched tensors have the same static type).
 * @example
 * const w = ng.array([1, 2]);
 * ng.vmap((r: ng.Tensor) => ng.dot(r, w))(ng.array([[1, 0], [0, 1], [1, 1]])) // [1, 2, 3]: one dot per row
 */
export function vmap<F extends Fn>(
  f: F,
  inAxes: AxisSpec | readonly AxisSpec[] = 0,
  outAxes: AxisSpec = 0,
): (...args: Parameters<F>) => Tensors<ReturnType<F>> {
  checkFunction("vmap", f);
  return (...args: Parameters<F>): Tensors<ReturnType<F>> => {
    const [rawLeaves, def] = flatten(args, "vmap: argument ");
    const paths = leafPaths(def);
    const spec = typeof inAxes === "number" || inAxes === null ? inAxes : inAxes;
    const axes = axesPerLeaf(def, spec, "vmap: inAxes");
    let size: number | undefined;
    let sizePath = "";
    const leaves = rawLeaves.map((l, i) => {
      const ax = axes[i];
      if (ax === null || ax === undefined) return l;
      if (!(l instanceof Tensor)) {
        throw new TypeError(
          `vmap: argument${paths[i]} has inAxes ${ax} but is not a tensor (got ${typeof l})`,
        );
      }
      const a = normalizeAxis(ax, l.ndim, `vmap: inAxes for argument${paths[i]}`);
      const n = l.shape[a]!;
      if (size === undefined) {
        size = n;
        sizePath = paths[i]!;
      } else if (n !== size) {
        throw new RangeError(
          `vmap: batch sizes differ: argument${sizePath} has ${size} along its batch axis, argument${paths[i]} ` +
            `has ${n} (shape ${formatShape(l.shape)}, axis ${a})`,
        );
      }
      axes[i] = a;
      return l;
    });
    if (size === undefined)
      throw new TypeError("vmap: no argument is batched (every inAxes entry is null)");
    const trace = new BatchTrace(currentTrace(), size);
    const lifted = leaves.map((l, i) => (axes[i] === null ? l : trace.lift(l as Tensor, axes[i]!)));
    const out = withTrace(trace, () => f(...unflatten<unknown[]>(def, lifted)));
    checkReturned("vmap", out);
    const outFlat = flattenTensors(out, "vmap: output of f");
    const outAxesList = axesPerLeaf(outFlat.def, outAxes, "vmap: outAxes");
    const results = outFlat.leaves.map((o, i) => {
      const [val, bdim] = trace.unpack(o);
      const to = outAxesList[i];
      if (to === null || to === undefined) {
        if (bdim !== null) {
          throw new TypeError(`vmap: output${outFlat.paths[i]} is batched but its outAxes is null`);
        }
        return val;
      }
      const rank = val.ndim + (bdim === null ? 1 : 0);
      return moveBatchAxis(
        val,
        bdim,
        normalizeAxis(to, rank, `vmap: outAxes for output${outFlat.paths[i]}`),
        size!,
      );
    });
    return unflatten<Tensors<ReturnType<F>>>(outFlat.def, results);
  };
}
