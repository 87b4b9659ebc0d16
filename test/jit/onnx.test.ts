// Registry-driven test of the ONNX lowering: every primitive in PRIMITIVES, on every case
// of its testSpec, in float32 and float64, jitted on the "onnxruntime" backend, equals eager
// evaluation — the primitive itself, its JVP and (differentiable ones) its transpose via
// vjp. The rows where ONNX Runtime's CPU provider has no kernel are listed in FALLBACKS:
// there the test checks that the interpreter ran the equation and the notes say why.
import { describe, expect, it } from "vitest";
import { isFloat, type DType } from "../../src/tensor/dtype.js";
import { PRIMITIVES } from "../../src/primitives/index.js";
import type { DefinedPrimitive } from "../../src/primitives/define.js";
import "../../src/jit/onnx/index.js";
import { checkPrimitiveCase } from "./helpers.js";

const DTYPES: DType[] = ["float32", "float64"];

/** primitive:dtype[:case] rows that run on the interpreter because ORT's CPU provider lacks the kernel. */
const FALLBACKS = new Set([
  "atan2:float64",
  "conv:float64",
  "convBackInput:float64",
  "convBackKernel:float64",
  "erf:float64",
]);

describe.each(PRIMITIVES.map((p) => [p.name, p as DefinedPrimitive<any>] as const))(
  "onnx lowering of %s",
  (name, prim) => {
    it("has an ONNX rule", () => {
      expect(typeof prim.onnx).toBe("function");
    });
    prim.testSpec.cases.forEach((c, k) => {
      it.each(DTYPES)(`case ${k} in %s: primitive, JVP and transpose agree with eager`, (dtype) =>
        checkPrimitiveCase(prim, c, k, dtype, "onnxruntime", {
          primitive: (jf, xs) => {
            const { backend, notes } = jf.stats();
            const dt = xs.find((x) => isFloat(x.dtype))?.dtype ?? xs[0]!.dtype;
            if (FALLBACKS.has(`${name}:${dt}`) || FALLBACKS.has(`${name}:${dt}:case${k}`)) {
              expect(backend).toBe("interpreter");
              expect(notes.join("\n")).toContain(`${name}: no ONNX lowering`);
            } else {
              expect(backend, notes.join("\n")).toBe("onnxruntime");
            }
          },
          jvp: (jj) => {
            if (jj.stats().backend !== "onnxruntime")
              expect(jj.stats().notes.length).toBeGreaterThan(0);
          },
        }),
      );
    });
  },
);
