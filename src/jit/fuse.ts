/**
 * Elementwise fusion for the jit interpreter. Elementwise equations (unary math, binary
 * arithmetic, comparisons, logical ops, `where`, `cast`, `stopGradient`) of one shape are
 * grouped, and each group runs as ONE generated JavaScript loop over the group's shape:
 * every input is read once per element (a contiguous input at its flat index, a scalar
 * hoisted out of the loop, a broadcast or strided input through its own strides), every
 * member's value lives in a local, and only the values read after the group (or returned
 * by the program) are stored. A `broadcastTo` read only by fused equations is absorbed.
 *
 * Exactness: the scalar code of each primitive is the formula its kernel uses (the same
 * Math.* functions, the same integer wrap-around, the same helpers), and every
 * intermediate is rounded to its dtype exactly as a store into its typed array would
 * round it (Math.fround for float32, ToInt32 for int32). Where the unfused kernel would
 * run a WebAssembly vector kernel whose results differ from Math.* in the last bit (exp,
 * log, tanh, sigmoid, erf, ... on contiguous float operands above the kernel's size
 * threshold), the loop runs in chunks split into stages at those members and calls the
 * same vector kernel on each chunk. So a fused program gives the unfused values bitwise.
 * Groups of one member that a vector kernel computes whole (x·y, tanh x) call it from the
 * input arrays straight into the output.
 *
 * The generated loops are built with `new Function` and cached by their source text (so
 * by group structure: members, dtypes, input kinds, vector decisions). Where
 * `new Function` is unavailable (a strict Content-Security-Policy in a browser), fusion is
 * off and the interpreter runs every equation by its primitive's implementation.
 */
import type { Eqn, IR, Var } from "../core/ir.js";
import { ConcreteTensor } from "../core/tensor.js";
import type { Primitive } from "../core/trace.js";
import type { DataArray, DType } from "../tensor/dtype.js";
import {
  SCALAR_FORMULAS,
  binaryResultDType,
  unaryResultDType,
  type BinaryOp,
  type UnaryOp,
} from "../tensor/kernels/elementwise.js";
import {
  WASM_MIN_SIZE,
  wasmBinary,
  wasmBinaryScalar,
  wasmElementwiseAvailable,
  wasmUnary,
  type FloatArray,
  type WasmBinaryOp,
  type WasmFloat,
  type WasmUnaryOp,
} from "../tensor/kernels/elementwise_wasm.js";
import type { NDArray } from "../tensor/ndarray.js";
import { broadcastStrides, shapesEqual, sizeOf, type Shape } from "../tensor/shape.js";
import { absP } from "../primitives/abs.js";
import { addP } from "../primitives/add.js";
import { atan2P } from "../primitives/atan2.js";
import { broadcastToP } from "../primitives/broadcast_to.js";
import { castP } from "../primitives/cast.js";
import { ceilP } from "../primitives/ceil.js";
import {
  equalP,
  greaterEqualP,
  greaterP,
  lessEqualP,
  lessP,
  notEqualP,
} from "../primitives/compare.js";
import { cosP } from "../primitives/cos.js";
import { divP } from "../primitives/div.js";
import { erfP } from "../primitives/erf.js";
import { expP } from "../primitives/exp.js";
import { expm1P } from "../primitives/expm1.js";
import { floorP } from "../primitives/floor.js";
import { logP } from "../primitives/log.js";
import { log1pP } from "../primitives/log1p.js";
import { logicalAndP, logicalNotP, logicalOrP } from "../primitives/logical.js";
import { maximumP } from "../primitives/maximum.js";
import { minimumP } from "../primitives/minimum.js";
import { modP } from "../primitives/mod.js";
import { mulP } from "../primitives/mul.js";
import { negP } from "../primitives/neg.js";
import { powP } from "../primitives/pow.js";
import { roundP } from "../primitives/round.js";
import { rsqrtP } from "../primitives/rsqrt.js";
import { sigmoidP } from "../primitives/sigmoid.js";
import { signP } from "../primitives/sign.js";
import { sinP } from "../primitives/sin.js";
import { sqrtP } from "../primitives/sqrt.js";
import { stopGradientP } from "../primitives/stop_gradient.js";
import { subP } from "../primitives/sub.js";
import { tanP } from "../primitives/tan.js";
import { tanhP } from "../primitives/tanh.js";
import { whereP } from "../primitives/where.js";

// ---------------------------------------------------------------------------------------
// Switches
// ---------------------------------------------------------------------------------------

let fusionEnabled = true;
let codegenOverride: boolean | null = null;
let codegenProbe: boolean | null = null;

/**
 * Turns elementwise fusion of the interpreter on or off for programs compiled from now on
 * (on by default). Off, every equation runs by its primitive's implementation.
 */
export function setFusionEnabled(on: boolean): void {
  fusionEnabled = on;
}

/** Whether programs compiled now are fused (the switch is on and code generation works). */
export function fusionActive(): boolean {
  return fusionEnabled && codegenAvailable();
}

/**
 * Overrides the detection of `new Function` (for tests of the fallback): false behaves as
 * under a Content-Security-Policy that forbids it; null detects again (on the next check).
 */
export function setCodegenAvailable(on: boolean | null): void {
  codegenOverride = on;
  if (on === null) codegenProbe = null;
}

/** Whether generated code can be compiled here (`new Function` is allowed). */
export function codegenAvailable(): boolean {
  if (codegenOverride !== null) return codegenOverride;
  if (codegenProbe === null) {
    try {
      codegenProbe = (new Function("return 1") as () => number)() === 1;
    } catch {
      codegenProbe = false;
    }
  }
  return codegenProbe;
}

// ---------------------------------------------------------------------------------------
// Scalar code of each elementwise primitive
// ---------------------------------------------------------------------------------------

