/**
 * Differential fuzzing over the primitive registry: random programs (small DAGs of
 * primitive applications over random shapes, broadcasting, scalars and dtypes) are built
 * from a plain data structure that fast-check generates and shrinks, and every way the
 * library has of evaluating and differentiating them is compared — in float64 — against
 * central finite differences and against each other: jvp, vjp, grad, grad∘grad
 * (forward-over-reverse and reverse-over-reverse Hessian-vector products, with nested
 * switching on, off and under each strategy), vmap against a loop, and the staged program
 * (makeIR, then evaluated) against eager evaluation. Points within a small distance of a
 * primitive's non-differentiable set are rejected, found by walking the staged program
 * with concrete values. Shared by `test/fuzz.test.ts` (a short run in `npm test`) and
 * `scripts/fuzz.ts` (`npm run fuzz`, long runs); it does not import vitest.
 */
import fc from "fast-check";
import * as ng from "../../src/index.js";
import { PRIMITIVES, type PrimitiveName } from "../../src/primitives/index.js";
import { bind } from "../../src/core/trace.js";
import { evalIR, type IR } from "../../src/core/ir.js";
import type { Tensor } from "../../src/core/tensor.js";
import type { DefinedPrimitive } from "../../src/primitives/define.js";
import { mulberry32 } from "../tensor/reference.js";

type DType = "float32" | "float64" | "int32";

/**
 * One program argument: its shape, dtype and vmap input axis (0, the last axis, or
 * unbatched). int32 arguments (values in [-3, 3]) are not differentiated; they reach the
 * program's ops as operands (indices, promotion) and are batched by vmap like the others.
 */
export interface InputSpec {
  shape: number[];
  dtype: DType;
  /** 0: batch along axis 0; 1: batch along a new last axis; 2: not batched. */
  axis: number;
}

/** One step: an op of OPS (index mod its length), operands counted back from the newest value, free choices. */
export interface StepSpec {
  op: number;
  args: number[];
  k: number[];
}

/** A whole program: fast-check generates and shrinks exactly this. */
export interface ProgramSpec {
  inputs: InputSpec[];
  steps: StepSpec[];
  /** 1: scalar output; 2: a vector of two weighted sums. */
  outputs: number;
  /** vmap batch size. */
  batch: number;
  /** Seed of the constants (weights, directions, indices). */
  seed: number;
}

// ---------------------------------------------------------------------------------------
// Deterministic constants: the program is rebuilt under every transform, so its constants
// must come out the same each time.

