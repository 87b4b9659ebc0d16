// Errors of ng.jit name jit and the argument, and say what was expected and what arrived.
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/core/tensor.js";
import { BACKENDS, registerBackend } from "../../src/jit/backend.js";

const x = ng.array([1, 2, 3]);
const sinSum = (t: Tensor) => ng.sum(ng.sin(t));

afterEach(() => BACKENDS.delete("unavailable-test-backend"));

describe("jit errors", () => {
  it("f must be a function", () => {
    expect(() => ng.jit(3 as any)).toThrow(/^jit: f must be a function, got number 3/);
  });

  it("unknown and invalid options", () => {
    expect(() => ng.jit(sinSum, { cachesize: 3 } as any)).toThrow(
      /jit: unknown option "cachesize" in options; did you mean "cacheSize"\?/,
    );
    expect(() => ng.jit(sinSum, { passes: { csee: false } } as any)).toThrow(
      /jit: unknown option "csee" in options.passes; did you mean "cse"\?/,
    );
    expect(() => ng.jit(sinSum, { passes: { cse: 1 } } as any)).toThrow(
      /jit: options.passes.cse must be a boolean, got number 1/,
    );
    expect(() => ng.jit(sinSum, { backend: "interpeter" })).toThrow(
      /jit: options.backend must be one of "auto", "interpreter", .*got "interpeter"; did you mean "interpreter"\?/,
    );
    expect(() => ng.jit(sinSum, { cacheSize: 0 })).toThrow(
      /jit: options.cacheSize must be a positive integer, got number 0/,
    );
    expect(() => ng.jit(sinSum, { staticArgnums: [-1] })).toThrow(/jit: options.staticArgnums/);
    expect(() => ng.jit(sinSum, { staticArgnums: [1, 1] })).toThrow(/has duplicates/);
    expect(() => ng.jit(sinSum, { backend: "onnxruntime", passes: { inline: false } })).toThrow(
      /passes.inline: false needs the interpreter backend/,
    );
  });

  it("a backend that is not available here", () => {
    registerBackend({
      name: "unavailable-test-backend",
      available: () => false,
      compile: () => {
        throw new Error("not reached");
      },
    });
    const jf = ng.jit(sinSum, { backend: "unavailable-test-backend" });
    expect(() => jf(x)).toThrow(/jit: backend "unavailable-test-backend" is not available here/);
  });

  it("static arguments must be hashable and concrete", () => {
    const f = (t: Tensor, _s?: unknown) => ng.mul(t, 2);
    const jf = ng.jit(f, { staticArgnums: 1 });
    expect(() => jf(x, ng.ones([2]))).toThrow(
      "jit: static argument 1 must be hashable (a number, string, boolean, function, or a plain array/object of them), got a Tensor",
    );
    expect(() => jf(x, { a: [1, new Map()] })).toThrow(
      /jit: static argument 1 must be hashable .*got a Map at \.a\[1\]/,
    );
    expect(() => ng.grad((t: Tensor) => ng.sum(ng.jit(f, { staticArgnums: 0 })(t, 1)))(x)).toThrow(
      /jit: static argument 0 is a traced value \(Tracer<float32\[3\]>/,
    );
    expect(() => jf(x)).toThrow(
      /jit: staticArgnums names argument 1, but f was called with 1 argument\(s\)/,
    );
  });

  it("non-tensor array arguments are rejected with the path", () => {
    const jf = ng.jit((p: { w: unknown }) => p.w);
    expect(() => jf({ w: ng.nd.zeros([2]) })).toThrow(
      /jit: argument 0\.w: got an NDArray; convert it with ng\.array/,
    );
  });

  it("reading a value inside ng.jit says what to do", () => {
    const jf = ng.jit((t: Tensor) => (ng.sum(t).item() > 0 ? t : ng.neg(t)));
    let message = "";
    try {
      jf(x);
    } catch (e) {
      expect(e).toBeInstanceOf(ng.ConcretizationError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^jit: item\(\) needs a concrete value/);
    expect(message).toMatch(/Inside ng\.jit/);
    expect(message).toMatch(/staticArgnums/);
    expect(message).toMatch(/ng\.where/);
  });

  it("outputs must be pytrees of tensors and constants", () => {
    expect(() => ng.jit((t: Tensor) => new Map([["t", t]]))(x)).toThrow(
      /jit: output of f at \(root\): expected a Tensor, a constant .* got a Map/,
    );
    expect(() => ng.jit((t: Tensor) => ({ a: t, b: [new Date()] }))(x)).toThrow(
      /jit: output of f at \.b\[0\]/,
    );
    expect(() => ng.jit(async (t: Tensor) => t)(x)).toThrow(/got a Promise/);
  });
});
