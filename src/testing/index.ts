/**
 * Shipped testing helpers: `checkGrads` compares forward and
 * reverse mode against central finite differences to any order, and `allclose`.
 * Use float64 inputs: finite differences in float32 cannot resolve derivatives well.
 */
import type { Tensor } from "../core/tensor.js";
import { isFloat } from "../tensor/dtype.js";
import * as K from "../tensor/index.js";
import { fromNDArray } from "../primitives/convert.js";
import { add } from "../primitives/add.js";
import { mul } from "../primitives/mul.js";
import { zerosLike } from "../primitives/zeros_like.js";
// Unchecked: the arguments may include integer tensors, carried with zero tangents.
import { jvpUnchecked as jvp } from "../transforms/jvp.js";
import { vjp } from "../transforms/vjp.js";
import { flattenTensors } from "../transforms/args.js";
import { unflatten, type TreeDef } from "../core/tree.js";
import { checkFunction, checkReturned, describeResult } from "../util/check.js";
import { checkOptions, optionKeys, positionalOrOptions } from "../util/options.js";

export type Mode = "fwd" | "rev";

export interface CheckGradsOptions {
  /** Highest derivative order to check (default 2). */
  order?: number;
  /** Modes to check at each order (default both). */
  modes?: readonly Mode[];
  /** Finite-difference step (default 1e-5 for float64, 1e-2 for float32). */
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Seed of the random directions. */
  seed?: number;
}

type FlatF = (xs: Tensor[]) => Tensor[];

function flatValues(ts: readonly Tensor[]): number[] {
  const out: number[] = [];
  for (const t of ts) for (const v of t.dataSync()) out.push(v);
  return out;
}

/** The options form of allclose's tolerances: `allclose(a, b, { atol: 1e-6 })`. */
export interface AllcloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  atol?: number;
}
const ALLCLOSE_OPTION_KEYS = optionKeys<AllcloseOptions>()(["rtol", "atol"]);

/**
 * True when every |a - b| <= atol + rtol·|b| (arrays as flat numbers). The tolerances come
 * positionally or as one options object.
 * @example ng.testing.allclose(ng.array([1, 2]), [1, 2.000001], { rtol: 1e-5 }) // true
 */
export function allclose(
  a: Tensor | ArrayLike<number>,
  b: Tensor | ArrayLike<number>,
  options: AllcloseOptions,
): boolean;
export function allclose(
  a: Tensor | ArrayLike<number>,
  b: Tensor | ArrayLike<number>,
  rtol?: number,
  atol?: number,
): boolean;
export function allclose(
  a: Tensor | ArrayLike<number>,
  b: Tensor | ArrayLike<number>,
  ...rest: unknown[]
): boolean {
  const { rtol = 1e-5, atol = 1e-8 } = positionalOrOptions<AllcloseOptions>(
    "allclose",
    rest,
    ALLCLOSE_OPTION_KEYS,
  );
  return closeness(toNumbers(a), toNumbers(b), rtol, atol) === null;
}

function toNumbers(x: Tensor | ArrayLike<number>): ArrayLike<number> {
  return "dataSync" in x ? x.dataSync() : x;
}

/** Null when close, else a description of the worst element. */
function closeness(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rtol: number,
  atol: number,
): string | null {
  if (a.length !== b.length) return `lengths differ: ${a.length} vs ${b.length}`;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - b[i]!);
    const tol = atol + rtol * Math.abs(b[i]!);
    const excess = Number.isNaN(err) ? Infinity : err - tol;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  return worst < 0
    ? null
    : `element ${worst}: ${a[worst]} vs ${b[worst]} (|diff| ${Math.abs(a[worst]! - b[worst]!)})`;
}

function randomLike(xs: readonly Tensor[], seed: number): Tensor[] {
  let key = K.random.key(seed);
  return xs.map((x) => {
    const [k1, k2] = K.random.split(key);
    key = k1!;
    if (!isFloat(x.dtype)) return zerosLike(x);
    return fromNDArray(K.random.normal(k2!, x.shape as number[], { dtype: x.dtype }));
  });
}

function axpy(a: number, v: Tensor, x: Tensor): Tensor {
  return isFloat(x.dtype) ? add(x, mul(v, a)) : x;
}

