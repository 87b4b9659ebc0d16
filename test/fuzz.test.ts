// The differential fuzzer's time-boxed run (the long run is `npm run fuzz`): random
// programs over the primitive registry agree across jvp, vjp, grad, grad∘grad under every
// nested-switching setting, vmap and staged evaluation, and with finite differences. Also
// checks that the fuzzer catches a wrong JVP, transpose or batching rule.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { negP } from "../src/primitives/neg.js";
import { sinP } from "../src/primitives/sin.js";
import { mul } from "../src/primitives/mul.js";
import type { Tensor } from "../src/core/tensor.js";
import {
  checkProgram,
  describeProgram,
  fuzzProperty,
  KINKS,
  Mismatch,
  OPS,
  type ProgramSpec,
} from "./fuzz/programs.js";
import { PRIMITIVES } from "../src/primitives/index.js";

/** x0 ↦ op(x0) for a named op of the table, on a float64 vector. */
function oneStep(name: string, shape = [3]): ProgramSpec {
  const op = OPS.findIndex((o) => o.name === name);
  expect(op).toBeGreaterThanOrEqual(0);
  return {
    inputs: [{ shape, dtype: "float64", axis: 0 }],
    steps: [{ op, args: [0, 0, 0], k: [0, 0, 0, 0] }],
    outputs: 1,
    batch: 2,
    seed: 1,
  };
}

/** Runs fn with one rule of a primitive replaced, restoring it afterwards. */
function withRule<T extends object, K extends keyof T>(obj: T, key: K, rule: T[K], fn: () => void) {
  const saved = obj[key];
  (obj as Record<K, T[K]>)[key] = rule;
  try {
    fn();
  } finally {
    (obj as Record<K, T[K]>)[key] = saved;
  }
}

describe("differential fuzzer", () => {
  it("random programs agree across modes, vmap, staging and finite differences", () => {
    // Well under a second per program on a small machine; `npm run fuzz` explores further.
    fc.assert(fuzzProperty({ maxSteps: 4 }), { numRuns: 15 });
  });

  it("passes a correct one-step program and runs the finite-difference checks on it", () => {
    const r = checkProgram(oneStep("sin"));
    expect(r.fd).toBe(true);
    expect(r.checks).toBeGreaterThan(5);
  });

  it("feeds int32 inputs to ops as indices and batches them under vmap", () => {
    const spec = oneStep("takeDynamic");
    spec.inputs.push({ shape: [2, 2], dtype: "int32", axis: 1 });
    // operands counted back from the newest value: x0 is the data, x1 the indices
    spec.steps[0]!.args = [1, 0, 0];
    expect(describeProgram(spec)).toMatch(/v2 = takeDynamic\(x0, x1\) .* float64\[4\]/);
    expect(checkProgram(spec).fd).toBe(true);
  });

  it("catches a JVP rule that is off by 0.1%", () => {
    const jvp = sinP.jvp;
    withRule(
      sinP,
      "jvp",
      (ps, ts, p) => {
        const [ys, tys] = jvp(ps, ts, p);
        return [ys, tys.map((t) => t && mul(t, 1.001))];
      },
      () => expect(() => checkProgram(oneStep("sin"))).toThrow(/finite differences/),
    );
  });

  it("catches a wrong transpose rule (the dot-product test)", () => {
    const neg = negP as unknown as { transpose: (...a: unknown[]) => (Tensor | null)[] };
    const transpose = neg.transpose;
    withRule(
      neg,
      "transpose",
      (...a: unknown[]) => transpose(...a).map((t) => t && mul(t, 2)),
      () => expect(() => checkProgram(oneStep("neg"))).toThrow(Mismatch),
    );
  });

  it("catches a wrong batching rule (vmap against a loop)", () => {
    const batch = sinP.batch!;
    withRule(
      sinP,
      "batch",
      (args, dims, p, n) => {
        const [ys, ds] = batch(args, dims, p, n);
        return [ys.map((y) => mul(y, 2)), ds];
      },
      () => expect(() => checkProgram(oneStep("sin"))).toThrow(/vmap\(f\) vs loop/),
    );
  });

  it("lists a failing program with its shapes and IR", () => {
    const jvp = sinP.jvp;
    withRule(
      sinP,
      "jvp",
      (ps, ts, p) => {
        const [ys, tys] = jvp(ps, ts, p);
        return [ys, tys.map((t) => t && mul(t, 2))];
      },
      () => expect(() => checkProgram(oneStep("sin"))).toThrow(/x0: float64\[3\][\s\S]*IR:/),
    );
    expect(describeProgram(oneStep("sin"))).toMatch(/v1 = sin\(x0\) k=\[0,0,0,0\] -> float64\[3\]/);
  });

  it("has a kink rule for every registered primitive", () => {
    expect(PRIMITIVES.filter((p) => !(p.name in KINKS)).map((p) => p.name)).toEqual([]);
  });
});
