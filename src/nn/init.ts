/**
 * Parameter initialisers of `ng.nn.init`: functions
 * `(key, shape, dtype) => Tensor`. Each one is also a factory: called with an options
 * object (or nothing) instead of a key it returns an initialiser with those options, so
 * both `init: ng.nn.init.glorotUniform` and `init: ng.nn.init.glorotUniform({ gain: 2 })`
 * work. Fans follow the channels-last weight layouts of the layers: [in, out] for dense,
 * [...kernel, in, out] for convolutions (fan = channels × receptive field size).
 * Initialisation is not differentiated, so `orthogonal` does its QR in plain float64 JS.
 */
import { Tensor } from "../core/tensor.js";
import type { FloatDType } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { describeValue } from "../primitives/convert.js";
import { array, zeros as zerosOp, ones as onesOp, full } from "../ops/index.js";
import { normal as randomNormal, truncatedNormal as randomTruncated, uniform } from "../random.js";
import { checkOptions, optionKeys } from "../util/options.js";
import { checkFloatDType, isPlainObject } from "./layer.js";

/** An initialiser: a tensor of `shape` and `dtype` (default float32) drawn with `key`. */
export type Initializer = (key: Tensor, shape: readonly number[], dtype?: FloatDType) => Tensor;

/** An initialiser that can also be called with options to make a configured one. */
export interface InitializerFactory<O> extends Initializer {
  (options?: O): Initializer;
}

function checkShape(shape: unknown, name: string): readonly number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(
      `${name}: shape: expected an array of non-negative integers, got ${describeValue(shape)}`,
    );
  }
  return shape;
}

function checkNumber(v: unknown, name: string, positive = false): number {
  if (typeof v !== "number" || !Number.isFinite(v) || (positive && v <= 0)) {
    throw new RangeError(
      `${name}: expected a finite${positive ? " positive" : ""} number, got ${describeValue(v)}`,
    );
  }
  return v;
}

/** Builds an initialiser that doubles as a factory taking options. */
function factory<O extends object>(
  name: string,
  keys: readonly (keyof O & string)[],
  make: (o: Partial<O>) => (key: Tensor, shape: readonly number[], dtype: FloatDType) => Tensor,
): InitializerFactory<Partial<O>> {
  const configured = (o: Partial<O>): Initializer => {
    const draw = make(o);
    return (key, shape, dtype) => {
      if (!(key instanceof Tensor)) {
        throw new TypeError(`init.${name}: key: expected a random key, got ${describeValue(key)}`);
      }
      return draw(
        key,
        checkShape(shape, `init.${name}`),
        checkFloatDType(dtype, `init.${name}: dtype`),
      );
    };
  };
  const plain = configured({});
  return ((a?: unknown, shape?: readonly number[], dtype?: FloatDType) => {
    if (a instanceof Tensor) return plain(a, shape!, dtype);
    if (a !== undefined && !isPlainObject(a)) {
      throw new TypeError(
        `init.${name}: expected a key (to initialise) or an options object, got ${describeValue(a)}`,
      );
    }
    return configured(checkOptions(`init.${name}`, (a ?? {}) as Partial<O>, keys));
  }) as InitializerFactory<Partial<O>>;
}

/**
 * Fan-in and fan-out of a weight shape: [n] → (n, n); [in, out] → (in, out);
 * [...kernel, in, out] → (in·k, out·k) with k the kernel size.
 * @example ng.nn.init.fans([3, 3, 4, 8]) // [36, 72]
 */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2]! * receptive, shape[shape.length - 1]! * receptive];
}

/** Options of the initialisers scaled by a gain. */
interface GainOptions {
  gain?: number;
}
const GAIN_KEYS = optionKeys<GainOptions>()(["gain"]);

/** Options of `truncatedNormal`. */
interface TruncatedNormalOptions {
  mean?: number;
  std?: number;
  lower?: number;
  upper?: number;
}
const TRUNCATED_NORMAL_KEYS = optionKeys<TruncatedNormalOptions>()([
  "mean",
  "std",
  "lower",
  "upper",
]);

/** Uniform samples in [-limit, limit). */
function symmetricUniform(key: Tensor, shape: readonly number[], dtype: FloatDType, limit: number) {
  return uniform(key, shape, { minval: -limit, maxval: limit, dtype });
}

/**
 * Glorot/Xavier uniform: U(-a, a) with a = gain·√(6 / (fanIn + fanOut)).
 * @example ng.nn.init.glorotUniform(ng.random.key(0), [3, 4]); ng.nn.init.glorotUniform({ gain: 2 })
 */
