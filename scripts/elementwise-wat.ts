// Generates src/tensor/kernels/elementwise_kernel.wat, the WebAssembly SIMD kernels of
// the elementwise and reduction fast paths (see elementwise_wasm.ts). The float32 and
// float64 variants of each kernel share one algorithm written here once; the text is
// committed, and test/wasm.test.ts checks that it is what this generator produces.
// Run: npm run build:wasm (regenerates the .wat, then compiles it).
//
// Conventions of the generated module:
// - It owns its memory (exported as "memory", never grown). Addresses below SCRATCH hold
//   a constant pool (every vector constant is loaded from memory: one instruction, where
//   an immediate v128.const costs several on x64) and the erf coefficient tables; the
//   scratch regions A, B, C, D and STATE follow. Their addresses are exported as globals.
// - Pointers are byte addresses, counts are elements. Elementwise kernels process whole
//   iterations (2 or 4 vectors), so they may read and write up to 63 bytes past the end
//   of their operands; the scratch regions leave room for that.
// - Transcendentals run in float64 for both dtypes: the float32 kernels widen each half
//   of an f32x4 to f64x2, evaluate a lower-degree variant of the float64 algorithm
//   (fit error ~2^-32, so the result is within 0.5 + 2^-8 ULP before rounding) and round
//   once. Float32 subnormals are normal in float64, so only the float64 kernels need
//   subnormal handling. The exception is float32 exp, evaluated in f32x4 arithmetic
//   (1.5× faster; within 1 ULP of the correctly rounded value, checked on every float32
//   input of its finite range).
import {
  ERF_DEG32,
  ERF_DEG64,
  ERF_N,
  ERF_ROWS32,
  ERF_ROWS64,
  ERF_W,
  EXP_Q32,
  EXP_Q64,
  LOG_G32,
  LOG_G64,
  TANH_A,
  TANH_T64,
} from "./elementwise-coefficients.js";

/** Elements per chunk: the wrapper copies operands through scratch in pieces this long. */
export const CHUNK = 8192;
const SLACK = 256; // bytes of room after each region for over-reads and over-writes
const SCRATCH = 65536;
const REGION = CHUNK * 8 + SLACK;

type Prec = "32" | "64";

// ---------------------------------------------------------------------------------------
// Constant pool

const pool = new Map<string, number>(); // hex of 16 bytes -> address
const POOL_BASE = 1024;
let poolTop = POOL_BASE;

function bytesOfF64(v: number): number[] {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v, true);
  return Array.from(new Uint8Array(dv.buffer));
}

function bytesOfI64(v: bigint): number[] {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigInt64(0, BigInt.asIntN(64, v), true);
  return Array.from(new Uint8Array(dv.buffer));
}

function bytesOfF32(v: number): number[] {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v, true);
  return Array.from(new Uint8Array(dv.buffer));
}

function constant(bytes: number[]): string {
  const key = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
  let addr = pool.get(key);
  if (addr === undefined) {
    addr = poolTop;
    pool.set(key, addr);
    poolTop += 16;
  }
  return `(v128.load (i32.const ${addr}))`;
}

/** An f64x2 constant with both lanes `v`. */
const K = (v: number): string => constant([...bytesOfF64(v), ...bytesOfF64(v)]);
/** An i64x2 constant with both lanes `v`. */
const KI = (v: bigint): string => constant([...bytesOfI64(v), ...bytesOfI64(v)]);
/** An f32x4 constant with every lane `v`. */
const K32 = (v: number): string => {
  const b = bytesOfF32(v);
  return constant([...b, ...b, ...b, ...b]);
};

// ---------------------------------------------------------------------------------------
// Text builders

const op =
  (name: string) =>
  (...args: string[]): string =>
    `(${name} ${args.join(" ")})`;
const get = (name: string): string => `(local.get $${name})`;
const i32 = (v: number): string => `(i32.const ${v})`;

const F = {
  add: op("f64x2.add"),
  sub: op("f64x2.sub"),
  mul: op("f64x2.mul"),
  div: op("f64x2.div"),
  sqrt: op("f64x2.sqrt"),
  abs: op("f64x2.abs"),
  neg: op("f64x2.neg"),
  pmin: op("f64x2.pmin"),
  pmax: op("f64x2.pmax"),
  lt: op("f64x2.lt"),
  gt: op("f64x2.gt"),
  eq: op("f64x2.eq"),
  ne: op("f64x2.ne"),
};
const I = {
  add: op("i64x2.add"),
  sub: op("i64x2.sub"),
  shl: (a: string, n: number) => `(i64x2.shl ${a} ${i32(n)})`,
  shrU: (a: string, n: number) => `(i64x2.shr_u ${a} ${i32(n)})`,
};
const and = op("v128.and");
const or = op("v128.or");
/** Lanes of `a` where `mask` is set, else of `b`. */
const select = (a: string, b: string, mask: string): string => `(v128.bitselect ${a} ${b} ${mask})`;

const SIGN64 = 0x8000000000000000n;
/** |y| with the sign of x. */
const copysign = (y: string, x: string): string => or(and(y, KI(SIGN64 - 1n)), and(x, KI(-SIGN64)));

/** A function under construction: parameters, locals and body statements. */
class Fn {
  private readonly locals: string[] = [];
  private readonly names = new Set<string>();
  readonly body: string[] = [];

  constructor(
    readonly name: string,
    readonly params: readonly [string, string][],
  ) {
    for (const [n] of params) this.names.add(n);
  }

  local(name: string, type = "v128"): string {
    if (!this.names.has(name)) {
      this.names.add(name);
      this.locals.push(`(local $${name} ${type})`);
    }
    return name;
  }

  /** Sets local `name` (declared on first use) to `expr`; returns its local.get. */
  let(name: string, expr: string, type = "v128"): string {
    this.local(name, type);
    this.body.push(`(local.set $${name} ${expr})`);
    return get(name);
  }

  emit(...stmts: string[]): void {
    this.body.push(...stmts);
  }

