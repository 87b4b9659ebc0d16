/**
 * The registry of every public composite (activations, losses, reductions, linear-algebra
 * and elementwise composites), each with its branch points, ordinary points and a float64
 * oracle for its value and first three derivatives: closed forms where they exist,
 * otherwise high-order central finite differences of the library's own value. Points
 * where a composite is not three times differentiable are listed as kinks, with the
 * documented convention the oracle encodes there. The tests in this folder iterate over
 * the registry; `NOT_APPLICABLE` names the exports that are not differentiable
 * composites, with the reason, so that the completeness test can fail on a newcomer.
 */
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

/** The modules whose exports must all be enrolled (or listed as not applicable). */
export type ModuleName = "activations" | "elementwise" | "reductions" | "linalg" | "losses";

/** [f, f', f'', f'''] at a point. */
export type Jet = readonly [number, number, number, number];

/**
 * A composite applied elementwise to one float64 tensor (other arguments fixed). Its
 * oracle gives the value and the first three derivatives of the scalar function; at a
 * kink, the documented convention. Without `oracle`, derivatives come from finite
 * differences of the value (only for functions smooth at every listed point).
 */
export interface ElementwiseEntry {
  kind: "elementwise";
  name: string;
  covers: readonly `${ModuleName}.${string}`[];
  f: (x: Tensor) => Tensor;
  oracle?: (x: number) => Jet;
  /** The value alone, when there is no derivative oracle. */
  value?: (x: number) => number;
  ordinary: readonly number[];
  /** Points where the implementation branches (where, max, abs, ...). */
  branch: readonly number[];
  /** The subset of points where f is not three times differentiable, and the convention. */
  kinks?: readonly number[];
  convention?: string;
}

/** One point of a scalar-valued composite: x, a direction v, and the closed form. */
export interface DirectionalCase {
  label: string;
  x: readonly number[];
  v: readonly number[];
  /** True for a branch point of the implementation. */
  branch: boolean;
  /** Not three times differentiable here: the oracle gives the documented convention. */
  kink?: string;
  /** Highest derivative order to check (default 3), e.g. where higher ones overflow. */
  orders?: number;
  /** Why finite differences cannot check this point (a scale they cannot resolve). */
  noFd?: string;
}

/**
 * A scalar-valued composite of one float64 tensor of a fixed shape. The oracle gives
 * f(x) and dᵏ/dtᵏ f(x + t·v) at t = 0 for k = 1, 2, 3.
 */
export interface DirectionalEntry {
  kind: "directional";
  name: string;
  covers: readonly `${ModuleName}.${string}`[];
  shape: readonly number[];
  f: (x: Tensor) => Tensor;
  oracle: (x: readonly number[], v: readonly number[]) => Jet;
  cases: readonly DirectionalCase[];
  /** A two-tensor form f2(a, b) with ordinary arguments, checked against finite differences. */
  pair?: { f2: (a: Tensor, b: Tensor) => Tensor; a: Tensor; b: Tensor };
}

export type Entry = ElementwiseEntry | DirectionalEntry;

// ---- float64 helpers of the oracles ----

export const f64 = (v: unknown): Tensor => ng.array(v, { dtype: "float64" });

/** Stable logistic sigmoid in float64. */
export function sigmoidJs(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + eˣ) without overflow. */
function softplusJs(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** [σ, σ', σ'', σ'''] with σ' = σ(1-σ), σ'' = σ'(1-2σ), σ''' = σ'(1 - 6σ + 6σ²). */
function sigmoidJet(x: number): Jet {
  const s = sigmoidJs(x);
  const d = s * (1 - s);
  return [s, d, d * (1 - 2 * s), d * (1 - 6 * s + 6 * s * s)];
}

/** erf by its Maclaurin series (|x| <= 3.5, accurate to ~1e-12) and ±1 beyond 6. */
function erfJs(x: number): number {
  if (Math.abs(x) > 6) return Math.sign(x);
  if (Math.abs(x) > 3.5) throw new Error(`erfJs: ${x} is outside the oracle's range`);
  let sum = 0;
  let term = x;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const sign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0);
const sumOf = (a: readonly number[]): number => a.reduce((p, q) => p + q, 0);
const dotJs = (a: readonly number[], b: readonly number[]): number =>
  a.reduce((s, ai, i) => s + ai * b[i]!, 0);

/**
 * Cumulants κ1..κ3 of the values v under the softmax weights of x: the k-th derivative
 * of logsumexp(x + t·v) at t = 0 is κk.
 */
function softmaxCumulants(x: readonly number[], v: readonly number[]): [number, number, number] {
  const m = Math.max(...x.filter((a) => Number.isFinite(a)));
  const e = x.map((a) => Math.exp(a - m));
  const z = sumOf(e);
  const s = e.map((a) => a / z);
  const k1 = dotJs(s, v);
  const c = v.map((a) => a - k1);
  return [
    k1,
    dotJs(
      s,
      c.map((a) => a * a),
    ),
    dotJs(
      s,
      c.map((a) => a * a * a),
    ),
  ];
}

function logsumexpJs(x: readonly number[]): number {
  const m = Math.max(...x);
  if (!Number.isFinite(m)) return m;
  return m + Math.log(sumOf(x.map((a) => Math.exp(a - m))));
}

/**
 * Jet of g(t) = sqrt(A + 2Bt + Ct²) at t = 0 (A > 0): with n = √A, a = B/n, b = C,
 * g' = a, g'' = (b - a²)/n, g''' = -3a(b - a²)/n².
 */
function sqrtQuadraticJet(A: number, B: number, C: number): Jet {
  const n = Math.sqrt(A);
  const a = B / n;
  return [n, a, (C - a * a) / n, (-3 * a * (C - a * a)) / (n * n)];
}

/** Sums the per-element jets j(x_i, i) along v, times scale: Σ j_k(x_i)·v_iᵏ. */
function elementwiseDirectional(
  j: (x: number, i: number) => Jet,
  x: readonly number[],
  v: readonly number[],
  scale = 1,
): Jet {
  const out = [0, 0, 0, 0];
  x.forEach((xi, i) => {
    const d = j(xi, i);
    for (let k = 0; k < 4; k++) out[k]! += d[k]! * v[i]! ** k * scale;
  });
  return out as unknown as Jet;
}

/** Splits a flat row-major [rows, cols] array into rows. */
function rowsOf(x: readonly number[], cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < x.length; i += cols) out.push(x.slice(i, i + cols));
  return out;
}