/** Scalar helpers the generated code calls (the kernels' own formulas). */
const HELPERS = {
  ...SCALAR_FORMULAS,
  walk: stridePlan,
  /** Whether the vector kernels are on (as the unfused kernels check on every call). */
  vectorOn: wasmElementwiseAvailable,
  /** The vector kernel of `op` over y[0 .. n), in place. */
  vector(op: WasmUnaryOp, dtype: WasmFloat, y: FloatArray, n: number): void {
    wasmUnary(op, dtype, y, 0, y, 0, n);
  },
  /** The vector kernel of `op` from x[xOff ..] into out[outOff .. outOff + n). */
  unaryInto(
    op: WasmUnaryOp,
    dtype: WasmFloat,
    x: DataArray,
    xOff: number,
    out: FloatArray,
    outOff: number,
    n: number,
  ): void {
    wasmUnary(op, dtype, x, xOff, out, outOff, n);
  },
  /** out[outOff + i] = A[aOff + i] op B[bOff + i] for i < n, by the vector kernel. */
  binaryInto(
    op: WasmBinaryOp,
    dtype: WasmFloat,
    A: DataArray,
    aOff: number,
    B: DataArray,
    bOff: number,
    out: FloatArray,
    outOff: number,
    n: number,
  ): void {
    wasmBinary(op, dtype, A, aOff, B, bOff, rangeOf(out, outOff, n), n);
  },
  /** out[outOff + i] = s op X[xOff + i] (or X[xOff + i] op s) for i < n, by the vector kernel. */
  binaryScalarInto(
    op: WasmBinaryOp,
    dtype: WasmFloat,
    s: number,
    scalarLeft: boolean,
    X: DataArray,
    xOff: number,
    out: FloatArray,
    outOff: number,
    n: number,
  ): void {
    wasmBinaryScalar(op, dtype, s, scalarLeft, X, xOff, rangeOf(out, outOff, n), n);
  },
};

/** out[off .. off + n) as an array of its own (out itself when that is the whole of it). */
function rangeOf(out: FloatArray, off: number, n: number): FloatArray {
  return off === 0 ? out : out.subarray(off, off + n);
}

/**
 * The names of HELPERS (`H.name`) a generated source calls, so that code run elsewhere
 * (worker threads, which have their own copies of some helpers) can tell whether it has
 * them all.
 */
export function helpersCalled(source: string): ReadonlySet<string> {
  const names = new Set<string>();
  for (const m of source.matchAll(/\bH\.([A-Za-z_$][\w$]*)/g)) names.add(m[1]!);
  return names;
}

/**
 * Scalar code of one elementwise equation: its expression over argument expressions, or
 * null when this primitive cannot be fused at these dtypes. `index` is the name of the flat
 * output index (for error messages that name an element).
 */
type ScalarRule = (
  args: readonly string[],
  ins: readonly DType[],
  out: DType,
  params: unknown,
  index: string,
) => string | null;

/** A value of dtype `from` converted as the cast kernel converts it to `to`. */
function castCode(from: DType, to: DType, v: string, index: string): string {
  if (from === to) return v;
  switch (to) {
    case "int32":
      return from === "bool" ? v : `H.toInt32(${v}, ${index})`;
    case "bool":
      return `(${v} !== 0 ? 1 : 0)`;
    default:
      return v; // to float: the value (rounded by the caller for float32)
  }
}

function unaryCode(op: UnaryOp, x: string, intOut: boolean): string {
  if (intOut) {
    switch (op) {
      case "neg":
        return `(-${x} | 0)`;
      case "abs":
        return `(Math.abs(${x}) | 0)`;
      case "sign":
        return `Math.sign(${x})`;
      default:
        return x; // floor, ceil, round of integers
    }
  }
  switch (op) {
    case "neg":
      return `(-${x})`;
    case "rsqrt":
      return `(1 / Math.sqrt(${x}))`;
    case "sigmoid":
      return `H.sigmoid(${x})`;
    case "round":
      return `H.roundHalfEven(${x})`;
    case "erf":
      return `H.erf(${x})`;
    default:
      return `Math.${op}(${x})`;
  }
}

function unaryRule(op: UnaryOp): ScalarRule {
  return ([x], [d], out) => {
    const kd = unaryResultDType(op, d!);
    if (kd !== out) return null;
    return unaryCode(op, x!, kd === "int32");
  };
}

function binaryCode(op: BinaryOp, a: string, b: string, int: boolean): string {
  if (int) {
    switch (op) {
      case "add":
        return `((${a} + ${b}) | 0)`;
      case "sub":
        return `((${a} - ${b}) | 0)`;
      case "mul":
        return `Math.imul(${a}, ${b})`;
      case "pow":
        return `H.powInt(${a}, ${b})`;
      case "mod":
        return `H.modInt(${a}, ${b})`;
      case "maximum":
        return `Math.max(${a}, ${b})`;
      case "minimum":
        return `Math.min(${a}, ${b})`;
      default:
        throw new Error(`jit fusion: ${op} has no integer code`);
    }
  }
  switch (op) {
    case "add":
      return `(${a} + ${b})`;
    case "sub":
      return `(${a} - ${b})`;
    case "mul":
      return `(${a} * ${b})`;
    case "div":
      return `(${a} / ${b})`;
    case "pow":
      return `H.powFloat(${a}, ${b})`;
    case "maximum":
      return `Math.max(${a}, ${b})`;
    case "minimum":
      return `Math.min(${a}, ${b})`;
    case "atan2":
      return `Math.atan2(${a}, ${b})`;
    case "mod":
      return `H.modFloat(${a}, ${b})`;
  }
}

