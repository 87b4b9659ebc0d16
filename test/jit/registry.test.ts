// Registry-driven jit test: every primitive in PRIMITIVES, on every case of its testSpec,
// in float32 and float64, gives the same result jitted as eagerly — the primitive itself,
// its JVP (jit of jvp) and, for differentiable primitives, its transpose (jit of vjp, which
// stages a nested-derivative call that the inline pass expands). The backend is a
// parameter: a backend's name in BACKENDS_UNDER_TEST runs the same table on it.
import { describe, expect, it } from "vitest";
import type { Tensor } from "../../src/core/tensor.js";
import { bind } from "../../src/core/trace.js";
import { isFloat, type DType } from "../../src/tensor/dtype.js";
import { PRIMITIVES } from "../../src/primitives/index.js";
import type { DefinedPrimitive } from "../../src/primitives/define.js";
import { jit } from "../../src/index.js";
import { BACKENDS } from "../../src/jit/backend.js";
import { isRegistryPrimitive } from "../../src/jit/passes.js";
import { jvp } from "../../src/transforms/jvp.js";
import { vjp } from "../../src/transforms/vjp.js";
import { expectClose, specInputs, tolerances } from "./helpers.js";

// Backends whose optional package is missing here are skipped.
const BACKENDS_UNDER_TEST: string[] = ["interpreter", "onnxruntime"].filter(
  (name) => BACKENDS.get(name)?.available() === true,
);
const DTYPES: DType[] = ["float32", "float64"];

function merge(xs: readonly Tensor[], idx: readonly number[], ys: readonly Tensor[]): Tensor[] {
  const out = xs.slice();
  idx.forEach((i, k) => (out[i] = ys[k]!));
  return out;
}

describe.each(BACKENDS_UNDER_TEST)("jit on backend %s", (backend) => {
  describe.each(PRIMITIVES.map((p) => [p.name, p as DefinedPrimitive<any>] as const))(
    "primitive %s",
    (_name, prim) => {
      const spec = prim.testSpec;
      spec.cases.forEach((c, k) => {
        it.each(DTYPES)(
          `case ${k} in %s: primitive, JVP and transpose agree with eager`,
          (dtype) => {
            const [rtol, atol] = tolerances(dtype);
            const xs = specInputs(c.inputs, 500 + k, dtype);
            const f = (...as: Tensor[]) => bind(prim, as, c.params);
            const jf = jit(f, { backend });
            expectClose(jf(...xs), f(...xs), rtol, atol, "primitive");
            // a backend may hand programs it cannot run to the interpreter (and say so in its notes)
            expect(jf.stats().backend).toMatch(backend === "interpreter" ? /^interpreter$/ : /./);

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
            const [jo, jt] = jit(jvpOf, { backend })(fxs, ts);
            expectClose(jo, eo, rtol, atol, "jvp primal");
            expectClose(jt, et, rtol, atol, "jvp tangent");

            if (spec.nonDifferentiable) return;
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
            const jpb = jit(pullbackOf, { backend });
            expectClose(jpb(fxs, cts), pullbackOf(fxs, cts), rtol, atol, "transpose (vjp)");
            const lowered = jpb.lower(fxs, cts).optimized;
            expect(lowered.eqns.filter((e) => !isRegistryPrimitive(e.prim))).toEqual([]);
          },
        );
      });
    },
  );
});
