/**
 * Lowering IR to ONNX: a graph builder that implements the primitives'
 * `OnnxContext`, and the walk that calls each equation's `onnx` rule. Equations whose rule
 * declares them unsupported (or that are not registry primitives) are reported, so the
 * backend can partition the program between ONNX Runtime and the interpreter.
 */
import type { Eqn, Var } from "../../core/ir.js";
import type { Primitive } from "../../core/trace.js";
import type { DType } from "../../tensor/dtype.js";
import type { NDArray } from "../../tensor/ndarray.js";
import { PRIMITIVES } from "../../primitives/index.js";
import {
  onnxType,
  OnnxUnsupportedError,
  type OnnxAttr,
  type OnnxContext,
  type OnnxRule,
  type OnnxTensorValue,
} from "../../primitives/onnx.js";
import { encodeModel, type GraphDef, type NodeDef, type ValueInfo } from "./proto.js";

const RULES = new Map<Primitive, OnnxRule<unknown>>();
for (const p of PRIMITIVES) {
  const rule = (p as { onnx?: OnnxRule<unknown> }).onnx;
  if (rule) RULES.set(p, rule);
}

/** The ONNX rule of a primitive, if it is a registry primitive with one. */
export function onnxRule(prim: Primitive): OnnxRule<unknown> | undefined {
  return RULES.get(prim);
}

/** Builds one ONNX graph; names are unique within it. */
export class GraphBuilder implements OnnxContext {
  readonly nodes: NodeDef[] = [];
  readonly initializers: (OnnxTensorValue & { name: string })[] = [];
  private counter = 0;
  private current = "";

  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }
  node(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, OnnxAttr> = {},
    outputs = 1,
  ): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh("t"));
    this.nodes.push({ opType, inputs, outputs: outs, name: this.fresh(`${opType}_`), attrs });
    return outs;
  }
  node1(opType: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>): string {
    return this.node(opType, inputs, attrs)[0]!;
  }
  initializer(value: OnnxTensorValue): string {
    const name = this.fresh("c");
    this.initializers.push({ ...value, name });
    return name;
  }
  int64s(values: readonly number[]): string {
    return this.initializer({ dtype: "int64", shape: [values.length], values });
  }
  scalar(value: number, dtype: DType): string {
    return this.initializer({ dtype, shape: [], values: [value] });
  }
  unsupported(reason: string): never {
    throw new OnnxUnsupportedError(this.current, reason);
  }

  /**
   * Lowers one equation with its rule; on OnnxUnsupportedError the nodes it had emitted are
   * dropped and the error is returned instead of output names.
   */
  lowerEqn(eqn: Eqn, inputs: readonly string[]): string[] | OnnxUnsupportedError {
    const rule = RULES.get(eqn.prim);
    this.current = eqn.prim.name;
    if (!rule) return new OnnxUnsupportedError(eqn.prim.name, "not a registry primitive");
    const [n, i] = [this.nodes.length, this.initializers.length];
    try {
      const outs = rule(this, inputs, eqn.params, {
        ins: eqn.inputs.map((v) => v.aval),
        outs: eqn.outputs.map((v) => v.aval),
      });
      if (outs.length !== eqn.outputs.length) {
        throw new Error(
          `${eqn.prim.name}: ONNX rule returned ${outs.length} outputs, expected ${eqn.outputs.length}`,
        );
      }
      return outs;
    } catch (e) {
      if (!(e instanceof OnnxUnsupportedError)) throw e;
      this.nodes.length = n;
      this.initializers.length = i;
      return e;
    }
  }
}

/** Whether the equation has an ONNX lowering (its rule does not declare it unsupported). */
export function checkLowerable(eqn: Eqn): OnnxUnsupportedError | null {
  const b = new GraphBuilder();
  const r = b.lowerEqn(
    eqn,
    eqn.inputs.map((_, i) => `in${i}`),
  );
  return r instanceof OnnxUnsupportedError ? r : null;
}

function valueInfo(name: string, v: Var): ValueInfo {
  return { name, elemType: onnxType(v.aval.dtype), shape: v.aval.shape };
}

/** One program to lower: its equations, graph inputs, baked constants and outputs. */
export interface LowerRequest {
  eqns: readonly Eqn[];
  inputs: readonly Var[];
  consts: ReadonlyMap<Var, NDArray>;
  outputs: readonly Var[];
  inputNames?: readonly string[];
  outputNames?: readonly string[];
  name?: string;
}

export interface LoweredModel {
  model: Uint8Array;
  inputNames: string[];
  outputNames: string[];
}

/** Lowers equations (all lowerable) to an ONNX model; throws OnnxUnsupportedError otherwise. */
export function lowerToModel(req: LowerRequest): LoweredModel {
  const b = new GraphBuilder();
  const names = new Map<Var, string>();
  const inputNames = req.inputs.map((v, k) => {
    const name = req.inputNames?.[k] ?? `input${k}`;
    names.set(v, name);
    return name;
  });
  for (const [v, x] of req.consts) {
    names.set(
      v,
      b.initializer({ dtype: x.dtype, shape: x.shape, values: x.flat() as ArrayLike<number> }),
    );
  }
  for (const eqn of req.eqns) {
    const outs = b.lowerEqn(
      eqn,
      eqn.inputs.map((v) => names.get(v)!),
    );
    if (outs instanceof OnnxUnsupportedError) throw outs;
    eqn.outputs.forEach((v, i) => names.set(v, outs[i]!));
  }
  // Every graph output gets its own Identity node: outputs may repeat or be inputs.
  const outputNames = req.outputs.map((v, k) => {
    const name = req.outputNames?.[k] ?? `output${k}`;
    b.nodes.push({
      opType: "Identity",
      inputs: [names.get(v)!],
      outputs: [name],
      name: `out_${k}`,
      attrs: {},
    });
    return name;
  });
  const graph: GraphDef = {
    name: req.name ?? "nestgrad",
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: req.inputs.map((v, k) => valueInfo(inputNames[k]!, v)),
    outputs: req.outputs.map((v, k) => valueInfo(outputNames[k]!, v)),
  };
  return { model: encodeModel(graph), inputNames, outputNames };
}