/** A binary primitive: the kernel's rows in the kernel's result dtype, then the impl's cast. */
function binaryRule(op: BinaryOp): ScalarRule {
  return ([a, b], [da, db], out, _p, index) => {
    if (da !== db) return null;
    const kd = binaryResultDType(op, da!, db!);
    const v = binaryCode(op, a!, b!, kd === "int32");
    // the kernel's result, rounded to its dtype, then the impl's cast to the output dtype
    return kd === out ? v : castCode(kd, out, roundCode(kd, v), index);
  };
}

function compareRule(cmp: string): ScalarRule {
  return ([a, b], [da, db], out) =>
    da !== db || out !== "bool" ? null : `(${a} ${cmp} ${b} ? 1 : 0)`;
}

const RULES = new Map<Primitive, ScalarRule>([
  [negP, unaryRule("neg")],
  [expP, unaryRule("exp")],
  [logP, unaryRule("log")],
  [log1pP, unaryRule("log1p")],
  [expm1P, unaryRule("expm1")],
  [sinP, unaryRule("sin")],
  [cosP, unaryRule("cos")],
  [tanP, unaryRule("tan")],
  [tanhP, unaryRule("tanh")],
  [sigmoidP, unaryRule("sigmoid")],
  [sqrtP, unaryRule("sqrt")],
  [rsqrtP, unaryRule("rsqrt")],
  [absP, unaryRule("abs")],
  [signP, unaryRule("sign")],
  [floorP, unaryRule("floor")],
  [ceilP, unaryRule("ceil")],
  [roundP, unaryRule("round")],
  [erfP, unaryRule("erf")],
  [addP, binaryRule("add")],
  [subP, binaryRule("sub")],
  [mulP, binaryRule("mul")],
  [divP, binaryRule("div")],
  [powP, binaryRule("pow")],
  [maximumP, binaryRule("maximum")],
  [minimumP, binaryRule("minimum")],
  [atan2P, binaryRule("atan2")],
  [modP, binaryRule("mod")],
  [equalP, compareRule("===")],
  [notEqualP, compareRule("!==")],
  [lessP, compareRule("<")],
  [lessEqualP, compareRule("<=")],
  [greaterP, compareRule(">")],
  [greaterEqualP, compareRule(">=")],
  [
    logicalAndP,
    ([a, b], _d, out) => (out !== "bool" ? null : `(${a} !== 0 && ${b} !== 0 ? 1 : 0)`),
  ],
  [logicalOrP, ([a, b], _d, out) => (out !== "bool" ? null : `(${a} !== 0 || ${b} !== 0 ? 1 : 0)`)],
  [logicalNotP, ([x], _d, out) => (out !== "bool" ? null : `(${x} === 0 ? 1 : 0)`)],
  [
    whereP,
    ([c, a, b], [dc, da, db], out) =>
      dc !== "bool" || da !== db || da !== out ? null : `(${c} !== 0 ? ${a} : ${b})`,
  ],
  [
    castP,
    ([x], [d], out, params, index) =>
      (params as { dtype: DType }).dtype !== out ? null : castCode(d!, out, x!, index),
  ],
  [stopGradientP, ([x], [d], out) => (d !== out ? null : x!)],
]);

/**
 * `v` rounded as a store into an array of `dtype` rounds it: float32 to the nearest
 * float32, int32 through ToInt32 (which also turns −0, e.g. of a truncation or a modulo,
 * into 0 as an Int32Array does).
 */
function roundCode(dtype: DType, v: string): string {
  if (dtype === "float32") return `Math.fround(${v})`;
  if (dtype === "int32") return `(${v} | 0)`;
  return v;
}

/** Whether `eqn` is an elementwise equation the fusion can generate code for. */
export function isFusible(eqn: Eqn): boolean {
  return (
    scalarCode(
      eqn,
      eqn.inputs.map((_, i) => `a${i}`),
      "i",
    ) !== null
  );
}

/** The rounded scalar code of `eqn` over `args`, or null when it cannot be fused. */
function scalarCode(eqn: Eqn, args: readonly string[], index: string): string | null {
  const rule = RULES.get(eqn.prim);
  if (rule === undefined || eqn.outputs.length !== 1) return null;
  const out = eqn.outputs[0]!.aval;
  for (const v of eqn.inputs) if (!shapesEqual(v.aval.shape, out.shape)) return null;
  const code = rule(
    args,
    eqn.inputs.map((v) => v.aval.dtype),
    out.dtype,
    eqn.params,
    index,
  );
  return code === null ? null : roundCode(out.dtype, code);
}

// ---------------------------------------------------------------------------------------
// Grouping
// ---------------------------------------------------------------------------------------

/** How a group reads one input. */
export type InputKind =
  /** an array of the group's shape, at its own strides (flat when contiguous) */
  | "full"
  /** one element, read once before the loop */
  | "scalar"
  /** a smaller array broadcast to the group's shape (stride 0 along broadcast axes) */
  | "bcast";

export interface GroupInput {
  /** The variable read (for a broadcast absorbed into the group: the broadcast's source). */
  readonly v: Var;
  readonly kind: InputKind;
}

/** A fused group: elementwise equations of one shape that run as one loop. */
export interface FusedGroup {
  readonly members: readonly Eqn[];
  readonly shape: Shape;
  readonly size: number;
  readonly inputs: readonly GroupInput[];
  /** Member outputs read after the group or returned by the program, in member order. */
  readonly outputs: readonly Var[];
  /** The generated loop: inputs as arrays (in `inputs` order), output storage, size, shape. */
  readonly kernel: GroupKernel;
  /** The generated source (shared by every group of the same structure). */
  readonly source: string;
  /**
   * Estimated cost of one element of the loop, in about nanoseconds of one core (reads,
   * stores, arithmetic, and the transcendental functions at their measured cost): what
   * decides whether splitting the loop across threads pays.
   */
  readonly work: number;
}

