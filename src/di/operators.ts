/**
 * The `ng.di` operators: `op(f, backend, x, ...contexts)` with the
 * extra tangent/cotangent list where the operator needs one. Everything here is composed
 * from the two base operators of backends.ts:
 *
 * - derivative = one pushforward of 1 (or one pullback per output element);
 * - gradient = one pullback of 1 (or one pushforward per input element);
 * - jacobian = one pushforward per input element (or one pullback per output element),
 *   or one compressed pass per colour with `autoSparse`;
 * - hvp = outer pushforward of the inner gradient (or, outer reverse, its pullback: H is
 *   symmetric); hessian = the Jacobian of the inner gradient by the outer backend;
 *   secondDerivative = the outer derivative of the inner derivative.
 *
 * Tangent and cotangent arguments are lists of directions (`[t1, t2, ...]`), as in
 * DifferentiationInterface.jl; results are lists in the same order. Without `ng.vmap`
 * the directions are taken one after another (one pass each, counted by `ng.di.stats()`);
 * reverse mode linearizes f once for all cotangents.
 */
import { Tensor } from "../core/tensor.js";
import { flatten, unflatten } from "../core/tree.js";
import { formatShape } from "../tensor/shape.js";
import { NDArray } from "../tensor/ndarray.js";
import { allocate } from "../tensor/dtype.js";
import { fromNDArray, scalar } from "../primitives/convert.js";
import { stack } from "../primitives/concatenate.js";
import { reshape } from "../primitives/reshape.js";
import { take } from "../primitives/take.js";
import { takeTranspose } from "../primitives/take_transpose.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { grad, valueAndGrad } from "../transforms/grad.js";
import {
  AutoReverse,
  AutoSparse,
  SecondOrder,
  checkBackend,
  hasPullback,
  hasPushforward,
  pullbackBase,
  pushforwardBase,
  unsupported,
  type Backend,
} from "./backends.js";
import { checkContexts, contextValues } from "./contexts.js";
import {
  blocks,
  checkFloat,
  matchSpace,
  ravel,
  seedTree,
  spaceOf,
  unravel,
  type Space,
} from "./space.js";
import {
  colorGroups,
  colorPattern,
  decompressionIndices,
  detectPattern,
  type Coloring,
  type Pattern,
} from "./sparsity.js";
import { count } from "./stats.js";

type Fn = (x: any, ...contexts: any[]) => any;
type Fx = (x: any) => any;

/** The validated pieces of one operator call. */
export interface Call {
  op: string;
  fx: Fx;
  x: unknown;
  xs: Space;
  backend: Backend;
}

/** Validates f, the backend, x and the contexts; fx is f with the context values bound. */
export function setup(
  op: string,
  f: Fn,
  backend: Backend | null,
  x: unknown,
  contexts: readonly unknown[],
  firstContext: number,
): Call {
  const name = `ng.di.${op}`;
  if (typeof f !== "function")
    throw new TypeError(`${name}: f must be a function, got ${typeof f}`);
  if (backend !== null) checkBackend(backend, name);
  const ctx = checkContexts(name, contexts, firstContext);
  const xs = spaceOf(x, `${name}: x`);
  checkFloat(xs, name, "x");
  const vals = contextValues(ctx);
  return {
    op,
    fx: (z: unknown) => f(z, ...vals),
    x: unflatten(xs.def, xs.leaves),
    xs,
    backend: backend ?? new AutoReverse(),
  };
}

/** The directions of a tangent/cotangent list, each matched against `ref`. */
function directions(op: string, ref: Space, list: unknown, what: string, against: string) {
  if (!Array.isArray(list)) {
    throw new TypeError(
      `ng.di.${op}: ${what} must be a list of directions [t1, t2, ...] (batched tangents), got ${typeof list}`,
    );
  }
  return list.map((t, k) =>
    unflatten(ref.def, matchSpace(ref, t, `ng.di.${op}`, `${what}[${k}]`, against)),
  );
}