function rng(seed: number): () => number {
  return mulberry32(seed >>> 0 || 1);
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Nested JS arrays of `shape` filled by `gen` (row-major). */
function nested(shape: readonly number[], gen: () => number): unknown {
  if (shape.length === 0) return gen();
  return Array.from({ length: shape[0]! }, () => nested(shape.slice(1), gen));
}

function constant(shape: readonly number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = rng(seed);
  return ng.array(
    nested(shape, () => lo + (hi - lo) * r()),
    { dtype: "float64" },
  );
}

function intConstant(shape: readonly number[], seed: number, lo: number, hi: number): Tensor {
  const r = rng(seed);
  return ng.array(
    nested(shape, () => lo + Math.floor((hi - lo) * r())),
    { dtype: "int32" },
  );
}

// ---------------------------------------------------------------------------------------
// Operand adapters (all differentiable, so they are part of what is tested).

const isFloat = (t: Tensor) => t.dtype === "float32" || t.dtype === "float64";

/** Non-float values (int, bool) become float64; floats keep their dtype. */
function asFloat(x: Tensor): Tensor {
  return isFloat(x) ? x : ng.cast(x, "float64");
}

/** Smoothly maps ℝ into (lo, hi): lo + (hi − lo)·σ(x), keeping values in a primitive's domain. */
function squash(x: Tensor, [lo, hi]: readonly [number, number]): Tensor {
  return ng.add(ng.mul(ng.sigmoid(asFloat(x)), hi - lo), lo);
}

/** Any value to exactly `shape`: reshape when the sizes agree, else gather the flat values cyclically. */
function fitShape(x: Tensor, shape: readonly number[], offset = 0): Tensor {
  const n = x.size;
  const m = sizeOf(shape);
  if (n === m && offset % n === 0) return ng.reshape(x, shape);
  const idx = ng.array(
    Array.from({ length: m }, (_, i) => (i + offset) % n),
    { dtype: "int32" },
  );
  return ng.reshape(ng.take(ng.reshape(x, [n]), idx, 0), shape);
}

/** A shape that broadcasts against `shape`: some dims set to 1, maybe leading dims dropped. */
function broadcastableShape(shape: readonly number[], k: number): number[] {
  const drop = k % (shape.length + 1);
  return shape.slice(drop).map((d, i) => ((k >> (i + 2)) & 1 ? 1 : d));
}

function canBroadcast(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i]!;
    const y = b[b.length - i]!;
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

/** Second operand of a binary op: as is when it broadcasts (k says), else refitted; or a scalar. */
function partner(x: Tensor, y: Tensor, k: number): Tensor {
  if (k % 4 === 0 && canBroadcast(x.shape, y.shape)) return y;
  if (k % 4 === 1) return ng.sum(asFloat(y));
  return fitShape(y, broadcastableShape(x.shape, k >> 2));
}

function domainOf(name: string, input = 0): [number, number] {
  const prim = PRIMITIVES.find((p) => p.name === name) as DefinedPrimitive<unknown> | undefined;
  return prim?.testSpec.cases[0]?.inputs[input]?.domain ?? [-2, 2];
}

// ---------------------------------------------------------------------------------------
// The op table. Each rule applies one primitive (through its user-facing op) to operands
// of any shape, adapting them as needed; `k` holds its free choices (axes, shapes, modes).

export interface OpRule {
  name: string;
  arity: number;
  apply(args: Tensor[], k: number[], seed: number): Tensor | Tensor[];
}

type Unary = (x: Tensor) => Tensor;
type Binary = (x: ng.TensorLike, y: ng.TensorLike) => Tensor;

/** y = f(x); inputs are squashed into the primitive's test domain unless f is defined on all of ℝ and bounded-growth. */
function unary(name: string, f: Unary, squashed: boolean): OpRule {
  return {
    name,
    arity: 1,
    apply: ([x]) => f(squashed ? squash(x!, domainOf(name)) : asFloat(x!)),
  };
}

function binary(name: string, f: Binary, squashed: boolean): OpRule {
  return {
    name,
    arity: 2,
    apply: ([x, y], k) => {
      let a = asFloat(x!);
      if (k[0]! % 5 === 4) {
        // A JS number operand (weakly typed: it takes the tensor's dtype).
        const [lo, hi] = squashed ? domainOf(name, 1) : [-2, 2];
        const c = lo + ((hi - lo) * ((k[1]! % 7) + 0.5)) / 7;
        if (squashed) a = squash(a, domainOf(name, 0));
        return k[2]! % 2 && !squashed ? f(c, a) : f(a, c);
      }
      // Whole-line ops may see an int operand as it is (dtype promotion); others see floats.
      const keepInt = !squashed && k[3]! % 2 === 1;
      let b = keepInt ? partner(a, y!, k[0]!) : asFloat(partner(a, y!, k[0]!));
      if (squashed) {
        a = squash(a, domainOf(name, 0));
        b = squash(b, domainOf(name, 1));
      }
      // Either side may be the one that broadcasts.
      return k[2]! % 2 && !squashed ? f(b, a) : f(a, b);
    },
  };
}

function compare(name: string, f: Binary): OpRule {
  return { name, arity: 2, apply: ([x, y], k) => f(asFloat(x!), asFloat(partner(x!, y!, k[0]!))) };
}

/** A bool from any value: bools as they are, numbers compared with 0. */
function asBool(x: Tensor): Tensor {
  return x.dtype === "bool" ? x : ng.greater(asFloat(x), 0);
}

/** Axes from the bits of k (possibly none). */
function axesOf(ndim: number, k: number): number[] {
  return Array.from({ length: ndim }, (_, i) => i).filter((i) => (k >> i) & 1);
}

function reduction(
  name: string,
  f: (x: Tensor, axes: number[], keepdims: boolean) => Tensor,
): OpRule {
  return {
    name,
    arity: 1,
    apply: ([x], k) => {
      const a = asFloat(x!);
      // prod grows fast: keep its factors in (0.5, 1.5)
      const v = name === "prod" ? squash(a, [0.5, 1.5]) : a;
      return f(v, axesOf(v.ndim, k[0]!), k[1]! % 2 === 1);
    },
  };
}

function argReduction(name: string, f: (x: Tensor, axis: number | null, keep: boolean) => Tensor) {
  return {
    name,
    arity: 1,
    apply: ([x], k) => {
      const a = asFloat(x!);
      const axis = a.ndim === 0 || k[0]! % (a.ndim + 1) === a.ndim ? null : k[0]! % a.ndim;
      return f(a, axis, k[1]! % 2 === 1);
    },
  } satisfies OpRule;
}

function permutation(n: number, k: number): number[] {
  const rest = Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  while (rest.length) {
    out.push(rest.splice(k % rest.length, 1)[0]!);
    k = Math.floor(k / (rest.length + 1));
  }
  return out;
}

/** A random shape of `size` elements with at most 3 dims (size-1 dims included). */
function reshapeTarget(size: number, k: number): number[] {
  const dims: number[] = [];
  let rest = size;
  for (let i = 0; i < 2 && rest > 1; i++) {
    const divisors = Array.from({ length: rest }, (_, d) => d + 1).filter((d) => rest % d === 0);
    const d = divisors[(k >> (3 * i)) % divisors.length]!;
    dims.push(d);
    rest /= d;
  }
  if (rest > 1 || dims.length === 0) dims.push(rest);
  if ((k >> 7) & 1 && dims.length < 3) dims.splice((k >> 8) % (dims.length + 1), 0, 1);
  return dims;
}

/** A slice spec per dim: start, stop and step (±1, ±2) chosen from k. */
function sliceSpecs(shape: readonly number[], k: number[]) {
  return shape.map((n, i) => {
    const c = k[i % k.length]! + i * 7;
    const step = [1, -1, 2, -2][c % 4]!;
    const start = (c >> 2) % n;
    const len = 1 + ((c >> 4) % n);
    return step > 0 ? { start, stop: start + len, step } : { start, step };
  });
}

/** Generic rule for any primitive: operands fitted to a test case of its spec, squashed into its domain. */
function fromSpec(prim: DefinedPrimitive<unknown>): OpRule {
  const cases = prim.testSpec.cases;
  const arity = Math.max(1, ...cases.map((c) => c.inputs.length));
  return {
    name: `spec:${prim.name}`,
    arity,
    apply: (args, k) => {
      const c = cases[k[0]! % cases.length]!;
      // Float operands share one dtype (float32 only when all are float32), as primitives require.
      const dtype = args.every((a) => a.dtype === "float32") ? "float32" : "float64";
      const ins = c.inputs.map((inp, i) => {
        if (inp.fixed) return ng.fromNDArray(inp.fixed(inp.shape));
        const v = fitShape(args[i % args.length]!, inp.shape, k[1]! % 3);
        return ng.cast(squash(v, inp.domain ?? [-2, 2]), inp.dtype ?? dtype);
      });
      return bind(prim, ins, c.params);
    },
  };
}

export const OPS: readonly OpRule[] = [
  // Elementwise unary. Bounded or linear growth on all of ℝ: applied directly.
  ...(
    [
      ["neg", ng.neg],
      ["sin", ng.sin],
      ["cos", ng.cos],
      ["tanh", ng.tanh],
      ["sigmoid", ng.sigmoid],
      ["erf", ng.erf],
      ["abs", ng.abs],
      ["sign", ng.sign],
      ["floor", ng.floor],
      ["ceil", ng.ceil],
      ["round", ng.round],
      ["stopGradient", ng.stopGradient],
    ] as [string, Unary][]
  ).map(([n, f]) => unary(n, f, false)),
  // Restricted domain or fast growth: inputs squashed into the primitive's test domain.
  ...(
    [
      ["exp", ng.exp],
      ["expm1", ng.expm1],
      ["log", ng.log],
      ["log1p", ng.log1p],
      ["sqrt", ng.sqrt],
      ["rsqrt", ng.rsqrt],
      ["tan", ng.tan],
    ] as [string, Unary][]
  ).map(([n, f]) => unary(n, f, true)),
  ...(
    [
      ["add", ng.add],
      ["sub", ng.sub],
      ["mul", ng.mul],
      ["maximum", ng.maximum],
      ["minimum", ng.minimum],
    ] as [string, Binary][]
  ).map(([n, f]) => binary(n, f, false)),
  ...(
    [
      ["div", ng.div],
      ["pow", ng.pow],
      ["mod", ng.mod],
      ["atan2", ng.atan2],
    ] as [string, Binary][]
  ).map(([n, f]) => binary(n, f, true)),
  ...(
    [
      ["equal", ng.equal],
      ["notEqual", ng.notEqual],
      ["less", ng.less],
      ["lessEqual", ng.lessEqual],
      ["greater", ng.greater],
      ["greaterEqual", ng.greaterEqual],
    ] as [string, Binary][]
  ).map(([n, f]) => compare(n, f)),
  {
    name: "logicalAnd",
    arity: 2,
    apply: ([x, y], k) => ng.logicalAnd(asBool(x!), asBool(partner(x!, y!, k[0]!))),
  },
  {
    name: "logicalOr",
    arity: 2,
    apply: ([x, y], k) => ng.logicalOr(asBool(x!), asBool(partner(x!, y!, k[0]!))),
  },
  { name: "logicalNot", arity: 1, apply: ([x]) => ng.logicalNot(asBool(x!)) },
  {
    name: "where",
    arity: 3,
    apply: ([c, x, y], k) => {
      const a = asFloat(x!);
      return ng.where(asBool(partner(a, c!, k[0]!)), a, asFloat(partner(a, y!, k[1]!)));
    },
  },
  {
    name: "cast",
    arity: 1,
    // float → int32 / bool are piecewise constant; float32 is left out (float64 programs stay float64).
    apply: ([x], k) => ng.cast(x!, (["float64", "int32", "bool"] as const)[k[0]! % 3]),
  },
  reduction("sum", (x, a, kd) => ng.sum(x, a, kd)),
  reduction("prod", (x, a, kd) => ng.prod(x, a, kd)),
  reduction("max", (x, a, kd) => ng.max(x, a, kd)),
  reduction("min", (x, a, kd) => ng.min(x, a, kd)),
  argReduction("argmax", (x, a, kd) => ng.argmax(x, a, kd)),
  argReduction("argmin", (x, a, kd) => ng.argmin(x, a, kd)),
  {
    name: "transpose",
    arity: 1,
    apply: ([x], k) => ng.transpose(x!, permutation(x!.ndim, k[0]!)),
  },
  {
    name: "reshape",
    arity: 1,
    apply: ([x], k) => ng.reshape(x!, reshapeTarget(x!.size, k[0]!)),
  },
  {
    name: "broadcastTo",
    arity: 1,
    // a new leading axis, and every size-1 axis stretched to 2 or 3
    apply: ([x], k) =>
      ng.broadcastTo(x!, [
        ...(x!.ndim < 3 ? [1 + (k[0]! % 3)] : []),
        ...x!.shape.map((d, i) => (d === 1 ? 1 + ((k[1]! >> i) % 3) : d)),
      ]),
  },
  {
    name: "slice",
    arity: 1,
    apply: ([x], k) => (x!.ndim === 0 ? ng.neg(x!) : ng.slice(x!, sliceSpecs(x!.shape, k))),
  },
  {
    name: "pad",
    arity: 1,
    apply: ([x], k) =>
      ng.pad(
        x!,
        x!.shape.map(
          (_, i) => [(k[0]! >> (2 * i)) & 1, (k[0]! >> (2 * i + 1)) & 1] as [number, number],
        ),
        // the pad value must be a value of x's dtype
        x!.dtype === "bool" ? 0 : ((k[1]! % 5) - 2) / (x!.dtype === "int32" ? 1 : 2),
      ),
  },
  { name: "flip", arity: 1, apply: ([x], k) => ng.flip(x!, axesOf(x!.ndim, k[0]!)) },
  {
    name: "concatenate",
    arity: 2,
    apply: ([x, y], k) => {
      const a = asFloat(x!);
      if (a.ndim === 0)
        return ng.stack([a, asFloat(y!).ndim === 0 ? asFloat(y!) : ng.sum(asFloat(y!))]);
      const axis = k[0]! % a.ndim;
      const shape = a.shape.map((d, i) => (i === axis ? 1 + (k[1]! % 3) : d));
      return ng.concatenate([a, asFloat(fitShape(y!, shape))], axis);
    },
  },
  {
    name: "take",
    arity: 1,
    apply: ([x], k, seed) => {
      const a = asFloat(x!);
      const flat = a.ndim === 0 || k[0]! % 3 === 0;
      const n = flat ? a.size : a.shape[k[1]! % a.ndim]!;
      // indices in [-n, n): negative ones count from the end
      const idx = intConstant(k[2]! % 2 ? [1 + (k[3]! % 4)] : [2, 2], seed, -n, n);
      return flat ? ng.take(a, idx) : ng.take(a, idx, k[1]! % a.ndim);
    },
  },
  {
    name: "takeDynamic",
    arity: 2,
    // indices computed by the program: ⌊y⌋ mod n (piecewise constant in a float y)
    apply: ([x, y], k) => {
      const a = asFloat(x!.ndim === 0 ? ng.reshape(x!, [1]) : x!);
      const axis = k[0]! % a.ndim;
      const n = a.shape[axis]!;
      const i = fitShape(y!.ndim > 1 ? ng.reshape(y!, [y!.size]) : y!, [Math.min(y!.size, 4)]);
      return ng.take(a, ng.mod(ng.cast(i, "int32"), n), axis);
    },
  },
  {
    name: "matmul",
    arity: 2,
    apply: ([x, y], k) => {
      const a = asFloat(x!.ndim === 0 ? ng.reshape(x!, [1]) : x!);
      const inner = a.shape[a.ndim - 1]!;
      // b is 1-D (matrix-vector), [inner, n], or batched [B, inner, n] with B broadcasting
      // against a's batch axis (or making one)
      const n = 1 + (k[1]! % 3);
      const batch = a.ndim >= 3 ? [(k[2]! % 2) * (a.shape[a.ndim - 3]! - 1) + 1] : [2];
      const bShape = [[inner], [inner, n], [...batch, inner, n]][k[0]! % 3]!;
      return ng.matmul(a, asFloat(fitShape(y!, bShape)));
    },
  },
  // Every registered primitive once more, at the shapes and params of its own test spec
  // (this is how internal primitives and new ones take part).
  ...PRIMITIVES.map((p) => fromSpec(p as DefinedPrimitive<unknown>)),
];

// ---------------------------------------------------------------------------------------
// Building the program.

const argIndex = (n: number, a: number) => n - 1 - (a % n);

/** Runs the steps on the inputs and returns every value; `onStep` sees each step as it runs. */
function runSteps(
  spec: ProgramSpec,
  xs: Tensor[],
  onStep?: (rule: OpRule, operands: number[], outs: Tensor[], k: number[]) => void,
): Tensor[] {
  const values: Tensor[] = [...xs];
  spec.steps.forEach((s, j) => {
    const rule = OPS[s.op % OPS.length]!;
    const ids = Array.from({ length: rule.arity }, (_, i) =>
      argIndex(values.length, s.args[i % s.args.length] ?? 0),
    );
    const out = rule.apply(
      ids.map((i) => values[i]!),
      s.k,
      spec.seed + 7919 * (j + 1),
    );
    const outs = Array.isArray(out) ? out : [out];
    onStep?.(rule, ids, outs, s.k);
    values.push(...outs);
  });
  return values;
}

/** The program as a function of its list of inputs, returning a scalar or a 2-vector (float64). */
export function buildProgram(spec: ProgramSpec): (xs: Tensor[]) => Tensor {
  return (xs) => {
    const values = runSteps(spec, xs);
    // Every value takes part: output o = Σ_j ⟨W_oj, v_j⟩ with fixed random weights.
    const outs = Array.from({ length: spec.outputs }, (_, o) =>
      values
        .map((v, j) =>
          ng.sum(ng.mul(ng.cast(v, "float64"), constant(v.shape, spec.seed + 104729 * o + j))),
        )
        .reduce((a, b) => ng.add(a, b)),
    );
    return spec.outputs === 1 ? outs[0]! : ng.stack(outs);
  };
}

/** Readable listing of the program: steps with the shapes and dtypes they produce. */
export function describeProgram(spec: ProgramSpec): string {
  const axes = ["0", "last", "none"];
  const lines = [
    `inputs: ${spec.inputs.map((x, i) => `x${i}: ${x.dtype}[${x.shape}] vmap-axis ${axes[x.axis]}`).join(", ")}`,
  ];
  const names = spec.inputs.map((_, i) => `x${i}`);
  let done = 0;
  try {
    runSteps(spec, makeInputs(spec), (rule, ids, outs, k) => {
      done++;
      const nm = outs.map((_, i) => `v${names.length + i}`);
      lines.push(
        `${nm.join(", ")} = ${rule.name}(${ids.map((i) => names[i]).join(", ")}) k=[${k}] -> ` +
          outs.map((o) => `${o.dtype}[${o.shape}]`).join(", "),
      );
      names.push(...nm);
    });
  } catch (e) {
    const s = spec.steps[done];
    const rule = s ? `${OPS[s.op % OPS.length]!.name} k=[${s.k}]` : "the inputs";
    lines.push(`(step ${done}, ${rule}, threw: ${(e as Error).message})`);
  }
  lines.push(
    `output: ${spec.outputs === 1 ? "scalar" : "vector[2]"} = Σ_j ⟨W, v_j⟩; batch ${spec.batch}; seed ${spec.seed}`,
  );
  return lines.join("\n");
}

/** The program's inputs: values in [-2, 2] drawn from its seed. */
export function makeInputs(spec: ProgramSpec, offset = 0): Tensor[] {
  return spec.inputs.map((x, i) =>
    x.dtype === "int32"
      ? intConstant(x.shape, spec.seed + 31 * i + offset, -3, 4)
      : ng.cast(constant(x.shape, spec.seed + 31 * i + offset, -2, 2), x.dtype),
  );
}

// ---------------------------------------------------------------------------------------
// Non-differentiable points. Every primitive states where it is not smooth, as the
// distance of its concrete inputs from that set; "smooth" where it is smooth everywhere on
// its domain, "adOnly" where finite differences do not see its derivative (stopGradient:
// AD says zero by definition). The checker stages the program and walks it with concrete
// values, so this applies however a primitive was reached (ops, composites, adapters).

type Kink = "smooth" | "adOnly" | ((ins: Tensor[], params: any) => number);

const data = (t: Tensor) => Array.from(t.dataSync(), Number);
const floatIn = (t: Tensor | undefined) => t !== undefined && isFloat(t);

/** min |x| over a float input. */
const nearZero = (t: Tensor) =>
  floatIn(t) ? Math.min(Infinity, ...data(t).map(Math.abs)) : Infinity;
/** min distance to an integer (+ shift). */
const nearInteger = (t: Tensor, shift = 0) =>
  floatIn(t)
    ? Math.min(Infinity, ...data(t).map((v) => Math.abs(v + shift - Math.round(v + shift))))
    : Infinity;
/**
 * min |x − y| over two float inputs of one shape. Exactly equal entries are passed over:
 * they are copies of one value (or locally constant), which stay equal under a
 * perturbation, where ties sharing the derivative is exact.
 */
const nearEqual = (x: Tensor, y: Tensor) => {
  if (!floatIn(x)) return Infinity;
  const a = data(x);
  const b = data(y);
  return Math.min(Infinity, ...a.map((v, i) => (v === b[i] ? Infinity : Math.abs(v - b[i]!))));
};

/** Smallest positive gap between neighbours of a sorted list (exact ties passed over, as above). */
function sortedGap(g: number[]): number {
  let gap = Infinity;
  for (let i = 1; i < g.length; i++) if (g[i] !== g[i - 1]) gap = Math.min(gap, g[i]! - g[i - 1]!);
  return gap;
}

/** Smallest gap between the two largest (or two smallest) entries of any group reduced over `axes`. */
function reductionGap(x: Tensor, axes: readonly number[]): number {
  const shape = x.shape;
  const v = data(x);
  const groups = new Map<number, number[]>();
  v.forEach((val, flat) => {
    let key = 0;
    let rest = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      const i = rest % shape[d]!;
      rest = Math.floor(rest / shape[d]!);
      if (!axes.includes(d)) key = key * 97 + i + 1;
    }
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(val);
  });
  let gap = Infinity;
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    // only the order of the extremes matters: the distinct top two and bottom two values
    const d = [...new Set(g)].sort((a, b) => a - b);
    if (d.length > 1) gap = Math.min(gap, d[d.length - 1]! - d[d.length - 2]!, d[1]! - d[0]!);
  }
  return gap;
}

