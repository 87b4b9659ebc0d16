/**
 * The adjoint of maxPoolSelect: maxPoolScatter(ct, x) scatter-adds ct
 * (maxPool's output shape) into zeros shaped like x at the first maximal element of every
 * pooling window of x. Linear in ct, piecewise constant in x:
 * d maxPoolScatter(ct, x) = maxPoolScatter(dct, x); the transpose is maxPoolSelect(ct', x).
 */
import type { ShapedArray } from "../core/aval.js";
import type { BatchDim } from "../core/batching.js";
import type { Tensor } from "../core/tensor.js";
import { bind1, LinearInput, type Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { formatShape, shapesEqual } from "../tensor/shape.js";
import { aval, defineSingle, type DefinedPrimitive } from "./define.js";
import {
  checkSameFloat,
  foldBatch,
  POOL_TEST_CASES,
  type PoolParams,
  unfoldBatch,
} from "./conv_common.js";
import { maxPoolSelectP } from "./max_pool_select.js";
import {
  FLOATS,
  maxPoolWithIndices,
  requireDTypes,
  reshapeTo,
  toChannelsFirst,
  toChannelsLast,
  zerosOf,
} from "./onnx.js";

export const maxPoolScatterP: DefinedPrimitive<PoolParams, "maxPoolScatter"> = defineSingle<
  PoolParams,
  "maxPoolScatter"
>("maxPoolScatter", {
  linear: true,
  impl: ([ct, x], p) => K.maxPoolScatter(ct!, x!, p),
  abstractEval: ([ct, x]: ShapedArray[], p) => {
    checkSameFloat("maxPoolScatter", ct!, x!, "ct", "x");
    const want = K.poolOutputShape(x!.shape, p, "maxPoolScatter");
    if (!shapesEqual(ct!.shape, want)) {
      throw new RangeError(
        `maxPoolScatter: ct must have the pooled shape ${formatShape(want)}, got ${formatShape(ct!.shape)}`,
      );
    }
    return aval(x!.shape, ct!.dtype);
  },
  jvp: ([ct, x], [tc], p): [Tensor, Tangent] => [
    bind1(maxPoolScatterP, [ct!, x!], p),
    tc && bind1(maxPoolScatterP, [tc, x!], p),
  ],
  // adjoint of a scatter-add: gather at the argmax positions
  transpose: (ct, [c, x], p) => {
    if (x instanceof LinearInput || !(c instanceof LinearInput)) {
      throw new Error("maxPoolScatter: transpose is only defined wrt ct (it is not linear in x)");
    }
    return [bind1(maxPoolSelectP, [ct, x], p), null];
  },
  // vmap: the vmap axis joins the batch axis of both operands (an unbatched one is broadcast).
  batch: ([a, x], [da, dx], p, size): [Tensor, BatchDim] => [
    unfoldBatch(
      bind1(maxPoolScatterP, [foldBatch(a!, da ?? null, size), foldBatch(x!, dx ?? null, size)], p),
      size,
    ),
    0,
  ],
  // Scatter-add ct into the flattened channels-first x at MaxPool's argmax indices.
  onnx: (c, [ct, x], p, { ins, outs }) => {
    requireDTypes(c, "MaxPool", outs[0]!.dtype, FLOATS);
    const r = ins[1]!.ndim;
    const xs = ins[1]!.shape;
    const [, i] = maxPoolWithIndices(c, x!, r, p);
    const u = reshapeTo(c, toChannelsFirst(c, ct!, r), [-1]);
    const zeros = zerosOf(c, [xs.reduce((a, b) => a * b, 1)], outs[0]!.dtype);
    const s = c.node1("ScatterElements", [zeros, reshapeTo(c, i, [-1]), u], {
      axis: 0,
      reduction: "add",
    });
    const first = [xs[0]!, xs[r - 1]!, ...xs.slice(1, r - 1)];
    return [toChannelsLast(c, reshapeTo(c, s, first), r)];
  },
  testSpec: {
    cases: POOL_TEST_CASES.map((c) => ({
      inputs: [{ shape: c.y }, { shape: c.x }],
      params: c.params,
    })),
  },
});
