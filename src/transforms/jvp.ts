/**
 * Forward mode: `jvp(f, primals, tangents) -> [out, tangentOut]`,
 * pushing tangents through f with a fresh JVP trace. Nests with any other transform.
 */
import { JVPTrace } from "../core/jvp.js";
import type { Tensor } from "../core/tensor.js";
import { unflatten } from "../core/tree.js";
import { currentTrace, withTrace } from "../core/trace.js";
import { cast } from "../primitives/cast.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { isFloat } from "../tensor/dtype.js";
import { checkFunction, checkReturned } from "../util/check.js";
import { describe } from "../util/options.js";
import { flattenTensors, matchTree, type FlatTree } from "./args.js";
import type { Fn, TangentsOf, Tensors } from "./types.js";

/**
 * Jacobian-vector product: evaluates f at `primals` and its derivative along `tangents`.
 * `primals` and `tangents` are argument lists (pytrees of equal structure and shapes).
 * Every primal must be floating point: an integer or bool input has no tangent space (JAX
 * would ask for float0 tangents), so pass it through a closure instead.
 * The outputs have the type of f's result (numbers become tensors).
 * @example const [y, dy] = ng.jvp((x: ng.Tensor) => ng.sin(x), [x], [ng.onesLike(x)]);
 */
export function jvp<F extends Fn>(
  f: F,
  primals: Readonly<Parameters<F>>,
  tangents: Readonly<TangentsOf<Parameters<F>>>,
): [Tensors<ReturnType<F>>, Tensors<ReturnType<F>>] {
  checkFunction("jvp", f);
  if (!Array.isArray(primals))
    throw new TypeError(`jvp: primals must be an array of arguments, got ${describe(primals)}`);
  if (!Array.isArray(tangents))
    throw new TypeError(`jvp: tangents must be an array of arguments, got ${describe(tangents)}`);
  const inP = flattenTensors(primals, "jvp: primals");
  inP.leaves.forEach((p, i) => {
    if (!isFloat(p.dtype)) {
      throw new TypeError(
        `jvp: primals${inP.paths[i]} has dtype ${p.dtype}; only float32/float64 inputs have ` +
          `tangents (close over integer and bool values instead of passing them as primals)`,
      );
    }
  });
  return jvpUnchecked(f, primals, tangents, inP) as [
    Tensors<ReturnType<F>>,
    Tensors<ReturnType<F>>,
  ];
}

/**
 * `jvp` without the argument checks, for internal callers whose primals may include
 * integer values (residuals) carried with zero tangents.
 */
export function jvpUnchecked<R = any>(
  f: (...args: any[]) => R,
  primals: readonly unknown[],
  tangents: readonly unknown[],
  inP: FlatTree = flattenTensors(primals, "jvp: primals"),
): [R, R] {
  const inT = matchTree(inP, tangents, "jvp: tangents", "primals");
  const trace = new JVPTrace(currentTrace());
  const args = inP.leaves.map((p, i) => {
    const t = inT[i]!;
    return trace.lift(p, t.dtype === p.dtype ? t : cast(t, p.dtype));
  });
  const out = withTrace(trace, () => f(...unflatten<unknown[]>(inP.def, args)));
  checkReturned("jvp", out);
  const outFlat = flattenTensors(out, "jvp: output of f");
  const primalsOut: Tensor[] = [];
  const tangentsOut: Tensor[] = [];
  for (const o of outFlat.leaves) {
    const [p, t] = trace.unpack(o);
    primalsOut.push(p);
    tangentsOut.push(t ?? zerosLike(p));
  }
  return [unflatten<R>(outFlat.def, primalsOut), unflatten<R>(outFlat.def, tangentsOut)];
}