/** Smallest gap between any two entries of one channel (the last axis): covers every pooling window. */
function channelGap(x: Tensor): number {
  const c = x.shape[x.ndim - 1] ?? 1;
  const v = data(x);
  let gap = Infinity;
  for (let ch = 0; ch < c; ch++) {
    gap = Math.min(gap, sortedGap(v.filter((_, i) => i % c === ch).sort((a, b) => a - b)));
  }
  return gap;
}

const allAxes = (t: Tensor) => t.shape.map((_, i) => i);

export const KINKS: Record<PrimitiveName, Kink> = {
  abs: ([x]) => nearZero(x!),
  sign: ([x]) => nearZero(x!),
  floor: ([x]) => nearInteger(x!),
  ceil: ([x]) => nearInteger(x!),
  round: ([x]) => nearInteger(x!, 0.5),
  maximum: ([x, y]) => nearEqual(x!, y!),
  minimum: ([x, y]) => nearEqual(x!, y!),
  equal: ([x, y]) => nearEqual(x!, y!),
  notEqual: ([x, y]) => nearEqual(x!, y!),
  less: ([x, y]) => nearEqual(x!, y!),
  lessEqual: ([x, y]) => nearEqual(x!, y!),
  greater: ([x, y]) => nearEqual(x!, y!),
  greaterEqual: ([x, y]) => nearEqual(x!, y!),
  logicalAnd: ([x, y]) => Math.min(nearZero(x!), nearZero(y!)),
  logicalOr: ([x, y]) => Math.min(nearZero(x!), nearZero(y!)),
  logicalNot: ([x]) => nearZero(x!),
  // float → int truncates (jumps at integers), float → bool jumps at 0
  cast: ([x], p: { dtype: string }) =>
    p.dtype === "bool" ? nearZero(x!) : p.dtype === "int32" ? nearInteger(x!) : Infinity,
  // x mod y = x − y·⌊x/y⌋ jumps where x/y is an integer
  mod: ([x, y]) => (floatIn(x) ? nearInteger(ng.div(x!, y!)) : Infinity),
  max: ([x], p: { axes: number[] }) => reductionGap(x!, p.axes),
  min: ([x], p: { axes: number[] }) => reductionGap(x!, p.axes),
  argmax: ([x], p: { axis: number | null }) =>
    reductionGap(x!, p.axis === null ? allAxes(x!) : [p.axis]),
  argmin: ([x], p: { axis: number | null }) =>
    reductionGap(x!, p.axis === null ? allAxes(x!) : [p.axis]),
  maxPool: ([x]) => channelGap(x!),
  maxPoolSelect: ([, x]) => channelGap(x!),
  maxPoolScatter: ([, x]) => channelGap(x!),
  stopGradient: "adOnly",
  add: "smooth",
  atan2: "smooth",
  broadcastTo: "smooth",
  concatenate: "smooth",
  cos: "smooth",
  div: "smooth",
  erf: "smooth",
  exp: "smooth",
  expm1: "smooth",
  flip: "smooth",
  log: "smooth",
  log1p: "smooth",
  matmul: "smooth",
  mul: "smooth",
  neg: "smooth",
  pad: "smooth",
  pow: "smooth",
  prod: "smooth",
  reshape: "smooth",
  rsqrt: "smooth",
  sigmoid: "smooth",
  sin: "smooth",
  slice: "smooth",
  sliceScatter: "smooth",
  sqrt: "smooth",
  sub: "smooth",
  sum: "smooth",
  take: "smooth",
  takeTranspose: "smooth",
  tan: "smooth",
  tanh: "smooth",
  transpose: "smooth",
  where: "smooth",
  conv: "smooth",
  convBackInput: "smooth",
  convBackKernel: "smooth",
};

