// The onnxruntime backend around the lowering: synchronous runs that compose with the
// transforms, partitions between ORT and the interpreter with notes that say why, the
// case where the optional package cannot be loaded, and the protobuf encoder's edge cases
// (negative int64s, scalars, bool and int32 data) checked by round trips through ORT.
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/core/tensor.js";
import { compileOnnx, onnxBackend } from "../../src/jit/onnx/index.js";
import { setOrtLoader } from "../../src/jit/onnx/runtime.js";
import { expectClose, tolerances } from "./helpers.js";

afterEach(() => setOrtLoader(null));

const x64 = () => ng.random.normal(ng.random.key(3), [2, 6, 2], { dtype: "float64" });

describe("onnxruntime backend", () => {
  it("runs synchronously and composes with grad, jvp and vmap", () => {
    const f = (x: Tensor) => ng.sum(ng.tanh(ng.matmul(x, ng.transpose(x))));
    const jf = ng.jit(f, { backend: "onnxruntime" });
    const x = ng.random.normal(ng.random.key(1), [3, 4]);
    const y = jf(x);
    expect(y).toBeInstanceOf(ng.Tensor);
    expect(jf.stats().backend).toBe("onnxruntime");
    const [rtol, atol] = tolerances("float32");
    expectClose([y], [f(x)], rtol, atol, "value");
    expectClose([ng.grad(jf)(x) as Tensor], [ng.grad(f)(x) as Tensor], rtol, atol, "grad(jit(f))");
    const hv = (g: typeof f) => ng.hvp(g, x, ng.onesLike(x)) as Tensor;
    expectClose([hv(jf)], [hv(f)], 1e-4, 1e-5, "hvp(jit(f))");
    const batched = ng.vmap(jf)(ng.stack([x, ng.mul(x, 2)]));
    expectClose([batched], [ng.stack([f(x), f(ng.mul(x, 2))])], rtol, atol, "vmap(jit(f))");
  });

  it("partitions around equations ORT has no kernel for, and says so", () => {
    const w = ng.random.normal(ng.random.key(2), [3, 2, 2], { dtype: "float64" });
    // tanh and sum run on ORT; conv in float64 has no ORT CPU kernel.
    const f = (x: Tensor) => ng.sum(ng.tanh(ng.conv(ng.tanh(x), w)));
    const jf = ng.jit(f, { backend: "onnxruntime" });
    const x = x64();
    expectClose([jf(x)], [f(x)], 1e-12, 1e-12, "partitioned");
    const { backend, notes } = jf.stats();
    expect(backend).toBe("onnxruntime+interpreter");
    expect(notes.join("\n")).toMatch(/conv: no ONNX lowering: .*no Conv kernel for float64/);
    expect(notes.join("\n")).toMatch(
      /partitioned into 3 segments \(2 onnxruntime, 1 interpreter\)/,
    );
  });

  it("keeps float64 in float64 (no silent precision change)", () => {
    const f = (x: Tensor) => ng.exp(ng.mul(x, 1 + 2 ** -40));
    const x = ng.array([1, 2, 3], { dtype: "float64" });
    const y = ng.jit(f, { backend: "onnxruntime" })(x);
    expect(y.dtype).toBe("float64");
    // A float32 computation could not tell 1 + 2^-40 from 1.
    expect(Array.from(y.dataSync())).toEqual(Array.from(f(x).dataSync()));
    expect(y.toArray()).not.toEqual(ng.exp(x).toArray());
  });

  it("feeds strided, flipped and broadcast views as contiguous copies", () => {
    const f = (a: Tensor, b: Tensor, c: Tensor) => ng.add(ng.add(a, b), c);
    const base = ng.reshape(ng.arange(6), [2, 3]);
    const args = [
      ng.transpose(ng.reshape(ng.arange(6), [3, 2])),
      ng.flip(base, 1),
      ng.broadcastTo(ng.array([1, 2, 3]), [2, 3]),
    ] as const;
    const jf = ng.jit(f, { backend: "onnxruntime" });
    expectClose([jf(...args)], [f(...args)], 0, 0, "views");
    expect(jf.stats().backend).toBe("onnxruntime");
  });

  it("accepts intra-op threads", () => {
    const f = (x: Tensor) => ng.matmul(x, x);
    const x = ng.random.normal(ng.random.key(4), [8, 8]);
    const [rtol, atol] = tolerances("float32");
    expectClose(
      [ng.jit(f, { backend: "onnxruntime", threads: 2 })(x)],
      [f(x)],
      rtol,
      atol,
      "2 threads",
    );
  });

  it("round-trips encoder edge cases: negative int64s, scalars, int32 and bool data", () => {
    const f = (x: Tensor, i: Tensor, m: Tensor) => [
      ng.slice(x, [{ start: -1, step: -2 }]),
      ng.sum(x),
      ng.take(x, i),
      ng.where(m, x, ng.neg(x)),
      ng.logicalNot(m),
      ng.mul(i, -3),
    ];
    const args = [
      ng.array([1.5, -2, 3, 4, 5.25]),
      ng.array([-1, 0, 4], { dtype: "int32" }),
      ng.array([true, false, true, true, false]),
    ] as const;
    const jf = ng.jit(f, { backend: "onnxruntime" });
    const got = jf(...args);
    expect(jf.stats().backend).toBe("onnxruntime");
    expectClose(got, f(...args), 0, 0, "edge cases");
  });
});

/** int32 and bool rows (the registry test draws floats) and numerically delicate inputs. */
const i32 = () =>
  ng.array(
    [
      [3, -1, 2],
      [0, 5, -4],
    ],
    { dtype: "int32" },
  );
