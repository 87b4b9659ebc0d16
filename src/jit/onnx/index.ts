/**
 * The "onnxruntime" jit backend: lowers an optimised IR with the primitives'
 * `onnx` rules, creates ONNX Runtime sessions through the synchronous native binding and
 * runs them on NDArrays. Equations ONNX Runtime cannot run (no kernel for a dtype, no
 * rule) are split off into interpreter segments: the program becomes a sequence of
 * segments, each either one ORT session or a run of primitive impls, and the executable's
 * notes say which equations fell back and why. Precision is never changed: a float64
 * program stays float64 on either engine. Synchronous calls run sessions of the native
 * binding (runtime.ts); `jitted.async` runs the same partitions through the public
 * asynchronous API of onnxruntime-web or onnxruntime-node (runtime-async.ts). Registers
 * itself with `registerBackend` on load.
 */
import type { Eqn, IR, Var } from "../../core/ir.js";
import { ConcreteTensor } from "../../core/tensor.js";
import type { DType } from "../../tensor/dtype.js";
import { NDArray } from "../../tensor/ndarray.js";
import type { OnnxUnsupportedError } from "../../primitives/onnx.js";
import {
  registerBackend,
  type AsyncExecutable,
  type CompileOptions,
  type Executable,
  type JitBackend,
} from "../backend.js";
import { checkLowerable, lowerToModel } from "./lower.js";
import { ORT_TYPE, ortRuntime, type NativeSession, type OrtRuntime } from "./runtime.js";
import { asyncOrtRuntime, defaultOrtPackage, type AsyncOrtRuntime } from "./runtime-async.js";

/** A contiguous run of equations on one engine. */
interface Segment {
  engine: "onnxruntime" | "interpreter";
  eqns: Eqn[];
  inputs: Var[];
  outputs: Var[];
}

/** Splits the equations into maximal runs that are all lowerable or all not. */
function partition(ir: IR, unsupported: ReadonlyMap<Eqn, unknown>): Segment[] {
  const segs: Segment[] = [];
  for (const eqn of ir.eqns) {
    const engine = unsupported.has(eqn) ? "interpreter" : "onnxruntime";
    const last = segs[segs.length - 1];
    if (last && last.engine === engine) last.eqns.push(eqn);
    else segs.push({ engine, eqns: [eqn], inputs: [], outputs: [] });
  }
  // Segment inputs: vars used but defined elsewhere; outputs: vars used later or returned.
  const usedAfter = new Set<Var>(ir.outVars);
  for (let s = segs.length - 1; s >= 0; s--) {
    const seg = segs[s]!;
    const defined = new Set(seg.eqns.flatMap((e) => e.outputs));
    seg.outputs = [...defined].filter((v) => usedAfter.has(v));
    const ins = new Set<Var>();
    for (const e of seg.eqns) for (const v of e.inputs) if (!defined.has(v)) ins.add(v);
    seg.inputs = [...ins];
    for (const v of ins) usedAfter.add(v);
  }
  return segs;
}

function toNDArray(
  r: { type: string; dims: readonly number[]; data: unknown },
  want: DType,
): NDArray {
  const data = r.data as Float32Array | Float64Array | Int32Array | Uint8Array;
  const x = new NDArray(
    want === "bool" && !(data instanceof Uint8Array) ? Uint8Array.from(data as Int32Array) : data,
    [...r.dims],
  );
  if (x.dtype !== want) throw new Error(`onnxruntime: output of type ${r.type}, expected ${want}`);
  return x;
}

/** The model of an ORT segment; the concrete consts it reads are baked in as initializers. */
function lowerSegment(seg: Segment, consts: ReadonlyMap<Var, NDArray>) {
  const baked = new Map(
    [...seg.inputs].filter((v) => consts.has(v)).map((v) => [v, consts.get(v)!]),
  );
  const feedVars = seg.inputs.filter((v) => !baked.has(v));
  const lowered = lowerToModel({
    eqns: seg.eqns,
    inputs: feedVars,
    consts: baked,
    outputs: seg.outputs,
  });
  return { feedVars, ...lowered };
}

/** Session options shared by both APIs: sequential, one inter-op thread, all graph optimisations. */
function sessionOptions(options: CompileOptions): Record<string, unknown> {
  return {
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  };
}

/** The ORT feeds of a segment: contiguous copies of its inputs. */
function feedsOf(
  make: (type: string, data: unknown, dims: readonly number[]) => unknown,
  feedVars: readonly Var[],
  inputNames: readonly string[],
  env: ReadonlyMap<Var, NDArray>,
): Record<string, unknown> {
  const feeds: Record<string, unknown> = {};
  feedVars.forEach((v, k) => {
    const x = env.get(v)!;
    feeds[inputNames[k]!] = make(ORT_TYPE[x.dtype], x.flat(), x.shape);
  });
  return feeds;
}