/**
 * A generated loop: computes the elements of flat indices [lo, hi) of the group's shape
 * (0 ≤ lo ≤ hi ≤ size) from the inputs (in the group's `inputs` order) into the output
 * storage (at the same flat indices). Disjoint ranges can run on different threads: every
 * element is computed by the same code whatever the range, so the values do not depend on
 * how the indices are split.
 */
export type GroupKernel = (
  inputs: readonly NDArray[],
  outputs: readonly DataArray[],
  size: number,
  shape: Shape,
  lo: number,
  hi: number,
) => void;

/** One step of a fused program: an equation run by its implementation, or a fused group. */
export type PlanNode =
  | { readonly kind: "eqn"; readonly eqn: Eqn }
  | { readonly kind: "group"; readonly group: FusedGroup };

interface Building {
  members: number[];
  shape: Shape;
  /** No member may join any more: an equation outside the group read one of its values. */
  closed: boolean;
}

/**
 * Splits `ir`'s equations into fused groups and equations run one by one, in an order
 * that respects every dependency: a group runs where its last member stood. A group grows
 * while no equation outside it has read any of its values (so nothing outside the group
 * can depend on a member and feed a later one); equations that read values of several
 * open groups merge them. A `broadcastTo` whose every reader is fused is absorbed: the
 * readers read its source through broadcast strides.
 */
export function planFusion(ir: IR): PlanNode[] {
  const eqns = ir.eqns;
  const producer = new Map<Var, number>();
  eqns.forEach((e, k) => e.outputs.forEach((v) => producer.set(v, k)));
  const fusible = eqns.map(isFusible);
  const groupOf = new Array<Building | undefined>(eqns.length);
  const find = (k: number): Building | undefined => groupOf[k];
  eqns.forEach((e, k) => {
    const read = new Set<Building>();
    for (const v of e.inputs) {
      const p = producer.get(v);
      const g = p === undefined ? undefined : find(p);
      if (g !== undefined) read.add(g);
    }
    let mine: Building | undefined;
    if (fusible[k]) {
      const shape = e.outputs[0]!.aval.shape;
      const open = [...read].filter((g) => !g.closed && shapesEqual(g.shape, shape));
      if (open.length > 0) {
        mine = open[0]!;
        for (const g of open.slice(1)) {
          mine.members.push(...g.members);
          for (const m of g.members) groupOf[m] = mine;
        }
        mine.members.push(k);
        if (open.length > 1) mine.members.sort((a, b) => a - b);
      } else {
        mine = { members: [k], shape, closed: false };
      }
      groupOf[k] = mine;
    }
    for (const g of read) if (g !== mine) g.closed = true;
  });

  // Readers of each variable (equation indices), and the program outputs.
  const readers = new Map<Var, number[]>();
  eqns.forEach((e, k) =>
    e.inputs.forEach((v) => {
      const r = readers.get(v);
      if (r === undefined) readers.set(v, [k]);
      else r.push(k);
    }),
  );
  const isOut = new Set<Var>(ir.outVars);
  // Absorbed broadcasts: every reader is a fused equation and the value is not returned.
  const absorbed = new Set<number>();
  eqns.forEach((e, k) => {
    if (e.prim !== broadcastToP) return;
    const v = e.outputs[0]!;
    const rs = readers.get(v) ?? [];
    if (!isOut.has(v) && rs.length > 0 && rs.every((r) => groupOf[r] !== undefined)) {
      absorbed.add(k);
    }
  });

  // Constants that hold one value everywhere (a folded broadcast: stride 0 along every
  // axis longer than 1) are read as scalars.
  const uniform = new Set<Var>();
  ir.constVars.forEach((v, i) => {
    const c = ir.consts[i];
    if (c instanceof ConcreteTensor && isUniformLayout(c.value)) uniform.add(v);
  });
  const nodes: { at: number; node: PlanNode }[] = [];
  const emitted = new Set<Building>();
  eqns.forEach((e, k) => {
    const g = find(k);
    if (g === undefined) {
      if (!absorbed.has(k)) nodes.push({ at: k, node: { kind: "eqn", eqn: e } });
      return;
    }
    if (emitted.has(g)) return;
    emitted.add(g);
    const last = g.members[g.members.length - 1]!;
    nodes.push({
      at: last,
      node: {
        kind: "group",
        group: buildGroup(g, eqns, producer, readers, isOut, absorbed, find, uniform),
      },
    });
  });
  nodes.sort((a, b) => a.at - b.at);
  return nodes.map((n) => n.node);
}

/** Whether every element of `x` is the same stored element (stride 0 along every axis longer than 1). */
function isUniformLayout(x: NDArray): boolean {
  for (let d = 0; d < x.shape.length; d++) if (x.shape[d]! > 1 && x.strides[d] !== 0) return false;
  return true;
}

