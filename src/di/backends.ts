/**
 * Backends of the `ng.di` operators (in the style of
 * DifferentiationInterface.jl): a backend says *how* a derivative is computed, the operator says *what*.
 * Each backend provides the two base operators, pushforward (J·t) and pullback (Jᵀ·u),
 * where it can; every other operator is composed from them (operators.ts).
 *
 * | backend                         | pushforward                 | pullback                    |
 * | ------------------------------- | --------------------------- | --------------------------- |
 * | autoForward()                   | `ng.jvp`                    | — (raises, naming both)     |
 * | autoReverse()                   | — (raises, naming both)     | `ng.vjp` (linearize once)   |
 * | finiteDifferences({...})        | differences of f            | — (raises, naming both)     |
 * | secondOrder(outer, inner)       | inner's                     | inner's                     |
 * | autoSparse(dense)               | dense's                     | dense's                     |
 *
 * The rule is consistent: a backend serves its native base operator and raises for the
 * other, instead of silently building a dense Jacobian. Operators that can be composed
 * from either (gradient, jacobian, derivative, hvp, hessian, ...) use whichever the
 * backend has, e.g. `gradient` with autoForward takes one pushforward per input element.
 * Because the implementations call `ng.jvp`/`ng.vjp`, a `di` operator under an outer
 * transform takes part in nested switching exactly like the native transforms.
 */
import { Tensor } from "../core/tensor.js";
import { flatten, unflatten } from "../core/tree.js";
import { isFloat, type DType } from "../tensor/dtype.js";
import { add } from "../primitives/add.js";
import { div } from "../primitives/div.js";
import { mul } from "../primitives/mul.js";
import { scalar } from "../primitives/convert.js";
import { sub } from "../primitives/sub.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { jvp } from "../transforms/jvp.js";
import { vjp } from "../transforms/vjp.js";
import { stack } from "../primitives/concatenate.js";
import { slice } from "../primitives/slice.js";
import { vmap } from "../transforms/vmap.js";
import { count } from "./stats.js";
import type { Pattern } from "./sparsity.js";
import { checkOptions, optionKeys } from "../util/options.js";

/** Forward-mode AD: pushforward = `ng.jvp`. */
export class AutoForward {
  readonly kind = "autoForward";
  get name(): string {
    return "autoForward()";
  }
}

/** Reverse-mode AD: pullback = `ng.vjp` (linearize once, one transposed pass per cotangent). */
export class AutoReverse {
  readonly kind = "autoReverse";
  get name(): string {
    return "autoReverse()";
  }
}

export type FDMethod = "central" | "forward" | "backward";

export interface FiniteDifferencesOptions {
  /** "central" (default; error O(h²)), "forward" or "backward" (error O(h)). */
  method?: FDMethod;
  /**
   * Absolute step h along the tangent. Default: ε^(1/3) for central and ε^(1/2) for
   * one-sided differences, ε the machine epsilon of x's dtype (6e-6 and 1.5e-8 in float64).
   */
  step?: number;
}

/** The keys of FiniteDifferencesOptions (checked against the interface by the compiler). */
export const FINITE_DIFFERENCES_OPTION_KEYS = optionKeys<FiniteDifferencesOptions>()([
  "method",
  "step",
]);

/** Finite differences in the input's dtype (use float64): pushforward = (f(x+ht) − f(x−ht)) / 2h. */
export class FiniteDifferences {
  readonly kind = "finiteDifferences";
  readonly method: FDMethod;
  readonly step: number | undefined;
  constructor(options: FiniteDifferencesOptions) {
    const { method = "central", step } = checkOptions(
      "ng.di.finiteDifferences",
      options,
      FINITE_DIFFERENCES_OPTION_KEYS,
    );
    if (method !== "central" && method !== "forward" && method !== "backward") {
      throw new TypeError(
        `ng.di.finiteDifferences: method must be "central", "forward" or "backward", got ${String(method)}`,
      );
    }
    if (step !== undefined && !(typeof step === "number" && step > 0 && Number.isFinite(step))) {
      throw new TypeError(
        `ng.di.finiteDifferences: step must be a positive finite number, got ${String(step)}`,
      );
    }
    this.method = method;
    this.step = step;
  }
  get name(): string {
    return `finiteDifferences({ method: "${this.method}"${this.step === undefined ? "" : `, step: ${this.step}`} })`;
  }
  /** The step for values of dtype `dtype`. */
  stepFor(dtype: DType): number {
    if (this.step !== undefined) return this.step;
    const eps = dtype === "float64" ? 2.220446049250313e-16 : 1.1920928955078125e-7;
    return this.method === "central" ? Math.cbrt(eps) : Math.sqrt(eps);
  }
}

