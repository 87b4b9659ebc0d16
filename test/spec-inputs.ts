// Inputs of a primitive's testSpec case, shared by the registry-driven tests (derivatives,
// Taylor mode, jit): floats drawn uniformly in float64 on the case's domain, then cast to
// the case's dtype (or the one asked for); fixed inputs (indices, masks) as given.
import type { Tensor } from "../src/core/tensor.js";
import type { TestInput } from "../src/primitives/define.js";
import { fromNDArray } from "../src/primitives/convert.js";
import { cast } from "../src/primitives/cast.js";
import { isFloat, type DType } from "../src/tensor/dtype.js";
import * as K from "../src/tensor/index.js";

/** Inputs of a testSpec case (floats drawn in float64 from the case's domain, fixed ones as given). */
export function specInputs(inputs: readonly TestInput[], seed: number, dtype: DType): Tensor[] {
  let key = K.random.key(seed);
  return inputs.map((inp) => {
    const [k1, k2] = K.random.split(key);
    key = k1!;
    if (inp.fixed) return fromNDArray(inp.fixed(inp.shape));
    const [lo, hi] = inp.domain ?? [-2, 2];
    const x = fromNDArray(
      K.random.uniform(k2!, inp.shape, { minval: lo, maxval: hi, dtype: "float64" }),
    );
    return isFloat(x.dtype) ? cast(x, inp.dtype ?? dtype) : x;
  });
}
