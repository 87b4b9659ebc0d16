/**
 * Tests of convolution and pooling: conv, convTranspose,
 * maxPool and meanPool against naive direct-loop references written here (1-d and 2-d,
 * stride / padding / dilation / groups combinations, float32 and float64), the adjoint
 * identity ⟨conv(x, w), y⟩ = ⟨x, convTranspose(y, w)⟩, gradient checks wrt x and w to
 * second order against finite differences, tie and padding rules of maxPool, and errors.
 */
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";

type DT = "float32" | "float64";
const flat = (t: Tensor): number[] => Array.from(t.dataSync());
const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Deterministic pseudo-random values in [-1, 1] (an LCG, independent of the library). */
function values(n: number, seed: number): number[] {
  let s = seed * 7919 + 17;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}
function tensor(shape: number[], seed: number, dtype: DT = "float64"): Tensor {
  return ng.reshape(ng.array(values(prod(shape), seed), { dtype }), shape);
}

/** Row-major multi-index of flat index k in `shape`. */
function unravel(k: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = k % shape[d]!;
    k = Math.floor(k / shape[d]!);
  }
  return idx;
}
function ravel(idx: readonly number[], shape: readonly number[]): number {
  let k = 0;
  for (let d = 0; d < shape.length; d++) k = k * shape[d]! + idx[d]!;
  return k;
}

interface Geo {
  strides: number[];
  padding: [number, number][];
  dilation: number[];
  groups: number;
}

/** Naive convolution: y[b, o, co] = Σ_{t, ci} x[b, o·s + t·dil − lo, g·Cig + ci] · w[t, ci, co]. */
function refConv(x: number[], xs: number[], w: number[], ws: number[], g: Geo) {
  const n = xs.length - 2;
  const [B, Cin] = [xs[0]!, xs[n + 1]!];
  const [Cig, Cout] = [ws[n]!, ws[n + 1]!];
  const Cog = Cout / g.groups;
  const kSp = ws.slice(0, n);
  const outSp = xs
    .slice(1, n + 1)
    .map(
      (len, d) =>
        Math.floor(
          (len + g.padding[d]![0] + g.padding[d]![1] - g.dilation[d]! * (kSp[d]! - 1) - 1) /
            g.strides[d]!,
        ) + 1,
    );
  const ys = [B, ...outSp, Cout];
  const y = new Array<number>(prod(ys)).fill(0);
  for (let k = 0; k < y.length; k++) {
    const [b, ...rest] = unravel(k, ys);
    const o = rest.slice(0, n);
    const co = rest[n]!;
    const grp = Math.floor(co / Cog);
    let s = 0;
    for (let tk = 0; tk < prod(kSp); tk++) {
      const t = unravel(tk, kSp);
      const i = o.map((od, d) => od * g.strides[d]! + t[d]! * g.dilation[d]! - g.padding[d]![0]);
      if (i.some((v, d) => v < 0 || v >= xs[d + 1]!)) continue;
      for (let ci = 0; ci < Cig; ci++) {
        s += x[ravel([b!, ...i, grp * Cig + ci], xs)]! * w[ravel([...t, ci, co], ws)]!;
      }
    }
    y[k] = s;
  }
  expect(Cin).toBe(Cig * g.groups);
  return { y, ys };
}

/**
 * Naive transposed convolution, written as a scatter: every x[b, o, ci] adds
 * x · w[t, co', ci] to out[b, o·s + t·dil − lo, g·Cog + co'] (w is [...k, Cout/groups, Cin]).
 */