  text(): string {
    const params = this.params.map(([n, t]) => `(param $${n} ${t})`).join(" ");
    const head = `(func $${this.name} (export "${this.name}") ${params}`;
    const lines = [head, ...this.locals.map((l) => `  ${l}`), ...this.body.map((s) => `  ${s}`)];
    return `${lines.join("\n")})`;
  }
}

/** Horner evaluation of Σ c_i t^i (t a local.get), constants from the pool. */
function horner(coeffs: readonly number[], t: string): string {
  let p = K(coeffs[coeffs.length - 1]!);
  for (let i = coeffs.length - 2; i >= 0; i--) p = F.add(F.mul(p, t), K(coeffs[i]!));
  return p;
}

/**
 * The polynomial of a kernel of precision `prec`: Horner's rule for float64 (the smallest
 * rounding error), Estrin's scheme for the float32 kernels, whose fits leave room for its
 * slightly larger rounding error (still about 2^-52, against the 2^-25 a float32 result
 * within 1 ULP allows): pairs c_i + c_{i+1}·t combined with t², t⁴, ..., so the chain of
 * dependent operations is about log2 of the degree long instead of the degree. The kernels
 * are bound by that latency, not by the number of operations.
 */
function poly(f: Fn, p: string, coeffs: readonly number[], t: string, prec: Prec): string {
  if (prec === "64") return horner(coeffs, t);
  let terms = [];
  for (let i = 0; i < coeffs.length; i += 2) {
    terms.push(
      i + 1 < coeffs.length ? F.add(K(coeffs[i]!), F.mul(K(coeffs[i + 1]!), t)) : K(coeffs[i]!),
    );
  }
  let power = t;
  for (let level = 0; terms.length > 1; level++) {
    power = f.let(`${p}t${level}`, F.mul(power, power));
    const next = [];
    for (let i = 0; i < terms.length; i += 2) {
      next.push(i + 1 < terms.length ? F.add(terms[i]!, F.mul(terms[i + 1]!, power)) : terms[i]!);
    }
    terms = next;
  }
  return terms[0]!;
}

// ---------------------------------------------------------------------------------------
// Constants of the algorithms

const MAGIC = 6755399441055744; // 1.5·2^52: adding it rounds to an integer in the low bits
const MAGIC_BITS = 0x4338000000000000n;
const LOG2E = 1.4426950408889634;
const LN2HI = 0.6931471803691238; // ln 2 to 32 bits: k·LN2HI is exact for |k| < 2^21
const LN2LO = 1.9082149292705877e-10; // ln 2 − LN2HI
const SQRT_HALF_BITS = 0x3fe6a09e667f3bcdn; // √½
const INF = Infinity;

// ---------------------------------------------------------------------------------------
// Algorithms on one f64x2 value. Each takes the function, a prefix for its locals, the
// input (an expression, evaluated once) and the precision of the fit; returns the result.

/**
 * The reduction shared by exp, expm1 and sigmoid: clamps x to [lo, hi], writes
 * x = k·ln2 + r (|r| ≤ ln2/2, k in the low 32 bits of the returned `t`) and returns
 * e^r − 1 = r + r²·Q(r); with `rc` it also corrects for the rounding of r.
 */
function expReduce(
  f: Fn,
  p: string,
  x: string,
  prec: Prec,
  lo: number,
  hi: number,
  rc: boolean,
): { t: string; kf: string; em1: string } {
  const xc = f.let(`${p}xc`, F.pmin(F.pmax(x, K(lo)), K(hi)));
  const t = f.let(`${p}t`, F.add(F.mul(xc, K(LOG2E)), K(MAGIC)));
  const kf = f.let(`${p}kf`, F.sub(t, K(MAGIC)));
  const q = (r: string) => poly(f, `${p}q`, prec === "64" ? EXP_Q64 : EXP_Q32, r, prec);
  if (!rc) {
    const r = f.let(`${p}r`, F.sub(F.sub(xc, F.mul(kf, K(LN2HI))), F.mul(kf, K(LN2LO))));
    return { t, kf, em1: f.let(`${p}em1`, F.add(r, F.mul(F.mul(r, r), q(r)))) };
  }
  const rh = f.let(`${p}hi`, F.sub(xc, F.mul(kf, K(LN2HI)))); // exact
  const rl = f.let(`${p}lo`, F.mul(kf, K(LN2LO)));
  const r = f.let(`${p}r`, F.sub(rh, rl));
  const c = F.sub(F.sub(rh, r), rl); // r + c = rh − rl
  // e^(r + c) − 1 ≈ (e^r − 1) + c·(1 + r)
  const em1 = F.add(r, F.add(F.mul(F.mul(r, r), q(r)), F.mul(c, F.add(K(1), r))));
  return { t, kf, em1: f.let(`${p}em1`, em1) };
}

/** e^x. float64: clamp to [−746, 710] and scale by 2^k as two factors, so overflow,
 * gradual underflow and 0 come out of the arithmetic; float32: [−104, 89], one factor. */
function expAlg(f: Fn, p: string, x: string, prec: Prec): string {
  const f64 = prec === "64";
  const { t, kf, em1 } = expReduce(f, p, x, prec, f64 ? -746 : -104, f64 ? 710 : 89, false);
  return scale(f, p, t, kf, F.add(K(1), em1), f64);
}

/** The exponent field of 2^0; adding v << 52 to it makes 2^v for −1022 ≤ v ≤ 1023. */
const BIAS = 1023n << 52n;

/** 2^k for the integer k held in the low bits of t = k + MAGIC (one shift, one add). */
const pow2 = (t: string): string => I.add(I.shl(t, 52), KI(BIAS));

/** 2^k as two factors 2^⌊k/2⌋ · 2^⌈k/2⌉, each normal for |k| ≤ 2044. */
function pow2Pair(f: Fn, p: string, kf: string): [string, string] {
  const k1 = f.let(`${p}k1`, `(f64x2.floor ${F.mul(kf, K(0.5))})`);
  const s1 = f.let(`${p}s1`, pow2(F.add(k1, K(MAGIC))));
  const s2 = f.let(`${p}s2`, pow2(F.add(F.sub(kf, k1), K(MAGIC))));
  return [s1, s2];
}