// ---- scalar jets of the elementwise composites ----

const reluJet = (x: number): Jet => (x > 0 ? [x, 1, 0, 0] : [0, 0, 0, 0]);
const leakyJet =
  (a: number) =>
  (x: number): Jet =>
    x >= 0 ? [x, 1, 0, 0] : [a * x, a, 0, 0];
const eluJet =
  (a: number) =>
  (x: number): Jet => {
    if (x > 0) return [x, 1, 0, 0];
    const e = Math.exp(x);
    return [a * Math.expm1(x), a * e, a * e, a * e];
  };
function softplusJet(x: number): Jet {
  const [s, d1, d2] = sigmoidJet(x);
  return [softplusJs(x), s, d1, d2];
}
function siluJet(x: number): Jet {
  const [s, d1, d2, d3] = sigmoidJet(x);
  return [x * s, s + x * d1, 2 * d1 + x * d2, 3 * d2 + x * d3];
}
/** x·Φ(x): g' = Φ + xφ, g'' = φ(2 - x²), g''' = φ(x³ - 4x). */
function geluJet(x: number): Jet {
  const phi = Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  const Phi = 0.5 * (1 + erfJs(x / Math.SQRT2));
  return [x * Phi, Phi + x * phi, phi * (2 - x * x), phi * (x * x * x - 4 * x)];
}
function geluTanhJs(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}
const clipJet =
  (lo: number, hi: number) =>
  (x: number): Jet => {
    if (x > lo && x < hi) return [x, 1, 0, 0];
    if (x === lo || x === hi) return [x, 0.5, 0, 0]; // tie rule of maximum/minimum
    return [x < lo ? lo : hi, 0, 0, 0];
  };
/** Huber with threshold δ: ½d² (|d| ≤ δ, the quadratic side also at ±δ), δ(|d| - δ/2) beyond. */
const huberJet =
  (delta: number) =>
  (d: number): Jet =>
    Math.abs(d) <= delta
      ? [0.5 * d * d, d, 1, 0]
      : [delta * (Math.abs(d) - delta / 2), delta * sign(d), 0, 0];
const absJet = (d: number): Jet => [Math.abs(d), sign(d), 0, 0];
const squareJet = (x: number): Jet => [x * x, 2 * x, 2, 0];
/** softplus(z) - y·z. */
const bceJet =
  (y: number) =>
  (z: number): Jet => {
    const [v, d1, d2, d3] = softplusJet(z);
    return [v - y * z, d1 - y, d2, d3];
  };

const TINY = 1e-12;
const none = { reduction: "none" } as const;

// ---- the registry ----

