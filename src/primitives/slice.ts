/**
 * Strided slicing. The primitive takes one resolved range per axis
 * (start, stop, step; no dropped axes) and is an O(1) strided view; the user-facing
 * `slice` resolves Python-style specs (negative indices, clamping, negative steps) and
 * drops the axes indexed by an integer with a reshape. Linear: d slice(x) = slice(dx);
 * the transpose writes the cotangent into zeros of the input shape (sliceScatter).
 * @example ng.slice(ng.arange(6), [{ start: -1, step: -2 }]) // [5, 3, 1]
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import type { NDArray } from "../tensor/ndarray.js";
import type { SliceSpec } from "../tensor/index.js";
import { formatShape } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { describeValue, toTensor, type TensorLike } from "./convert.js";
import { reshape } from "./reshape.js";
import { sliceScatterP } from "./slice_scatter.js";
import { linearJets } from "./taylor.js";

export type { SliceSpec };

/** One resolved range per axis: elements start, start+step, ... strictly before stop. */
export interface SliceParams {
  starts: number[];
  stops: number[];
  steps: number[];
}

/** Number of elements in range(start, stop, step). */
export function sliceLength(start: number, stop: number, step: number): number {
  if (step > 0) return stop > start ? Math.ceil((stop - start) / step) : 0;
  return start > stop ? Math.ceil((start - stop) / -step) : 0;
}

/** Output shape of a resolved slice. */
export function slicedShape({ starts, stops, steps }: SliceParams): number[] {
  return starts.map((s, i) => sliceLength(s, stops[i]!, steps[i]!));
}

/** Validates resolved slice params against the shape they index; names the axis. */
export function checkSliceParams(name: string, shape: readonly number[], p: SliceParams): void {
  const n = shape.length;
  if (p.starts.length !== n || p.stops.length !== n || p.steps.length !== n) {
    throw new RangeError(
      `${name}: expected one start/stop/step per axis of shape ${formatShape(shape)}, got ` +
        `starts ${formatShape(p.starts)}, stops ${formatShape(p.stops)}, steps ${formatShape(p.steps)}`,
    );
  }
  for (let i = 0; i < n; i++) {
    const [start, stop, step, d] = [p.starts[i]!, p.stops[i]!, p.steps[i]!, shape[i]!];
    const ints = [start, stop, step].every(Number.isInteger);
    const len = ints && step !== 0 ? sliceLength(start, stop, step) : 0;
    const last = start + (len - 1) * step;
    const ok =
      ints &&
      step !== 0 &&
      stop >= -1 &&
      stop <= d &&
      (len === 0 || (start >= 0 && start < d && last >= 0 && last < d));
    if (!ok) {
      throw new RangeError(
        `${name}: axis ${i}: range start=${start}, stop=${stop}, step=${step} is not a resolved slice ` +
          `of an axis of size ${d} (shape ${formatShape(shape)})`,
      );
    }
  }
}

/** The strided view of `x` that a resolved slice selects (shares storage). */
export function sliceView(x: NDArray, p: SliceParams): NDArray {
  const shape = slicedShape(p);
  const strides = x.strides.map((s, i) => s * p.steps[i]!);
  let offset = x.offset;
  if (shape.every((d) => d > 0)) p.starts.forEach((st, i) => (offset += st * x.strides[i]!));
  return x.view(shape, strides, offset);
}

/** The resolved slice of a value batched along axis `d` (size n): the batch axis is taken whole. */
export function batchSliceParams(p: SliceParams, d: number, n: number): SliceParams {
  const at = (v: readonly number[], x: number) => [...v.slice(0, d), x, ...v.slice(d)];
  return { starts: at(p.starts, 0), stops: at(p.stops, n), steps: at(p.steps, 1) };
}

export const sliceP: DefinedPrimitive<SliceParams, "slice"> = defineSingle<SliceParams, "slice">(
  "slice",
  {
    linear: true,
    impl: ([x], p) => sliceView(x!, p),
    abstractEval: ([x]: ShapedArray[], p) => {
      checkSliceParams("slice", x!.shape, p);
      return aval(slicedShape(p), x!.dtype);
    },
    jvp: ([x], [t], p): [Tensor, Tangent] => [bind1(sliceP, [x!], p), t && bind1(sliceP, [t], p)],
    // Adjoint of a gather of positions: scatter the cotangent into zeros at those positions.
    transpose: (ct, [x], p) => [bind1(sliceScatterP, [ct], { ...p, shape: x!.aval.shape.slice() })],
    // The batch axis is taken whole and stays.
    batch: ([x], [d], p, n) => [bind1(sliceP, [x!], batchSliceParams(p, d!, n)), d!],
    // ONNX Slice reads a negative end as counted from the back; a stop of -1 (before index
    // 0, for negative steps) is written -(d+1), which clamps to the same place.
    onnx: (c, [x], { starts, stops, steps }, { ins }) => {
      const shape = ins[0]!.shape;
      const ends = stops.map((s, i) => (s < 0 ? -(shape[i]! + 1) : s));
      const axes = starts.map((_, i) => i);
      return [
        c.node1("Slice", [x!, c.int64s(starts), c.int64s(ends), c.int64s(axes), c.int64s(steps)]),
      ];
    },
    // Linear: slice v, J and L alike.
    taylor2: ([x], p) => linearJets(x!, (t) => bind1(sliceP, [t], p)),
    testSpec: {
      cases: [
        { inputs: [{ shape: [5] }], params: { starts: [1], stops: [4], steps: [1] } },
        { inputs: [{ shape: [3, 6] }], params: { starts: [0, 5], stops: [3, -1], steps: [2, -2] } },
        { inputs: [{ shape: [2, 4] }], params: { starts: [1, 3], stops: [2, 0], steps: [1, -1] } },
      ],
    },
  },
);