function refConvTranspose(
  x: number[],
  xs: number[],
  w: number[],
  ws: number[],
  g: Geo,
  outputPadding: number[],
) {
  const n = xs.length - 2;
  const [B, Cin] = [xs[0]!, xs[n + 1]!];
  const [Cog, Cw] = [ws[n]!, ws[n + 1]!];
  expect(Cw).toBe(Cin);
  const Cig = Cin / g.groups;
  const kSp = ws.slice(0, n);
  const outSp = xs
    .slice(1, n + 1)
    .map(
      (len, d) =>
        (len - 1) * g.strides[d]! -
        g.padding[d]![0] -
        g.padding[d]![1] +
        g.dilation[d]! * (kSp[d]! - 1) +
        outputPadding[d]! +
        1,
    );
  const ys = [B, ...outSp, Cog * g.groups];
  const y = new Array<number>(prod(ys)).fill(0);
  for (let k = 0; k < x.length; k++) {
    const [b, ...rest] = unravel(k, xs);
    const o = rest.slice(0, n);
    const ci = rest[n]!;
    const grp = Math.floor(ci / Cig);
    for (let tk = 0; tk < prod(kSp); tk++) {
      const t = unravel(tk, kSp);
      const i = o.map((od, d) => od * g.strides[d]! + t[d]! * g.dilation[d]! - g.padding[d]![0]);
      if (i.some((v, d) => v < 0 || v >= outSp[d]!)) continue;
      for (let c = 0; c < Cog; c++) {
        y[ravel([b!, ...i, grp * Cog + c], ys)]! += x[k]! * w[ravel([...t, c, ci], ws)]!;
      }
    }
  }
  return { y, ys };
}

/** Naive pooling: max (first maximum; padding skipped) or mean over the real elements. */
function refPool(
  x: number[],
  xs: number[],
  window: number[],
  strides: number[],
  padding: [number, number][],
  kind: "max" | "mean",
) {
  const n = xs.length - 2;
  const outSp = xs
    .slice(1, n + 1)
    .map(
      (len, d) =>
        Math.floor((len + padding[d]![0] + padding[d]![1] - window[d]!) / strides[d]!) + 1,
    );
  const ys = [xs[0]!, ...outSp, xs[n + 1]!];
  const y = new Array<number>(prod(ys));
  const arg = new Array<number>(prod(ys));
  for (let k = 0; k < y.length; k++) {
    const [b, ...rest] = unravel(k, ys);
    const o = rest.slice(0, n);
    const c = rest[n]!;
    let best = -Infinity;
    let bestAt = -1;
    let sum = 0;
    let count = 0;
    for (let tk = 0; tk < prod(window); tk++) {
      const t = unravel(tk, window);
      const i = o.map((od, d) => od * strides[d]! + t[d]! - padding[d]![0]);
      if (i.some((v, d) => v < 0 || v >= xs[d + 1]!)) continue;
      const at = ravel([b!, ...i, c], xs);
      const v = x[at]!;
      if (bestAt < 0 || v > best) [best, bestAt] = [v, at];
      sum += v;
      count++;
    }
    y[k] = kind === "max" ? best : sum / count;
    arg[k] = bestAt;
  }
  return { y, ys, arg };
}

function expectClose(got: number[], want: number[], tol: number): void {
  expect(got.length).toBe(want.length);
  const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
  const scale = Math.max(1, ...want.map(Math.abs));
  expect(worst).toBeLessThanOrEqual(tol * scale);
}

const tolOf = (dtype: DT) => (dtype === "float64" ? 1e-12 : 1e-5);

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  opts: ng.ConvOptions;
  geo: Geo;
}

