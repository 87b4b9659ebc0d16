/**
 * Gradients: `grad` and `valueAndGrad` with `argnums` and `hasAux`, built
 * on linearize + transpose (vjp.ts). The output must be a float scalar.
 */
import { Tensor } from "../core/tensor.js";
import { flatten, unflatten, type TreeDef } from "../core/tree.js";
import { currentTrace, evalTrace } from "../core/trace.js";
import { isFloat } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { scalar } from "../primitives/convert.js";
import { checkOptions, optionKeys } from "../util/options.js";
import { checkFunction, checkReturned, describeResult } from "../util/check.js";
import { checkFloatInputs, flattenTensors, normalizeArgnums } from "./args.js";
import type { AuxFn, Fn, GradResult, ValueAndGradResult, NoOptions } from "./types.js";
import { linearizeFlat, pullbackFlat } from "./vjp.js";

export interface GradOptions {
  /** Which positional argument(s) to differentiate (default 0). A list gives a list of gradients. */
  argnums?: number | readonly number[];
  /** f returns [value, aux]; aux is passed through undifferentiated. */
  hasAux?: boolean;
}

/** The keys of GradOptions (checked against the interface by the compiler). */
export const GRAD_OPTION_KEYS = optionKeys<GradOptions>()(["argnums", "hasAux"]);

function checkScalarOutput(out: unknown, fname: string): Tensor {
  checkReturned(fname, out);
  const flat = flattenTensors(out, `${fname}: output of f`);
  if (flat.leaves.length !== 1 || flat.def.kind !== "leaf") {
    throw new TypeError(
      `${fname}: f must return a single scalar tensor, got a tree with ${flat.leaves.length} leaves`,
    );
  }
  const y = flat.leaves[0]!;
  if (y.ndim !== 0) {
    throw new TypeError(
      `${fname}: f must return a scalar (shape []), got ${y.dtype}${formatShape(y.shape)}; ` +
        `use ng.vjp or ng.jacrev for non-scalar outputs, or reduce with ng.sum`,
    );
  }
  if (!isFloat(y.dtype))
    throw new TypeError(`${fname}: f must return a float scalar, got dtype ${y.dtype}`);
  return y;
}

/**
 * f and its gradient in one pass: returns `[value, grads]` (`[[value, aux], grads]` with hasAux).
 * The types follow f: the gradient has the type of the differentiated argument (a tuple
 * for a tuple of argnums).
 * @example const [loss, g] = ng.valueAndGrad((w: ng.Tensor) => ng.sum(ng.square(w)))(x); // g = 2x, a Tensor
 */
export function valueAndGrad<F extends AuxFn, const O extends GradOptions & { hasAux: true }>(
  f: F,
  options: O,
): (...args: Parameters<F>) => ValueAndGradResult<F, O>;
export function valueAndGrad<F extends Fn, const O extends GradOptions = NoOptions>(
  f: F,
  options?: O,
): (...args: Parameters<F>) => ValueAndGradResult<F, O>;
export function valueAndGrad<F extends Fn, const O extends GradOptions = NoOptions>(
  f: F,
  options?: O,
): (...args: Parameters<F>) => ValueAndGradResult<F, O> {
  return valueAndGradNamed(f, options ?? {}, "valueAndGrad") as (
    ...args: Parameters<F>
  ) => ValueAndGradResult<F, O>;
}

/**
 * Handles an inner gradient while an outer transform is active (nested
 * switching): given the flat objective and the differentiated leaves it returns
 * [value, ...aux, ...grads], or null to fall back to plain nesting. Installed by nested/.
 */
export type NestedGradHandler = (
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  nOut: number,
  fname: string,
  /** The user's inner function: what the handler's decision cache keys on. */
  origin?: unknown,
) => Tensor[] | null;

let nestedGradHandler: NestedGradHandler | null = null;

/** Installs (or removes, with null) the nested-switching handler of `grad`/`valueAndGrad`. */
export function setNestedGradHandler(handler: NestedGradHandler | null): void {
  nestedGradHandler = handler;
}

/**
 * The flat objective of f: differentiated leaves -> [value, ...aux leaves]. The aux
 * structure is recorded on the first call.
 */