function dot(a: readonly Tensor[], b: readonly Tensor[]): number {
  const x = flatValues(a);
  const y = flatValues(b);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

/**
 * Central finite-difference directional derivative of a flat function.
 * @example
 * const sq = (xs: ng.Tensor[]) => [ng.mul(xs[0]!, xs[0]!)];
 * ng.testing.numericalJvp(sq, [ng.array([3], { dtype: "float64" })], [ng.array([1], { dtype: "float64" })], 1e-6) // [6]
 */
export function numericalJvp(f: FlatF, xs: Tensor[], vs: Tensor[], eps: number): number[] {
  const plus = flatValues(f(xs.map((x, i) => axpy(eps, vs[i]!, x))));
  const minus = flatValues(f(xs.map((x, i) => axpy(-eps, vs[i]!, x))));
  return plus.map((p, i) => (p - minus[i]!) / (2 * eps));
}

/**
 * Checks f's derivatives at `args` (a list of arguments, pytrees of tensors) against
 * central finite differences: forward mode directly, reverse mode through
 * ⟨u, J v⟩ = ⟨Jᵀu, v⟩, then recursively the derivatives of the derivative maps up to
 * `order`, in every mix of modes. Throws an Error describing the first mismatch.
 * @example ng.testing.checkGrads((x) => ng.sin(x), [ng.array([0.5], { dtype: "float64" })], { order: 2 });
 */
export function checkGrads(
  f: (...args: any[]) => any,
  args: readonly unknown[],
  options: CheckGradsOptions = {},
): void {
  checkFunction("checkGrads", f);
  if (!Array.isArray(args)) {
    throw new TypeError(
      `checkGrads: args must be an array of arguments (e.g. [x]), got ${describeResult(args)}`,
    );
  }
  const inFlat = flattenTensors(args, "checkGrads: argument ");
  const flatF: FlatF = (xs) => {
    const { def } = inFlat;
    const tree = unflattenArgs(def, xs);
    const out = f(...tree);
    checkReturned("checkGrads", out);
    return flattenTensors(out, "checkGrads: output of f").leaves;
  };
  checkOptions("checkGrads", options, ["order", "modes", "eps", "rtol", "atol", "seed"]);
  checkNumberOption(options.order, "order", (v) => Number.isInteger(v) && v >= 0, "an integer ≥ 0");
  checkNumberOption(options.eps, "eps", (v) => v > 0 && Number.isFinite(v), "a finite number > 0");
  checkNumberOption(options.rtol, "rtol", (v) => v >= 0, "a number ≥ 0");
  checkNumberOption(options.atol, "atol", (v) => v >= 0, "a number ≥ 0");
  checkNumberOption(options.seed, "seed", Number.isInteger, "an integer");
  if (
    options.modes !== undefined &&
    (!Array.isArray(options.modes) || options.modes.some((m) => m !== "fwd" && m !== "rev"))
  ) {
    throw new TypeError(
      `checkGrads: options.modes: expected a list of "fwd" and "rev", got ${JSON.stringify(options.modes)}`,
    );
  }
  const f64 = inFlat.leaves.every((x) => x.dtype !== "float32");
  const opts = {
    order: options.order ?? 2,
    modes: options.modes ?? (["fwd", "rev"] as const),
    eps: options.eps ?? (f64 ? 1e-5 : 1e-2),
    rtol: options.rtol ?? (f64 ? 1e-5 : 2e-2),
    atol: options.atol ?? (f64 ? 1e-6 : 2e-2),
    seed: options.seed ?? 0,
  };
  checkFlat(flatF, inFlat.leaves, opts, opts.order, "f");
}

/** Throws a RangeError naming option `name` unless it is undefined or a number passing `ok`. */
function checkNumberOption(
  v: unknown,
  name: string,
  ok: (v: number) => boolean,
  expected: string,
): void {
  if (v !== undefined && (typeof v !== "number" || !ok(v))) {
    throw new RangeError(
      `checkGrads: options.${name}: expected ${expected}, got ${describeResult(v)}`,
    );
  }
}

function unflattenArgs(def: TreeDef, xs: Tensor[]): unknown[] {
  return unflatten<unknown[]>(def, xs);
}

interface Opts {
  modes: readonly Mode[];
  eps: number;
  rtol: number;
  atol: number;
  seed: number;
}

function checkFlat(f: FlatF, xs: Tensor[], o: Opts, order: number, name: string): void {
  if (order <= 0) return;
  const vs = randomLike(xs, o.seed + 1);
  const outs = f(xs);
  const us = randomLike(outs, o.seed + 2);
  const numeric = numericalJvp(f, xs, vs, o.eps);
  for (const mode of o.modes) {
    if (mode === "fwd") {
      const [, touts] = jvp((...a: Tensor[]) => f(a), xs, vs);
      const got = flatValues(touts as Tensor[]);
      const bad = closeness(got, numeric, o.rtol, o.atol);
      if (bad)
        throw new Error(
          `checkGrads: forward mode of ${name} disagrees with finite differences at ${bad}`,
        );
      // d/dx of x -> jvp(f)(x, v) along a new direction.
      checkFlat(
        (a) => jvp((...b: Tensor[]) => f(b), a, vs)[1] as Tensor[],
        xs,
        { ...o, seed: o.seed + 10 },
        order - 1,
        `jvp(${name})`,
      );
    } else {
      const [, pullback] = vjp((...a: Tensor[]) => f(a), ...xs);
      const cts = pullback(us) as Tensor[];
      const lhs = dot(cts, vs);
      const uFlat = flatValues(us);
      const rhs = numeric.reduce((s, n, i) => s + n * uFlat[i]!, 0);
      const bad = closeness([lhs], [rhs], o.rtol, o.atol * Math.max(1, numeric.length));
      if (bad) {
        throw new Error(
          `checkGrads: reverse mode of ${name}: <vjp(u), v> = ${lhs} but <u, J v> by finite differences = ${rhs}`,
        );
      }
      checkFlat(
        (a) => vjp((...b: Tensor[]) => f(b), ...a)[1](us) as Tensor[],
        xs,
        { ...o, seed: o.seed + 20 },
        order - 1,
        `vjp(${name})`,
      );
    }
  }
}