export const ELEMENTWISE: readonly ElementwiseEntry[] = [
  {
    kind: "elementwise",
    name: "relu",
    covers: ["activations.relu"],
    f: (x) => ng.relu(x),
    oracle: reluJet,
    ordinary: [-2.5, -0.4, 0.7, 3],
    branch: [0, TINY, -TINY],
    kinks: [0, TINY, -TINY],
    convention: "relu'(0) = 0 (JAX); all higher derivatives 0",
  },
  {
    kind: "elementwise",
    name: "leakyRelu(0.1)",
    covers: ["activations.leakyRelu"],
    f: (x) => ng.leakyRelu(x, 0.1),
    oracle: leakyJet(0.1),
    ordinary: [-2.5, -0.4, 0.7, 3],
    branch: [0, TINY, -TINY],
    kinks: [0, TINY, -TINY],
    convention: "leakyRelu'(0) = 1 (JAX's x >= 0 branch)",
  },
  {
    kind: "elementwise",
    name: "elu(1)",
    covers: ["activations.elu"],
    f: (x) => ng.elu(x),
    oracle: eluJet(1),
    ordinary: [-2.5, -0.4, 0.7, 3],
    branch: [0, TINY, -TINY],
    kinks: [0, TINY, -TINY],
    convention: "at 0 the left branch's derivatives (JAX): elu'(0) = elu''(0) = alpha",
  },
  {
    kind: "elementwise",
    name: "elu(0.5)",
    covers: ["activations.elu"],
    f: (x) => ng.elu(x, 0.5),
    oracle: eluJet(0.5),
    ordinary: [-2.5, -0.4, 0.7, 3],
    branch: [0, TINY, -TINY],
    kinks: [0, TINY, -TINY],
    convention: "elu'(0) = alpha = 0.5, the left derivative (JAX)",
  },
  {
    kind: "elementwise",
    name: "softplus",
    covers: ["activations.softplus"],
    f: (x) => ng.softplus(x),
    oracle: softplusJet,
    ordinary: [-30, -2.5, -0.4, 0.7, 3, 30],
    branch: [0, TINY, -TINY],
  },
  {
    kind: "elementwise",
    name: "silu",
    covers: ["activations.silu"],
    f: (x) => ng.silu(x),
    oracle: siluJet,
    ordinary: [-2.5, -0.4, 0.7, 3],
    branch: [0],
  },
  {
    kind: "elementwise",
    name: "swish",
    covers: ["activations.swish"],
    f: (x) => ng.swish(x),
    oracle: siluJet,
    ordinary: [-1.5, 2],
    branch: [0],
  },
  {
    kind: "elementwise",
    name: "gelu",
    covers: ["activations.gelu"],
    f: (x) => ng.gelu(x),
    oracle: geluJet,
    ordinary: [-2.5, -0.4, 0.7, 3],
    branch: [0],
  },
  {
    kind: "elementwise",
    name: "gelu approximate",
    covers: ["activations.gelu"],
    f: (x) => ng.gelu(x, true),
    value: geluTanhJs,
    ordinary: [-2.5, -0.4, 0.7, 3],
    branch: [0],
  },
  {
    kind: "elementwise",
    name: "square",
    covers: ["elementwise.square"],
    f: (x) => ng.square(x),
    oracle: squareJet,
    ordinary: [-2.5, 0.7],
    branch: [0],
  },
  {
    kind: "elementwise",
    name: "clip(-1, 2)",
    covers: ["elementwise.clip"],
    f: (x) => ng.clip(x, -1, 2),
    oracle: clipJet(-1, 2),
    ordinary: [-2.5, -0.4, 0.7, 3],
    branch: [-1, 2, -1 + TINY, 2 - TINY],
    kinks: [-1, 2, -1 + TINY, 2 - TINY],
    convention: "clip' = ½ at a bound (tie rule of maximum/minimum, as JAX)",
  },
  {
    kind: "elementwise",
    name: "clip(0, null)",
    covers: ["elementwise.clip"],
    f: (x) => ng.clip(x, 0, null),
    oracle: (x) => (x > 0 ? [x, 1, 0, 0] : x === 0 ? [0, 0.5, 0, 0] : [0, 0, 0, 0]),
    ordinary: [-2.5, 0.7],
    branch: [0],
    kinks: [0],
    convention: "clip' = ½ at the bound",
  },
  {
    kind: "elementwise",
    name: "mse (reduction none)",
    covers: ["losses.mse"],
    f: (x) => ng.nn.mse(x, ng.zerosLike(x), none),
    oracle: squareJet,
    ordinary: [-2.5, 0.7],
    branch: [0],
  },
  {
    kind: "elementwise",
    name: "mae (reduction none)",
    covers: ["losses.mae"],
    f: (x) => ng.nn.mae(x, ng.zerosLike(x), none),
    oracle: absJet,
    ordinary: [-2.5, -0.4, 0.7, 3],
    branch: [0, TINY, -TINY],
    kinks: [0, TINY, -TINY],
    convention: "|d|' = 0 at d = 0 (the subgradient of abs)",
  },
  {
    kind: "elementwise",
    name: "huber δ=1 (reduction none)",
    covers: ["losses.huber"],
    f: (x) => ng.nn.huber(x, ng.zerosLike(x), none),
    oracle: huberJet(1),
    ordinary: [-2.5, -0.4, 0.7, 3],
    // 0 is a branch of |d| in the implementation; the function is smooth there.
    branch: [0, TINY, -TINY, 1, -1, 1 + TINY, -1 - TINY],
    kinks: [1, -1, 1 + TINY, -1 - TINY],
    convention: "at |d| = δ the quadratic side's derivatives (huber'' = 1)",
  },
  {
    kind: "elementwise",
    name: "huber δ=0.7 (reduction none)",
    covers: ["losses.huber"],
    f: (x) => ng.nn.huber(x, ng.zerosLike(x), { ...none, delta: 0.7 }),
    oracle: huberJet(0.7),
    ordinary: [-2.5, -0.4, 0.5, 3],
    branch: [0, 0.7, -0.7],
    kinks: [0.7, -0.7],
    convention: "at |d| = δ the quadratic side's derivatives (huber'' = 1)",
  },
  {
    kind: "elementwise",
    name: "binaryCrossEntropyWithLogits y=0.3 (reduction none)",
    covers: ["losses.binaryCrossEntropyWithLogits"],
    f: (x) => ng.nn.binaryCrossEntropyWithLogits(x, ng.fullLike(x, 0.3), none),
    oracle: bceJet(0.3),
    ordinary: [-2.5, -0.4, 0.7, 3],
    branch: [0, TINY, -TINY],
  },
];