function scalarOutput(op: string, y: unknown, fname = "f"): Tensor {
  const [ls] = flatten(y);
  const l = ls[0];
  if (ls.length !== 1 || !(l instanceof Tensor) || l.ndim !== 0) {
    const got =
      l instanceof Tensor && ls.length === 1
        ? `${l.dtype}${formatShape(l.shape)}`
        : `a tree with ${ls.length} leaves`;
    throw new TypeError(
      `ng.di.${op}: ${fname} must return a scalar (shape []), got ${got}; use jacobian or pullback for non-scalar outputs`,
    );
  }
  return l;
}

function checkScalarInput(c: Call): void {
  const l = c.xs.leaves[0];
  if (c.xs.leaves.length !== 1 || l!.ndim !== 0) {
    throw new TypeError(
      `ng.di.${c.op}: x must be a scalar (a number or a tensor of shape []), got ` +
        (c.xs.leaves.length === 1
          ? `shape ${formatShape(l!.shape)}`
          : `${c.xs.leaves.length} leaves`) +
        `; use jacobian or pushforward for non-scalar inputs`,
    );
  }
}

function basisDirections(s: Space): unknown[] {
  return Array.from({ length: s.n }, (_x, j) => seedTree(s, [j]));
}

/** The ravel of a tree in the dtype of `s`. */
function flatVec(tree: unknown, s: Space): Tensor {
  return ravel(spaceOf(tree, "").leaves, s.dtype);
}

/** The (outer, inner) pair of a backend used for a second-order operator. */
export function asSecondOrder(b: Backend): { outer: Backend; inner: Backend } {
  if (b instanceof SecondOrder) return { outer: b.outer, inner: b.inner };
  if (b instanceof AutoSparse) return asSecondOrder(b.dense);
  return { outer: b, inner: b };
}

/** The backend a first-order operator uses (secondOrder: its inner backend). */
function firstOrderOf(b: Backend): Backend {
  if (b instanceof SecondOrder) return firstOrderOf(b.inner);
  return b;
}

// ---------------------------------------------------------------- first order

export function pushforwardCore(c: Call, tx: unknown) {
  const ts = directions(c.op, c.xs, tx, "tangents", "x");
  return pushforwardBase(c.backend, c.op, c.fx, c.x, ts);
}

export function pullbackCore(c: Call, ty: unknown) {
  const { y, pull } = pullbackBase(c.backend, c.op, c.fx, c.x);
  const ys = spaceOf(y, `ng.di.${c.op}: output of f`);
  return { y, dxs: pull(directions(c.op, ys, ty, "cotangents", "output of f")) };
}

/** f(x) and df/dx for scalar x. */
export function derivativeCore(c: Call): { y: unknown; dy: unknown } {
  checkScalarInput(c);
  const b = firstOrderOf(c.backend);
  if (hasPushforward(b) || !hasPullback(b)) {
    const one = unflatten(c.xs.def, [scalar(1, c.xs.leaves[0]!.dtype)]);
    const { y, dys } = pushforwardBase(b, c.op, c.fx, c.x, [one]);
    return { y, dy: dys[0] };
  }
  const { y, pull } = pullbackBase(b, c.op, c.fx, c.x);
  const ys = spaceOf(y, `ng.di.${c.op}: output of f`);
  const rows = pull(basisDirections(ys)).map((d) => flatVec(d, ys));
  const col = rows.length === 0 ? zerosLike({ shape: [0], dtype: ys.dtype }) : stack(rows, 0);
  return { y, dy: unravel(reshape(col, [ys.n]), ys) };
}