/** First-order backends (those with a base operator of their own). */
export type FirstOrderBackend = AutoForward | AutoReverse | FiniteDifferences;

/** Second order: outer differentiates the inner backend's gradient (or derivative). */
export class SecondOrder {
  readonly kind = "secondOrder";
  constructor(
    readonly outer: Backend,
    readonly inner: Backend,
  ) {}
  get name(): string {
    return `secondOrder(${this.outer.name}, ${this.inner.name})`;
  }
}

export interface AutoSparseOptions {
  /**
   * A pattern computed beforehand (by preparation or `ng.di.jacobianSparsity` /
   * `ng.di.hessianSparsity`) to skip detection; it must belong to the same f and shapes.
   */
  pattern?: Pattern;
}

/** The keys of AutoSparseOptions (checked against the interface by the compiler). */
export const AUTO_SPARSE_OPTION_KEYS = optionKeys<AutoSparseOptions>()(["pattern"]);

/**
 * Sparse Jacobians and Hessians over a dense backend: the pattern is detected from the
 * staged IR, its columns (or rows) are coloured, and one compressed pass per colour is
 * taken. Every other operator is the dense backend's.
 */
export class AutoSparse {
  readonly kind = "autoSparse";
  readonly pattern: Pattern | undefined;
  constructor(
    readonly dense: Backend,
    options: AutoSparseOptions = {},
  ) {
    if (dense instanceof AutoSparse)
      throw new TypeError(`ng.di.autoSparse: the dense backend is already sparse (${dense.name})`);
    this.pattern = checkOptions("ng.di.autoSparse", options, AUTO_SPARSE_OPTION_KEYS).pattern;
  }
  get name(): string {
    return `autoSparse(${this.dense.name})`;
  }
}

export type Backend = AutoForward | AutoReverse | FiniteDifferences | SecondOrder | AutoSparse;

/**
 * Forward-mode automatic differentiation (`ng.jvp`).
 * @example ng.di.derivative((x) => ng.sin(x), ng.di.autoForward(), 0.5) // cos 0.5
 */
export function autoForward(): AutoForward {
  return new AutoForward();
}

/**
 * Reverse-mode automatic differentiation (`ng.vjp`, linearize + transpose).
 * @example ng.di.gradient((x) => ng.sum(ng.square(x)), ng.di.autoReverse(), x) // 2x
 */
export function autoReverse(): AutoReverse {
  return new AutoReverse();
}

/**
 * Finite differences (an oracle for testing; use float64 inputs).
 * @example ng.di.gradient(f, ng.di.finiteDifferences({ method: "central" }), x.cast("float64"))
 */
export function finiteDifferences(options: FiniteDifferencesOptions = {}): FiniteDifferences {
  return new FiniteDifferences(options);
}

/**
 * A second-order backend: `outer` differentiates the gradient (or derivative) computed by
 * `inner`. All four AD combinations work; forward-over-reverse
 * (`secondOrder(autoForward(), autoReverse())`) is the usual choice for Hessians.
 * @example ng.di.hvp(f, ng.di.secondOrder(ng.di.autoForward(), ng.di.autoReverse()), x, [v])
 */
export function secondOrder(outer: Backend, inner: Backend): SecondOrder {
  checkBackend(outer, "ng.di.secondOrder", "outer");
  checkBackend(inner, "ng.di.secondOrder", "inner");
  return new SecondOrder(outer, inner);
}

/**
 * Sparse Jacobians and Hessians by pattern detection and graph colouring over `dense`.
 * @example
 * const b = ng.di.autoSparse(ng.di.secondOrder(ng.di.autoForward(), ng.di.autoReverse()));
 * ng.di.hessian(f, b, x); // one HVP per colour instead of one per column
 */
export function autoSparse(dense: Backend, options: AutoSparseOptions = {}): AutoSparse {
  checkBackend(dense, "ng.di.autoSparse", "dense");
  return new AutoSparse(dense, options);
}

/** Throws unless `b` is a backend made by one of the constructors above. */
export function checkBackend(b: unknown, op: string, what = "backend"): asserts b is Backend {
  if (
    b instanceof AutoForward ||
    b instanceof AutoReverse ||
    b instanceof FiniteDifferences ||
    b instanceof SecondOrder ||
    b instanceof AutoSparse
  )
    return;
  throw new TypeError(
    `${op}: ${what} must be a backend (ng.di.autoForward(), autoReverse(), finiteDifferences(), ` +
      `secondOrder(outer, inner) or autoSparse(dense)), got ${b === null ? "null" : typeof b}`,
  );
}

/** The first-order backend that serves the base operators of `b`. */
export function firstOrder(b: Backend): FirstOrderBackend {
  if (b instanceof SecondOrder) return firstOrder(b.inner);
  if (b instanceof AutoSparse) return firstOrder(b.dense);
  return b;
}

