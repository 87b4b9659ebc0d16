// Shared pieces of the ng.di tests: the scenario table with closed-form
// derivatives (scalar→scalar, scalar→vector, vector→scalar, vector→vector, matrix inputs,
// pytree inputs and outputs, constant and cache contexts), the backend table, and helpers
// that flatten results and rebuild directions.
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { f64, rng } from "../transforms-helpers.js";

export { expectClose, f64, rng } from "../transforms-helpers.js";

/** All leaves of a tree of tensors as one flat JS array. */
export function flatOf(tree: unknown): number[] {
  const [leaves] = ng.tree.flatten(tree);
  return leaves.flatMap((l) => Array.from((l as Tensor).dataSync(), Number));
}

/** Leaf sizes of a tree of tensors. */
export function sizesOf(tree: unknown): number[] {
  const [leaves] = ng.tree.flatten(tree);
  return leaves.map((l) => (l as Tensor).size);
}

/** A float64 tree shaped like `like` holding the numbers of `vec`. */
export function unflatLike(like: unknown, vec: readonly number[]): unknown {
  let o = 0;
  return ng.tree.map((l: Tensor) => {
    const part = vec.slice(o, o + l.size);
    o += l.size;
    return ng.reshape(f64(part), l.shape);
  }, like);
}

/** A deterministic random vector of length n. */
export function randomVec(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => r(-1, 1));
}

export const matVec = (A: number[][], v: readonly number[]) =>
  A.map((row) => row.reduce((s, a, j) => s + a * v[j]!, 0));
export const matTVec = (A: number[][], u: readonly number[]) =>
  A[0]!.map((_c, j) => A.reduce((s, row, i) => s + row[j]! * u[i]!, 0));

/** The flat blocks of a [m, n] matrix in the order of ng.di.jacobian's result tree. */
export function blocksOf(J: number[][], outSizes: number[], inSizes: number[]): number[] {
  const out: number[] = [];
  let r0 = 0;
  for (const m of outSizes) {
    let c0 = 0;
    for (const n of inSizes) {
      for (let r = r0; r < r0 + m; r++) for (let c = c0; c < c0 + n; c++) out.push(J[r]![c]!);
      c0 += n;
    }
    r0 += m;
  }
  return out;
}

export interface Scenario {
  name: string;
  f: (x: any, ...c: any[]) => any;
  x: unknown;
  /** Fresh contexts for each call (a cache must not be shared between calls). */
  contexts: () => unknown[];
  /** Closed forms at the flat x. */
  y: (x: number[]) => number[];
  J: (x: number[]) => number[][];
  /** Hessian (scalar output). */
  H?: (x: number[]) => number[][];
  /** Second derivatives of every output (scalar input). */
  D2?: (x: number[]) => number[];
}

const V3 = [0.5, -1.2, 0.8];
const C3 = [1.5, -0.7, 2.0];
const A3 = [
  [1.0, 0.4, -0.3],
  [0.2, 2.0, 0.5],
  [-0.6, 0.1, 1.5],
];
const B32 = [
  [0.3, -0.8],
  [1.1, 0.2],
  [-0.5, 0.9],
];
const diag = (d: number[]) => d.map((v, i) => d.map((_w, j) => (i === j ? v : 0)));

