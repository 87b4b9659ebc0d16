// Elementwise fusion in the jit interpreter: fused programs against the same program run
// unfused (every equation by its primitive's implementation) — bitwise where the
// per-element math is the same — and against eager evaluation; groups, their outputs
// (intermediates read later or returned must be stored), views of fused values, the
// matmul epilogue written in place, errors raised inside a fused loop, and the fallback
// when code generation is unavailable.
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import { IR, Var } from "../../src/core/ir.js";
import { ShapedArray } from "../../src/core/aval.js";
import { castP } from "../../src/primitives/cast.js";
import { stopGradientP } from "../../src/primitives/stop_gradient.js";
import { tanhP } from "../../src/primitives/tanh.js";
import type { Tensor } from "../../src/core/tensor.js";
import { ConcreteTensor } from "../../src/core/tensor.js";
import type { Executable } from "../../src/jit/backend.js";
import {
  codegenAvailable,
  fusionActive,
  generatedKernelCount,
  planFusion,
  setCodegenAvailable,
  setFusionEnabled,
} from "../../src/jit/fuse.js";
import { interpreterBackend, interpreterStats } from "../../src/jit/interpreter.js";
import { setWasmElementwiseEnabled } from "../../src/tensor/kernels/elementwise_wasm.js";
import type { NDArray } from "../../src/tensor/ndarray.js";
import { expectClose, tolerances } from "./helpers.js";

afterEach(() => {
  setFusionEnabled(true);
  setCodegenAvailable(null);
});

type Fn = (...xs: Tensor[]) => Tensor | Tensor[];

/** The optimised program of `f` at `args`, as ng.jit compiles it. */
function lower(f: Fn, args: readonly Tensor[]): IR {
  return ng.jit(f, { backend: "interpreter" }).lower(...args).optimized;
}

function compile(ir: IR, fused: boolean): Executable {
  setFusionEnabled(fused);
  try {
    return interpreterBackend.compile(ir, { threads: 1 });
  } finally {
    setFusionEnabled(true);
  }
}

const values = (args: readonly Tensor[]) => args.map((a) => (a as ConcreteTensor).value);
const asList = (y: Tensor | Tensor[]) => (Array.isArray(y) ? y : [y]);

/** Element-for-element identity of two arrays (NaN equals NaN, −0 differs from +0). */
function expectBitwise(a: readonly NDArray[], b: readonly NDArray[], what: string): void {
  expect(a.length, `${what}: outputs`).toBe(b.length);
  a.forEach((x, i) => {
    const y = b[i]!;
    expect(`${x.dtype}[${x.shape.join(",")}]`, `${what}: output ${i} type`).toBe(
      `${y.dtype}[${y.shape.join(",")}]`,
    );
    const xs = Array.from(x.flat(), Number);
    const ys = Array.from(y.flat(), Number);
    const bad = xs.findIndex((v, k) => !Object.is(v, ys[k]));
    expect(
      bad < 0 ? "identical" : `element ${bad}: ${xs[bad]} vs ${ys[bad]}`,
      `${what}: output ${i}`,
    ).toBe("identical");
  });
}

/**
 * Runs `f` fused, unfused and eagerly: fused and unfused must agree bitwise when
 * `bitwise`, else within the dtype's tolerance; both agree with eager within tolerance.
 */
function check(f: Fn, args: readonly Tensor[], bitwise = true) {
  const ir = lower(f, args);
  const fused = compile(ir, true);
  const plain = compile(ir, false);
  const a = fused.run(values(args));
  const b = plain.run(values(args));
  if (bitwise) expectBitwise(a, b, "fused vs unfused");
  const wrap = (xs: NDArray[]) => xs.map((x) => new ConcreteTensor(x));
  const eager = asList(f(...args));
  const [rtol, atol] = tolerances(eager.some((t) => t.dtype === "float32") ? "float32" : "float64");
  expectClose(wrap(a), eager, rtol, atol, "fused vs eager");
  expectClose(wrap(b), eager, rtol, atol, "unfused vs eager");
  return { ir, fused, plain, out: a, stats: interpreterStats(fused)! };
}

