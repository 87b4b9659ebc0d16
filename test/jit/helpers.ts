// Shared helpers of the jit tests: inputs drawn from a primitive's testSpec, dtype
// conversion of float inputs, and a closeness assertion that names the worst element.
import { expect } from "vitest";
import type { Tensor } from "../../src/core/tensor.js";
import type { TestInput } from "../../src/primitives/define.js";
import { fromNDArray } from "../../src/primitives/convert.js";
import { cast } from "../../src/primitives/cast.js";
import { isFloat, type DType } from "../../src/tensor/dtype.js";
import * as K from "../../src/tensor/index.js";

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

/** Asserts that two lists of tensors agree in shape, dtype and values (NaNs match NaNs). */
export function expectClose(
  actual: readonly Tensor[],
  expected: readonly Tensor[],
  rtol: number,
  atol: number,
  what: string,
): void {
  expect(actual.length, `${what}: number of outputs`).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(`${a.dtype}[${a.shape.join(",")}]`, `${what}: output ${i} type`).toBe(
      `${e.dtype}[${e.shape.join(",")}]`,
    );
    const av = Array.from(a.dataSync(), Number);
    const ev = Array.from(e.dataSync(), Number);
    let worst = 0;
    let at = -1;
    ev.forEach((x, k) => {
      const y = av[k]!;
      if (Number.isNaN(x) && Number.isNaN(y)) return;
      if (x === y) return;
      const excess = Math.abs(y - x) - (atol + rtol * Math.abs(x));
      if (!(excess <= worst)) {
        worst = Number.isNaN(excess) ? Infinity : excess;
        at = k;
      }
    });
    expect(
      at < 0 ? "close" : `element ${at}: got ${av[at]}, expected ${ev[at]}`,
      `${what}: output ${i}`,
    ).toBe("close");
  });
}

/** Tolerances of comparisons between two evaluation orders in a dtype. */
export function tolerances(dtype: DType): [number, number] {
  return dtype === "float64" ? [1e-10, 1e-12] : [2e-5, 1e-6];
}