function flatObjective(
  f: (...args: any[]) => any,
  args: any[],
  nums: number[],
  def: TreeDef,
  hasAux: boolean,
  fname: string,
) {
  // aux leaves that are tensors travel as outputs; other leaves (strings, ...) are kept as is.
  const rec: { auxDef: TreeDef | undefined; auxLeaves: unknown[] } = {
    auxDef: undefined,
    auxLeaves: [],
  };
  const fn = (xs: Tensor[]): Tensor[] => {
    const chosen = unflatten<unknown[]>(def, xs);
    const full = args.slice();
    nums.forEach((a, k) => (full[a] = chosen[k]));
    const out = f(...full);
    if (!hasAux) return [checkScalarOutput(out, fname)];
    checkReturned(fname, out);
    if (!Array.isArray(out) || out.length !== 2) {
      throw new TypeError(
        `${fname}: with hasAux, expected f to return [value, aux], got ${describeResult(out)}`,
      );
    }
    const [leaves, auxDef] = flatten(out[1]);
    rec.auxDef = auxDef;
    rec.auxLeaves = leaves;
    return [
      checkScalarOutput(out[0], fname),
      ...leaves.filter((l): l is Tensor => l instanceof Tensor),
    ];
  };
  return { fn, rec };
}

function valueAndGradNamed(f: (...args: any[]) => any, options: GradOptions, fname: string) {
  checkOptions(fname, options, GRAD_OPTION_KEYS);
  checkFunction(fname, f);
  const { argnums = 0, hasAux = false } = options;
  return (...args: any[]): [any, any] => {
    const nums = normalizeArgnums(argnums, args.length, fname);
    const diffArgs = nums.map((i) => args[i]);
    const flat = flattenTensors(diffArgs, `${fname}: argument `);
    checkFloatInputs(flat, fname, "argument ");
    const { fn, rec } = flatObjective(f, args, nums, flat.def, hasAux, fname);
    let outs: Tensor[] | null = null;
    if (nestedGradHandler !== null && currentTrace() !== evalTrace) {
      outs = nestedGradHandler(fn, flat.leaves, -1, fname, f);
    }
    if (outs === null) {
      // one pullback: it releases the residuals from the memory ledger (ng.memory)
      const lin = linearizeFlat(fn, flat.leaves, fname);
      const y = lin.outs[0]!;
      const cts = lin.outs.map((_o, i) => (i === 0 ? scalar(1, y.dtype) : null));
      outs = [...lin.outs, ...pullbackFlat(lin, flat.leaves, cts)];
    }
    const nOut = outs.length - flat.leaves.length;
    const y = outs[0]!;
    const grads = unflatten<unknown[]>(flat.def, outs.slice(nOut));
    const g = typeof argnums === "number" ? grads[0] : grads;
    let aux: unknown;
    if (hasAux) {
      let k = 1;
      aux = unflatten(
        rec.auxDef!,
        rec.auxLeaves.map((l) => (l instanceof Tensor ? outs[k++] : l)),
      );
    }
    return [hasAux ? [y, aux] : y, g];
  };
}

/**
 * The gradient of a scalar function with respect to argument `argnums` (default 0), as a
 * pytree shaped like that argument (a list of them when argnums is a list). The returned
 * function has f's parameters, and its result has the type of the differentiated argument
 * (`[gradient, aux]` with `hasAux: true`).
 * @example const df = ng.grad((x: ng.Tensor) => ng.sum(ng.mul(x, x))); df(x) // 2x, a Tensor
 */
export function grad<F extends AuxFn, const O extends GradOptions & { hasAux: true }>(
  f: F,
  options: O,
): (...args: Parameters<F>) => GradResult<F, O>;
export function grad<F extends Fn, const O extends GradOptions = NoOptions>(
  f: F,
  options?: O,
): (...args: Parameters<F>) => GradResult<F, O>;
export function grad<F extends Fn, const O extends GradOptions = NoOptions>(
  f: F,
  options?: O,
): (...args: Parameters<F>) => GradResult<F, O> {
  const opts: GradOptions = options ?? {};
  const vg = valueAndGradNamed(f, opts, "grad");
  return (...args: Parameters<F>): GradResult<F, O> => {
    const [v, g] = vg(...args);
    return (opts.hasAux ? [g, v[1]] : g) as GradResult<F, O>;
  };
}
