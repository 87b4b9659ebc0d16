/**
 * Tests of the recurrent layers: rnnCell, lstmCell and gruCell against
 * plain-JS step functions, recurrence over a sequence (last output and full sequence),
 * carry validation, and gradient checks wrt parameters and input to order 2 (float64).
 */
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { expectClose, flat, matmulJs, randn, randomParams, sigmoidJs } from "./helpers.js";

const nn = ng.nn;
const key = ng.random.key(0);
const F64 = { dtype: "float64" } as const;
const B = 2;
const IN = 3;
const H = 2;

/** z = x Wih + h Whh + b as flat [B, G·H]. */
function pre(x: number[], h: number[], ps: any, g: number, bias = "bias"): number[] {
  const a = matmulJs(x, flat(ps.weightIh), B, IN, g * H);
  const b = matmulJs(h, flat(ps.weightHh), B, H, g * H);
  const bb = ps[bias] ? flat(ps[bias]) : new Array(g * H).fill(0);
  return a.map((v, i) => v + b[i]! + bb[i % (g * H)]!);
}

/** Element (b, j) of gate k of a flat [B, G·H] array. */
const gate = (z: number[], g: number, k: number, b: number, j: number): number =>
  z[b * g * H + k * H + j]!;

function rnnStep(x: number[], h: number[], ps: any): number[] {
  return pre(x, h, ps, 1).map(Math.tanh);
}

function lstmStep(x: number[], h: number[], c: number[], ps: any): [number[], number[]] {
  const z = pre(x, h, ps, 4);
  const hn: number[] = [];
  const cn: number[] = [];
  for (let b = 0; b < B; b++)
    for (let j = 0; j < H; j++) {
      const i = sigmoidJs(gate(z, 4, 0, b, j));
      const f = sigmoidJs(gate(z, 4, 1, b, j));
      const g = Math.tanh(gate(z, 4, 2, b, j));
      const o = sigmoidJs(gate(z, 4, 3, b, j));
      const cc = f * c[b * H + j]! + i * g;
      cn.push(cc);
      hn.push(o * Math.tanh(cc));
    }
  return [hn, cn];
}

function gruStep(x: number[], h: number[], ps: any): number[] {
  const gi = matmulJs(x, flat(ps.weightIh), B, IN, 3 * H).map(
    (v, i) => v + flat(ps.biasIh)[i % (3 * H)]!,
  );
  const gh = matmulJs(h, flat(ps.weightHh), B, H, 3 * H).map(
    (v, i) => v + flat(ps.biasHh)[i % (3 * H)]!,
  );
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let j = 0; j < H; j++) {
      const r = sigmoidJs(gate(gi, 3, 0, b, j) + gate(gh, 3, 0, b, j));
      const u = sigmoidJs(gate(gi, 3, 1, b, j) + gate(gh, 3, 1, b, j));
      const n = Math.tanh(gate(gi, 3, 2, b, j) + r * gate(gh, 3, 2, b, j));
      out.push((1 - u) * n + u * h[b * H + j]!);
    }
  return out;
}

function setupCell(cell: any, seed: number): [any, any] {
  const [ps, st] = nn.setup(key, cell);
  return [randomParams(ps, seed), st];
}