const CONV_CASES: ConvCase[] = [
  {
    name: "1-d valid",
    x: [2, 7, 3],
    w: [3, 3, 4],
    opts: {},
    geo: { strides: [1], padding: [[0, 0]], dilation: [1], groups: 1 },
  },
  {
    name: "1-d stride 2, same",
    x: [2, 7, 2],
    w: [3, 2, 3],
    opts: { stride: 2, padding: "same" },
    // out = ⌈7/2⌉ = 4, total = 3·2 + 3 − 7 = 2 → [1, 1]
    geo: { strides: [2], padding: [[1, 1]], dilation: [1], groups: 1 },
  },
  {
    name: "1-d dilation 2, groups 2, [lo, hi] padding",
    x: [1, 9, 4],
    w: [3, 2, 6],
    opts: { dilation: 2, groups: 2, padding: [[2, 1]] },
    geo: { strides: [1], padding: [[2, 1]], dilation: [2], groups: 2 },
  },
  {
    name: "2-d valid",
    x: [2, 5, 6, 3],
    w: [3, 3, 3, 4],
    opts: {},
    geo: {
      strides: [1, 1],
      padding: [
        [0, 0],
        [0, 0],
      ],
      dilation: [1, 1],
      groups: 1,
    },
  },
  {
    name: "2-d same, stride 2 (extra padding on the high side)",
    x: [1, 6, 5, 2],
    w: [2, 3, 2, 3],
    opts: { stride: 2, padding: "same" },
    // dim 0: out 3, total = 2·2 + 2 − 6 = 0; dim 1: out 3, total = 2·2 + 3 − 5 = 2 → [1, 1]
    geo: {
      strides: [2, 2],
      padding: [
        [0, 0],
        [1, 1],
      ],
      dilation: [1, 1],
      groups: 1,
    },
  },
  {
    name: "2-d same with an odd total",
    x: [1, 4, 4, 1],
    w: [2, 2, 1, 2],
    opts: { padding: "same" },
    // total = 3 + 2 − 4 = 1 → [0, 1] (TF convention)
    geo: {
      strides: [1, 1],
      padding: [
        [0, 1],
        [0, 1],
      ],
      dilation: [1, 1],
      groups: 1,
    },
  },
  {
    name: "2-d per-dim stride and dilation, number padding",
    x: [2, 7, 6, 2],
    w: [2, 3, 2, 2],
    opts: { stride: [2, 1], dilation: [2, 1], padding: 1 },
    geo: {
      strides: [2, 1],
      padding: [
        [1, 1],
        [1, 1],
      ],
      dilation: [2, 1],
      groups: 1,
    },
  },
  {
    name: "2-d depthwise (groups = C)",
    x: [2, 5, 5, 3],
    w: [3, 3, 1, 3],
    opts: { groups: 3, padding: "same" },
    geo: {
      strides: [1, 1],
      padding: [
        [1, 1],
        [1, 1],
      ],
      dilation: [1, 1],
      groups: 3,
    },
  },
  {
    name: "2-d groups 2 with channel multiplier",
    x: [1, 5, 4, 4],
    w: [2, 2, 2, 6],
    opts: { groups: 2, stride: [1, 2], padding: [1, [0, 1]] },
    geo: {
      strides: [1, 2],
      padding: [
        [1, 1],
        [0, 1],
      ],
      dilation: [1, 1],
      groups: 2,
    },
  },
  {
    name: "2-d groups 2 with 4 outputs per group, stride, dilation, padding",
    x: [1, 6, 5, 4],
    w: [2, 3, 2, 8],
    opts: {
      groups: 2,
      stride: [2, 1],
      dilation: [1, 2],
      padding: [
        [1, 0],
        [2, 1],
      ],
    },
    geo: {
      strides: [2, 1],
      padding: [
        [1, 0],
        [2, 1],
      ],
      dilation: [1, 2],
      groups: 2,
    },
  },
];

describe("conv against a naive reference", () => {
  for (const dtype of ["float64", "float32"] as const) {
    for (const [k, c] of CONV_CASES.entries()) {
      it(`${c.name} (${dtype})`, () => {
        const x = tensor(c.x, 2 * k + 1, dtype);
        const w = tensor(c.w, 2 * k + 2, dtype);
        const y = ng.conv(x, w, c.opts);
        const ref = refConv(flat(x), c.x, flat(w), c.w, c.geo);
        expect(y.shape).toEqual(ref.ys);
        expect(y.dtype).toBe(dtype);
        expectClose(flat(y), ref.y, tolOf(dtype));
      });
    }
  }

  it('"same" keeps ⌈in / stride⌉ for several sizes and strides', () => {
    for (const len of [5, 6, 7, 8])
      for (const s of [1, 2, 3])
        for (const k of [1, 2, 3, 4]) {
          const y = ng.conv(ng.ones([1, len, 1]), ng.ones([k, 1, 1]), {
            stride: s,
            padding: "same",
          });
          expect(y.shape).toEqual([1, Math.ceil(len / s), 1]);
        }
  });

  it("a hand-computed 1-d example", () => {
    // x = [1, 2, 3, 4], w = [1, 0, -1]: y[o] = x[o] - x[o + 2]
    const y = ng.conv(ng.array([[[1], [2], [3], [4]]]), ng.array([[[1]], [[0]], [[-1]]]));
    expect(y.toArray()).toEqual([[[-2], [-2]]]);
  });

  it("computes in float64 when x and w dtypes differ", () => {
    const y = ng.conv(tensor([1, 4, 1], 1, "float32"), tensor([2, 1, 1], 2, "float64"));
    expect(y.dtype).toBe("float64");
  });
});