const bools = () =>
  ng.array([
    [true, false, true],
    [false, false, true],
  ]);
const idx = () => ng.array([1, -1], { dtype: "int32" });
const f64 = (v: number[]) => ng.array(v, { dtype: "float64" });
const DTYPE_ROWS: [string, (...a: Tensor[]) => Tensor, () => Tensor[]][] = [
  ["mul int32", (x) => ng.mul(x, x), () => [i32()]],
  ["neg bool", (x) => ng.neg(x), () => [bools()]],
  ["sign int32", (x) => ng.sign(x), () => [i32()]],
  ["floor int32", (x) => ng.floor(x), () => [i32()]],
  ["exp int32", (x) => ng.exp(x), () => [i32()]],
  ["mod int32", (x) => ng.mod(x, -3), () => [i32()]],
  ["max bool", (x) => ng.max(x, 1), () => [bools()]],
  ["sum bool", (x) => ng.sum(x, 0), () => [bools()]],
  ["prod int32", (x) => ng.prod(x, 1), () => [i32()]],
  ["argmax bool", (x) => ng.argmax(x), () => [bools()]],
  ["matmul int32", (x) => ng.matmul(x, ng.transpose(x)), () => [i32()]],
  ["less bool", (x) => ng.less(x, ng.logicalNot(x)), () => [bools()]],
  ["where bool", (x) => ng.where(x, x, ng.logicalNot(x)), () => [bools()]],
  ["pad bool", (x) => ng.pad(x, 1), () => [bools()]],
  ["take bool", (x) => ng.take(x, idx(), 1), () => [bools()]],
  ["flip int32", (x) => ng.flip(x, 1), () => [i32()]],
  ["cast float32 to int32", (x) => ng.cast(x, "int32"), () => [ng.array([-1.5, 2.5, 0.2])]],
  ["cast float32 to bool", (x) => ng.cast(x, "bool"), () => [ng.array([0, 2, -0, NaN])]],
  ["log1p tiny", (x) => ng.log1p(x), () => [f64([1e-10, -1e-12, 1e-300, 0.3, 5])]],
  ["expm1 tiny", (x) => ng.expm1(x), () => [f64([1e-10, -1e-12, 1e-300, 0.3, 5, 800])]],
  [
    "atan2 on the axes",
    (y, x) => ng.atan2(y, x),
    () => [ng.array([0, 1, -1, 0, 0, 1, -1]), ng.array([0, 0, 0, -1, 1, -1, -1])],
  ],
  ["mod by a negative float", (x) => ng.mod(x, -0.7), () => [ng.array([1.5, -1.5, 0, 1.4])]],
  ["round half to even", (x) => ng.round(x), () => [ng.array([0.5, 1.5, 2.5, -0.5, -2.5])]],
];

describe("onnxruntime backend beyond the float test cases", () => {
  it.each(DTYPE_ROWS)("%s runs on ORT and equals eager", (_name, f, make) => {
    const args = make();
    const jf = ng.jit(f, { backend: "onnxruntime" });
    // 2 ulp in float64: Kahan's expm1/log1p forms are not correctly rounded.
    expectClose([jf(...args)], [f(...args)], 5e-16, 0, "value");
    expect(jf.stats().backend, jf.stats().notes.join("\n")).toBe("onnxruntime");
  });
});

describe("without the onnxruntime package", () => {
  const missing = () => {
    throw new Error("Cannot find package 'onnxruntime-node' imported from nestgrad");
  };

  it("reports the backend unavailable and jit falls back to the interpreter", () => {
    setOrtLoader(missing);
    expect(onnxBackend.available()).toBe(false);
    const f = (x: Tensor) => ng.sum(ng.sin(x));
    const jf = ng.jit(f);
    const x = ng.array([0.5, 1]);
    expect(jf(x).item()).toBeCloseTo(f(x).item(), 6);
    expect(jf.stats().backend).toBe("interpreter");
    // The note carries the loader's own reason, not just "unavailable".
    expect(jf.stats().notes.join("\n")).toMatch(
      /onnxruntime is not available here \(Cannot find package 'onnxruntime-node'.*\); the interpreter runs the program/,
    );
    expect(onnxBackend.unavailableReason?.()).toMatch(/Cannot find package 'onnxruntime-node'/);
    expect(() => ng.jit(f, { backend: "onnxruntime" })(x)).toThrow(
      /not available here \(Cannot find package 'onnxruntime-node'.*onnxruntime-node/,
    );
  });

  it("compiles on the interpreter with the loader's reason in the notes", () => {
    setOrtLoader(missing);
    const ir = ng.makeIR((x: Tensor) => ng.exp(x))(ng.array([1, 2]));
    const exec = compileOnnx(ir, { threads: 1 });
    expect(exec.backend).toBe("interpreter");
    expect(exec.notes.join("\n")).toMatch(
      /onnxruntime unavailable \(Cannot find package 'onnxruntime-node'/,
    );
    expect(Array.from(exec.run([ng.nd.fromNested([0, 1], "float32")])[0]!.flat())).toEqual([
      1,
      Math.fround(Math.E),
    ]);
  });

  it("still exports ONNX (export needs no runtime)", () => {
    setOrtLoader(missing);
    const ex = ng.exportOnnx((x: Tensor) => ng.tanh(x), [ng.ones([2])]);
    expect(ex.model.length).toBeGreaterThan(20);
    expect(ex.inputs).toEqual(["in[0]"]);
  });
});