/** Binds the primitive unless the slice selects everything. */
export function sliceResolved(x: Tensor, p: SliceParams): Tensor {
  const full = x.shape.every((d, i) => p.starts[i] === 0 && p.stops[i] === d && p.steps[i] === 1);
  return full ? x : bind1(sliceP, [x], p);
}

/** x[..., start:stop, ...] along one axis (0 <= start <= stop <= size). */
export function sliceAxis(x: Tensor, axis: number, start: number, stop: number): Tensor {
  const starts = x.shape.map(() => 0);
  const stops = x.shape.slice();
  starts[axis] = start;
  stops[axis] = stop;
  return sliceResolved(x, { starts, stops, steps: x.shape.map(() => 1) });
}

/**
 * Basic indexing, one entry per leading axis (missing trailing axes are taken whole): a
 * number picks one index and drops the axis; null takes the axis whole; a SliceSpec
 * `{start, stop, step}` slices like Python (negative start/stop count from the end and are
 * clamped; step may be negative, not 0).
 * @example ng.slice(ng.array([[1, 2, 3], [4, 5, 6]]), [1, { start: -1, step: -1 }]) // [6, 5, 4]: x[1, ::-1]
 */
export function slice(
  x: TensorLike,
  specs: readonly (SliceSpec | number | null | undefined)[],
): Tensor {
  const t = toTensor(x, "slice: x");
  if (!Array.isArray(specs)) {
    throw new TypeError(
      `slice: specs: expected an array of slice specs, got ${describeValue(specs)}`,
    );
  }
  if (specs.length > t.ndim) {
    throw new RangeError(
      `slice: specs: got ${specs.length} entries for a tensor of rank ${t.ndim} (shape ${formatShape(t.shape)})`,
    );
  }
  const p: SliceParams = { starts: [], stops: [], steps: [] };
  const keep: number[] = [];
  t.shape.forEach((n, d) => {
    const [start, stop, step, drop] = resolveSpec(specs[d], n, d);
    p.starts.push(start);
    p.stops.push(stop);
    p.steps.push(step);
    if (!drop) keep.push(d);
  });
  const y = sliceResolved(t, p);
  return keep.length === t.ndim
    ? y
    : reshape(
        y,
        keep.map((d) => y.shape[d]!),
      );
}

/** [start, stop, step, dropAxis] of one spec on an axis of size n (empty ranges are 0:0:1). */
function resolveSpec(
  spec: SliceSpec | number | null | undefined,
  n: number,
  d: number,
): [number, number, number, boolean] {
  if (spec === undefined || spec === null) return [0, n, 1, false];
  if (typeof spec === "number") {
    if (!Number.isInteger(spec))
      throw new TypeError(`slice: specs[${d}]: expected an integer index, got ${spec}`);
    if (spec < -n || spec >= n) {
      throw new RangeError(
        `slice: specs[${d}]: index ${spec} is out of range for axis ${d} of size ${n}`,
      );
    }
    const k = spec < 0 ? spec + n : spec;
    return [k, k + 1, 1, true];
  }
  if (typeof spec !== "object" || Array.isArray(spec)) {
    throw new TypeError(
      `slice: specs[${d}]: expected a number, null or {start, stop, step}, got ${describeValue(spec)}`,
    );
  }
  const field = (name: "start" | "stop" | "step"): number | undefined => {
    const v: unknown = spec[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw new TypeError(
        `slice: specs[${d}].${name}: expected an integer, got ${describeValue(v)}`,
      );
    }
    return v;
  };
  const step = field("step") ?? 1;
  if (step === 0) throw new RangeError(`slice: specs[${d}].step: step must not be 0`);
  let start = field("start");
  let stop = field("stop");
  if (step > 0) {
    start = start === undefined ? 0 : start < 0 ? Math.max(start + n, 0) : Math.min(start, n);
    stop = stop === undefined ? n : stop < 0 ? Math.max(stop + n, 0) : Math.min(stop, n);
  } else {
    start =
      start === undefined ? n - 1 : start < 0 ? Math.max(start + n, -1) : Math.min(start, n - 1);
    stop = stop === undefined ? -1 : stop < 0 ? Math.max(stop + n, -1) : Math.min(stop, n - 1);
  }
  if (sliceLength(start, stop, step) === 0) return [0, 0, 1, false];
  return [start, stop, step, false];
}
