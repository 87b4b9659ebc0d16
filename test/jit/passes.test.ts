// The IR passes of ng.jit: every pass switched on or off gives the eager result (the
// equivalence test), and each pass removes what it should — counted on grad and Hessian
// programs, and checked rule by rule on small programs built for the purpose.
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import { ShapedArray } from "../../src/core/aval.js";
import { IR, Var, evalIR, type Eqn } from "../../src/core/ir.js";
import { StagingTrace } from "../../src/core/staging.js";
import type { Tensor } from "../../src/core/tensor.js";
import { bind1, evalTrace, withTrace, type Primitive } from "../../src/core/trace.js";
import { addP } from "../../src/primitives/add.js";
import { broadcastToP } from "../../src/primitives/broadcast_to.js";
import { castP } from "../../src/primitives/cast.js";
import { mulP } from "../../src/primitives/mul.js";
import { negP } from "../../src/primitives/neg.js";
import { reshapeP } from "../../src/primitives/reshape.js";
import { sinP } from "../../src/primitives/sin.js";
import { stopGradientP } from "../../src/primitives/stop_gradient.js";
import { transposeP } from "../../src/primitives/transpose.js";
import { cse, dce, fold, optimize, simplify, PASS_NAMES } from "../../src/jit/passes.js";
import type { PassOptions } from "../../src/jit/passes.js";
import { expectClose } from "./helpers.js";

const f64 = (v: unknown) => ng.array(v, { dtype: "float64" });
const W = f64([
  [0.5, -1.0, 0.25],
  [1.5, 0.3, -0.7],
  [-0.2, 0.8, 1.1],
]);
const f = (x: Tensor) => ng.sum(ng.mul(ng.tanh(ng.matmul(W, x)), ng.sin(x)));
const x0 = f64([0.3, -0.6, 0.9]);

const ALL_ON: PassOptions = { inline: true, simplify: true, fold: true, cse: true, dce: true };
const ONLY_INLINE: PassOptions = {
  inline: true,
  simplify: false,
  fold: false,
  cse: false,
  dce: false,
};

/** Stages `fn` on abstract arguments like `args` (for hand-made test programs). */
function stage(fn: (...xs: Tensor[]) => Tensor[], args: Tensor[]): IR {
  const st = new StagingTrace(evalTrace, "test");
  const ins = args.map((a) => st.newArg(a.aval));
  const outs = withTrace(st, () => fn(...ins));
  return st.build(ins, outs);
}

const names = (ir: IR) => ir.eqns.map((e) => e.prim.name);
const count = (ir: IR, prim: Primitive) => ir.eqns.filter((e) => e.prim === prim).length;

describe("jit passes: equivalence", () => {
  const programs: [string, (x: Tensor) => unknown][] = [
    ["grad", ng.grad(f)],
    ["hessian", ng.hessian(f)],
    ["grad of a gradient penalty", ng.grad((x: Tensor) => ng.sum(ng.square(ng.grad(f)(x))))],
    ["vmap of grad", (x: Tensor) => ng.vmap(ng.grad(f))(ng.stack([x, ng.neg(x)]))],
  ];
  const configs: [string, PassOptions][] = [
    ["all on", ALL_ON],
    ["only inline", ONLY_INLINE],
    ...PASS_NAMES.filter((p) => p !== "inline").flatMap((p): [string, PassOptions][] => [
      [`${p} off`, { ...ALL_ON, [p]: false }],
      [`only ${p}`, { ...ONLY_INLINE, [p]: true }],
    ]),
    ["inline off (interpreter runs call primitives)", { ...ALL_ON, inline: false }],
  ];
  describe.each(programs)("%s", (_name, fn) => {
    const expected = fn(x0) as Tensor;
    it.each(configs)("%s gives the eager result", (_c, passes) => {
      const got = ng.jit(fn, { passes, backend: "interpreter" })(x0) as Tensor;
      expectClose([got], [expected], 1e-12, 1e-13, "jitted");
    });
  });
});