/** Deterministic values in [lo, hi). */
function values01(n: number, seed: number, lo = -2, hi = 2): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 4294967296;
  });
}

function rand(
  shape: number[],
  dtype: "float32" | "float64" = "float32",
  seed = 1,
  lo = -2,
  hi = 2,
) {
  const n = shape.reduce((a, b) => a * b, 1);
  return ng.reshape(ng.array(values01(n, seed, lo, hi), { dtype }), shape);
}

function ints(shape: number[], seed = 1, lo = -5, hi = 5) {
  const n = shape.reduce((a, b) => a * b, 1);
  return ng.reshape(ng.array(values01(n, seed, lo, hi).map(Math.floor), { dtype: "int32" }), shape);
}

describe("fusion: groups", () => {
  it("a chain of elementwise ops is one group, one loop", () => {
    const f = (x: Tensor, y: Tensor) => ng.sub(ng.mul(ng.add(x, y), 3), ng.div(x, 2));
    const { stats } = check(f, [rand([4, 5]), rand([4, 5], "float32", 2)]);
    expect(stats.groups).toBe(1);
    expect(stats.kernels).toBe(0);
  });

  it("broadcasting (rows, columns, scalars, rank change) reads through strides", () => {
    const f = (x: Tensor, row: Tensor, col: Tensor, s: Tensor) =>
      ng.mul(ng.add(ng.sub(x, row), col), ng.add(s, 0.5));
    const { stats } = check(f, [
      rand([3, 4, 5]),
      rand([5], "float32", 2),
      rand([3, 1, 1], "float32", 3),
      rand([], "float32", 4),
    ]);
    // s + 0.5 is computed once on the scalar, then the main group reads it broadcast
    expect(stats.groups).toBe(2);
    expect(stats.kernels).toBe(0); // the broadcasts are absorbed
  });

  it("intermediates read later or returned are stored; the rest stay in registers", () => {
    // t is returned and read by the matmul after the chain; u is read only inside it.
    const f = (x: Tensor, w: Tensor) => {
      const t = ng.tanh(ng.add(x, 1));
      const u = ng.mul(t, t);
      const v = ng.sub(1, u);
      return [t, v, ng.matmul(t, w)];
    };
    const x = rand([3, 4]);
    const w = rand([4, 2], "float32", 5);
    const { ir, out } = check(f, [x, w]);
    const groups = planFusion(ir).filter((n) => n.kind === "group");
    expect(groups.length).toBe(1);
    const g = groups[0]!.kind === "group" ? groups[0]!.group : null;
    expect(g!.outputs.length).toBe(2); // t and v, not u
    expectClose([new ConcreteTensor(out[0]!)], [ng.tanh(ng.add(x, 1))], 0, 0, "t itself");
  });

  it("an outside equation between members splits the group instead of reordering", () => {
    // s = sum(a) sits between two elementwise ops and feeds the second one.
    const f = (x: Tensor) => {
      const a = ng.exp(ng.mul(x, 0.5));
      const s = ng.sum(a);
      return ng.add(ng.mul(a, s), ng.neg(x));
    };
    const { stats } = check(f, [rand([6])]);
    expect(stats.kernels).toBe(1);
    expect(stats.groups).toBe(2);
  });

  it("values of several open groups merge into one group", () => {
    const f = (x: Tensor, y: Tensor) => ng.mul(ng.exp(x), ng.sin(y));
    const { stats } = check(f, [rand([2, 3]), rand([2, 3], "float32", 7)]);
    expect(stats.groups).toBe(1);
  });

  it("multi-output programs with repeated and input outputs", () => {
    const f = (x: Tensor, y: Tensor) => {
      const a = ng.add(x, y);
      const b = ng.mul(a, a);
      return [b, a, b, x, ng.neg(b)];
    };
    const { out } = check(f, [rand([5]), rand([5], "float32", 3)]);
    expect(out[0]).toBe(out[2]);
  });

  it("views of fused values: reshape, transpose, slice of an intermediate, used and returned", () => {
    const f = (x: Tensor) => {
      const e = ng.exp(ng.mul(x, 0.1));
      const t = ng.transpose(e);
      const r = ng.reshape(e, [-1]);
      const z = ng.add(ng.mul(t, 2), 1); // reads e through a transposed view
      return [z, r, ng.slice(e, [{ start: 1, step: 2 }]), ng.mul(ng.reshape(z, [-1]), 3)];
    };
    check(f, [rand([3, 4])]);
  });

  it("a non-contiguous program input takes the strided path", () => {
    const f = (x: Tensor, y: Tensor) => ng.add(ng.mul(x, y), ng.abs(x));
    const ir = lower(f, [rand([3, 4]), rand([3, 4])]);
    const xT = ng.transpose(rand([4, 3], "float32", 9)) as ConcreteTensor;
    expect(xT.value.contiguous).toBe(false);
    const y = rand([3, 4], "float32", 8);
    const a = compile(ir, true).run([xT.value, (y as ConcreteTensor).value]);
    const b = compile(ir, false).run([xT.value, (y as ConcreteTensor).value]);
    expectBitwise(a, b, "strided input");
    expectClose([new ConcreteTensor(a[0]!)], [f(xT, y)], 0, 0, "strided vs eager");
  });

  it("zero-size and scalar shapes", () => {
    check((x: Tensor) => ng.exp(ng.add(x, 1)), [ng.zeros([0, 3])]);
    check(
      (x: Tensor, y: Tensor) => ng.sub(ng.mul(x, y), ng.sin(x)),
      [rand([]), rand([], "float32", 2)],
    );
  });
});

