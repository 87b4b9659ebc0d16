/**
 * Preparation of the `ng.di` operators: `prepareGradient(f, backend, x,
 * ...contexts)` (and one per operator) does the work that only depends on the shapes once
 * — it stages the whole derivative computation (forward and backward passes, inner
 * derivatives expanded) to IR with `stageFlat`, and for `autoSparse` detects the pattern
 * and colours it — and returns an object whose methods evaluate that IR at new points of
 * the same shapes. A call with other shapes, dtypes or tree structure raises, naming
 * expected and actual. When `ng.jit` lands it will compile the staged IR.
 *
 * Like `jit`, the staged program freezes what f reads from its closure at preparation.
 * f is re-run instead (same results, no staging) when it cannot be staged (it reads
 * values: a ConcretizationError), when a `cache` context is passed (its writes must
 * happen on every call), or when the prepared operator is called under an outer
 * transform — there the plain operator runs so that nested switching applies.
 */
import type { IR } from "../core/ir.js";
import { evalIR } from "../core/ir.js";
import { ConcretizationError, Tensor } from "../core/tensor.js";
import { currentTrace, evalTrace } from "../core/trace.js";
import { flatten, leafPaths, unflatten, type TreeDef } from "../core/tree.js";
import { formatShape } from "../tensor/shape.js";
import { withConfig } from "../config.js";
import { stageFlat } from "../transforms/make_ir.js";
import { AutoSparse, type Backend } from "./backends.js";
import { Cache, Constant, type Context } from "./contexts.js";
import {
  asSecondOrder,
  derivativeCore,
  gradientCore,
  hessianCore,
  hessianPatternOf,
  hvpCore,
  jacobianCore,
  jacobianPatternOf,
  pullbackCore,
  pushforwardCore,
  secondDerivativeCore,
  setup,
  coloringOf,
  type Call,
} from "./operators.js";
import { blocks } from "./space.js";
import type { Coloring, Pattern } from "./sparsity.js";

type Fn = (x: any, ...contexts: any[]) => any;
type Impl = (c: Call, extra: unknown) => unknown;

/** What each prepared method computes (the operator cores of operators.ts). */
const IMPLS: Record<string, Impl> = {
  derivative: (c) => derivativeCore(c).dy,
  valueAndDerivative: (c) => {
    const r = derivativeCore(c);
    return [r.y, r.dy];
  },
  gradient: (c) => gradientCore(c).g,
  valueAndGradient: (c) => {
    const r = gradientCore(c);
    return [r.y, r.g];
  },
  jacobian: (c) => {
    const r = jacobianCore(c);
    return blocks(r.J, r.ys, c.xs);
  },
  valueAndJacobian: (c) => {
    const r = jacobianCore(c);
    return [r.y, blocks(r.J, r.ys, c.xs)];
  },
  pushforward: (c, t) => pushforwardCore(c, t).dys,
  valueAndPushforward: (c, t) => {
    const r = pushforwardCore(c, t);
    return [r.y, r.dys];
  },
  pullback: (c, u) => pullbackCore(c, u).dxs,
  valueAndPullback: (c, u) => {
    const r = pullbackCore(c, u);
    return [r.y, r.dxs];
  },
  hvp: (c, v) => hvpCore(c, v as unknown[]).hvs,
  gradientAndHvp: (c, v) => {
    const r = hvpCore(c, v as unknown[]);
    return [r.g, r.hvs];
  },
  hessian: (c) => blocks(hessianCore(c).H, c.xs, c.xs),
  valueGradientAndHessian: (c) => {
    const { y, g } = gradientCore({ ...c, backend: asSecondOrder(c.backend).inner });
    return [y, g, blocks(hessianCore(c).H, c.xs, c.xs)];
  },
  secondDerivative: (c) => secondDerivativeCore(c).d2y,
  valueDerivativeAndSecondDerivative: (c) => {
    const r = secondDerivativeCore(c);
    return [c.fx(c.x), r.dy, r.d2y];
  },
};

/** The tensor leaves of a call's arguments (x, constant contexts, the direction list). */
interface Flat {
  leaves: Tensor[];
  /** Everything that is not a tensor leaf, to rebuild the arguments. */
  rebuild(leaves: readonly Tensor[]): { x: unknown; contexts: Context[]; extra: unknown };
  /** Shapes, dtypes and structure, one entry per argument, for the mismatch check. */
  parts: { what: string; def: TreeDef; avals: string[]; others: unknown[] }[];
}

