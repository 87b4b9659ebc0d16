/**
 * The ONNX lowering slot of a primitive: the interface through which
 * each primitive file's `onnx` rule emits ONNX nodes, and small helpers shared by those
 * rules. The builder that implements it lives with the ONNX backend (src/jit/onnx/); this
 * module only declares what a rule may call, so primitives stay below the jit layer.
 */
import type { ShapedArray } from "../core/aval.js";
import type { DType } from "../tensor/dtype.js";

/** ONNX element types the lowering uses (TensorProto.DataType codes). */
export const ONNX_TYPE = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
} as const;

/** The ONNX element type code of a nestgrad dtype. */
export function onnxType(d: DType): number {
  return ONNX_TYPE[d];
}

/** A constant tensor: row-major values, shape and element type. */
export interface OnnxTensorValue {
  dtype: DType | "int64";
  shape: readonly number[];
  values: ArrayLike<number>;
}

/**
 * An attribute value: an integer (INT), an integer list (INTS), a string (STRING), a float
 * written `{ float: v }` (FLOAT) or a tensor written `{ tensor: t }` (TENSOR).
 */
export type OnnxAttr =
  | number
  | readonly number[]
  | string
  | { readonly float: number }
  | { readonly tensor: OnnxTensorValue };

/** The avals of the equation being lowered. */
export interface OnnxAvals {
  readonly ins: readonly ShapedArray[];
  readonly outs: readonly ShapedArray[];
}

/** What a lowering rule may call: it appends nodes to the graph under construction. */
export interface OnnxContext {
  /** Appends a node; returns its `outputs` fresh output names (default 1). */
  node(
    opType: string,
    inputs: readonly string[],
    attrs?: Record<string, OnnxAttr>,
    outputs?: number,
  ): string[];
  /** Appends a single-output node and returns its output name. */
  node1(opType: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>): string;
  /** A graph initializer holding `value`; returns its name. */
  initializer(value: OnnxTensorValue): string;
  /** An int64 vector initializer (shapes, axes, pads, starts, ...). */
  int64s(values: readonly number[]): string;
  /** A rank-0 initializer of `dtype`, for scalar operands that broadcast. */
  scalar(value: number, dtype: DType): string;
  /**
   * Declares the equation not lowerable as given (e.g. ONNX Runtime has no kernel for this
   * dtype); the backend then runs it on the interpreter and says so in its notes.
   */
  unsupported(reason: string): never;
}

/**
 * Lowering rule: emits the nodes computing the primitive's outputs from the ONNX names of
 * its inputs and returns the output names (one per output aval, with the output dtypes).
 */
export type OnnxRule<P> = (
  ctx: OnnxContext,
  inputs: readonly string[],
  params: P,
  avals: OnnxAvals,
) => string[];

/** Thrown by `OnnxContext.unsupported`; the backend catches it per equation. */
export class OnnxUnsupportedError extends Error {
  constructor(
    readonly primitive: string,
    readonly reason: string,
  ) {
    super(`${primitive}: no ONNX lowering: ${reason}`);
    this.name = "OnnxUnsupportedError";
  }
}

/** Rejects dtypes outside `allowed` (ONNX Runtime's CPU kernels for the op). */
export function requireDTypes(
  ctx: OnnxContext,
  op: string,
  dtype: DType,
  allowed: readonly DType[],
): void {
  if (!allowed.includes(dtype)) {
    ctx.unsupported(
      `ONNX Runtime's CPU provider has no ${op} kernel for ${dtype} (it has ${allowed.join(", ")})`,
    );
  }
}

/** Casts `x` from dtype `from` to `to` (no node when they agree). */
export function castTo(
  ctx: OnnxContext,
  x: string,
  from: DType | "int64",
  to: DType | "int64",
): string {
  return from === to
    ? x
    : ctx.node1("Cast", [x], { to: to === "int64" ? ONNX_TYPE.int64 : onnxType(to) });
}

/**
 * Rule of an elementwise op computed by one ONNX operator in the output dtype: inputs are
 * first cast to the output dtype (int/bool operands of float ops, bool of int ops), and
 * `allowed` lists the dtypes ONNX Runtime's CPU kernel registers.
 */
export function onnxElementwise(op: string, allowed: readonly DType[]): OnnxRule<unknown> {
  return (ctx, inputs, _p, { ins, outs }) => {
    const d = outs[0]!.dtype;
    requireDTypes(ctx, op, d, allowed);
    return [
      ctx.node1(
        op,
        inputs.map((x, i) => castTo(ctx, x, ins[i]!.dtype, d)),
      ),
    ];
  };
}

