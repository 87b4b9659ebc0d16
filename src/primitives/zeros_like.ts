/** zerosLike / fullLike: constant tensors of another tensor's shape and dtype (not primitives). */
import type { Tensor } from "../core/tensor.js";
import * as K from "../tensor/index.js";
import { fromNDArray } from "./convert.js";

export function fullLike(
  x: { shape: readonly number[]; dtype: Tensor["dtype"] },
  value: number,
): Tensor {
  return fromNDArray(K.full(x.shape as number[], value, x.dtype));
}

export function zerosLike(x: { shape: readonly number[]; dtype: Tensor["dtype"] }): Tensor {
  return fullLike(x, 0);
}
