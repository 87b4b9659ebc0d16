/**
 * Jacobians and second derivatives: `jacfwd` (one JVP per input element),
 * `jacrev` (one pullback per output element), `hessian = jacfwd(jacrev(f))` and `hvp`
 * (forward-over-reverse: one JVP of the gradient). The Jacobian of an output leaf of shape
 * O with respect to an argument of shape I has shape [...O, ...I].
 */
import type { Tensor } from "../core/tensor.js";
import { unflatten } from "../core/tree.js";
import { allocate } from "../tensor/dtype.js";
import { NDArray } from "../tensor/ndarray.js";
import { fromNDArray } from "../primitives/convert.js";
import { reshape } from "../primitives/reshape.js";
import { stack } from "../primitives/concatenate.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { checkOptions, optionKeys } from "../util/options.js";
import { checkFunction, checkReturned } from "../util/check.js";
import {
  checkFloatInputs,
  flattenTensors,
  matchTree,
  normalizeArgnums,
  type FlatTree,
} from "./args.js";
import type { Fn, HessianOf, JacobianOf, TangentOf, Tensors, NoOptions } from "./types.js";
import { grad } from "./grad.js";
import { jvp } from "./jvp.js";
import { pullbackOf } from "./vjp.js";
import { currentTrace, evalTrace } from "../core/trace.js";

/** The AD mode of a Jacobian: d forward passes or m reverse passes. */
export type JacMode = "forward" | "reverse";

/**
 * Chooses how an inner Jacobian under an outer transform is computed (installed by
 * nested/): a mode (the Jacobian is then computed here, in that mode), the Jacobian itself
 * (blocks[k][j] = ∂out_k/∂x_j of shape [...out_k.shape, ...x_j.shape], e.g. by compressed
 * per-sample passes), or null to run the transform as written.
 */
export type NestedJacobianHandler = (
  fn: (xs: Tensor[]) => Tensor[],
  leaves: Tensor[],
  written: JacMode,
  fname: string,
  origin: unknown,
) => JacMode | Tensor[][] | null;

let nestedJacobianHandler: NestedJacobianHandler | null = null;

/** Installs the nested-switching handler of jacfwd and jacrev. */
export function setNestedJacobianHandler(h: NestedJacobianHandler | null): void {
  nestedJacobianHandler = h;
}

/**
 * Under an outer transform, jacfwd and jacrev (not hessian's passes) ask nested switching
 * for the mode with fewer passes; null means: run as written.
 */
function switchedJacobian(
  f: (...args: any[]) => any,
  flat: FlatTree,
  call: (f: (...a: any[]) => any, xs: Tensor[]) => any,
  written: JacMode,
  fname: string,
  single: boolean,
): any {
  if (nestedJacobianHandler === null || (fname !== "jacfwd" && fname !== "jacrev")) return null;
  if (currentTrace() === evalTrace) return null;
  let outFlat: FlatTree | undefined;
  const r = nestedJacobianHandler(
    (xs) => {
      outFlat = flattenTensors(call(f, xs), `${fname}: output of f`);
      return outFlat.leaves;
    },
    flat.leaves,
    written,
    fname,
    f,
  );
  if (r === null) return null;
  if (r === "forward") return forwardJacobian(f, flat, call, fname, single);
  if (r === "reverse") return reverseJacobian(f, flat, call, fname, single);
  return jacTree(outFlat!, flat, r, single);
}

export interface JacOptions {
  argnums?: number | readonly number[];
}

/** The keys of JacOptions (checked against the interface by the compiler). */
export const JAC_OPTION_KEYS = optionKeys<JacOptions>()(["argnums"]);

/** The i-th standard basis tensor of x's shape and dtype. */
function basis(x: Tensor, i: number): Tensor {
  const data = allocate(x.dtype, x.size);
  data[i] = 1;
  return fromNDArray(new NDArray(data, x.shape));
}

/** Stacks per-element results `parts[k]` (each of shape S) into shape [...S, ...inner] or [...inner, ...S]. */
function assemble(
  parts: Tensor[],
  partShape: readonly number[],
  inner: readonly number[],
  innerLast: boolean,
  like: Tensor,
): Tensor {
  if (parts.length === 0)
    return reshape(
      zerosLike({ shape: [0], dtype: like.dtype }),
      innerLast ? [...partShape, ...inner] : [...inner, ...partShape],
    );
  const st = stack(parts, innerLast ? partShape.length : 0);
  return reshape(st, innerLast ? [...partShape, ...inner] : [...inner, ...partShape]);
}