/** f(x) and ∇f(x) for scalar f. */
export function gradientCore(c: Call): { y: Tensor; g: unknown } {
  const b = firstOrderOf(c.backend instanceof AutoSparse ? c.backend.dense : c.backend);
  if (hasPullback(b) || !hasPushforward(b)) {
    // The pullback of 1, by ng.valueAndGrad: the same linearize + transpose as ng.vjp, and
    // under an outer transform one staged gradCall (vjp would stage f and then ⟨u, f⟩).
    if (!hasPullback(b)) throw unsupported(c.op, b, "pullback");
    const [y, g] = valueAndGrad((z: unknown) => scalarOutput(c.op, c.fx(z)))(c.x);
    count("pullback", 1);
    return { y: y as Tensor, g };
  }
  const { y, dys } = pushforwardBase(b, c.op, c.fx, c.x, basisDirections(c.xs));
  const yt = scalarOutput(c.op, y);
  const parts = dys.map((d) => reshape(scalarOutput(c.op, d), [1]));
  const v = parts.length === 0 ? zerosLike({ shape: [0], dtype: c.xs.dtype }) : stack(parts, 0);
  return { y: yt, g: unravel(reshape(v, [c.xs.n]), c.xs) };
}

const colorings = new WeakMap<Pattern, Map<string, Coloring>>();

/** The colouring of `p` in `mode`, computed once per pattern. */
export function coloringOf(p: Pattern, mode: "column" | "row"): Coloring {
  let m = colorings.get(p);
  if (!m) colorings.set(p, (m = new Map()));
  let col = m.get(mode);
  if (!col) m.set(mode, (col = colorPattern(p, mode)));
  return col;
}

/** The shapes and dtypes of x, to check that a reused pattern belongs to it. */
export function signatureOf(xs: Space): string {
  return `${xs.leaves.map((l) => l.aval.toString()).join(", ")} ${JSON.stringify(xs.def)}`;
}

function patternFor(c: Call, b: AutoSparse, kind: "jacobian" | "hessian"): Pattern {
  const sig = signatureOf(c.xs);
  if (b.pattern) {
    if (b.pattern.kind !== kind || b.pattern.signature !== sig) {
      throw new RangeError(
        `ng.di.${c.op}: the ${b.pattern.kind} pattern given to ${b.name} was detected for x = ${b.pattern.signature}, ` +
          `not for a ${kind} at x = ${sig}`,
      );
    }
    return b.pattern;
  }
  return kind === "jacobian" ? jacobianPatternOf(c) : hessianPatternOf(c);
}

export function jacobianPatternOf(c: Call): Pattern {
  return detectPattern(
    (ls) => spaceOf(c.fx(unflatten(c.xs.def, ls)), `ng.di.${c.op}: output of f`).leaves,
    c.xs.leaves,
    "jacobian",
    signatureOf(c.xs),
  );
}

export function hessianPatternOf(c: Call): Pattern {
  return detectPattern(
    (ls) => {
      const g = grad((z: unknown) => scalarOutput(c.op, c.fx(z)))(unflatten(c.xs.def, ls));
      return spaceOf(g, "").leaves;
    },
    c.xs.leaves,
    "hessian",
    signatureOf(c.xs),
  );
}

function indexTensor(a: Int32Array): Tensor {
  return fromNDArray(new NDArray(a, [a.length]));
}

/** The dense [rows, cols] matrix from compressed results C ([colours, ...]). */
function decompress(C: Tensor, p: Pattern, col: Coloring): Tensor {
  if (p.nnz === 0) return zerosLike({ shape: [p.rows, p.cols], dtype: C.dtype });
  const { src, dst } = decompressionIndices(p, col);
  const vals = take(reshape(C, [C.size]), indexTensor(src));
  return reshape(takeTranspose(vals, indexTensor(dst), 0, [p.rows * p.cols]), [p.rows, p.cols]);
}

function zeroMatrix(m: number, n: number, s: Space): Tensor {
  return fromNDArray(new NDArray(allocate(s.dtype, m * n), [m, n]));
}

