/**
 * Container layers of `ng.nn`: chain, parallel, skipConnection and
 * wrappedFunction. Like Lux.jl, a container derives its parameters and state from its
 * children, keyed by name (`chain({ encoder, decoder })`) or by position (`layer_1`,
 * `layer_2`, ...), and prefixes errors of a child with its own kind and the child's key.
 */
import type { Tensor } from "../core/tensor.js";
import { add } from "../primitives/add.js";
import { describeValue } from "../primitives/convert.js";
import { split } from "../random.js";
import {
  checkLayer,
  describeLayer,
  inChild,
  isLayer,
  isPlainObject,
  setOwn,
  treeError,
  type AnyLayer,
  type Layer,
  type Params,
  type State,
  type Tree,
} from "./layer.js";

/** The parameter type of a layer type. */
export type ParamsOf<L> = L extends Layer<infer P, any, any, any> ? P : never;

/** The state type of a layer type. */
export type StateOf<L> = L extends Layer<any, infer S, any, any> ? S : never;

type Succ = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];

/** The key of the child at tuple index I ("0" -> "layer_1"). */
type ChildKey<I> = I extends `${number}`
  ? I extends keyof Succ
    ? `layer_${Succ[I]}`
    : `layer_${number}`
  : never;

/** The parameters (or state, with StateOf) of a container of the children Ls, keyed by position. */
export type PositionalParams<Ls extends readonly unknown[]> = {
  [I in keyof Ls as ChildKey<I>]: ParamsOf<Ls[I]>;
};
/** The state of a container of the children Ls, keyed by position. */
export type PositionalState<Ls extends readonly unknown[]> = {
  [I in keyof Ls as ChildKey<I>]: StateOf<Ls[I]>;
};
/** The parameters of a container of named children. */
export type NamedParams<M> = { [K in keyof M]: ParamsOf<M[K]> };
/** The state of a container of named children. */
export type NamedState<M> = { [K in keyof M]: StateOf<M[K]> };

/** Checks that a container's params or state object has exactly the children's keys. */
function checkChildKeys(layer: AnyLayer, tree: unknown, names: readonly string[], what: string) {
  if (!isPlainObject(tree)) {
    throw treeError(layer, `${what}: expected a plain object, got ${describeValue(tree)}`);
  }
  for (const k of names) {
    if (!Object.prototype.hasOwnProperty.call(tree, k)) {
      throw treeError(layer, `${what} are missing key '${k}'`);
    }
  }
  for (const k of Object.keys(tree)) {
    if (!names.includes(k)) throw treeError(layer, `${what} have an unexpected key '${k}'`);
  }
}

/** Children given as a list (keys layer_1, layer_2, ...) or as one object of named layers. */
function namedChildren(args: readonly unknown[], name: string): [string[], AnyLayer[]] {
  if (args.length === 1 && !isLayer(args[0]) && isPlainObject(args[0])) {
    const entries = Object.entries(args[0]);
    entries.forEach(([k, l]) => checkLayer(l, `${name}: layer '${k}'`));
    return [entries.map(([k]) => k), entries.map(([, l]) => l as AnyLayer)];
  }
  args.forEach((l, i) => checkLayer(l, `${name}: layer ${i + 1}`));
  return [args.map((_, i) => `layer_${i + 1}`), args as AnyLayer[]];
}

/** init of a keyed container: one split key per child. */
function initChildren(
  container: AnyLayer,
  names: readonly string[],
  layers: readonly AnyLayer[],
  key: Tensor,
): [Tree, Tree] {
  const keys = layers.length > 0 ? split(key, layers.length) : [];
  const ps: Record<string, unknown> = {};
  const st: Record<string, unknown> = {};
  layers.forEach((l, i) => {
    const [p, s] = inChild(container, names[i]!, l, () => l.init(keys[i]!));
    setOwn(ps, names[i]!, p);
    setOwn(st, names[i]!, s);
  });
  return [ps, st];
}

