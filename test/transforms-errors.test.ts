// Bad input to the transforms: each raises an error that says what was
// expected and what arrived (shapes, dtypes, the path in the pytree).
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { f64 } from "./transforms-helpers.js";

const x3 = f64([0.1, 0.2, 0.3]);
const x2 = f64([1, 2]);

describe("transform errors", () => {
  it("grad of a non-scalar output names the shape and suggests vjp/jacrev", () => {
    expect(() => ng.grad((x: Tensor) => ng.sin(x))(x3)).toThrow(/shape \[\].*got float64\[3\]/);
    expect(() => ng.grad((x: Tensor) => ng.sin(x))(x3)).toThrow(/ng\.vjp or ng\.jacrev/);
    expect(() => ng.valueAndGrad((x: Tensor) => ng.sin(x))(x3)).toThrow(/valueAndGrad: .*\[3\]/);
  });

  it("grad of a function returning several leaves says so", () => {
    expect(() => ng.grad((x: Tensor) => [ng.sum(x), ng.sum(x)])(x3)).toThrow(
      /single scalar tensor.*2 leaves/,
    );
  });

  it("argnums out of range, negative or duplicated", () => {
    const f = (a: Tensor, b: Tensor) => ng.sum(ng.mul(a, b));
    expect(() => ng.grad(f, { argnums: 2 })(x3, x3)).toThrow(
      /grad: argnums 2 is out of range: .*2 argument/,
    );
    expect(() => ng.grad(f, { argnums: [0, 5] })(x3, x3)).toThrow(
      /argnums \[0,5\] is out of range/,
    );
    expect(() => ng.grad(f, { argnums: -1 })(x3, x3)).toThrow(/argnums -1 is out of range/);
    expect(() => ng.grad(f, { argnums: [1, 1] })(x3, x3)).toThrow(/duplicates/);
    expect(() => ng.jacrev(f, { argnums: 3 })(x3, x3)).toThrow(/jacrev: argnums 3 is out of range/);
    expect(() => ng.jacfwd(f, { argnums: 3 })(x3, x3)).toThrow(/jacfwd: argnums 3 is out of range/);
  });

  it("jvp tangents whose pytree structure differs from the primals name the path", () => {
    const f = (p: { a: Tensor; b: Tensor[] }) => ng.add(ng.sum(p.a), ng.sum(p.b[0]!));
    // @ts-expect-error: the typed API rejects this at compile time; the run-time check names the path
    expect(() => ng.jvp(f, [{ a: x3, b: [x2] }], [{ a: x3 }])).toThrow(
      /jvp: tangents does not have the structure of primals: at \[0\]: keys differ \(missing \["b"\]/,
    );
    expect(() => ng.jvp(f, [{ a: x3, b: [x2] }], [{ a: x3, b: [x2, x2] }])).toThrow(
      /at \[0\]\.b: array of length 1 vs 2/,
    );
    // @ts-expect-error: a missing tangent, rejected at compile time too
    expect(() => ng.jvp(f, [{ a: x3, b: [x2] }], [])).toThrow(/structure of primals/);
  });

  it("jvp tangents whose shapes differ name the path and both shapes", () => {
    const f = (p: { a: Tensor; b: Tensor[] }) => ng.add(ng.sum(p.a), ng.sum(p.b[0]!));
    expect(() => ng.jvp(f, [{ a: x3, b: [x2] }], [{ a: x3, b: [x3] }])).toThrow(
      /jvp: tangents\[0\]\.b\[0\]: shape \[3\] does not match the primals shape \[2\]/,
    );
  });

  it("vjp cotangent of the wrong shape or structure", () => {
    const [, pullback] = ng.vjp((x: Tensor) => ng.sin(x), x3);
    expect(() => pullback(x2)).toThrow(
      /vjp: cotangent: shape \[2\] does not match the output of f shape \[3\]/,
    );
    const [, pb2] = ng.vjp((x: Tensor) => ({ y: ng.sin(x), z: ng.sum(x) }), x3);
    expect(() => pb2({ y: x3, z: x3 })).toThrow(
      /vjp: cotangent\.z: shape \[3\] does not match the output of f shape \[\]/,
    );
    // @ts-expect-error: a missing cotangent leaf, rejected at compile time too
    expect(() => pb2({ y: x3 })).toThrow(
      /vjp: cotangent does not have the structure of output of f: at \(root\): keys differ/,
    );
  });

  it("a customJvp rule returning a tangent of the wrong shape", () => {
    const f = ng.customJvp(
      (x: Tensor) => ng.sin(x),
      ([x]: Tensor[], [t]: Tensor[]) => [ng.sin(x), ng.sum(ng.mul(t, ng.cos(x)))],
    );
    expect(() => ng.jvp(f, [x3], [x3])).toThrow(
      /customJvp: rule tangent output: shape \[\] does not match .* shape \[3\]/,
    );
    expect(() => ng.grad((x: Tensor) => ng.sum(f(x)))(x3)).toThrow(
      /customJvp: rule tangent output: shape \[\]/,
    );
  });

  it("a customJvp rule whose primal output differs from f", () => {
    const f = ng.customJvp(
      (x: Tensor) => ng.sin(x),
      ([x]: Tensor[], [t]: Tensor[]) => [ng.sum(ng.sin(x)), ng.sum(t)],
    );
    expect(() => ng.jvp(f, [x3], [x3])).toThrow(/customJvp.*shape \[\].*\[3\]/);
  });

  it("a customVjp bwd returning the wrong count or shape", () => {
    const wrongCount = ng.customVjp(
      (a: Tensor, b: Tensor) => ng.mul(a, b),
      (a: Tensor, b: Tensor) => [ng.mul(a, b), [a, b]],
      ([, b]: Tensor[], g: Tensor) => [ng.mul(g, b)],
    );
    expect(() => ng.grad((a: Tensor) => ng.sum(wrongCount(a, x3)))(x3)).toThrow(
      /customVjp: bwd must return an array with one cotangent per argument \(2\), got 1/,
    );
    const wrongShape = ng.customVjp(
      (a: Tensor) => ng.sin(a),
      (a: Tensor) => [ng.sin(a), ng.cos(a)],
      (c: Tensor, g: Tensor) => [ng.sum(ng.mul(g, c))],
    );
    expect(() => ng.grad((a: Tensor) => ng.sum(wrongShape(a)))(x3)).toThrow(
      /customVjp: bwd cotangent\[0\]: shape \[\] does not match the arguments shape \[3\]/,
    );
  });

  it("grad of an int32 argument", () => {
    const i = ng.array([1, 2, 3], { dtype: "int32" });
    expect(() => ng.grad((x: Tensor) => ng.sum(ng.cast(x, "float64")))(i)).toThrow(
      /grad: argument \[0\] has dtype int32; only float32\/float64 inputs can be differentiated/,
    );
    expect(() => ng.jacrev((x: Tensor) => ng.cast(x, "float64"))(i)).toThrow(
      /jacrev: .*dtype int32/,
    );
  });

  it("makeIR of a function that calls .item() raises a ConcretizationError explaining what to do", () => {
    const f = (x: Tensor) => (ng.sum(x).item() > 0 ? ng.sin(x) : ng.cos(x));
    let err: unknown;
    try {
      ng.makeIR(f)(x3);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ng.ConcretizationError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/item\(\) needs a concrete value/);
    expect(msg).toMatch(/float64\[\]/);
    expect(msg).toMatch(/makeIR/);
    expect(msg).toMatch(/ng\.where/);
    // The same function is fine under eager transforms.
    expect(() => ng.grad((x: Tensor) => ng.sum(f(x)))(x3)).not.toThrow();
  });

  it("a leaked tracer used after its transform raises", () => {
    let leaked: Tensor | undefined;
    ng.grad((x: Tensor) => {
      leaked = x;
      return ng.sum(x);
    })(x3);
    expect(() => ng.sin(leaked!)).toThrow(/leaked tracer/);
    expect(() => ng.mul(leaked!, 2)).toThrow(/used after its transform ended/);

    let leakedJvp: Tensor | undefined;
    ng.jvp(
      (x: Tensor) => {
        leakedJvp = x;
        return ng.sin(x);
      },
      [x3],
      [x3],
    );
    expect(() => ng.add(leakedJvp!, 1)).toThrow(/leaked tracer/);
  });

  it("a leaked tracer used inside a later transform raises", () => {
    let leaked: Tensor | undefined;
    ng.grad((x: Tensor) => {
      leaked = x;
      return ng.sum(x);
    })(x3);
    expect(() => ng.grad((y: Tensor) => ng.sum(ng.mul(y, leaked!)))(x3)).toThrow(/leaked tracer/);
  });

  it("non-function and non-array arguments", () => {
    expect(() => ng.jvp(42 as any, [x3], [x3])).toThrow(/jvp: f must be a function/);
    expect(() => ng.jvp((x: Tensor) => x, x3 as any, [x3])).toThrow(
      /jvp: primals must be an array/,
    );
    expect(() => ng.vjp("f" as any, x3)).toThrow(/vjp: f must be a function/);
    expect(() => ng.grad((x: Tensor) => ng.sum(x))("hello" as any)).toThrow(
      /expected a Tensor or a number, got/,
    );
  });
});