describe("convTranspose", () => {
  const cases: {
    name: string;
    x: number[];
    w: number[];
    opts: ng.ConvTransposeOptions;
    geo: Geo;
    op: number[];
  }[] = [
    {
      name: "1-d stride 2",
      x: [2, 4, 3],
      w: [3, 2, 3],
      opts: { stride: 2 },
      geo: { strides: [2], padding: [[0, 0]], dilation: [1], groups: 1 },
      op: [0],
    },
    {
      name: "1-d padding, dilation, outputPadding, groups",
      x: [1, 5, 4],
      w: [3, 3, 4],
      opts: { stride: 3, padding: [[2, 1]], dilation: 2, outputPadding: 2, groups: 2 },
      geo: { strides: [3], padding: [[2, 1]], dilation: [2], groups: 2 },
      op: [2],
    },
    {
      name: "2-d stride [2, 1], padding 1",
      x: [2, 3, 4, 2],
      w: [3, 2, 3, 2],
      opts: { stride: [2, 1], padding: 1 },
      geo: {
        strides: [2, 1],
        padding: [
          [1, 1],
          [1, 1],
        ],
        dilation: [1, 1],
        groups: 1,
      },
      op: [0, 0],
    },
  ];
  for (const dtype of ["float64", "float32"] as const) {
    for (const [k, c] of cases.entries()) {
      it(`${c.name} against a naive scatter (${dtype})`, () => {
        const x = tensor(c.x, 10 + k, dtype);
        const w = tensor(c.w, 20 + k, dtype);
        const y = ng.convTranspose(x, w, c.opts);
        const ref = refConvTranspose(flat(x), c.x, flat(w), c.w, c.geo, c.op);
        expect(y.shape).toEqual(ref.ys);
        expectClose(flat(y), ref.y, tolOf(dtype));
      });
    }
  }

  it('"same" gives in·stride and is the adjoint of a "same" conv', () => {
    for (const [s, k] of [
      [1, 3],
      [2, 3],
      [2, 4],
      [3, 2],
      [2, 1],
    ] as const) {
      const y = tensor([1, 4, 5, 2], 5, "float64");
      const w = tensor([k, k, 3, 2], 6, "float64");
      const out = ng.convTranspose(y, w, { stride: s, padding: "same" });
      expect(out.shape).toEqual([1, 4 * s, 5 * s, 3]);
      const x = tensor([1, 4 * s, 5 * s, 3], 7, "float64");
      const cx = ng.conv(x, w, { stride: s, padding: "same" });
      expect(cx.shape).toEqual(y.shape);
      const lhs = ng.sum(ng.mul(cx, y)).item() as number;
      const rhs = ng.sum(ng.mul(x, out)).item() as number;
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhs)));
    }
  });

  it("is the adjoint of conv: ⟨conv(x, w), y⟩ = ⟨x, convTranspose(y, w)⟩", () => {
    for (const [k, c] of CONV_CASES.entries()) {
      const x = tensor(c.x, 30 + k);
      const w = tensor(c.w, 40 + k);
      const cx = ng.conv(x, w, c.opts);
      const y = tensor(cx.shape as number[], 50 + k);
      const n = c.x.length - 2;
      // the output padding that recovers x's spatial size
      const outputPadding = c.x.slice(1, n + 1).map((len, d) => {
        const base =
          (cx.shape[d + 1]! - 1) * c.geo.strides[d]! -
          c.geo.padding[d]![0] -
          c.geo.padding[d]![1] +
          c.geo.dilation[d]! * (c.w[d]! - 1) +
          1;
        return len - base;
      });
      const ty = ng.convTranspose(y, w, {
        stride: c.geo.strides,
        padding: c.geo.padding,
        dilation: c.geo.dilation,
        groups: c.geo.groups,
        outputPadding,
      });
      expect(ty.shape).toEqual(x.shape);
      const lhs = ng.sum(ng.mul(cx, y)).item() as number;
      const rhs = ng.sum(ng.mul(x, ty)).item() as number;
      expect(Math.abs(lhs - rhs), c.name).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhs)));
    }
  });

  it("is conv's gradient wrt x", () => {
    const c = CONV_CASES[8]!;
    const w = tensor(c.w, 3);
    const x = tensor(c.x, 4);
    const y = tensor(ng.conv(x, w, c.opts).shape as number[], 5);
    const g = ng.grad((a: Tensor) => ng.sum(ng.mul(ng.conv(a, w, c.opts), y)))(x);
    const ty = ng.convTranspose(y, w, {
      stride: c.geo.strides,
      padding: c.geo.padding,
      groups: 2,
      outputPadding: [0, 1],
    });
    expectClose(flat(g), flat(ty), 1e-12);
  });
});