describe("cells against plain-JS steps", () => {
  const x = randn(1, [B, IN]);
  const h0 = randn(2, [B, H]);
  const c0 = randn(3, [B, H]);

  it("rnnCell: h' = tanh(x Wih + h Whh + b); zero carry by default", () => {
    const cell = nn.rnnCell(IN, H, F64);
    const [ps, st] = setupCell(cell, 10);
    expect(ps.weightIh.shape).toEqual([IN, H]);
    expect(ps.weightHh.shape).toEqual([H, H]);
    const [[y, h]] = cell.apply([x, h0], ps, st);
    expectClose(y, rnnStep(flat(x), flat(h0), ps));
    expect(h).toBe(y);
    const [[y0]] = cell.apply(x, ps, st);
    expectClose(y0, rnnStep(flat(x), new Array(B * H).fill(0), ps));
    const relu = nn.rnnCell(IN, H, ng.relu, F64);
    const [[yr]] = relu.apply([x, h0], ps, st);
    expectClose(
      yr,
      pre(flat(x), flat(h0), ps, 1).map((v) => Math.max(v, 0)),
    );
  });

  it("lstmCell: gates i, f, g, o; carry [h, c]", () => {
    const cell = nn.lstmCell(IN, H, F64);
    const [ps, st] = setupCell(cell, 20);
    expect(ps.weightIh.shape).toEqual([IN, 4 * H]);
    const [[y, [h, c]]] = cell.apply([x, [h0, c0]], ps, st);
    const [hw, cw] = lstmStep(flat(x), flat(h0), flat(c0), ps);
    expectClose(y, hw);
    expectClose(h, hw);
    expectClose(c, cw);
  });

  it("gruCell: PyTorch formulation", () => {
    const cell = nn.gruCell(IN, H, F64);
    const [ps, st] = setupCell(cell, 30);
    expect(Object.keys(ps)).toEqual(["weightIh", "weightHh", "biasIh", "biasHh"]);
    const [[y]] = cell.apply([x, h0], ps, st);
    expectClose(y, gruStep(flat(x), flat(h0), ps));
  });

  it("recurrent weights are orthogonal at init", () => {
    const [ps] = nn.setup(key, nn.rnnCell(3, 4, F64));
    const w = ps.weightHh;
    expectClose(w.T.matmul(w), flat(ng.eye(4)), 1e-12);
  });

  it("validates the input and the carry", () => {
    const cell = nn.lstmCell(IN, H);
    const [ps, st] = nn.setup(key, cell);
    // @ts-expect-error: an LSTM carry is [h, c], rejected at compile time too
    expect(() => cell.apply([ng.ones([B, IN]), ng.ones([B, H])], ps, st)).toThrow(
      /lstmCell 3 → 2: expected the carry \[h, c\]/,
    );
    expect(() =>
      cell.apply([ng.ones([B, IN]), [ng.ones([B, H]), ng.ones([B, 3])]], ps, st),
    ).toThrow("lstmCell 3 → 2: expected carry c of shape [2, 2], got shape [2, 3]");
    expect(() => cell.apply(ng.ones([B, 4]), ps, st)).toThrow(
      "lstmCell 3 → 2: expected input with last dimension 3, got shape [2, 4]",
    );
  });
});

describe("recurrence", () => {
  const T = 3;
  const xs = randn(4, [B, T, IN]);
  const steps = [0, 1, 2].map((t) => flat(ng.slice(xs, [null, t])));

  it("runs a cell over [B, T, in]: last output or the whole sequence", () => {
    const cell = nn.lstmCell(IN, H, F64);
    const [ps, st] = setupCell(cell, 40);
    let h = new Array(B * H).fill(0);
    let c = new Array(B * H).fill(0);
    const hs: number[][] = [];
    for (const x of steps) {
      [h, c] = lstmStep(x, h, c, ps);
      hs.push(h);
    }
    const [last] = nn.recurrence(cell).apply(xs, ps, st);
    expect(last.shape).toEqual([B, H]);
    expectClose(last, h);
    const [seq] = nn.recurrence(cell, { returnSequence: true }).apply(xs, ps, st);
    expect(seq.shape).toEqual([B, T, H]);
    // seq[b, t, :] = hs[t][b, :]
    const want: number[] = [];
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) want.push(...hs[t]!.slice(b * H, b * H + H));
    expectClose(seq, want);
  });

  it("in a chain, with parameter errors naming the path", () => {
    const model = nn.chain(nn.recurrence(nn.gruCell(IN, H)), nn.dense(H, 1));
    const [ps, st] = nn.setup(key, model);
    expect(model.apply(xs.cast("float32"), ps, st)[0].shape).toEqual([B, 1]);
    const { biasHh: _b, ...rest } = ps.layer_1;
    expect(() => model.apply(xs, { ...ps, layer_1: rest }, st)).toThrow(
      "chain.layer_1: params are missing key 'biasHh'",
    );
    expect(() => model.apply(ng.ones([B, IN]), ps, st)).toThrow(
      "chain.layer_1 (recurrence(gruCell 3 → 2)): expected input of rank 3 ([batch, time, features]), got shape [2, 3]",
    );
    expect(() => nn.recurrence(nn.dense(2, 2) as any)).toThrow(/expected a recurrent cell/);
  });

  for (const [name, make] of [
    ["rnnCell", () => nn.rnnCell(IN, H, F64)],
    ["lstmCell", () => nn.lstmCell(IN, H, F64)],
    ["gruCell", () => nn.gruCell(IN, H, F64)],
  ] as const) {
    it(`${name}: gradients wrt params and input to order 2 (cell and recurrence)`, () => {
      const cell = make();
      const [ps, st] = setupCell(cell, 50);
      const x = randn(5, [B, IN]);
      const h = randn(6, [B, H]);
      const carry = name === "lstmCell" ? [h, randn(7, [B, H])] : h;
      ng.testing.checkGrads(
        (xx: Tensor, p: any, cc: any) => cell.apply([xx, cc], p, st)[0],
        [x, ps, carry],
        { order: 2 },
      );
      const rec = nn.recurrence(cell as any, { returnSequence: true });
      ng.testing.checkGrads(
        (xx: Tensor, p: any) => rec.apply(xx, p, st)[0],
        [randn(8, [B, 2, IN]), ps],
        { order: 2 },
      );
    });
  }
});
