/**
 * Matrix product (a primitive for speed). The primitive multiplies operands
 * of rank >= 2 with equal batch dimensions and dtype: [...B, m, k] @ [...B, k, n]. The
 * user-facing `matmul` adds NumPy semantics on top (1-D promotion, batch broadcasting,
 * dtype promotion). Bilinear: d(a@b) = da@b + a@db; transposes ct_a = ct@bᵀ, ct_b = aᵀ@ct
 * (ᵀ swaps the last two axes).
 * @example ng.matmul(ng.array([[1, 2]]), ng.array([[3], [4]])) // [[11]]
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, LinearInput, type Tangent } from "../core/trace.js";
import { promoteTypes } from "../tensor/dtype.js";
import * as K from "../tensor/index.js";
import { broadcastShapes, formatShape, shapesEqual } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { broadcastTo } from "./broadcast_to.js";
import { cast } from "./cast.js";
import { reshape } from "./reshape.js";
import { addTangents, mapTangent } from "./tangent.js";
import { swapAxes } from "./transpose.js";
import { batchToFront } from "./batching.js";
import { moveBatchAxis } from "./batching.js";
import { NUMERIC, requireDTypes } from "./onnx.js";
import { mapJet, onDirections } from "./taylor.js";
import { mul } from "./mul.js";
import { sum } from "./sum.js";

type Params = Record<string, never>;

export const matmulP: DefinedPrimitive<Params, "matmul"> = defineSingle<Params, "matmul">(
  "matmul",
  {
    linear: true,
    impl: ([a, b]) => {
      const c = K.matmul(a!, b!);
      return c.dtype === a!.dtype ? c : K.cast(c, a!.dtype);
    },
    abstractEval: ([a, b]: ShapedArray[]) => {
      const r = a!.ndim;
      const ok =
        r >= 2 &&
        b!.ndim === r &&
        a!.dtype === b!.dtype &&
        shapesEqual(a!.shape.slice(0, r - 2), b!.shape.slice(0, r - 2)) &&
        a!.shape[r - 1] === b!.shape[r - 2];
      if (!ok) {
        throw new TypeError(
          `matmul: primitive operands must be [...B, m, k] and [...B, k, n] of one dtype, got ${a} and ${b}`,
        );
      }
      return aval([...a!.shape.slice(0, r - 1), b!.shape[r - 1]!], a!.dtype);
    },
    // d(a@b) = da@b + a@db
    jvp: ([a, b], [ta, tb]): [Tensor, Tangent] => [
      bind1(matmulP, [a!, b!]),
      addTangents(
        mapTangent(ta!, (t) => bind1(matmulP, [t, b!])),
        mapTangent(tb!, (t) => bind1(matmulP, [a!, t])),
      ),
    ],
    // ct_a = ct @ bᵀ, ct_b = aᵀ @ ct (only one operand may be a tangent).
    transpose: (ct, [a, b]) => {
      if (a instanceof LinearInput && b instanceof LinearInput) {
        throw new Error(
          "matmul: transpose of a product of two tangents (the program is not linear)",
        );
      }
      return a instanceof LinearInput
        ? [bind1(matmulP, [ct, swapAxes(b as Tensor, -1, -2)]), null]
        : [null, bind1(matmulP, [swapAxes(a as Tensor, -1, -2), ct])];
    },
    // Both batched: the batch axis becomes one more leading batch dim. One batched: its
    // batch folds into the rows of a ([..., B·m, k]) or the columns of b ([..., k, B·n]), so
    // it stays one matmul and the unbatched operand is never broadcast.
    batch: ([a, b], [da, db], _p, n) => {
      if (da !== null && db !== null) {
        return [bind1(matmulP, [batchToFront(a!, da!, n), batchToFront(b!, db!, n)]), 0];
      }
      if (da !== null) {
        const r = a!.ndim - 1; // rank of one example
        const s = moveBatchAxis(a!, da!, r - 2, n); // [...Bt, B, m, k]
        const [m, k] = [s.shape[r - 1]!, s.shape[r]!];
        const c = bind1(matmulP, [reshape(s, [...s.shape.slice(0, r - 2), n * m, k]), b!]);
        return [reshape(c, [...s.shape.slice(0, r - 2), n, m, c.shape[r - 1]!]), r - 2];
      }
      const r = b!.ndim - 1;
      const s = moveBatchAxis(b!, db!, r - 1, n); // [...Bt, k, B, n]
      const [k, cols] = [s.shape[r - 2]!, s.shape[r]!];
      const c = bind1(matmulP, [a!, reshape(s, [...s.shape.slice(0, r - 2), k, n * cols])]);
      return [reshape(c, [...c.shape.slice(0, r - 1), n, cols]), r - 1];
    },
    // J = Ja@b + a@Jb; L = La@b + a@Lb + 2·Σ_j Ja_j@Jb_j
    taylor2: ([a, b], _p, ctx) => {
      const [x, y] = [a!.value, b!.value];
      const mm = (s: Tensor, t: Tensor) => bind1(matmulP, [s, t]);
      const lin = (ja: Tangent, jb: Tangent) =>
        addTangents(
          mapJet(ja, (t) => mm(t, y)),
          mapJet(jb, (t) => mm(x, t)),
        );
      const jet1 = lin(a!.jet1, b!.jet1);
      if (ctx.order === 1) return { value: mm(x, y), jet1, jet2: null };
      let cross: Tangent = null;
      if (a!.jet1 && b!.jet1) {
        const p = onDirections(mm, a!.jet1, b!.jet1);
        cross = mul(2, ctx.mode === "sum" ? sum(p, 0, true) : p);
      }
      return { value: mm(x, y), jet1, jet2: addTangents(lin(a!.jet2, b!.jet2), cross) };
    },
    // ONNX MatMul is batched over leading axes, as the primitive.
    onnx: (c, [a, b], _p, { outs }) => {
      requireDTypes(c, "MatMul", outs[0]!.dtype, NUMERIC);
      return [c.node1("MatMul", [a!, b!])];
    },
    testSpec: {
      cases: [
        { inputs: [{ shape: [2, 3] }, { shape: [3, 4] }], params: {} },
        { inputs: [{ shape: [2, 2, 3] }, { shape: [2, 3, 2] }], params: {} },
        { inputs: [{ shape: [2, 1, 3, 2] }, { shape: [2, 1, 2, 1] }], params: {} },
      ],
    },
  },
);

/**
 * Matrix product with NumPy semantics: 1-D operands are promoted to a row (a) or a column
 * (b) and that axis is removed again; leading batch dimensions broadcast; dtypes promote
 * (bool computes in int32). The error on a mismatch names both shapes.
 * @example ng.matmul(ng.ones([5, 2, 3]), ng.ones([3])).shape // [5, 2]
 */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  let x = toTensor(a, "matmul: a");
  let y = toTensor(b, "matmul: b");
  if (x.ndim === 0) throw new RangeError(`matmul: a must have rank >= 1, got a scalar (shape [])`);
  if (y.ndim === 0) throw new RangeError(`matmul: b must have rank >= 1, got a scalar (shape [])`);
  const ka = x.shape[x.ndim - 1]!;
  const kb = y.ndim === 1 ? y.shape[0]! : y.shape[y.ndim - 2]!;
  if (ka !== kb) {
    throw new RangeError(
      `matmul: contracting dimensions differ: a has shape ${formatShape(x.shape)} (contracting dim ${ka}), ` +
        `b has shape ${formatShape(y.shape)} (contracting dim ${kb})`,
    );
  }
  let dtype = promoteTypes(x.dtype, y.dtype);
  if (dtype === "bool") dtype = "int32";
  x = cast(x, dtype);
  y = cast(y, dtype);
  const vecA = x.ndim === 1;
  const vecB = y.ndim === 1;
  if (vecA) x = reshape(x, [1, ka]);
  if (vecB) y = reshape(y, [kb, 1]);
  const batchA = x.shape.slice(0, -2);
  const batchB = y.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes(batchA, batchB, "matmul");
  } catch {
    throw new RangeError(
      `matmul: batch dimensions ${formatShape(batchA)} of a (shape ${formatShape(x.shape)}) and ` +
        `${formatShape(batchB)} of b (shape ${formatShape(y.shape)}) cannot be broadcast together`,
    );
  }
  x = broadcastTo(x, [...batch, ...x.shape.slice(-2)]);
  y = broadcastTo(y, [...batch, ...y.shape.slice(-2)]);
  const z = bind1(matmulP, [x, y]);
  if (!vecA && !vecB) return z;
  const m = z.shape[z.ndim - 2]!;
  const n = z.shape[z.ndim - 1]!;
  return reshape(z, [...batch, ...(vecA ? [] : [m]), ...(vecB ? [] : [n])]);
}
