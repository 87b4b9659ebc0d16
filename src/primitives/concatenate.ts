/**
 * Joining tensors along an existing axis. The primitive takes n inputs of
 * one dtype whose shapes agree except along `axis`. Linear in every input:
 * d concat(xs) = concat(dxs) (zero tangents filled in); the transpose hands each linear
 * input its slice of the cotangent. `stack` is a wrapper (reshape + concatenate).
 * @example ng.concatenate([ng.zeros([2, 3]), ng.ones([1, 3])]).shape // [3, 3]
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, LinearInput, type Tangent } from "../core/trace.js";
import { promoteTypes } from "../tensor/dtype.js";
import * as K from "../tensor/index.js";
import { formatShape, normalizeAxis, shapesEqual } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { describeValue, toTensor, type TensorLike } from "./convert.js";
import { cast } from "./cast.js";
import { reshape } from "./reshape.js";
import { sliceAxis } from "./slice.js";
import { zerosLike } from "./zeros_like.js";
import { allToFront } from "./batching.js";
import { optionKeys, positionalOrOptions } from "../util/options.js";
import { taylorFromJvp } from "./taylor.js";

/** The options form of concatenate's and stack's axis: `stack(xs, { axis: 1 })`. */
export interface JoinOptions {
  /** The axis to join along (default 0; negative counts from the end). */
  axis?: number;
}

/** The keys of JoinOptions (checked against the interface by the compiler). */
export const JOIN_OPTION_KEYS = optionKeys<JoinOptions>()(["axis"]);

export interface ConcatenateParams {
  axis: number;
}

/** Validates same rank / dtype and equal dims off `axis`; names the offending input. */
function check(
  name: string,
  xs: readonly { shape: readonly number[]; dtype: string }[],
  axis: number,
): void {
  if (xs.length === 0) throw new RangeError(`${name}: expected at least one tensor, got none`);
  const first = xs[0]!;
  if (first.shape.length === 0)
    throw new RangeError(
      `${name}: xs[0] is a scalar; cannot concatenate rank-0 tensors (use stack)`,
    );
  if (!Number.isInteger(axis) || axis < 0 || axis >= first.shape.length) {
    throw new RangeError(`${name}: axis ${axis} is out of range for rank ${first.shape.length}`);
  }
  xs.forEach((x, i) => {
    const ok =
      x.shape.length === first.shape.length &&
      x.shape.every((d, k) => k === axis || d === first.shape[k]);
    if (!ok) {
      throw new RangeError(
        `${name}: xs[${i}] has shape ${formatShape(x.shape)} but xs[0] has shape ${formatShape(first.shape)}; ` +
          `expected the same rank and the same dimensions except along axis ${axis}`,
      );
    }
    if (x.dtype !== first.dtype) {
      throw new TypeError(
        `${name}: xs[${i}] has dtype ${x.dtype} but xs[0] has dtype ${first.dtype}`,
      );
    }
  });
}

export const concatenateP: DefinedPrimitive<ConcatenateParams, "concatenate"> = defineSingle<
  ConcatenateParams,
  "concatenate"
>("concatenate", {
  linear: true,
  impl: (xs, { axis }) => K.concatenate(xs, axis),
  abstractEval: (xs: ShapedArray[], { axis }) => {
    check("concatenate", xs, axis);
    const shape = xs[0]!.shape.slice();
    shape[axis] = xs.reduce((n, x) => n + x.shape[axis]!, 0);
    return aval(shape, xs[0]!.dtype);
  },
  // d concat(x1..xn) = concat(dx1..dxn), zeros for the inputs without a tangent.
  jvp: (xs, ts, p): [Tensor, Tangent] => {
    const y = bind1(concatenateP, xs, p);
    if (ts.every((t) => t === null)) return [y, null];
    return [
      y,
      bind1(
        concatenateP,
        ts.map((t, i) => t ?? zerosLike(xs[i]!)),
        p,
      ),
    ];
  },
  // Each linear input gets the part of the cotangent it filled.
  transpose: (ct, inputs, { axis }) => {
    let start = 0;
    return inputs.map((x) => {
      const len = x.aval.shape[axis]!;
      start += len;
      return x instanceof LinearInput ? sliceAxis(ct, axis, start - len, start) : null;
    });
  },
  // Equal batch axes: join along the shifted axis; otherwise all to the front (unbatched
  // inputs become broadcast views) and join along axis + 1.
  batch: (xs, dims, { axis }, n) => {
    const d = dims[0];
    if (d !== null && d !== undefined && dims.every((e) => e === d)) {
      return [bind1(concatenateP, xs, { axis: axis < d ? axis : axis + 1 }), d];
    }
    return [bind1(concatenateP, allToFront(xs, dims, n), { axis: axis + 1 }), 0];
  },
  onnx: (c, xs, { axis }) => [c.node1("Concat", xs, { axis })],
  // From the JVP rule: one JVP of it along each direction.
  taylor2: (ins, p, ctx) => taylorFromJvp(concatenateP, ins, p, ctx)[0]!,
  testSpec: {
    cases: [
      { inputs: [{ shape: [2, 3] }, { shape: [1, 3] }], params: { axis: 0 } },
      { inputs: [{ shape: [2, 1] }, { shape: [2, 3] }, { shape: [2, 2] }], params: { axis: 1 } },
    ],
  },
});

