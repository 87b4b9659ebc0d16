import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { NDArray, fromNested, random } from "../../src/tensor/index.js";

const { key, split, foldIn, isKey, randomBits, uniform, normal, bernoulli, randint } = random;
const { permutation, truncatedNormal, philox4x32 } = random;

const words = (k: NDArray): number[] => Array.from(k.flat(), (w) => w >>> 0);

function countIf(xs: ArrayLike<number>, pred: (x: number) => boolean): number {
  let c = 0;
  for (let i = 0; i < xs.length; i++) if (pred(xs[i]!)) c++;
  return c;
}

function meanVar(xs: ArrayLike<number>): [number, number] {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  const m = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - m) ** 2;
  return [m, v / (xs.length - 1)];
}

describe("philox4x32 known-answer tests (Random123 kat_vectors)", () => {
  it.each([
    [
      [0, 0, 0, 0],
      [0, 0],
      [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    ],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ])("counter %j key %j", (ctr, k, expected) => {
    expect(philox4x32(ctr, k)).toEqual(expected);
  });

  it("validates its words", () => {
    expect(() => philox4x32([0, 0, 0], [0, 0])).toThrow(/counter: expected an array of 4 uint32/);
    expect(() => philox4x32([0, 0, 0, 0], [0, 2 ** 32])).toThrow(/key\[1\]: expected a uint32/);
  });

  it("randomBits is the Philox stream of the key: word i = lane i%4 of counter (i/4, 0, 0, 0)", () => {
    const k = key(0x1234_5678_9abc);
    const [k0, k1] = words(k);
    const bits = words(randomBits(k, [10]));
    for (let i = 0; i < 10; i++) {
      const block = philox4x32([Math.floor(i / 4), 0, 0, 0], [k0!, k1!]);
      expect(bits[i]).toBe(block[i % 4]);
    }
  });
});

describe("keys", () => {
  it("key(seed) holds the hi and lo words of the seed", () => {
    expect(words(key(0))).toEqual([0, 0]);
    expect(words(key(42))).toEqual([0, 42]);
    expect(words(key(2 ** 32 + 5))).toEqual([1, 5]);
    expect(words(key(Number.MAX_SAFE_INTEGER))).toEqual([0x1fffff, 0xffffffff]);
    expect(words(key(-1))).toEqual([0xffffffff, 0xffffffff]);
    const k = key(7);
    expect(k.dtype).toBe("int32");
    expect(k.shape).toEqual([2]);
    expect(isKey(k)).toBe(true);
  });

  it("isKey accepts only int32 arrays of shape [2]", () => {
    expect(isKey(fromNested([1, 2], "float32"))).toBe(false);
    expect(isKey(fromNested([1, 2, 3], "int32"))).toBe(false);
    expect(isKey(fromNested([[1, 2]], "int32"))).toBe(false);
    expect(isKey([1, 2])).toBe(false);
    expect(isKey(fromNested([1, 2], "int32"))).toBe(true);
  });

  it("rejects bad seeds", () => {
    expect(() => key(1.5)).toThrow(/seed: expected a safe integer/);
    expect(() => key(2 ** 53)).toThrow(/seed: expected a safe integer/);
    expect(() => key(NaN)).toThrow(/seed/);
    expect(() => key("3" as unknown as number)).toThrow(
      /seed: expected a safe integer.*got string/,
    );
  });

  it("split is deterministic, gives distinct keys, and differs from the parent", () => {
    const k = key(0);
    const a = split(k, 5).map(words);
    const b = split(k, 5).map(words);
    expect(a).toEqual(b);
    const all = new Set([...a, words(k)].map((w) => w.join(",")));
    expect(all.size).toBe(6);
    // child j does not depend on how many children are asked for
    expect(split(k, 2).map(words)).toEqual(a.slice(0, 2));
    expect(split(k)).toHaveLength(2);
    expect(split(k, 1)).toHaveLength(1);
    for (const c of split(k, 3)) expect(isKey(c)).toBe(true);
  });

  it("split children give different streams", () => {
    const [a, b] = split(key(3));
    expect(Array.from(uniform(a!, [8]).data)).not.toEqual(Array.from(uniform(b!, [8]).data));
  });

  it("no collisions among many split keys (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (seed) => {
        const ks = split(key(seed), 64).map((k) => words(k).join(","));
        return new Set(ks).size === 64;
      }),
      { numRuns: 50 },
    );
  });

  it("foldIn is deterministic and separates data values", () => {
    const k = key(11);
    expect(words(foldIn(k, 3))).toEqual(words(foldIn(k, 3)));
    const seen = new Set<string>();
    for (let d = 0; d < 100; d++) seen.add(words(foldIn(k, d)).join(","));
    seen.add(words(foldIn(k, -1)).join(","));
    seen.add(words(foldIn(k, 2 ** 40)).join(","));
    expect(seen.size).toBe(102);
    expect(words(foldIn(k, 0))).not.toEqual(words(k));
    expect(words(foldIn(k, 0))).not.toEqual(words(split(k, 1)[0]!));
    expect(() => foldIn(k, 0.5)).toThrow(/data: expected a safe integer/);
  });

  it("accepts a key that is a strided view", () => {
    const base = fromNested([5, 0, 9, 0], "int32");
    const view = base.view([2], [2], 0); // words [5, 9]
    const plain = fromNested([5, 9], "int32");
    expect(Array.from(uniform(view, [6]).data)).toEqual(Array.from(uniform(plain, [6]).data));
  });

  it("every sampler names a bad key with expected vs actual", () => {
    const bad = fromNested([1, 2, 3], "float32");
    const msg =
      "key: expected a PRNG key (int32 NDArray of shape [2]) from random.key(seed), got float32 [3]";
    const calls: (() => unknown)[] = [
      () => split(bad),
      () => foldIn(bad, 1),
      () => randomBits(bad, [2]),
      () => uniform(bad, [2]),
      () => normal(bad, [2]),
      () => bernoulli(bad, 0.5, [2]),
      () => randint(bad, [2], 0, 3),
      () => permutation(bad, 3),
      () => truncatedNormal(bad, [2]),
    ];
    for (const c of calls) expect(c).toThrow(msg);
    expect(() => uniform(42 as unknown as NDArray, [2])).toThrow(/got number$/);
  });
});

