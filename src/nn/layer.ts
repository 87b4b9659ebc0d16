/**
 * The layer contract of `ng.nn`, in the spirit of Lux.jl: a
 * layer is an immutable configuration with `init(key) -> [ps, st]` and
 * `apply(x, ps, st) -> [y, st]`; parameters and state are explicit plain trees of
 * tensors. This file holds the interface, `setup`, the `stateful` wrapper,
 * `parameterCount`, `testMode` / `trainMode`, and the helpers every layer uses to
 * validate its inputs and parameters with errors that name the layer path
 * ("chain.layer_2 (dense 4 → 2): expected input with last dimension 4, got shape [8, 3]").
 */
import { ConcreteTensor, ConcretizationError, Tensor } from "../core/tensor.js";
import type { TensorTree } from "../core/tree.js";
import { flatten } from "../core/tree.js";
import { checkDType, type FloatDType } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { describeValue, fromNDArray } from "../primitives/convert.js";
import { key as randomKey } from "../random.js";
import type { Initializer } from "./init.js";
import { checkOptions as checkOptionKeys } from "../util/options.js";

/**
 * A parameter tree: tensors in nested plain objects and arrays. Gradients of a loss with
 * respect to parameters have the same type.
 */
export type Params = TensorTree;

/** A state tree: like a parameter tree, with flags and counters (`training: boolean`) too. */
export type State =
  | Tensor
  | number
  | boolean
  | string
  | null
  | undefined
  | readonly State[]
  | { readonly [key: string]: State };

/**
 * A layer: an immutable configuration. `init` builds fresh parameters and state from a
 * random key; `apply` is pure: it returns the output and the new state. P and S are the
 * types of its parameters and state, X and Y of its input and output (tensors, except for
 * recurrent cells, which also take and return a carry).
 */
export interface Layer<P = Params, S = State, X = Tensor, Y = Tensor> {
  /** The layer family, e.g. "dense", "chain". */
  readonly kind: string;
  /** Fresh parameters and state from a random key. */
  init(key: Tensor): [P, S];
  /** The output for input `x` and the updated state. */
  apply(x: X, ps: P, st: S): [Y, S];
  /** A one-line summary used in error messages, e.g. "dense 4 → 2". */
  describe?(): string;
}

/**
 * A layer of any parameter, state, input and output types: what containers and the
 * validation helpers accept.
 */
export type AnyLayer = Layer<any, any, any, any>;

/** A parameter or state tree: nested plain objects of tensors (and flags). */
export type Tree = any;

/**
 * Builds the parameters and state of `model` from a random key.
 * @example const [ps, st] = ng.nn.setup(ng.random.key(0), ng.nn.dense(2, 3));
 */
export function setup<P, S, X, Y>(key: Tensor, model: Layer<P, S, X, Y>): [P, S] {
  checkLayer(model, "setup: model");
  if (!(key instanceof Tensor)) {
    throw new TypeError(`setup: key: expected a key from ng.random.key, got ${describeValue(key)}`);
  }
  return model.init(key);
}

/** A callable model that keeps its latest state in `.state`. */
export interface StatefulModel<S = State, X = Tensor, Y = Tensor, P = Params> {
  (x: X): Y;
  /** The state after the latest call. */
  readonly state: S;
  readonly model: Layer<P, S, X, Y>;
  readonly ps: P;
}

/**
 * Wraps `model` with fixed parameters into a callable `x => y` that threads the state
 * from call to call (batchNorm running statistics, dropout keys); `.state` is the latest.
 * Differentiate through it like any function: `ng.grad((x) => ng.sum(f(x)))(x)`. Stored
 * states are always concrete values; an update computed while the call is staged (jit,
 * nested switching) cannot be stored and is dropped — thread the state explicitly with
 * `model.apply` where that matters.
 * @example
 * const model = ng.nn.dense(3, 2);
 * const [ps, st] = ng.nn.setup(ng.random.key(0), model);
 * const net = ng.nn.stateful(model, ps, st); const out = net(x); net.state; // updated
 */
