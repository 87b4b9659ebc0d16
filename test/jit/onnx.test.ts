// Registry-driven test of the ONNX lowering: every primitive in PRIMITIVES, on every case
// of its testSpec, in float32 and float64, jitted on the "onnxruntime" backend, equals eager
// evaluation — the primitive itself, its JVP and (differentiable ones) its transpose via
// vjp. The rows where ONNX Runtime's CPU provider has no kernel are listed in FALLBACKS:
// there the test checks that the interpreter ran the equation and the notes say why.
import { describe, expect, it } from "vitest";
import type { Tensor } from "../../src/core/tensor.js";
import { bind } from "../../src/core/trace.js";
import { isFloat, type DType } from "../../src/tensor/dtype.js";
import { PRIMITIVES } from "../../src/primitives/index.js";
import type { DefinedPrimitive } from "../../src/primitives/define.js";
import { jit } from "../../src/jit/index.js";
import "../../src/jit/onnx/index.js";
import { jvp } from "../../src/transforms/jvp.js";
import { vjp } from "../../src/transforms/vjp.js";
import { expectClose, specInputs, tolerances } from "./helpers.js";

const DTYPES: DType[] = ["float32", "float64"];

/** primitive:dtype[:case] rows that run on the interpreter because ORT's CPU provider lacks the kernel. */
const FALLBACKS = new Set([
  "atan2:float64",
  "conv:float64",
  "convBackInput:float64",
  "convBackKernel:float64",
  "erf:float64",
]);

function merge(xs: readonly Tensor[], idx: readonly number[], ys: readonly Tensor[]): Tensor[] {
  const out = xs.slice();
  idx.forEach((i, k) => (out[i] = ys[k]!));
  return out;
}

describe.each(PRIMITIVES.map((p) => [p.name, p as DefinedPrimitive<any>] as const))(
  "onnx lowering of %s",
  (name, prim) => {
    it("has an ONNX rule", () => {
      expect(typeof prim.onnx).toBe("function");
    });
    prim.testSpec.cases.forEach((c, k) => {
      it.each(DTYPES)(`case ${k} in %s: primitive, JVP and transpose agree with eager`, (dtype) => {
        const [rtol, atol] = tolerances(dtype);
        const xs = specInputs(c.inputs, 500 + k, dtype);
        const f = (...as: Tensor[]) => bind(prim, as, c.params);
        const jf = jit(f, { backend: "onnxruntime" });
        expectClose(jf(...xs), f(...xs), rtol, atol, "primitive");
        const { backend, notes } = jf.stats();
        const dt = xs.find((x) => isFloat(x.dtype))?.dtype ?? xs[0]!.dtype;
        if (FALLBACKS.has(`${name}:${dt}`) || FALLBACKS.has(`${name}:${dt}:case${k}`)) {
          expect(backend).toBe("interpreter");
          expect(notes.join("\n")).toContain(`${name}: no ONNX lowering`);
        } else {
          expect(backend, notes.join("\n")).toBe("onnxruntime");
        }

        const floatIdx = xs.flatMap((x, i) => (isFloat(x.dtype) ? [i] : []));
        if (floatIdx.length === 0) return;
        const fxs = floatIdx.map((i) => xs[i]!);
        const g = (...fs: Tensor[]) => f(...merge(xs, floatIdx, fs));
        const ts = specInputs(
          floatIdx.map((i) => ({ shape: [...xs[i]!.shape], dtype: xs[i]!.dtype })),
          700 + k,
          dtype,
        );
        const jvpOf = (ps: Tensor[], tans: Tensor[]) =>
          jvp(g, ps as any, tans as any) as unknown as [Tensor[], Tensor[]];
        const [eo, et] = jvpOf(fxs, ts);
        const jj = jit(jvpOf, { backend: "onnxruntime" });
        const [jo, jt] = jj(fxs, ts);
        expectClose(jo, eo, rtol, atol, "jvp primal");
        expectClose(jt, et, rtol, atol, "jvp tangent");
        if (jj.stats().backend !== "onnxruntime")
          expect(jj.stats().notes.length).toBeGreaterThan(0);

        if (prim.testSpec.nonDifferentiable) return;
        const outs = f(...xs);
        const cts = specInputs(
          outs.map((o) => ({ shape: [...o.shape], dtype: o.dtype })),
          900 + k,
          dtype,
        );
        const pullbackOf = (ps: Tensor[], us: Tensor[]) => {
          const [, pb] = vjp(g, ...(ps as [Tensor]));
          return pb(us as any) as unknown as Tensor[];
        };
        const jpb = jit(pullbackOf, { backend: "onnxruntime" });
        expectClose(jpb(fxs, cts), pullbackOf(fxs, cts), rtol, atol, "transpose (vjp)");
      });
    });
  },
);
