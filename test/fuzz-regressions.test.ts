// Minimal programs found by the differential fuzzer (test/fuzz/programs.ts), kept as
// regression tests.
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";

function withStrategy<T>(strategy: ng.config.NestedStrategy, fn: () => T): T {
  const prev = ng.config.set({ nestedSwitching: true, nestedStrategy: strategy });
  try {
    return fn();
  } finally {
    ng.config.set(prev);
  }
}

describe("fuzzer regressions", () => {
  // g(x) = 3·float64(x) for a float32 x: ∇g is 3 in float32 (the input's dtype), and so
  // is its tangent when grad runs under an outer jvp.
  const x = ng.array(0.5, { dtype: "float32" });
  const g = (t: ng.Tensor) => ng.mul(ng.cast(t, "float64"), 3);
  const gradUnderJvp = () =>
    ng.jvp((t: ng.Tensor) => ng.grad(g)(t), [x], [ng.array(1, { dtype: "float32" })]);

  it.each(["forwardOverReverse", "nest", "innerForward"] as const)(
    "grad of a float32 input under jvp stays float32 (%s)",
    (strategy) => {
      const [gx, dgx] = withStrategy(strategy, gradUnderJvp);
      expect([gx.dtype, dgx.dtype]).toEqual(["float32", "float32"]);
      expect([gx.item(), dgx.item()]).toEqual([3, 0]);
    },
  );
});