/** An ORT session over one segment, through the synchronous native binding. */
function ortStep(
  rt: OrtRuntime,
  seg: Segment,
  consts: ReadonlyMap<Var, NDArray>,
  options: CompileOptions,
): (env: Map<Var, NDArray>) => void {
  const { feedVars, model, inputNames, outputNames } = lowerSegment(seg, consts);
  const session: NativeSession = rt.createSession(model, sessionOptions(options));
  const fetches = Object.fromEntries(outputNames.map((n) => [n, null]));
  return (env) => {
    const feeds = feedsOf(rt.tensor, feedVars, inputNames, env);
    const res = session.run(feeds, fetches, {});
    seg.outputs.forEach((v, k) => env.set(v, toNDArray(res[outputNames[k]!]!, v.aval.dtype)));
  };
}

/** An ORT session over one segment, through the public asynchronous API. */
async function ortStepAsync(
  rt: AsyncOrtRuntime,
  seg: Segment,
  consts: ReadonlyMap<Var, NDArray>,
  sessionOpts: Record<string, unknown>,
): Promise<(env: Map<Var, NDArray>) => Promise<void>> {
  const { feedVars, model, inputNames, outputNames } = lowerSegment(seg, consts);
  const session = await rt.module.InferenceSession.create(model, sessionOpts);
  const make = (type: string, data: unknown, dims: readonly number[]) =>
    new rt.module.Tensor(type, data, dims);
  return async (env) => {
    const res = await session.run(feedsOf(make, feedVars, inputNames, env));
    seg.outputs.forEach((v, k) => env.set(v, toNDArray(res[outputNames[k]!]!, v.aval.dtype)));
  };
}

/** Runs a segment's equations with the primitives' impls (the built-in kernels). */
function interpreterStep(seg: Segment): (env: Map<Var, NDArray>) => void {
  return (env) => {
    const local = new Map<Var, NDArray>();
    const get = (v: Var) => local.get(v) ?? env.get(v)!;
    for (const e of seg.eqns) {
      const outs = e.prim.impl(e.inputs.map(get), e.params);
      e.outputs.forEach((v, i) => local.set(v, outs[i]!));
    }
    for (const v of seg.outputs) env.set(v, local.get(v)!);
  };
}

/** For each segment, the values whose last use it is (released after it runs). */
function lastUses(segs: readonly Segment[], outVars: readonly Var[]): Var[][] {
  const seen = new Set<Var>(outVars);
  const drops: Var[][] = segs.map(() => []);
  for (let s = segs.length - 1; s >= 0; s--) {
    for (const v of segs[s]!.inputs) {
      if (!seen.has(v)) {
        seen.add(v);
        drops[s]!.push(v);
      }
    }
  }
  return drops;
}

function concreteConsts(ir: IR): Map<Var, NDArray> {
  const m = new Map<Var, NDArray>();
  ir.constVars.forEach((v, i) => {
    const c = ir.consts[i]!;
    if (!(c instanceof ConcreteTensor)) {
      throw new Error(`onnxruntime: constant ${i} of the IR is not a concrete array (${c.aval})`);
    }
    m.set(v, c.value);
  });
  return m;
}

/** The segments of a program and the notes about them, before any session exists. */
interface Plan {
  readonly consts: Map<Var, NDArray>;
  readonly segs: Segment[];
  readonly notes: string[];
}

/** Partitions `ir` between ORT and the interpreter; `loadError`: ORT could not be loaded. */
function plan(ir: IR, loadError: string | null): Plan {
  const consts = concreteConsts(ir);
  const notes: string[] = [];
  // Equations for the interpreter, with the rule's reason (null: no runtime at all).
  const unsupported = new Map<Eqn, OnnxUnsupportedError | null>();
  if (loadError !== null) {
    notes.push(`onnxruntime unavailable (${loadError}); the whole program runs on the interpreter`);
    for (const e of ir.eqns) unsupported.set(e, null);
  } else {
    for (const e of ir.eqns) {
      const why = checkLowerable(e);
      if (why) unsupported.set(e, why);
    }
  }
  const segs = partition(ir, unsupported);
  const reasons = new Map<string, number>();
  for (const why of unsupported.values())
    if (why) reasons.set(why.message, (reasons.get(why.message) ?? 0) + 1);
  for (const [msg, n] of reasons) notes.push(`interpreter fallback for ${n} equation(s): ${msg}`);
  const ortSegs = segs.filter((s) => s.engine === "onnxruntime").length;
  if (ortSegs > 0 && ortSegs < segs.length) {
    notes.push(
      `partitioned into ${segs.length} segments (${ortSegs} onnxruntime, ${segs.length - ortSegs} interpreter)`,
    );
  }
  return { consts, segs, notes };
}

/** A segment ORT refused at session creation runs on the interpreter; the note carries ORT's message. */
function rejectedByOrt(seg: Segment, e: unknown, notes: string[]): void {
  seg.engine = "interpreter";
  notes.push(
    `interpreter fallback for ${seg.eqns.length} equation(s) (${[...new Set(seg.eqns.map((q) => q.prim.name))].join(", ")}): ` +
      `onnxruntime rejected the lowered graph: ${(e as Error).message.split("\n")[0]}`,
  );
}

