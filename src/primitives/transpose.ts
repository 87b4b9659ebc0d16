/**
 * Axis permutation: out.shape[i] = x.shape[perm[i]]. Linear:
 * d transpose(x) = transpose(dx), and the transpose rule applies the inverse permutation.
 * `swapAxes` and `moveAxis` are wrappers over the same primitive.
 * @example ng.transpose(ng.zeros([2, 3, 4]), [2, 0, 1]).shape // [4, 2, 3]
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { formatShape, normalizeAxis } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { toTensor, type TensorLike } from "./convert.js";
import { formatValue } from "../util/check.js";
import { linearJets } from "./taylor.js";

export interface TransposeParams {
  perm: number[];
}

/** Throws unless `perm` is a permutation of 0..ndim-1; the error names the shape. */
function checkPerm(name: string, shape: readonly number[], perm: readonly number[]): void {
  const ok =
    Array.isArray(perm) &&
    perm.length === shape.length &&
    perm.every((a) => Number.isInteger(a) && a >= 0 && a < shape.length) &&
    new Set(perm).size === perm.length;
  if (!ok) {
    throw new RangeError(
      `${name}: perm must be a permutation of the ${shape.length} axes of shape ${formatShape(shape)}, ` +
        `got ${formatValue(perm)}`,
    );
  }
}

/** The permutation q with q[perm[i]] = i. */
export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export const transposeP: DefinedPrimitive<TransposeParams, "transpose"> = defineSingle<
  TransposeParams,
  "transpose"
>("transpose", {
  linear: true,
  impl: ([x], { perm }) => K.transpose(x!, perm),
  abstractEval: ([x]: ShapedArray[], { perm }) => {
    checkPerm("transpose", x!.shape, perm);
    return aval(
      perm.map((a) => x!.shape[a]!),
      x!.dtype,
    );
  },
  jvp: ([x], [t], p): [Tensor, Tangent] => [
    bind1(transposeP, [x!], p),
    t && bind1(transposeP, [t], p),
  ],
  // The adjoint of a permutation is its inverse.
  transpose: (ct, _inputs, { perm }) => [bind1(transposeP, [ct], { perm: inversePerm(perm) })],
  // The batch axis leads the result; the example axes keep the permutation (shifted past it).
  batch: ([x], [d], { perm }) => [
    bind1(transposeP, [x!], { perm: [d!, ...perm.map((a) => (a < d! ? a : a + 1))] }),
    0,
  ],
  onnx: (c, [x], { perm }) => [c.node1("Transpose", [x!], { perm })],
  // Linear: permute v, J and L alike.
  taylor2: ([x], p) => linearJets(x!, (t) => bind1(transposeP, [t], p)),
  testSpec: {
    cases: [
      { inputs: [{ shape: [2, 3] }], params: { perm: [1, 0] } },
      { inputs: [{ shape: [2, 3, 4] }], params: { perm: [2, 0, 1] } },
    ],
  },
});

/**
 * Permutes the axes of `x`: out.shape[i] = x.shape[perm[i]]. Without `perm` the axes are
 * reversed (a matrix transpose for rank 2). Negative axes count from the end.
 * @example ng.transpose(ng.array([[1, 2, 3]])).shape // [3, 1]
 */
export function transpose(x: TensorLike, perm?: readonly number[] | null): Tensor {
  const t = toTensor(x, "transpose: x");
  const n = t.ndim;
  let p: number[];
  if (perm === undefined || perm === null) {
    p = Array.from({ length: n }, (_, i) => n - 1 - i);
  } else {
    if (!Array.isArray(perm)) {
      throw new TypeError(`transpose: perm: expected an array of axes, got ${typeof perm}`);
    }
    if (perm.length !== n) {
      throw new RangeError(
        `transpose: perm: expected a permutation of ${n} axes for shape ${formatShape(t.shape)}, ` +
          `got ${formatValue(perm)} (${perm.length} axes)`,
      );
    }
    p = perm.map((a, i) => normalizeAxis(a, n, `transpose: perm[${i}]`));
    checkPerm("transpose", t.shape, p);
  }
  return p.every((a, i) => a === i) ? t : bind1(transposeP, [t], { perm: p });
}

/**
 * Exchanges axes `a` and `b` (negative axes count from the end).
 * @example ng.swapAxes(ng.zeros([2, 3, 4]), 0, -1).shape // [4, 3, 2]
 */
export function swapAxes(x: TensorLike, a: number, b: number): Tensor {
  const t = toTensor(x, "swapAxes: x");
  const i = normalizeAxis(a, t.ndim, "swapAxes: a");
  const j = normalizeAxis(b, t.ndim, "swapAxes: b");
  const perm = Array.from({ length: t.ndim }, (_, k) => k);
  perm[i] = j;
  perm[j] = i;
  return transpose(t, perm);
}

/**
 * Moves axes `source` to positions `destination`; the other axes keep their order (NumPy
 * moveaxis).
 * @example ng.moveAxis(ng.zeros([2, 3, 4]), 0, -1).shape // [3, 4, 2]
 */
export function moveAxis(
  x: TensorLike,
  source: number | readonly number[],
  destination: number | readonly number[],
): Tensor {
  const t = toTensor(x, "moveAxis: x");
  const n = t.ndim;
  const axes = (v: number | readonly number[], arg: string): number[] => {
    const list = typeof v === "number" ? [v] : v;
    if (!Array.isArray(list)) {
      throw new TypeError(
        `moveAxis: ${arg}: expected a number or an array of numbers, got ${typeof v}`,
      );
    }
    const out = list.map((a, i) => normalizeAxis(a, n, `moveAxis: ${arg}[${i}]`));
    if (new Set(out).size !== out.length) {
      throw new RangeError(`moveAxis: ${arg}: repeated axis in ${formatValue(list)}`);
    }
    return out;
  };
  const src = axes(source, "source");
  const dst = axes(destination, "destination");
  if (src.length !== dst.length) {
    throw new RangeError(
      `moveAxis: source and destination must have the same number of axes, got ` +
        `${formatValue(source)} and ${formatValue(destination)}`,
    );
  }
  const rest = Array.from({ length: n }, (_, a) => a).filter((a) => !src.includes(a));
  const order = new Array<number>(n).fill(-1);
  src.forEach((s, k) => (order[dst[k]!] = s));
  let r = 0;
  for (let a = 0; a < n; a++) if (order[a] === -1) order[a] = rest[r++]!;
  return transpose(t, order);
}
