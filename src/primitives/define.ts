/**
 * How a primitive is declared. A primitive file calls `definePrimitive`
 * (or one of the family helpers below) with its impl, shape rule, JVP rule, transpose rule
 * when it is linear, its ONNX lowering rule, and a test spec that the registry-driven test
 * runs. The types make a linear primitive without a transpose rule, or a primitive defined
 * with `defineSingle` (every registry primitive) without an ONNX rule, a compile error.
 */
import { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import type { LinearInput, Primitive, Tangent } from "../core/trace.js";
import type { TaylorContext, TaylorRule, TaylorValue } from "../core/taylor.js";
import type { BatchDim, BatchRule } from "../core/batching.js";
import type { DType } from "../tensor/dtype.js";
import type { NDArray } from "../tensor/ndarray.js";
import type { OnnxRule } from "./onnx.js";

/** One input of a test case: its shape and the interval its values are drawn from. */
export interface TestInput {
  shape: number[];
  /** Values are drawn uniformly from [lo, hi] (default [-2, 2]). */
  domain?: [number, number];
  /** Non-float inputs (indices, masks) are fixed values, not differentiated. */
  fixed?: (shape: number[]) => NDArray;
  dtype?: DType;
}

/** What the registry-driven derivative test does with a primitive. */
export interface TestSpec<P> {
  /** Cases: inputs and params. Empty for non-differentiable primitives (checked for zero tangents). */
  cases: { inputs: TestInput[]; params: P }[];
  /** Highest derivative order checked against finite differences (default 2). */
  order?: number;
  /** Relative tolerance against finite differences (default 1e-5). */
  rtol?: number;
  /** Set for primitives whose output is not differentiable (comparisons, argmax, ...). */
  nonDifferentiable?: boolean;
}

interface BaseDef<P> {
  name: string;
  impl(inputs: NDArray[], params: P): NDArray[];
  abstractEval(inputs: ShapedArray[], params: P): ShapedArray[];
  jvp(primals: Tensor[], tangents: Tangent[], params: P): [Tensor[], Tangent[]];
  /** Batching rule (vmap): batched inputs with their batch axes -> outputs and their axes. */
  batch?: BatchRule<P>;
  formatParams?(params: P): string;
  /** Call primitives only: the computation written with nestgrad ops (see Primitive.expand). */
  expand?(inputs: Tensor[], params: P): Tensor[];
  testSpec: TestSpec<P>;
  /**
   * ONNX lowering (jit's onnxruntime backend and ONNX export). Required of registry
   * primitives (defineSingle); call primitives, which jit inlines first, may omit it.
   */
  onnx?: OnnxRule<P>;
  /**
   * Taylor-mode rule (core/taylor.ts): values with jets J, L in, values with jets out.
   * Optional: the operators fall back to vmap(jvp(grad)) when a primitive lacks it.
   */
  taylor2?: TaylorRule<P>;
}

/** A primitive that is never applied to a tangent. */
export interface NonlinearDef<P> extends BaseDef<P> {
  linear?: false;
}

/** A primitive linear in some inputs: it may be applied to tangents, so it must transpose. */
export interface LinearDef<P> extends BaseDef<P> {
  linear: true;
  transpose(cts: Tangent[], inputs: (Tensor | LinearInput)[], params: P): Tangent[];
}

export type PrimitiveDef<P> = NonlinearDef<P> | LinearDef<P>;

export type DefinedPrimitive<P, N extends string = string> = Primitive<P> & {
  readonly name: N;
  readonly linear: boolean;
  readonly testSpec: TestSpec<P>;
  readonly onnx?: OnnxRule<P>;
};

export function definePrimitive<P, N extends string>(
  def: PrimitiveDef<P> & { name: N },
): DefinedPrimitive<P, N> {
  return { ...def, linear: def.linear === true } as DefinedPrimitive<P, N>;
}

/** Single-output convenience: wraps impl/abstractEval/jvp/transpose that return one value. */
export interface SingleDefBase<P> {
  impl(inputs: NDArray[], params: P): NDArray;
  abstractEval(inputs: ShapedArray[], params: P): ShapedArray;
  /** (primals, tangents) -> [output, output tangent]; tangents are null for zero. */
  jvp(primals: Tensor[], tangents: Tangent[], params: P): [Tensor, Tangent];
  /** Batching rule (vmap): batched inputs with their batch axes -> output and its axis. */
  batch?(args: Tensor[], dims: BatchDim[], params: P, axisSize: number): [Tensor, BatchDim];
  formatParams?(params: P): string;
  testSpec: TestSpec<P>;
  /** ONNX lowering: input names -> output names (one output); required. */
  onnx: OnnxRule<P>;
  /** Taylor-mode rule with one output (see BaseDef.taylor2); optional. */
  taylor2?(inputs: TaylorValue[], params: P, ctx: TaylorContext): TaylorValue;
}

export type SingleDef<P> =
  | (SingleDefBase<P> & { linear?: false })
  | (SingleDefBase<P> & {
      linear: true;
      transpose(ct: Tensor, inputs: (Tensor | LinearInput)[], params: P): Tangent[];
    });

export function defineSingle<P, N extends string>(
  name: N,
  def: SingleDef<P>,
): DefinedPrimitive<P, N> {
  const base = {
    name,
    impl: (xs: NDArray[], p: P) => [def.impl(xs, p)],
    abstractEval: (xs: ShapedArray[], p: P) => [def.abstractEval(xs, p)],
    jvp: (ps: Tensor[], ts: Tangent[], p: P): [Tensor[], Tangent[]] => {
      const [y, t] = def.jvp(ps, ts, p);
      return [[y], [t]];
    },
    batch: def.batch
      ? (args: Tensor[], dims: BatchDim[], p: P, n: number): [Tensor[], BatchDim[]] => {
          const [y, d] = def.batch!(args, dims, p, n);
          return [[y], [d]];
        }
      : undefined,
    formatParams: def.formatParams,
    testSpec: def.testSpec,
    onnx: def.onnx,
    taylor2: def.taylor2
      ? (ins: TaylorValue[], p: P, ctx: TaylorContext) => [def.taylor2!(ins, p, ctx)]
      : undefined,
  };
  if (def.linear) {
    const tr = def.transpose;
    return definePrimitive<P, N>({
      ...base,
      linear: true,
      transpose: (cts, inputs, p) => (cts[0] ? tr(cts[0], inputs, p) : inputs.map(() => null)),
    });
  }
  return definePrimitive<P, N>(base);
}

export function aval(shape: readonly number[], dtype: DType): ShapedArray {
  return new ShapedArray(shape, dtype);
}