describe("pooling against a naive reference", () => {
  const cases: {
    x: number[];
    opts: ng.PoolOptions;
    window: number[];
    strides: number[];
    padding: [number, number][];
  }[] = [
    { x: [2, 8, 3], opts: { window: 2 }, window: [2], strides: [2], padding: [[0, 0]] },
    {
      x: [1, 7, 2],
      opts: { window: 3, stride: 2, padding: "same" },
      window: [3],
      strides: [2],
      padding: [[1, 1]],
    },
    {
      x: [2, 5, 6, 2],
      opts: { window: [2, 3], stride: 1, padding: [[1, 0], 1] },
      window: [2, 3],
      strides: [1, 1],
      padding: [
        [1, 0],
        [1, 1],
      ],
    },
    {
      x: [1, 5, 5, 3],
      opts: { window: 2, padding: "same" },
      window: [2, 2],
      strides: [2, 2],
      padding: [
        [0, 1],
        [0, 1],
      ],
    },
  ];
  for (const dtype of ["float64", "float32"] as const) {
    for (const [k, c] of cases.entries()) {
      for (const kind of ["max", "mean"] as const) {
        it(`${kind}Pool ${JSON.stringify(c.opts)} on ${JSON.stringify(c.x)} (${dtype})`, () => {
          const x = tensor(c.x, 60 + k, dtype);
          const y = kind === "max" ? ng.maxPool(x, c.opts) : ng.meanPool(x, c.opts);
          const ref = refPool(flat(x), c.x, c.window, c.strides, c.padding, kind);
          expect(y.shape).toEqual(ref.ys);
          expect(y.dtype).toBe(dtype);
          expectClose(flat(y), ref.y, tolOf(dtype));
        });
      }
      it(`maxPool's gradient lands on the argmax ${JSON.stringify(c.opts)}`, () => {
        const x = tensor(c.x, 70 + k);
        const ref = refPool(flat(x), c.x, c.window, c.strides, c.padding, "max");
        const ct = tensor(ref.ys, 80 + k);
        const g = ng.grad((a: Tensor) => ng.sum(ng.mul(ng.maxPool(a, c.opts), ct)))(x);
        const want = new Array<number>(prod(c.x)).fill(0);
        flat(ct).forEach((v, i) => (want[ref.arg[i]!]! += v));
        expectClose(flat(g), want, 1e-12);
      });
    }
  }

  it("maxPool: ties send the gradient to the first maximum; padding never wins", () => {
    const x = ng.array([[[1], [3], [3], [0]]], { dtype: "float64" });
    const g = ng.grad((a: Tensor) => ng.sum(ng.maxPool(a, { window: 4 })))(x);
    expect(flat(g)).toEqual([0, 1, 0, 0]);
    const neg = ng.array([[[-5], [-3], [-4]]], { dtype: "float64" });
    const y = ng.maxPool(neg, { window: 2, stride: 1, padding: 1 });
    expect(flat(y)).toEqual([-5, -3, -3, -4]);
    const nan = ng.maxPool(ng.array([[[1], [NaN], [3], [2]]]), { window: 2 });
    expect(flat(nan)).toEqual([NaN, 3]);
  });

  it("meanPool excludes padding from the mean", () => {
    const y = ng.meanPool(ng.array([[[2], [4], [6]]]), { window: 2, stride: 1, padding: 1 });
    expect(flat(y)).toEqual([2, 3, 5, 6]);
  });
});