describe("determinism", () => {
  it("pins the first values of uniform(key(0), [4]) (from the KAT-verified generator)", () => {
    const u = uniform(key(0), [4]);
    expect(u.dtype).toBe("float32");
    expect(Array.from(u.data)).toEqual([
      0.3990464210510254, 0.8805201649665833, 0.7357127666473389, 0.6054818034172058,
    ]);
    // key(0) is the all-zero Philox key, so word 0 is the first KAT output 0x6627e8d5
    expect(words(randomBits(key(0), [4]))).toEqual([
      0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8,
    ]);
    expect(u.data[0]).toBe((0x6627e8d5 >>> 8) / 2 ** 24);
  });

  it("same key, same numbers; prefix independent of total size", () => {
    const k = key(123);
    const samplers: ((n: number) => ArrayLike<number>)[] = [
      (n) => randomBits(k, [n]).data,
      (n) => uniform(k, [n]).data,
      (n) => uniform(k, [n], { dtype: "float64", minval: -3, maxval: 5 }).data,
      (n) => normal(k, [n]).data,
      (n) => normal(k, [n], { dtype: "float64" }).data,
      (n) => bernoulli(k, 0.3, [n]).data,
      (n) => randint(k, [n], -5, 17).data,
      (n) => truncatedNormal(k, [n]).data,
    ];
    for (const f of samplers) {
      const a = Array.from(f(37));
      expect(Array.from(f(37))).toEqual(a);
      expect(Array.from(f(101)).slice(0, 37)).toEqual(a);
      expect(Array.from(f(6))).toEqual(a.slice(0, 6));
    }
  });

  it("shape only reshapes the stream", () => {
    const k = key(9);
    expect(Array.from(normal(k, [3, 4]).data)).toEqual(Array.from(normal(k, [12]).data));
    expect(normal(k, [3, 4]).shape).toEqual([3, 4]);
  });

  it("float32 normal is the float64 normal rounded", () => {
    const k = key(5);
    const a = normal(k, [50], { dtype: "float64" }).data;
    const b = normal(k, [50]).data;
    for (let i = 0; i < 50; i++) expect(b[i]).toBe(Math.fround(a[i]!));
  });

  it("size-0 and scalar shapes", () => {
    const k = key(1);
    expect(uniform(k, [0, 3]).shape).toEqual([0, 3]);
    expect(normal(k, [2, 0]).size).toBe(0);
    expect(randint(k, [0], 0, 2).size).toBe(0);
    expect(bernoulli(k, 0.5, []).shape).toEqual([]);
    const s = uniform(k, []);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(uniform(k, [1]).data[0]);
    expect(permutation(k, 0).shape).toEqual([0]);
    expect(Array.from(permutation(k, 1).data)).toEqual([0]);
  });
});

