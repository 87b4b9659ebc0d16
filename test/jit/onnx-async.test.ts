// The asynchronous jitted call (`jitted.async`): programs run through the public,
// promise-based InferenceSession API of onnxruntime-node and of onnxruntime-web (its
// WebAssembly backend runs in Node too) and must equal eager evaluation, partitions
// included; the call refuses transforms with an error that says what to call instead, and
// a package that cannot be loaded is an error (forced backend) or an interpreter fallback
// whose notes carry the loader's reason (backend "auto").
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/core/tensor.js";
import { setAsyncOrtLoader, type OrtPackage } from "../../src/jit/onnx/runtime-async.js";
import { expectClose, tolerances } from "./helpers.js";

afterEach(() => {
  setAsyncOrtLoader("onnxruntime-web", null);
  setAsyncOrtLoader("onnxruntime-node", null);
});

type Params = { w1: Tensor; b1: Tensor; w2: Tensor };

/** u(x) = tanh(x W1 + b1) W2 per point, x: [n, 1]. */
const u = (p: Params, x: Tensor) =>
  ng.reshape(ng.matmul(ng.tanh(ng.add(ng.matmul(x, p.w1), p.b1)), p.w2), [-1]);
/** A PINN step: the loss holds du/dx (an inner derivative), differentiated by an outer grad. */
const trainStep = (p: Params, x: Tensor) => {
  const loss = (q: Params) => {
    const dudx = ng.reshape(ng.grad((z: Tensor) => ng.sum(u(q, z)))(x) as Tensor, [-1]);
    return ng.mean(ng.square(ng.sub(dudx, ng.cos(ng.reshape(x, [-1])))));
  };
  const [value, g] = ng.valueAndGrad(loss)(p) as [Tensor, Params];
  const upd = (a: Tensor, b: Tensor) => ng.sub(a, ng.mul(b, 0.1));
  return { params: { w1: upd(p.w1, g.w1), b1: upd(p.b1, g.b1), w2: upd(p.w2, g.w2) }, value };
};
const params = (dtype: "float32" | "float64"): Params => {
  const [k1, k2, k3] = ng.random.split(ng.random.key(7), 3);
  return {
    w1: ng.random.normal(k1!, [1, 8], { dtype }),
    b1: ng.random.normal(k2!, [8], { dtype }),
    w2: ng.random.normal(k3!, [8, 1], { dtype }),
  };
};

/** Programs with their arguments; each runs asynchronously and eagerly. */
const PROGRAMS: [string, (...a: any[]) => unknown, () => unknown[], "float32" | "float64"][] = [
  [
    "matmul tanh sum",
    (x: Tensor) => ng.sum(ng.tanh(ng.matmul(x, ng.transpose(x)))),
    () => [ng.random.normal(ng.random.key(1), [3, 4])],
    "float32",
  ],
  [
    "several outputs, a pytree and int32/bool",
    (x: Tensor, i: Tensor) => ({ y: ng.exp(ng.take(x, i)), m: ng.greater(x, 0), k: ng.mul(i, 2) }),
    () => [ng.array([0.5, -1, 2, -0.25]), ng.array([3, 0, 1], { dtype: "int32" })],
    "float32",
  ],
  [
    "nested-derivative training step (float32)",
    trainStep,
    () => [params("float32"), ng.reshape(ng.linspace(0, 1, 16), [16, 1])],
    "float32",
  ],
  [
    "nested-derivative training step (float64)",
    trainStep,
    () => [params("float64"), ng.reshape(ng.linspace(0, 1, 16, { dtype: "float64" }), [16, 1])],
    "float64",
  ],
];

const leaves = (t: unknown) => ng.tree.flatten(t)[0] as Tensor[];

describe.each<OrtPackage>(["onnxruntime-node", "onnxruntime-web"])("jitted.async on %s", (pkg) => {
  it.each(PROGRAMS)("%s equals eager", async (_name, f, args, dtype) => {
    const jf = ng.jit(f, { backend: "onnxruntime", ortPackage: pkg });
    const a = args();
    const got = await jf.async(...a);
    const [rtol, atol] = tolerances(dtype);
    expectClose(leaves(got), leaves(f(...a)), rtol * 10, atol * 10, "async vs eager");
    expect(jf.stats().backend).toBe("onnxruntime");
    expect(jf.stats().notes.join("\n")).toContain(`${pkg} `);
    // The same signature again: the cached program, no new trace or compilation.
    await jf.async(...args());
    expect(jf.stats()).toMatchObject({ traces: 1, hits: 1, compiles: 1 });
  });

  it("partitions around what ORT cannot run, and says so", async () => {
    const w = ng.random.normal(ng.random.key(2), [3, 2, 2], { dtype: "float64" });
    const f = (x: Tensor) => ng.sum(ng.tanh(ng.conv(ng.tanh(x), w)));
    const x = ng.random.normal(ng.random.key(3), [2, 6, 2], { dtype: "float64" });
    const jf = ng.jit(f, { backend: "onnxruntime", ortPackage: pkg });
    expectClose([await jf.async(x)], [f(x)], 1e-12, 1e-12, "partitioned");
    expect(jf.stats().backend).toBe("onnxruntime+interpreter");
    expect(jf.stats().notes.join("\n")).toMatch(/partitioned into 3 segments/);
  });

  it("serialises overlapping calls of one program", async () => {
    const f = (x: Tensor) => ng.mul(ng.sin(x), x);
    const jf = ng.jit(f, { backend: "onnxruntime", ortPackage: pkg });
    const xs = [1, 2, 3, 4].map((k) => ng.mul(ng.arange(5), k));
    const got = await Promise.all(xs.map((x) => jf.async(x)));
    got.forEach((y, k) => expectClose([y], [f(xs[k]!)], 1e-6, 1e-6, `call ${k}`));
  });
});

