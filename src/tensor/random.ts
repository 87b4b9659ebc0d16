/**
 * Counter-based pseudo-random numbers with explicit, splittable keys. The generator is Philox4x32-10 (Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a keyed bijection of a 128-bit
 * counter, so element i of every output is a pure function of (key, i) and the same key
 * gives the same numbers on every platform, whatever the chunking. A key is an int32
 * NDArray of shape [2] holding two 32-bit words; `split` and `foldIn` derive new keys by
 * hashing the key with dedicated counters, so streams never overlap by construction.
 */
import { allocate, checkAllocation, checkDType, type FloatDType } from "./dtype.js";
import { NDArray } from "./ndarray.js";
import { checkOptions } from "../util/options.js";
import { checkShape, formatShape, sizeOf } from "./shape.js";

// ---------------------------------------------------------------------------
// Philox4x32-10
// ---------------------------------------------------------------------------

// Round multipliers and Weyl key increments from the Philox paper (Random123).
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const M0_HI = M0 >>> 16;
const M0_LO = M0 & 0xffff;
const M1_HI = M1 >>> 16;
const M1_LO = M1 & 0xffff;

// The fourth counter word tags what a block is used for, so the streams of one key
// (raw bits, derived keys, per-element retries) are disjoint.
const TAG_BITS = 0;
const TAG_SPLIT = 1;
const TAG_FOLD = 2;
const TAG_RETRY = 3;
const TAG_TRUNCNORM = 4;
const TAG_PERMUTE = 5;

const TWO32 = 4294967296;

/**
 * High 32 bits of the 64-bit product of uint32 `a` and a multiplier given by its 16-bit
 * halves: a·m = ah·mh·2^32 + (ah·ml + al·mh)·2^16 + al·ml, each partial product < 2^32,
 * so every sum below is exact in doubles.
 */
function mulhi(a: number, mh: number, ml: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const t = al * ml;
  const m1 = ah * ml;
  const m2 = al * mh;
  const mid = (t >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
  return (ah * mh + (m1 >>> 16) + (m2 >>> 16) + (mid >>> 16)) | 0;
}

/**
 * One Philox4x32-10 block: writes the four output words (as int32 bit patterns) of
 * counter (c0, c1, c2, c3) under key (k0, k1) into out[o .. o+3].
 */
function philoxBlock(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Int32Array,
  o: number,
): void {
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + W0) | 0;
      k1 = (k1 + W1) | 0;
    }
    // (hi0, lo0) = M0·c0, (hi1, lo1) = M1·c2; new counter = (hi1^c1^k0, lo1, hi0^c3^k1, lo0)
    const hi0 = mulhi(c0, M0_HI, M0_LO);
    const lo0 = Math.imul(c0, M0);
    const hi1 = mulhi(c2, M1_HI, M1_LO);
    const lo1 = Math.imul(c2, M1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  out[o] = c0;
  out[o + 1] = c1;
  out[o + 2] = c2;
  out[o + 3] = c3;
}

const scratch = new Int32Array(4);

/**
 * The Philox4x32-10 bijection on one 128-bit counter under a 64-bit key, as four uint32
 * numbers. Exposed for known-answer tests and for users who need the raw generator.
 * @example
 * ng.nd.random.philox4x32([0, 0, 0, 0], [0, 0]); // [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 */
export function philox4x32(
  counter: readonly [number, number, number, number] | readonly number[],
  key: readonly [number, number] | readonly number[],
): [number, number, number, number] {
  checkWords(counter, 4, "counter");
  checkWords(key, 2, "key");
  philoxBlock(counter[0]!, counter[1]!, counter[2]!, counter[3]!, key[0]!, key[1]!, scratch, 0);
  return [scratch[0]! >>> 0, scratch[1]! >>> 0, scratch[2]! >>> 0, scratch[3]! >>> 0];
}

function checkWords(words: unknown, n: number, argName: string): void {
  if (!Array.isArray(words) || words.length !== n) {
    throw new TypeError(
      `${argName}: expected an array of ${n} uint32 words, got ${describe(words)}`,
    );
  }
  for (let i = 0; i < n; i++) {
    const w: unknown = words[i];
    if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w >= TWO32) {
      throw new RangeError(`${argName}[${i}]: expected a uint32 word, got ${String(w)}`);
    }
  }
}