export const SCENARIOS: Scenario[] = [
  {
    name: "scalar→scalar: sin(x)·x²",
    f: (x: Tensor) => ng.mul(ng.sin(x), ng.square(x)),
    x: f64(0.7),
    contexts: () => [],
    y: ([x]) => [Math.sin(x!) * x! * x!],
    J: ([x]) => [[Math.cos(x!) * x! * x! + 2 * x! * Math.sin(x!)]],
    H: ([x]) => [[(2 - x! * x!) * Math.sin(x!) + 4 * x! * Math.cos(x!)]],
    D2: ([x]) => [(2 - x! * x!) * Math.sin(x!) + 4 * x! * Math.cos(x!)],
  },
  {
    name: "scalar→vector: [sin x, x³, exp 2x]",
    f: (x: Tensor) => ng.stack([ng.sin(x), ng.pow(x, 3), ng.exp(ng.mul(2, x))]),
    x: f64(0.4),
    contexts: () => [],
    y: ([x]) => [Math.sin(x!), x! ** 3, Math.exp(2 * x!)],
    J: ([x]) => [[Math.cos(x!)], [3 * x! * x!], [2 * Math.exp(2 * x!)]],
    D2: ([x]) => [-Math.sin(x!), 6 * x!, 4 * Math.exp(2 * x!)],
  },
  {
    name: "vector→scalar: logsumexp",
    f: (x: Tensor) => ng.log(ng.sum(ng.exp(x))),
    x: f64([0.3, -0.5, 1.2, 0.1]),
    contexts: () => [],
    y: (x) => [Math.log(x.reduce((s, v) => s + Math.exp(v), 0))],
    J: (x) => {
      const z = x.reduce((s, v) => s + Math.exp(v), 0);
      return [x.map((v) => Math.exp(v) / z)];
    },
    H: (x) => {
      const z = x.reduce((s, v) => s + Math.exp(v), 0);
      const p = x.map((v) => Math.exp(v) / z);
      return p.map((pi, i) => p.map((pj, j) => (i === j ? pi : 0) - pi * pj));
    },
  },
  {
    name: "vector→vector: [x0·x1, x0·sin x2, x1², x2]",
    f: (x: Tensor) => {
      const [a, b, c] = [0, 1, 2].map((i) => ng.slice(x, [i]));
      return ng.stack([ng.mul(a!, b!), ng.mul(a!, ng.sin(c!)), ng.square(b!), c!]);
    },
    x: f64([0.9, -0.4, 1.3]),
    contexts: () => [],
    y: ([a, b, c]) => [a! * b!, a! * Math.sin(c!), b! * b!, c!],
    J: ([a, b, c]) => [
      [b!, a!, 0],
      [Math.sin(c!), 0, a! * Math.cos(c!)],
      [0, 2 * b!, 0],
      [0, 0, 1],
    ],
  },
  {
    name: "matrix→scalar: Σ(Xv)² + Σ cos X",
    f: (X: Tensor) => ng.add(ng.sum(ng.square(ng.matmul(X, f64(V3)))), ng.sum(ng.cos(X))),
    x: f64([
      [0.2, -0.7, 1.1],
      [0.5, 0.3, -0.9],
    ]),
    contexts: () => [],
    y: (x) => {
      const y = [0, 1].map((i) => V3.reduce((s, v, j) => s + x[i * 3 + j]! * v, 0));
      return [y[0]! ** 2 + y[1]! ** 2 + x.reduce((s, v) => s + Math.cos(v), 0)];
    },
    J: (x) => {
      const y = [0, 1].map((i) => V3.reduce((s, v, j) => s + x[i * 3 + j]! * v, 0));
      return [x.map((v, k) => 2 * y[Math.floor(k / 3)]! * V3[k % 3]! - Math.sin(v))];
    },
    H: (x) =>
      x.map((v, a) =>
        x.map((_w, b) => {
          const [i, j, k, l] = [Math.floor(a / 3), a % 3, Math.floor(b / 3), b % 3];
          return (i === k ? 2 * V3[j]! * V3[l]! : 0) - (a === b ? Math.cos(v) : 0);
        }),
      ),
  },
  {
    name: "matrix→matrix: tanh(X B)",
    f: (X: Tensor) => ng.tanh(ng.matmul(X, f64(B32))),
    x: f64([
      [0.2, -0.7, 1.1],
      [0.5, 0.3, -0.9],
    ]),
    contexts: () => [],
    y: (x) =>
      [0, 1].flatMap((i) =>
        [0, 1].map((l) => Math.tanh(B32.reduce((s, r, j) => s + x[i * 3 + j]! * r[l]!, 0))),
      ),
    J: (x) => {
      const rows: number[][] = [];
      for (let i = 0; i < 2; i++)
        for (let l = 0; l < 2; l++) {
          const t = Math.tanh(B32.reduce((s, r, j) => s + x[i * 3 + j]! * r[l]!, 0));
          rows.push(
            x.map((_v, kj) => (Math.floor(kj / 3) === i ? (1 - t * t) * B32[kj % 3]![l]! : 0)),
          );
        }
      return rows;
    },
  },
  {
    name: "pytree→scalar: aᵀBa + Σ exp a",
    f: (p: { a: Tensor; b: Tensor }) =>
      ng.add(ng.sum(ng.mul(p.a, ng.matmul(p.b, p.a))), ng.sum(ng.exp(p.a))),
    x: {
      a: f64([0.6, -0.3]),
      b: f64([
        [1.2, -0.4],
        [0.7, 0.9],
      ]),
    },
    contexts: () => [],
    y: ([a0, a1, b00, b01, b10, b11]) => [
      a0! * (b00! * a0! + b01! * a1!) +
        a1! * (b10! * a0! + b11! * a1!) +
        Math.exp(a0!) +
        Math.exp(a1!),
    ],
    J: ([a0, a1, b00, b01, b10, b11]) => [
      [
        2 * b00! * a0! + (b01! + b10!) * a1! + Math.exp(a0!),
        2 * b11! * a1! + (b01! + b10!) * a0! + Math.exp(a1!),
        a0! * a0!,
        a0! * a1!,
        a1! * a0!,
        a1! * a1!,
      ],
    ],
    H: (x) => {
      const a = [x[0]!, x[1]!];
      const B = [
        [x[2]!, x[3]!],
        [x[4]!, x[5]!],
      ];
      const H = Array.from({ length: 6 }, () => new Array<number>(6).fill(0));
      for (let k = 0; k < 2; k++)
        for (let l = 0; l < 2; l++)
          H[k]![l] = B[k]![l]! + B[l]![k]! + (k === l ? Math.exp(a[k]!) : 0);
      for (let k = 0; k < 2; k++)
        for (let i = 0; i < 2; i++)
          for (let j = 0; j < 2; j++) {
            const v = (i === k ? a[j]! : 0) + (j === k ? a[i]! : 0);
            H[k]![2 + i * 2 + j] = v;
            H[2 + i * 2 + j]![k] = v;
          }
      return H;
    },
  },
  {
    name: "vector→pytree with a constant: {u: c·x, v: Σx²}",
    f: (x: Tensor, c: Tensor) => ({ u: ng.mul(c, x), v: ng.sum(ng.square(x)) }),
    x: f64([0.3, -1.1, 0.6]),
    contexts: () => [ng.di.constant(f64(C3))],
    y: (x) => [...x.map((v, i) => C3[i]! * v), x.reduce((s, v) => s + v * v, 0)],
    J: (x) => [...diag(C3), x.map((v) => 2 * v)],
  },
  {
    name: "contexts: ½ s xᵀAx + bᵀ sin x with constant({A, b}), constant(s)",
    f: (x: Tensor, d: { A: Tensor; b: Tensor }, s: number) =>
      ng.add(ng.mul(0.5 * s, ng.sum(ng.mul(x, ng.matmul(d.A, x)))), ng.sum(ng.mul(d.b, ng.sin(x)))),
    x: f64([0.4, -0.2, 0.9]),
    contexts: () => [ng.di.constant({ A: f64(A3), b: f64(C3) }), ng.di.constant(1.5)],
    y: (x) => [
      0.75 * x.reduce((s, v, i) => s + v * matVec(A3, x)[i]!, 0) +
        x.reduce((s, v, i) => s + C3[i]! * Math.sin(v), 0),
    ],
    J: (x) => [
      x.map((v, i) => 0.75 * (matVec(A3, x)[i]! + matTVec(A3, x)[i]!) + C3[i]! * Math.cos(v)),
    ],
    H: (x) =>
      x.map((v, i) =>
        x.map((_w, j) => 0.75 * (A3[i]![j]! + A3[j]![i]!) - (i === j ? C3[i]! * Math.sin(v) : 0)),
      ),
  },
  {
    name: "cache context: Σ x³ through scratch storage",
    f: (x: Tensor, s: { sq?: Tensor }) => {
      s.sq = ng.square(x);
      return ng.sum(ng.mul(s.sq, x));
    },
    x: f64([0.5, -1.5, 2.0]),
    contexts: () => [ng.di.cache({})],
    y: (x) => [x.reduce((s, v) => s + v ** 3, 0)],
    J: (x) => [x.map((v) => 3 * v * v)],
    H: (x) => diag(x.map((v) => 6 * v)),
  },
];

