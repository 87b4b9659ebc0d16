/**
 * The elementwise binary family: z = f(x, y) on operands of equal shape
 * and dtype. The user-facing wrapper does NumPy broadcasting (with the broadcastTo
 * primitive, whose transpose sums back) and dtype promotion (with cast), so the rules of
 * each binary primitive never see broadcasting.
 */
import type { ShapedArray } from "../core/aval.js";
import { Tensor } from "../core/tensor.js";
import type { BatchDim } from "../core/batching.js";
import { allToFront } from "./batching.js";
import { bind1, type Tangent } from "../core/trace.js";
import { promoteTypes, toFloat, type DType } from "../tensor/dtype.js";
import type { NDArray } from "../tensor/ndarray.js";
import { broadcastShapes, formatShape, shapesEqual } from "../tensor/shape.js";
import * as K from "../tensor/index.js";
import {
  aval,
  defineSingle,
  type DefinedPrimitive,
  type LinearDef,
  type TestInput,
} from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { broadcastTo } from "./broadcast_to.js";
import { cast } from "./cast.js";
import type { OnnxRule } from "./onnx.js";
import type { TaylorContext, TaylorValue } from "../core/taylor.js";
import { taylorFromJvp } from "./taylor.js";

export type BinaryParams = Record<string, never>;

/** Output dtype of a binary primitive from its (equal) input dtype. */
export type BinaryDTypeRule = "same" | "float" | "bool";

export function binaryDType(rule: BinaryDTypeRule, d: DType): DType {
  if (rule === "bool") return "bool";
  if (rule === "float") return toFloat(d);
  return d === "bool" ? "int32" : d;
}

function checkSameAvals(name: string, x: ShapedArray, y: ShapedArray): void {
  if (!shapesEqual(x.shape, y.shape) || x.dtype !== y.dtype) {
    throw new TypeError(
      `${name}: primitive operands must have equal shape and dtype, got ${x.dtype}${formatShape(x.shape)} ` +
        `and ${y.dtype}${formatShape(y.shape)}`,
    );
  }
}

export interface BinaryOptions {
  dtype: BinaryDTypeRule;
  /** Test input domains for x and y (default [-2, 2] each). */
  domains?: [[number, number], [number, number]];
  nonDifferentiable?: boolean;
  /** Transpose rule for primitives linear in their inputs (add, sub, mul, div). */
  transpose?: LinearDef<BinaryParams>["transpose"];
  /** ONNX lowering of z = f(x, y). */
  onnx: OnnxRule<BinaryParams>;
  /** Taylor-mode rule (z = f(x, y) given); by default derived from the JVP rule. */
  taylor?: (x: TaylorValue, y: TaylorValue, z: Tensor, ctx: TaylorContext) => TaylorValue;
}

/**
 * Defines z = kernel(x, y) with JVP `tangent(x, y, z, tx, ty)` (tx, ty null for zero; at
 * least one is non-null when it is called).
 */
export function defineBinary<N extends string>(
  name: N,
  kernel: (x: NDArray, y: NDArray) => NDArray,
  tangent: ((x: Tensor, y: Tensor, z: Tensor, tx: Tangent, ty: Tangent) => Tangent) | null,
  options: BinaryOptions,
): DefinedPrimitive<BinaryParams, N> {
  const [dx, dy] = options.domains ?? [
    [-2, 2],
    [-2, 2],
  ];
  const inputs = (shape: number[]): TestInput[] => [
    { shape, domain: dx },
    { shape, domain: dy },
  ];
  const common = {
    impl: ([x, y]: NDArray[]) => {
      const z = kernel(x!, y!);
      const want = binaryDType(options.dtype, x!.dtype);
      return z.dtype === want ? z : K.cast(z, want);
    },
    abstractEval: ([x, y]: ShapedArray[]) => {
      checkSameAvals(name, x!, y!);
      return aval(x!.shape, binaryDType(options.dtype, x!.dtype));
    },
    jvp: ([x, y]: Tensor[], [tx, ty]: Tangent[]): [Tensor, Tangent] => {
      const z = bind1(self, [x!, y!]);
      return [z, tangent ? tangent(x!, y!, z, tx!, ty!) : null];
    },
    // Elementwise: equal batch axes stay; otherwise both go to the front (an unbatched
    // operand becomes a stride-0 broadcast view, no copy).
    batch: (
      [x, y]: Tensor[],
      [dx, dy]: BatchDim[],
      _p: BinaryParams,
      n: number,
    ): [Tensor, BatchDim] => {
      if (dx === dy) return [bind1(self, [x!, y!]), dx!];
      const [a, b] = allToFront([x!, y!], [dx!, dy!], n);
      return [bind1(self, [a!, b!]), 0];
    },
    testSpec: {
      cases: [
        { inputs: inputs([3]), params: {} },
        { inputs: inputs([2, 3]), params: {} },
      ],
      nonDifferentiable: options.nonDifferentiable,
    },
    onnx: options.onnx,
    taylor2: ([x, y]: TaylorValue[], p: BinaryParams, ctx: TaylorContext): TaylorValue => {
      const rule = options.taylor;
      if (!rule) return taylorFromJvp(self, [x!, y!], p, ctx)[0]!;
      return rule(x!, y!, bind1(self, [x!.value, y!.value]), ctx);
    },
  };
  const transpose = options.transpose;
  const self: DefinedPrimitive<BinaryParams, N> = transpose
    ? defineSingle<BinaryParams, N>(name, {
        ...common,
        linear: true,
        transpose: (ct, ins, p) => transpose([ct], ins, p),
      })
    : defineSingle<BinaryParams, N>(name, common);
  return self;
}

/** Broadcasts and promotes two op arguments to a common shape and dtype. */
export function broadcastPair(name: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  // JS numbers are weakly typed (weakDType): they take the tensor operand's dtype when it
  // represents them, else the promotion below lifts the tensor (int32 + 0.5 -> float32).
  let x: Tensor;
  let y: Tensor;
  if (a instanceof Tensor && b instanceof Tensor) {
    // The common case, without building argument names for messages that cannot occur.
    x = a;
    y = b;
  } else {
    const likeA = a instanceof Tensor ? a.dtype : undefined;
    const likeB = b instanceof Tensor ? b.dtype : undefined;
    x = toTensor(a, `${name}: x`, likeB);
    y = toTensor(b, `${name}: y`, likeA);
  }
  if (x.dtype !== y.dtype) {
    const d = promoteTypes(x.dtype, y.dtype);
    x = cast(x, d);
    y = cast(y, d);
  }
  if (!shapesEqual(x.shape, y.shape)) {
    const shape = broadcastShapes(x.shape, y.shape, name);
    x = broadcastTo(x, shape);
    y = broadcastTo(y, shape);
  }
  return [x, y];
}

/** The user-facing function of a binary primitive. */
export function binaryOp(
  prim: DefinedPrimitive<BinaryParams>,
): (x: TensorLike, y: TensorLike) => Tensor {
  return (x, y) => bind1(prim, broadcastPair(prim.name, x, y), {});
}
