/**
 * The W0 gradient as a hand-written ONNX graph: the baseline of what
 * ONNX Runtime itself does with the step when nothing is staged — Gemm forward, the
 * backward pass written out (Gemm with transposed operands, tanh' = 1 − tanh²), parameters
 * and data fed as inputs on every call — run through the same synchronous native binding
 * and session options as `ng.jit` (runtime.ts), so the jitted column can be compared with it
 * in the same run.
 */
import { ortRuntime } from "../../src/jit/onnx/runtime.js";
import { encodeModel, type NodeDef } from "../../src/jit/onnx/proto.js";
import { ONNX_TYPE } from "../../src/primitives/onnx.js";
import { concat, type Problem, type Run } from "./common.js";

/** The parameter gradient of the W0 loss mean((u(x) − y)²) on ORT with `threads` intra-op threads. */
export function handOnnxW0Run(p: Problem, threads: number): Run {
  if (p.workload !== "W0")
    throw new Error(`hand-written ONNX: only W0 is written, got ${p.workload}`);
  const loaded = ortRuntime();
  if (!("runtime" in loaded)) throw new Error(loaded.error);
  const rt = loaded.runtime;
  const nodes: NodeDef[] = [];
  const node = (opType: string, inputs: string[], output: string, attrs = {}) =>
    nodes.push({ opType, inputs, outputs: [output], name: `n${nodes.length}`, attrs });
  // forward: z = x W + b, h = tanh z, u = h2 W3 + b3
  node("Gemm", ["x", "W1", "b1"], "z1");
  node("Tanh", ["z1"], "h1");
  node("Gemm", ["h1", "W2", "b2"], "z2");
  node("Tanh", ["z2"], "h2");
  node("Gemm", ["h2", "W3", "b3"], "u");
  // backward: ∂L/∂u = 2 (u − y) / N
  node("Sub", ["u", "y"], "r");
  node("Mul", ["r", "twoOverN"], "gu");
  node("Gemm", ["h2", "gu"], "dW3", { transA: 1 });
  node("ReduceSum", ["gu", "axis0"], "db3", { keepdims: 0 });
  node("Gemm", ["gu", "W3"], "gh2", { transB: 1 });
  // tanh'(z) = 1 − h²
  node("Mul", ["h2", "h2"], "h2sq");
  node("Sub", ["one", "h2sq"], "dh2");
  node("Mul", ["gh2", "dh2"], "gz2");
  node("Gemm", ["h1", "gz2"], "dW2", { transA: 1 });
  node("ReduceSum", ["gz2", "axis0"], "db2", { keepdims: 0 });
  node("Gemm", ["gz2", "W2"], "gh1", { transB: 1 });
  node("Mul", ["h1", "h1"], "h1sq");
  node("Sub", ["one", "h1sq"], "dh1");
  node("Mul", ["gh1", "dh1"], "gz1");
  node("Gemm", ["x", "gz1"], "dW1", { transA: 1 });
  node("ReduceSum", ["gz1", "axis0"], "db1", { keepdims: 0 });
  const names = ["W1", "b1", "W2", "b2", "W3", "b3"];
  const f32 = ONNX_TYPE.float32;
  const model = encodeModel({
    name: "w0_grad",
    nodes,
    initializers: [
      { name: "twoOverN", dtype: "float32", shape: [], values: [2 / p.N] },
      { name: "one", dtype: "float32", shape: [], values: [1] },
      { name: "axis0", dtype: "int64", shape: [1], values: [0] },
    ],
    inputs: [
      { name: "x", elemType: f32, shape: p.x.shape },
      { name: "y", elemType: f32, shape: p.y!.shape },
      ...names.map((n, i) => ({ name: n, elemType: f32, shape: p.params[i]!.shape })),
    ],
    outputs: names.map((n, i) => ({ name: `d${n}`, elemType: f32, shape: p.params[i]!.shape })),
  });
  const session = rt.createSession(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  });
  const data = [p.x, p.y!, ...p.params].map((d) => ({
    v: Float32Array.from(d.data),
    shape: d.shape,
  }));
  const fetches = Object.fromEntries(names.map((n) => [`d${n}`, null]));
  const inputNames = ["x", "y", ...names];
  return () => {
    const feeds: Record<string, unknown> = {};
    data.forEach((d, i) => (feeds[inputNames[i]!] = rt.tensor("float32", d.v, d.shape)));
    const res = session.run(feeds, fetches, {});
    return concat(names.map((n) => res[`d${n}`]!.data as Float32Array));
  };
}