describe("fusion: dtypes and exactness", () => {
  it("float32 arithmetic chains are bitwise those of the unfused program (rounding at each step)", () => {
    // x*y + x/3 − y*y: in float64 without rounding, the result would differ in the last bits.
    const f = (x: Tensor, y: Tensor) =>
      ng.sub(ng.add(ng.mul(x, y), ng.div(x, 3)), ng.mul(ng.maximum(y, -1), ng.minimum(y, 1)));
    check(f, [rand([64]), rand([64], "float32", 2)]);
  });

  it("float64 chains with transcendentals", () => {
    const f = (x: Tensor) =>
      ng.add(
        ng.mul(ng.exp(x), ng.cos(x)),
        ng.div(ng.log1p(ng.abs(x)), ng.sqrt(ng.add(ng.abs(x), 1))),
      );
    check(f, [rand([5, 3], "float64")]);
  });

  it("every unary kernel formula (sigmoid, erf, round half to even, rsqrt, expm1, tan, sign, floor, ceil)", () => {
    const f = (x: Tensor) => [
      ng.sigmoid(ng.mul(x, 20)),
      ng.erf(x),
      ng.round(ng.mul(x, 2)),
      ng.rsqrt(ng.add(ng.abs(x), 0.1)),
      ng.expm1(x),
      ng.tan(ng.mul(x, 0.5)),
      ng.sign(x),
      ng.floor(x),
      ng.ceil(x),
      ng.log(ng.abs(x)),
    ];
    // halves for round-half-to-even, and a zero for sign and log
    const x = ng.array([-2.5, -1.5, -0.5, 0, 0.5, 1.5, 2.5, 0.3, -1.7, 1.25], { dtype: "float32" });
    check(f, [x]);
    check(f, [ng.cast(x, "float64")]);
  });

  it("int32: wrap-around, imul, floored mod, integer pow, max/min, neg/abs/sign", () => {
    const big = ng.array([2147483647, -2147483648, 123456789, -7, 7, 0], { dtype: "int32" });
    const b = ng.array([1, -1, 1000, 3, -3, 5], { dtype: "int32" });
    const f = (x: Tensor, y: Tensor) => [
      ng.add(x, y),
      ng.sub(x, y),
      ng.mul(ng.mul(x, y), 3),
      ng.mod(x, y),
      ng.pow(ng.mod(x, 4), ng.abs(ng.mod(y, 3))),
      ng.maximum(ng.neg(x), ng.abs(y)),
      ng.sign(ng.neg(x)),
    ];
    const { out } = check(f, [big, b]);
    expect(out.every((o) => o.dtype === "int32")).toBe(true);
  });

  it("bool: comparisons, logical ops, where, and bool arithmetic promoted to int32", () => {
    const f = (x: Tensor, y: Tensor) => {
      const p = ng.greater(x, y);
      const q = ng.lessEqual(x, 0);
      const r = ng.logicalAnd(p, ng.logicalNot(q));
      return [
        r,
        ng.logicalOr(ng.equal(x, y), ng.notEqual(x, 0)),
        ng.where(r, x, ng.mul(y, 2)),
        ng.add(ng.cast(p, "int32"), ng.cast(q, "int32")),
        ng.maximum(p, q),
        ng.where(q, p, r),
      ];
    };
    const x = ng.array([-1, 0, 2, 3, 0.5, -0.5], { dtype: "float32" });
    const y = ng.array([0, 0, 1, 5, 0.5, -1], { dtype: "float32" });
    check(f, [x, y]);
  });

  it("cast between every pair of dtypes inside a chain", () => {
    const f = (x: Tensor) => {
      const outs: Tensor[] = [];
      for (const a of ["float32", "float64", "int32", "bool"] as const) {
        for (const b of ["float32", "float64", "int32", "bool"] as const) {
          outs.push(ng.cast(ng.cast(ng.mul(x, 1.5), a), b));
        }
      }
      return outs;
    };
    check(f, [ng.array([-3.7, -1, -0.2, 0, 0.4, 2.6, 1e5], { dtype: "float64" })]);
  });

  it("mixed dtypes: an int chain feeding a float chain through casts and where", () => {
    const f = (i: Tensor, x: Tensor) => {
      const k = ng.add(ng.mul(i, i), 1); // int32
      const m = ng.greater(k, 5);
      return ng.where(m, ng.mul(x, ng.cast(k, "float32")), ng.tanh(x));
    };
    check(f, [ints([4, 3]), rand([4, 3])]);
  });

  it("errors raised inside a fused loop are the kernels' errors", () => {
    const toInt = (x: Tensor) => ng.cast(ng.mul(x, 2), "int32");
    const bad = ng.array([1, Number.NaN, 3], { dtype: "float32" });
    const ir = lower(toInt, [bad]);
    const message = (e: Executable) => {
      try {
        e.run(values([bad]));
        return "no error";
      } catch (err) {
        return (err as Error).message;
      }
    };
    const fusedMsg = message(compile(ir, true));
    expect(fusedMsg).toMatch(/cannot cast NaN at index 1 to int32/);
    expect(fusedMsg).toBe(message(compile(ir, false)));

    const ipow = (x: Tensor, y: Tensor) => ng.pow(ng.add(x, 1), y);
    const a = ints([3], 1, 0, 3);
    const e = ng.array([1, -2, 3], { dtype: "int32" });
    const ir2 = lower(ipow, [a, e]);
    expect(() => compile(ir2, true).run(values([a, e]))).toThrow(/negative integer powers/);
  });
});

