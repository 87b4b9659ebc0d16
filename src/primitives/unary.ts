/**
 * The elementwise unary family: shared plumbing for primitives of the form
 * y = f(x). Each primitive file supplies its kernel, dtype rule and JVP rule.
 */
import type { ShapedArray } from "../core/aval.js";
import { Tensor } from "../core/tensor.js";
import { JVPTrace } from "../core/jvp.js";
import { bind1, currentTrace, withTrace, type Tangent } from "../core/trace.js";
import { toFloat, type DType } from "../tensor/dtype.js";
import type { NDArray } from "../tensor/ndarray.js";
import { aval, defineSingle, type DefinedPrimitive, type TestSpec } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import type { OnnxRule } from "./onnx.js";
import { broadcastTo } from "./broadcast_to.js";
import { elementwiseJets } from "./taylor.js";

export type UnaryParams = Record<string, never>;

export interface UnaryOptions {
  /** Output dtype from input dtype: "float" (int/bool compute in float32) or "same" (bool -> int32). */
  dtype: "float" | "same" | "bool";
  /** Domain the test draws inputs from (default [-2, 2]). */
  domain?: [number, number];
  /** No derivative (floor, sign, ...): tangents are zero. */
  nonDifferentiable?: boolean;
  order?: number;
  /** ONNX lowering of y = f(x). */
  onnx: OnnxRule<UnaryParams>;
  /** [φ'(x), φ''(x)] in closed form for the Taylor rule (default: from the JVP rule). */
  taylor?: (x: Tensor, y: Tensor) => [Tensor, Tensor];
}

export function unaryDType(kind: "float" | "same" | "bool", d: DType): DType {
  if (kind === "bool") return "bool";
  if (kind === "float") return toFloat(d);
  return d === "bool" ? "int32" : d;
}

/**
 * Defines y = kernel(x) with JVP `tangent(x, y, t)` (t is never null when it is called).
 */
export function defineUnary<N extends string>(
  name: N,
  kernel: (x: NDArray) => NDArray,
  tangent: ((x: Tensor, y: Tensor, t: Tensor) => Tensor) | null,
  options: UnaryOptions,
): DefinedPrimitive<UnaryParams, N> {
  const testSpec: TestSpec<UnaryParams> = options.nonDifferentiable
    ? {
        cases: [{ inputs: [{ shape: [2, 3], domain: options.domain ?? [-2, 2] }], params: {} }],
        nonDifferentiable: true,
      }
    : {
        cases: [
          { inputs: [{ shape: [3], domain: options.domain ?? [-2, 2] }], params: {} },
          { inputs: [{ shape: [2, 3], domain: options.domain ?? [-2, 2] }], params: {} },
        ],
        order: options.order ?? 2,
      };
  const self: DefinedPrimitive<UnaryParams, N> = defineSingle<UnaryParams, N>(name, {
    impl: ([x]) => kernel(x!),
    abstractEval: ([x]: ShapedArray[]) => aval(x!.shape, unaryDType(options.dtype, x!.dtype)),
    jvp: ([x], [t]): [Tensor, Tangent] => {
      const y = bind1(self, [x!]);
      return [y, t && tangent ? tangent(x!, y, t) : null];
    },
    // Elementwise: the batch axis stays where it is.
    batch: ([x], [d]) => [bind1(self, [x!]), d!],
    // y = φ(x): φ' and φ'' are the JVP rule along 1 and its own derivative (one JVP of it).
    taylor2: ([x], _p, ctx) => {
      if (options.nonDifferentiable || !tangent) {
        return { value: bind1(self, [x!.value]), jet1: null, jet2: null };
      }
      if (options.taylor) {
        const y = bind1(self, [x!.value]);
        const [d1, d2] = options.taylor(x!.value, y);
        return elementwiseJets(y, d1, d2, x!, ctx);
      }
      const one = broadcastTo(toTensor(1, `${name}: one`, x!.value.dtype), x!.value.shape);
      const eps = new JVPTrace(currentTrace());
      const xe = eps.lift(x!.value, one);
      const ye = withTrace(eps, () => bind1(self, [xe]));
      const [d1, d2] = eps.unpack(withTrace(eps, () => tangent(xe, ye, one)));
      return elementwiseJets(eps.unpack(ye)[0], d1, d2, x!, ctx);
    },
    testSpec,
    onnx: options.onnx,
  });
  return self;
}

/** The user-facing function of a unary primitive. */
export function unaryOp(prim: DefinedPrimitive<UnaryParams>): (x: TensorLike) => Tensor {
  return (x) => bind1(prim, [x instanceof Tensor ? x : toTensor(x, `${prim.name}: x`)], {});
}