/**
 * `n` words of the stream `tag` of key (k0, k1): word i is lane i mod 4 of the block with
 * counter (j mod 2^32, floor(j / 2^32), c2, tag), j = floor(i / 4).
 */
function streamWords(k0: number, k1: number, n: number, tag: number, c2 = 0): Int32Array {
  const out = new Int32Array(n);
  const full = Math.floor(n / 4);
  for (let j = 0; j < full; j++) {
    philoxBlock(j | 0, Math.floor(j / TWO32) | 0, c2, tag, k0, k1, out, 4 * j);
  }
  const rest = n - 4 * full;
  if (rest > 0) {
    philoxBlock(full | 0, Math.floor(full / TWO32) | 0, c2, tag, k0, k1, scratch, 0);
    for (let l = 0; l < rest; l++) out[4 * full + l] = scratch[l]!;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

/** A PRNG key: an int32 NDArray of shape [2] (two 32-bit words). */
export type Key = NDArray;

/**
 * True when `x` is a PRNG key: an int32 NDArray of shape [2].
 * @example ng.nd.random.isKey(ng.nd.random.key(0)) // true
 */
export function isKey(x: unknown): x is Key {
  return x instanceof NDArray && x.dtype === "int32" && x.ndim === 1 && x.shape[0] === 2;
}

function describe(x: unknown): string {
  if (x instanceof NDArray) return `${x.dtype} ${formatShape(x.shape)}`;
  if (x === null) return "null";
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  return typeof x;
}

/** Validates a key argument and returns its two words as int32 bit patterns. */
function keyWords(key: unknown, argName = "key"): [number, number] {
  if (!isKey(key)) {
    throw new TypeError(
      `${argName}: expected a PRNG key (int32 NDArray of shape [2]) from random.key(seed), got ${describe(key)}`,
    );
  }
  const d = key.data;
  return [d[key.offset]! | 0, d[key.offset + key.strides[0]!]! | 0];
}

function makeKey(w0: number, w1: number): Key {
  const data = new Int32Array(2);
  data[0] = w0;
  data[1] = w1;
  return new NDArray(data, [2]);
}

/** Splits a safe integer into its two's-complement 64-bit (hi, lo) words. */
function splitInteger(v: unknown, argName: string): [number, number] {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    throw new TypeError(
      `${argName}: expected a safe integer (|${argName.split(": ").pop()}| ≤ 2^53 - 1), got ${typeof v === "number" ? String(v) : typeof v}`,
    );
  }
  const hi = Math.floor(v / TWO32);
  const lo = v - hi * TWO32;
  return [hi | 0, lo | 0];
}

/**
 * A PRNG key from an integer seed: the words are the high and low 32 bits of the seed
 * (two's complement for negative seeds), so key(s) = [hi, lo].
 * @example
 * const k = ng.nd.random.key(0);
 * const [k1, k2] = ng.nd.random.split(k);
 * ng.nd.random.normal(k1, [3]);
 */
export function key(seed: number): Key {
  const [hi, lo] = splitInteger(seed, "random.key: seed");
  return makeKey(hi, lo);
}

/**
 * `num` new keys derived from `key`: child j is the first two words of Philox(key) at
 * counter (j, 0, 0, SPLIT). Children are distinct from each other and from the parent's
 * own streams.
 * @example
 * const [a, b, c] = ng.nd.random.split(ng.nd.random.key(1), 3);
 */
export function split(key: Key, num = 2): Key[] {
  const [k0, k1] = keyWords(key);
  if (typeof num !== "number" || !Number.isSafeInteger(num) || num < 1) {
    throw new RangeError(`split: num: expected an integer ≥ 1, got ${String(num)}`);
  }
  checkAllocation("split", [num, 2], "int32"); // num keys of two int32 words
  const out: Key[] = new Array(num);
  for (let j = 0; j < num; j++) {
    philoxBlock(j | 0, Math.floor(j / TWO32) | 0, 0, TAG_SPLIT, k0, k1, scratch, 0);
    out[j] = makeKey(scratch[0]!, scratch[1]!);
  }
  return out;
}

/**
 * A new key that mixes the integer `data` (a safe integer, e.g. a step or layer index)
 * into `key`: the first two words of Philox(key) at counter (lo(data), hi(data), 0, FOLD).
 * @example
 * const stepKey = ng.nd.random.foldIn(ng.nd.random.key(0), 17);
 */
export function foldIn(key: Key, data: number): Key {
  const [k0, k1] = keyWords(key);
  const [hi, lo] = splitInteger(data, "random.foldIn: data");
  philoxBlock(lo, hi, 0, TAG_FOLD, k0, k1, scratch, 0);
  return makeKey(scratch[0]!, scratch[1]!);
}

// ---------------------------------------------------------------------------
// Samplers
// ---------------------------------------------------------------------------

const TWO_M24 = 1 / 16777216;
const TWO_M53 = 1 / 9007199254740992;

/** A uniform double in [0, 1 - 2^-53] from two words: 27 high bits of a, 26 of b. */
function u53(a: number, b: number): number {
  return ((a >>> 5) * 67108864 + (b >>> 6)) * TWO_M53;
}

function checkFloatDType(dtype: unknown, fn: string): FloatDType {
  const d = checkDType(dtype, `${fn}: dtype`);
  if (d !== "float32" && d !== "float64") {
    throw new TypeError(`${fn}: dtype: expected float32 or float64, got ${d}`);
  }
  return d;
}

function checkFinite(v: unknown, argName: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TypeError(`${argName}: expected a finite number, got ${String(v)}`);
  }
  return v;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The largest float32 strictly below the float32 value `x` (x finite). */
function prevFloat32(x: number): number {
  if (x === 0) return -1.401298464324817e-45;
  f32[0] = x;
  if (x > 0) u32[0] = u32[0]! - 1;
  else u32[0] = u32[0]! + 1;
  return f32[0];
}

/** The smallest float32 strictly above the float32 value `x` (x finite). */
function nextFloat32(x: number): number {
  return -prevFloat32(-x);
}

/** The largest double strictly below the double `x` (x finite). */
function prevFloat64(x: number): number {
  if (x === 0) return -5e-324;
  f64[0] = x;
  if (x > 0) u64[0] = u64[0]! - 1n;
  else u64[0] = u64[0]! + 1n;
  return f64[0];
}

/** The raw bits of the stream of `key` as a Uint32Array view of length `n` (internal). */
function bits(key: Key, n: number): Uint32Array {
  const [k0, k1] = keyWords(key);
  const w = streamWords(k0, k1, n, TAG_BITS);
  return new Uint32Array(w.buffer, 0, n);
}

/**
 * Raw random bits: an int32 NDArray of `shape` whose elements carry uniformly random
 * 32-bit patterns (read them with `>>> 0` for uint32). Element i is word i of the key's
 * stream, so a prefix does not depend on the total size.
 * @example
 * ng.nd.random.randomBits(ng.nd.random.key(0), [4]);
 */
export function randomBits(key: Key, shape: readonly number[]): NDArray {
  const [k0, k1] = keyWords(key);
  const s = checkShape(shape as unknown, "randomBits: shape");
  checkAllocation("randomBits", s, "int32");
  return new NDArray(streamWords(k0, k1, sizeOf(s), TAG_BITS), s);
}

export interface UniformOptions {
  minval?: number;
  maxval?: number;
  dtype?: FloatDType;
}

/**
 * Uniform samples in [minval, maxval). float32 uses 24 random bits per element (one word),
 * float64 uses 53 (two words); results are clamped below maxval after rounding, and the
 * bounds are first rounded to the dtype.
 * @example
 * ng.nd.random.uniform(ng.nd.random.key(0), [2, 3], { minval: -1, maxval: 1 });
 */
export function uniform(key: Key, shape: readonly number[], options: UniformOptions = {}): NDArray {
  keyWords(key);
  const s = checkShape(shape as unknown, "uniform: shape");
  const {
    minval = 0,
    maxval = 1,
    dtype = "float32",
  } = checkOptions("uniform", options ?? {}, ["minval", "maxval", "dtype"]);
  const dt = checkFloatDType(dtype, "uniform");
  checkFinite(minval, "uniform: minval");
  checkFinite(maxval, "uniform: maxval");
  const lo = dt === "float32" ? Math.fround(minval) : minval;
  const hi = dt === "float32" ? Math.fround(maxval) : maxval;
  if (!(lo < hi) || !Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new RangeError(
      `uniform: expected minval < maxval (finite in ${dt}), got minval=${minval}, maxval=${maxval}`,
    );
  }
  checkAllocation("uniform", s, dt);
  const n = sizeOf(s);
  const out = allocate(dt, n);
  const width = hi - lo;
  const wide = !Number.isFinite(width); // only for bounds near ±Number.MAX_VALUE
  if (dt === "float32") {
    const w = bits(key, n);
    const top = prevFloat32(hi);
    if (lo === 0 && hi === 1) {
      for (let i = 0; i < n; i++) out[i] = (w[i]! >>> 8) * TWO_M24;
    } else {
      for (let i = 0; i < n; i++) {
        const u = (w[i]! >>> 8) * TWO_M24;
        let v = Math.fround(wide ? lo * (1 - u) + hi * u : lo + width * u);
        if (v >= hi) v = top;
        else if (v < lo) v = lo;
        out[i] = v;
      }
    }
  } else {
    const w = bits(key, 2 * n);
    const top = prevFloat64(hi);
    for (let i = 0; i < n; i++) {
      const u = u53(w[2 * i]!, w[2 * i + 1]!);
      let v = wide ? lo * (1 - u) + hi * u : lo + width * u;
      if (v >= hi) v = top;
      else if (v < lo) v = lo;
      out[i] = v;
    }
  }
  return new NDArray(out, s);
}

export interface NormalOptions {
  mean?: number;
  std?: number;
  dtype?: FloatDType;
}

/**
 * Normal samples with the given mean and standard deviation, by Box–Muller on 53-bit
 * uniforms: elements 2p and 2p+1 are r·cos θ and r·sin θ with r = sqrt(-2 ln(1 - u1)),
 * θ = 2π u2 from words 4p..4p+3 (1 - u1 ≥ 2^-53, so the log is finite; |z| ≤ 8.58).
 * float32 results are the float64 ones rounded.
 * @example
 * ng.nd.random.normal(ng.nd.random.key(0), [1000], { std: 0.1 });
 */
export function normal(key: Key, shape: readonly number[], options: NormalOptions = {}): NDArray {
  keyWords(key);
  const s = checkShape(shape as unknown, "normal: shape");
  const {
    mean = 0,
    std = 1,
    dtype = "float32",
  } = checkOptions("normal", options ?? {}, ["mean", "std", "dtype"]);
  const dt = checkFloatDType(dtype, "normal");
  checkFinite(mean, "normal: mean");
  checkFinite(std, "normal: std");
  if (std < 0) throw new RangeError(`normal: std: expected std ≥ 0, got ${std}`);
  checkAllocation("normal", s, dt);
  const n = sizeOf(s);
  const out = allocate(dt, n);
  const pairs = Math.ceil(n / 2);
  const w = bits(key, 4 * pairs);
  const plain = mean === 0 && std === 1;
  for (let p = 0; p < pairs; p++) {
    const q = 4 * p;
    const r = Math.sqrt(-2 * Math.log(1 - u53(w[q]!, w[q + 1]!)));
    const theta = 2 * Math.PI * u53(w[q + 2]!, w[q + 3]!);
    const z0 = r * Math.cos(theta);
    const i = 2 * p;
    out[i] = plain ? z0 : mean + std * z0;
    if (i + 1 < n) {
      const z1 = r * Math.sin(theta);
      out[i + 1] = plain ? z1 : mean + std * z1;
    }
  }
  return new NDArray(out, s);
}

/**
 * Bernoulli samples: a bool array of `shape` that is true with probability `p`
 * (element i is true when word i < p·2^32, so p has a resolution of 2^-32).
 * @example
 * ng.nd.random.bernoulli(ng.nd.random.key(0), 0.5, [10]);
 */
export function bernoulli(key: Key, p: number, shape: readonly number[]): NDArray {
  keyWords(key);
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new RangeError(`bernoulli: p: expected a probability in [0, 1], got ${String(p)}`);
  }
  const s = checkShape(shape as unknown, "bernoulli: shape");
  checkAllocation("bernoulli", s, "bool");
  const n = sizeOf(s);
  const out = allocate("bool", n);
  const w = bits(key, n);
  const threshold = p * TWO32;
  for (let i = 0; i < n; i++) out[i] = w[i]! < threshold ? 1 : 0;
  return new NDArray(out, s);
}