function buildGroup(
  g: Building,
  eqns: readonly Eqn[],
  producer: ReadonlyMap<Var, number>,
  readers: ReadonlyMap<Var, readonly number[]>,
  isOut: ReadonlySet<Var>,
  absorbed: ReadonlySet<number>,
  find: (k: number) => Building | undefined,
  uniform: ReadonlySet<Var>,
): FusedGroup {
  const members = g.members.map((k) => eqns[k]!);
  const size = sizeOf(g.shape);
  const local = new Map<Var, string>();
  const inputs: GroupInput[] = [];
  const argOf = (v: Var): string => {
    const l = local.get(v);
    if (l !== undefined) return l;
    // An input: through an absorbed broadcast, its source; a scalar is read once.
    let src = v;
    let kind: InputKind = "full";
    const p = producer.get(v);
    if (p !== undefined && eqns[p]!.prim === broadcastToP) {
      const u = eqns[p]!.inputs[0]!;
      if (u.aval.size === 1) kind = "scalar";
      if (absorbed.has(p)) {
        src = u;
        if (kind !== "scalar") kind = shapesEqual(u.aval.shape, g.shape) ? "full" : "bcast";
      }
    }
    if (v.aval.size === 1 || uniform.has(src)) kind = "scalar";
    let at = inputs.findIndex((x) => x.v === src && x.kind === kind);
    if (at < 0) {
      at = inputs.length;
      inputs.push({ v: src, kind });
    }
    return kind === "scalar" ? `c${at}` : `a${at}`;
  };
  /** Members whose value is, in unfused execution, the same array as an argument's. */
  const sameArray = new Map<string, string>();
  const code: MemberCode[] = members.map((e, j) => {
    const args = e.inputs.map(argOf);
    const expr = scalarCode(e, args, "i");
    if (expr === null) throw new Error(`jit fusion: internal error: ${e.prim.name} is not fusible`);
    const name = `t${j}`;
    local.set(e.outputs[0]!, name);
    const dtype = e.outputs[0]!.aval.dtype;
    // An identity (stopGradient, a cast to the same dtype) hands the unfused kernel after
    // it the very array it got: what that array is decides the vector path below.
    const identity =
      e.prim === stopGradientP ||
      (e.prim === castP && e.inputs[0]!.aval.dtype === e.outputs[0]!.aval.dtype);
    if (identity) sameArray.set(name, sameArray.get(args[0]!) ?? args[0]!);
    const op = vectorOp(e, size);
    // The vector kernel runs where the unfused kernel would run it: on a contiguous
    // operand (a fused intermediate always is; a group input is checked at run time).
    const arg = sameArray.get(args[0]!) ?? args[0]!;
    const vector =
      op === null || arg.startsWith("c")
        ? null
        : {
            op,
            flag: arg.startsWith("a") ? flatCheck(inputs, Number(arg.slice(1))) : "true",
            js: scalarCode(e, ["u"], "i")!,
          };
    return { name, expr, args, dtype, vector, binary: binaryVectorOp(e, size) };
  });
  const outputs: Var[] = [];
  for (const e of members) {
    const v = e.outputs[0]!;
    const outside = (readers.get(v) ?? []).some((r) => find(r) !== g);
    if (isOut.has(v) || outside) outputs.push(v);
  }
  const source = groupSource(
    inputs,
    code,
    outputs.map((v) => local.get(v)!),
  );
  const work = groupWork(inputs, code, outputs.length);
  return {
    members,
    shape: g.shape,
    size,
    inputs,
    outputs,
    kernel: compileKernel(source),
    source,
    work,
  };
}

/**
 * Cost per element of the functions a member may call, in about nanoseconds on one core:
 * the vector kernels of the transcendental functions (copies through their scratch
 * included) and the Math.* functions and helpers of the JavaScript formulas, measured
 * in fused loops over 2^18 float32 elements on a 2-core x86-64 machine (Node 20).
 * Arithmetic, comparisons and casts cost about 1, and so do each read and store.
 */
const CALL_COST: Readonly<Record<string, number>> = {
  exp: 8,
  expm1: 8,
  sigmoid: 9,
  log: 12,
  log1p: 12,
  tanh: 12,
  erf: 13,
  sin: 18,
  cos: 18,
  tan: 32,
  atan2: 30,
  pow: 100,
  powFloat: 100,
  powInt: 20,
};

/** Estimated cost of one element of a group (see FusedGroup.work). */
function groupWork(
  inputs: readonly GroupInput[],
  members: readonly MemberCode[],
  stores: number,
): number {
  const m0 = members[0]!;
  // one arithmetic op run by its vector kernel straight into the output (directPath)
  if (members.length === 1 && stores === 1 && m0.binary !== null) return 2.5;
  let w = stores;
  for (const x of inputs) if (x.kind !== "scalar") w += 1;
  for (const m of members) {
    if (m.vector !== null) {
      w += CALL_COST[m.vector.op] ?? 1;
      continue;
    }
    let c = 1;
    for (const f of m.expr.matchAll(/\b(?:Math|H)\.(\w+)/g)) c = Math.max(c, CALL_COST[f[1]!] ?? 1);
    w += c;
  }
  return w;
}

// ---------------------------------------------------------------------------------------
// Code generation
// ---------------------------------------------------------------------------------------

/** The generated code of one member. */
interface MemberCode {
  /** Its local (t0, t1, ...). */
  readonly name: string;
  /** Its rounded scalar expression over `args`. */
  readonly expr: string;
  /** Argument names: a<k> (input k, read per element), c<k> (scalar input k), t<j> (member j). */
  readonly args: readonly string[];
  readonly dtype: DType;
  /**
   * Set when the unfused kernel would compute this member with a WebAssembly vector
   * kernel (whose results may differ from Math.* in the last bit): the fused loop then
   * calls the same kernel on a chunk of values, so it gives the unfused results exactly.
   */
  readonly vector: {
    readonly op: WasmUnaryOp;
    /** When the kernel runs: "true", or the run-time check that the input is contiguous. */
    readonly flag: string;
    /** The JavaScript code over `u` (where the flag is false). */
    readonly js: string;
  } | null;
  /**
   * The vector kernel of a binary member that the unfused kernel would run on the
   * WebAssembly path at this size (float operands of the output's dtype), else null.
   */
  readonly binary: WasmBinaryOp | null;
}