/** y·2^k (k held in t = k + MAGIC, or kf = k): one factor, or two so that results
 * down to the subnormals and up to overflow come out of the multiplications. */
function scale(f: Fn, p: string, t: string, kf: string, y: string, twoFactors: boolean): string {
  if (!twoFactors) return F.mul(y, pow2(t));
  const [s1, s2] = pow2Pair(f, p, kf);
  return F.mul(F.mul(y, s1), s2);
}

// float32 constants of the native exp kernel
const MAGIC32 = 12582912; // 1.5·2^23
const LN2HI32 = 0.693115234375; // ln 2 to 12 bits: k·LN2HI32 is exact for |k| < 2^12
const LN2LO32 = 3.194618329871446e-5; // ln 2 − LN2HI32, to float32
const LOG2E32 = 1.4426950216293335;
/** Q(r) = (e^r − 1 − r)/r² on |r| ≤ ln2/2 in float32 (error ~0.01 ULP of e^r). */
const EXP_Q32F = [
  0.5, 0.1666666716337204, 0.041666463017463684, 0.00833331048488617, 0.00139337289147079,
  0.00019891078409273177,
];

/**
 * e^x on f32x4 in float32 arithmetic (the one float32 transcendental that does not widen:
 * its error stays below 1 ULP). x = k·ln2 + r with r carried as r + c, e^r = 1 + r +
 * (r²·Q(r) + c·(1 + r)), scaled by 2^⌊k/2⌋·2^⌈k/2⌉ so that overflow and the subnormal
 * results come out of the multiplications.
 */
function expF32x4(f: Fn, x: string): string {
  const G = {
    add: op("f32x4.add"),
    sub: op("f32x4.sub"),
    mul: op("f32x4.mul"),
  };
  const xc = f.let("xc", `(f32x4.pmin (f32x4.pmax ${x} ${K32(-104)}) ${K32(89)})`);
  const t = f.let("t", G.add(G.mul(xc, K32(LOG2E32)), K32(MAGIC32)));
  const kf = f.let("kf", G.sub(t, K32(MAGIC32)));
  const rh = f.let("rh", G.sub(xc, G.mul(kf, K32(LN2HI32))));
  const rl = f.let("rl", G.mul(kf, K32(LN2LO32)));
  const r = f.let("r", G.sub(rh, rl));
  const c = G.sub(G.sub(rh, r), rl);
  let q = K32(EXP_Q32F[EXP_Q32F.length - 1]!);
  for (let i = EXP_Q32F.length - 2; i >= 0; i--) q = G.add(G.mul(q, r), K32(EXP_Q32F[i]!));
  const em1 = G.add(r, G.add(G.mul(G.mul(r, r), q), G.mul(c, G.add(K32(1), r))));
  const y = G.add(K32(1), em1);
  const k1 = f.let("k1", `(f32x4.floor ${G.mul(kf, K32(0.5))})`);
  const p2 = (k: string) =>
    `(i32x4.add (i32x4.shl ${G.add(k, K32(MAGIC32))} ${i32(23)}) ${constant(
      [127 << 23, 127 << 23, 127 << 23, 127 << 23].flatMap((v) => bytesOfI32(v)),
    )})`;
  return G.mul(G.mul(y, p2(k1)), p2(G.sub(kf, k1)));
}

/**
 * The shared core of log and log1p: for u > 0 finite, writes u = 2^e·m with m in [√½, √2)
 * and returns log(u) + extra, as e·ln2hi − ((hfsq − (s·(hfsq + R) + e·ln2lo + extra)) − f)
 * with f = m − 1, s = f/(2 + f), hfsq = f²/2, R = s²·G(s²).
 */
function logCore(f: Fn, p: string, u: string, extra: string | null, prec: Prec): string {
  const f64 = prec === "64";
  let bits: string;
  let eAdj: string | null = null;
  if (f64 && extra === null) {
    // log of a subnormal: scale by 2^54 first
    const tiny = f.let(`${p}tiny`, F.lt(u, K(2 ** -1022)));
    bits = f.let(`${p}u`, select(F.mul(u, K(2 ** 54)), u, tiny));
    eAdj = and(tiny, K(54));
  } else {
    bits = f.let(`${p}u`, u);
  }
  // e = ⌊(bits − bits(√½)) / 2^52⌋ through an unsigned shift of a biased value
  const eu = f.let(`${p}eu`, I.shrU(I.add(bits, KI((1024n << 52n) - SQRT_HALF_BITS)), 52));
  const m = I.add(I.sub(bits, I.shl(eu, 52)), KI(1024n << 52n));
  let ef = F.sub(I.add(eu, KI(MAGIC_BITS)), K(MAGIC + 1024));
  if (eAdj !== null) ef = F.sub(ef, eAdj);
  const efv = f.let(`${p}ef`, ef);
  const fm = f.let(`${p}f`, F.sub(m, K(1)));
  const s = f.let(`${p}s`, F.div(fm, F.add(K(2), fm)));
  const z = f.let(`${p}z`, F.mul(s, s));
  const R = F.mul(z, poly(f, `${p}g`, f64 ? LOG_G64 : LOG_G32, z, prec));
  const hfsq = f.let(`${p}hfsq`, F.mul(K(0.5), F.mul(fm, fm)));
  let low = F.mul(efv, K(LN2LO));
  if (extra !== null) low = F.add(low, extra);
  const inner = F.sub(hfsq, F.add(F.mul(s, F.add(hfsq, R)), low));
  return F.sub(F.mul(efv, K(LN2HI)), F.sub(inner, fm));
}

/** Special values of log-like functions: at x = pole → −∞, +∞ → +∞, below/NaN → NaN. */
function logSpecial(x: string, pole: number, y: string): string {
  const ok = and(F.gt(x, K(pole)), F.lt(x, K(INF)));
  const spec = select(K(-INF), select(K(INF), K(NaN), F.eq(x, K(INF))), F.eq(x, K(pole)));
  return select(y, spec, ok);
}