export function stateful<P, S, X, Y>(
  model: Layer<P, S, X, Y>,
  ps: P,
  st: S,
): StatefulModel<S, X, Y, P> {
  checkLayer(model, "stateful: model");
  let state = st;
  const f = (x: X): Y => {
    const [y, s] = model.apply(x, ps, state);
    const kept = concreteState(s);
    if (kept !== undefined) state = kept as S;
    return y;
  };
  Object.defineProperties(f, {
    state: { get: () => state, enumerable: true },
    model: { value: model, enumerable: true },
    ps: { value: ps, enumerable: true },
  });
  return f as StatefulModel<S, X, Y, P>;
}

/**
 * The state with every tensor made concrete, so that no tracer outlives the transform
 * that made it: a tracer of an eager transform (grad, jvp) is replaced by its value (state
 * updates are not differentiated). Undefined when some leaf only exists symbolically
 * (the call is being staged, e.g. by jit or nested switching): that update is dropped.
 */
function concreteState(st: unknown): unknown {
  let ok = true;
  const walk = (x: unknown): unknown => {
    if (!ok) return x;
    if (x instanceof ConcreteTensor) return x;
    if (x instanceof Tensor) {
      try {
        return fromNDArray(x.concrete("nn.stateful: state update"));
      } catch (e) {
        if (!(e instanceof ConcretizationError)) throw e;
        ok = false;
        return x;
      }
    }
    if (Array.isArray(x)) return x.map(walk);
    if (isPlainObject(x)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x)) setOwn(out, k, walk(x[k]));
      return out;
    }
    return x;
  };
  const out = walk(st);
  return ok ? out : undefined;
}

/** Sum of the sizes of the tensor leaves of a tree. */
function countLeaves(tree: unknown): number {
  const [leaves] = flatten(tree, "nn.parameterCount: params");
  return leaves.reduce((n: number, l) => n + (l instanceof Tensor ? l.size : 0), 0);
}

/**
 * The number of trainable scalars of a model (it is initialised once with a fixed key to
 * count them), or of a parameter tree.
 * @example ng.nn.parameterCount(ng.nn.dense(3, 2)) // 8 (3·2 weights + 2 biases)
 */
export function parameterCount(modelOrParams: AnyLayer | Tree): number {
  if (isLayer(modelOrParams)) {
    const [ps] = modelOrParams.init(randomKey(0));
    return countLeaves(ps);
  }
  return countLeaves(modelOrParams);
}

/** Copies `st`, setting every `training` flag found in it to `training`. */
function setTraining(st: Tree, training: boolean): Tree {
  if (Array.isArray(st)) return st.map((c) => setTraining(c, training));
  if (!isPlainObject(st)) return st;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(st)) {
    setOwn(
      out,
      k,
      k === "training" && typeof st[k] === "boolean" ? training : setTraining(st[k], training),
    );
  }
  return out;
}

/**
 * The state switched to test mode: every `training` flag (dropout, batchNorm) becomes
 * false, so dropout is the identity and batchNorm uses its running statistics.
 * @example
 * const model = ng.nn.chain(ng.nn.dense(3, 2), ng.nn.dropout(0.5));
 * const [ps, st] = ng.nn.setup(ng.random.key(0), model);
 * const yTest = model.apply(ng.ones([4, 3]), ps, ng.nn.testMode(st))[0]; // no dropout
 */
export function testMode<S>(st: S): S {
  flatten(st, "nn.testMode: st"); // rejects cyclic or absurdly deep state before the walk
  return setTraining(st, false) as S;
}

/**
 * The state switched to training mode (every `training` flag true).
 * @example
 * let [, st] = ng.nn.setup(ng.random.key(0), ng.nn.dropout(0.5));
 * st = ng.nn.trainMode(ng.nn.testMode(st)); // dropout on again
 */
export function trainMode<S>(st: S): S {
  flatten(st, "nn.trainMode: st"); // rejects cyclic or absurdly deep state before the walk
  return setTraining(st, true) as S;
}

// ---------------------------------------------------------------------------------------
// Helpers shared by the layers: validation and error paths.

/**
 * Sets an own enumerable property (a key named "__proto__" stays data and cannot change
 * the object's prototype).
 * @example setOwn(out, "layer_1", ps)
 */