/** f(x), the output space and the Jacobian as a [m, n] matrix. */
export function jacobianCore(c: Call): { y: unknown; ys: Space; J: Tensor } {
  if (c.backend instanceof AutoSparse) return sparseJacobian(c, c.backend);
  const b = firstOrderOf(c.backend);
  if (hasPushforward(b) || !hasPullback(b)) {
    const { y, dys } = pushforwardBase(b, c.op, c.fx, c.x, basisDirections(c.xs));
    const ys = spaceOf(y, `ng.di.${c.op}: output of f`);
    const cols = dys.map((d) => flatVec(d, ys));
    return { y, ys, J: cols.length ? stack(cols, 1) : zeroMatrix(ys.n, 0, ys) };
  }
  const { y, pull } = pullbackBase(b, c.op, c.fx, c.x);
  const ys = spaceOf(y, `ng.di.${c.op}: output of f`);
  const rows = pull(basisDirections(ys)).map((d) => flatVec(d, c.xs));
  return { y, ys, J: rows.length ? stack(rows, 0) : zeroMatrix(0, c.xs.n, ys) };
}

function sparseJacobian(c: Call, sb: AutoSparse): { y: unknown; ys: Space; J: Tensor } {
  const b = firstOrderOf(sb.dense);
  const p = patternFor(c, sb, "jacobian");
  const mode = hasPushforward(b) || !hasPullback(b) ? "column" : "row";
  const col = coloringOf(p, mode);
  const groups = colorGroups(col);
  if (mode === "column") {
    const seeds = groups.map((g) => seedTree(c.xs, g));
    const { y, dys } = pushforwardBase(b, c.op, c.fx, c.x, seeds);
    const ys = spaceOf(y, `ng.di.${c.op}: output of f`);
    checkRows(c, p, ys);
    if (dys.length === 0) return { y, ys, J: zeroMatrix(ys.n, c.xs.n, ys) };
    return { y, ys, J: decompress(stack(dys.map((d) => flatVec(d, ys))), p, col) };
  }
  const { y, pull } = pullbackBase(b, c.op, c.fx, c.x);
  const ys = spaceOf(y, `ng.di.${c.op}: output of f`);
  checkRows(c, p, ys);
  const dxs = pull(groups.map((g) => seedTree(ys, g)));
  if (dxs.length === 0) return { y, ys, J: zeroMatrix(ys.n, c.xs.n, ys) };
  return { y, ys, J: decompress(stack(dxs.map((d) => flatVec(d, c.xs))), p, col) };
}

function checkRows(c: Call, p: Pattern, ys: Space): void {
  if (p.rows !== ys.n) {
    throw new RangeError(
      `ng.di.${c.op}: the sparsity pattern has ${p.rows} rows but f returned ${ys.n} elements`,
    );
  }
}

// ---------------------------------------------------------------- second order

/** The inner gradient as a function of x (for the outer backend to differentiate). */
function innerGradient(c: Call, inner: Backend): Fx {
  return (z: unknown) => gradientCore({ ...c, x: z, xs: spaceOf(z, ""), backend: inner }).g;
}

/** ∇f(x) and H(x)·v for every v (one outer pass over the inner gradient each). */
export function hvpCore(c: Call, vs: unknown[]): { g: unknown; hvs: unknown[] } {
  const { outer, inner } = asSecondOrder(c.backend);
  const gfun = innerGradient(c, inner);
  const o = firstOrderOf(outer);
  count("hvp", vs.length);
  if (hasPushforward(o) || !hasPullback(o)) {
    const { y, dys } = pushforwardBase(o, c.op, gfun, c.x, vs);
    return { g: y, hvs: dys };
  }
  // outer reverse: Hᵀv = Hv by symmetry
  const { y, pull } = pullbackBase(o, c.op, gfun, c.x);
  return { g: y, hvs: pull(vs) };
}

