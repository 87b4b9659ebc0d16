/**
 * The tangent map of max pooling: maxPoolSelect(t, x) gathers t (shaped like
 * x) at the first maximal element of every pooling window of x. Linear in t; x only picks
 * positions (piecewise constant, zero derivative):
 * d maxPoolSelect(t, x) = maxPoolSelect(dt, x); the transpose is maxPoolScatter(ct, x).
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
import { maxPoolScatterP } from "./max_pool_scatter.js";
import {
  FLOATS,
  maxPoolWithIndices,
  requireDTypes,
  reshapeTo,
  toChannelsFirst,
  toChannelsLast,
} from "./onnx.js";

export const maxPoolSelectP: DefinedPrimitive<PoolParams, "maxPoolSelect"> = defineSingle<
  PoolParams,
  "maxPoolSelect"
>("maxPoolSelect", {
  linear: true,
  impl: ([t, x], p) => K.maxPoolSelect(t!, x!, p),
  abstractEval: ([t, x]: ShapedArray[], p) => {
    checkSameFloat("maxPoolSelect", t!, x!, "t", "x");
    if (!shapesEqual(t!.shape, x!.shape)) {
      throw new RangeError(
        `maxPoolSelect: t must have the shape of x ${formatShape(x!.shape)}, got ${formatShape(t!.shape)}`,
      );
    }
    return aval(K.poolOutputShape(x!.shape, p, "maxPoolSelect"), t!.dtype);
  },
  // linear in t; the argmax positions do not move under a small change of x
  jvp: ([t, x], [tt], p): [Tensor, Tangent] => [
    bind1(maxPoolSelectP, [t!, x!], p),
    tt && bind1(maxPoolSelectP, [tt, x!], p),
  ],
  // adjoint of a gather: scatter-add into the argmax positions
  transpose: (ct, [t, x], p) => {
    if (x instanceof LinearInput || !(t instanceof LinearInput)) {
      throw new Error("maxPoolSelect: transpose is only defined wrt t (it is not linear in x)");
    }
    return [bind1(maxPoolScatterP, [ct, x], p), null];
  },
  // vmap: the vmap axis joins the batch axis of both operands (an unbatched one is broadcast).
  batch: ([a, x], [da, dx], p, size): [Tensor, BatchDim] => [
    unfoldBatch(
      bind1(maxPoolSelectP, [foldBatch(a!, da ?? null, size), foldBatch(x!, dx ?? null, size)], p),
      size,
    ),
    0,
  ],
  // t at MaxPool's argmax: gather the flattened channels-first t at its indices output.
  onnx: (c, [t, x], p, { ins, outs }) => {
    requireDTypes(c, "MaxPool", outs[0]!.dtype, FLOATS);
    const r = ins[1]!.ndim;
    const [, i] = maxPoolWithIndices(c, x!, r, p);
    const flat = reshapeTo(c, toChannelsFirst(c, t!, r), [-1]);
    return [toChannelsLast(c, c.node1("Gather", [flat, i]), r)];
  },
  testSpec: {
    cases: POOL_TEST_CASES.map((c) => ({
      inputs: [{ shape: c.x }, { shape: c.x }],
      params: c.params,
    })),
  },
});
