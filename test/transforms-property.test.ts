// Property tests (fast-check): random compositions of primitives on random small shapes
// satisfy the adjoint identity ⟨u, J v⟩ (jvp) = ⟨Jᵀu, v⟩ (vjp), and the JVP matches central
// finite differences computed in plain JS.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { flat, randomTensor, rng } from "./transforms-helpers.js";

/** One step of a random program: its kind and a free integer the step may use. */
interface Step {
  kind: number;
  k: number;
}

const KINDS = [
  "sin",
  "cos",
  "tanh",
  "expSin",
  "sigmoid",
  "square",
  "logOnePlusSq",
  "sqrtOnePlusSq",
  "divOnePlusSq",
  "powThree",
  "addY",
  "mulY",
  "subScalarOfY",
  "mulConst",
  "sumAxis",
  "meanAll",
  "prodAxis",
  "reshapeFlat",
  "reshapeReverse",
  "transpose",
  "broadcastLeading",
  "slice",
  "matmulConst",
  "matmulSelf",
  "concat",
  "stack",
  "whereSquare",
] as const;

type Kind = (typeof KINDS)[number];

const size = (t: Tensor) => t.shape.reduce((p, d) => p * d, 1);
const shapesMatch = (a: Tensor, b: Tensor) =>
  a.ndim === b.ndim && a.shape.every((d, i) => d === b.shape[i]);

/**
 * Applies one step to t; `y` is the function's second argument and `consts` gives fixed
 * constant tensors of a shape. Steps that do not fit the current shape fall back to sin.
 */
function applyStep(
  kind: Kind,
  k: number,
  t: Tensor,
  y: Tensor,
  consts: (shape: number[]) => Tensor,
): Tensor {
  const one = (v: Tensor) => ng.add(1, ng.square(v));
  switch (kind) {
    case "sin":
      return ng.sin(t);
    case "cos":
      return ng.cos(t);
    case "tanh":
      return ng.tanh(t);
    case "expSin":
      return ng.exp(ng.sin(t));
    case "sigmoid":
      return ng.sigmoid(t);
    case "square":
      return ng.square(t);
    case "logOnePlusSq":
      return ng.log(one(t));
    case "sqrtOnePlusSq":
      return ng.sqrt(one(t));
    case "divOnePlusSq":
      return ng.div(t, one(t));
    case "powThree":
      return ng.pow(ng.tanh(t), 3);
    case "addY":
      return shapesMatch(t, y) ? ng.add(t, ng.sin(y)) : ng.add(t, ng.sum(y));
    case "mulY":
      return shapesMatch(t, y) ? ng.mul(t, y) : ng.mul(t, ng.mean(y));
    case "subScalarOfY":
      return ng.sub(t, ng.sum(ng.square(y)));
    case "mulConst":
      return ng.mul(t, consts(t.shape as number[]));
    case "sumAxis":
      return t.ndim === 0 ? ng.mul(t, 2) : ng.sum(t, k % t.ndim);
    case "meanAll":
      return ng.mean(t);
    case "prodAxis":
      return t.ndim === 0 ? ng.mul(t, t) : ng.prod(t, k % t.ndim, true);
    case "reshapeFlat":
      return ng.reshape(t, [size(t)]);
    case "reshapeReverse":
      return ng.reshape(t, [...t.shape].reverse());
    case "transpose":
      return t.ndim >= 2 ? ng.transpose(t) : ng.reshape(t, [1, size(t)]);
    case "broadcastLeading":
      return size(t) <= 12 ? ng.broadcastTo(t, [1 + (k % 3), ...t.shape]) : ng.sin(t);
    case "slice":
      return t.ndim >= 1 && t.shape[0]! > 1
        ? ng.slice(t, [{ start: k % 2, stop: t.shape[0]! }])
        : ng.cos(t);
    case "matmulConst":
      return t.ndim === 2 ? ng.matmul(t, consts([t.shape[1]!, 1 + (k % 3)])) : ng.sin(t);
    case "matmulSelf":
      return t.ndim === 2 ? ng.matmul(t, ng.transpose(t)) : ng.tanh(t);
    case "concat":
      return t.ndim >= 1 && size(t) <= 12 ? ng.concatenate([t, ng.sin(t)], k % t.ndim) : ng.sin(t);
    case "stack":
      return size(t) <= 12 ? ng.stack([t, ng.square(t)], k % (t.ndim + 1)) : ng.cos(t);
    case "whereSquare":
      // C¹ everywhere: x² for x > 0, 0 otherwise.
      return ng.where(ng.greater(t, 0), ng.square(t), ng.zerosLike(t));
  }
}