export const glorotUniform: InitializerFactory<GainOptions> = factory(
  "glorotUniform",
  GAIN_KEYS,
  ({ gain = 1 }) =>
    (key, shape, dtype) => {
      const [fi, fo] = fans(shape);
      const g = checkNumber(gain, "init.glorotUniform: gain");
      return symmetricUniform(key, shape, dtype, g * Math.sqrt(6 / Math.max(1, fi + fo)));
    },
);

/**
 * Glorot/Xavier normal: N(0, σ²) with σ = gain·√(2 / (fanIn + fanOut)).
 * @example ng.nn.init.glorotNormal(ng.random.key(0), [3, 4], "float64")
 */
export const glorotNormal: InitializerFactory<GainOptions> = factory(
  "glorotNormal",
  GAIN_KEYS,
  ({ gain = 1 }) =>
    (key, shape, dtype) => {
      const [fi, fo] = fans(shape);
      const g = checkNumber(gain, "init.glorotNormal: gain");
      return randomNormal(key, shape, { dtype, std: g * Math.sqrt(2 / Math.max(1, fi + fo)) });
    },
);

/**
 * Kaiming/He uniform: U(-a, a) with a = gain·√(3 / fanIn); gain defaults to √2 (ReLU).
 * @example ng.nn.init.kaimingUniform(ng.random.key(0), [3, 4])
 */
export const kaimingUniform: InitializerFactory<GainOptions> = factory(
  "kaimingUniform",
  GAIN_KEYS,
  ({ gain = Math.SQRT2 }) =>
    (key, shape, dtype) => {
      const [fi] = fans(shape);
      const g = checkNumber(gain, "init.kaimingUniform: gain");
      return symmetricUniform(key, shape, dtype, g * Math.sqrt(3 / Math.max(1, fi)));
    },
);

/**
 * Kaiming/He normal: N(0, σ²) with σ = gain / √fanIn; gain defaults to √2 (ReLU).
 * @example ng.nn.init.kaimingNormal({ gain: 1 })(ng.random.key(0), [3, 4])
 */
export const kaimingNormal: InitializerFactory<GainOptions> = factory(
  "kaimingNormal",
  GAIN_KEYS,
  ({ gain = Math.SQRT2 }) =>
    (key, shape, dtype) => {
      const [fi] = fans(shape);
      const g = checkNumber(gain, "init.kaimingNormal: gain");
      return randomNormal(key, shape, { dtype, std: g / Math.sqrt(Math.max(1, fi)) });
    },
);

/**
 * Normal samples mean + std·z with z ~ N(0, 1) truncated to [lower, upper] (bounds in
 * units of std, default ±2); std defaults to 1.
 * @example ng.nn.init.truncatedNormal({ std: 0.02 })(ng.random.key(0), [4, 4])
 */
export const truncatedNormal: InitializerFactory<TruncatedNormalOptions> = factory(
  "truncatedNormal",
  TRUNCATED_NORMAL_KEYS,
  ({ mean = 0, std = 1, lower = -2, upper = 2 }) => {
    const m = checkNumber(mean, "init.truncatedNormal: mean");
    const s = checkNumber(std, "init.truncatedNormal: std", true);
    const lo = checkNumber(lower, "init.truncatedNormal: lower");
    const hi = checkNumber(upper, "init.truncatedNormal: upper");
    if (!(lo < hi)) {
      throw new RangeError(`init.truncatedNormal: expected lower < upper, got ${lo} and ${hi}`);
    }
    return (key, shape, dtype) =>
      randomTruncated(key, shape, lo, hi, { dtype }).mul(s).add(m).cast(dtype);
  },
);

/**
 * Normal samples N(mean, std²) (default N(0, 1)).
 * @example ng.nn.init.normal({ std: 0.1 })(ng.random.key(0), [10, 4])
 */
export const normal: InitializerFactory<{ mean?: number; std?: number }> = factory(
  "normal",
  ["mean", "std"],
  ({ mean = 0, std = 1 }) => {
    const m = checkNumber(mean, "init.normal: mean");
    const s = checkNumber(std, "init.normal: std", true);
    return (key, shape, dtype) => randomNormal(key, shape, { dtype, mean: m, std: s });
  },
);

/**
 * Zeros (the key is not used).
 * @example ng.nn.init.zeros(ng.random.key(0), [3])
 */
export const zeros: InitializerFactory<Record<string, never>> = factory(
  "zeros",
  [],
  () => (_key, shape, dtype) => zerosOp(shape, { dtype }),
);

