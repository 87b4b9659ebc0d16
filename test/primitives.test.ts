// Registry-driven derivative tests: every registered
// primitive is checked against float64 central finite differences, to the order its
// testSpec names (2 by default), in forward and reverse mode and their mixes; its shape
// rule is checked against its impl; and every primitive file is enrolled in the registry.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { PRIMITIVES } from "../src/primitives/index.js";
import { bind } from "../src/core/trace.js";
import type { Tensor } from "../src/core/tensor.js";
import { specInputs } from "./spec-inputs.js";
import { checkGrads } from "../src/testing/index.js";
import { jvp } from "../src/transforms/jvp.js";
import { makeIR } from "../src/transforms/make_ir.js";
import type { DefinedPrimitive } from "../src/primitives/define.js";

describe("primitive registry", () => {
  it("enrols every primitive defined in src/primitives", async () => {
    const dir = fileURLToPath(new URL("../src/primitives/", import.meta.url));
    const registered = new Set<unknown>(PRIMITIVES);
    const missing: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const mod = (await import(`../src/primitives/${file.slice(0, -3)}.ts`)) as Record<
        string,
        unknown
      >;
      for (const [name, value] of Object.entries(mod)) {
        const isPrim =
          value !== null &&
          typeof value === "object" &&
          "impl" in value &&
          "jvp" in value &&
          "testSpec" in value;
        if (isPrim && !registered.has(value)) missing.push(`${file}:${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("has unique names", () => {
    const names = PRIMITIVES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe.each(PRIMITIVES.map((p) => [p.name, p as DefinedPrimitive<any>] as const))(
  "primitive %s",
  (_name, prim) => {
    const spec = prim.testSpec;
    it("has test cases", () => {
      expect(spec.cases.length).toBeGreaterThan(0);
    });
    spec.cases.forEach((c, k) => {
      const f = (...xs: Tensor[]) => bind(prim, xs, c.params);
      it(`case ${k}: shape rule agrees with impl and staging typechecks`, () => {
        const xs = specInputs(c.inputs, 100 + k, "float64");
        const outs = f(...xs);
        const avals = prim.abstractEval(
          xs.map((x) => x.aval),
          c.params,
        );
        expect(outs.map((o) => o.aval.toString())).toEqual(avals.map((a) => a.toString()));
        const ir = makeIR(f)(...xs);
        expect(ir.eqns.length).toBe(1);
      });
      if (spec.nonDifferentiable) {
        it(`case ${k}: has zero tangents`, () => {
          const xs = specInputs(c.inputs, 200 + k, "float64");
          const [, touts] = jvp(f, xs, xs);
          for (const t of touts as Tensor[]) {
            expect(Array.from(t.dataSync()).every((v) => v === 0)).toBe(true);
          }
        });
      } else {
        it(`case ${k}: derivatives match finite differences to order ${spec.order ?? 2}, fwd and rev`, () => {
          const xs = specInputs(c.inputs, 300 + k, "float64");
          expect(() =>
            checkGrads(f, xs, { order: spec.order ?? 2, rtol: spec.rtol ?? 1e-5 }),
          ).not.toThrow();
        });
      }
    });
  },
);