describe("jitted.async", () => {
  it("runs the interpreter backend too, and shares the cache with the synchronous call", async () => {
    const f = (x: Tensor) => ng.sum(ng.square(x));
    const jf = ng.jit(f, { backend: "interpreter" });
    const x = ng.array([1, 2, 3]);
    expect(jf(x).item()).toBe(14);
    expect((await jf.async(x)).item()).toBe(14);
    expect(jf.stats()).toMatchObject({ traces: 1, hits: 1, backend: "interpreter" });
  });

  it("refuses transforms and staging, saying to call the synchronous function", () => {
    const jf = ng.jit((x: Tensor) => ng.sum(ng.sin(x)));
    const x = ng.array([0.5, 1]);
    const msg =
      /f\.async\(\.\.\.\) was called under a transform.*Call the synchronous jitted function/;
    expect(() => ng.grad((y: Tensor) => jf.async(y) as never)(x)).toThrow(msg);
    expect(() => ng.vmap((y: Tensor) => jf.async(y) as never)(ng.stack([x, x]))).toThrow(msg);
    expect(() => ng.jit((y: Tensor) => jf.async(y) as never)(x)).toThrow(
      /while a program is being staged/,
    );
    // The synchronous call composes.
    const g = ng.grad(jf)(x) as Tensor;
    expectClose([g], [ng.cos(x)], 1e-6, 1e-7, "grad(jit(f))");
  });

  it("names the missing package: an error when forced, the reason in the notes under auto", async () => {
    setAsyncOrtLoader("onnxruntime-web", () => {
      throw new Error("Cannot find package 'onnxruntime-web'");
    });
    const f = (x: Tensor) => ng.exp(x);
    const x = ng.array([0, 1]);
    const forced = ng.jit(f, { backend: "onnxruntime", ortPackage: "onnxruntime-web" });
    await expect(forced.async(x)).rejects.toThrow(
      /jit \(async\): backend "onnxruntime" could not compile the program: .*onnxruntime-web could not be loaded: Cannot find package 'onnxruntime-web'.*backend: "interpreter"/,
    );
    const auto = ng.jit(f, { ortPackage: "onnxruntime-web" });
    expectClose([await auto.async(x)], [f(x)], 0, 0, "auto falls back");
    expect(auto.stats().backend).toBe("interpreter");
    expect(auto.stats().notes.join("\n")).toMatch(
      /backend auto: onnxruntime could not run the program asynchronously \(.*Cannot find package 'onnxruntime-web'.*\); the interpreter runs it/,
    );
  });

  it("counts a runtime that cannot start (no WebAssembly binary) as unavailable", async () => {
    const ortWeb = await import("onnxruntime-web");
    setAsyncOrtLoader("onnxruntime-web", () => ({
      ...ortWeb,
      InferenceSession: {
        create: () => Promise.reject(new Error("failed to fetch ort-wasm-simd-threaded.jsep.wasm")),
      },
    }));
    const f = (x: Tensor) => ng.exp(x);
    const forced = ng.jit(f, { backend: "onnxruntime", ortPackage: "onnxruntime-web" });
    await expect(forced.async(ng.array([1]))).rejects.toThrow(
      /onnxruntime-web could not be started: failed to fetch ort-wasm-simd-threaded\.jsep\.wasm/,
    );
  });

  it("takes a module handed over with setOnnxRuntimeWeb", async () => {
    const ortWeb = await import("onnxruntime-web");
    ng.setOnnxRuntimeWeb(ortWeb);
    const f = (x: Tensor) => ng.mul(x, 3);
    const jf = ng.jit(f, { backend: "onnxruntime", ortPackage: "onnxruntime-web" });
    expect(Array.from((await jf.async(ng.array([1, 2]))).dataSync())).toEqual([3, 6]);
    expect(() => ng.setOnnxRuntimeWeb(3 as never)).toThrow(/expected the onnxruntime-web module/);
  });

  it("validates its options", () => {
    expect(() => ng.jit((x: Tensor) => x, { ortPackage: "onnxruntime-gpu" as never })).toThrow(
      /options\.ortPackage must be one of "onnxruntime-node", "onnxruntime-web", got/,
    );
    expect(() => ng.jit((x: Tensor) => x, { executionProviders: "wasm" as never })).toThrow(
      /options\.executionProviders must be an array/,
    );
  });

  it("drops webgpu where navigator.gpu does not exist, and says so", async () => {
    const jf = ng.jit((x: Tensor) => ng.neg(x), {
      backend: "onnxruntime",
      ortPackage: "onnxruntime-web",
      executionProviders: ["webgpu", "wasm"],
    });
    expect(Array.from((await jf.async(ng.array([1, -2]))).dataSync())).toEqual([-1, 2]);
    expect(jf.stats().notes.join("\n")).toContain("webgpu dropped (navigator.gpu does not exist");
  });
});