export function setOwn(obj: Record<string, unknown>, k: string, value: unknown): void {
  Object.defineProperty(obj, k, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * True for plain objects (prototype Object.prototype or null), the nodes of param trees.
 * @example isPlainObject({ weight: w }) // true
 */
export function isPlainObject(x: unknown): x is Record<string, any> {
  if (x === null || typeof x !== "object") return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * True for objects that implement the layer contract (kind, init, apply).
 * @example ng.nn.isLayer(ng.nn.dense(2, 2)) // true
 */
export function isLayer(x: unknown): x is AnyLayer {
  return (
    x !== null &&
    typeof x === "object" &&
    typeof (x as Layer).init === "function" &&
    typeof (x as Layer).apply === "function" &&
    typeof (x as Layer).kind === "string"
  );
}

/** Throws unless `x` is a layer, naming the argument. */
export function checkLayer(x: unknown, argName: string): asserts x is AnyLayer {
  if (!isLayer(x)) {
    throw new TypeError(
      `${argName}: expected a layer (an object with kind, init and apply), got ${describeValue(x)}`,
    );
  }
}

/** The summary of a layer for messages: its `describe()` or its kind. */
export function describeLayer(layer: AnyLayer): string {
  return layer.describe ? layer.describe() : layer.kind;
}

const PATH_INFO = Symbol("nestgrad.nn.errorPath");

/** Where an error arose: the container path, the layer summary and the message proper. */
interface PathInfo {
  root: string | undefined;
  keys: string[];
  desc: string | undefined;
  detail: string;
}

function formatInfo(i: PathInfo): string {
  if (i.root === undefined) return i.desc === undefined ? i.detail : `${i.desc}: ${i.detail}`;
  const path = [i.root, ...i.keys].join(".");
  return i.desc === undefined ? `${path}: ${i.detail}` : `${path} (${i.desc}): ${i.detail}`;
}

function withInfo<E extends Error>(e: E, info: PathInfo): E {
  (e as any)[PATH_INFO] = info;
  e.message = formatInfo(info);
  return e;
}

/**
 * An error about a layer's input: "dense 4 → 2: expected ...". Containers prefix the path.
 */
export function inputError(layer: AnyLayer, detail: string): RangeError {
  return withInfo(new RangeError(""), {
    root: undefined,
    keys: [],
    desc: describeLayer(layer),
    detail,
  });
}

/** An error about a layer's parameters or state: "dense: params are missing key 'bias'". */
export function treeError(layer: AnyLayer, detail: string): TypeError {
  return withInfo(new TypeError(""), { root: layer.kind, keys: [], desc: undefined, detail });
}

/**
 * Runs `fn` (a child's init or apply) and, if it throws, prefixes the error message with
 * the container's kind and the child's key; errors from ops get the child's summary.
 * The error keeps its class.
 */
export function inChild<T>(container: AnyLayer, key: string, child: AnyLayer, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    const prev = (e as any)[PATH_INFO] as PathInfo | undefined;
    const info: PathInfo = prev
      ? { ...prev, keys: [key, ...prev.keys], root: container.kind }
      : { root: container.kind, keys: [key], desc: describeLayer(child), detail: e.message };
    throw withInfo(e, info);
  }
}

/** Throws unless `x` is a tensor; returns it. */
export function checkInputTensor(layer: AnyLayer, x: unknown): Tensor {
  if (!(x instanceof Tensor)) {
    throw inputError(layer, `expected a tensor input, got ${describeValue(x)}`);
  }
  return x;
}

/** Throws unless `x` has rank `rank` (or at least `rank` with `atLeast`); names the layout. */
export function checkRank(
  layer: AnyLayer,
  x: Tensor,
  rank: number,
  layout: string,
  atLeast = false,
): void {
  if (atLeast ? x.ndim < rank : x.ndim !== rank) {
    throw inputError(
      layer,
      `expected input of rank ${atLeast ? `>= ${rank}` : rank} (${layout}), got shape ${formatShape(x.shape)}`,
    );
  }
}

/** Throws unless the last dimension of `x` is `n`. */
export function checkLastDim(layer: AnyLayer, x: Tensor, n: number): void {
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== n) {
    throw inputError(
      layer,
      `expected input with last dimension ${n}, got shape ${formatShape(x.shape)}`,
    );
  }
}

/**
 * Validates a tree node against the keys the layer expects: a plain object with exactly
 * those keys; for keys with an expected shape, a tensor of that shape. `what` is
 * "params" or "state".
 */
export function checkKeys(
  layer: AnyLayer,
  tree: unknown,
  expected: Record<string, readonly number[] | null>,
  what: "params" | "state",
): void {
  if (!isPlainObject(tree)) {
    throw treeError(layer, `${what}: expected a plain object, got ${describeValue(tree)}`);
  }
  for (const k of Object.keys(expected)) {
    if (!Object.prototype.hasOwnProperty.call(tree, k)) {
      throw treeError(layer, `${what} are missing key '${k}'`);
    }
  }
  for (const k of Object.keys(tree)) {
    if (!Object.prototype.hasOwnProperty.call(expected, k)) {
      throw treeError(layer, `${what} have an unexpected key '${k}'`);
    }
  }
  for (const [k, shape] of Object.entries(expected)) {
    if (shape === null) continue;
    const v = tree[k];
    if (!(v instanceof Tensor)) {
      throw treeError(layer, `${what}.${k}: expected a tensor, got ${describeValue(v)}`);
    }
    if (v.ndim !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
      throw treeError(
        layer,
        `${what}.${k}: expected shape ${formatShape(shape)}, got ${formatShape(v.shape)}`,
      );
    }
  }
}

/** Validates a positive integer size argument of a layer factory. */
export function checkSize(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`${name}: expected a positive integer, got ${describeValue(v)}`);
  }
  return v;
}