function buildProgram(steps: Step[], seed: number) {
  const consts = (shape: number[]) =>
    randomTensor(shape, rng(seed + shape.length * 31 + shape.reduce((p, d) => p * 7 + d, 0)));
  return (x: Tensor, y: Tensor): Tensor =>
    steps.reduce(
      (t, s) => applyStep(KINDS[s.kind % KINDS.length]!, s.k, t, y, consts),
      ng.mul(x, 1),
    );
}

const dotJS = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);

const programArb = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }),
  steps: fc.array(fc.record({ kind: fc.nat(KINDS.length - 1), k: fc.nat(5) }), {
    minLength: 1,
    maxLength: 5,
  }),
  seed: fc.nat(1_000_000),
});

describe("random compositions of primitives", () => {
  it("⟨u, J v⟩ by jvp equals ⟨Jᵀu, v⟩ by vjp, and the JVP matches finite differences", () => {
    fc.assert(
      fc.property(programArb, ({ shape, steps, seed }) => {
        const next = rng(seed);
        const f = buildProgram(steps, seed);
        const x = randomTensor(shape, next);
        const y = randomTensor(shape, next);
        const vx = randomTensor(shape, next);
        const vy = randomTensor(shape, next);
        const [out, tout] = ng.jvp(f, [x, y], [vx, vy]);
        const u = randomTensor(out.shape as number[], next);
        const [out2, pullback] = ng.vjp(f, x, y);
        const [cx, cy] = pullback(u) as [Tensor, Tensor];
        expect(out2.shape).toEqual(out.shape);
        expect(cx.shape).toEqual(x.shape);
        expect(cy.shape).toEqual(y.shape);
        const lhs = dotJS(flat(u), flat(tout));
        const rhs = dotJS(flat(cx), flat(vx)) + dotJS(flat(cy), flat(vy));
        const scale = Math.max(1, Math.abs(lhs), Math.abs(rhs));
        expect(Math.abs(lhs - rhs), `⟨u,Jv⟩=${lhs} ⟨Jᵀu,v⟩=${rhs}`).toBeLessThanOrEqual(
          1e-9 * scale,
        );

        // Central finite differences along (vx, vy), in plain JS on the flat values.
        const eps = 1e-5;
        const shifted = (h: number) => flat(f(ng.add(x, ng.mul(vx, h)), ng.add(y, ng.mul(vy, h))));
        const plus = shifted(eps);
        const minus = shifted(-eps);
        const fd = plus.map((p, i) => (p - minus[i]!) / (2 * eps));
        const got = flat(tout);
        expect(got.length).toBe(fd.length);
        got.forEach((g, i) => {
          const tol = 1e-5 * Math.max(1, Math.abs(fd[i]!));
          expect(
            Math.abs(g - fd[i]!),
            `element ${i}: jvp ${g} vs finite differences ${fd[i]}`,
          ).toBeLessThanOrEqual(tol);
        });
      }),
      { numRuns: 50, seed: 20240601 },
    );
  });

  it("second order: the adjoint identity holds for the derivative map x ↦ vjp(f)(x)(u)", () => {
    fc.assert(
      fc.property(programArb, ({ shape, steps, seed }) => {
        const next = rng(seed + 1);
        const f = buildProgram(steps, seed);
        const x = randomTensor(shape, next);
        const y = randomTensor(shape, next);
        const out = f(x, y);
        const u = randomTensor(out.shape as number[], next);
        // g(x, y) = Jᵀu: a function built from a pullback, differentiated again in both modes.
        const g = (a: Tensor, b: Tensor) => ng.vjp(f, a, b)[1](u) as [Tensor, Tensor];
        const vx = randomTensor(shape, next);
        const vy = randomTensor(shape, next);
        const [, tg] = ng.jvp(g, [x, y], [vx, vy]);
        const w: [Tensor, Tensor] = [randomTensor(shape, next), randomTensor(shape, next)];
        const [, pb] = ng.vjp(g, x, y);
        const [cx, cy] = pb(w);
        const lhs = dotJS(flat(w[0]!), flat(tg[0])) + dotJS(flat(w[1]!), flat(tg[1]));
        const rhs = dotJS(flat(cx), flat(vx)) + dotJS(flat(cy), flat(vy));
        const scale = Math.max(1, Math.abs(lhs), Math.abs(rhs));
        expect(Math.abs(lhs - rhs), `${lhs} vs ${rhs}`).toBeLessThanOrEqual(1e-9 * scale);
      }),
      { numRuns: 30, seed: 7 },
    );
  });
});