function logAlg(f: Fn, p: string, x: string, prec: Prec): string {
  const xv = f.let(`${p}x`, x);
  return logSpecial(xv, 0, logCore(f, p, xv, null, prec));
}

/** log1p: u = 1 + x rounded, c = x − (u − 1) its exact rounding error, log(u) + c/u. */
function log1pAlg(f: Fn, p: string, x: string, prec: Prec): string {
  const xv = f.let(`${p}x`, x);
  const u = f.let(`${p}u1`, F.add(K(1), xv));
  const c = F.sub(xv, F.sub(u, K(1)));
  const y = logSpecial(xv, -1, logCore(f, p, u, F.div(c, u), prec));
  return select(xv, y, F.eq(xv, K(0))); // ±0
}

/**
 * e^x − 1 = 2^k·(e^r − 1) + (2^k − 1) with x = k·ln2 + r, the rounding error of r
 * carried as rc. k > 1000 (overflow) takes (e^r)·2^k as two factors instead.
 */
function expm1Alg(
  f: Fn,
  p: string,
  x: string,
  prec: Prec,
  opts: { lo: number; hi: number; zeros: boolean },
): string {
  const f64 = prec === "64";
  const xv = f.let(`${p}x`, x);
  const { t, kf, em1 } = expReduce(f, p, xv, prec, opts.lo, opts.hi, true);
  let y: string;
  if (f64 && opts.hi > 700) {
    const [s1, s2] = pow2Pair(f, p, kf);
    const s = f.let(`${p}s`, F.mul(s1, s2));
    const small = F.add(F.mul(em1, s), F.sub(s, K(1)));
    const big = F.mul(F.mul(F.add(em1, K(1)), s1), s2);
    y = select(big, small, F.gt(kf, K(1000)));
  } else {
    const s = f.let(`${p}s`, pow2(t));
    y = F.add(F.mul(em1, s), F.sub(s, K(1)));
  }
  return opts.zeros ? select(xv, y, F.eq(xv, K(0))) : y;
}

/**
 * tanh. float64: x + x³·T(x²) for |x| < TANH_A, else t/(t + 2) with t = expm1(2|x|) (its
 * rounding error carried); sign of x. float32: t/(t + 2) over the whole range, with
 * t = 2^k·(e^r − 1) + (2^k − 1) from the float32 fit of e^r − 1 (relative error about 2^-30,
 * also for tiny x, where k = 0 and t = e^r − 1 keeps its relative accuracy): well inside the
 * 2^-25 that a result within 1 ULP after rounding allows, at half the work.
 */
function tanhAlg(f: Fn, p: string, x: string, prec: Prec): string {
  const xv = f.let(`${p}x`, x);
  const ax = f.let(`${p}ax`, F.abs(xv));
  if (prec === "32") {
    // |x| ≥ 10 rounds to 1 in float32 (NaN stays NaN through pmin and the clamp)
    const { t, em1 } = expReduce(f, `${p}m`, F.mul(F.pmin(ax, K(10)), K(2)), prec, 0, 20, false);
    const s = f.let(`${p}s`, pow2(t));
    const tm = f.let(`${p}tm`, F.add(F.mul(em1, s), F.sub(s, K(1))));
    return copysign(F.div(tm, F.add(tm, K(2))), xv);
  }
  const z = f.let(`${p}z`, F.mul(ax, ax));
  const small = F.add(ax, F.mul(ax, F.mul(z, horner(TANH_T64, z))));
  // |x| ≥ 20 already rounds to 1
  const a2 = F.mul(F.pmin(ax, K(20)), K(2));
  const t = f.let(`${p}tm`, expm1Alg(f, `${p}m`, a2, prec, { lo: 0, hi: 41, zeros: false }));
  const large = F.div(t, F.add(t, K(2)));
  return copysign(select(small, large, F.lt(ax, K(TANH_A))), xv);
}

/**
 * sigmoid: e = e^{−|x|}, then 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0. float64
 * carries e and 1 + e as exact two-term sums (e^r = ph + pl, 1 + e = d + dl) and
 * corrects the quotient q = n/d by (nl − q·dl)/d, so only the division's rounding
 * remains; float32 needs none of that.
 */
function sigmoidAlg(f: Fn, p: string, x: string, prec: Prec): string {
  const xv = f.let(`${p}x`, x);
  const neg = f.let(`${p}neg`, F.lt(xv, K(0)));
  if (prec === "32") {
    const e = f.let(`${p}ex`, expAlg(f, `${p}m`, F.neg(F.abs(xv)), prec));
    return F.div(select(e, K(1), neg), F.add(K(1), e));
  }
  const { kf, em1 } = expReduce(f, p, F.neg(F.abs(xv)), prec, -746, 0, true);
  const ph = f.let(`${p}ph`, F.add(K(1), em1));
  const pl = F.sub(em1, F.sub(ph, K(1)));
  const [s1, s2] = pow2Pair(f, p, kf);
  const eh = f.let(`${p}eh`, F.mul(F.mul(ph, s1), s2));
  const el = f.let(`${p}el`, F.mul(F.mul(pl, s1), s2));
  const d = f.let(`${p}d`, F.add(K(1), eh));
  const dl = f.let(`${p}dl`, F.add(F.add(F.sub(K(1), d), eh), el));
  const q = f.let(`${p}q`, F.div(select(eh, K(1), neg), d));
  const nl = and(el, neg);
  return F.add(q, F.div(F.sub(nl, F.mul(q, dl)), d));
}

/** Byte address of the erf tables of each precision (set when the module is laid out). */
const ERF_TABLE: Record<Prec, number> = { "32": 0, "64": 0 };

/**
 * erf by intervals of |x| of width ERF_W: per lane, the interval's row of the table is
 * loaded coefficient by coefficient (two scalar loads per coefficient per f64x2).
 */