function flatArgs(
  x: unknown,
  contexts: readonly Context[],
  extra: unknown,
  hasExtra: boolean,
): Flat {
  const parts: Flat["parts"] = [];
  const leaves: Tensor[] = [];
  const builders: ((ls: readonly Tensor[], at: { k: number }) => unknown)[] = [];
  const add = (tree: unknown, what: string) => {
    const [raw, def] = flatten(tree);
    const avals: string[] = [];
    const others: unknown[] = [];
    raw.forEach((l) => {
      if (l instanceof Tensor) {
        leaves.push(l);
        avals.push(`${l.dtype}${formatShape(l.shape)}`);
      } else {
        avals.push("");
        others.push(l);
      }
    });
    parts.push({ what, def, avals, others });
    builders.push((ls, at) =>
      unflatten(
        def,
        raw.map((l) => (l instanceof Tensor ? ls[at.k++]! : l)),
      ),
    );
  };
  add(x, "x");
  contexts.forEach((c, i) => add(c instanceof Constant ? c.value : null, `context ${i}`));
  if (hasExtra) add(extra, "directions");
  return {
    leaves,
    parts,
    rebuild: (ls) => {
      const at = { k: 0 };
      const xv = builders[0]!(ls, at);
      const ctx = contexts.map((c, i) =>
        c instanceof Constant ? new Constant(builders[i + 1]!(ls, at)) : c,
      );
      const ex = hasExtra ? builders[contexts.length + 1]!(ls, at) : undefined;
      return { x: xv, contexts: ctx, extra: ex };
    },
  };
}

/** Throws unless `got` matches the prepared arguments `want`, naming the first difference. */
function checkSame(name: string, want: Flat, got: Flat): void {
  if (want.parts.length !== got.parts.length) {
    throw new TypeError(
      `${name}: prepared with ${want.parts.length - 1} context/direction argument(s), got ${got.parts.length - 1}`,
    );
  }
  want.parts.forEach((w, i) => {
    const g = got.parts[i]!;
    if (JSON.stringify(w.def) !== JSON.stringify(g.def)) {
      throw new TypeError(`${name}: ${w.what} has a different tree structure than at preparation`);
    }
    const paths = leafPaths(w.def);
    w.avals.forEach((a, k) => {
      if (a !== g.avals[k]) {
        throw new RangeError(
          `${name}: ${w.what}${paths[k]}: prepared for ${a || "a non-tensor value"}, got ${g.avals[k] || "a non-tensor value"}`,
        );
      }
    });
    w.others.forEach((o, k) => {
      if (o !== g.others[k]) {
        throw new TypeError(
          `${name}: ${w.what}: a non-tensor leaf changed since preparation (${String(o)} -> ${String(g.others[k])}); ` +
            `pass values that vary as tensors`,
        );
      }
    });
  });
}

/** A prepared operator: the staged program(s) and, for autoSparse, the pattern and colouring. */
export class Preparation {
  /** Whether calls evaluate a staged program (false: f is re-run; see `reason`). */
  readonly staged: boolean;
  /** Why the computation is not staged, when it is not. */
  readonly reason: string | undefined;
  /** The sparsity pattern (autoSparse jacobian/hessian preparations). */
  readonly pattern: Pattern | undefined;
  /** The colouring used: `coloring.count` compressed passes per call. */
  readonly coloring: Coloring | undefined;
  readonly backend: Backend;
  private readonly ref: Flat;
  private readonly programs = new Map<string, { ir: IR; outDef: TreeDef }>();

  constructor(
    readonly operator: string,
    private readonly f: Fn,
    backend: Backend,
    x: unknown,
    extra: unknown,
    private readonly hasExtra: boolean,
    contexts: readonly unknown[],
    methods: readonly string[],
  ) {
    const name = `ng.di.prepare${operator[0]!.toUpperCase()}${operator.slice(1)}`;
    const c = setup(`prepare${operator}`, f, backend, x, contexts, hasExtra ? 4 : 3);
    const ctx = contexts as Context[];
    if (backend instanceof AutoSparse && (operator === "jacobian" || operator === "hessian")) {
      const p =
        backend.pattern ?? (operator === "jacobian" ? jacobianPatternOf(c) : hessianPatternOf(c));
      backend = new AutoSparse(backend.dense, { pattern: p });
      this.pattern = p;
      const mode =
        operator === "hessian" ? "column" : sparseMode(backend.dense) === "row" ? "row" : "column";
      this.coloring = coloringOf(p, mode);
    }
    this.backend = backend;
    this.ref = flatArgs(c.x, ctx, extra, hasExtra);
    let reason: string | undefined;
    if (ctx.some((k) => k instanceof Cache)) reason = "a cache context is passed";
    else if (currentTrace() !== evalTrace) reason = "prepared under an outer transform";
    if (reason === undefined) {
      try {
        for (const m of methods.slice(0, 1)) this.program(m, name);
      } catch (e) {
        if (!(e instanceof ConcretizationError)) throw e;
        reason = `f cannot be staged: ${e.message.split("\n")[0]}`;
      }
    }
    this.staged = reason === undefined;
    this.reason = reason;
  }