// The containers' own classes are loosely typed (a child may be any layer); their
// factories give the typed Layer interface.
class Chain implements AnyLayer {
  readonly kind = "chain";
  constructor(
    readonly names: readonly string[],
    readonly layers: readonly AnyLayer[],
  ) {}
  describe(): string {
    return `chain(${this.layers.map(describeLayer).join(", ")})`;
  }
  init(key: Tensor): [Tree, Tree] {
    return initChildren(this, this.names, this.layers, key);
  }
  apply(x: unknown, ps: Tree, st: Tree): [Tree, Tree] {
    checkChildKeys(this, ps, this.names, "params");
    checkChildKeys(this, st, this.names, "state");
    const newSt: Record<string, unknown> = {};
    let y = x;
    this.layers.forEach((l, i) => {
      const k = this.names[i]!;
      const [yi, si] = inChild(this, k, l, () => l.apply(y, ps[k], st[k]));
      y = yi;
      setOwn(newSt, k, si);
    });
    return [y, newSt];
  }
}

/**
 * Layers applied one after another. Children are keyed `layer_1`, `layer_2`, ... or, when
 * given as one object, by their names.
 * @example const mlp = ng.nn.chain(ng.nn.dense(2, 16, ng.tanh), ng.nn.dense(16, 1));
 * @example const ae = ng.nn.chain({ encoder: ng.nn.dense(8, 2), decoder: ng.nn.dense(2, 8) });
 */
export function chain<const M extends Record<string, AnyLayer>>(
  named: M,
): Layer<NamedParams<M>, NamedState<M>>;
export function chain<Ls extends AnyLayer[]>(
  ...layers: Ls
): Layer<PositionalParams<Ls>, PositionalState<Ls>>;
export function chain(...layers: (AnyLayer | Record<string, AnyLayer>)[]): Layer<Params, State>;
export function chain(...layers: (AnyLayer | Record<string, AnyLayer>)[]): AnyLayer {
  const [names, ls] = namedChildren(layers, "chain");
  return new Chain(names, ls);
}

/** Combines the outputs of parallel branches (e.g. ng.add, or (a, b) => ng.concat([a, b], -1)). */
export type Connection = (...ys: any[]) => any;

class Parallel implements AnyLayer {
  readonly kind = "parallel";
  constructor(
    readonly connection: Connection | null,
    readonly names: readonly string[],
    readonly layers: readonly AnyLayer[],
  ) {}
  describe(): string {
    return `parallel(${this.layers.map(describeLayer).join(", ")})`;
  }
  init(key: Tensor): [Tree, Tree] {
    return initChildren(this, this.names, this.layers, key);
  }
  apply(x: unknown, ps: Tree, st: Tree): [Tree, Tree] {
    checkChildKeys(this, ps, this.names, "params");
    checkChildKeys(this, st, this.names, "state");
    // An array input with one entry per branch feeds branch i with x[i]; otherwise all get x.
    const perBranch = Array.isArray(x) && x.length === this.layers.length;
    const newSt: Record<string, unknown> = {};
    const ys = this.layers.map((l, i) => {
      const k = this.names[i]!;
      const xi = perBranch ? (x as unknown[])[i] : x;
      const [y, s] = inChild(this, k, l, () => l.apply(xi, ps[k], st[k]));
      setOwn(newSt, k, s);
      return y;
    });
    return [this.connection ? this.connection(...ys) : ys, newSt];
  }
}

/**
 * Branches applied to the same input (or branch i to x[i] when x is an array with one
 * entry per branch), their outputs combined by `connection(...ys)`; with a null
 * connection the output is the array of branch outputs. Keys as in `chain`.
 * @example const block = ng.nn.parallel(ng.add, ng.nn.dense(4, 4), ng.nn.dense(4, 4, ng.relu));
 */
