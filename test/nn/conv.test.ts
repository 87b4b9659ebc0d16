/**
 * Tests of the convolution and pooling layers: conv1d, conv2d (stride,
 * padding incl. "same", dilation, groups), convTranspose2d, maxPool, meanPool and
 * globalMeanPool against direct plain-JS loops over channels-last arrays; gradient checks
 * wrt parameters and input in float64 (order 2 for the smooth ones, order 1 for maxPool);
 * input-shape errors naming the layer path.
 */
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { expectClose, flat, randn, randomParams, reader } from "./helpers.js";

const nn = ng.nn;
const key = ng.random.key(0);
const F64 = { dtype: "float64" } as const;

type Pads = [[number, number], [number, number]];

/** "same" padding (TF convention): out = ⌈in/s⌉, the odd element on the high side. */
function samePad(n: number, k: number, s: number, d: number): [number, number] {
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + d * (k - 1) + 1 - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Direct 2-D convolution: x [B, H, W, Cin], w [kh, kw, Cin/g, Cout]. */
function conv2dRef(
  x: Tensor,
  w: Tensor,
  stride: [number, number],
  pad: Pads,
  dil: [number, number],
  groups: number,
): { shape: number[]; data: number[] } {
  const [B, H, W, Cin] = x.shape as number[];
  const [kh, kw, cg, Cout] = w.shape as number[];
  const xv = reader(x);
  const wv = reader(w);
  const OH = Math.floor((H! + pad[0][0] + pad[0][1] - dil[0] * (kh! - 1) - 1) / stride[0]) + 1;
  const OW = Math.floor((W! + pad[1][0] + pad[1][1] - dil[1] * (kw! - 1) - 1) / stride[1]) + 1;
  const outPerGroup = Cout! / groups;
  const data: number[] = [];
  for (let b = 0; b < B!; b++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let co = 0; co < Cout!; co++) {
          const g = Math.floor(co / outPerGroup);
          let s = 0;
          for (let i = 0; i < kh!; i++)
            for (let j = 0; j < kw!; j++) {
              const h = oh * stride[0] + i * dil[0] - pad[0][0];
              const ww = ow * stride[1] + j * dil[1] - pad[1][0];
              if (h < 0 || h >= H! || ww < 0 || ww >= W!) continue;
              for (let c = 0; c < cg!; c++) s += xv(b, h, ww, g * cg! + c) * wv(i, j, c, co);
            }
          data.push(s);
        }
  expect(Cin).toBe(cg! * groups);
  return { shape: [B!, OH, OW, Cout!], data };
}

/**
 * Direct transposed convolution by scattering: x [B, H, W, Cin], w [kh, kw, Cout/g, Cin];
 * each input element adds x·w into the output at (h·s + i·d - lo, w·s + j·d - lo).
 */
function convTranspose2dRef(
  x: Tensor,
  w: Tensor,
  stride: number,
  pad: [number, number],
  outputPadding: number,
): { shape: number[]; data: number[] } {
  const [B, H, W, Cin] = x.shape as number[];
  const [kh, kw, Cout] = w.shape as number[];
  const OH = (H! - 1) * stride - pad[0] - pad[1] + kh! + outputPadding;
  const OW = (W! - 1) * stride - pad[0] - pad[1] + kw! + outputPadding;
  const xv = reader(x);
  const wv = reader(w);
  const out = new Array<number>(B! * OH * OW * Cout!).fill(0);
  for (let b = 0; b < B!; b++)
    for (let h = 0; h < H!; h++)
      for (let ww = 0; ww < W!; ww++)
        for (let ci = 0; ci < Cin!; ci++)
          for (let i = 0; i < kh!; i++)
            for (let j = 0; j < kw!; j++) {
              const p = h * stride + i - pad[0];
              const q = ww * stride + j - pad[0];
              if (p < 0 || p >= OH || q < 0 || q >= OW) continue;
              for (let co = 0; co < Cout!; co++) {
                out[((b * OH + p) * OW + q) * Cout! + co]! += xv(b, h, ww, ci) * wv(i, j, co, ci);
              }
            }
  return { shape: [B!, OH, OW, Cout!], data: out };
}

function setupRandom(layer: any, seed: number): [any, any] {
  const [ps, st] = nn.setup(key, layer);
  return [randomParams(ps, seed), st];
}

function withBias(ref: { shape: number[]; data: number[] }, bias: Tensor): number[] {
  const bv = flat(bias);
  return ref.data.map((v, i) => v + bv[i % bv.length]!);
}

describe("conv2d", () => {
  const cases: {
    name: string;
    opts: any;
    stride: [number, number];
    dil: [number, number];
    groups: number;
    pad: (H: number, W: number) => Pads;
  }[] = [
    {
      name: "valid",
      opts: {},
      stride: [1, 1],
      dil: [1, 1],
      groups: 1,
      pad: () => [
        [0, 0],
        [0, 0],
      ],
    },
    {
      name: "stride 2, same",
      opts: { stride: 2, padding: "same" },
      stride: [2, 2],
      dil: [1, 1],
      groups: 1,
      pad: (H, W) => [samePad(H, 3, 2, 1), samePad(W, 3, 2, 1)],
    },
    {
      name: "dilation 2, explicit padding",
      opts: {
        dilation: 2,
        padding: [
          [1, 0],
          [0, 2],
        ],
      },
      stride: [1, 1],
      dil: [2, 2],
      groups: 1,
      pad: () => [
        [1, 0],
        [0, 2],
      ],
    },
    {
      name: "per-dim stride, groups 2",
      opts: { stride: [1, 2], groups: 2, padding: 1 },
      stride: [1, 2],
      dil: [1, 1],
      groups: 2,
      pad: () => [
        [1, 1],
        [1, 1],
      ],
    },
  ];
  for (const c of cases) {
    it(`matches direct loops: ${c.name}`, () => {
      const layer = nn.conv2d(4, 6, 3, { ...c.opts, ...F64 });
      const [ps, st] = setupRandom(layer, 10);
      expect(ps.weight.shape).toEqual([3, 3, 4 / c.groups, 6]);
      const x = randn(1, [2, 6, 5, 4]);
      const [y] = layer.apply(x, ps, st);
      const ref = conv2dRef(x, ps.weight, c.stride, c.pad(6, 5), c.dil, c.groups);
      expect(y.shape).toEqual(ref.shape);
      expectClose(y, withBias(ref, ps.bias), 1e-12);
    });
  }

  it("non-square kernel, activation, no bias", () => {
    const layer = nn.conv2d(2, 3, [2, 3], ng.tanh, { useBias: false, ...F64 });
    const [ps, st] = setupRandom(layer, 11);
    expect(Object.keys(ps)).toEqual(["weight"]);
    const x = randn(2, [1, 4, 5, 2]);
    const ref = conv2dRef(
      x,
      ps.weight,
      [1, 1],
      [
        [0, 0],
        [0, 0],
      ],
      [1, 1],
      1,
    );
    expectClose(layer.apply(x, ps, st)[0], ref.data.map(Math.tanh), 1e-12);
  });

  it("gradients wrt params and input to order 2 (tanh, stride 2, same)", () => {
    const layer = nn.conv2d(2, 2, 2, ng.tanh, { stride: 2, padding: "same", ...F64 });
    const [ps, st] = setupRandom(layer, 12);
    ng.testing.checkGrads(
      (x: Tensor, p: any) => layer.apply(x, p, st)[0],
      [randn(3, [1, 3, 3, 2]), ps],
      {
        order: 2,
      },
    );
  });

  it("grouped and dilated gradients to order 1", () => {
    const layer = nn.conv2d(2, 4, 2, { groups: 2, dilation: [1, 2], ...F64 });
    const [ps, st] = setupRandom(layer, 13);
    ng.testing.checkGrads(
      (x: Tensor, p: any) => layer.apply(x, p, st)[0],
      [randn(4, [1, 3, 4, 2]), ps],
      {
        order: 1,
      },
    );
  });

  it("errors name the path and the layout", () => {
    const model = nn.chain(nn.conv2d(3, 4, 3), nn.globalMeanPool(), nn.dense(4, 2));
    const [ps, st] = nn.setup(key, model);
    expect(() => model.apply(ng.zeros([2, 5, 5, 2]), ps, st)).toThrow(
      "chain.layer_1 (conv2d 3 → 4, kernel [3, 3]): expected input with last dimension 3, got shape [2, 5, 5, 2]",
    );
    expect(() => model.apply(ng.zeros([5, 5, 3]), ps, st)).toThrow(
      "chain.layer_1 (conv2d 3 → 4, kernel [3, 3]): expected input of rank 4 ([batch, height, width, channels]), got shape [5, 5, 3]",
    );
    expect(() => nn.conv2d(3, 4, 3, { groups: 2 })).toThrow(
      "conv2d: inChannels (3) and outChannels (4) must be divisible by groups (2)",
    );
    expect(() => nn.conv2d(3, 4, [3, 3, 3])).toThrow(
      /conv2d: kernel: expected a positive integer or 2 of them/,
    );
  });
});

describe("conv1d", () => {
  it("matches the 2-D reference with a unit height; gradients to order 2", () => {
    const layer = nn.conv1d(3, 2, 3, { stride: 2, padding: "same", ...F64 });
    const [ps, st] = setupRandom(layer, 20);
    expect(ps.weight.shape).toEqual([3, 3, 2]);
    const x = randn(5, [2, 7, 3]);
    const [y] = layer.apply(x, ps, st);
    const ref = conv2dRef(
      ng.reshape(x, [2, 1, 7, 3]),
      ng.reshape(ps.weight, [1, 3, 3, 2]),
      [1, 2],
      [[0, 0], samePad(7, 3, 2, 1)],
      [1, 1],
      1,
    );
    expect(y.shape).toEqual([2, 4, 2]);
    expectClose(y, withBias(ref, ps.bias), 1e-12);
    ng.testing.checkGrads(
      (xx: Tensor, p: any) => layer.apply(xx, p, st)[0],
      [randn(6, [1, 4, 3]), ps],
      {
        order: 2,
      },
    );
  });
});

describe("convTranspose2d", () => {
  it("matches a direct scatter (stride 2), and upsamples", () => {
    const layer = nn.convTranspose2d(3, 2, 3, { stride: 2, ...F64 });
    const [ps, st] = setupRandom(layer, 30);
    expect(ps.weight.shape).toEqual([3, 3, 2, 3]);
    const x = randn(7, [2, 3, 2, 3]);
    const [y] = layer.apply(x, ps, st);
    const ref = convTranspose2dRef(x, ps.weight, 2, [0, 0], 0);
    expect(y.shape).toEqual(ref.shape);
    expect(y.shape).toEqual([2, 7, 5, 2]);
    expectClose(y, withBias(ref, ps.bias), 1e-12);
  });

  it("padding and outputPadding; 'same' doubles the size with stride 2", () => {
    const layer = nn.convTranspose2d(2, 2, 3, { stride: 2, padding: 1, outputPadding: 1, ...F64 });
    const [ps, st] = setupRandom(layer, 31);
    const x = randn(8, [1, 3, 3, 2]);
    const [y] = layer.apply(x, ps, st);
    const ref = convTranspose2dRef(x, ps.weight, 2, [1, 1], 1);
    expect(y.shape).toEqual([1, 6, 6, 2]);
    expectClose(y, withBias(ref, ps.bias), 1e-12);
    const same = nn.convTranspose2d(2, 4, 2, { stride: 2, padding: "same" });
    const [p2, s2] = nn.setup(key, same);
    expect(same.apply(ng.zeros([1, 3, 5, 2]), p2, s2)[0].shape).toEqual([1, 6, 10, 4]);
  });

  it("gradients wrt params and input to order 2", () => {
    const layer = nn.convTranspose2d(2, 2, 2, ng.tanh, { stride: 2, ...F64 });
    const [ps, st] = setupRandom(layer, 32);
    ng.testing.checkGrads(
      (x: Tensor, p: any) => layer.apply(x, p, st)[0],
      [randn(9, [1, 2, 2, 2]), ps],
      {
        order: 2,
      },
    );
  });
});

describe("pooling", () => {
  const x = randn(40, [2, 4, 6, 3]);
  const xv = reader(x);

  function poolRef(
    kind: "max" | "mean",
    win: [number, number],
    stride: [number, number],
  ): { shape: number[]; data: number[] } {
    const OH = Math.floor((4 - win[0]) / stride[0]) + 1;
    const OW = Math.floor((6 - win[1]) / stride[1]) + 1;
    const data: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          for (let c = 0; c < 3; c++) {
            const vals: number[] = [];
            for (let i = 0; i < win[0]; i++)
              for (let j = 0; j < win[1]; j++)
                vals.push(xv(b, oh * stride[0] + i, ow * stride[1] + j, c));
            data.push(
              kind === "max" ? Math.max(...vals) : vals.reduce((a, v) => a + v, 0) / vals.length,
            );
          }
    return { shape: [2, OH, OW, 3], data };
  }

  it("maxPool and meanPool match direct loops (stride defaults to the window)", () => {
    for (const [kind, layer] of [
      ["max", nn.maxPool(2)],
      ["mean", nn.meanPool([2, 3])],
    ] as const) {
      const win: [number, number] = kind === "max" ? [2, 2] : [2, 3];
      const [y] = layer.apply(x, {}, {});
      const ref = poolRef(kind, win, win);
      expect(y.shape).toEqual(ref.shape);
      expectClose(y, ref.data, 1e-12);
    }
    const [y] = nn.maxPool([3, 2], { stride: 1 }).apply(x, {}, {});
    const ref = poolRef("max", [3, 2], [1, 1]);
    expect(y.shape).toEqual(ref.shape);
    expectClose(y, ref.data, 1e-12);
  });

  it("meanPool with 'same' padding averages only the elements inside the input", () => {
    const ones = ng.ones([1, 3, 3, 1], F64);
    const [y] = nn.meanPool(2, { padding: "same" }).apply(ones, {}, {});
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expectClose(y, [1, 1, 1, 1], 1e-12);
  });

  it("globalMeanPool averages the spatial axes: [B, H, W, C] → [B, C]", () => {
    const [y] = nn.globalMeanPool().apply(x, {}, {});
    expect(y.shape).toEqual([2, 3]);
    const want: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let h = 0; h < 4; h++) for (let w = 0; w < 6; w++) s += xv(b, h, w, c);
        want.push(s / 24);
      }
    expectClose(y, want, 1e-12);
    expect(nn.globalMeanPool().apply(randn(41, [2, 5, 3]), {}, {})[0].shape).toEqual([2, 3]);
    expect(nn.globalMaxPool().apply(x, {}, {})[0].shape).toEqual([2, 3]);
  });

  it("gradients: meanPool and globalMeanPool to order 2, maxPool to order 1", () => {
    const small = randn(42, [1, 4, 4, 2]);
    const mp = nn.meanPool(2);
    const gp = nn.globalMeanPool();
    const xp = nn.maxPool(2);
    ng.testing.checkGrads((a: Tensor) => mp.apply(a, {}, {})[0], [small], { order: 2 });
    ng.testing.checkGrads((a: Tensor) => gp.apply(a, {}, {})[0], [small], { order: 2 });
    ng.testing.checkGrads((a: Tensor) => xp.apply(a, {}, {})[0], [small], { order: 1 });
  });

  it("pooling layers validate the rank", () => {
    expect(() => nn.maxPool([2, 2]).apply(ng.zeros([4, 4, 3]), {}, {})).toThrow(
      "maxPool [2,2]: expected input of rank 4 ([batch, ...spatial, channels]), got shape [4, 4, 3]",
    );
  });
});

describe("a small conv net end to end", () => {
  it("chains conv, pool, norm, flatten and dense; gradients wrt all params to order 1", () => {
    const model = nn.chain(
      nn.conv2d(1, 2, 3, ng.relu, { padding: "same", ...F64 }),
      nn.maxPool(2),
      nn.groupNorm(2, 1, F64),
      nn.flatten(),
      nn.dense(8, 2, F64),
    );
    const [ps, st] = nn.setup(key, model);
    const x = randn(50, [2, 4, 4, 1]);
    const [y] = model.apply(x, ps, st);
    expect(y.shape).toEqual([2, 2]);
    const labels = ng.array([0, 1], { dtype: "int32" });
    ng.testing.checkGrads(
      (p: any) => nn.crossEntropyWithLogits(model.apply(x, p, st)[0], labels),
      [ps],
      { order: 1 },
    );
  });
});