  private program(method: string, name: string): { ir: IR; outDef: TreeDef } {
    let p = this.programs.get(method);
    if (p) return p;
    const impl = IMPLS[method]!;
    let outDef: TreeDef | undefined;
    const ir = withConfig({ nestedSwitching: false }, () =>
      stageFlat(
        (ls) => {
          const a = this.ref.rebuild(ls);
          const c = setup(method, this.f, this.backend, a.x, a.contexts, this.hasExtra ? 4 : 3);
          const [outs, def] = flatten(impl(c, a.extra));
          outDef = def;
          return outs.map((o, i) => {
            if (o instanceof Tensor) return o;
            throw new TypeError(`${name}: result leaf ${i} is not a tensor`);
          });
        },
        this.ref.leaves,
        name,
      ),
    );
    p = { ir, outDef: outDef! };
    this.programs.set(method, p);
    return p;
  }

  /** Runs `method` at new arguments of the prepared shapes. */
  run(method: string, x: unknown, extra: unknown, contexts: readonly unknown[]): any {
    const name = `ng.di.prepare${this.operator[0]!.toUpperCase()}${this.operator.slice(1)}(...).${method}`;
    const c = setup(method, this.f, this.backend, x, contexts, this.hasExtra ? 3 : 2);
    const got = flatArgs(c.x, contexts as Context[], extra, this.hasExtra);
    checkSame(name, this.ref, got);
    if (this.staged && currentTrace() === evalTrace) {
      const p = this.program(method, name);
      return unflatten(p.outDef, evalIR(p.ir, got.leaves));
    }
    return IMPLS[method]!(c, extra);
  }
}

function sparseMode(b: Backend): "row" | "column" {
  const { inner } = asSecondOrder(b);
  return inner.kind === "autoReverse" ? "row" : "column";
}

export interface DerivativePrep extends Preparation {
  derivative(x: unknown, ...contexts: unknown[]): any;
  valueAndDerivative(x: unknown, ...contexts: unknown[]): [any, any];
}
export interface GradientPrep extends Preparation {
  gradient(x: unknown, ...contexts: unknown[]): any;
  valueAndGradient(x: unknown, ...contexts: unknown[]): [Tensor, any];
}
export interface JacobianPrep extends Preparation {
  jacobian(x: unknown, ...contexts: unknown[]): any;
  valueAndJacobian(x: unknown, ...contexts: unknown[]): [any, any];
}
export interface PushforwardPrep extends Preparation {
  pushforward(x: unknown, tx: unknown[], ...contexts: unknown[]): any[];
  valueAndPushforward(x: unknown, tx: unknown[], ...contexts: unknown[]): [any, any[]];
}
export interface PullbackPrep extends Preparation {
  pullback(x: unknown, ty: unknown[], ...contexts: unknown[]): any[];
  valueAndPullback(x: unknown, ty: unknown[], ...contexts: unknown[]): [any, any[]];
}
export interface HvpPrep extends Preparation {
  hvp(x: unknown, tx: unknown[], ...contexts: unknown[]): any[];
  gradientAndHvp(x: unknown, tx: unknown[], ...contexts: unknown[]): [any, any[]];
}
export interface HessianPrep extends Preparation {
  hessian(x: unknown, ...contexts: unknown[]): any;
  valueGradientAndHessian(x: unknown, ...contexts: unknown[]): [Tensor, any, any];
}
export interface SecondDerivativePrep extends Preparation {
  secondDerivative(x: unknown, ...contexts: unknown[]): any;
  valueDerivativeAndSecondDerivative(x: unknown, ...contexts: unknown[]): [any, any, any];
}

function make<T>(
  operator: string,
  methods: readonly string[],
  f: Fn,
  backend: Backend,
  x: unknown,
  extra: unknown,
  hasExtra: boolean,
  contexts: readonly unknown[],
): T {
  const prep = new Preparation(operator, f, backend, x, extra, hasExtra, contexts, methods);
  for (const m of methods) {
    Object.defineProperty(prep, m, {
      value: hasExtra
        ? (xx: unknown, e: unknown, ...ctx: unknown[]) => prep.run(m, xx, e, ctx)
        : (xx: unknown, ...ctx: unknown[]) => prep.run(m, xx, undefined, ctx),
      enumerable: false,
    });
  }
  return prep as T;
}

/**
 * Prepares `derivative` / `valueAndDerivative` of f at a scalar x's shape.
 * @example const p = ng.di.prepareDerivative(f, ng.di.autoForward(), 0.5); p.derivative(0.7);
 */
