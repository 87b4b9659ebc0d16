// ONNX export round trip: a training step whose loss contains an inner gradient is staged,
// inlined and lowered by exportOnnx, then loaded in a fresh session through onnxruntime-node's
// public (asynchronous) API — as a user of another ONNX Runtime would — and its outputs
// compared with eager evaluation of the same step.
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/core/tensor.js";
import { expectClose, tolerances } from "./helpers.js";

type Params = { w1: Tensor; b1: Tensor; w2: Tensor };

/** u(p, x) = Σ tanh(x W1 + b1) W2, a scalar field over the points x [n, 2]. */
const u = (p: Params, x: Tensor) =>
  ng.sum(ng.matmul(ng.tanh(ng.add(ng.matmul(x, p.w1), p.b1)), p.w2));

/** Loss with a nested derivative: ‖∇ₓu‖² + u², then one SGD step. */
function step(p: Params, x: Tensor) {
  const loss = (q: Params) => {
    const du = ng.grad(u, { argnums: 1 })(q, x) as Tensor;
    return ng.add(ng.sum(ng.mul(du, du)), ng.square(u(q, x)));
  };
  const [value, g] = ng.valueAndGrad(loss)(p) as [Tensor, Params];
  const params = {
    w1: ng.sub(p.w1, ng.mul(g.w1, 0.1)),
    b1: ng.sub(p.b1, ng.mul(g.b1, 0.1)),
    w2: ng.sub(p.w2, ng.mul(g.w2, 0.1)),
  };
  return { params, loss: value };
}

function example(dtype: "float32" | "float64"): [Params, Tensor] {
  const [k1, k2, k3, k4] = ng.random.split(ng.random.key(7), 4);
  const p = {
    w1: ng.random.normal(k1!, [2, 5], { dtype }),
    b1: ng.random.normal(k2!, [5], { dtype }),
    w2: ng.random.normal(k3!, [5, 1], { dtype }),
  };
  return [p, ng.random.uniform(k4!, [4, 2], { dtype })];
}

describe("exportOnnx", () => {
  it.each(["float32", "float64"] as const)(
    "exports a training step with an inner gradient that runs on public ORT (%s)",
    async (dtype) => {
      const args = example(dtype);
      const ex = ng.exportOnnx(step, args);
      expect(ex.inputs).toEqual(["in[0].w1", "in[0].b1", "in[0].w2", "in[1]"]);
      expect(ex.outputs).toEqual(["out.params.w1", "out.params.b1", "out.params.w2", "out.loss"]);
      // The inner gradient was inlined: only registry primitives remain.
      expect(ex.ir.eqns.some((e) => e.prim.name.endsWith("Call"))).toBe(false);
      const sig = JSON.parse(JSON.stringify(ex.signature)) as ng.OnnxSignature;
      expect(sig.inputs.map((s) => [s.name, s.dtype, s.shape])).toEqual([
        ["in[0].w1", dtype, [2, 5]],
        ["in[0].b1", dtype, [5]],
        ["in[0].w2", dtype, [5, 1]],
        ["in[1]", dtype, [4, 2]],
      ]);

      const session = await ort.InferenceSession.create(ex.model);
      expect([...session.inputNames]).toEqual(ex.inputs);
      expect([...session.outputNames]).toEqual(ex.outputs);
      const leaves = ng.tree.leaves(args) as Tensor[];
      const feeds = Object.fromEntries(
        leaves.map((t, k) => [ex.inputs[k]!, new ort.Tensor(dtype, t.dataSync(), t.shape)]),
      );
      const res = await session.run(feeds);
      const got = ex.outputs.map((name) => {
        const r = res[name]!;
        return ng.array(Array.from(r.data as Float32Array), { dtype }).reshape([...r.dims]);
      });
      const want = ng.tree.leaves(step(...args)) as Tensor[];
      const [rtol, atol] = tolerances(dtype);
      expectClose(got, want, rtol * 10, atol * 10, "exported step");
      // The structure maps the outputs back to f's result.
      const back = ng.tree.unflatten<{ loss: Tensor }>(ex.outTree, got);
      expect(back.loss.shape).toEqual([]);
    },
  );

  it("names the equation that cannot be exported", () => {
    const w = ng.ones([3, 1, 1], { dtype: "float64" });
    const f = (x: Tensor) => ng.conv(x, w);
    expect(() => ng.exportOnnx(f, [ng.ones([1, 5, 1], { dtype: "float64" })])).toThrow(
      /exportOnnx.*equation 0 .*conv: no ONNX lowering.*float64/s,
    );
  });

  it("rejects bad arguments and unknown options", () => {
    expect(() => ng.exportOnnx(u as never, "x" as never)).toThrow(/exampleArgs: expected an array/);
    expect(() => ng.exportOnnx((x: Tensor) => x, [ng.ones([2])], { pases: {} } as never)).toThrow(
      /passes/,
    );
  });
});