interface Probe {
  /** Smallest distance of any primitive application from its non-differentiable set. */
  kink: number;
  kinkAt: string;
  /** Some primitive's derivative is invisible to finite differences. */
  adOnly: boolean;
}

/** Walks the staged program with concrete values, measuring how close it runs to a kink. */
function probe(ir: IR, xs: Tensor[]): Probe {
  const env = new Map<unknown, Tensor>();
  ir.inVars.forEach((v, i) => env.set(v, xs[i]!));
  ir.constVars.forEach((v, i) => env.set(v, ir.consts[i]!));
  const out: Probe = { kink: Infinity, kinkAt: "", adOnly: false };
  ir.eqns.forEach((e, i) => {
    const ins = e.inputs.map((v) => env.get(v)!);
    const rule = (KINKS as Record<string, Kink | undefined>)[e.prim.name] ?? "smooth";
    if (rule === "adOnly") out.adOnly = true;
    else if (rule !== "smooth") {
      const d = rule(ins, e.params);
      if (d < out.kink) {
        out.kink = d;
        out.kinkAt = `equation ${i} (${e.prim.name})`;
      }
    }
    const outs = bind(e.prim, ins, e.params);
    e.outputs.forEach((v, j) => env.set(v, outs[j]!));
  });
  return out;
}