/**
 * An exactly uniform integer in [0, range) for element `i` (range an integer in
 * [1, 2^32)), by Lemire's multiply-shift with rejection: the first candidate is `word`;
 * a rejected element retries with words of its own stream (counter (i, attempt, c2, RETRY)),
 * so the result still depends only on (key, i).
 */
function boundedInt(
  word: number,
  range: number,
  threshold: number,
  k0: number,
  k1: number,
  i: number,
  c2: number,
): number {
  let x = word >>> 0;
  let attempt = 0;
  let slot = 4;
  for (;;) {
    // m = x·range as (hi, lo); lo < (2^32 - range) mod range is the biased zone
    const lo = Math.imul(x, range) >>> 0;
    if (lo >= threshold) return mulhi(x, range >>> 16, range & 0xffff) >>> 0;
    if (slot === 4) {
      philoxBlock(i | 0, Math.floor(i / TWO32) | 0, c2 | attempt, TAG_RETRY, k0, k1, scratch, 0);
      attempt++;
      slot = 0;
    }
    x = scratch[slot++]! >>> 0;
  }
}

function checkInt32Bound(v: unknown, argName: string, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < -2147483648 || v > max) {
    throw new RangeError(
      `${argName}: expected an integer in [-2^31, ${max === 2147483648 ? "2^31" : "2^31 - 1"}], got ${String(v)}`,
    );
  }
  return v;
}

