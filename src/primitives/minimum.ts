/**
 * Elementwise minimum with broadcasting (NaN propagates). The derivative follows the
 * smaller operand; at ties each side gets half.
 * @example ng.minimum(ng.array([1, 5]), 3) // [1, 3]
 */
import type { Tensor } from "../core/tensor.js";
import type { Tangent } from "../core/trace.js";
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { cast } from "./cast.js";
import { equal, greater } from "./compare.js";
import { mul } from "./mul.js";
import { add } from "./add.js";
import { addTangents, mapTangent } from "./tangent.js";
import { onnxElementwise, NUMERIC } from "./onnx.js";

/** Tangent of an elementwise selection: weight [x>y] + ½[x=y] on dx, the rest on dy. */
export function selectTangent(x: Tensor, y: Tensor, tx: Tangent, ty: Tangent): Tangent {
  const wx = add(cast(greater(x, y), x.dtype), mul(cast(equal(x, y), x.dtype), 0.5));
  return addTangents(
    mapTangent(tx, (t) => mul(t, wx)),
    mapTangent(ty, (t) => mul(t, sub1(wx))),
  );
}

function sub1(w: Tensor): Tensor {
  return add(mul(w, -1), 1);
}

export const minimumP = defineBinary(
  "minimum",
  K.minimum,
  (x, y, _z, tx, ty) => selectTangent(y, x, tx, ty),
  {
    dtype: "same",
    onnx: onnxElementwise("Min", NUMERIC),
  },
);
/** Elementwise minimum with broadcasting (NaN propagates). @example ng.minimum(ng.array([1, 5]), 3) // [1, 3] */
export const minimum = binaryOp(minimumP);
