// ng.array of a traced value keeps its derivative (it never reads the value), in both modes.
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";

describe("ng.array of a tracer", () => {
  const x = ng.array([0.5, -1.5], { dtype: "float64" });
  const f = (x: ng.Tensor) => ng.sum(ng.square(ng.array(x)).mul(ng.array(x, { dtype: "float64" })));
  it("passes the derivative through (grad: 3x², jvp: 3x²·t)", () => {
    const g = ng.grad(f)(x).toArray() as number[];
    expect(g[0]).toBeCloseTo(3 * 0.25, 12);
    expect(g[1]).toBeCloseTo(3 * 2.25, 12);
    const [, t] = ng.jvp(f, [x], [ng.onesLike(x)]);
    expect(t.item()).toBeCloseTo(3 * (0.25 + 2.25), 12);
  });
  it("a dtype change is a cast that differentiates", () => {
    const h = (x: ng.Tensor) => ng.sum(ng.array(x, { dtype: "float32" }).mul(2));
    expect(ng.grad(h)(x).toArray()).toEqual([2, 2]);
  });
});