function selected(args: any[], argnums: number | readonly number[], fname: string) {
  const nums = normalizeArgnums(argnums, args.length, fname);
  const flat = flattenTensors(
    nums.map((i) => args[i]),
    `${fname}: argument `,
  );
  checkFloatInputs(flat, fname, "argument ");
  const call = (f: (...a: any[]) => any, xs: Tensor[]) => {
    const chosen = unflatten<unknown[]>(flat.def, xs);
    const full = args.slice();
    nums.forEach((a, k) => (full[a] = chosen[k]));
    const out = f(...full);
    checkReturned(fname, out);
    return out;
  };
  return { flat, call };
}

/** Rebuilds the Jacobian tree: output structure outside, argument structure inside. */
function jacTree(outFlat: FlatTree, inFlat: FlatTree, blocks: Tensor[][], single: boolean): any {
  const perOut = blocks.map((row) => {
    const tree = unflatten<unknown[]>(inFlat.def, row);
    return single ? tree[0] : tree;
  });
  return unflatten(outFlat.def, perOut);
}

/**
 * Jacobian by forward mode: one JVP per element of the differentiated arguments.
 * The result has f's output structure outside and the argument's inside (a Tensor for a
 * tensor-to-tensor f).
 * @example ng.jacfwd((x: ng.Tensor) => ng.sin(x))(x) // diag(cos x)
 */
export function jacfwd<F extends Fn, const O extends JacOptions = NoOptions>(
  f: F,
  options?: O,
): (...args: Parameters<F>) => JacobianOf<F, O> {
  const { argnums = 0 } = checkOptions("jacfwd", options, JAC_OPTION_KEYS);
  checkFunction("jacfwd", f);
  return jacobianNamed(f, argnums, "jacfwd", "forward");
}

/**
 * jacfwd or jacrev (by `mode`) whose errors name `fname` (hessian reuses them); under an
 * outer transform, nested switching may compute it in the other mode.
 */
function jacobianNamed(
  f: (...args: any[]) => any,
  argnums: number | readonly number[],
  fname: string,
  mode: JacMode,
) {
  return (...args: any[]): any => {
    const { flat, call } = selected(args, argnums, fname);
    const single = typeof argnums === "number";
    return (
      switchedJacobian(f, flat, call, mode, fname, single) ??
      (mode === "forward" ? forwardJacobian : reverseJacobian)(f, flat, call, fname, single)
    );
  };
}

/** The Jacobian by d JVPs, one per element of the differentiated arguments. */
function forwardJacobian(
  f: (...args: any[]) => any,
  flat: FlatTree,
  call: (f: (...a: any[]) => any, xs: Tensor[]) => any,
  fname: string,
  single: boolean,
): any {
  let outFlat: FlatTree | undefined;
  // columns[j][o]: derivative of output leaf o along input element (leaf, index) j
  const blocks: Tensor[][] = [];
  const perInput: Tensor[][][] = flat.leaves.map((x) => {
    const cols: Tensor[][] = [];
    for (let i = 0; i < x.size; i++) {
      const tangents = flat.leaves.map((y) => (y === x ? basis(x, i) : zerosLike(y)));
      const [out, tout] = jvp((...xs: Tensor[]) => call(f, xs), flat.leaves, tangents);
      outFlat ??= flattenTensors(out, `${fname}: output of f`);
      cols.push(flattenTensors(tout, `${fname}: output of f`).leaves);
    }
    return cols;
  });
  if (!outFlat) outFlat = flattenTensors(call(f, flat.leaves), `${fname}: output of f`);
  outFlat.leaves.forEach((o, k) => {
    blocks.push(
      flat.leaves.map((x, j) =>
        assemble(
          perInput[j]!.map((cols) => cols[k]!),
          o.shape,
          x.shape,
          true,
          o,
        ),
      ),
    );
  });
  return jacTree(outFlat, flat, blocks, single);
}