export interface BackendCase {
  name: string;
  make: () => ng.di.Backend;
  /** The first-order base operator available: "pushforward" or "pullback". */
  base: "pushforward" | "pullback";
  /** Tolerances (rtol, atol) of first- and second-order results; null: not checked. */
  tol1: [number, number];
  tol2: [number, number] | null;
}

const {
  autoForward: fwd,
  autoReverse: rev,
  secondOrder: so,
  autoSparse: sparse,
  finiteDifferences: fd,
} = ng.di;
const AD: [number, number] = [1e-10, 1e-12];

export const BACKENDS: BackendCase[] = [
  { name: "autoForward", make: fwd, base: "pushforward", tol1: AD, tol2: AD },
  { name: "autoReverse", make: rev, base: "pullback", tol1: AD, tol2: AD },
  {
    name: "finiteDifferences central",
    make: () => fd({ method: "central" }),
    base: "pushforward",
    tol1: [1e-7, 1e-8],
    tol2: [1e-4, 1e-4],
  },
  {
    name: "finiteDifferences forward",
    make: () => fd({ method: "forward" }),
    base: "pushforward",
    tol1: [1e-6, 1e-6],
    tol2: null,
  },
  {
    name: "finiteDifferences backward",
    make: () => fd({ method: "backward" }),
    base: "pushforward",
    tol1: [1e-6, 1e-6],
    tol2: null,
  },
  {
    name: "secondOrder(fwd, rev)",
    make: () => so(fwd(), rev()),
    base: "pullback",
    tol1: AD,
    tol2: AD,
  },
  {
    name: "secondOrder(fwd, fwd)",
    make: () => so(fwd(), fwd()),
    base: "pushforward",
    tol1: AD,
    tol2: AD,
  },
  {
    name: "secondOrder(rev, fwd)",
    make: () => so(rev(), fwd()),
    base: "pushforward",
    tol1: AD,
    tol2: AD,
  },
  {
    name: "secondOrder(rev, rev)",
    make: () => so(rev(), rev()),
    base: "pullback",
    tol1: AD,
    tol2: AD,
  },
  { name: "autoSparse(fwd)", make: () => sparse(fwd()), base: "pushforward", tol1: AD, tol2: AD },
  { name: "autoSparse(rev)", make: () => sparse(rev()), base: "pullback", tol1: AD, tol2: AD },
  {
    name: "autoSparse(secondOrder(fwd, rev))",
    make: () => sparse(so(fwd(), rev())),
    base: "pullback",
    tol1: AD,
    tol2: AD,
  },
];