describe("statistics (tolerances from theory: 5 standard errors)", () => {
  const N = 100_000;

  it("uniform float32 and float64 in [0, 1): mean 1/2, variance 1/12", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = uniform(key(2), [N], { dtype }).data;
      const [m, v] = meanVar(x);
      expect(Math.abs(m - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
      // Var of the sample variance of U(0,1): (1/80 - 1/144)/N
      expect(Math.abs(v - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / N));
      expect(countIf(x, (xi) => !(xi >= 0 && xi < 1))).toBe(0);
    }
  });

  it("uniform with bounds: mean (a+b)/2, variance (b-a)²/12", () => {
    const a = -3;
    const b = 7;
    const x = uniform(key(4), [N], { minval: a, maxval: b, dtype: "float64" }).data;
    const [m, v] = meanVar(x);
    expect(Math.abs(m - 2)).toBeLessThan(5 * Math.sqrt(100 / 12 / N));
    expect(Math.abs(v - 100 / 12)).toBeLessThan(5 * 100 * Math.sqrt((1 / 80 - 1 / 144) / N));
    expect(countIf(x, (xi) => !(xi >= a && xi < b))).toBe(0);
  });

  it("uniform never returns maxval, even when rounding would", () => {
    // [1, 1 + 2^-23): every u rounds to 1 or to 1 + 2^-23 (= maxval in float32)
    const hi32 = 1 + 2 ** -23;
    const x = uniform(key(8), [10_000], { minval: 1, maxval: hi32 }).data;
    expect(countIf(x, (xi) => !(xi >= 1 && xi < hi32))).toBe(0);
    expect(countIf(x, (xi) => xi === 1)).toBeGreaterThan(0);
    const hi64 = 1 + 2 ** -52;
    const y = uniform(key(8), [10_000], { minval: 1, maxval: hi64, dtype: "float64" }).data;
    expect(countIf(y, (yi) => yi !== 1)).toBe(0);
    // bounds are rounded to float32 first: maxval 0.1 → fround(0.1) is never reached
    const z = uniform(key(8), [10_000], { minval: 0.0999999, maxval: 0.1 }).data;
    expect(countIf(z, (zi) => !(zi < Math.fround(0.1)))).toBe(0);
  });

  it("normal: mean 0, variance 1, no NaN/Inf, both Box–Muller lanes", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = normal(key(6), [N + 1], { dtype }).data; // odd size
      expect(countIf(x, (xi) => !Number.isFinite(xi))).toBe(0);
      const [m, v] = meanVar(x);
      expect(Math.abs(m)).toBeLessThan(5 * Math.sqrt(1 / N));
      // Var of the sample variance of N(0,1): 2/(N-1)
      expect(Math.abs(v - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
      // each lane on its own is standard normal too
      const even = Array.from(x).filter((_, i) => i % 2 === 0);
      const odd = Array.from(x).filter((_, i) => i % 2 === 1);
      for (const lane of [even, odd]) {
        const [lm, lv] = meanVar(lane);
        expect(Math.abs(lm)).toBeLessThan(5 * Math.sqrt(1 / lane.length));
        expect(Math.abs(lv - 1)).toBeLessThan(5 * Math.sqrt(2 / lane.length));
      }
    }
  });

  it("normal: P(|z| < 1) ≈ 0.6827 and mean/std options", () => {
    const x = normal(key(7), [N], { mean: 3, std: 2, dtype: "float64" }).data;
    const [m, v] = meanVar(x);
    expect(Math.abs(m - 3)).toBeLessThan(5 * 2 * Math.sqrt(1 / N));
    expect(Math.abs(v - 4)).toBeLessThan(5 * 4 * Math.sqrt(2 / N));
    let inside = 0;
    for (const xi of x) if (Math.abs(xi - 3) < 2) inside++;
    const p = 0.682689492137;
    expect(Math.abs(inside / N - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    expect(Array.from(normal(key(7), [5], { std: 0 }).data)).toEqual([0, 0, 0, 0, 0]);
  });

  it("bernoulli frequency matches p; p = 0 and p = 1 are exact", () => {
    for (const p of [0.5, 0.1, 0.93]) {
      const x = bernoulli(key(10), p, [N]);
      expect(x.dtype).toBe("bool");
      let ones = 0;
      for (const xi of x.data) ones += xi;
      expect(Math.abs(ones / N - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    }
    expect(Array.from(bernoulli(key(1), 0, [100]).data).every((b) => b === 0)).toBe(true);
    expect(Array.from(bernoulli(key(1), 1, [100]).data).every((b) => b === 1)).toBe(true);
  });

  it("randint covers [minval, maxval) uniformly (chi-square)", () => {
    const lo = -7;
    const hi = 13;
    const k = hi - lo;
    const x = randint(key(12), [N], lo, hi);
    expect(x.dtype).toBe("int32");
    const counts = new Array<number>(k).fill(0);
    expect(countIf(x.data, (xi) => !(xi >= lo && xi < hi))).toBe(0);
    for (const xi of x.data) counts[xi - lo]!++;
    const e = N / k;
    const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    // chi-square with k-1 = 19 dof: mean 19, sd √38 ≈ 6.2; 19 + 8·6.2 ≈ 68 is very loose
    expect(chi2).toBeLessThan(68);
    expect(counts.every((c) => c > 0)).toBe(true);
  });

  it("randint with a range that is not a power of two exercises rejection without bias", () => {
    // range 3·2^30: Lemire rejects 2^32 mod range = 2^30 of 2^32 words (25%)
    const lo = -(2 ** 31);
    const hi = 2 ** 31 - 2 ** 30;
    const x = randint(key(13), [N], lo, hi).data;
    const thirds = [0, 0, 0];
    expect(countIf(x, (xi) => !(xi >= lo && xi < hi))).toBe(0);
    for (const xi of x) thirds[Math.floor((xi - lo) / 2 ** 30)]!++;
    // a modulo reduction would give the first third twice the mass of the others
    const e = N / 3;
    const chi2 = thirds.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(30); // 2 dof
  });

  it("randint full int32 range and tiny ranges", () => {
    const full = randint(key(14), [1000], -(2 ** 31), 2 ** 31).data;
    expect(new Set(full).size).toBeGreaterThan(990);
    expect(Array.from(randint(key(14), [50], 5, 6).data).every((v) => v === 5)).toBe(true);
    const bits = randomBits(key(14), [1000]).data;
    expect(Array.from(full)).toEqual(Array.from(bits));
  });

  it("permutation is a permutation and is uniform over orders of 3", () => {
    const p = permutation(key(15), 1000);
    expect(p.dtype).toBe("int32");
    expect(Array.from(p.data).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i),
    );
    const counts = new Map<string, number>();
    const ks = split(key(16), 6000);
    for (const k of ks) {
      const s = Array.from(permutation(k, 3).data).join("");
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - 1000) ** 2 / 1000, 0);
    expect(chi2).toBeLessThan(40); // 5 dof
  });

  it("permutation is a permutation for any n (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 1e6 }), (n, s) => {
        const p = Array.from(permutation(key(s), n).data).sort((a, b) => a - b);
        return p.every((v, i) => v === i);
      }),
      { numRuns: 50 },
    );
  });
});

