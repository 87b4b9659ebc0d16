/**
 * The tree walkers of optim/ (tree walking written once):
 * `setup(rule, ps)` builds an OptState whose `state` mirrors the params tree (each
 * parameter leaf replaced by the rule's state for it, a pytree of tensors) plus a step
 * counter (a rank-0 int32 tensor, like Optax's `count`, so a jitted training step traces
 * once instead of once per step value); `update(optState, ps, grads)` applies the rule to every trained leaf and
 * returns a new OptState and new params, never touching its inputs; `freeze` / `thaw` mark
 * subtrees as not trained; `restore` puts saved state back into an OptState.
 */
import { Tensor } from "../core/tensor.js";
import {
  flatten,
  leafPaths,
  structureDifference,
  unflatten,
  type MapLeaves,
  type TreeDef,
} from "../core/tree.js";
import { add } from "../primitives/add.js";
import { cast } from "../primitives/cast.js";
import { describeValue, scalar } from "../primitives/convert.js";
import { sub } from "../primitives/sub.js";
import { isFloat } from "../tensor/dtype.js";
import { formatShape, shapesEqual } from "../tensor/shape.js";
import { applyRule, checkRule, knownValue, type Rule } from "./rule.js";

/**
 * The optimiser state: plain immutable data. `state` (a pytree of tensors mirroring ps)
 * and `step` (updates done so far) are what to save; `rule`, the params structure and the
 * frozen leaf paths are configuration.
 */
export interface OptState<R extends Rule = Rule> {
  readonly kind: "optState";
  readonly rule: R;
  /** Structure of the params tree this state was set up for. */
  readonly params: TreeDef;
  /**
   * Number of updates done so far (the `step` handed to rules and schedules), a rank-0
   * int32 tensor: traced under `ng.jit`, so the step does not change the jit signature.
   * Read it with `Number(os.step)`.
   */
  readonly step: Tensor;
  /** The rule's state for every parameter leaf, at that leaf's position in ps. */
  readonly state: any;
  /** Paths (as in `ng.tree.leafPaths`, e.g. ".layer_1.weight") of frozen parameter leaves. */
  readonly frozen: readonly string[];
}

/** Which leaves to freeze: a path (".encoder", "layer_1.weight", "[0]"), a list of keys, or a predicate on leaf paths. */
export type PathSelector = string | readonly (string | number)[] | ((path: string) => boolean);

const shown = (path: string): string => path || "(root)";

function checkParamLeaves(
  leaves: unknown[],
  paths: string[],
  fname: string,
  arg: string,
): Tensor[] {
  return leaves.map((x, i) => {
    if (!(x instanceof Tensor) || !isFloat(x.dtype)) {
      throw new TypeError(
        `${fname}: ${arg}${shown(paths[i]!)}: expected a float tensor, got ${
          x instanceof Tensor ? `dtype ${x.dtype}` : describeValue(x)
        }`,
      );
    }
    return x;
  });
}

function makeState<R extends Rule>(fields: Omit<OptState<R>, "kind">): OptState<R> {
  return Object.freeze({ kind: "optState", ...fields });
}

/**
 * Creates the optimiser state for params tree `ps` (nested plain objects/arrays of float
 * tensors): `rule.init` of every leaf, step 0, nothing frozen.
 * @example
 * const ps = { w: ng.array([1, 2]) };
 * const os = ng.optim.setup(ng.optim.adam({ lr: 1e-3 }), ps);
 * const grads = ng.grad((p: typeof ps) => ng.sum(ng.square(p.w)))(ps);
 * const [os2, ps2] = ng.optim.update(os, ps, grads);
 */
export function setup<R extends Rule>(rule: R, ps: unknown): OptState<R> {
  checkRule(rule, "optim.setup: rule");
  const [leaves, def] = flatten(ps, "optim.setup: ps");
  const params = checkParamLeaves(leaves, leafPaths(def), "optim.setup", "ps");
  const state = unflatten(
    def,
    params.map((p) => rule.init(p)),
  );
  return makeState({
    rule,
    params: def,
    step: scalar(0, "int32"),
    state,
    frozen: Object.freeze([]),
  });
}