/** ∇f(x) and the Hessian as an [n, n] matrix (the Jacobian of the inner gradient). */
export function hessianCore(c: Call): { g: unknown; H: Tensor } {
  if (c.backend instanceof AutoSparse) return sparseHessian(c, c.backend);
  const { outer, inner } = asSecondOrder(c.backend);
  count("hvp", c.xs.n);
  const r = jacobianCore({ ...c, fx: innerGradient(c, inner), backend: firstOrderOf(outer) });
  return { g: r.y, H: r.J };
}

function sparseHessian(c: Call, sb: AutoSparse): { g: unknown; H: Tensor } {
  const p = patternFor(c, sb, "hessian");
  const col = coloringOf(p, "column");
  const seeds = colorGroups(col).map((g) => seedTree(c.xs, g));
  const { g, hvs } = hvpCore({ ...c, backend: sb.dense }, seeds);
  if (hvs.length === 0) return { g, H: zeroMatrix(c.xs.n, c.xs.n, c.xs) };
  return { g, H: decompress(stack(hvs.map((h) => flatVec(h, c.xs))), p, col) };
}

/** df/dx and d²f/dx² for scalar x. */
export function secondDerivativeCore(c: Call): { dy: unknown; d2y: unknown } {
  checkScalarInput(c);
  const { outer, inner } = asSecondOrder(c.backend);
  const dfun: Fx = (z) => derivativeCore({ ...c, x: z, xs: spaceOf(z, ""), backend: inner }).dy;
  const r = derivativeCore({ ...c, fx: dfun, backend: outer });
  return { dy: r.y, d2y: r.dy };
}

// ---------------------------------------------------------------- public operators

/**
 * Pushforwards (Jacobian-vector products) of f at x along each tangent of `tx`.
 * @example const [dy] = ng.di.pushforward((x) => ng.sin(x), ng.di.autoForward(), x, [v]); // cos(x)·v
 */
export function pushforward(
  f: Fn,
  backend: Backend,
  x: unknown,
  tx: unknown[],
  ...contexts: unknown[]
): any[] {
  return pushforwardCore(setup("pushforward", f, backend, x, contexts, 4), tx).dys;
}

/**
 * f(x) and its pushforwards along each tangent of `tx`: `[y, [dy1, dy2, ...]]`.
 * @example const [y, [dy]] = ng.di.valueAndPushforward(f, ng.di.autoForward(), x, [v]);
 */
export function valueAndPushforward(
  f: Fn,
  backend: Backend,
  x: unknown,
  tx: unknown[],
  ...contexts: unknown[]
): [any, any[]] {
  const r = pushforwardCore(setup("valueAndPushforward", f, backend, x, contexts, 4), tx);
  return [r.y, r.dys];
}

/**
 * Pullbacks (vector-Jacobian products) of each cotangent of `ty` (shaped like f's output).
 * @example const [dx] = ng.di.pullback((x) => ng.sin(x), ng.di.autoReverse(), x, [ng.onesLike(x)]); // cos(x)
 */
export function pullback(
  f: Fn,
  backend: Backend,
  x: unknown,
  ty: unknown[],
  ...contexts: unknown[]
): any[] {
  return pullbackCore(setup("pullback", f, backend, x, contexts, 4), ty).dxs;
}

/**
 * f(x) and the pullbacks of each cotangent of `ty`: `[y, [dx1, dx2, ...]]`.
 * @example const [y, [dx]] = ng.di.valueAndPullback(f, ng.di.autoReverse(), x, [ng.array(1)]);
 */
export function valueAndPullback(
  f: Fn,
  backend: Backend,
  x: unknown,
  ty: unknown[],
  ...contexts: unknown[]
): [any, any[]] {
  const r = pullbackCore(setup("valueAndPullback", f, backend, x, contexts, 4), ty);
  return [r.y, r.dxs];
}

/**
 * The derivative of f at a scalar x (f may return any tree).
 * @example ng.di.derivative((x) => ng.mul(x, x), ng.di.autoForward(), 3) // 6
 */