describe("truncatedNormal", () => {
  // moments of the standard normal truncated to [a, b]
  const pdf = (x: number): number =>
    Number.isFinite(x) ? Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI) : 0;
  const cdf = (x: number): number => {
    // Φ by Simpson on a fine grid from -12 (accurate to ~1e-10 for the bounds used here)
    if (x === -Infinity) return 0;
    if (x === Infinity) return 1;
    const a = -12;
    const m = 20000;
    const h = (x - a) / m;
    let s = pdf(a) + pdf(x);
    for (let i = 1; i < m; i++) s += (i % 2 ? 4 : 2) * pdf(a + i * h);
    return (s * h) / 3;
  };
  function moments(a: number, b: number): [number, number] {
    const z = cdf(b) - cdf(a);
    const mean = (pdf(a) - pdf(b)) / z;
    const ta = Number.isFinite(a) ? a * pdf(a) : 0;
    const tb = Number.isFinite(b) ? b * pdf(b) : 0;
    const variance = 1 + (ta - tb) / z - mean * mean;
    return [mean, variance];
  }

  it.each([
    [-2, 2],
    [-0.3, 0.4],
    [0.5, 3],
    [3, Infinity],
    [-Infinity, -4],
    [-1, Infinity],
    [5, 5.2],
    [-Infinity, Infinity],
  ])("[%d, %d]: in bounds, moments match theory", (a, b) => {
    const N = 50_000;
    const x = truncatedNormal(key(20), [N], a, b, { dtype: "float64" }).data;
    expect(countIf(x, (xi) => !(xi >= a && xi <= b))).toBe(0);
    const [m, v] = meanVar(x);
    const [tm, tv] = moments(a, b);
    expect(Math.abs(m - tm)).toBeLessThan(5 * Math.sqrt(tv / N));
    // sample-variance standard error, bounded by the Gaussian value with a margin
    expect(Math.abs(v - tv)).toBeLessThan(6 * tv * Math.sqrt(2 / N) + 1e-12);
  });

  it("default [-2, 2] in float32 stays in bounds", () => {
    const x = truncatedNormal(key(21), [20_000]);
    expect(x.dtype).toBe("float32");
    expect(countIf(x.data, (xi) => !(Math.abs(xi) <= 2))).toBe(0);
    const y = truncatedNormal(key(21), [1000], 0.1, 0.1000001).data;
    expect(countIf(y, (yi) => !(yi >= 0.1 && yi <= 0.1000001))).toBe(0);
  });

  it("validates bounds", () => {
    expect(() => truncatedNormal(key(0), [2], 1, 1)).toThrow(/expected lower < upper/);
    expect(() => truncatedNormal(key(0), [2], NaN, 1)).toThrow(/expected lower < upper/);
  });
});

