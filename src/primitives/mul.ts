/**
 * Elementwise multiplication with broadcasting. Bilinear: d(xy) = dx·y + x·dy; the
 * transpose with respect to the linear operand multiplies the cotangent by the other.
 * @example ng.mul(ng.array([1, 2]), 3) // [3, 6]
 */
import { LinearInput, type Tangent } from "../core/trace.js";
import { dot2 } from "./taylor.js";
import * as K from "../tensor/index.js";
import { binaryOp, defineBinary } from "./binary.js";
import { addTangents, mapTangent } from "./tangent.js";
import { onnxElementwise, NUMERIC } from "./onnx.js";

export const mulP = defineBinary(
  "mul",
  K.mul,
  (x, y, _z, tx, ty) =>
    addTangents(
      mapTangent(tx, (t) => mul(t, y)),
      mapTangent(ty, (t) => mul(x, t)),
    ),
  {
    dtype: "same",
    onnx: onnxElementwise("Mul", NUMERIC),
    // J = y·Jx + x·Jy; L = y·Lx + x·Ly + 2·Σ_j Jx_j·Jy_j
    taylor: (x, y, z, ctx) => {
      const lin = (a: Tangent, b: Tangent) =>
        addTangents(
          mapTangent(a, (t) => mul(y.value, t)),
          mapTangent(b, (t) => mul(x.value, t)),
        );
      const jet1 = lin(x.jet1, y.jet1);
      if (ctx.order === 1) return { value: z, jet1, jet2: null };
      const cross = x.jet1 && y.jet1 ? mul(2, dot2(x.jet1, y.jet1, ctx)) : null;
      return { value: z, jet1, jet2: addTangents(lin(x.jet2, y.jet2), cross) };
    },
    transpose: ([ct], [x, y]) => {
      if (x instanceof LinearInput && y instanceof LinearInput) {
        throw new Error("mul: transpose of a product of two tangents (the program is not linear)");
      }
      return x instanceof LinearInput ? [mul(ct!, y as never), null] : [null, mul(x as never, ct!)];
    },
  },
);
/** Elementwise x · y with broadcasting. @example ng.mul(ng.array([1, 2]), 3) // [3, 6] */
export const mul = binaryOp(mulP);