// ---------------------------------------------------------------------------------------
// Executors: the ways of running a program. Every derivative check runs through each.

type Fn = (xs: Tensor[]) => Tensor;

export interface Executor {
  name: string;
  wrap(f: Fn): Fn;
}

export const EXECUTORS: readonly Executor[] = [
  { name: "eager", wrap: (f) => f },
  // Stage to IR at the arguments' shapes, then evaluate the IR (under whatever transform is active).
  { name: "staged", wrap: (f) => (xs) => evalIR(ng.makeIR(f)(xs), xs)[0]! },
  // Compiled: ng.jit on the default backend (ONNX Runtime where installed), under any transform.
  { name: "jit", wrap: (f) => ng.jit(f) },
];

/** Nested-switching settings under which second derivatives are recomputed and compared. */
export const NESTED_CONFIGS: readonly Partial<ng.config.Config>[] = [
  { nestedSwitching: true, nestedStrategy: "auto" },
  { nestedSwitching: false },
  { nestedSwitching: true, nestedStrategy: "forwardOverReverse" },
  { nestedSwitching: true, nestedStrategy: "nest" },
  { nestedSwitching: true, nestedStrategy: "innerForward" },
];

function withConfig<T>(c: Partial<ng.config.Config>, fn: () => T): T {
  const prev = ng.config.set(c);
  try {
    return fn();
  } finally {
    ng.config.set(prev);
  }
}

// ---------------------------------------------------------------------------------------
// Comparisons.

/** A program rejected as a sample (near a kink, non-finite values): not a failure. */
export class Rejected extends Error {}

/** A mismatch between two ways of computing one quantity. */
export class Mismatch extends Error {}

const flatOf = (ts: Tensor | Tensor[]) => (Array.isArray(ts) ? ts : [ts]).flatMap((t) => data(t));
const normInf = (a: number[]) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Tolerances of one precision: AD against AD, and the floor of finite-difference checks. */
interface Tol {
  rtol: number;
  atol: number;
}
const TOL64: Tol = { rtol: 1e-7, atol: 1e-9 };
const TOL32: Tol = { rtol: 2e-3, atol: 1e-4 };
/** float32 against float64: rounding of inputs and intermediates (2⁻²⁴), amplified by the program. */
const TOL_TWIN: Tol = { rtol: 1e-2, atol: 1e-3 };