/** The unary ops whose vector kernels differ from Math.* (the others are bitwise equal). */
const VECTOR_OPS = new Map<Primitive, WasmUnaryOp>([
  [expP, "exp"],
  [logP, "log"],
  [log1pP, "log1p"],
  [expm1P, "expm1"],
  [tanhP, "tanh"],
  [sigmoidP, "sigmoid"],
  [erfP, "erf"],
]);

/**
 * The vector op of `eqn` when the unfused kernel would take the WebAssembly path on an
 * operand of `size` elements (float input and output of one dtype, at least the kernel's
 * minimum size), else null.
 */
function vectorOp(eqn: Eqn, size: number): WasmUnaryOp | null {
  const op = VECTOR_OPS.get(eqn.prim);
  if (op === undefined) return null;
  const d = eqn.inputs[0]!.aval.dtype;
  if (d !== eqn.outputs[0]!.aval.dtype || (d !== "float32" && d !== "float64")) return null;
  const min = WASM_MIN_SIZE.unary[op];
  return min !== undefined && size >= min ? op : null;
}

const BINARY_VECTOR_OPS = new Map<Primitive, WasmBinaryOp>([
  [addP, "add"],
  [subP, "sub"],
  [mulP, "mul"],
  [divP, "div"],
  [maximumP, "maximum"],
  [minimumP, "minimum"],
]);

/** The binary vector op of `eqn` at `size` elements (float operands of the output dtype), else null. */
function binaryVectorOp(eqn: Eqn, size: number): WasmBinaryOp | null {
  const op = BINARY_VECTOR_OPS.get(eqn.prim);
  if (op === undefined) return null;
  const d = eqn.outputs[0]!.aval.dtype;
  if ((d !== "float32" && d !== "float64") || eqn.inputs.some((v) => v.aval.dtype !== d))
    return null;
  const min = WASM_MIN_SIZE.binary[op];
  return min !== undefined && size >= min ? op : null;
}

/** The run-time check that input k is read in flat order (contiguous, the group's size). */
function flatCheck(inputs: readonly GroupInput[], k: number): string {
  return inputs[k]!.kind === "full" ? `x${k}.contiguous` : `(x${k}.contiguous && x${k}.size === n)`;
}

/** Chunk length of the staged path (its scratch arrays stay in the first-level cache). */
const CHUNK = 2048;

const SCRATCH: Record<DType, string> = {
  float32: "Float32Array",
  float64: "Float64Array",
  int32: "Int32Array",
  bool: "Uint8Array",
};

/**
 * The source of a group's loop over the flat indices [lo, hi). Without vector members:
 * one loop over the elements, flat when every input is contiguous, else rows of the
 * merged, broadcast layout walked by an odometer (started at lo's row and column). With
 * vector members (and the vector kernels on): a loop over chunks, each split into stages
 * at the vector members — a stage computes what it can per element and writes the vector
 * ops' operands into scratch arrays, the vector kernel runs over each scratch array in
 * place, and the next stage continues from there.
 */
function groupSource(
  inputs: readonly GroupInput[],
  members: readonly MemberCode[],
  stored: readonly string[],
): string {
  const head: string[] = [];
  const lines: string[] = [];
  const walked: number[] = [];
  inputs.forEach((x, k) => {
    if (x.kind === "scalar") {
      lines.push(`const c${k} = X[${k}].data[X[${k}].offset];`);
    } else {
      lines.push(`const x${k} = X[${k}], d${k} = x${k}.data;`);
      walked.push(k);
    }
  });
  stored.forEach((_, j) => lines.push(`const q${j} = O[${j}];`));
  lines.push("if (hi <= lo) return;");
  const flat = walked.map((k) => flatCheck(inputs, k)).join(" && ") || "true";
  lines.push(`const flat = ${flat};`);
  lines.push(...directPath(members, stored));
  if (members.some((m) => m.vector !== null)) {
    lines.push("if (H.vectorOn()) {");
    lines.push(...stagedPath(inputs, walked, members, stored, head));
    lines.push("return;", "}");
  }
  lines.push(...singlePath(inputs, walked, members, stored));
  return `"use strict";\n${head.join("\n")}\nreturn function fused(X, O, n, S, lo, hi) {\n${lines.join("\n")}\n};`;
}

/**
 * A group of one member that a vector kernel computes whole: the kernel runs straight
 * from the input arrays into the output (as the unfused kernel would, with the same
 * results: bitwise for the arithmetic, the same vector code for the transcendentals).
 */
function directPath(members: readonly MemberCode[], stored: readonly string[]): string[] {
  if (members.length !== 1 || stored.length !== 1) return [];
  const m = members[0]!;
  const dt = m.dtype;
  if (dt !== "float32" && dt !== "float64") return [];
  if (m.vector !== null) {
    const k = m.args[0]!.slice(1);
    const run = `H.unaryInto("${m.vector.op}", "${dt}", d${k}, x${k}.offset + lo, q0, lo, hi - lo);`;
    return [`if (H.vectorOn() && ${m.vector.flag}) {`, run, "return;", "}"];
  }
  if (m.binary === null) return [];
  const [a, b] = m.args as [string, string];
  const op = m.binary;
  if (a.startsWith("a") && b.startsWith("a")) {
    const [i, j] = [a.slice(1), b.slice(1)];
    const run = `H.binaryInto("${op}", "${dt}", d${i}, x${i}.offset + lo, d${j}, x${j}.offset + lo, q0, lo, hi - lo);`;
    return ["if (H.vectorOn() && flat) {", run, "return;", "}"];
  }
  const left = a.startsWith("c");
  const [sc, x] = left ? [a, b] : [b, a];
  if (!x.startsWith("a")) return [];
  const k = x.slice(1);
  const run = `H.binaryScalarInto("${op}", "${dt}", ${sc}, ${left}, d${k}, x${k}.offset + lo, q0, lo, hi - lo);`;
  return ["if (H.vectorOn() && flat) {", run, "return;", "}"];
}

