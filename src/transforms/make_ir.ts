/**
 * `makeIR(f)(...args)`: stages f to IR with abstract arguments of the given shapes and
 * dtypes and type checks it. Reading a value inside f raises a
 * ConcretizationError that explains what to do instead.
 */
import { checkFunction, checkReturned } from "../util/check.js";
import { StagingTrace } from "../core/staging.js";
import type { IR } from "../core/ir.js";
import type { Tensor } from "../core/tensor.js";
import { currentTrace, withTrace } from "../core/trace.js";
import { unflatten } from "../core/tree.js";
import { flattenTensors } from "./args.js";

/** Stages `fn` on abstract stand-ins for `args` and returns the IR and the output structure. */
export function stageFlat(
  fn: (xs: Tensor[]) => Tensor[],
  args: readonly Tensor[],
  purpose: string,
): IR {
  const staging = new StagingTrace(currentTrace(), purpose);
  const inputs = args.map((a) => staging.newArg(a.aval));
  const outs = withTrace(staging, () => fn(inputs));
  const ir = staging.build(inputs, outs);
  ir.typecheck();
  return ir;
}

/**
 * The IR of f at arguments with the shapes and dtypes of `args` (values are not used).
 * @example console.log(ng.makeIR((x) => ng.sum(ng.sin(x)))(ng.zeros([3])).toString())
 */
export function makeIR(f: (...args: any[]) => any) {
  checkFunction("makeIR", f);
  return (...args: unknown[]): IR => {
    const flat = flattenTensors(args, "makeIR: argument ");
    return stageFlat(
      (xs) => {
        const out = f(...unflatten<unknown[]>(flat.def, xs));
        checkReturned("makeIR", out);
        return flattenTensors(out, "makeIR: output of f").leaves;
      },
      flat.leaves,
      "makeIR",
    );
  };
}
