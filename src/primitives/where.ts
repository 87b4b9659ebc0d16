/**
 * Elementwise selection where(cond, x, y) with broadcasting of all three. Linear in x and
 * y: d where(c, x, y) = where(c, dx, dy); the transpose routes the cotangent by cond.
 * @example ng.where(ng.array([true, false]), 1, 2) // [1, 2]
 */
import { ShapedArray } from "../core/aval.js";
import { Tensor } from "../core/tensor.js";
import { bind1, LinearInput, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { promoteTypes } from "../tensor/dtype.js";
import { broadcastAll, formatShape, shapesEqual } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive, type TestInput } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { broadcastTo } from "./broadcast_to.js";
import { cast } from "./cast.js";
import { zerosLike } from "./zeros_like.js";
import { allToFront } from "./batching.js";
import { castTo } from "./onnx.js";
import { taylorFromJvp } from "./taylor.js";

type Params = Record<string, never>;

function fixedMask(shape: number[]) {
  const n = shape.reduce((a, b) => a * b, 1);
  return K.fromFlat(
    Uint8Array.from({ length: n }, (_, i) => (i % 3 === 1 ? 0 : 1)),
    shape,
  );
}

export const whereP: DefinedPrimitive<Params, "where"> = defineSingle<Params, "where">("where", {
  linear: true,
  impl: ([c, x, y]) => K.where(c!, x!, y!),
  abstractEval: ([c, x, y]: ShapedArray[]) => {
    if (c!.dtype !== "bool" || !shapesEqual(c!.shape, x!.shape) || !x!.equals(y!)) {
      throw new TypeError(
        `where: primitive operands must be bool${formatShape(x!.shape)} and two equal avals, got ${c}, ${x}, ${y}`,
      );
    }
    return aval(x!.shape, x!.dtype);
  },
  jvp: ([c, x, y], [, tx, ty]): [Tensor, Tangent] => {
    const z = bind1(whereP, [c!, x!, y!]);
    if (tx === null && ty === null) return [z, null];
    return [z, bind1(whereP, [c!, tx ?? zerosLike(x!), ty ?? zerosLike(y!)])];
  },
  transpose: (ct, [c, x, y]): Tangent[] => {
    const zero = zerosLike(ct);
    return [
      null,
      x instanceof LinearInput ? bind1(whereP, [c as Tensor, ct, zero]) : null,
      y instanceof LinearInput ? bind1(whereP, [c as Tensor, zero, ct]) : null,
    ];
  },
  // Elementwise: equal batch axes stay; otherwise all three go to the front (an unbatched
  // operand becomes a broadcast view).
  batch: (args, dims, _p, n) => {
    if (dims.every((d) => d === dims[0])) return [bind1(whereP, args), dims[0]!];
    return [bind1(whereP, allToFront(args, dims, n)), 0];
  },
  // ORT's Where has no bool kernel: bool operands go through int32.
  onnx: (c, [cond, x, y], _p, { outs }) => {
    const d = outs[0]!.dtype;
    const via = d === "bool" ? "int32" : d;
    const z = c.node1("Where", [cond!, castTo(c, x!, d, via), castTo(c, y!, d, via)]);
    return [castTo(c, z, via, d)];
  },
  // From the JVP rule: one JVP of it along each direction.
  taylor2: (ins, p, ctx) => taylorFromJvp(whereP, ins, p, ctx)[0]!,
  testSpec: {
    cases: [
      {
        inputs: [
          { shape: [2, 3], fixed: fixedMask, dtype: "bool" },
          { shape: [2, 3] },
          { shape: [2, 3] },
        ] as TestInput[],
        params: {},
      },
    ],
  },
});

/**
 * Elementwise cond ? x : y; cond is cast to bool (nonzero = true).
 * @example ng.where(ng.array([true, false]), ng.array([1, 2]), 0) // [1, 0]
 */
export function where(cond: TensorLike, x: TensorLike, y: TensorLike): Tensor {
  let c = toTensor(cond, "where: cond");
  const likeX = x instanceof Tensor ? x.dtype : undefined;
  const likeY = y instanceof Tensor ? y.dtype : undefined;
  let a = toTensor(x, "where: x", likeY);
  let b = toTensor(y, "where: y", likeX);
  if (c.dtype !== "bool") c = cast(c, "bool");
  if (a.dtype !== b.dtype) {
    const d = promoteTypes(a.dtype, b.dtype);
    a = cast(a, d);
    b = cast(b, d);
  }
  const shape = broadcastAll([c.shape, a.shape, b.shape], "where");
  if (!shapesEqual(c.shape, shape)) c = broadcastTo(c, shape);
  if (!shapesEqual(a.shape, shape)) a = broadcastTo(a, shape);
  if (!shapesEqual(b.shape, shape)) b = broadcastTo(b, shape);
  return bind1(whereP, [c, a, b]);
}