/** Reads of the walked inputs at positions `at(k)`. */
function readsOf(walked: readonly number[], at: (k: number) => string): string[] {
  return walked.map((k) => `const a${k} = d${k}[${at(k)}];`);
}

/**
 * The strided walk: merged dims, strides and row bases of the walked inputs, positioned
 * at flat index lo (`col`: lo's column in its row, b<k>: the row's base in input k).
 */
function walkSetup(
  inputs: readonly GroupInput[],
  walked: readonly number[],
  decl: "const" | "",
  col: string,
): string[] {
  const flags = walked.map((k) => (inputs[k]!.kind === "bcast" ? "true" : "false")).join(", ");
  const c = decl === "const" ? "const " : "";
  const l = decl === "const" ? "let " : "";
  const lines = [
    `${c}P = H.walk(S, [${walked.map((k) => `x${k}`).join(", ")}], [${flags}]);`,
    `${c}m = P.dims.length; ${c}dims = P.dims; ${c}idx = P.idx; ${c}inner = dims[m - 1];`,
  ];
  walked.forEach((k, w) =>
    lines.push(`${c}S${k} = P.strides[${w}]; ${c}k${k} = S${k}[m - 1]; ${l}b${k} = x${k}.offset;`),
  );
  lines.push(
    `${l}${col} = lo % inner;`,
    "if (lo >= inner) {",
    `let r = (lo - ${col}) / inner;`,
    "for (let d = m - 2; d >= 0; d--) {",
    "const q = r % dims[d];",
    "r = (r - q) / dims[d];",
    "idx[d] = q;",
    ...walked.map((k) => `b${k} += q * S${k}[d];`),
    "}",
    "}",
  );
  return lines;
}

/** The odometer step over the outer dimensions (after a row). */
function odometer(walked: readonly number[]): string[] {
  return [
    "for (let d = m - 2; d >= 0; d--) {",
    ...walked.map((k) => `b${k} += S${k}[d];`),
    "if (++idx[d] < dims[d]) break;",
    ...walked.map((k) => `b${k} -= S${k}[d] * dims[d];`),
    "idx[d] = 0;",
    "}",
  ];
}

/** One pass over the elements, every member in JavaScript: flat, else row by row. */
function singlePath(
  inputs: readonly GroupInput[],
  walked: readonly number[],
  members: readonly MemberCode[],
  stored: readonly string[],
): string[] {
  const inner = [
    ...members.map((m) => `const ${m.name} = ${m.expr};`),
    ...stored.map((v, j) => `q${j}[i] = ${v};`),
  ];
  const lines: string[] = ["if (flat) {"];
  walked.forEach((k) => lines.push(`const f${k} = x${k}.offset;`));
  lines.push("for (let i = lo; i < hi; i++) {", ...readsOf(walked, (k) => `f${k} + i`), ...inner);
  lines.push("}", "return;", "}");
  const steps = walked.map((k) => `, p${k} += k${k}`).join("");
  lines.push(
    ...walkSetup(inputs, walked, "const", "col"),
    "for (let i = lo; i < hi; ) {",
    ...walked.map((k) => `let p${k} = b${k} + col * k${k};`),
    "const e = hi - i < inner - col ? hi : i + inner - col;",
    `for (; i < e; i++${steps}) {`,
    ...readsOf(walked, (k) => `p${k}`),
    ...inner,
    "}",
    "col = 0;",
    ...odometer(walked),
    "}",
  );
  return lines;
}