/**
 * Ones (the key is not used).
 * @example ng.nn.init.ones(ng.random.key(0), [3])
 */
export const ones: InitializerFactory<Record<string, never>> = factory(
  "ones",
  [],
  () => (_key, shape, dtype) => onesOp(shape, { dtype }),
);

/**
 * A constant value (the key is not used).
 * @example ng.nn.init.constant({ value: 0.1 })(ng.random.key(0), [3])
 */
export const constant: InitializerFactory<{ value?: number }> = factory(
  "constant",
  ["value"],
  ({ value = 0 }) => {
    const v = checkNumber(value, "init.constant: value");
    return (_key, shape, dtype) => full(shape, v, { dtype });
  },
);

/**
 * Orthogonal initialisation (Saxe et al.): the weight, viewed as a matrix
 * [prod(shape[:-1]), shape[-1]], has orthonormal columns (or rows, when it is wide),
 * times `gain`. It is the Q factor of a QR decomposition of a Gaussian sample, with the
 * signs of R's diagonal folded in so the distribution is uniform (Haar).
 * @example const w = ng.nn.init.orthogonal(ng.random.key(0), [4, 4], "float64"); // wᵀw = I
 */
export const orthogonal: InitializerFactory<GainOptions> = factory(
  "orthogonal",
  GAIN_KEYS,
  ({ gain = 1 }) => {
    const g = checkNumber(gain, "init.orthogonal: gain");
    return (key, shape, dtype) => {
      if (shape.length < 2) {
        throw new RangeError(
          `init.orthogonal: expected a shape of rank >= 2, got ${formatShape(shape)}`,
        );
      }
      const cols = shape[shape.length - 1]!;
      const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      // Work on a tall matrix [n, m] (n >= m) and transpose back if the weight is wide.
      const tall = rows >= cols;
      const n = tall ? rows : cols;
      const m = tall ? cols : rows;
      const a = Array.from(randomNormal(key, [n, m], { dtype: "float64" }).dataSync());
      const q = householderQ(a, n, m);
      const out = new Float64Array(rows * cols);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          out[i * cols + j] = g * (tall ? q[i * m + j]! : q[j * m + i]!);
        }
      }
      return array(out, { dtype }).reshape(shape);
    };
  },
);

/**
 * The first m columns of Q in A = QR (A is n×m row-major, n >= m) by Householder
 * reflections, with column j multiplied by sign(R[j, j]) so that R has a positive diagonal.
 */
function householderQ(a: number[], n: number, m: number): Float64Array {
  const r = a.slice();
  const vs: Float64Array[] = [];
  const signs: number[] = [];
  for (let j = 0; j < m; j++) {
    // Reflect column j below the diagonal onto -sign(r_jj)·‖x‖·e_j.
    let norm2 = 0;
    for (let i = j; i < n; i++) norm2 += r[i * m + j]! ** 2;
    const norm = Math.sqrt(norm2);
    const x0 = r[j * m + j]!;
    const alpha = x0 >= 0 ? -norm : norm;
    const v = new Float64Array(n);
    for (let i = j; i < n; i++) v[i] = r[i * m + j]!;
    v[j] = x0 - alpha;
    let vnorm2 = 0;
    for (let i = j; i < n; i++) vnorm2 += v[i]! ** 2;
    if (vnorm2 > 0) {
      for (let c = j; c < m; c++) {
        let d = 0;
        for (let i = j; i < n; i++) d += v[i]! * r[i * m + c]!;
        const f = (2 * d) / vnorm2;
        for (let i = j; i < n; i++) r[i * m + c] = r[i * m + c]! - f * v[i]!;
      }
    }
    vs.push(v);
    signs.push(r[j * m + j]! < 0 ? -1 : 1);
  }
  // Q = H_0 H_1 ... H_{m-1} applied to the first m columns of the identity.
  const q = new Float64Array(n * m);
  for (let j = 0; j < m; j++) q[j * m + j] = 1;
  for (let k = m - 1; k >= 0; k--) {
    const v = vs[k]!;
    let vnorm2 = 0;
    for (let i = k; i < n; i++) vnorm2 += v[i]! ** 2;
    if (vnorm2 === 0) continue;
    for (let c = 0; c < m; c++) {
      let d = 0;
      for (let i = k; i < n; i++) d += v[i]! * q[i * m + c]!;
      const f = (2 * d) / vnorm2;
      for (let i = k; i < n; i++) q[i * m + c] = q[i * m + c]! - f * v[i]!;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) q[i * m + j] = q[i * m + j]! * signs[j]!;
  return q;
}