function toTensors(name: string, xs: readonly TensorLike[]): Tensor[] {
  if (!Array.isArray(xs))
    throw new TypeError(`${name}: xs: expected an array of tensors, got ${describeValue(xs)}`);
  if (xs.length === 0) throw new RangeError(`${name}: xs: expected at least one tensor, got none`);
  const ts = xs.map((x, i) => toTensor(x, `${name}: xs[${i}]`));
  const dtype = ts.reduce((d, t) => promoteTypes(d, t.dtype), ts[0]!.dtype);
  return ts.map((t) => cast(t, dtype));
}

/**
 * Joins tensors along an existing `axis` (negative counts from the end); the dtype is the
 * promotion of all inputs, and shapes must agree except along `axis`.
 * @example ng.concatenate([ng.array([1, 2]), ng.array([3])]) // [1, 2, 3]
 * @example ng.concatenate([ng.zeros([1, 2]), ng.ones([1, 2])], { axis: 1 }).shape // [1, 4]
 */
export function concatenate(xs: readonly TensorLike[], options: JoinOptions): Tensor;
export function concatenate(xs: readonly TensorLike[], axis?: number): Tensor;
export function concatenate(xs: readonly TensorLike[], ...rest: unknown[]): Tensor {
  const { axis = 0 } = positionalOrOptions<JoinOptions>("concatenate", rest, JOIN_OPTION_KEYS);
  const ts = toTensors("concatenate", xs);
  if (ts[0]!.ndim === 0)
    throw new RangeError(
      `concatenate: xs[0] is a scalar; cannot concatenate rank-0 tensors (use stack)`,
    );
  const ax = normalizeAxis(axis, ts[0]!.ndim, "concatenate: axis");
  check("concatenate", ts, ax);
  return ts.length === 1 ? ts[0]! : bind1(concatenateP, ts, { axis: ax });
}

/**
 * Joins tensors of one shape along a new `axis` (its position in the result).
 * @example ng.stack([ng.zeros([3]), ng.ones([3])], 1).shape // [3, 2]
 * @example ng.stack([ng.zeros([3]), ng.ones([3])], { axis: 1 }).shape // [3, 2]
 */
export function stack(xs: readonly TensorLike[], options: JoinOptions): Tensor;
export function stack(xs: readonly TensorLike[], axis?: number): Tensor;
export function stack(xs: readonly TensorLike[], ...rest: unknown[]): Tensor {
  const { axis = 0 } = positionalOrOptions<JoinOptions>("stack", rest, JOIN_OPTION_KEYS);
  const ts = toTensors("stack", xs);
  const first = ts[0]!;
  ts.forEach((t, i) => {
    if (!shapesEqual(t.shape, first.shape)) {
      throw new RangeError(
        `stack: xs[${i}] has shape ${formatShape(t.shape)} but xs[0] has shape ${formatShape(first.shape)}; ` +
          `expected all shapes equal`,
      );
    }
  });
  const ax = normalizeAxis(axis, first.ndim + 1, "stack: axis");
  const shape = [...first.shape.slice(0, ax), 1, ...first.shape.slice(ax)];
  return concatenate(
    ts.map((t) => reshape(t, shape)),
    ax,
  );
}