/** "onnxruntime", "interpreter" or both; an empty program (all folded away) names the requested engine. */
function engineName(segs: readonly Segment[], haveRuntime: boolean): string {
  const engines = [...new Set(segs.map((s) => s.engine))];
  return engines.length === 0 ? (haveRuntime ? "onnxruntime" : "interpreter") : engines.join("+");
}

function checkInputCount(ir: IR, inputs: readonly NDArray[]): void {
  if (inputs.length !== ir.inVars.length) {
    throw new Error(
      `onnxruntime executable: expected ${ir.inVars.length} inputs, got ${inputs.length}`,
    );
  }
}

/** Compiles `ir` for ONNX Runtime, with interpreter segments where ORT cannot run it. */
export function compileOnnx(ir: IR, options: CompileOptions): Executable {
  const loaded = ortRuntime();
  const { consts, segs, notes } = plan(ir, "error" in loaded ? loaded.error : null);
  const steps = segs.map((s) => {
    if (s.engine === "onnxruntime" && "runtime" in loaded) {
      try {
        return ortStep(loaded.runtime, s, consts, options);
      } catch (e) {
        rejectedByOrt(s, e, notes);
      }
    }
    return interpreterStep(s);
  });
  const drops = lastUses(segs, ir.outVars);
  return {
    backend: engineName(segs, "runtime" in loaded),
    notes,
    run(inputs) {
      checkInputCount(ir, inputs);
      const env = new Map<Var, NDArray>(consts);
      ir.inVars.forEach((v, i) => env.set(v, inputs[i]!));
      steps.forEach((step, k) => {
        step(env);
        for (const v of drops[k]!) env.delete(v);
      });
      return ir.outVars.map((v) => env.get(v)!);
    },
  };
}

/** Execution providers of an asynchronous session; WebGPU only where `navigator.gpu` exists. */
function providers(rt: AsyncOrtRuntime, asked: readonly string[] | undefined, notes: string[]) {
  if (asked === undefined) return rt.pkg === "onnxruntime-web" ? ["wasm"] : undefined;
  const gpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined;
  const kept = asked.filter((p) => p !== "webgpu" || gpu);
  if (kept.length < asked.length) {
    notes.push("executionProviders: webgpu dropped (navigator.gpu does not exist here)");
  }
  return kept.length > 0 ? kept : rt.pkg === "onnxruntime-web" ? ["wasm"] : undefined;
}

/**
 * Compiles `ir` for the public asynchronous API of onnxruntime-web or onnxruntime-node
 * (`options.ortPackage`), with the same partitions as `compileOnnx`. Rejects, naming the
 * loader's reason, when the package cannot be loaded.
 */
export async function compileOnnxAsync(ir: IR, options: CompileOptions): Promise<AsyncExecutable> {
  const pkg = options.ortPackage ?? defaultOrtPackage();
  const loaded = await asyncOrtRuntime(pkg, options.threads);
  if ("error" in loaded) throw new Error(`onnxruntime unavailable: ${loaded.error}`);
  const rt = loaded.runtime;
  const { consts, segs, notes } = plan(ir, null);
  notes.unshift(`${rt.pkg} ${rt.version} (asynchronous API)`);
  const sessionOpts: Record<string, unknown> = sessionOptions(options);
  const eps = providers(rt, options.executionProviders, notes);
  if (eps !== undefined) sessionOpts.executionProviders = eps;
  const steps: ((env: Map<Var, NDArray>) => void | Promise<void>)[] = [];
  for (const s of segs) {
    if (s.engine === "onnxruntime") {
      try {
        steps.push(await ortStepAsync(rt, s, consts, sessionOpts));
        continue;
      } catch (e) {
        rejectedByOrt(s, e, notes);
      }
    }
    steps.push(interpreterStep(s));
  }
  const drops = lastUses(segs, ir.outVars);
  // One run at a time per executable: an ORT session does not take overlapping runs.
  let queue: Promise<unknown> = Promise.resolve();
  const runOnce = async (inputs: readonly NDArray[]) => {
    checkInputCount(ir, inputs);
    const env = new Map<Var, NDArray>(consts);
    ir.inVars.forEach((v, i) => env.set(v, inputs[i]!));
    for (let k = 0; k < steps.length; k++) {
      await steps[k]!(env);
      for (const v of drops[k]!) env.delete(v);
    }
    return ir.outVars.map((v) => env.get(v)!);
  };
  return {
    backend: engineName(segs, true),
    notes,
    run(inputs) {
      const r = queue.then(() => runOnce(inputs));
      queue = r.catch(() => undefined);
      return r;
    },
  };
}

/** The backend object registered as "onnxruntime". */
export const onnxBackend: JitBackend = {
  name: "onnxruntime",
  available: () => "runtime" in ortRuntime(),
  unavailableReason: () => {
    const loaded = ortRuntime();
    return "error" in loaded ? loaded.error : null;
  },
  compile: compileOnnx,
  compileAsync: compileOnnxAsync,
};

registerBackend(onnxBackend);