function checkOptState(os: unknown, fname: string): OptState {
  if (typeof os !== "object" || os === null || (os as OptState).kind !== "optState") {
    throw new TypeError(
      `${fname}: optState: expected the result of ng.optim.setup(rule, ps), got ${describeValue(os)}`,
    );
  }
  const step = (os as OptState).step;
  if (!(step instanceof Tensor) || step.ndim !== 0 || step.dtype !== "int32") {
    throw new TypeError(
      `${fname}: optState.step: expected the update count as a rank-0 int32 tensor, got ${
        step instanceof Tensor ? `${step.dtype}${formatShape(step.shape)}` : describeValue(step)
      }`,
    );
  }
  return os as OptState;
}

/** The per-leaf states of `stateTree`, read at the leaf positions of the params structure. */
function statesAtLeaves(def: TreeDef, stateTree: unknown, fname: string): unknown[] {
  const out: unknown[] = [];
  const walk = (d: TreeDef, node: unknown, path: string): void => {
    const bad = (what: string): never => {
      throw new TypeError(
        `${fname}: optState.state${path}: expected ${what} (the params structure), got ${describeValue(node)}`,
      );
    };
    switch (d.kind) {
      case "leaf":
        out.push(node);
        return;
      case "none":
        return;
      case "array":
        if (!Array.isArray(node) || node.length !== d.children.length) {
          bad(`an array of length ${d.children.length}`);
        }
        d.children.forEach((c, i) => walk(c, (node as unknown[])[i], `${path}[${i}]`));
        return;
      case "object":
        if (typeof node !== "object" || node === null || Array.isArray(node)) bad("an object");
        d.keys.forEach((k, i) => {
          if (!Object.prototype.hasOwnProperty.call(node, k)) bad(`an object with key "${k}"`);
          walk(d.children[i]!, (node as Record<string, unknown>)[k], `${path}.${k}`);
        });
        return;
    }
  };
  walk(def, stateTree, "");
  return out;
}

/**
 * One optimiser step: for every trained leaf, `[s, u] = rule.apply(s, p, g, step)` (or the
 * rule's `applyTree` over all trained leaves) and p ← p − u. Frozen leaves keep their
 * parameter and state. Pure: returns `[newOptState, newPs]` and changes nothing it was given.
 * Gradients must have the parameters' shapes; a gradient of another float dtype is cast.
 * Written with nestgrad ops, so it can be differentiated (e.g. through an unrolled inner loop).
 * @example
 * const loss = (p: { w: ng.Tensor }) => ng.sum(ng.square(p.w));
 * let ps = { w: ng.array([1, 2]) };
 * let os = ng.optim.setup(ng.optim.sgd(0.1), ps);
 * const g = ng.grad(loss)(ps);
 * [os, ps] = ng.optim.update(os, ps, g);
 * ps.w // [0.8, 1.6]
 */