/**
 * Uniform int32 samples in [minval, maxval) without modulo bias (Lemire's multiply-shift
 * with per-element rejection; maxval may be 2^31 to include 2^31 - 1).
 * @example
 * ng.nd.random.randint(ng.nd.random.key(0), [5], 0, 10); // [3, 8, 7, 6, 9]
 */
export function randint(
  key: Key,
  shape: readonly number[],
  minval: number,
  maxval: number,
): NDArray {
  const [k0, k1] = keyWords(key);
  const s = checkShape(shape as unknown, "randint: shape");
  checkInt32Bound(minval, "randint: minval", 2147483647);
  checkInt32Bound(maxval, "randint: maxval", 2147483648);
  if (!(minval < maxval)) {
    throw new RangeError(
      `randint: expected minval < maxval, got minval=${minval}, maxval=${maxval}`,
    );
  }
  checkAllocation("randint", s, "int32");
  const n = sizeOf(s);
  const out = new Int32Array(n);
  const w = streamWords(k0, k1, n, TAG_BITS);
  const range = maxval - minval;
  if (range === TWO32) {
    for (let i = 0; i < n; i++) out[i] = w[i]!; // every bit pattern is a valid int32
  } else {
    const threshold = (TWO32 - range) % range;
    const rh = range >>> 16;
    const rl = range & 0xffff;
    for (let i = 0; i < n; i++) {
      const x = w[i]! >>> 0;
      const v =
        Math.imul(x, range) >>> 0 >= threshold
          ? mulhi(x, rh, rl) >>> 0
          : boundedInt(x, range, threshold, k0, k1, i, 0);
      out[i] = minval + v;
    }
  }
  return new NDArray(out, s);
}