/** Float dtypes: what most ONNX Runtime math kernels register. */
export const FLOATS: readonly DType[] = ["float32", "float64"];
/** Numeric dtypes: float32, float64, int32. */
export const NUMERIC: readonly DType[] = ["float32", "float64", "int32"];
/** Every nestgrad dtype. */
export const ALL_DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

/**
 * Rule of floor/ceil/round: the ONNX operator on floats; on integers the identity (bool
 * becomes int32, as the primitive's dtype rule says).
 */
export function onnxRounding(op: string): OnnxRule<unknown> {
  return (ctx, [x], _p, { ins, outs }) => {
    const d = outs[0]!.dtype;
    if (d === "float32" || d === "float64") return [ctx.node1(op, [x!])];
    return [ctx.node1("Identity", [castTo(ctx, x!, ins[0]!.dtype, d)])];
  };
}

/**
 * Rule of a comparison: ONNX `op` on the operands (bool operands of an ordering go through
 * int32, which ONNX Runtime registers), optionally negated (notEqual = Not(Equal)).
 */
export function onnxCompare(op: string, negate = false): OnnxRule<unknown> {
  return (ctx, [x, y], _p, { ins }) => {
    const d = ins[0]!.dtype;
    const c = d === "bool" && op !== "Equal" ? "int32" : d;
    const z = ctx.node1(op, [castTo(ctx, x!, d, c), castTo(ctx, y!, d, c)]);
    return [negate ? ctx.node1("Not", [z]) : z];
  };
}

/** Reshape to a static shape. */
export function reshapeTo(ctx: OnnxContext, x: string, shape: readonly number[]): string {
  return ctx.node1("Reshape", [x, ctx.int64s(shape)]);
}

/** Zeros of a static shape and dtype (ConstantOfShape, no initializer of that size). */
export function zerosOf(ctx: OnnxContext, shape: readonly number[], dtype: DType): string {
  return ctx.node1("ConstantOfShape", [ctx.int64s(shape)], {
    value: { tensor: { dtype, shape: [1], values: [0] } },
  });
}

/** Channels-last [B, ...S, C] to channels-first [B, C, ...S] (ONNX's layout) and back. */
export function toChannelsFirst(ctx: OnnxContext, x: string, rank: number): string {
  const perm = [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
  return ctx.node1("Transpose", [x], { perm });
}
export function toChannelsLast(ctx: OnnxContext, x: string, rank: number): string {
  const perm = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
  return ctx.node1("Transpose", [x], { perm });
}

/**
 * Rule of a reduction over `axes` (ReduceSum, ReduceMax, ...; axes as an input, opset 18).
 * Computes in the output dtype, bool through int32; no axes reduces nothing.
 */
export function onnxReduce(
  op: string,
  allowed: readonly DType[],
): OnnxRule<{ axes: readonly number[]; keepdims: boolean }> {
  return (ctx, [x], { axes, keepdims }, { ins, outs }) => {
    const out = outs[0]!.dtype;
    const d = out === "bool" ? "int32" : out;
    requireDTypes(ctx, op, d, allowed);
    const xc = castTo(ctx, x!, ins[0]!.dtype, d);
    if (axes.length === 0) return [castTo(ctx, ctx.node1("Identity", [xc]), d, out)];
    const r = ctx.node1(op, [xc, ctx.int64s(axes)], { keepdims: keepdims ? 1 : 0 });
    return [castTo(ctx, r, d, out)];
  };
}

/** Kernel [...K, Cin/g, Cout] (channels-last) to ONNX's [Cout, Cin/g, ...K]. */
export function kernelToOnnx(ctx: OnnxContext, w: string, n: number): string {
  return ctx.node1("Transpose", [w], {
    perm: [n + 1, n, ...Array.from({ length: n }, (_, i) => i)],
  });
}

/** ONNX pads [lo..., hi...] from per-dim [lo, hi] pairs. */
export function onnxPads(padding: readonly (readonly [number, number])[]): number[] {
  return [...padding.map((p) => p[0]), ...padding.map((p) => p[1])];
}

/**
 * MaxPool of channels-last x with its argmax: returns [pooled, indices] channels-first,
 * indices (int64) into the flattened channels-first x, as ONNX MaxPool's second output.
 */
export function maxPoolWithIndices(
  ctx: OnnxContext,
  x: string,
  rank: number,
  p: {
    window: readonly number[];
    strides: readonly number[];
    padding: readonly (readonly [number, number])[];
  },
): [string, string] {
  const [y, i] = ctx.node(
    "MaxPool",
    [toChannelsFirst(ctx, x, rank)],
    {
      kernel_shape: p.window,
      strides: p.strides,
      pads: onnxPads(p.padding),
    },
    2,
  );
  return [y!, i!];
}
