// Exactly rounded float64 references of the transcendental functions, computed in BigInt
// fixed point and rounded once to a double: the oracle of the kernels' accuracy tests.
// Math.* (and the JS sigmoid formula) are themselves off by up to ~2 ULP in float64 (V8's
// tanh), and the JS erf series by ~8, so they cannot serve as the reference.

/** |x| as k·2^q with k < 2^53 an integer. */
function decompose(x: number): [bigint, number] {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, Math.abs(x));
  const bits = dv.getBigUint64(0);
  const e = Number(bits >> 52n);
  const m = bits & ((1n << 52n) - 1n);
  return e === 0 ? [m, -1074] : [m | (1n << 52n), e - 1075];
}

const bitLength = (m: bigint): number => m.toString(2).length;

/** The double nearest to m·2^e (ties to even), subnormals and overflow included. */
function toDouble(m: bigint, e: number): number {
  if (m < 0n) return -toDouble(-m, e);
  if (m === 0n) return 0;
  let shift = bitLength(m) - 53;
  if (e + shift < -1074) shift = -1074 - e;
  if (shift <= 0) return Number(m) * 2 ** e;
  const q = m >> BigInt(shift);
  const rem = m - (q << BigInt(shift));
  const half = 1n << BigInt(shift - 1);
  const r = rem > half || (rem === half && (q & 1n) === 1n) ? q + 1n : q;
  const s = e + shift;
  return s > 1000 ? Number(r) * 2 ** 1000 * 2 ** (s - 1000) : Number(r) * 2 ** s;
}

/** Fixed point with `bits` fractional bits. */
function fixedPoint(bits: number) {
  const PB = BigInt(bits);
  const ONE = 1n << PB;
  /** x in fixed point (exact when its last bit is ≥ 2^-bits). */
  const fix = (x: number): bigint => {
    const [k, q] = decompose(x);
    const sh = q + bits;
    const v = sh >= 0 ? k << BigInt(sh) : k >> BigInt(-sh);
    return x < 0 ? -v : v;
  };
  const mul = (a: bigint, b: bigint): bigint => (a * b) >> PB;
  return { PB, ONE, fix, mul };
}

// exp, expm1, log, log1p, tanh, sigmoid with 192 fractional bits
const FX = fixedPoint(192);
const LN2 = (() => {
  let s = 0n;
  for (let k = 1n; ; k++) {
    const t = FX.ONE / (k << k); // ln 2 = Σ 1/(k·2^k)
    if (t === 0n) return s;
    s += t;
  }
})();

/** e^r for |r| ≲ 0.35 in fixed point: the series of r/256, squared 8 times. */
function expSmall(r: bigint): bigint {
  const y = r >> 8n;
  let term = FX.ONE;
  let sum = FX.ONE;
  for (let n = 1n; term !== 0n; n++) {
    term = FX.mul(term, y) / n;
    sum += term;
  }
  for (let i = 0; i < 8; i++) sum = FX.mul(sum, sum);
  return sum;
}

/** e^x = E·2^(k − 192), E ≈ 1 in fixed point. */
function expParts(x: number): [bigint, number] {
  const k = Math.round(x / Math.LN2);
  return [expSmall(FX.fix(x) - BigInt(k) * LN2), k];
}

/** log m for m in [1, 2] in fixed point: 2·atanh((m − 1)/(m + 1)). */
function logUnit(m: bigint): bigint {
  const s = ((m - FX.ONE) << FX.PB) / (m + FX.ONE);
  const s2 = FX.mul(s, s);
  let sum = 0n;
  for (let t = s, n = 1n; t !== 0n; n += 2n, t = FX.mul(t, s2)) sum += t / n;
  return 2n * sum;
}

export function expRef(x: number): number {
  if (x !== x) return NaN;
  if (x > 710) return Infinity;
  if (x < -746) return 0;
  if (Math.abs(x) < 2 ** -60) return 1;
  const [E, k] = expParts(x);
  return toDouble(E, k - 192);
}

