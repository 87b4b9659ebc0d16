/**
 * Forward mode (DESIGN.md §2, §5): `jvp(f, primals, tangents) -> [out, tangentOut]`,
 * pushing tangents through f with a fresh JVP trace. Nests with any other transform.
 */
import { JVPTrace } from "../core/jvp.js";
import type { Tensor } from "../core/tensor.js";
import { unflatten } from "../core/tree.js";
import { currentTrace, withTrace } from "../core/trace.js";
import { cast } from "../primitives/cast.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { flattenTensors, matchTree } from "./args.js";

/**
 * Jacobian-vector product: evaluates f at `primals` and its derivative along `tangents`.
 * `primals` and `tangents` are argument lists (pytrees of equal structure and shapes).
 * @example const [y, dy] = ng.jvp((x) => ng.sin(x), [x], [ng.onesLike(x)]);
 */
export function jvp<R = any>(
  f: (...args: any[]) => R,
  primals: readonly unknown[],
  tangents: readonly unknown[],
): [R, R] {
  if (typeof f !== "function") throw new TypeError(`jvp: f must be a function, got ${typeof f}`);
  if (!Array.isArray(primals))
    throw new TypeError(`jvp: primals must be an array of arguments, got ${typeof primals}`);
  if (!Array.isArray(tangents))
    throw new TypeError(`jvp: tangents must be an array of arguments, got ${typeof tangents}`);
  const inP = flattenTensors(primals, "jvp: primals");
  const inT = matchTree(inP, tangents, "jvp: tangents", "primals");
  const trace = new JVPTrace(currentTrace());
  const args = inP.leaves.map((p, i) => {
    const t = inT[i]!;
    return trace.lift(p, t.dtype === p.dtype ? t : cast(t, p.dtype));
  });
  const out = withTrace(trace, () => f(...unflatten<unknown[]>(inP.def, args)));
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