export function derivative(f: Fn, backend: Backend, x: unknown, ...contexts: unknown[]): any {
  return derivativeCore(setup("derivative", f, backend, x, contexts, 3)).dy;
}

/**
 * f(x) and its derivative at a scalar x: `[y, dy]`.
 * @example const [y, dy] = ng.di.valueAndDerivative(ng.sin, ng.di.autoForward(), 0.5);
 */
export function valueAndDerivative(
  f: Fn,
  backend: Backend,
  x: unknown,
  ...contexts: unknown[]
): [any, any] {
  const r = derivativeCore(setup("valueAndDerivative", f, backend, x, contexts, 3));
  return [r.y, r.dy];
}

/**
 * The gradient of a scalar f, shaped like x.
 * @example ng.di.gradient((x) => ng.sum(ng.square(x)), ng.di.autoReverse(), x) // 2x
 */
export function gradient(f: Fn, backend: Backend, x: unknown, ...contexts: unknown[]): any {
  return gradientCore(setup("gradient", f, backend, x, contexts, 3)).g;
}

/**
 * f(x) and its gradient: `[y, g]`.
 * @example
 * const loss = (w, data) => ng.mean(ng.square(ng.sub(ng.matmul(data.x, w), data.y)));
 * const data = { x: ng.array([[1, 2], [3, 4]]), y: ng.array([1, 0]) };
 * const [l, g] = ng.di.valueAndGradient(loss, ng.di.autoReverse(), ng.zeros([2]), ng.di.constant(data)); // 0.5, [-1, -2]
 */
export function valueAndGradient(
  f: Fn,
  backend: Backend,
  x: unknown,
  ...contexts: unknown[]
): [Tensor, any] {
  const r = gradientCore(setup("valueAndGradient", f, backend, x, contexts, 3));
  return [r.y, r.g];
}

/**
 * The Jacobian of f at x: for a tensor x of shape I and output of shape O, a tensor of
 * shape [...O, ...I]; for trees, f's output structure outside and x's inside (as ng.jacrev).
 * @example ng.di.jacobian((x) => ng.sin(x), ng.di.autoForward(), x) // diag(cos x)
 */
export function jacobian(f: Fn, backend: Backend, x: unknown, ...contexts: unknown[]): any {
  const c = setup("jacobian", f, backend, x, contexts, 3);
  const r = jacobianCore(c);
  return blocks(r.J, r.ys, c.xs);
}

/**
 * f(x) and its Jacobian: `[y, J]`.
 * @example const [y, J] = ng.di.valueAndJacobian(f, ng.di.autoReverse(), x);
 */
export function valueAndJacobian(
  f: Fn,
  backend: Backend,
  x: unknown,
  ...contexts: unknown[]
): [any, any] {
  const c = setup("valueAndJacobian", f, backend, x, contexts, 3);
  const r = jacobianCore(c);
  return [r.y, blocks(r.J, r.ys, c.xs)];
}

/**
 * Hessian-vector products H(x)·v of a scalar f for each v of `tx` (second-order backend;
 * a first-order backend b means secondOrder(b, b)).
 * @example const [hv] = ng.di.hvp(f, ng.di.secondOrder(ng.di.autoForward(), ng.di.autoReverse()), x, [v]);
 */
export function hvp(
  f: Fn,
  backend: Backend,
  x: unknown,
  tx: unknown[],
  ...contexts: unknown[]
): any[] {
  const c = setup("hvp", f, backend, x, contexts, 4);
  return hvpCore(c, directions("hvp", c.xs, tx, "tangents", "x")).hvs;
}

/**
 * The gradient and the Hessian-vector products: `[g, [hv1, ...]]`.
 * @example const [g, [hv]] = ng.di.gradientAndHvp(f, ng.di.autoReverse(), x, [v]);
 */