export function parallel<const M extends Record<string, AnyLayer>>(
  connection: Connection,
  named: M,
): Layer<NamedParams<M>, NamedState<M>, Tensor | Tensor[], Tensor>;
export function parallel<Ls extends AnyLayer[]>(
  connection: Connection,
  ...layers: Ls
): Layer<PositionalParams<Ls>, PositionalState<Ls>, Tensor | Tensor[], Tensor>;
export function parallel<const M extends Record<string, AnyLayer>>(
  connection: null,
  named: M,
): Layer<NamedParams<M>, NamedState<M>, Tensor | Tensor[], Tensor[]>;
export function parallel<Ls extends AnyLayer[]>(
  connection: null,
  ...layers: Ls
): Layer<PositionalParams<Ls>, PositionalState<Ls>, Tensor | Tensor[], Tensor[]>;
export function parallel(
  connection: Connection | null,
  ...layers: (AnyLayer | Record<string, AnyLayer>)[]
): Layer<Params, State, Tensor | Tensor[], Tensor | Tensor[]>;
export function parallel(
  connection: Connection | null,
  ...layers: (AnyLayer | Record<string, AnyLayer>)[]
): AnyLayer {
  if (connection !== null && typeof connection !== "function") {
    throw new TypeError(
      `parallel: connection: expected a function or null, got ${describeValue(connection)}`,
    );
  }
  const [names, ls] = namedChildren(layers, "parallel");
  return new Parallel(connection, names, ls);
}

class SkipConnection implements AnyLayer {
  readonly kind = "skipConnection";
  constructor(
    readonly layer: AnyLayer,
    readonly connection: (y: any, x: any) => any,
  ) {}
  describe(): string {
    return `skipConnection(${describeLayer(this.layer)})`;
  }
  init(key: Tensor): [Tree, Tree] {
    return this.layer.init(key);
  }
  apply(x: unknown, ps: Tree, st: Tree): [Tree, Tree] {
    const [y, s] = this.layer.apply(x, ps, st);
    return [this.connection(y, x), s];
  }
}

/**
 * A residual block: connection(layer(x), x), by default layer(x) + x. A wrapper: its
 * parameters and state are those of `layer` itself.
 * @example const res = ng.nn.skipConnection(ng.nn.dense(8, 8, ng.tanh));
 */
export function skipConnection<P, S>(
  layer: Layer<P, S>,
  connection?: (y: Tensor, x: Tensor) => Tensor,
): Layer<P, S> {
  checkLayer(layer, "skipConnection: layer");
  if (connection !== undefined && typeof connection !== "function") {
    throw new TypeError(
      `skipConnection: connection: expected a function (y, x) => ..., got ${describeValue(connection)}`,
    );
  }
  return new SkipConnection(layer, connection ?? ((y: Tensor, x: Tensor) => add(y, x)));
}

class WrappedFunction implements AnyLayer {
  readonly kind = "wrappedFunction";
  constructor(readonly fn: (x: any) => any) {}
  describe(): string {
    return `wrappedFunction(${this.fn.name || "anonymous"})`;
  }
  init(): [Record<string, never>, Record<string, never>] {
    return [{}, {}];
  }
  apply(x: unknown, _ps: unknown, st: Record<string, never>): [Tree, Record<string, never>] {
    return [this.fn(x), st];
  }
}

/**
 * A parameter-free layer that applies `fn` (params and state `{}`).
 * @example ng.nn.chain(ng.nn.dense(2, 3), ng.nn.wrappedFunction((x) => ng.sin(x)));
 */
export function wrappedFunction<X = Tensor, Y = Tensor>(
  fn: (x: X) => Y,
): Layer<Record<string, never>, Record<string, never>, X, Y> {
  if (typeof fn !== "function") {
    throw new TypeError(`wrappedFunction: fn: expected a function, got ${describeValue(fn)}`);
  }
  return new WrappedFunction(fn);
}