describe("fusion: epilogues and buffers", () => {
  it("matmul → bias → tanh runs in place over the matmul result", () => {
    const f = (x: Tensor, w: Tensor, b: Tensor) => ng.tanh(ng.add(ng.matmul(x, w), b));
    const g = (x: Tensor, w: Tensor, b: Tensor) => ng.sum(f(x, w, b)); // the chain is not an output
    const args = [rand([8, 5]), rand([5, 6], "float32", 2), rand([6], "float32", 3)];
    expect(check(g, args).stats.inPlace).toBe(1);
    // returned: the epilogue still runs over the fresh matmul result (it escapes exactly)
    expect(check(f, args).stats.inPlace).toBe(1);
  });

  it("a reduction result feeds an epilogue", () => {
    const f = (x: Tensor) => ng.mul(ng.exp(ng.neg(ng.sum(x, 1))), 2);
    const { stats } = check(f, [rand([4, 7])]);
    expect(stats.groups).toBe(1);
    expect(stats.inPlace).toBe(1);
  });

  it("a buffer read through a view is not overwritten in place", () => {
    // e is read both directly and transposed by the same group: no in-place write over it.
    const f = (x: Tensor) => {
      const e = ng.matmul(x, x);
      return ng.add(e, ng.transpose(e));
    };
    const { stats } = check(f, [rand([4, 4])]);
    expect(stats.inPlace).toBe(0);
  });

  it("the W0 gradient of a tanh MLP equals the unfused program bitwise", () => {
    const mlp = (ps: Tensor[], x: Tensor) => {
      let h = x;
      for (let i = 0; i < ps.length; i += 2) {
        h = ng.add(ng.matmul(h, ps[i]!), ps[i + 1]!);
        if (i + 2 < ps.length) h = ng.tanh(h);
      }
      return h;
    };
    const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, y: Tensor) =>
      ng.mean(ng.square(ng.sub(mlp([w1, b1, w2, b2], x), y)));
    const grad = (...a: Tensor[]) =>
      ng.grad((ps: Tensor[]) => loss(ps[0]!, ps[1]!, ps[2]!, ps[3]!, a[4]!, a[5]!))(
        a.slice(0, 4),
      ) as Tensor[];
    const args = [
      rand([3, 8], "float32", 1, -1, 1),
      rand([8], "float32", 2, -0.1, 0.1),
      rand([8, 1], "float32", 3, -1, 1),
      rand([1], "float32", 4),
      rand([16, 3], "float32", 5),
      rand([16, 1], "float32", 6),
    ];
    const { stats } = check(grad, args);
    expect(stats.inPlace).toBeGreaterThan(0);
  });
});

