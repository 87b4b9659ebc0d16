/**
 * The adjoint of `slice`: writes `updates` into zeros of `shape` at the
 * positions a resolved slice selects. Linear: d sliceScatter(u) = sliceScatter(du), and
 * its transpose is the slice itself. Used by reverse mode; not a user-facing op.
 * @example sliceScatter(ng.ones([2]), { starts: [0], stops: [4], steps: [2], shape: [4] }) // [1, 0, 1, 0]
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import { allocate, type DataArray } from "../tensor/dtype.js";
import { NDArray } from "../tensor/ndarray.js";
import { checkShape, formatShape, shapesEqual, sizeOf } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import {
  batchSliceParams,
  checkSliceParams,
  sliceP,
  slicedShape,
  sliceView,
  type SliceParams,
} from "./slice.js";
import { zerosOf } from "./onnx.js";

export interface SliceScatterParams extends SliceParams {
  /** Shape of the output (the shape of the sliced array). */
  shape: number[];
}

function check(name: string, u: { shape: readonly number[] }, p: SliceScatterParams): void {
  checkSliceParams(name, p.shape, p);
  const want = slicedShape(p);
  if (!shapesEqual(u.shape, want)) {
    throw new RangeError(
      `${name}: updates: expected shape ${formatShape(want)} (the slice of ${formatShape(p.shape)}), ` +
        `got ${formatShape(u.shape)}`,
    );
  }
}

/** Writes `src` (row-major) into the strided view `v` (an odometer over its outer axes). */
function writeStrided(src: DataArray, v: NDArray): void {
  const n = v.ndim;
  if (v.size === 0) return;
  if (n === 0) {
    v.data[v.offset] = src[0]!;
    return;
  }
  const inner = v.shape[n - 1]!;
  const sInner = v.strides[n - 1]!;
  const idx = new Array<number>(n).fill(0);
  let base = v.offset;
  let o = 0;
  for (let k = 0, outer = v.size / inner; k < outer; k++) {
    for (let j = 0, q = base; j < inner; j++, q += sInner) v.data[q] = src[o++]!;
    for (let d = n - 2; d >= 0; d--) {
      idx[d]!++;
      base += v.strides[d]!;
      if (idx[d]! < v.shape[d]!) break;
      base -= v.strides[d]! * v.shape[d]!;
      idx[d] = 0;
    }
  }
}

/** Zeros of `p.shape` with the sliced positions set to `u`. */
function sliceScatterKernel(u: NDArray, p: SliceScatterParams): NDArray {
  const out = new NDArray(allocate(u.dtype, sizeOf(p.shape)), p.shape);
  writeStrided(u.flat(), sliceView(out, p));
  return out;
}

export const sliceScatterP: DefinedPrimitive<SliceScatterParams, "sliceScatter"> = defineSingle<
  SliceScatterParams,
  "sliceScatter"
>("sliceScatter", {
  linear: true,
  impl: ([u], p) => sliceScatterKernel(u!, p),
  abstractEval: ([u]: ShapedArray[], p) => {
    check("sliceScatter", u!, p);
    return aval(p.shape, u!.dtype);
  },
  jvp: ([u], [t], p): [Tensor, Tangent] => [
    bind1(sliceScatterP, [u!], p),
    t && bind1(sliceScatterP, [t], p),
  ],
  // Adjoint of a scatter into zeros: read the same positions back.
  transpose: (ct, _inputs, { starts, stops, steps }) => [
    bind1(sliceP, [ct], { starts, stops, steps }),
  ],
  // The batch axis is written whole into a batch axis of the output at the same position.
  batch: ([u], [d], p, n) => [
    bind1(sliceScatterP, [u!], {
      ...batchSliceParams(p, d!, n),
      shape: [...p.shape.slice(0, d!), n, ...p.shape.slice(d!)],
    }),
    d!,
  ],
  // ScatterND into zeros at constant indices: element k of the updates goes to
  // starts + k·steps per axis (positions are distinct, so no reduction).
  onnx: (c, [u], p, { ins }) => {
    const sliced = ins[0]!.shape;
    const rank = sliced.length;
    const n = sliced.reduce((a, b) => a * b, 1);
    const idx = new Array<number>(n * rank);
    for (let k = 0; k < n; k++) {
      let r = k;
      for (let a = rank - 1; a >= 0; a--) {
        idx[k * rank + a] = p.starts[a]! + (r % sliced[a]!) * p.steps[a]!;
        r = Math.floor(r / sliced[a]!);
      }
    }
    const indices = c.initializer({ dtype: "int64", shape: [...sliced, rank], values: idx });
    return [c.node1("ScatterND", [zerosOf(c, p.shape, ins[0]!.dtype), indices, u!])];
  },
  testSpec: {
    cases: [
      { inputs: [{ shape: [2] }], params: { starts: [0], stops: [4], steps: [2], shape: [4] } },
      {
        inputs: [{ shape: [2, 3] }],
        params: { starts: [2, 4], stops: [-1, 1], steps: [-2, -1], shape: [3, 5] },
      },
    ],
  },
});

/**
 * Zeros of `params.shape` with `updates` written at the positions of the resolved slice
 * `params` (the adjoint of `slice`).
 * @example sliceScatter(ng.ones([2]), { starts: [0], stops: [4], steps: [2], shape: [4] }) // [1, 0, 1, 0]
 */
export function sliceScatter(updates: TensorLike, params: SliceScatterParams): Tensor {
  const u = toTensor(updates, "sliceScatter: updates");
  const p = { ...params, shape: checkShape(params.shape, "sliceScatter: params.shape") };
  check("sliceScatter", u, p);
  return bind1(sliceScatterP, [u], p);
}