/** Validates a float dtype option (default float32). */
export function checkFloatDType(v: unknown, name: string): FloatDType {
  if (v === undefined) return "float32";
  const d = checkDType(v, name);
  if (d !== "float32" && d !== "float64") {
    throw new TypeError(`${name}: expected "float32" or "float64", got "${d}"`);
  }
  return d;
}

/** Validates an optional activation function. */
export function checkActivation(v: unknown, name: string): ((x: Tensor) => Tensor) | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "function") {
    throw new TypeError(`${name}: expected a function like ng.tanh, got ${describeValue(v)}`);
  }
  return v as (x: Tensor) => Tensor;
}

/**
 * Validates an options object (undefined or null allowed): a plain object whose keys are
 * all in `keys` (an unknown key is a TypeError with a "did you mean" suggestion).
 */
export function checkOptions<T extends object>(
  v: unknown,
  name: string,
  keys: readonly (keyof T & string)[],
): Partial<T> {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v)) {
    throw new TypeError(`${name}: options: expected a plain object, got ${describeValue(v)}`);
  }
  return checkOptionKeys(name, v, keys) as Partial<T>;
}

/**
 * Splits the `(activation?, options?)` tail of factories like `dense(4, 2, ng.tanh)` and
 * `dense(4, 2, { useBias: false })`.
 */
export function activationAndOptions<T extends object>(
  a: unknown,
  b: unknown,
  name: string,
  keys: readonly (keyof T & string)[],
): [((x: Tensor) => Tensor) | undefined, Partial<T>] {
  if (isPlainObject(a) && b === undefined) return [undefined, checkOptions<T>(a, name, keys)];
  return [checkActivation(a, `${name}: activation`), checkOptions<T>(b, name, keys)];
}

/** Validates an initialiser option of a layer (a function). */
export function checkInit(v: unknown, name: string, fallback: Initializer): Initializer {
  if (v === undefined) return fallback;
  if (typeof v !== "function") {
    throw new TypeError(
      `${name}: expected an initialiser (key, shape, dtype) => Tensor such as ng.nn.init.zeros, got ${describeValue(v)}`,
    );
  }
  return v as Initializer;
}

/** Runs an initialiser and checks that it returned a tensor of the requested shape and dtype. */
export function runInit(
  init: Initializer,
  key: Tensor,
  shape: readonly number[],
  dtype: FloatDType,
  what: string,
): Tensor {
  const t = init(key, shape, dtype);
  if (!(t instanceof Tensor)) {
    throw new TypeError(`${what}: the initialiser returned ${describeValue(t)}, not a tensor`);
  }
  if (t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(
      `${what}: the initialiser returned shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`,
    );
  }
  return t.dtype === dtype ? t : t.cast(dtype);
}