describe("fusion: vector kernels inside fused loops", () => {
  // n = 60·50 = 3000: more than one chunk of the staged path, rows that straddle chunks
  const big = (dtype: "float32" | "float64" = "float32", seed = 1) => rand([60, 50], dtype, seed);

  it("transcendental chains equal the unfused kernels bitwise (vector kernels where they run)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const f = (x: Tensor, b: Tensor) => {
        const h = ng.tanh(ng.add(x, b)); // stage 0 reads x and the broadcast b
        const e = ng.exp(ng.mul(h, x)); // x is carried to the next stage
        const s = ng.sigmoid(ng.sub(e, h));
        return [h, ng.add(ng.log(ng.add(s, 1)), ng.erf(x)), ng.mul(ng.expm1(h), ng.log1p(s))];
      };
      check(f, [big(dtype), rand([50], dtype, 3)]);
    }
  });

  it("a non-contiguous operand takes the JavaScript formula, as the unfused kernel does", () => {
    const f = (x: Tensor, y: Tensor) => ng.mul(ng.tanh(x), ng.exp(ng.add(x, y)));
    const ir = lower(f, [big(), big("float32", 2)]);
    const xT = ng.transpose(rand([50, 60], "float32", 4)) as ConcreteTensor;
    const y = big("float32", 5) as ConcreteTensor;
    const a = compile(ir, true).run([xT.value, y.value]);
    const b = compile(ir, false).run([xT.value, y.value]);
    expectBitwise(a, b, "transposed input");
  });

  it("contiguous inputs with an offset (row slices) on every path", () => {
    const f = (x: Tensor, y: Tensor) => [ng.tanh(x), ng.mul(x, y), ng.add(ng.exp(x), ng.mul(y, 2))];
    for (const rows of [2, 60]) {
      const ir = lower(f, [rand([rows, 50]), rand([rows, 50])]);
      const x = ng.slice(rand([rows + 3, 50], "float32", 6), [
        { start: 2, stop: rows + 2 },
      ]) as ConcreteTensor;
      const y = ng.slice(rand([rows + 1, 50], "float32", 7), [{ start: 1 }]) as ConcreteTensor;
      expect([x.value.contiguous, x.value.offset > 0]).toEqual([true, true]);
      const a = compile(ir, true).run([x.value, y.value]);
      const b = compile(ir, false).run([x.value, y.value]);
      expectBitwise(a, b, `row slices, ${rows} rows`);
      expectClose(
        a.map((o) => new ConcreteTensor(o)),
        f(x, y),
        0,
        0,
        "row slices vs eager",
      );
    }
  });

  it("through an identity (stopGradient, a same-dtype cast) the operand is the input itself", () => {
    // built by hand: jit's passes remove these identities before the interpreter sees them
    for (const prim of [stopGradientP, castP]) {
      const x = new Var(new ShapedArray([60, 50], "float64"));
      const s = new Var(x.aval);
      const t = new Var(x.aval);
      const params = prim === castP ? { dtype: "float64" } : {};
      const ir = new IR(
        [x],
        [],
        [],
        [
          { prim, params, inputs: [x], outputs: [s] },
          { prim: tanhP, params: {}, inputs: [s], outputs: [t] },
        ],
        [t],
      );
      expect(interpreterStats(compile(ir, true))!.fusedEquations).toBe(2);
      // a transposed operand: the unfused tanh gets the view itself and takes Math.tanh
      const xT = ng.transpose(rand([50, 60], "float64", 4)) as ConcreteTensor;
      const xs = [xT.value];
      expectBitwise(compile(ir, true).run(xs), compile(ir, false).run(xs), `${prim.name}, view`);
      const xc = [(rand([60, 50], "float64", 5) as ConcreteTensor).value];
      expectBitwise(
        compile(ir, true).run(xc),
        compile(ir, false).run(xc),
        `${prim.name}, contiguous`,
      );
    }
  });

  it("one-op groups run the vector kernel straight into the output", () => {
    check((x: Tensor) => ng.tanh(x), [big()]);
    check((x: Tensor, y: Tensor) => ng.mul(x, y), [big(), big("float32", 2)]);
    check((x: Tensor) => ng.sub(ng.mul(x, 0.5), 1), [big("float64")]);
    check((x: Tensor, y: Tensor) => ng.div(x, ng.add(ng.abs(y), 1)), [big(), big("float32", 2)]);
  });

  it("ops whose vector kernels are exact (sqrt, rsqrt, abs, neg, +, −, ×, ÷) agree bitwise at every size", () => {
    const f = (x: Tensor, y: Tensor) => [
      ng.sqrt(ng.abs(x)),
      ng.rsqrt(ng.add(ng.abs(x), 0.5)),
      ng.neg(ng.abs(ng.sub(x, y))),
      ng.div(ng.mul(x, y), ng.add(ng.maximum(y, 0.25), ng.minimum(x, 0.5))),
    ];
    check(f, [big(), big("float32", 2)]);
    check(f, [big("float64"), big("float64", 2)]);
    // NaN, ±0 and ±∞ (maximum/minimum propagate NaN and order −0 below +0 on both paths)
    const special = [Number.NaN, -0, 0, Infinity, -Infinity, 1, -1];
    const withSpecial = (seed: number) =>
      ng.reshape(
        ng.array(
          values01(3000, seed).map((v, i) =>
            i % 7 === 0 ? special[(i / 7) % special.length]! : v,
          ),
          { dtype: "float32" },
        ),
        [60, 50],
      );
    const g = (x: Tensor, y: Tensor) => [
      ng.maximum(x, y),
      ng.minimum(x, y),
      ng.add(ng.maximum(x, y), ng.minimum(y, x)),
    ];
    check(g, [withSpecial(1), withSpecial(2)]);
  });

  it("with the vector kernels off, fused and unfused both use the JavaScript formulas", () => {
    const f = (x: Tensor) => ng.mul(ng.tanh(ng.exp(ng.mul(x, 0.5))), x);
    const x = big();
    const before = setWasmElementwiseEnabled(false);
    try {
      check(f, [x]);
    } finally {
      setWasmElementwiseEnabled(before);
    }
  });

  it("int and bool operands of transcendentals (computed in float32 by the JavaScript formula)", () => {
    const f = (i: Tensor, x: Tensor) =>
      ng.add(ng.exp(ng.mul(i, 0.25)), ng.tanh(ng.cast(ng.greater(x, 0), "float32")));
    check(f, [ints([60, 50], 3), big()]);
  });
});