describe("argument errors", () => {
  const k = key(0);
  it("shapes", () => {
    expect(() => uniform(k, [2, -1])).toThrow(
      /uniform: shape\[1\]: expected a non-negative integer/,
    );
    expect(() => normal(k, 3 as unknown as number[])).toThrow(/normal: shape: expected an array/);
    expect(() => randomBits(k, [1.5])).toThrow(/randomBits: shape\[0\]/);
  });
  it("dtypes", () => {
    expect(() => uniform(k, [2], { dtype: "int32" as "float32" })).toThrow(
      /uniform: dtype: expected float32 or float64, got int32/,
    );
    expect(() => normal(k, [2], { dtype: "float16" as "float32" })).toThrow(
      /normal: dtype: unknown dtype/,
    );
    expect(() => truncatedNormal(k, [2], -2, 2, { dtype: "bool" as "float32" })).toThrow(
      /expected float32 or float64, got bool/,
    );
  });
  it("uniform bounds", () => {
    expect(() => uniform(k, [2], { minval: 1, maxval: 1 })).toThrow(/expected minval < maxval/);
    expect(() => uniform(k, [2], { minval: 0, maxval: Infinity })).toThrow(
      /uniform: maxval: expected a finite number/,
    );
    expect(() => uniform(k, [2], { maxval: 1e39 })).toThrow(/finite in float32/);
    expect(() => uniform(k, [2], { minval: 1, maxval: 1 + 1e-12 })).toThrow(/minval < maxval/);
  });
  it("normal parameters", () => {
    expect(() => normal(k, [2], { std: -1 })).toThrow(/normal: std: expected std ≥ 0, got -1/);
    expect(() => normal(k, [2], { mean: NaN })).toThrow(/normal: mean: expected a finite number/);
  });
  it("bernoulli p", () => {
    expect(() => bernoulli(k, 1.5, [2])).toThrow(
      /bernoulli: p: expected a probability in \[0, 1\], got 1.5/,
    );
    expect(() => bernoulli(k, NaN, [2])).toThrow(/bernoulli: p/);
  });
  it("randint bounds", () => {
    expect(() => randint(k, [2], 3, 3)).toThrow(
      /randint: expected minval < maxval, got minval=3, maxval=3/,
    );
    expect(() => randint(k, [2], 0.5, 3)).toThrow(/randint: minval: expected an integer/);
    expect(() => randint(k, [2], 0, 2 ** 31 + 1)).toThrow(
      /randint: maxval: expected an integer in/,
    );
  });
  it("split and permutation counts", () => {
    expect(() => split(k, 0)).toThrow(/split: num: expected an integer ≥ 1, got 0/);
    expect(() => permutation(k, -1)).toThrow(/permutation: n: expected an integer/);
  });
});