/** logsumexp of rows (axis 1) weighted: Σ_r w_r·lse(x_r). */
const LSE_W = [0.6, -1.1];
/** Weights of vector-valued composites reduced to a scalar. */
const W3 = [0.7, -1.3, 0.4];
const W6 = [0.3, -0.8, 1.4, -1.2, 0.5, 0.9];

/** Σ w·softmax(x): the k-th derivative along v is the joint cumulant κ(w, v, ..., v). */
function softmaxWeightedJet(x: readonly number[], v: readonly number[], w: readonly number[]): Jet {
  const m = Math.max(...x.filter((a) => Number.isFinite(a)));
  const e = x.map((a) => Math.exp(a - m));
  const z = sumOf(e);
  const s = e.map((a) => a / z);
  const W = w.map((a) => a - dotJs(s, w));
  const V = v.map((a) => a - dotJs(s, v));
  const E = (g: (i: number) => number): number => s.reduce((acc, si, i) => acc + si * g(i), 0);
  const wv = E((i) => W[i]! * V[i]!);
  return [
    dotJs(s, w),
    wv,
    E((i) => W[i]! * V[i]! ** 2),
    E((i) => W[i]! * V[i]! ** 3) - 3 * wv * E((i) => V[i]! ** 2),
  ];
}

/** Variance jet along v with n - ddof in the denominator. */
function varianceParts(
  x: readonly number[],
  v: readonly number[],
  ddof: number,
): [number, number, number] {
  const n = x.length;
  const mx = sumOf(x) / n;
  const mv = sumOf(v) / n;
  const cx = x.map((a) => a - mx);
  const cv = v.map((a) => a - mv);
  const den = n - ddof;
  return [dotJs(cx, cx) / den, dotJs(cx, cv) / den, dotJs(cv, cv) / den];
}

/** Cross-entropy of int labels: mean_b (lse(z_b) - z_b[y_b]). */
function crossEntropyIntJet(
  x: readonly number[],
  v: readonly number[],
  labels: readonly number[],
  c: number,
): Jet {
  const xs = rowsOf(x, c);
  const vs = rowsOf(v, c);
  const out = [0, 0, 0, 0];
  xs.forEach((row, b) => {
    const [k1, k2, k3] = softmaxCumulants(row, vs[b]!);
    const y = labels[b]!;
    out[0]! += logsumexpJs(row) - row[y]!;
    out[1]! += k1 - vs[b]![y]!;
    out[2]! += k2;
    out[3]! += k3;
  });
  return out.map((a) => a / xs.length) as unknown as Jet;
}

/** Cross-entropy of probability labels: mean_b ((Σy_b)·lse(z_b) - y_b·z_b). */
function crossEntropyProbJet(
  x: readonly number[],
  v: readonly number[],
  p: readonly number[],
  c: number,
): Jet {
  const xs = rowsOf(x, c);
  const vs = rowsOf(v, c);
  const ps = rowsOf(p, c);
  const out = [0, 0, 0, 0];
  xs.forEach((row, b) => {
    const [k1, k2, k3] = softmaxCumulants(row, vs[b]!);
    const sy = sumOf(ps[b]!);
    out[0]! += sy * logsumexpJs(row) - dotJs(ps[b]!, row);
    out[1]! += sy * k1 - dotJs(ps[b]!, vs[b]!);
    out[2]! += sy * k2;
    out[3]! += sy * k3;
  });
  return out.map((a) => a / xs.length) as unknown as Jet;
}

const P_KL = [0.2, 0.5, 0.3, 0.6, 0, 0.4]; // two rows; the second has a zero-probability class
const LQ = [-1.2, -0.9, -1.5, -0.4, -2.1, -1.3];