describe("fusion: switches and fallback", () => {
  it("without new Function (strict CSP) the interpreter runs unfused and says so", () => {
    const f = (x: Tensor, y: Tensor) => ng.mul(ng.tanh(ng.add(x, y)), 2);
    const x = rand([3, 4]);
    const y = rand([4], "float32", 2);
    // what a Content-Security-Policy without 'unsafe-eval' does to `new Function`
    const original = globalThis.Function;
    const forbidden = new Proxy(original, {
      construct() {
        throw new EvalError("Refused to evaluate a string as JavaScript (CSP)");
      },
      apply() {
        throw new EvalError("Refused to evaluate a string as JavaScript (CSP)");
      },
    });
    let got: Tensor;
    let notes: readonly string[];
    let stats;
    try {
      globalThis.Function = forbidden;
      setCodegenAvailable(null); // detect again
      expect(codegenAvailable()).toBe(false);
      expect(fusionActive()).toBe(false);
      const jf = ng.jit(f, { backend: "interpreter" });
      got = jf(x, y);
      notes = jf.stats().notes;
      stats = interpreterStats(interpreterBackend.compile(lower(f, [x, y]), { threads: 1 }));
    } finally {
      globalThis.Function = original;
      setCodegenAvailable(null);
    }
    expect(codegenAvailable()).toBe(true);
    expectClose([got], [f(x, y)], 0, 0, "fallback vs eager");
    expect(notes.join(" ")).toMatch(/fusion is off/);
    expect(stats).toMatchObject({ groups: 0, fusedEquations: 0 });
    // the switch alone does the same
    setCodegenAvailable(false);
    expect(fusionActive()).toBe(false);
  });

  it("generated loops are cached by group structure, not by program or shape", () => {
    const f = (x: Tensor, y: Tensor) => ng.add(ng.mul(ng.exp(x), y), 1.5);
    compile(lower(f, [rand([2, 3]), rand([2, 3])]), true);
    const count = generatedKernelCount();
    // another program with a group of the same structure, at another small shape
    const g = (a: Tensor, b: Tensor) => ng.add(ng.mul(ng.exp(a), b), 2.5);
    const fg = compile(lower(g, [rand([1, 5]), rand([1, 5])]), true);
    expect(generatedKernelCount()).toBe(count);
    expect(interpreterStats(fg)!.groups).toBe(1);
  });

  it("the switch off gives the unfused program; on again fuses", () => {
    const f = (x: Tensor) => ng.exp(ng.neg(x));
    const ir = lower(f, [rand([3])]);
    expect(interpreterStats(compile(ir, false))!.groups).toBe(0);
    expect(interpreterStats(compile(ir, true))!.groups).toBe(1);
  });
});
