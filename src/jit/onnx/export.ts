/**
 * `ng.exportOnnx(f, exampleArgs)`: stages f at the shapes and dtypes of the
 * example arguments, runs jit's IR passes (inlining nested-derivative calls, so a training
 * step with inner gradients becomes plain primitives), lowers the program with the
 * primitives' ONNX rules and returns the ModelProto bytes with the input and output names
 * and the pytree structure, as a JSON-serialisable signature. The model runs on any ONNX
 * Runtime (Python, C++, GPU servers); no interpreter fallback exists there, so an equation
 * without a lowering is an error that names it.
 */
import type { IR } from "../../core/ir.js";
import { ConcreteTensor } from "../../core/tensor.js";
import type { TreeDef } from "../../core/tree.js";
import type { DType } from "../../tensor/dtype.js";
import type { NDArray } from "../../tensor/ndarray.js";
import { stageFlat } from "../../transforms/make_ir.js";
import { flattenTensors } from "../../transforms/args.js";
import { checkOptions, describe, optionKeys } from "../../util/options.js";
import { unflatten } from "../../core/tree.js";
import { DEFAULT_PASSES, assertRegistryOnly, optimize, type PassOptions } from "../passes.js";
import { OnnxUnsupportedError } from "../../primitives/onnx.js";
import { checkLowerable, lowerToModel } from "./lower.js";
import { IR_VERSION, OPSET } from "./proto.js";

/** Options of `exportOnnx`. */
export interface ExportOnnxOptions {
  /** Switch individual IR passes off (all on by default; `inline` must stay on). */
  passes?: Partial<PassOptions>;
  /** Name of the ONNX graph (default "nestgrad"). */
  graphName?: string;
}

const EXPORT_OPTION_KEYS = optionKeys<ExportOnnxOptions>()(["passes", "graphName"]);

/** One graph input or output: its ONNX name, pytree path, dtype and shape. */
export interface OnnxValueSpec {
  name: string;
  path: string;
  dtype: DType;
  shape: number[];
}

/** The JSON-serialisable description of an exported model's interface. */
export interface OnnxSignature {
  format: "nestgrad-onnx";
  opset: number;
  irVersion: number;
  inputs: OnnxValueSpec[];
  outputs: OnnxValueSpec[];
  /** Structure of the argument list (an array, one child per argument). */
  inTree: TreeDef;
  /** Structure of f's result. */
  outTree: TreeDef;
}

/** What `exportOnnx` returns. */
export interface OnnxExport {
  /** The serialised ONNX ModelProto. */
  model: Uint8Array;
  /** Graph input names, one per tensor leaf of the arguments, in flatten order. */
  inputs: string[];
  /** Graph output names, one per tensor leaf of the result, in flatten order. */
  outputs: string[];
  inTree: TreeDef;
  outTree: TreeDef;
  /** Names, paths, dtypes, shapes and structures; `JSON.stringify` it for other languages. */
  signature: OnnxSignature;
  /** The optimised IR that was lowered. */
  ir: IR;
}

/** ONNX value names from pytree paths ("[0].w" becomes "in[0].w"). */
function names(prefix: string, paths: readonly string[]): string[] {
  return paths.map((p) => `${prefix}${p}`);
}

/**
 * Stages `f` at the example arguments, optimises and lowers it to an ONNX model.
 * @example
 * const f = (w: ng.Tensor, x: ng.Tensor) => ng.sum(ng.tanh(ng.matmul(x, w)));
 * const { model, inputs, outputs } = ng.exportOnnx(ng.valueAndGrad(f), [ng.ones([3, 2]), ng.ones([4, 3])]);
 * // inputs: ["in[0]", "in[1]"], outputs: ["out[0]", "out[1]"]; model: ONNX bytes
 */
export function exportOnnx(
  f: (...args: any[]) => unknown,
  exampleArgs: readonly unknown[],
  options?: ExportOnnxOptions,
): OnnxExport {
  if (typeof f !== "function") {
    throw new TypeError(`exportOnnx: f: expected a function, got ${describe(f)}`);
  }
  if (!Array.isArray(exampleArgs)) {
    throw new TypeError(
      `exportOnnx: exampleArgs: expected an array of f's arguments, got ${describe(exampleArgs)}`,
    );
  }
  const opts = checkOptions("exportOnnx", options, EXPORT_OPTION_KEYS);
  const passes = { ...DEFAULT_PASSES, ...opts.passes };
  if (!passes.inline) {
    throw new RangeError(
      "exportOnnx: options.passes.inline: expected true (ONNX needs call primitives inlined), got false",
    );
  }
  const flatIn = flattenTensors(exampleArgs, "exportOnnx: exampleArgs");
  let outTree: TreeDef | undefined;
  let outPaths: string[] = [];
  const staged = stageFlat(
    (xs) => {
      const out = f(...unflatten<unknown[]>(flatIn.def, xs));
      const flat = flattenTensors(out, "exportOnnx: output of f");
      outTree = flat.def;
      outPaths = flat.paths;
      return flat.leaves;
    },
    flatIn.leaves,
    "exportOnnx",
  );
  const { ir } = optimize(staged, passes);
  assertRegistryOnly(ir, "exportOnnx");
  const consts = new Map<IR["constVars"][number], NDArray>();
  ir.constVars.forEach((v, i) => {
    const c = ir.consts[i]!;
    if (!(c instanceof ConcreteTensor)) {
      throw new Error(
        `exportOnnx: f captures a value of an enclosing transform (${c.aval}); call exportOnnx outside grad/jvp/vmap`,
      );
    }
    consts.set(v, c.value);
  });
  const missing: string[] = [];
  ir.eqns.forEach((e, k) => {
    const why = checkLowerable(e);
    if (why)
      missing.push(`equation ${k} (${e.outputs.map((o) => o.aval).join(", ")}): ${why.message}`);
  });
  if (missing.length > 0) {
    throw new OnnxUnsupportedError(
      "exportOnnx",
      `the program cannot be exported:\n  ${missing.join("\n  ")}`,
    );
  }
  const inputs = names("in", flatIn.paths);
  const outputs = names("out", outPaths);
  const lowered = lowerToModel({
    eqns: ir.eqns,
    inputs: ir.inVars,
    consts,
    outputs: ir.outVars,
    inputNames: inputs,
    outputNames: outputs,
    name: opts.graphName ?? "nestgrad",
  });
  const spec = (name: string, path: string, a: { dtype: DType; shape: readonly number[] }) => ({
    name,
    path,
    dtype: a.dtype,
    shape: [...a.shape],
  });
  const signature: OnnxSignature = {
    format: "nestgrad-onnx",
    opset: OPSET,
    irVersion: IR_VERSION,
    inputs: ir.inVars.map((v, k) => spec(inputs[k]!, flatIn.paths[k]!, v.aval)),
    outputs: ir.outVars.map((v, k) => spec(outputs[k]!, outPaths[k]!, v.aval)),
    inTree: flatIn.def,
    outTree: outTree!,
  };
  return {
    model: lowered.model,
    inputs,
    outputs,
    inTree: flatIn.def,
    outTree: outTree!,
    signature,
    ir,
  };
}