export const DIRECTIONAL: readonly DirectionalEntry[] = [
  {
    kind: "directional",
    name: "logsumexp",
    covers: ["reductions.logsumexp"],
    shape: [3],
    f: (x) => ng.logsumexp(x),
    oracle: (x, v) => [logsumexpJs(x), ...softmaxCumulants(x, v)],
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2], v: [0.5, -1, 0.25], branch: false },
      { label: "equal entries", x: [0.5, 0.5, 0.5], v: [0.5, -1, 0.25], branch: true },
      { label: "two equal maxima", x: [1, 1, -0.5], v: [0.5, -1, 0.25], branch: true },
      { label: "a -inf entry", x: [-Infinity, 0.2, 1], v: [0.5, -1, 0.25], branch: true },
      { label: "large", x: [1000, 1000, -1000], v: [0.5, -1, 0.25], branch: true },
    ],
  },
  {
    kind: "directional",
    name: "logsumexp axis 1, weighted rows",
    covers: ["reductions.logsumexp"],
    shape: [2, 3],
    f: (x) => ng.sum(ng.mul(ng.logsumexp(x, 1), f64(LSE_W))),
    oracle: (x, v) => {
      const out = [0, 0, 0, 0];
      rowsOf(x, 3).forEach((row, r) => {
        const k = softmaxCumulants(row, v.slice(3 * r, 3 * r + 3));
        out[0]! += LSE_W[r]! * logsumexpJs(row);
        k.forEach((kk, i) => (out[i + 1]! += LSE_W[r]! * kk));
      });
      return out as unknown as Jet;
    },
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2, 1, 0, -1], v: W6, branch: false },
      { label: "equal rows", x: [2, 2, 2, -1, -1, -1], v: W6, branch: true },
    ],
  },
  {
    kind: "directional",
    name: "softmax, weighted",
    covers: ["activations.softmax"],
    shape: [3],
    f: (x) => ng.sum(ng.mul(ng.softmax(x), f64(W3))),
    oracle: (x, v) => softmaxWeightedJet(x, v, W3),
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2], v: [0.5, -1, 0.25], branch: false },
      { label: "equal entries", x: [0.5, 0.5, 0.5], v: [0.5, -1, 0.25], branch: true },
      { label: "a -inf entry", x: [-Infinity, 0.2, 1], v: [0.5, -1, 0.25], branch: true },
      { label: "large", x: [1000, 999, -1000], v: [0.5, -1, 0.25], branch: true },
    ],
  },
  {
    kind: "directional",
    name: "softmax axis 0, weighted",
    covers: ["activations.softmax"],
    shape: [3, 2],
    f: (x) => ng.sum(ng.mul(ng.softmax(x, 0), ng.reshape(f64(W6), [3, 2]))),
    oracle: (x, v) => {
      // columns of a [3, 2] row-major array
      const col = (a: readonly number[], j: number) => [a[j]!, a[2 + j]!, a[4 + j]!];
      const out = [0, 0, 0, 0];
      for (const j of [0, 1]) {
        const jet = softmaxWeightedJet(col(x, j), col(v, j), col(W6, j));
        jet.forEach((d, k) => (out[k]! += d));
      }
      return out as unknown as Jet;
    },
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2, 1, 0, -1], v: W6.slice().reverse(), branch: false },
    ],
  },
  {
    kind: "directional",
    name: "logSoftmax, weighted",
    covers: ["activations.logSoftmax"],
    shape: [3],
    f: (x) => ng.sum(ng.mul(ng.logSoftmax(x), f64(W3))),
    oracle: (x, v) => {
      const sw = sumOf(W3);
      const [k1, k2, k3] = softmaxCumulants(x, v);
      return [dotJs(W3, x) - sw * logsumexpJs(x), dotJs(W3, v) - sw * k1, -sw * k2, -sw * k3];
    },
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2], v: [0.5, -1, 0.25], branch: false },
      { label: "equal entries", x: [0.5, 0.5, 0.5], v: [0.5, -1, 0.25], branch: true },
      { label: "large", x: [1000, 999, -1000], v: [0.5, -1, 0.25], branch: true },
    ],
  },
  {
    kind: "directional",
    name: "mean of squares",
    covers: ["reductions.mean"],
    shape: [4],
    f: (x) => ng.mean(ng.mul(x, x)),
    oracle: (x, v) => [dotJs(x, x) / 4, (2 * dotJs(x, v)) / 4, (2 * dotJs(v, v)) / 4, 0],
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2, 0.7], v: [0.5, -1, 0.25, 2], branch: false },
      { label: "zero", x: [0, 0, 0, 0], v: [0.5, -1, 0.25, 2], branch: false },
    ],
  },
  {
    kind: "directional",
    name: "variance",
    covers: ["reductions.variance"],
    shape: [4],
    f: (x) => ng.variance(x),
    oracle: (x, v) => {
      const [a, b, c] = varianceParts(x, v, 0);
      return [a, 2 * b, 2 * c, 0];
    },
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2, 0.7], v: [0.5, -1, 0.25, 2], branch: false },
      { label: "equal entries", x: [1.5, 1.5, 1.5, 1.5], v: [0.5, -1, 0.25, 2], branch: true },
    ],
  },
  {
    kind: "directional",
    name: "variance ddof 1",
    covers: ["reductions.variance"],
    shape: [4],
    f: (x) => ng.variance(x, undefined, false, 1),
    oracle: (x, v) => {
      const [a, b, c] = varianceParts(x, v, 1);
      return [a, 2 * b, 2 * c, 0];
    },
    cases: [{ label: "ordinary", x: [0.3, -1.2, 2, 0.7], v: [0.5, -1, 0.25, 2], branch: false }],
  },
  {
    kind: "directional",
    name: "std",
    covers: ["reductions.std"],
    shape: [4],
    f: (x) => ng.std(x),
    oracle: (x, v) => {
      const [a, b, c] = varianceParts(x, v, 0);
      if (a === 0) return [0, NaN, NaN, NaN]; // documented: sqrt is not differentiable at 0
      return sqrtQuadraticJet(a, b, c);
    },
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2, 0.7], v: [0.5, -1, 0.25, 2], branch: false },
      {
        label: "equal entries",
        x: [1.5, 1.5, 1.5, 1.5],
        v: [0.5, -1, 0.25, 2],
        branch: true,
        kink: "the derivative of std is NaN where the variance is 0 (documented)",
      },
    ],
  },
  {
    kind: "directional",
    name: "std ddof 1",
    covers: ["reductions.std"],
    shape: [4],
    f: (x) => ng.std(x, undefined, false, 1),
    oracle: (x, v) => {
      const [a, b, c] = varianceParts(x, v, 1);
      return sqrtQuadraticJet(a, b, c);
    },
    cases: [{ label: "ordinary", x: [0.3, -1.2, 2, 0.7], v: [0.5, -1, 0.25, 2], branch: false }],
  },
  {
    kind: "directional",
    name: "sumSquares",
    covers: ["reductions.sumSquares"],
    shape: [3],
    f: (x) => ng.sumSquares(x),
    oracle: (x, v) => [dotJs(x, x), 2 * dotJs(x, v), 2 * dotJs(v, v), 0],
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2], v: [0.5, -1, 0.25], branch: false },
      { label: "zero", x: [0, 0, 0], v: [0.5, -1, 0.25], branch: false },
    ],
  },
  {
    kind: "directional",
    name: "norm 2",
    covers: ["linalg.norm"],
    shape: [3],
    f: (x) => ng.norm(x),
    oracle: (x, v) => {
      if (x.every((a) => a === 0)) return [0, 0, 0, 0]; // documented convention at 0
      // scaled like the implementation so that tiny and huge x stay representable
      const m = Math.max(...x.map(Math.abs));
      const u = x.map((a) => a / m);
      const uu = dotJs(u, u);
      const n = m * Math.sqrt(uu);
      const a = dotJs(u, v) / Math.sqrt(uu);
      const b = dotJs(v, v);
      return [n, a, (b - a * a) / n, (-3 * a * (b - a * a)) / n / n];
    },
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2], v: [0.5, -1, 0.25], branch: false },
      { label: "equal entries", x: [0.5, 0.5, 0.5], v: [0.5, -1, 0.25], branch: true },
      {
        label: "near 0",
        x: [3e-12, -4e-12, 0],
        v: [0.5, -1, 0.25],
        branch: true,
        noFd: "the curvature varies on the scale 1e-12, below a usable step",
      },
      // x² underflows here: an unscaled norm would return 0 with a 0 gradient
      {
        label: "tiny",
        x: [3e-170, 4e-170, 0],
        v: [0.5, -1, 0.25],
        branch: true,
        orders: 1,
        noFd: "below any finite-difference step",
      },
      {
        label: "huge",
        x: [3e200, 4e200, 0],
        v: [0.5, -1, 0.25],
        branch: true,
        orders: 2,
        noFd: "a unit step is lost in rounding at 1e200",
      },
      {
        label: "zero",
        x: [0, 0, 0],
        v: [0.5, -1, 0.25],
        branch: true,
        kink: "every derivative of the 2-norm at 0 is taken as 0 (a subgradient)",
      },
    ],
  },
  {
    kind: "directional",
    name: "norm 2 axis 1, weighted",
    covers: ["linalg.norm"],
    shape: [2, 3],
    f: (x) => ng.sum(ng.mul(ng.norm(x, 2, 1), f64(LSE_W))),
    oracle: (x, v) => {
      const out = [0, 0, 0, 0];
      rowsOf(x, 3).forEach((row, r) => {
        const vr = v.slice(3 * r, 3 * r + 3);
        const jet: Jet = row.every((a) => a === 0)
          ? [0, 0, 0, 0]
          : sqrtQuadraticJet(dotJs(row, row), dotJs(row, vr), dotJs(vr, vr));
        jet.forEach((d, k) => (out[k]! += LSE_W[r]! * d));
      });
      return out as unknown as Jet;
    },
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2, 1, 0, -1], v: W6, branch: false },
      {
        label: "a zero row",
        x: [0, 0, 0, 1, 0, -1],
        v: W6,
        branch: true,
        kink: "derivatives of a zero row's norm are 0",
      },
    ],
  },
  {
    kind: "directional",
    name: "norm 1",
    covers: ["linalg.norm"],
    shape: [3],
    f: (x) => ng.norm(x, 1),
    oracle: (x, v) => [sumOf(x.map(Math.abs)), dotJs(x.map(sign), v), 0, 0],
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2], v: [0.5, -1, 0.25], branch: false },
      {
        label: "a zero entry",
        x: [0, -1.2, 2],
        v: [0.5, -1, 0.25],
        branch: true,
        kink: "abs'(0) = 0",
      },
    ],
  },
  {
    kind: "directional",
    name: "norm inf",
    covers: ["linalg.norm"],
    shape: [3],
    f: (x) => ng.norm(x, "inf"),
    oracle: (x, v) => {
      const a = x.map(Math.abs);
      const m = Math.max(...a);
      const ties = a.map((ai) => (ai === m ? 1 : 0));
      const count = sumOf(ties);
      return [m, x.reduce((s, xi, i) => s + (ties[i]! * sign(xi) * v[i]!) / count, 0), 0, 0];
    },
    cases: [
      { label: "ordinary", x: [0.3, -2.5, 2], v: [0.5, -1, 0.25], branch: false },
      {
        label: "tied maxima",
        x: [2, -2, 1],
        v: [0.5, -1, 0.25],
        branch: true,
        kink: "max shares the derivative equally between ties",
      },
    ],
  },
  {
    kind: "directional",
    name: "dot with itself",
    covers: ["linalg.dot"],
    shape: [3],
    f: (x) => ng.dot(x, x),
    oracle: (x, v) => [dotJs(x, x), 2 * dotJs(x, v), 2 * dotJs(v, v), 0],
    cases: [{ label: "ordinary", x: [0.3, -1.2, 2], v: [0.5, -1, 0.25], branch: false }],
    pair: {
      f2: (a, b) => ng.sum(ng.dot(a, b)),
      a: f64([
        [0.3, -1.2, 2],
        [1, 0.5, -0.7],
      ]),
      b: f64([0.5, -1, 0.25]),
    },
  },
  {
    kind: "directional",
    name: "outer with itself, weighted",
    covers: ["linalg.outer"],
    shape: [3],
    // Σ W_ij x_i x_j: derivatives vᵀ(W + Wᵀ)x, 2vᵀWv, 0
    f: (x) => ng.sum(ng.mul(ng.outer(x, x), ng.reshape(f64([...W6, 1, -2, 0.5]), [3, 3]))),
    oracle: (x, v) => {
      const W = rowsOf([...W6, 1, -2, 0.5], 3);
      const q = (a: readonly number[], b: readonly number[]) =>
        W.reduce((s, row, i) => s + a[i]! * dotJs(row, b), 0);
      return [q(x, x), q(v, x) + q(x, v), 2 * q(v, v), 0];
    },
    cases: [{ label: "ordinary", x: [0.3, -1.2, 2], v: [0.5, -1, 0.25], branch: false }],
    pair: {
      f2: (a, b) => ng.sum(ng.mul(ng.outer(a, b), ng.outer(b, a))),
      a: f64([0.3, -1.2]),
      b: f64([0.5, -1]),
    },
  },
  {
    kind: "directional",
    name: "trace of x ⊙ x",
    covers: ["linalg.trace"],
    shape: [2, 3],
    f: (x) => ng.trace(ng.mul(x, x)),
    oracle: (x, v) => {
      const d = [0, 4]; // (0,0) and (1,1) of a 2×3 row-major matrix
      return [
        sumOf(d.map((i) => x[i]! ** 2)),
        sumOf(d.map((i) => 2 * x[i]! * v[i]!)),
        sumOf(d.map((i) => 2 * v[i]! ** 2)),
        0,
      ];
    },
    cases: [{ label: "ordinary", x: [0.3, -1.2, 2, 1, 0, -1], v: W6, branch: false }],
  },
  {
    kind: "directional",
    name: "crossEntropyWithLogits, int labels",
    covers: ["losses.crossEntropyWithLogits"],
    shape: [2, 3],
    f: (x) => ng.nn.crossEntropyWithLogits(x, ng.array([2, 0], { dtype: "int32" })),
    oracle: (x, v) => crossEntropyIntJet(x, v, [2, 0], 3),
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2, 1, 0, -1], v: W6, branch: false },
      { label: "equal logits", x: [0, 0, 0, 1, 1, 1], v: W6, branch: true },
      { label: "large", x: [1000, -1000, 1000, 0, 1000, 0], v: W6, branch: true },
    ],
  },
  {
    kind: "directional",
    name: "crossEntropyWithLogits, probability labels",
    covers: ["losses.crossEntropyWithLogits"],
    shape: [2, 3],
    f: (x) => ng.nn.crossEntropyWithLogits(x, ng.reshape(f64([0.2, 0.5, 0.3, 1, 0, 0]), [2, 3])),
    oracle: (x, v) => crossEntropyProbJet(x, v, [0.2, 0.5, 0.3, 1, 0, 0], 3),
    cases: [
      { label: "ordinary", x: [0.3, -1.2, 2, 1, 0, -1], v: W6, branch: false },
      { label: "equal logits", x: [0, 0, 0, 1, 1, 1], v: W6, branch: true },
    ],
    pair: {
      f2: (z, p) => ng.nn.crossEntropyWithLogits(z, p, { reduction: "sum" }),
      a: f64([
        [0.3, -1.2, 2],
        [1, 0, -1],
      ]),
      b: f64([
        [0.2, 0.5, 0.3],
        [0.6, 0.1, 0.3],
      ]),
    },
  },
  {
    kind: "directional",
    name: "klDivergence wrt logQ",
    covers: ["losses.klDivergence"],
    shape: [2, 3],
    f: (lq) => ng.nn.klDivergence(lq, ng.reshape(f64(P_KL), [2, 3])),
    oracle: (lq, v) => {
      const terms = P_KL.map((p, i) => (p > 0 ? p * (Math.log(p) - lq[i]!) : 0));
      return [sumOf(terms) / 2, -dotJs(P_KL, v) / 2, 0, 0];
    },
    cases: [{ label: "ordinary", x: LQ, v: W6, branch: false }],
    pair: {
      f2: (lq, p) => ng.nn.klDivergence(lq, p, { reduction: "sum" }),
      a: ng.reshape(f64(LQ), [2, 3]),
      b: f64([
        [0.2, 0.5, 0.3],
        [0.6, 0.1, 0.3],
      ]),
    },
  },
  {
    kind: "directional",
    name: "klDivergence wrt the target",
    covers: ["losses.klDivergence"],
    shape: [2, 3],
    f: (p) => ng.nn.klDivergence(ng.reshape(f64(LQ), [2, 3]), p),
    // per element p(log p - lq): derivatives log p + 1 - lq, 1/p, -1/p²; p = 0 counts as 0
    oracle: (p, v) => {
      const out = [0, 0, 0, 0];
      p.forEach((pi, i) => {
        if (pi <= 0) return;
        const d = [pi * (Math.log(pi) - LQ[i]!), Math.log(pi) + 1 - LQ[i]!, 1 / pi, -1 / pi / pi];
        d.forEach((dk, k) => (out[k]! += (dk * v[i]! ** k) / 2));
      });
      return out as unknown as Jet;
    },
    cases: [
      { label: "ordinary", x: [0.2, 0.5, 0.3, 0.6, 0.1, 0.3], v: W6, branch: false },
      {
        label: "a zero probability",
        x: P_KL,
        v: W6,
        branch: true,
        kink: "a term with p = 0 counts as 0, derivatives included (like JAX's xlogy)",
      },
    ],
  },
  {
    kind: "directional",
    name: "klDivergence logTarget wrt the target",
    covers: ["losses.klDivergence"],
    shape: [2, 3],
    f: (t) => ng.nn.klDivergence(ng.reshape(f64(LQ), [2, 3]), t, { logTarget: true }),
    // per element eᵗ(t - lq): derivatives eᵗ(t - lq + k)
    oracle: (t, v) =>
      elementwiseDirectional(
        (ti, i) => {
          const e = Math.exp(ti);
          const r = ti - LQ[i]!;
          return [e * r, e * (r + 1), e * (r + 2), e * (r + 3)];
        },
        t,
        v,
        0.5,
      ),
    cases: [{ label: "ordinary", x: [-1.6, -0.7, -1.2, -0.5, -2.3, -1.1], v: W6, branch: false }],
  },
  {
    kind: "directional",
    name: "mse / mae / huber / bce (mean reduction)",
    covers: ["losses.mse", "losses.mae", "losses.huber", "losses.binaryCrossEntropyWithLogits"],
    shape: [4],
    f: (x) => {
      const y = f64([0.1, -0.3, 0.5, 0.2]);
      const labels = f64([1, 0, 0.3, 0.5]);
      return ng.add(
        ng.add(ng.nn.mse(x, y), ng.nn.mae(x, y)),
        ng.add(ng.nn.huber(x, y, { delta: 0.5 }), ng.nn.binaryCrossEntropyWithLogits(x, labels)),
      );
    },
    oracle: (x, v) => {
      const y = [0.1, -0.3, 0.5, 0.2];
      const labels = [1, 0, 0.3, 0.5];
      const out = [0, 0, 0, 0];
      x.forEach((xi, i) => {
        const d = xi - y[i]!;
        const parts = [squareJet(d), absJet(d), huberJet(0.5)(d), bceJet(labels[i]!)(xi)];
        for (const p of parts) p.forEach((pk, k) => (out[k]! += (pk * v[i]! ** k) / 4));
      });
      return out as unknown as Jet;
    },
    cases: [
      { label: "ordinary", x: [1.3, -0.1, 0.2, 2.4], v: [0.5, -1, 0.25, 2], branch: false },
      {
        label: "residuals at 0 and ±δ, logits at 0",
        x: [0.1, 0.2, 0, 0.7],
        v: [0.5, -1, 0.25, 2],
        branch: true,
        kink: "mae' = 0 at a zero residual; huber at |d| = δ takes the quadratic side",
      },
    ],
    pair: {
      f2: (a, b) =>
        ng.add(
          ng.add(ng.nn.mse(a, b), ng.nn.huber(a, b, { delta: 0.5, reduction: "sum" })),
          ng.nn.binaryCrossEntropyWithLogits(a, ng.sigmoid(b)),
        ),
      a: f64([1.3, -0.1, 0.2, 2.4]),
      b: f64([0.1, -0.3, 0.55, 0.2]),
    },
  },
];

export const REGISTRY: readonly Entry[] = [...ELEMENTWISE, ...DIRECTIONAL];

/** Exports of the enrolled modules that are not differentiable composites, and why. */
export const NOT_APPLICABLE: Readonly<Record<`${ModuleName}.${string}`, string>> = {
  "reductions.asFloat": "internal dtype helper (not re-exported publicly)",
  "reductions.reductionInfo": "internal axis helper (not re-exported publicly)",
  "reductions.stableShift": "internal constant shift of logsumexp/softmax (stopGradient)",
};