export function gradientAndHvp(
  f: Fn,
  backend: Backend,
  x: unknown,
  tx: unknown[],
  ...contexts: unknown[]
): [any, any[]] {
  const c = setup("gradientAndHvp", f, backend, x, contexts, 4);
  const r = hvpCore(c, directions("gradientAndHvp", c.xs, tx, "tangents", "x"));
  return [r.g, r.hvs];
}

/**
 * The Hessian of a scalar f: shape [...I, ...I] for a tensor x of shape I, blocks for trees.
 * @example ng.di.hessian((x) => ng.sum(ng.pow(x, 3)), ng.di.autoReverse(), x) // diag(6x)
 */
export function hessian(f: Fn, backend: Backend, x: unknown, ...contexts: unknown[]): any {
  const c = setup("hessian", f, backend, x, contexts, 3);
  return blocks(hessianCore(c).H, c.xs, c.xs);
}

/**
 * f(x), its gradient and its Hessian: `[y, g, H]`.
 * @example const [y, g, H] = ng.di.valueGradientAndHessian(f, ng.di.autoReverse(), x);
 */
export function valueGradientAndHessian(
  f: Fn,
  backend: Backend,
  x: unknown,
  ...contexts: unknown[]
): [Tensor, any, any] {
  const c = setup("valueGradientAndHessian", f, backend, x, contexts, 3);
  const { y, g } = gradientCore({ ...c, backend: asSecondOrder(c.backend).inner });
  return [y, g, blocks(hessianCore(c).H, c.xs, c.xs)];
}

/**
 * The second derivative of f at a scalar x (f may return any tree).
 * @example ng.di.secondDerivative((x) => ng.pow(x, 3), ng.di.autoForward(), 2) // 12
 */
export function secondDerivative(f: Fn, backend: Backend, x: unknown, ...contexts: unknown[]): any {
  return secondDerivativeCore(setup("secondDerivative", f, backend, x, contexts, 3)).d2y;
}

/**
 * f(x), its derivative and its second derivative at a scalar x: `[y, dy, d2y]`.
 * @example const [y, dy, d2y] = ng.di.valueDerivativeAndSecondDerivative(ng.sin, ng.di.autoForward(), 1);
 */
export function valueDerivativeAndSecondDerivative(
  f: Fn,
  backend: Backend,
  x: unknown,
  ...contexts: unknown[]
): [any, any, any] {
  const c = setup("valueDerivativeAndSecondDerivative", f, backend, x, contexts, 3);
  const r = secondDerivativeCore(c);
  return [c.fx(c.x), r.dy, r.d2y];
}

/**
 * The Jacobian sparsity pattern of f at x's shapes, detected from the staged IR (see
 * `ng.di.autoSparse`); `coloring(pattern, "column")` gives the compressed passes.
 * @example const p = ng.di.jacobianSparsity((x) => ng.sin(x), x); p.nnz // x.size
 */
export function jacobianSparsity(f: Fn, x: unknown, ...contexts: unknown[]): Pattern {
  return jacobianPatternOf(setup("jacobianSparsity", f, null, x, contexts, 2));
}

/**
 * The Hessian sparsity pattern of a scalar f at x's shapes (the Jacobian pattern of its
 * staged gradient).
 * @example ng.di.hessianSparsity((x) => ng.sum(ng.pow(x, 3)), x).nnz // x.size (diagonal)
 */
export function hessianSparsity(f: Fn, x: unknown, ...contexts: unknown[]): Pattern {
  return hessianPatternOf(setup("hessianSparsity", f, null, x, contexts, 2));
}

/**
 * A greedy distance-2 colouring of a pattern's columns (for compressed pushforwards or
 * HVPs) or rows (for compressed pullbacks); `count` is the number of passes.
 * @example ng.di.coloring(ng.di.hessianSparsity(f, x), "column").count // 3 for a tridiagonal H
 */
export function coloring(pattern: Pattern, mode: "column" | "row" = "column"): Coloring {
  return coloringOf(pattern, mode);
}
