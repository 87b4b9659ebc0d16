// Registry-driven jit test: every primitive in PRIMITIVES, on every case of its testSpec,
// in float32 and float64, gives the same result jitted as eagerly — the primitive itself,
// its JVP (jit of jvp) and, for differentiable primitives, its transpose (jit of vjp, which
// stages a nested-derivative call that the inline pass expands). The check of one case is
// `checkPrimitiveCase` (helpers.ts), with the backend as a parameter; this file runs it on
// the built-in interpreter, and onnx.test.ts runs it on ONNX Runtime with that backend's
// fallback rows. A new backend adds its name here.
import { describe, expect, it } from "vitest";
import type { DType } from "../../src/tensor/dtype.js";
import { PRIMITIVES } from "../../src/primitives/index.js";
import type { DefinedPrimitive } from "../../src/primitives/define.js";
import { checkPrimitiveCase } from "./helpers.js";

const BACKENDS_UNDER_TEST: string[] = ["interpreter"];
const DTYPES: DType[] = ["float32", "float64"];

describe.each(BACKENDS_UNDER_TEST)("jit on backend %s", (backend) => {
  describe.each(PRIMITIVES.map((p) => [p.name, p as DefinedPrimitive<any>] as const))(
    "primitive %s",
    (_name, prim) => {
      prim.testSpec.cases.forEach((c, k) => {
        it.each(DTYPES)(`case ${k} in %s: primitive, JVP and transpose agree with eager`, (dtype) =>
          checkPrimitiveCase(prim, c, k, dtype, backend, {
            primitive: (jf) => expect(jf.stats().backend).toBe(backend),
          }),
        );
      });
    },
  );
});