export function update<R extends Rule, P>(
  optState: OptState<R>,
  ps: P,
  grads: MapLeaves<P, Tensor>,
): [OptState<R>, P] {
  const fname = "optim.update";
  const os = checkOptState(optState, fname) as OptState<R>;
  const [pLeaves, pDef] = flatten(ps);
  const dp = structureDifference(os.params, pDef);
  if (dp !== null) {
    throw new TypeError(
      `${fname}: ps does not have the structure the optimiser state was set up for: at ${dp}`,
    );
  }
  const [gLeaves, gDef] = flatten(grads);
  const dg = structureDifference(pDef, gDef);
  if (dg !== null) throw new TypeError(`${fname}: grads do not have the structure of ps: at ${dg}`);
  const paths = leafPaths(pDef);
  const params = checkParamLeaves(pLeaves, paths, fname, "ps");
  const gs = gLeaves.map((g, i) => {
    const p = params[i]!;
    if (!(g instanceof Tensor)) {
      throw new TypeError(
        `${fname}: grads${shown(paths[i]!)}: expected a tensor, got ${describeValue(g)}`,
      );
    }
    if (!shapesEqual(g.shape, p.shape)) {
      throw new TypeError(
        `${fname}: grads${shown(paths[i]!)}: expected shape ${formatShape(p.shape)} (the parameter's), ` +
          `got ${formatShape(g.shape)}`,
      );
    }
    return g.dtype === p.dtype ? g : cast(g, p.dtype);
  });
  const states = statesAtLeaves(pDef, os.state, fname);
  const frozen = new Set(os.frozen);
  const active = paths.flatMap((path, i) => (frozen.has(path) ? [] : [i]));
  const [newStates, updates] = applyRule(
    os.rule,
    active.map((i) => states[i]),
    active.map((i) => params[i]!),
    active.map((i) => gs[i]!),
    // A concrete count is read as a number (exact float64 arithmetic); a traced one stays a tensor.
    knownValue(os.step) ?? os.step,
  );
  const outStates = states.slice();
  const outParams: Tensor[] = params.slice();
  active.forEach((i, k) => {
    const p = params[i]!;
    const u = updates[k];
    if (!(u instanceof Tensor) || !shapesEqual(u.shape, p.shape)) {
      throw new TypeError(
        `${fname}: rule "${os.rule.kind}" returned an update for ps${shown(paths[i]!)} of ` +
          `${u instanceof Tensor ? `shape ${formatShape(u.shape)}` : describeValue(u)}, expected shape ${formatShape(p.shape)}`,
      );
    }
    outStates[i] = newStates[k];
    outParams[i] = sub(p, u.dtype === p.dtype ? u : cast(u, p.dtype));
  });
  const next = makeState({ ...os, step: add(os.step, 1), state: unflatten(pDef, outStates) });
  return [next, unflatten<P>(pDef, outParams)];
}