/** The chunked, staged path (see groupSource); `head` receives the scratch arrays. */
function stagedPath(
  inputs: readonly GroupInput[],
  walked: readonly number[],
  members: readonly MemberCode[],
  stored: readonly string[],
  head: string[],
): string[] {
  // Stages: inputs are read in stage 0; a vector member's value exists from the stage
  // after the one that computes its operand.
  const stage = new Map<string, number>();
  const dtype = new Map<string, DType>();
  walked.forEach((k) => stage.set(`a${k}`, 0));
  inputs.forEach((x, k) => dtype.set(x.kind === "scalar" ? `c${k}` : `a${k}`, x.v.aval.dtype));
  const stageOf = (a: string) => (a.startsWith("c") ? 0 : stage.get(a)!);
  const useStage = new Map<string, number>(); // the stage in which a member reads its arguments
  for (const m of members) {
    const s = Math.max(0, ...m.args.map(stageOf));
    useStage.set(m.name, s);
    stage.set(m.name, m.vector ? s + 1 : s);
    dtype.set(m.name, m.dtype);
  }
  const last = Math.max(...members.map((m) => stage.get(m.name)!));
  const isVector = new Set(members.filter((m) => m.vector).map((m) => m.name));
  // Values read in a later stage than the one that computes them live in scratch arrays
  // Z<name> (a vector member's value lives in its own operand array Y<name>).
  const carried = new Set<string>();
  for (const m of members) {
    for (const a of m.args) {
      if (!a.startsWith("c") && !isVector.has(a) && useStage.get(m.name)! > stageOf(a))
        carried.add(a);
    }
  }
  for (const m of members) {
    if (m.vector) head.push(`const Y${m.name} = new ${SCRATCH[m.dtype]}(${CHUNK});`);
  }
  for (const v of carried) head.push(`const Z${v} = new ${SCRATCH[dtype.get(v)!]}(${CHUNK});`);

  /** The body of stage s, per element t of the chunk (flat index i). */
  const stageBody = (s: number): string[] => {
    const out: string[] = [];
    const loaded = new Set<string>();
    const need = (a: string) => {
      if (a.startsWith("c") || loaded.has(a)) return;
      if (isVector.has(a)) {
        loaded.add(a);
        out.push(`const ${a} = Y${a}[t];`);
      } else if (stageOf(a) < s) {
        loaded.add(a);
        out.push(`const ${a} = Z${a}[t];`);
      }
    };
    for (const m of members) if (useStage.get(m.name) === s && !m.vector) m.args.forEach(need);
    for (const m of members) if (useStage.get(m.name) === s && m.vector) need(m.args[0]!);
    for (const v of stored) if (stage.get(v) === s) need(v);
    for (const m of members) {
      if (stage.get(m.name) === s && !m.vector) out.push(`const ${m.name} = ${m.expr};`);
    }
    for (const m of members) {
      if (m.vector && useStage.get(m.name) === s) out.push(`Y${m.name}[t] = ${m.args[0]!};`);
    }
    for (const v of carried) if (stageOf(v) === s) out.push(`Z${v}[t] = ${v};`);
    stored.forEach((v, j) => {
      if (stage.get(v) === s) out.push(`q${j}[i] = ${v};`);
    });
    return out;
  };

  const lines: string[] = [];
  members.forEach((m) => {
    if (m.vector && m.vector.flag !== "true") lines.push(`const V${m.name} = ${m.vector.flag};`);
  });
  lines.push("let P = null, m = 0, dims = null, idx = null, inner = 0, jj = 0;");
  walked.forEach((k) =>
    lines.push(`let S${k} = null, k${k} = 0, b${k} = 0, p${k} = 0; const f${k} = x${k}.offset;`),
  );
  // the strided walk keeps its position (jj: the column in the current row) across chunks
  lines.push("if (!flat) {", ...walkSetup(inputs, walked, "", "jj"));
  walked.forEach((k) => lines.push(`p${k} = b${k} + jj * k${k};`));
  lines.push("}");
  lines.push(`for (let c = lo; c < hi; c += ${CHUNK}) {`);
  lines.push(`const len = hi - c < ${CHUNK} ? hi - c : ${CHUNK};`);
  const body0 = stageBody(0);
  const step = walked.map((k) => `p${k} += k${k};`);
  const restart = walked.map((k) => `p${k} = b${k};`);
  lines.push("if (flat) {");
  lines.push("for (let t = 0; t < len; t++) {", "const i = c + t;");
  lines.push(...readsOf(walked, (k) => `f${k} + i`), ...body0, "}");
  lines.push("} else {");
  lines.push(
    "for (let t = 0; t < len; ) {",
    "const e = len - t < inner - jj ? len : t + inner - jj;",
    "jj += e - t;",
    "for (; t < e; t++) {",
    "const i = c + t;",
  );
  lines.push(...readsOf(walked, (k) => `p${k}`), ...body0, ...step, "}");
  lines.push("if (jj === inner) {", "jj = 0;", ...odometer(walked), ...restart, "}", "}", "}");
  for (let s = 1; s <= last; s++) {
    for (const m of members) {
      if (!m.vector || stage.get(m.name) !== s) continue;
      const v = m.vector;
      const run = `H.vector("${v.op}", "${m.dtype}", Y${m.name}, len);`;
      const js = `for (let t = 0; t < len; t++) { const u = Y${m.name}[t]; Y${m.name}[t] = ${v.js}; }`;
      lines.push(v.flag === "true" ? run : `if (V${m.name}) ${run} else { ${js} }`);
    }
    lines.push("for (let t = 0; t < len; t++) {", "const i = c + t;", ...stageBody(s), "}");
  }
  lines.push("}");
  return lines;
}

/** Merged dimensions and per-input strides of a strided walk over `shape`. */
interface WalkPlan {
  dims: number[];
  strides: number[][];
  idx: Int32Array;
}

/**
 * The walk of a group's general path: strides of each input over `shape` (broadcast
 * strides for broadcast inputs), size-1 dimensions dropped and dimensions that are
 * contiguous in every input merged, so that the innermost row is as long as possible.
 */
export function stridePlan(
  shape: Shape,
  xs: readonly NDArray[],
  bcast: readonly boolean[],
): WalkPlan {
  const k = xs.length;
  const full = xs.map((x, i) =>
    bcast[i] ? broadcastStrides(x.shape, x.strides, shape) : x.strides,
  );
  const dims: number[] = [];
  const strides: number[][] = xs.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = dims.length - 1;
    let merge = last >= 0;
    for (let i = 0; i < k && merge; i++) {
      if (strides[i]![last] !== full[i]![d]! * n) merge = false;
    }
    if (merge) {
      dims[last] = dims[last]! * n;
      for (let i = 0; i < k; i++) strides[i]![last] = full[i]![d]!;
    } else {
      dims.push(n);
      for (let i = 0; i < k; i++) strides[i]!.push(full[i]![d]!);
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    for (let i = 0; i < k; i++) strides[i]!.push(0);
  }
  return { dims, strides, idx: new Int32Array(dims.length) };
}

const kernelCache = new Map<string, GroupKernel>();
/** Distinct generated loops kept (the oldest is dropped first; groups keep their own). */
const KERNEL_CACHE_SIZE = 1024;

/** Compiles a group's source once per distinct source text. */
function compileKernel(source: string): GroupKernel {
  let fn = kernelCache.get(source);
  if (fn === undefined) {
    fn = (new Function("H", source) as (h: typeof HELPERS) => GroupKernel)(HELPERS);
    if (kernelCache.size >= KERNEL_CACHE_SIZE) kernelCache.delete(kernelCache.keys().next().value!);
    kernelCache.set(source, fn);
  }
  return fn;
}

/** The number of distinct generated loops compiled so far (for tests). */
export function generatedKernelCount(): number {
  return kernelCache.size;
}