function expectClose(what: string, a: number[], b: number[], tol: number, scale: number): void {
  if (a.length !== b.length) throw new Mismatch(`${what}: lengths ${a.length} vs ${b.length}`);
  let worst = -1;
  let excess = 0;
  a.forEach((v, i) => {
    const e = Math.abs(v - b[i]!);
    const over = Number.isNaN(e) ? Infinity : e - tol;
    if (over > excess) {
      excess = over;
      worst = i;
    }
  });
  if (worst >= 0) {
    throw new Mismatch(
      `${what}: element ${worst}: ${a[worst]} vs ${b[worst]} (|diff| ${Math.abs(a[worst]! - b[worst]!).toExponential(3)}, ` +
        `tolerance ${tol.toExponential(3)}, scale ${scale.toExponential(3)})`,
    );
  }
}

/** AD against AD: both sides are exact up to rounding. */
function adClose(what: string, a: number[], b: number[], t: Tol): void {
  const scale = Math.max(normInf(a), normInf(b));
  expectClose(what, a, b, t.atol + t.rtol * scale, scale);
}

/**
 * Central differences D(h) = (F(x + hv) − F(x − hv)) / 2h at h = ε and 2ε. D(ε) has error
 * ≈ |D(2ε) − D(ε)|/3 (truncation O(h²) quadruples, rounding halves), so that difference
 * is the tolerance's estimate of the oracle's own error.
 */
interface FD {
  value: number[];
  err: number;
}

function finiteDiff(F: (xs: Tensor[]) => number[], xs: Tensor[], vs: Tensor[], eps: number): FD {
  const at = (h: number) => F(xs.map((x, i) => ng.add(x, ng.mul(vs[i]!, h))));
  const d = (h: number) => {
    const p = at(h);
    const m = at(-h);
    return p.map((v, i) => (v - m[i]!) / (2 * h));
  };
  const d1 = d(eps);
  const d2 = d(2 * eps);
  const err = normInf(d1.map((v, i) => v - d2[i]!));
  return { value: d1, err };
}

function fdClose(what: string, ad: number[], fd: FD): void {
  const scale = Math.max(normInf(ad), normInf(fd.value));
  expectClose(what, ad, fd.value, 1e-6 * (1 + scale) + 2 * fd.err, scale);
}

/** Derivatives have the shapes and dtypes of what they differentiate. */
function sameTypes(what: string, got: Tensor[], want: Tensor[]): void {
  got.forEach((t, i) => {
    const w = want[i]!;
    if (t.dtype !== w.dtype || t.shape.join() !== w.shape.join()) {
      throw new Mismatch(
        `${what} of input ${i} is ${t.dtype}[${t.shape}], expected ${w.dtype}[${w.shape}] like the input`,
      );
    }
  });
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);

// ---------------------------------------------------------------------------------------
// The checker.

export interface CheckOptions {
  executors?: readonly Executor[];
  configs?: readonly Partial<ng.config.Config>[];
  /** Kink margin: samples whose primitives run closer than this to a kink are rejected. */
  margin?: number;
  /** Finite-difference step. */
  eps?: number;
  /**
   * Check that Hessian-vector products have their inputs' dtypes (default true). Off in
   * `npm test` while the innerForward expansion widens float32 gradients to float64
   * (test/fuzz-regressions.test.ts).
   */
  nestedDtypes?: boolean;
}

export interface CheckResult {
  /** Whether the finite-difference comparisons ran (float64, no adOnly primitive). */
  fd: boolean;
  checks: number;
}

function randomDirections(xs: Tensor[], seed: number): Tensor[] {
  return xs.map((x, i) => ng.cast(constant(x.shape, seed + 13 * i, -1, 1), x.dtype));
}

/** A batch of inputs for vmap: each batched input stacked along its axis from B perturbed copies. */
function batchInputs(spec: ProgramSpec): {
  per: Tensor[][];
  batched: Tensor[];
  axes: (number | null)[];
} {
  const per = Array.from({ length: spec.batch }, (_, b) => makeInputs(spec, 1 + b));
  const base = per[0]!;
  const axes = spec.inputs.map((x, i) =>
    // at least one input is batched (the first, when the spec batches none)
    x.axis === 2 && (i > 0 || spec.inputs.some((y) => y.axis !== 2))
      ? null
      : x.axis === 1
        ? x.shape.length
        : 0,
  );
  // unbatched inputs are the same in every batch element
  per.forEach((xs) => axes.forEach((a, i) => a === null && (xs[i] = base[i]!)));
  const batched = axes.map((a, i) =>
    a === null
      ? base[i]!
      : ng.stack(
          per.map((xs) => xs[i]!),
          a,
        ),
  );
  return { per, batched, axes };
}

/**
 * Runs every comparison on one program. Throws Rejected when the sample is unusable (near
 * a kink, non-finite) and Mismatch (with the program listing) on a disagreement.
 */
export function checkProgram(spec: ProgramSpec, options: CheckOptions = {}): CheckResult {
  try {
    return checkUnguarded(spec, options);
  } catch (e) {
    if (e instanceof Rejected || e instanceof Mismatch) throw e;
    // an op that threw while the program was built or first run
    const msg = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
    throw new Mismatch(`building the program: ${msg}\n\nprogram:\n${describeProgram(spec)}`);
  }
}