export function expm1Ref(x: number): number {
  if (x !== x) return NaN;
  if (x > 710) return Infinity;
  if (x < -40) return -1;
  if (Math.abs(x) < 2 ** -60) return x; // x + x²/2 rounds to x
  if (Math.abs(x) < 1) {
    const X = FX.fix(x);
    let term = X;
    let sum = X;
    for (let n = 2n; term !== 0n; n++) {
      term = FX.mul(term, X) / n;
      sum += term;
    }
    return toDouble(sum, -192);
  }
  const [E, k] = expParts(x);
  return toDouble((k >= 0 ? E << BigInt(k) : E >> BigInt(-k)) - FX.ONE, -192);
}

export function logRef(x: number): number {
  if (x !== x || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return x;
  const [k, q] = decompose(x);
  const b = bitLength(k) - 1;
  return toDouble(BigInt(q + b) * LN2 + logUnit((k << FX.PB) >> BigInt(b)), -192);
}

export function log1pRef(x: number): number {
  if (x !== x || x < -1) return NaN;
  if (x === -1) return -Infinity;
  if (x === Infinity) return x;
  if (Math.abs(x) < 2 ** -60) return x; // x − x²/2 rounds to x
  const u = FX.ONE + FX.fix(x);
  const b = bitLength(u) - 1 - 192; // u = m·2^b, m in [1, 2)
  const m = b >= 0 ? u >> BigInt(b) : u << BigInt(-b);
  return toDouble(BigInt(b) * LN2 + logUnit(m), -192);
}

export function tanhRef(x: number): number {
  if (x !== x) return NaN;
  if (Math.abs(x) < 2 ** -30) return x; // x − x³/3 rounds to x
  if (Math.abs(x) >= 20) return Math.sign(x);
  const [E, k] = expParts(2 * Math.abs(x));
  const e = E << BigInt(k);
  return Math.sign(x) * toDouble(((e - FX.ONE) << FX.PB) / (e + FX.ONE), -192);
}

export function sigmoidRef(x: number): number {
  if (x !== x) return NaN;
  if (x >= 40) return 1; // 1 − e^-40 rounds to 1
  if (x < -746) return 0;
  const [E, k] = expParts(-Math.abs(x)); // k ≤ 0
  const e = -k < 192 ? E >> BigInt(-k) : 0n;
  const inv = (FX.ONE << FX.PB) / (FX.ONE + e); // 1/(1 + e^-|x|)
  return x >= 0 ? toDouble(inv, -192) : toDouble(E * inv, k - 384);
}

// erf: 400 fractional bits (the alternating series cancels ~2^52 at |x| = 6)
const FE = fixedPoint(400);
function isqrt(v: bigint): bigint {
  let x = v;
  let y = (x + 1n) / 2n;
  while (y < x) {
    x = y;
    y = (x + v / x) / 2n;
  }
  return x;
}
function atanInv(k: bigint): bigint {
  let sum = 0n;
  let power = FE.ONE / k;
  for (let n = 1n, positive = true; power !== 0n; n += 2n, positive = !positive) {
    sum += positive ? power / n : -(power / n);
    power /= k * k;
  }
  return sum;
}
const SQRT_PI = isqrt((16n * atanInv(5n) - 4n * atanInv(239n)) * FE.ONE); // Machin
const TWO_OVER_SQRT_PI = (2n * FE.ONE * FE.ONE) / SQRT_PI;

export function erfRef(x: number): number {
  if (x !== x) return NaN;
  if (x === 0) return x;
  const sign = x < 0 ? -1 : 1;
  if (Math.abs(x) >= 7) return sign; // erfc(7) ≈ 4e-23
  const [k, q] = decompose(x);
  // tiny |x|: erf(x) = 2x/√π · (1 − x²/3 + …), the correction below 2^-120 relative
  if (Math.abs(x) < 2 ** -60) return sign * toDouble(k * TWO_OVER_SQRT_PI, q - 400);
  const X = FE.fix(Math.abs(x));
  const X2 = FE.mul(X, X);
  let t = X;
  let sum = 0n;
  for (let n = 0n; t !== 0n;) {
    const term = t / (2n * n + 1n);
    sum += n % 2n === 0n ? term : -term;
    n++;
    t = FE.mul(t, X2) / n;
  }
  return sign * toDouble((2n * sum * FE.ONE) / SQRT_PI, -400);
}