function formatKey(k: string | number): string {
  if (typeof k === "number") return `[${k}]`;
  return /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

function selectPaths(os: OptState, target: PathSelector, fname: string): string[] {
  const paths = leafPaths(os.params);
  if (typeof target === "function") return paths.filter((p) => target(p) === true);
  let prefix: string;
  if (typeof target === "string") {
    prefix = target === "" || /^[.[]/.test(target) ? target : `.${target}`;
  } else if (Array.isArray(target)) {
    prefix = target
      .map((k, i) => {
        if (typeof k !== "string" && typeof k !== "number") {
          throw new TypeError(
            `${fname}: path[${i}]: expected a string or a number, got ${describeValue(k)}`,
          );
        }
        return formatKey(k);
      })
      .join("");
  } else {
    throw new TypeError(
      `${fname}: expected a path string, a list of keys or a predicate (path) => boolean, got ${describeValue(target)}`,
    );
  }
  const hits = paths.filter(
    (p) =>
      p === prefix || p.startsWith(`${prefix}.`) || p.startsWith(`${prefix}[`) || prefix === "",
  );
  if (hits.length === 0) {
    const some = paths.slice(0, 12).map(shown).join(", ");
    throw new RangeError(
      `${fname}: no parameter at path "${prefix}"; the parameter leaves are: ${some}${paths.length > 12 ? ", ..." : ""}`,
    );
  }
  return hits;
}

/**
 * Marks the parameter leaves under `target` as not trained: `update` passes them through
 * unchanged and does not advance their state (nor count them in clipByGlobalNorm). A
 * string path names a subtree (".encoder", "layer_1.weight", "layers[0]"); a list of keys
 * does too (["layers", 0]); a predicate is called with every leaf path.
 * @example
 * const ps = { layer_0: ng.array([1]), layer_1: ng.array([2]) };
 * const os = ng.optim.setup(ng.optim.sgd(0.1), ps);
 * const os2 = ng.optim.freeze(os, "layer_1"); // train everything but layer_1
 */
export function freeze<R extends Rule>(optState: OptState<R>, target: PathSelector): OptState<R> {
  const os = checkOptState(optState, "optim.freeze") as OptState<R>;
  const hits = selectPaths(os, target, "optim.freeze");
  const frozen = Array.from(new Set([...os.frozen, ...hits]));
  return makeState({ ...os, frozen: Object.freeze(frozen) });
}

/**
 * Undoes `freeze` for the leaves under `target` (all leaves when omitted).
 * @example
 * const ps = { layer_0: ng.array([1]), layer_1: ng.array([2]) };
 * const os = ng.optim.setup(ng.optim.sgd(0.1), ps);
 * const os2 = ng.optim.freeze(os, "layer_1");
 * const os3 = ng.optim.thaw(os2); // train everything again
 */
export function thaw<R extends Rule>(optState: OptState<R>, target?: PathSelector): OptState<R> {
  const os = checkOptState(optState, "optim.thaw") as OptState<R>;
  const hits = new Set(target === undefined ? os.frozen : selectPaths(os, target, "optim.thaw"));
  return makeState({ ...os, frozen: Object.freeze(os.frozen.filter((p) => !hits.has(p))) });
}

/**
 * Puts saved optimiser state (`{ state, step }`, e.g. loaded with ng.train.loadJSON) into
 * a freshly set-up OptState, checking structure, shapes and dtypes against it. The step may
 * be the saved count tensor or a number.
 * @example
 * const rule = ng.optim.adam(1e-3);
 * const ps = { w: ng.array([1, 2]) };
 * const os = ng.optim.setup(rule, ps);
 * const text = ng.train.saveJSON({ state: os.state, step: os.step });
 * const fresh = ng.optim.setup(rule, ps);
 * const template = { state: fresh.state, step: fresh.step };
 * const os2 = ng.optim.restore(fresh, ng.train.loadJSON(text, template));
 */
export function restore<R extends Rule>(
  optState: OptState<R>,
  saved: { state: unknown; step: number | Tensor },
): OptState<R> {
  const fname = "optim.restore";
  const os = checkOptState(optState, fname) as OptState<R>;
  if (typeof saved !== "object" || saved === null) {
    throw new TypeError(`${fname}: saved: expected { state, step }, got ${describeValue(saved)}`);
  }
  const step =
    saved.step instanceof Tensor && saved.step.size === 1 ? saved.step.item() : saved.step;
  if (typeof step !== "number" || !Number.isInteger(step) || step < 0 || step > 2 ** 31 - 1) {
    throw new TypeError(
      `${fname}: saved.step: expected a non-negative integer, got ${describeValue(step)}`,
    );
  }
  const [want, wantDef] = flatten(os.state);
  const [got, gotDef] = flatten(saved.state);
  const d = structureDifference(wantDef, gotDef);
  if (d !== null) {
    throw new TypeError(
      `${fname}: saved.state does not have the structure of the optimiser state: at ${d}`,
    );
  }
  const paths = leafPaths(wantDef);
  got.forEach((g, i) => {
    const w = want[i];
    const path = `saved.state${paths[i]}`;
    if (w instanceof Tensor) {
      if (!(g instanceof Tensor) || g.dtype !== w.dtype || !shapesEqual(g.shape, w.shape)) {
        throw new TypeError(
          `${fname}: ${path}: expected ${w.dtype}${formatShape(w.shape)}, got ${
            g instanceof Tensor ? `${g.dtype}${formatShape(g.shape)}` : describeValue(g)
          }`,
        );
      }
    } else if (g !== w) {
      throw new TypeError(
        `${fname}: ${path}: expected ${describeValue(w)}, got ${describeValue(g)}`,
      );
    }
  });
  return makeState({ ...os, step: scalar(step, "int32"), state: saved.state });
}
