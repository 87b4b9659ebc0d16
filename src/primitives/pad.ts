/**
 * Constant padding: widths[d] = [before, after] elements of `value` around
 * axis d. d pad(x, v) = pad(dx, 0): the tangent is always padded with zeros, so the
 * primitive is only applied to tangents with value 0, where it is linear; the transpose
 * slices the cotangent back to the input positions.
 * @example ng.pad(ng.ones([2]), [[1, 2]]) // [0, 1, 1, 0, 0]
 */
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { formatShape } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import { describeValue, toTensor, type TensorLike } from "./convert.js";
import { sliceResolved } from "./slice.js";
import { formatValue } from "../util/check.js";
import { taylorFromJvp } from "./taylor.js";

export interface PadParams {
  widths: [number, number][];
  value: number;
}

function checkWidths(
  name: string,
  shape: readonly number[],
  widths: readonly (readonly [number, number])[],
): void {
  if (!Array.isArray(widths) || widths.length !== shape.length) {
    throw new RangeError(
      `${name}: widths: expected ${shape.length} [before, after] pairs for shape ${formatShape(shape)}, ` +
        `got ${Array.isArray(widths) ? `${widths.length} pairs` : describeValue(widths)}`,
    );
  }
  widths.forEach((w, i) => {
    if (!Array.isArray(w) || w.length !== 2 || !w.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new RangeError(
        `${name}: widths[${i}]: expected a [before, after] pair of non-negative integers, got ${formatValue(w)}`,
      );
    }
  });
}

export const padP: DefinedPrimitive<PadParams, "pad"> = defineSingle<PadParams, "pad">("pad", {
  linear: true,
  impl: ([x], { widths, value }) => K.pad(x!, widths, value),
  abstractEval: ([x]: ShapedArray[], { widths, value }) => {
    checkWidths("pad", x!.shape, widths);
    if (typeof value !== "number")
      throw new TypeError(`pad: value: expected a number, got ${describeValue(value)}`);
    return aval(
      x!.shape.map((d, i) => d + widths[i]![0] + widths[i]![1]),
      x!.dtype,
    );
  },
  // The padding constant has zero derivative: d pad(x, v) = pad(dx, 0).
  jvp: ([x], [t], p): [Tensor, Tangent] => [
    bind1(padP, [x!], p),
    t && bind1(padP, [t], { widths: p.widths, value: 0 }),
  ],
  // Adjoint of zero-padding: keep the interior of the cotangent.
  transpose: (ct, [x], { widths, value }) => {
    if (value !== 0)
      throw new Error(`pad: transpose is only defined for zero padding, got value ${value}`);
    const shape = x!.aval.shape;
    return [
      sliceResolved(ct, {
        starts: widths.map((w) => w[0]),
        stops: widths.map((w, i) => w[0] + shape[i]!),
        steps: widths.map(() => 1),
      }),
    ];
  },
  // No padding along the batch axis, which stays.
  batch: ([x], [d], { widths, value }) => [
    bind1(padP, [x!], { widths: [...widths.slice(0, d!), [0, 0], ...widths.slice(d!)], value }),
    d!,
  ],
  onnx: (c, [x], { widths, value }, { ins }) => {
    const pads = [...widths.map((w) => w[0]), ...widths.map((w) => w[1])];
    return [
      c.node1("Pad", [x!, c.int64s(pads), c.scalar(value, ins[0]!.dtype)], { mode: "constant" }),
    ];
  },
  // From the JVP rule: one JVP of it along each direction.
  taylor2: (ins, p, ctx) => taylorFromJvp(padP, ins, p, ctx)[0]!,
  testSpec: {
    cases: [
      { inputs: [{ shape: [3] }], params: { widths: [[1, 2]], value: 0 } },
      {
        inputs: [{ shape: [2, 3] }],
        params: {
          widths: [
            [0, 1],
            [2, 0],
          ],
          value: 1.5,
        },
      },
    ],
  },
});

/**
 * Pads `x` with `value`: widths[d] = [before, after] elements around axis d, or one number
 * for every side of every axis.
 * @example ng.pad(ng.array([[1]]), 1).shape // [3, 3]
 */
export function pad(
  x: TensorLike,
  widths: readonly (readonly [number, number])[] | number,
  value = 0,
): Tensor {
  const t = toTensor(x, "pad: x");
  let w: [number, number][];
  if (typeof widths === "number") {
    if (!Number.isInteger(widths) || widths < 0) {
      throw new RangeError(`pad: widths: expected a non-negative integer, got ${widths}`);
    }
    w = t.shape.map(() => [widths, widths]);
  } else {
    checkWidths("pad", t.shape, widths);
    w = widths.map((p) => [p[0], p[1]]);
  }
  if (typeof value !== "number") {
    throw new TypeError(`pad: value: expected a number, got ${describeValue(value)}`);
  }
  if (t.dtype === "int32" && !Number.isInteger(value)) {
    throw new RangeError(`pad: value: ${value} is not an int32 value (x has dtype int32)`);
  }
  return w.every(([a, b]) => a === 0 && b === 0) ? t : bind1(padP, [t], { widths: w, value });
}