/**
 * Jacobian by reverse mode: one pullback per output element (linearized once).
 * @example ng.jacrev((x: ng.Tensor) => ng.sin(x))(x) // diag(cos x)
 */
export function jacrev<F extends Fn, const O extends JacOptions = NoOptions>(
  f: F,
  options?: O,
): (...args: Parameters<F>) => JacobianOf<F, O> {
  const { argnums = 0 } = checkOptions("jacrev", options, JAC_OPTION_KEYS);
  checkFunction("jacrev", f);
  return jacobianNamed(f, argnums, "jacrev", "reverse");
}

/** The Jacobian by one linearization and m pullbacks, one per output element. */
function reverseJacobian(
  f: (...args: any[]) => any,
  flat: FlatTree,
  call: (f: (...a: any[]) => any, xs: Tensor[]) => any,
  fname: string,
  single: boolean,
): any {
  let outFlat: FlatTree | undefined;
  const lin = pullbackOf(
    (xs) => {
      outFlat = flattenTensors(call(f, xs), `${fname}: output of f`);
      return outFlat.leaves;
    },
    flat.leaves,
    "jacrev",
    f,
  );
  const outs = lin.outs;
  const blocks = outs.map((o, k) => {
    const rows: Tensor[][] = [];
    for (let i = 0; i < o.size; i++) {
      const cts = outs.map((_p, m) => (m === k ? basis(o, i) : null));
      rows.push(lin.pullback(cts));
    }
    return flat.leaves.map((x, j) =>
      assemble(
        rows.map((r) => r[j]!),
        x.shape,
        o.shape,
        false,
        x,
      ),
    );
  });
  lin.release(); // every pullback ran: the residuals can go (ng.memory)
  return jacTree({ ...outFlat!, leaves: outs }, flat, blocks, single);
}

/**
 * Hessian of a scalar function: jacfwd(jacrev(f)) (forward-over-reverse).
 * @example ng.hessian((x) => ng.sum(ng.pow(x, 3)))(x) // diag(6x)
 */
export function hessian<F extends Fn, const O extends JacOptions = NoOptions>(
  f: F,
  options?: O,
): (...args: Parameters<F>) => HessianOf<F, O> {
  const { argnums = 0 } = checkOptions("hessian", options, JAC_OPTION_KEYS);
  checkFunction("hessian", f);
  return jacobianNamed(
    jacobianNamed(f, argnums, "hessian", "reverse"),
    argnums,
    "hessian",
    "forward",
  );
}

/**
 * Hessian-vector product H(x)·v of a scalar f, as one JVP of its gradient
 * (forward-over-reverse); x and v are pytrees of equal structure and shapes. x is f's one
 * argument: `hvp(f, [a, b], [va, vb])` hands f the list [a, b]. For an f of several
 * arguments (JAX's `(f, primals, tangents)` form), spread the list:
 * `hvp((xs) => f(...xs), [a, b], [va, vb])`.
 * @example ng.hvp((x) => ng.sum(ng.pow(x, 3)), x, v) // 6 x v
 */
export function hvp<X>(f: (x: X) => unknown, x: X, v: TangentOf<X>): Tensors<X> {
  checkFunction("hvp", f);
  const xs = flattenTensors(x, "hvp: x");
  checkFloatInputs(xs, "hvp", "x");
  matchTree(xs, v, "hvp: v", "x");
  const g = (y: X) => {
    const out = f(y);
    checkReturned("hvp", out);
    return out;
  };
  try {
    // typed loosely here: the tangent type of a generic X is not resolved statically
    const dg: Fn = grad(g);
    return jvp(dg, [x], [v])[1] as Tensors<X>;
  } catch (e) {
    // The likely cause: a JAX-style list of primals for an f that expects a tensor.
    if (
      Array.isArray(x) &&
      e instanceof TypeError &&
      /got an array|is not a function/.test(e.message)
    ) {
      throw new TypeError(
        `hvp: x is an array, so f received it as one argument (a pytree), and failed: ${e.message}. ` +
          `For an f of several arguments, spread the list: hvp((xs) => f(...xs), [x1, x2], [v1, v2]); ` +
          `for one tensor argument, pass it bare: hvp(f, x, v)`,
        { cause: e },
      );
    }
    throw e;
  }
}
