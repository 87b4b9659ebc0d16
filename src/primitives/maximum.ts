/**
 * Elementwise maximum with broadcasting (NaN propagates). The derivative follows the
 * larger operand; at ties each side gets half: d max(x,y) = [x>y]dx + [x<y]dy + ½[x=y](dx+dy).
 * @example ng.maximum(ng.array([1, 5]), 3) // [3, 5]
 */
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { selectTangent } from "./minimum.js";
import { onnxElementwise, NUMERIC } from "./onnx.js";

export const maximumP = defineBinary(
  "maximum",
  K.maximum,
  (x, y, _z, tx, ty) => selectTangent(x, y, tx, ty),
  {
    dtype: "same",
    onnx: onnxElementwise("Max", NUMERIC),
  },
);
/** Elementwise maximum with broadcasting (NaN propagates). @example ng.maximum(ng.array([1, 5]), 3) // [3, 5] */
export const maximum = binaryOp(maximumP);
