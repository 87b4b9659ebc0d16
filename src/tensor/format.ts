/**
 * Printing of NDArrays: a NumPy-like `array([...], dtype=...)`
 * layout with one column width for the whole array, floats with at most 4 fractional
 * digits (scientific notation when the magnitudes are very large, very small or spread
 * over more than three decades), and NumPy's summarisation of arrays with more than
 * 1000 elements (the first and last 3 entries of each long axis around `...`).
 */
import type { NDArray } from "./ndarray.js";

const PREFIX = "array(";
/** Arrays with more elements than this are summarised. */
const THRESHOLD = 1000;
/** Entries kept at each end of a summarised axis. */
const EDGE = 3;
/** Fractional digits of a float (NumPy's `precision`, here 4). */
const PRECISION = 4;
/** Wrap innermost rows at this many characters. */
const LINE_WIDTH = 75;

/**
 * The printed form of `x`, as used by `NDArray.toString()`. Reads strided views through
 * their strides, and formats only the entries it shows.
 * @example
 * ng.nd.formatNDArray(ng.nd.fromNested([[1, 2, 3], [4, 5, 6]]));
 * // array([[1., 2., 3.],
 * //        [4., 5., 6.]], dtype=float32)
 */
export function formatNDArray(x: NDArray): string {
  const suffix = `dtype=${x.dtype})`;
  if (x.size === 0) return `${PREFIX}[], shape=[${x.shape.join(", ")}], ${suffix}`;
  const n = x.ndim;
  const summarise = x.size > THRESHOLD;

  // Indices shown along each axis (-1 marks the "..." gap).
  const shown: number[][] = x.shape.map((d) => {
    if (summarise && d > 2 * EDGE) {
      const idx: number[] = [];
      for (let i = 0; i < EDGE; i++) idx.push(i);
      idx.push(-1);
      for (let i = d - EDGE; i < d; i++) idx.push(i);
      return idx;
    }
    return Array.from({ length: d }, (_, i) => i);
  });

  // Gather the shown values in row-major order through the strides.
  const values: number[] = [];
  const gather = (dim: number, pos: number): void => {
    if (dim === n) {
      values.push(x.data[pos]!);
      return;
    }
    const stride = x.strides[dim]!;
    for (const i of shown[dim]!) if (i >= 0) gather(dim + 1, pos + i * stride);
  };
  gather(0, x.offset);

  const words = formatValues(values, x.dtype);
  let width = 0;
  for (const w of words) width = Math.max(width, w.length);
  for (let i = 0; i < words.length; i++) words[i] = words[i]!.padStart(width);

  if (n === 0) return `${PREFIX}${words[0]}, ${suffix}`;

  let next = 0;
  const render = (dim: number): string => {
    const idx = shown[dim]!;
    if (dim === n - 1) {
      const row: string[] = [];
      for (const i of idx) row.push(i < 0 ? "..." : words[next++]!);
      return renderRow(row, PREFIX.length + n);
    }
    const sep = "," + "\n".repeat(n - 1 - dim) + " ".repeat(PREFIX.length + dim + 1);
    const parts: string[] = [];
    for (const i of idx) parts.push(i < 0 ? "..." : render(dim + 1));
    return "[" + parts.join(sep) + "]";
  };
  return `${PREFIX}${render(0)}, ${suffix}`;
}

/** One innermost row `[a, b, ...]`, wrapped at LINE_WIDTH with a hanging indent. */
function renderRow(words: string[], indent: number): string {
  let out = "[";
  let col = indent;
  for (let i = 0; i < words.length; i++) {
    const last = i === words.length - 1;
    const word = words[i]! + (last ? "" : ",");
    const need = (i > 0 ? 1 : 0) + word.length + (last ? 1 : 0);
    if (i > 0 && col + need > LINE_WIDTH) {
      out += "\n" + " ".repeat(indent) + word;
      col = indent + word.length;
    } else {
      out += (i > 0 ? " " : "") + word;
      col += (i > 0 ? 1 : 0) + word.length;
    }
  }
  return out + "]";
}

/** Formats the values (before column padding) according to the dtype. */
function formatValues(values: number[], dtype: NDArray["dtype"]): string[] {
  switch (dtype) {
    case "bool":
      return values.map((v) => (v !== 0 ? "true" : "false"));
    case "int32":
      return values.map((v) => String(v));
    case "float32":
    case "float64":
      return formatFloats(values);
  }
}

function nonFinite(v: number): string {
  return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
}

/**
 * NumPy's rule: scientific notation when the largest finite magnitude is ≥ 1e8, or the
 * smallest non-zero one is < 1e-4, or their ratio exceeds 1e3. Fixed notation keeps at most
 * PRECISION fractional digits, trims trailing zeros and pads the fraction with spaces so
 * decimal points align; scientific notation pads the mantissa with zeros instead.
 */
function formatFloats(values: number[]): string[] {
  let maxAbs = 0;
  let minAbs = Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || v === 0) continue;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    if (a < minAbs) minAbs = a;
  }
  const scientific = maxAbs > 0 && (maxAbs >= 1e8 || minAbs < 1e-4 || maxAbs / minAbs > 1e3);
  return scientific ? formatScientific(values) : formatFixed(values);
}

/** Drops trailing zeros of a fraction ("1.2500" → "1.25", "3.0000" → "3."). */
function trimZeros(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === "0") end--;
  return s.slice(0, end);
}

function formatFixed(values: number[]): string[] {
  const ints: string[] = [];
  const fracs: string[] = [];
  let fracWidth = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) {
      ints.push("");
      fracs.push("");
      continue;
    }
    let s = v.toFixed(PRECISION);
    if (Object.is(v, -0) || (v < 0 && !s.startsWith("-"))) s = "-" + s;
    const dot = s.indexOf(".");
    const frac = trimZeros(s.slice(dot + 1));
    ints.push(s.slice(0, dot));
    fracs.push(frac);
    if (frac.length > fracWidth) fracWidth = frac.length;
  }
  return values.map((v, i) =>
    Number.isFinite(v) ? `${ints[i]}.${fracs[i]!.padEnd(fracWidth)}` : nonFinite(v),
  );
}

function formatScientific(values: number[]): string[] {
  const mants: string[] = [];
  const exps: string[] = [];
  let fracWidth = 0;
  let expWidth = 2;
  for (const v of values) {
    if (!Number.isFinite(v)) {
      mants.push("");
      exps.push("");
      continue;
    }
    const s = v.toExponential(PRECISION); // "-1.2340e+5"
    const e = s.indexOf("e");
    const mant = trimZeros(s.slice(0, e));
    const exp = s.slice(e + 2);
    mants.push((Object.is(v, -0) ? "-" : "") + mant);
    exps.push(s[e + 1]! + exp);
    const frac = mant.length - mant.indexOf(".") - 1;
    if (frac > fracWidth) fracWidth = frac;
    if (exp.length > expWidth) expWidth = exp.length;
  }
  return values.map((v, i) => {
    if (!Number.isFinite(v)) return nonFinite(v);
    const m = mants[i]!;
    const frac = m.length - m.indexOf(".") - 1;
    const e = exps[i]!;
    return `${m}${"0".repeat(fracWidth - frac)}e${e[0]}${e.slice(1).padStart(expWidth, "0")}`;
  });
}