function erfAlg(f: Fn, p: string, x: string, prec: Prec): string {
  const deg = prec === "64" ? ERF_DEG64 : ERF_DEG32;
  const rowBytes = (deg + 2) * 8;
  const xv = f.let(`${p}x`, x);
  const ax = f.let(`${p}ax`, F.pmin(F.abs(xv), K(ERF_N * ERF_W)));
  const idx = f.let(
    `${p}idx`,
    `(i32x4.min_s (i32x4.trunc_sat_f64x2_s_zero ${F.mul(ax, K(1 / ERF_W))}) ${constant(
      [ERF_N - 1, ERF_N - 1, ERF_N - 1, ERF_N - 1].flatMap((v) => [...bytesOfI32(v)]),
    )})`,
  );
  const addr = `(i32x4.add (i32x4.mul ${idx} ${constant(
    [rowBytes, rowBytes, rowBytes, rowBytes].flatMap((v) => [...bytesOfI32(v)]),
  )}) ${constant([ERF_TABLE[prec], ERF_TABLE[prec], 0, 0].flatMap((v) => [...bytesOfI32(v)]))})`;
  const a = f.let(`${p}a`, addr);
  const a0 = f.let(`${p}a0`, `(i32x4.extract_lane 0 ${a})`, "i32");
  const a1 = f.let(`${p}a1`, `(i32x4.extract_lane 1 ${a})`, "i32");
  const first = f.let(`${p}first`, F.lt(ax, K(ERF_W)));
  const centre = F.add(F.mul(`(f64x2.convert_low_i32x4_s ${idx})`, K(ERF_W)), K(ERF_W / 2));
  const t = f.let(`${p}tt`, select(F.mul(ax, ax), F.sub(ax, centre), first));
  const coef = (j: number): string =>
    `(v128.load64_lane offset=${8 * j} 1 ${a1} (v128.load64_splat offset=${8 * j} ${a0}))`;
  let q = coef(deg + 1);
  for (let j = deg; j >= 2; j--) q = F.add(F.mul(q, t), coef(j));
  const tail = f.let(`${p}tail`, F.mul(q, t));
  const c0 = f.let(`${p}c0`, coef(0));
  const rest = F.add(c0, F.add(coef(1), tail));
  const head = F.add(ax, F.mul(ax, F.add(c0, tail)));
  return copysign(select(head, rest, first), xv);
}