/**
 * A uniformly random permutation of 0 .. n-1 as an int32 array of shape [n]
 * (Fisher–Yates with exactly uniform draws: step i swaps position i with j ∈ [0, i]).
 * @example
 * ng.nd.random.permutation(ng.nd.random.key(0), 5); // [0, 3, 2, 4, 1]
 */
export function permutation(key: Key, n: number): NDArray {
  const [k0, k1] = keyWords(key);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 2147483647) {
    throw new RangeError(`permutation: n: expected an integer in [0, 2^31 - 1], got ${String(n)}`);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const w = streamWords(k0, k1, n, TAG_PERMUTE);
  for (let i = n - 1; i > 0; i--) {
    const range = i + 1;
    const j = boundedInt(w[i]!, range, (TWO32 - range) % range, k0, k1, i, 1 << 30);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return new NDArray(out, [n]);
}

export interface TruncatedNormalOptions {
  dtype?: FloatDType;
}

/** Largest number of proposals per element; each is accepted with probability ≥ 1/3. */
const MAX_ATTEMPTS = 1000;

/**
 * Standard normal samples conditioned on [lower, upper] (bounds may be infinite).
 * Exact rejection sampling, counter-based per element (attempt t of element i uses the
 * Philox block (i, t) of its own stream): plain normal proposals when the interval
 * contains 0 and is at least 1 wide, uniform proposals with acceptance exp(-x²/2) for a
 * narrow interval around 0, and Robert's (1995) exponential proposals, truncated to the
 * interval, for a one-sided tail. Every case accepts with probability above 1/3.
 * @example
 * ng.nd.random.truncatedNormal(ng.nd.random.key(0), [256, 128]); // in [-2, 2]
 */
export function truncatedNormal(
  key: Key,
  shape: readonly number[],
  lower = -2,
  upper = 2,
  options: TruncatedNormalOptions = {},
): NDArray {
  const [k0, k1] = keyWords(key);
  const s = checkShape(shape as unknown, "truncatedNormal: shape");
  const o = checkOptions("truncatedNormal", options ?? {}, ["dtype"]);
  const dt = checkFloatDType(o.dtype ?? "float32", "truncatedNormal");
  if (typeof lower !== "number" || typeof upper !== "number" || !(lower < upper)) {
    throw new RangeError(
      `truncatedNormal: expected lower < upper (numbers, may be infinite), got lower=${String(lower)}, upper=${String(upper)}`,
    );
  }
  checkAllocation("truncatedNormal", s, dt);
  const n = sizeOf(s);
  const out = allocate(dt, n);
  // Mirror an interval below 0 to [a, b] = [-upper, -lower] above it.
  const flip = upper <= 0;
  const a = flip ? -upper : lower;
  const b = flip ? -lower : upper;
  const sign = flip ? -1 : 1;
  let mode: 0 | 1 | 2;
  if (a < 0) mode = b - a >= 1 ? 0 : 1;
  else mode = 2;
  // Exponential proposal rate (Robert 1995) and the mass of [a, b] under it.
  const lam = (a + Math.sqrt(a * a + 4)) / 2;
  const expMass = -Math.expm1(-lam * (b - a));
  const w = new Int32Array(4);
  for (let i = 0; i < n; i++) {
    let x = NaN;
    for (let t = 0; t < MAX_ATTEMPTS && Number.isNaN(x); t++) {
      philoxBlock(i | 0, Math.floor(i / TWO32) | 0, t, TAG_TRUNCNORM, k0, k1, w, 0);
      const u1 = u53(w[0]!, w[1]!);
      const u2 = u53(w[2]!, w[3]!);
      if (mode === 0) {
        const r = Math.sqrt(-2 * Math.log(1 - u1));
        const z0 = r * Math.cos(2 * Math.PI * u2);
        if (z0 >= a && z0 <= b) x = z0;
        else {
          const z1 = r * Math.sin(2 * Math.PI * u2);
          if (z1 >= a && z1 <= b) x = z1;
        }
      } else if (mode === 1) {
        const z = a + (b - a) * u1; // ρ = exp(-z²/2), max 1 at 0 ∈ [a, b]
        if (u2 * Math.exp(z * z * 0.5) < 1) x = Math.min(z, b);
      } else {
        // z = a + Exp(lam) conditioned on z ≤ b, by inversion; ρ = exp(-(z - lam)²/2)
        const z = a - Math.log1p(-u1 * expMass) / lam;
        const d = z - lam;
        if (u2 < Math.exp(-0.5 * d * d) && z <= b) x = z;
      }
    }
    if (Number.isNaN(x)) x = a > -Infinity ? a : Math.min(0, b); // unreachable in practice
    let v = sign * x;
    if (dt === "float32") {
      v = Math.fround(v);
      if (v > upper) v = prevFloat32(Math.fround(upper));
      if (v < lower) v = nextFloat32(Math.fround(lower));
    }
    out[i] = v;
  }
  return new NDArray(out, s);
}