/** Whether `b` can push tangents forward. */
export function hasPushforward(b: Backend): boolean {
  const f = firstOrder(b);
  return f instanceof AutoForward || f instanceof FiniteDifferences;
}

/** Whether `b` can pull cotangents back. */
export function hasPullback(b: Backend): boolean {
  return firstOrder(b) instanceof AutoReverse;
}

/** The error for an operator a backend cannot serve; names both. */
export function unsupported(op: string, b: Backend, needs: "pushforward" | "pullback"): Error {
  const alt =
    needs === "pullback"
      ? "use ng.di.autoReverse() (or jacobian/gradient, which compose pushforwards)"
      : "use ng.di.autoForward() or ng.di.finiteDifferences() (or jacobian/derivative, which compose pullbacks)";
  return new TypeError(
    `ng.di.${op}: backend ${b.name} cannot serve ${op}: it needs a ${needs}, which ` +
      `${firstOrder(b).name} does not provide; ${alt}`,
  );
}

/** f(x) and the pushforwards J·t of every tangent in `ts` (one pass per direction). */
export function pushforwardBase(
  b: Backend,
  op: string,
  fx: (x: any) => any,
  x: unknown,
  ts: readonly unknown[],
): { y: unknown; dys: unknown[] } {
  const f = firstOrder(b);
  if (f instanceof AutoForward) {
    if (ts.length === 0) return { y: fx(x), dys: [] };
    count("pushforward", ts.length);
    if (ts.length === 1) {
      const [y, dy] = jvp(fx, [x], [ts[0]]);
      return { y, dys: [dy] };
    }
    // All directions in one vmapped JVP; the value does not depend on the direction.
    const [y, dy] = vmap((t: unknown) => jvp(fx, [x], [t]), 0, [null, 0])(stackTrees(ts));
    return { y, dys: unstackTree(dy, ts.length) };
  }
  if (f instanceof FiniteDifferences) {
    const [xl, xdef] = flatten<Tensor>(x);
    const y = fx(x);
    const [y0, ydef] = flatten<unknown>(y);
    const at = (t: unknown, s: number) => {
      const [tl] = flatten<Tensor>(t);
      return flatten<unknown>(
        fx(
          unflatten(
            xdef,
            xl.map((l, i) => add(l, mul(scalar(s, l.dtype), tl[i]!))),
          ),
        ),
      )[0];
    };
    const dys = ts.map((t) => {
      const h = f.stepFor(xl.find((l) => l.dtype === "float64")?.dtype ?? "float32");
      const [hi, lo, w] =
        f.method === "central"
          ? [at(t, h), at(t, -h), 2 * h]
          : f.method === "forward"
            ? [at(t, h), y0, h]
            : [y0, at(t, -h), h];
      return unflatten(
        ydef,
        y0.map((o, k) => {
          if (!(o instanceof Tensor) || !isFloat(o.dtype))
            return o instanceof Tensor ? zerosLike(o) : o;
          return div(sub(hi[k] as Tensor, lo[k] as Tensor), scalar(w, o.dtype));
        }),
      );
    });
    count("pushforward", ts.length);
    return { y, dys };
  }
  throw unsupported(op, b, "pushforward");
}

/** f(x) and a pullback u ↦ Jᵀ·u for lists of cotangents (f linearized once). */
export function pullbackBase(
  b: Backend,
  op: string,
  fx: (x: any) => any,
  x: unknown,
): { y: unknown; pull(cts: readonly unknown[]): unknown[] } {
  const f = firstOrder(b);
  if (!(f instanceof AutoReverse)) throw unsupported(op, b, "pullback");
  const [y, pb] = vjp(fx, x);
  return {
    y,
    pull: (cts) => {
      count("pullback", cts.length);
      if (cts.length <= 1) return cts.map((u) => pb(u)[0]);
      // All cotangents through one vmapped pullback.
      return unstackTree(vmap((u: unknown) => pb(u)[0])(stackTrees(cts)), cts.length);
    },
  };
}

/** Stacks trees of equal structure leaf by leaf along a new leading axis. */
function stackTrees(trees: readonly unknown[]): unknown {
  const flat = trees.map((t) => flatten<Tensor>(t));
  const def = flat[0]![1];
  return unflatten(
    def,
    flat[0]![0].map((_l, i) => stack(flat.map(([leaves]) => leaves[i]!))),
  );
}

/** The inverse of stackTrees: `n` trees, each the k-th slice of every leaf. */
function unstackTree(tree: unknown, n: number): unknown[] {
  const [leaves, def] = flatten<Tensor>(tree);
  return Array.from({ length: n }, (_v, k) =>
    unflatten(
      def,
      leaves.map((l) => slice(l, [k])),
    ),
  );
}