export function prepareDerivative(
  f: Fn,
  backend: Backend,
  x: unknown,
  ...contexts: unknown[]
): DerivativePrep {
  return make(
    "derivative",
    ["derivative", "valueAndDerivative"],
    f,
    backend,
    x,
    undefined,
    false,
    contexts,
  );
}

/**
 * Prepares `gradient` / `valueAndGradient`: staged once, cheap at new points of x's shape.
 * @example
 * const loss = (w, data) => ng.mean(ng.square(ng.sub(ng.matmul(data.x, w), data.y)));
 * const batches = [0, 1, 2].map((i) => ({ x: ng.array([[1, i], [i, 1]]), y: ng.array([1, 0]) }));
 * let w = ng.zeros([2]);
 * const prep = ng.di.prepareGradient(loss, ng.di.autoReverse(), w, ng.di.constant(batches[0]));
 * for (const batch of batches) w = ng.sub(w, ng.mul(0.1, prep.gradient(w, ng.di.constant(batch))));
 */
export function prepareGradient(
  f: Fn,
  backend: Backend,
  x: unknown,
  ...contexts: unknown[]
): GradientPrep {
  return make(
    "gradient",
    ["gradient", "valueAndGradient"],
    f,
    backend,
    x,
    undefined,
    false,
    contexts,
  );
}

/**
 * Prepares `jacobian` / `valueAndJacobian`; with autoSparse the pattern and colouring are
 * computed here once (`prep.coloring.count` passes per call).
 * @example const p = ng.di.prepareJacobian(f, ng.di.autoSparse(ng.di.autoForward()), x); p.jacobian(y);
 */
export function prepareJacobian(
  f: Fn,
  backend: Backend,
  x: unknown,
  ...contexts: unknown[]
): JacobianPrep {
  return make(
    "jacobian",
    ["jacobian", "valueAndJacobian"],
    f,
    backend,
    x,
    undefined,
    false,
    contexts,
  );
}

/**
 * Prepares `pushforward` / `valueAndPushforward` for tangent lists shaped like `tx`.
 * @example const p = ng.di.preparePushforward(f, ng.di.autoForward(), x, [v]); p.pushforward(y, [v]);
 */
export function preparePushforward(
  f: Fn,
  backend: Backend,
  x: unknown,
  tx: unknown[],
  ...contexts: unknown[]
): PushforwardPrep {
  return make(
    "pushforward",
    ["pushforward", "valueAndPushforward"],
    f,
    backend,
    x,
    tx,
    true,
    contexts,
  );
}

/**
 * Prepares `pullback` / `valueAndPullback` for cotangent lists shaped like `ty`.
 * @example const p = ng.di.preparePullback(f, ng.di.autoReverse(), x, [ng.array(1)]); p.pullback(y, [ng.array(2)]);
 */
export function preparePullback(
  f: Fn,
  backend: Backend,
  x: unknown,
  ty: unknown[],
  ...contexts: unknown[]
): PullbackPrep {
  return make("pullback", ["pullback", "valueAndPullback"], f, backend, x, ty, true, contexts);
}

/**
 * Prepares `hvp` / `gradientAndHvp` for direction lists shaped like `tx`.
 * @example const p = ng.di.prepareHvp(f, ng.di.autoReverse(), x, [v]); p.hvp(y, [v]);
 */
export function prepareHvp(
  f: Fn,
  backend: Backend,
  x: unknown,
  tx: unknown[],
  ...contexts: unknown[]
): HvpPrep {
  return make("hvp", ["hvp", "gradientAndHvp"], f, backend, x, tx, true, contexts);
}

/**
 * Prepares `hessian` / `valueGradientAndHessian`; with autoSparse the pattern and colouring
 * are computed here once.
 * @example const p = ng.di.prepareHessian(f, ng.di.autoSparse(ng.di.autoReverse()), x); p.hessian(y);
 */
export function prepareHessian(
  f: Fn,
  backend: Backend,
  x: unknown,
  ...contexts: unknown[]
): HessianPrep {
  return make(
    "hessian",
    ["hessian", "valueGradientAndHessian"],
    f,
    backend,
    x,
    undefined,
    false,
    contexts,
  );
}

/**
 * Prepares `secondDerivative` / `valueDerivativeAndSecondDerivative` at a scalar x's shape.
 * @example const p = ng.di.prepareSecondDerivative(f, ng.di.autoForward(), 1); p.secondDerivative(2);
 */
export function prepareSecondDerivative(
  f: Fn,
  backend: Backend,
  x: unknown,
  ...contexts: unknown[]
): SecondDerivativePrep {
  return make(
    "secondDerivative",
    ["secondDerivative", "valueDerivativeAndSecondDerivative"],
    f,
    backend,
    x,
    undefined,
    false,
    contexts,
  );
}