function bytesOfI32(v: number): number[] {
  return [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
}

type Alg = (f: Fn, p: string, x: string, prec: Prec) => string;

const TRANSCENDENTAL: Record<string, Alg> = {
  exp: expAlg,
  log: logAlg,
  log1p: log1pAlg,
  expm1: (f, p, x, prec) =>
    expm1Alg(
      f,
      p,
      x,
      prec,
      prec === "64" ? { lo: -60, hi: 710, zeros: true } : { lo: -20, hi: 89, zeros: true },
    ),
  tanh: tanhAlg,
  sigmoid: sigmoidAlg,
  erf: erfAlg,
  // 1/√x as JS computes it (in float64, rounded once): bitwise identical
  rsqrt: (_f, _p, x) => F.div(K(1), F.sqrt(x)),
};

// ---------------------------------------------------------------------------------------
// Kernels

/** A counted loop over [ptr, end) in steps of `step` bytes around `body`. */
let labels = 0;

function loop(
  f: Fn,
  ptr: string,
  end: string,
  step: number,
  body: string[],
  extra: string[] = [],
): void {
  const label = `$L${labels++}`;
  f.emit(
    `(block ${label}_done (loop ${label}`,
    `  (br_if ${label}_done (i32.ge_u ${get(ptr)} ${end}))`,
    ...body.map((s) => `  ${s}`),
    `  (local.set $${ptr} (i32.add ${get(ptr)} ${i32(step)}))`,
    ...extra.map((s) => `  ${s}`),
    `  (br ${label})))`,
  );
}

/** Moves the statements emitted since `mark` out of the body (to place them in a loop). */
function take(f: Fn, mark: number): string[] {
  return f.body.splice(mark);
}

/** A unary kernel's function (src, dst, n) with `end`, the address past the source, set. */
function unaryFn(name: string, prec: Prec): Fn {
  const f = new Fn(`${name}_f${prec}`, [
    ["src", "i32"],
    ["dst", "i32"],
    ["n", "i32"],
  ]);
  f.local("end", "i32");
  f.emit(
    `(local.set $end (i32.add ${get("src")} (i32.shl ${get("n")} ${i32(prec === "64" ? 3 : 2)})))`,
  );
  return f;
}

function unaryKernel(name: string, prec: Prec, alg: Alg): string {
  const f = unaryFn(name, prec);
  const mark = f.body.length;
  if (prec === "64") {
    const y = alg(f, "", `(v128.load ${get("src")})`, prec);
    f.emit(`(v128.store ${get("dst")} ${y})`);
  } else if (name === "exp") {
    f.emit(`(v128.store ${get("dst")} ${expF32x4(f, `(v128.load ${get("src")})`)})`);
  } else {
    const lo = alg(f, "l_", `(f64x2.promote_low_f32x4 (v128.load64_zero ${get("src")}))`, prec);
    const ylo = f.let("ylo", lo);
    const hi = alg(
      f,
      "h_",
      `(f64x2.promote_low_f32x4 (v128.load64_zero offset=8 ${get("src")}))`,
      prec,
    );
    f.emit(
      `(v128.store ${get("dst")} (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 ` +
        `(f32x4.demote_f64x2_zero ${ylo}) (f32x4.demote_f64x2_zero ${hi})))`,
    );
  }
  // one vector of the source per iteration
  loop(f, "src", get("end"), 16, take(f, mark), [
    `(local.set $dst (i32.add ${get("dst")} ${i32(16)}))`,
  ]);
  return f.text();
}

/** Cheap unary ops: native vector instructions, two vectors per iteration. */
function simpleUnaryKernel(name: string, prec: Prec, instr: string): string {
  const f = unaryFn(name, prec);
  loop(
    f,
    "src",
    get("end"),
    32,
    [
      `(v128.store ${get("dst")} (${instr} (v128.load ${get("src")})))`,
      `(v128.store offset=16 ${get("dst")} (${instr} (v128.load offset=16 ${get("src")})))`,
    ],
    [`(local.set $dst (i32.add ${get("dst")} ${i32(32)}))`],
  );
  return f.text();
}

const BINARY: Record<string, string> = {
  add: "add",
  sub: "sub",
  mul: "mul",
  div: "div",
  maximum: "max",
  minimum: "min",
};

/** Binary kernels: vector ⊕ vector, scalar ⊕ vector and vector ⊕ scalar. */
function binaryKernels(name: string, prec: Prec): string[] {
  const vt = prec === "64" ? "f64x2" : "f32x4";
  const instr = `${vt}.${BINARY[name]}`;
  const shift = i32(prec === "64" ? 3 : 2);
  const splat =
    prec === "64" ? `(f64x2.splat ${get("s")})` : `(f32x4.splat (f32.demote_f64 ${get("s")}))`;
  const out: string[] = [];
  for (const mode of ["vv", "sv", "vs"] as const) {
    const params: [string, string][] =
      mode === "vv"
        ? [
            ["a", "i32"],
            ["b", "i32"],
            ["dst", "i32"],
            ["n", "i32"],
          ]
        : mode === "sv"
          ? [
              ["s", "f64"],
              ["b", "i32"],
              ["dst", "i32"],
              ["n", "i32"],
            ]
          : [
              ["a", "i32"],
              ["s", "f64"],
              ["dst", "i32"],
              ["n", "i32"],
            ];
    const f = new Fn(`${name}_f${prec}_${mode}`, params);
    const ptr = mode === "sv" ? "b" : "a";
    f.local("end", "i32");
    f.emit(`(local.set $end (i32.add ${get(ptr)} (i32.shl ${get("n")} ${shift})))`);
    if (mode !== "vv") f.let("sv", splat);
    f.local("d", "i32");
    f.emit(`(local.set $d (i32.sub ${get("dst")} ${get(ptr)}))`); // dst − ptr, so one pointer walks
    const body: string[] = [];
    for (const off of [0, 16]) {
      const o = off ? ` offset=${off}` : "";
      const lhs = mode === "sv" ? get("sv") : `(v128.load${o} ${get("a")})`;
      const rhs =
        mode === "vs"
          ? get("sv")
          : mode === "vv"
            ? `(v128.load${o} (i32.add ${get("a")} (local.get $bd)))`
            : `(v128.load${o} ${get("b")})`;
      body.push(`(v128.store${o} (i32.add ${get(ptr)} ${get("d")}) (${instr} ${lhs} ${rhs}))`);
    }
    if (mode === "vv") {
      f.local("bd", "i32");
      f.body.push(`(local.set $bd (i32.sub ${get("b")} ${get("a")}))`);
    }
    loop(f, ptr, get("end"), 32, body);
    out.push(f.text());
  }
  return out;
}

/** Row sums in the order of reduce.ts (four float64 partial sums a0..a3 over i mod 4,
 * the tail into a0, result 0 + ((a0 + a1) + (a2 + a3))), so they are bitwise identical. */
function rowSumKernels(prec: Prec): string[] {
  const es = prec === "64" ? 8 : 4;
  const shift = i32(prec === "64" ? 3 : 2);
  // loads of the four elements at `ptr` as two f64x2 (a0 a1) and (a2 a3)
  const pair = (ptr: string, k: 0 | 1): string =>
    prec === "64"
      ? `(v128.load${k ? " offset=16" : ""} ${ptr})`
      : `(f64x2.promote_low_f32x4 (v128.load64_zero${k ? " offset=8" : ""} ${ptr}))`;
  const scalar = (ptr: string): string =>
    prec === "64" ? `(f64.load ${ptr})` : `(f64.promote_f32 (f32.load ${ptr}))`;

  /** Accumulates [p, end) into v01, v23 (tail into lane 0 of v01). */
  const accumulate = (f: Fn): void => {
    f.local("p", "i32");
    f.local("end4", "i32");
    f.local("a0", "f64");
    f.emit(
      `(local.set $end4 (i32.add ${get("p")} (i32.shl (i32.and ${get("len")} ${i32(-4)}) ${shift})))`,
    );
    loop(f, "p", get("end4"), 4 * es, [
      `(local.set $v01 (f64x2.add ${get("v01")} ${pair(get("p"), 0)}))`,
      `(local.set $v23 (f64x2.add ${get("v23")} ${pair(get("p"), 1)}))`,
    ]);
    f.emit(`(local.set $a0 (f64x2.extract_lane 0 ${get("v01")}))`);
    loop(
      f,
      "p",
      `(i32.add ${get("end4")} (i32.shl (i32.and ${get("len")} ${i32(3)}) ${shift}))`,
      es,
      [`(local.set $a0 (f64.add ${get("a0")} ${scalar(get("p"))}))`],
    );
    f.emit(`(local.set $v01 (f64x2.replace_lane 0 ${get("v01")} ${get("a0")}))`);
  };

  // rowsum: rows × len at src (packed), one float64 result per row at dst
  const rows = new Fn(`rowsum_f${prec}`, [
    ["src", "i32"],
    ["rows", "i32"],
    ["len", "i32"],
    ["dst", "i32"],
  ]);
  rows.local("v01");
  rows.local("v23");
  rows.local("r", "i32");
  rows.emit(`(local.set $r ${i32(0)})`, `(local.set $p ${get("src")})`);
  rows.local("p", "i32");
  const mark = rows.body.length;
  rows.emit(`(local.set $v01 ${K(0)})`, `(local.set $v23 ${K(0)})`);
  accumulate(rows);
  rows.emit(
    `(f64.store ${get("dst")} (f64.add (f64.const 0) (f64.add ` +
      `(f64.add (f64x2.extract_lane 0 ${get("v01")}) (f64x2.extract_lane 1 ${get("v01")})) ` +
      `(f64.add (f64x2.extract_lane 0 ${get("v23")}) (f64x2.extract_lane 1 ${get("v23")})))))`,
    `(local.set $dst (i32.add ${get("dst")} ${i32(8)}))`,
  );
  const body = take(rows, mark);
  loop(rows, "r", get("rows"), 1, body);

  // sum: streams n elements into the partial sums (a0, a1, a2, a3) at state
  const str = new Fn(`sum_f${prec}`, [
    ["src", "i32"],
    ["len", "i32"],
    ["state", "i32"],
  ]);
  str.local("v01");
  str.local("v23");
  str.local("p", "i32");
  str.emit(
    `(local.set $p ${get("src")})`,
    `(local.set $v01 (v128.load ${get("state")}))`,
    `(local.set $v23 (v128.load offset=16 ${get("state")}))`,
  );
  accumulate(str);
  str.emit(
    `(v128.store ${get("state")} ${get("v01")})`,
    `(v128.store offset=16 ${get("state")} ${get("v23")})`,
  );
  return [rows.text(), str.text()];
}

/**
 * Row max/min with the result of reduce.ts's loop (the first element of the row that
 * attains the extremum, NaN if any): lanes keep their first extremum (pmax/pmin), a zero
 * result is replaced by the row's first zero (whose sign the loop would keep).
 */
function rowExtremumKernel(kind: "max" | "min", prec: Prec): string {
  const f64 = prec === "64";
  const vt = f64 ? "f64x2" : "f32x4";
  const st = f64 ? "f64" : "f32";
  const es = f64 ? 8 : 4;
  const lanes = f64 ? 2 : 4;
  const shift = i32(f64 ? 3 : 2);
  const better = kind === "max" ? "gt" : "lt";
  const f = new Fn(`row${kind}_f${prec}`, [
    ["src", "i32"],
    ["rows", "i32"],
    ["len", "i32"],
    ["dst", "i32"],
  ]);
  f.local("r", "i32");
  f.local("p", "i32");
  f.local("row", "i32");
  f.local("endv", "i32");
  f.local("end", "i32");
  f.local("m");
  f.local("nan");
  f.local("ms", st);
  f.local("v", st);
  f.local("bad", "i32");
  f.emit(`(local.set $r ${i32(0)})`, `(local.set $row ${get("src")})`);
  const mark = f.body.length;
  const init = kind === "max" ? -INF : INF;
  f.emit(
    `(local.set $p ${get("row")})`,
    `(local.set $end (i32.add ${get("row")} (i32.shl ${get("len")} ${shift})))`,
    `(local.set $endv (i32.add ${get("row")} (i32.shl (i32.and ${get("len")} ${i32(-lanes)}) ${shift})))`,
    `(local.set $m ${f64 ? K(init) : K32(init)})`,
    `(local.set $nan ${K(0)})`,
  );
  loop(f, "p", get("endv"), 16, [
    `(local.set $m (${vt}.p${kind} ${get("m")} (v128.load ${get("p")})))`,
    `(local.set $nan (v128.or ${get("nan")} (${vt}.ne (v128.load ${get("p")}) (v128.load ${get("p")}))))`,
  ]);
  f.emit(`(local.set $ms (${vt}.extract_lane 0 ${get("m")}))`);
  for (let l = 1; l < lanes; l++) {
    f.emit(`(local.set $v (${vt}.extract_lane ${l} ${get("m")}))`);
    f.emit(
      `(local.set $ms (select ${get("v")} ${get("ms")} (${st}.${better} ${get("v")} ${get("ms")})))`,
    );
  }
  f.emit(`(local.set $bad (v128.any_true ${get("nan")}))`);
  loop(f, "p", get("end"), es, [
    `(local.set $v (${st}.load ${get("p")}))`,
    `(local.set $ms (select ${get("v")} ${get("ms")} (${st}.${better} ${get("v")} ${get("ms")})))`,
    `(local.set $bad (i32.or ${get("bad")} (${st}.ne ${get("v")} ${get("v")})))`,
  ]);
  f.emit(`(if ${get("bad")} (then (local.set $ms (${st}.const nan))))`);
  // a zero extremum: the loop keeps the first zero it meets, with its sign
  f.emit(`(if (${st}.eq ${get("ms")} (${st}.const 0)) (then`);
  f.emit(`  (local.set $p ${get("row")})`);
  f.emit(
    `  (block $z_done (loop $z`,
    `    (br_if $z_done (${st}.eq (${st}.load ${get("p")}) (${st}.const 0)))`,
    `    (local.set $p (i32.add ${get("p")} ${i32(es)}))`,
    `    (br $z)))`,
    `  (local.set $ms (${st}.load ${get("p")}))))`,
  );
  f.emit(
    `(f64.store ${get("dst")} ${f64 ? get("ms") : `(f64.promote_f32 ${get("ms")})`})`,
    `(local.set $dst (i32.add ${get("dst")} ${i32(8)}))`,
    `(local.set $row ${get("end")})`,
  );
  loop(f, "r", get("rows"), 1, take(f, mark));
  return f.text();
}

/**
 * Column reductions: acc[j] ⊕= src[i·stride + j] for i < rows, j < n, row by row in
 * order (so each column sums exactly like reduce.ts's loops). Sums accumulate in float64
 * (acc holds float64), max/min in the dtype. Blocks of columns stay in registers while
 * the rows are walked.
 */
function colKernel(kind: "sum" | "max" | "min", prec: Prec): string {
  const f64 = prec === "64";
  const es = f64 ? 8 : 4;
  const f = new Fn(`col${kind}_f${prec}`, [
    ["src", "i32"],
    ["rows", "i32"],
    ["n", "i32"],
    ["stride", "i32"],
    ["acc", "i32"],
  ]);
  f.local("j", "i32"); // column, in elements
  f.local("i", "i32");
  f.local("p", "i32");
  f.local("q", "i32"); // accumulator address
  f.local("rs", "i32"); // row stride in bytes
  f.local("nb", "i32"); // columns rounded for the block loop
  f.emit(`(local.set $rs (i32.mul ${get("stride")} ${i32(es)}))`);
  // accumulator vectors per block, and what one block covers
  const sumF32 = kind === "sum" && !f64;
  const nAcc = 4;
  const colsPerAcc = sumF32 ? 2 : f64 ? 2 : 4;
  const blockCols = nAcc * colsPerAcc;
  const accBytesPerCol = kind === "sum" ? 8 : es;
  const vt = f64 ? "f64x2" : "f32x4";
  for (let k = 0; k < nAcc; k++) f.local(`a${k}`);
  const load = (k: number): string => {
    const off = k * colsPerAcc * es;
    if (sumF32) return `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${off} ${get("p")}))`;
    return `(v128.load offset=${off} ${get("p")})`;
  };
  const update = (k: number): string => {
    if (kind === "sum") return `(local.set $a${k} (f64x2.add ${get(`a${k}`)} ${load(k)}))`;
    // replace when better, or on NaN (a NaN accumulator is never replaced)
    return (
      `(local.set $v ${load(k)})` +
      ` (local.set $a${k} (v128.bitselect ${get("v")} (${vt}.p${kind} ${get(`a${k}`)} ${get("v")})` +
      ` (${vt}.ne ${get("v")} ${get("v")})))`
    );
  };
  if (kind !== "sum") f.local("v");
  const block = (count: number, step: number): void => {
    const mark = f.body.length;
    f.emit(`(local.set $q (i32.add ${get("acc")} (i32.mul ${get("j")} ${i32(accBytesPerCol)})))`);
    for (let k = 0; k < count; k++)
      f.emit(`(local.set $a${k} (v128.load offset=${16 * k} ${get("q")}))`);
    f.emit(
      `(local.set $p (i32.add ${get("src")} (i32.mul ${get("j")} ${i32(es)})))`,
      `(local.set $i ${i32(0)})`,
    );
    const inner = f.body.length;
    for (let k = 0; k < count; k++) f.emit(update(k));
    f.emit(`(local.set $p (i32.add ${get("p")} ${get("rs")}))`);
    loop(f, "i", get("rows"), 1, take(f, inner));
    for (let k = 0; k < count; k++)
      f.emit(`(v128.store offset=${16 * k} ${get("q")} ${get(`a${k}`)})`);
    loop(f, "j", get("nb"), step, take(f, mark));
  };
  f.emit(`(local.set $j ${i32(0)})`);
  f.emit(`(local.set $nb (i32.and ${get("n")} ${i32(-blockCols)}))`);
  block(nAcc, blockCols);
  f.emit(`(local.set $nb ${get("n")})`);
  block(1, colsPerAcc);
  return f.text();
}

// ---------------------------------------------------------------------------------------
// Module

function dataSegment(addr: number, bytes: number[]): string {
  const s = bytes.map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
  return `(data (i32.const ${addr}) "${s}")`;
}

/** The text of elementwise_kernel.wat. */
export function generateElementwiseWat(): string {
  pool.clear();
  poolTop = POOL_BASE;
  labels = 0;
  // erf tables first (their addresses are baked into the code)
  const erfBase = 8192;
  ERF_TABLE["64"] = erfBase;
  ERF_TABLE["32"] = erfBase + ERF_ROWS64.length * (ERF_DEG64 + 2) * 8;
  const erfEnd = ERF_TABLE["32"] + ERF_ROWS32.length * (ERF_DEG32 + 2) * 8;
  if (erfEnd > SCRATCH) throw new Error("erf tables overlap the scratch regions");

  const funcs: string[] = [];
  for (const prec of ["64", "32"] as const) {
    for (const [name, alg] of Object.entries(TRANSCENDENTAL))
      funcs.push(unaryKernel(name, prec, alg));
    funcs.push(simpleUnaryKernel("sqrt", prec, prec === "64" ? "f64x2.sqrt" : "f32x4.sqrt"));
    funcs.push(simpleUnaryKernel("abs", prec, prec === "64" ? "f64x2.abs" : "f32x4.abs"));
    funcs.push(simpleUnaryKernel("neg", prec, prec === "64" ? "f64x2.neg" : "f32x4.neg"));
    for (const name of Object.keys(BINARY)) funcs.push(...binaryKernels(name, prec));
    funcs.push(...rowSumKernels(prec));
    funcs.push(rowExtremumKernel("max", prec), rowExtremumKernel("min", prec));
    for (const kind of ["sum", "max", "min"] as const) funcs.push(colKernel(kind, prec));
  }
  if (poolTop > erfBase) throw new Error("constant pool overflows into the erf tables");

  const A = SCRATCH;
  const B = A + REGION;
  const C = B + REGION;
  const D = C + 2 * REGION;
  const STATE = D + REGION;
  const end = STATE + 64;
  const pages = Math.ceil(end / 65536);

  const data: string[] = [];
  for (const [key, addr] of pool) {
    const bytes = key.match(/../g)!.map((h) => parseInt(h, 16));
    data.push(dataSegment(addr, bytes));
  }
  const erfBytes = (rows: readonly (readonly number[])[]) =>
    rows.flatMap((r) => r.flatMap(bytesOfF64));
  data.push(dataSegment(ERF_TABLE["64"], erfBytes(ERF_ROWS64)));
  data.push(dataSegment(ERF_TABLE["32"], erfBytes(ERF_ROWS32)));

  const globals = [
    ["chunk", CHUNK],
    ["scratch_a", A],
    ["scratch_b", B],
    ["scratch_c", C],
    ["scratch_d", D],
    ["state", STATE],
  ].map(([n, v]) => `(global (export "${n}") i32 (i32.const ${v}))`);

  return [
    ";; Generated by scripts/elementwise-wat.ts — do not edit by hand.",
    ";; WebAssembly SIMD kernels of the elementwise and reduction fast paths.",
    "(module",
    `(memory (export "memory") ${pages} ${pages})`,
    ...globals,
    ...funcs,
    ...data,
    ")",
    "",
  ].join("\n");
}