describe("jit passes remove things", () => {
  it("shrink a Hessian program and a nested gradient program", () => {
    for (const fn of [ng.hessian(f), ng.grad((x: Tensor) => ng.sum(ng.square(ng.grad(f)(x))))]) {
      const plain = ng.jit(fn, { passes: ONLY_INLINE }).lower(x0).optimized;
      const opt = ng.jit(fn).lower(x0);
      expect(opt.optimized.eqns.length).toBeLessThan(plain.eqns.length);
      expect(opt.passes.cse + opt.passes.simplify).toBeGreaterThan(0);
    }
    const h = ng.jit(ng.hessian(f)).lower(x0);
    expect(h.passes.cse).toBeGreaterThan(0);
    expect(h.passes.simplify).toBeGreaterThan(0);
    expect(h.passes.dce).toBeGreaterThan(0);
  });

  it("inline expands every call primitive, and only inline: false keeps them", () => {
    const grad = ng.grad(f);
    const on = ng.jit(grad).lower(x0);
    expect(names(on.staged)).toContain("gradCall");
    expect(on.passes.inline).toBe(1);
    expect(names(on.optimized)).not.toContain("gradCall");
    const off = ng.jit(grad, { passes: { inline: false } }).lower(x0);
    expect(names(off.optimized)).toContain("gradCall");
    expect(off.backend).toBe("interpreter");
  });

  it("simplify removes adding zeros, multiplying by ones and identity shape operations", () => {
    const m = f64([
      [1, 2],
      [3, 4],
    ]);
    const ir = stage(
      (x) => {
        let y = bind1(addP, [x, ng.zerosLike(x)]);
        y = bind1(mulP, [ng.onesLike(y), y]);
        y = bind1(reshapeP, [bind1(reshapeP, [y], { shape: [4] })], { shape: [2, 2] });
        y = bind1(transposeP, [bind1(transposeP, [y], { perm: [1, 0] })], { perm: [1, 0] });
        y = bind1(broadcastToP, [y], { shape: [2, 2] });
        y = bind1(castP, [y], { dtype: "float64" });
        y = bind1(negP, [bind1(negP, [bind1(stopGradientP, [y])])]);
        return [bind1(sinP, [y])];
      },
      [m],
    );
    expect(ir.eqns.length).toBe(12);
    const out = dce(simplify(ir));
    expect(names(out)).toEqual(["sin"]);
    expectClose(evalIR(out, [m]), evalIR(ir, [m]), 0, 0, "simplified");
    // a broadcast scalar zero is a zero too; adding a non-zero constant is kept
    const bcast = stage(
      (x) => {
        const zero = bind1(broadcastToP, [f64(0)], { shape: [2] });
        return [bind1(addP, [bind1(addP, [x, zero]), f64([0, 1e-300])])];
      },
      [f64([1, 2])],
    );
    expect(names(dce(simplify(bcast)))).toEqual(["add"]);
  });

  it("fold evaluates small constant equations and leaves large ones", () => {
    const a = new Var(new ShapedArray([2], "float64"));
    const b = new Var(new ShapedArray([2], "float64"));
    const big = new Var(new ShapedArray([5000], "float64"));
    const x = new Var(new ShapedArray([2], "float64"));
    const c = new Var(a.aval);
    const d = new Var(a.aval);
    const e = new Var(big.aval);
    const eqns: Eqn[] = [
      { prim: addP, params: {}, inputs: [a, b], outputs: [c] },
      { prim: mulP, params: {}, inputs: [c, x], outputs: [d] },
      { prim: sinP, params: {}, inputs: [big], outputs: [e] },
    ];
    const ir = new IR(
      [x],
      [a, b, big],
      [f64([1, 2]), f64([3, 4]), ng.ones([5000], { dtype: "float64" })],
      eqns,
      [d, e],
    );
    const out = fold(ir);
    expect(names(out)).toEqual(["mul", "sin"]);
    expectClose(evalIR(out, [f64([5, 6])]), evalIR(ir, [f64([5, 6])]), 0, 0, "folded");
  });

  it("cse merges equal equations (commutative inputs too) and equal small constants", () => {
    const ir = stage(
      (x) => {
        const s1 = ng.sin(x);
        const s2 = ng.sin(x);
        const p = bind1(mulP, [s1, x]);
        const q = bind1(mulP, [x, s2]);
        const r = bind1(mulP, [p, f64([2, 2, 2])]);
        const t = bind1(mulP, [q, f64([2, 2, 2])]);
        return [ng.add(r, t)];
      },
      [x0],
    );
    expect(ir.consts.length).toBe(2);
    const out = dce(cse(ir));
    expect(count(out, sinP)).toBe(1);
    expect(count(out, mulP)).toBe(2);
    expect(out.consts.length).toBe(1);
    expectClose(evalIR(out, [x0]), evalIR(ir, [x0]), 0, 0, "cse");
  });

  it("dce drops equations and constants the outputs do not need", () => {
    const x = new Var(new ShapedArray([2], "float64"));
    const k = new Var(x.aval);
    const y = new Var(x.aval);
    const dead = new Var(x.aval);
    const ir = new IR(
      [x],
      [k],
      [f64([1, 1])],
      [
        { prim: addP, params: {}, inputs: [x, k], outputs: [dead] },
        { prim: sinP, params: {}, inputs: [x], outputs: [y] },
      ],
      [y],
    );
    const out = dce(ir);
    expect(names(out)).toEqual(["sin"]);
    expect(out.consts.length).toBe(0);
  });

  it("optimize reports what each pass removed and keeps the program type-correct", () => {
    const { ir, stats } = optimize(ng.makeIR(ng.hessian(f))(x0));
    ir.typecheck();
    expect(Object.keys(stats).sort()).toEqual([...PASS_NAMES].sort());
  });
});