describe("derivatives to second order (float64, finite differences)", () => {
  const check = (f: (...a: Tensor[]) => Tensor, args: Tensor[]) =>
    expect(() => ng.testing.checkGrads(f, args, { order: 2 })).not.toThrow();

  for (const idx of [1, 2, 3, 6, 8, 9]) {
    const c = CONV_CASES[idx]!;
    it(`conv wrt x and w: ${c.name}`, () => {
      const x = tensor(c.x, 90 + idx);
      const w = tensor(c.w, 91 + idx);
      check((a, b) => ng.conv(a, b, c.opts), [x, w]);
      // a nonlinear function of the output exercises non-trivial second derivatives
      check((a, b) => ng.sum(ng.tanh(ng.conv(a, b, c.opts))), [x, w]);
    });
  }

  it("conv wrt x and w to third order", () => {
    const c = CONV_CASES[6]!;
    expect(() =>
      ng.testing.checkGrads(
        (a: Tensor, b: Tensor) => ng.sum(ng.sin(ng.conv(a, b, c.opts))),
        [tensor(c.x, 1), tensor(c.w, 2)],
        { order: 3 },
      ),
    ).not.toThrow();
  });

  it("convTranspose wrt x and w", () => {
    const opts = {
      stride: [2, 1],
      padding: [[1, 0], 1],
      outputPadding: [1, 0],
      groups: 2,
    } as const;
    const x = tensor([1, 3, 3, 4], 7);
    const w = tensor([3, 2, 3, 4], 8);
    check((a, b) => ng.convTranspose(a, b, opts as ng.ConvTransposeOptions), [x, w]);
    check(
      (a, b) => ng.sum(ng.square(ng.convTranspose(a, b, opts as ng.ConvTransposeOptions))),
      [x, w],
    );
  });

  it("maxPool and meanPool wrt x", () => {
    const x = tensor([2, 5, 4, 3], 9);
    check((a) => ng.maxPool(a, { window: [2, 3], stride: 1, padding: "same" }), [x]);
    check((a) => ng.sum(ng.exp(ng.maxPool(a, { window: 2 }))), [x]);
    check((a) => ng.meanPool(a, { window: [3, 2], stride: [2, 1], padding: 1 }), [x]);
    check((a) => ng.sum(ng.square(ng.meanPool(a, { window: 2 }))), [x]);
  });

  it("a small conv net: grad of a loss wrt every parameter, and a Hessian-vector product", () => {
    const x = tensor([2, 6, 6, 1], 11);
    const w1 = tensor([3, 3, 1, 3], 12);
    const w2 = tensor([2, 2, 3, 2], 13);
    const net = (a: Tensor, b: Tensor) => {
      const h = ng.tanh(ng.conv(x, a, { padding: "same" }));
      const p = ng.maxPool(h, { window: 2 });
      return ng.sum(ng.square(ng.conv(p, b, { groups: 1 })));
    };
    check(net, [w1, w2]);
  });

  it("reverse mode emits the conv family (no fallback), visible in the IR", () => {
    const f = (a: Tensor, b: Tensor) => ng.conv(a, b, { stride: 2 });
    const [y, pullback] = ng.vjp(f, tensor([1, 7, 7, 2], 2), tensor([3, 3, 2, 4], 1));
    const text = ng
      .makeIR((ct: Tensor) => pullback(ct))(ng.onesLike(y))
      .toString();
    expect(text).toContain("convBackInput");
    expect(text).toContain("convBackKernel");
  });
});