function checkUnguarded(spec: ProgramSpec, options: CheckOptions): CheckResult {
  const executors = options.executors ?? EXECUTORS;
  const configs = options.configs ?? NESTED_CONFIGS;
  const margin = options.margin ?? 1e-3;
  const eps = options.eps ?? 1e-5;
  // The program runs on all inputs; derivatives are taken wrt the float ones, the int32
  // ones held at their values (vmap batches all of them).
  const fAll = buildProgram(spec);
  const all = makeInputs(spec);
  const isArg = spec.inputs.map((x) => x.dtype !== "int32");
  const floatsOf = (a: Tensor[]) => a.filter((_, i) => isArg[i]);
  const intsOf = (a: Tensor[]) => a.filter((_, i) => !isArg[i]);
  const merge = (fl: Tensor[], it: Tensor[]) => {
    let [p, q] = [0, 0];
    return isArg.map((d) => (d ? fl[p++]! : it[q++]!));
  };
  const ints0 = intsOf(all);
  const f: Fn = (fl) => fAll(merge(fl, ints0));
  const xs = floatsOf(all);
  const vs = randomDirections(xs, spec.seed + 1);
  const u = constant([spec.outputs], spec.seed + 2);
  const uFlat = data(u);
  const f32 = spec.inputs.some((x) => x.dtype === "float32");
  const tol = f32 ? TOL32 : TOL64;

  const ir = ng.makeIR(fAll)(all);
  const pr = probe(ir, all);
  const vb = batchInputs(spec);
  const batchProbes = vb.per.map((p) => probe(ir, p));
  const kink = Math.min(pr.kink, ...batchProbes.map((p) => p.kink));
  if (kink < margin) throw new Rejected(`within ${kink} of a kink at ${pr.kinkAt}`);
  const y0 = data(f(xs));
  if (!y0.every(Number.isFinite)) throw new Rejected("non-finite output");
  const useFD = !f32 && !pr.adOnly;

  const fail = (e: unknown, where: string): never => {
    if (e instanceof Rejected) throw e;
    const msg = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
    throw new Mismatch(
      `${where}: ${msg}\n\nprogram:\n${describeProgram(spec)}\n\nIR:\n${ir.toString()}`,
    );
  };
  let checks = 0;
  const run = (where: string, fn: () => void) => {
    try {
      fn();
      checks++;
    } catch (e) {
      fail(e, where);
    }
  };

  // Scalarised program g(x) = ⟨u, f(x)⟩ for grad.
  const scalarise =
    (F: Fn): Fn =>
    (x) =>
      spec.outputs === 1 ? ng.mul(F(x), uFlat[0]!) : ng.sum(ng.mul(F(x), u));
  const g = scalarise(f);
  const gradG = (x: Tensor[]) => flatOf(ng.grad(g)(x) as Tensor[]);
  // An oracle whose own error estimate is large (a kink the margin missed, huge third
  // derivatives) is dropped rather than trusted with a wide tolerance.
  const reliable = (d: FD) => (d.err <= 1e-4 * (1 + normInf(d.value)) ? d : null);
  const fdJvp = useFD ? reliable(finiteDiff((x) => data(f(x)), xs, vs, eps)) : null;
  const fdHvp = useFD ? reliable(finiteDiff(gradG, xs, vs, eps)) : null;
  const vFlat = flatOf(vs);
  if (f32) {
    // float32 has no finite-difference oracle; its float64 twin (the same program at the
    // same values, every float input widened) is one, to float32 accuracy.
    run("float32 against the float64 twin", () => {
      const twin: ProgramSpec = {
        ...spec,
        inputs: spec.inputs.map((x) => (x.dtype === "float32" ? { ...x, dtype: "float64" } : x)),
      };
      const xs64 = xs.map((x) => ng.cast(x, "float64"));
      const f64 = buildProgram(twin);
      const g64 = scalarise((fl) => f64(merge(fl, ints0)));
      adClose("value vs float64 twin", y0, data(f64(merge(xs64, ints0))), TOL_TWIN);
      adClose("grad vs float64 twin", gradG(xs), flatOf(ng.grad(g64)(xs64) as Tensor[]), TOL_TWIN);
    });
  }
  let refJvp: number[] | null = null;
  let refHvp: number[] | null = null;

  for (const ex of executors) {
    const FAll = ex.wrap(fAll);
    const F: Fn = (fl) => FAll(merge(fl, ints0));
    const G = scalarise(F);
    const GAll = scalarise(FAll);
    run(`${ex.name}: value`, () => adClose("value vs eager", data(F(xs)), y0, tol));
    run(`${ex.name}: jvp`, () => {
      const [y, t] = ng.jvp(F, [xs], [vs]) as [Tensor, Tensor];
      adClose("jvp primal vs eager", data(y), y0, tol);
      const tf = data(t);
      if (fdJvp) fdClose("jvp vs finite differences", tf, fdJvp);
      if (refJvp) adClose("jvp vs eager jvp", tf, refJvp, tol);
      else refJvp = tf;
    });
    run(`${ex.name}: vjp`, () => {
      const [y, pullback] = ng.vjp(F, xs);
      adClose("vjp primal vs eager", data(y as Tensor), y0, tol);
      const xbar = flatOf(
        pullback(spec.outputs === 1 ? ng.array(uFlat[0]!, { dtype: "float64" }) : u)[0] as Tensor[],
      );
      // dot-product test ⟨u, Jv⟩ = ⟨Jᵀu, v⟩; its scale is the sum of the terms' sizes
      const lhs = dot(uFlat, refJvp!);
      const rhs = dot(xbar, vFlat);
      const scale = xbar.reduce((s, v, i) => s + Math.abs(v * vFlat[i]!), 0) + Math.abs(lhs);
      expectClose("⟨u, Jv⟩ vs ⟨Jᵀu, v⟩", [rhs], [lhs], tol.atol + tol.rtol * 10 * scale, scale);
      const grT = ng.grad(G)(xs) as Tensor[];
      sameTypes("grad", grT, xs);
      adClose("grad vs vjp", flatOf(grT), xbar, tol);
    });
    // Every nested-switching setting under the first (reference) executor; the others run
    // the default one (the settings change how transforms nest, not how programs run).
    for (const c of ex === executors[0] ? configs : configs.slice(0, 1)) {
      const label = `${ex.name} ${JSON.stringify(c)}`;
      run(`${label}: hvp`, () =>
        withConfig(c, () => {
          const gradF = (x: Tensor[]) => ng.grad(G)(x) as Tensor[];
          // forward-over-reverse: d/dt ∇g(x + tv)
          const fwdT = ng.jvp(gradF, [xs], [vs])[1] as Tensor[];
          if (options.nestedDtypes !== false) sameTypes("hvp", fwdT, xs);
          const fwd = flatOf(fwdT);
          // reverse-over-reverse: ∇_x ⟨∇g(x), v⟩
          const rev = flatOf(
            ng.grad((x: Tensor[]) =>
              gradF(x)
                .map((gi, i) => ng.sum(ng.mul(gi, vs[i]!)))
                .reduce((a, b) => ng.add(a, b)),
            )(xs) as Tensor[],
          );
          adClose("hvp forward-over-reverse vs reverse-over-reverse", fwd, rev, tol);
          if (fdHvp) fdClose("hvp vs finite differences of grad", rev, fdHvp);
          if (refHvp) adClose("hvp vs eager default-config hvp", rev, refHvp, tol);
          else refHvp = rev;
          if (xs.length > 1) {
            // The inner grad over x0 alone closes over the outer tracers of the other
            // inputs: ∇ₓ⟨∇₀g(x), v₀⟩ = H·(v₀, 0, …, 0) by symmetry of the Hessian.
            const captured = flatOf(
              ng.grad((x: Tensor[]) => {
                const rest = x.slice(1);
                const g0 = ng.grad((x0: Tensor) => G([x0, ...rest]))(x[0]!) as Tensor;
                return ng.sum(ng.mul(g0, vs[0]!));
              })(xs) as Tensor[],
            );
            const v0 = vs.map((v, i) => (i === 0 ? v : ng.zerosLike(v)));
            const partial = flatOf(ng.jvp(gradF, [xs], [v0])[1] as Tensor[]);
            adClose("hvp with captured inputs vs forward-over-reverse", captured, partial, tol);
          }
        }),
      );
    }
    run(`${ex.name}: vmap`, () => {
      // a batch axis at the end is given to vmap as -1
      const inAxes = [
        vb.axes.map((a, i) => (a !== null && a > 0 && a === spec.inputs[i]!.shape.length ? -1 : a)),
      ];
      const loopY = vb.per.map((p) => data(fAll(p)));
      const ys = data(ng.vmap(FAll, inAxes)(vb.batched) as Tensor);
      adClose("vmap(f) vs loop", ys, loopY.flat(), tol);
      // Gradients and forward-over-reverse hvps wrt the float inputs, ints held.
      const gradAt = (Gx: Fn) => (a: Tensor[]) =>
        ng.grad((fl: Tensor[]) => Gx(merge(fl, intsOf(a))))(floatsOf(a)) as Tensor[];
      const hvpAt = (Gx: Fn) => (a: Tensor[]) =>
        ng.jvp(
          (fl: Tensor[]) => ng.grad((z: Tensor[]) => Gx(merge(z, intsOf(a))))(fl),
          [floatsOf(a)],
          [vs],
        )[1] as Tensor[];
      const gAll = scalarise(fAll);
      // vmap stacks each leaf along axis 0: leaf i of batch element b is row b of leaf i
      const againstLoop = (what: string, batched: Tensor[], loop: Tensor[][]) =>
        batched.forEach((t, i) =>
          adClose(
            `${what} vs loop, float input ${i}`,
            data(t),
            loop.flatMap((lb) => data(lb[i]!)),
            tol,
          ),
        );
      const loopG = vb.per.map((p) => gradAt(gAll)(p));
      againstLoop("vmap(grad)", ng.vmap(gradAt(GAll), inAxes)(vb.batched) as Tensor[], loopG);
      // Nested derivatives under vmap.
      const loopH = vb.per.map((p) => hvpAt(gAll)(p));
      againstLoop("vmap(hvp)", ng.vmap(hvpAt(GAll), inAxes)(vb.batched) as Tensor[], loopH);
      // Batched tangents and cotangents at one primal point (as in Jacobians): only the
      // linear maps see batched operands, next to unbatched residuals.
      const dirs = vb.per.map((_, b) => randomDirections(xs, spec.seed + 100 * (b + 1)));
      const stacked = xs.map((_, i) => ng.stack(dirs.map((d) => d[i]!)));
      const jvps = ng.vmap((t: Tensor[]) => ng.jvp(F, [xs], [t])[1] as Tensor)(stacked) as Tensor;
      const loopJ = dirs.flatMap((d) => data(ng.jvp(f, [xs], [d])[1] as Tensor));
      adClose("vmap over jvp tangents vs loop", data(jvps), loopJ, tol);
      const outShape = spec.outputs === 1 ? [] : [spec.outputs];
      const cots = vb.per.map((_, b) => constant(outShape, spec.seed + 100 * (b + 1) + 7));
      const pullback = ng.vjp(F, xs)[1];
      const pullback0 = ng.vjp(f, xs)[1];
      againstLoop(
        "vmap over vjp cotangents",
        ng.vmap((c: Tensor) => pullback(c)[0] as Tensor[])(ng.stack(cots)) as Tensor[],
        cots.map((c) => pullback0(c)[0] as Tensor[]),
      );
      // Reverse mode through the batching: ∇ Σ_b g(x_b) stacks per-element gradients of
      // batched inputs along their axis and sums those of unbatched ones.
      const gOfV = ng.grad((fl: Tensor[]) =>
        ng.sum(ng.vmap(GAll, inAxes)(merge(fl, intsOf(vb.batched))) as Tensor),
      )(floatsOf(vb.batched)) as Tensor[];
      const floatAxes = vb.axes.filter((_, i) => isArg[i]);
      gOfV.forEach((gi, i) => {
        const a = floatAxes[i];
        const per = loopG.map((gb) => gb[i]!);
        const want =
          a === null || a === undefined ? per.reduce((s, t) => ng.add(s, t)) : ng.stack(per, a);
        adClose(`grad(vmap) vs loop, float input ${i}`, data(gi), data(want), tol);
      });
    });
  }
  return { fd: fdJvp !== null && fdHvp !== null, checks };
}