describe("errors", () => {
  const x = ng.ones([2, 8, 8, 3]);
  it("names a channel mismatch with both shapes and the groups", () => {
    expect(() => ng.conv(x, ng.ones([3, 3, 4, 8]))).toThrow(
      "conv: x has 3 input channels but w expects 4 (w shape [3, 3, 4, 8], groups 1)",
    );
  });
  it("rejects groups that do not divide the channels", () => {
    expect(() => ng.conv(ng.ones([1, 5, 4]), ng.ones([3, 2, 6]), { groups: 3 })).toThrow(
      /groups 3 does not divide the 4 input channels/,
    );
    expect(() => ng.conv(ng.ones([1, 5, 4]), ng.ones([3, 2, 3]), { groups: 2 })).toThrow(
      /groups 2 does not divide the 3 output channels/,
    );
    expect(() => ng.conv(ng.ones([1, 5, 4]), ng.ones([3, 4, 4]), { groups: 0 })).toThrow(
      /groups: expected a positive integer/,
    );
  });
  it("rejects a kernel larger than the padded input", () => {
    expect(() => ng.conv(ng.ones([1, 4, 4, 1]), ng.ones([5, 3, 1, 1]))).toThrow(
      /kernel \(dilated size 5\) is larger than the padded input \(size 4\) along spatial dim 0/,
    );
    expect(() =>
      ng.conv(ng.ones([1, 4, 1]), ng.ones([3, 1, 1]), { dilation: 2, padding: 0 }),
    ).toThrow(/dilated size 5/);
  });
  it("rejects bad ranks, dtypes and options", () => {
    expect(() => ng.conv(ng.ones([8, 8, 3]), ng.ones([3, 3, 3, 8]))).toThrow(
      /conv: x must have rank 4 .* got shape \[8, 8, 3\]/,
    );
    expect(() => ng.conv(x, ng.ones([3, 8]))).toThrow(/w must have rank >= 3/);
    expect(() => ng.conv(ng.ones([1, 4, 1], { dtype: "int32" }), ng.ones([2, 1, 1]))).toThrow(
      /conv: x must be float32 or float64, got int32/,
    );
    expect(() => ng.conv(x, ng.ones([3, 3, 3, 8]), { stride: [1, 2, 3] })).toThrow(
      /stride: expected a positive integer or 2 of them/,
    );
    expect(() => ng.conv(x, ng.ones([3, 3, 3, 8]), { stride: 0 })).toThrow(/stride/);
    expect(() => ng.conv(x, ng.ones([3, 3, 3, 8]), { padding: "full" as never })).toThrow(
      /padding: expected "valid", "same"/,
    );
    expect(() => ng.conv(x, ng.ones([3, 3, 3, 8]), { padding: [[1, -1], 0] })).toThrow(
      /padding\[0\]/,
    );
  });
  it("convTranspose: channel mismatch and output padding", () => {
    expect(() => ng.convTranspose(x, ng.ones([3, 3, 8, 4]))).toThrow(
      /convTranspose: x has 3 input channels but w expects 4 .*\[\.\.\.kernel, Cout\/groups, Cin\]/,
    );
    expect(() =>
      ng.convTranspose(x, ng.ones([3, 3, 8, 3]), { stride: 2, outputPadding: 2 }),
    ).toThrow(/outputPadding: expected 2 non-negative integers each smaller than the stride/);
  });
  it("pooling: window, padding and rank", () => {
    expect(() => ng.maxPool(x, {} as ng.PoolOptions)).toThrow(/options.window is required/);
    expect(() => ng.maxPool(x, { window: 2, padding: 2 })).toThrow(
      /padding \[2, 2\] along spatial dim 0 must be smaller than the window \(2\)/,
    );
    expect(() => ng.meanPool(x, { window: 9 })).toThrow(/window 9 is larger than the padded input/);
    expect(() => ng.maxPool(ng.ones([4, 3]), { window: 2 })).toThrow(/x must have rank >= 3/);
  });
});