// ---------------------------------------------------------------------------------------
// The fast-check generator.

export interface ProgramLimits {
  maxSteps?: number;
  maxInputs?: number;
}

/** Programs as plain data, so fast-check shrinks them toward short chains of simple ops on small shapes. */
export function programArbitrary(limits: ProgramLimits = {}): fc.Arbitrary<ProgramSpec> {
  const dim = fc.integer({ min: 1, max: 4 });
  const input = fc.record({
    shape: fc.array(dim, { maxLength: 3 }),
    dtype: fc.oneof(
      { arbitrary: fc.constant<DType>("float64"), weight: 5 },
      { arbitrary: fc.constant<DType>("float32"), weight: 1 },
      { arbitrary: fc.constant<DType>("int32"), weight: 1 },
    ),
    axis: fc.integer({ min: 0, max: 2 }),
  });
  const step = fc.record({
    op: fc.integer({ min: 0, max: OPS.length - 1 }),
    args: fc.array(fc.nat(7), { minLength: 3, maxLength: 3 }),
    k: fc.array(fc.nat(1023), { minLength: 4, maxLength: 4 }),
  });
  return fc.record({
    inputs: fc
      .array(input, { minLength: 1, maxLength: limits.maxInputs ?? 3 })
      // at least one differentiable input
      .map((xs) =>
        xs.some((x) => x.dtype !== "int32")
          ? xs
          : [{ ...xs[0]!, dtype: "float64" as DType }, ...xs.slice(1)],
      ),
    steps: fc.array(step, { minLength: 1, maxLength: limits.maxSteps ?? 5 }),
    outputs: fc.integer({ min: 1, max: 2 }),
    batch: fc.integer({ min: 2, max: 3 }),
    seed: fc.nat(1_000_000),
  });
}

/**
 * The fuzz property: a program passes, or is rejected as a sample (fast-check's
 * precondition), or fails with a Mismatch that lists it.
 */
export function fuzzProperty(limits: ProgramLimits = {}, options: CheckOptions = {}) {
  return fc.property(programArbitrary(limits), (spec) => {
    try {
      checkProgram(spec, options);
    } catch (e) {
      if (e instanceof Rejected) fc.pre(false);
      throw e;
    }
  });
}

/** Names of the ops, for reports. */
export const OP_NAMES = OPS.map((o) => o.name);
