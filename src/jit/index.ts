/**
 * `ng.jit(f, options)`: stages f once per signature (pytree structure, tensor shapes and
 * dtypes, static values), optimises the IR (passes.ts) and runs the compiled program on a
 * backend — ONNX Runtime when registered and available, else the built-in interpreter.
 * Compiled programs live in a per-function LRU cache. Called with concrete tensors, the
 * jitted function runs its compiled program directly; called under a transform (grad,
 * jvp, vmap, an outer derivative) it binds a `jitCall` primitive whose rules keep the
 * derivatives and batches compiled (call.ts); called while another program is being
 * staged (jit of jit, makeIR, an inner nested derivative) it simply runs f, so its
 * operations join the enclosing program. `jitted.async(...)` runs the same cached program
 * through a backend's promise-based API (ONNX Runtime Web in browsers, where no synchronous
 * ONNX Runtime exists); it takes concrete arguments only, outside transforms.
 *
 * What is traced: every Tensor leaf of the non-static arguments. Everything else is static
 * and part of the cache key: arguments listed in `staticArgnums` (hashable values), and
 * non-tensor leaves of the other arguments (numbers, strings, booleans by value; functions
 * and other objects by identity). A JS number therefore retraces when it changes: pass
 * `ng.array(v)` to trace it. Outputs are pytrees whose leaves are Tensors (returned as
 * computed) or constants (numbers, strings, booleans, functions, recorded when f was
 * staged and returned as they were). Like every staged program, a jitted f reads its
 * closure once per signature: later changes to captured variables are not seen.
 */
import { closureConvert } from "../nested/stage.js";
import type { IR } from "../core/ir.js";
import { StagingTrace } from "../core/staging.js";
import { ConcreteTensor, ConcretizationError, Tensor } from "../core/tensor.js";
import { bind, currentTrace, evalTrace, withTrace } from "../core/trace.js";
import { flatten, leafPaths, unflatten, type TreeDef } from "../core/tree.js";
import { checkOptions, closest, describe, optionKeys } from "../util/options.js";
import { BACKENDS } from "./backend.js";
import { locateNonFinite } from "../core/debug.js";
import {
  checkJittedOutputs,
  compiledAsyncOf,
  compiledOf,
  jitCallP,
  type JitCallParams,
} from "./call.js";
import type { Compiled, CompiledAsync, ResolvedJitOptions } from "./compile.js";
import { jitLog } from "./log.js";
import { ORT_PACKAGES, type OrtPackage } from "./onnx/runtime-async.js";
import "./interpreter.js";
import { DEFAULT_PASSES, PASS_NAMES, type PassOptions, type PassStats } from "./passes.js";
import { planArgs, type ArgPlan } from "./signature.js";

export type { PassOptions, PassStats } from "./passes.js";
export type { AsyncExecutable, CompileOptions, Executable, JitBackend } from "./backend.js";
export { setOnnxRuntimeWeb, type OrtPackage } from "./onnx/runtime-async.js";

/** Options of `ng.jit`. */
export interface JitOptions {
  /** "auto" (default: onnxruntime when registered and available, else interpreter), "interpreter", "onnxruntime". */
  backend?: string;
  /** Intra-op threads of ONNX Runtime (default 1). */
  threads?: number;
  /** Arguments passed by value and made part of the cache key (they must be hashable). */
  staticArgnums?: number | readonly number[];
  /** Compiled signatures kept (least recently used evicted first; default 32). */
  cacheSize?: number;
  /** Switch individual IR passes off (all on by default). */
  passes?: Partial<PassOptions>;
  /**
   * `jitted.async` only: the ONNX Runtime package whose promise-based API runs the program
   * (default: "onnxruntime-node" in Node, "onnxruntime-web" elsewhere).
   */
  ortPackage?: OrtPackage;
  /**
   * `jitted.async` only: ONNX Runtime execution providers in order of preference, e.g.
   * ["webgpu", "wasm"] for onnxruntime-web ("webgpu" is dropped where `navigator.gpu` does
   * not exist). Default: ["wasm"] for onnxruntime-web, ORT's CPU provider in Node.
   */
  executionProviders?: readonly string[];
}

const JIT_OPTION_KEYS = optionKeys<JitOptions>()([
  "backend",
  "threads",
  "staticArgnums",
  "cacheSize",
  "passes",
  "ortPackage",
  "executionProviders",
]);

/** Counters of one jitted function. */
export interface JitStats {
  /** Times f was staged (a cache miss, or a call under a transform that captured tracers). */
  traces: number;
  /** Calls whose signature was in the cache. */
  hits: number;
  /** Calls whose signature was not in the cache. */
  misses: number;
  /** Signatures dropped from the full cache. */
  evictions: number;
  /** Programs compiled (f's own, and the derivative or batched programs derived from it). */
  compiles: number;
  /** Calls made while another program was being staged, which ran f inline. */
  inlined: number;
  /** Signatures in the cache now. */
  cacheEntries: number;
  /** Backend of the most recent compilation (null before the first). */
  backend: string | null;
  /** Notes of the most recent compilation: backend choice, fallbacks, precision. */
  notes: readonly string[];
}

/** What `jitted.lower(...args)` returns: the staged and optimised programs of a signature. */
export interface Lowered {
  /** The IR as staged (closure-converted: captured tracers are trailing inputs). */
  staged: IR;
  /** The IR the backend compiled. */
  optimized: IR;
  /** Equations removed by each pass. */
  passes: PassStats;
  backend: string;
  notes: readonly string[];
}

/** A jitted function: f's signature, plus stats, lowering and cache control. */
export type Jitted<F extends (...args: any[]) => any> = ((
  ...args: Parameters<F>
) => ReturnType<F>) & {
  /** A snapshot of the counters. */
  stats(): JitStats;
  /** Stages (if needed) and compiles f for these arguments, without running it. */
  lower(...args: Parameters<F>): Lowered;
  /** Empties the cache (counters are kept). */
  clearCache(): void;
  /**
   * Runs the compiled program through a backend's asynchronous API — ONNX Runtime's
   * promise-based `InferenceSession` (onnxruntime-web in browsers, onnxruntime-node in
   * Node) — and resolves to f's outputs. Same cache as the synchronous call. Only with
   * concrete arguments outside transforms; under grad, vmap or jit call the jitted function
   * itself, which composes.
   */
  async(...args: Parameters<F>): Promise<ReturnType<F>>;
};

/** How an output leaf is produced: the k-th tensor output of the program, or a constant. */
type OutLeaf = { readonly tensor: number } | { readonly value: unknown };

interface Entry {
  readonly params: JitCallParams;
  /** Captured tracers of enclosing transforms, passed after the argument leaves. */
  readonly captured: readonly Tensor[];
  readonly outDef: TreeDef;
  readonly outLeaves: readonly OutLeaf[];
}

const KNOWN_BACKENDS = ["auto", "interpreter", "onnxruntime"];

function positiveInt(op: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`${op}: options.${name} must be a positive integer, got ${describe(v)}`);
  }
  return v;
}

function resolveOptions(options: JitOptions | undefined): {
  resolved: ResolvedJitOptions;
  staticArgnums: number[];
  cacheSize: number;
} {
  const o = checkOptions("jit", options, JIT_OPTION_KEYS);
  const backend = o.backend ?? "auto";
  const known = [...new Set([...KNOWN_BACKENDS, ...BACKENDS.keys()])];
  if (typeof backend !== "string" || !known.includes(backend)) {
    const guess = typeof backend === "string" ? closest(backend, known) : undefined;
    throw new TypeError(
      `jit: options.backend must be one of ${known.map((k) => `"${k}"`).join(", ")}, got ${describe(backend)}` +
        (guess !== undefined ? `; did you mean "${guess}"?` : ""),
    );
  }
  const threads = positiveInt("jit", "threads", o.threads, 1);
  const cacheSize = positiveInt("jit", "cacheSize", o.cacheSize, 32);
  const raw = o.staticArgnums ?? [];
  const list = typeof raw === "number" ? [raw] : Array.isArray(raw) ? [...raw] : null;
  if (list === null || !list.every((i) => Number.isInteger(i) && i >= 0)) {
    throw new TypeError(
      `jit: options.staticArgnums must be a non-negative integer or an array of them, got ${describe(raw)}`,
    );
  }
  if (new Set(list).size !== list.length) {
    throw new RangeError(`jit: options.staticArgnums ${JSON.stringify(list)} has duplicates`);
  }
  const p = checkOptions("jit", o.passes, PASS_NAMES, "options.passes");
  const passes: PassOptions = { ...DEFAULT_PASSES };
  for (const k of PASS_NAMES) {
    const v = p[k];
    if (v === undefined) continue;
    if (typeof v !== "boolean") {
      throw new TypeError(`jit: options.passes.${k} must be a boolean, got ${describe(v)}`);
    }
    passes[k] = v;
  }
  if (!passes.inline && backend !== "auto" && backend !== "interpreter") {
    throw new TypeError(
      `jit: options.passes.inline: false needs the interpreter backend (backend "${backend}" compiles registry primitives only)`,
    );
  }
  const pkg = o.ortPackage;
  if (pkg !== undefined && !(ORT_PACKAGES as readonly unknown[]).includes(pkg)) {
    throw new TypeError(
      `jit: options.ortPackage must be one of ${ORT_PACKAGES.map((k) => `"${k}"`).join(", ")}, got ${describe(pkg)}`,
    );
  }
  const eps = o.executionProviders;
  if (eps !== undefined && !(Array.isArray(eps) && eps.every((e) => typeof e === "string"))) {
    throw new TypeError(
      `jit: options.executionProviders must be an array of provider names (e.g. ["webgpu", "wasm"]), got ${describe(eps)}`,
    );
  }
  return {
    resolved: {
      backend,
      threads,
      passes,
      ...(pkg !== undefined ? { ortPackage: pkg } : {}),
      ...(eps !== undefined ? { executionProviders: [...eps] } : {}),
    },
    staticArgnums: list,
    cacheSize,
  };
}

const CONCRETIZATION_HINT =
  " Inside ng.jit, tensor arguments are abstract: mark an argument whose value decides control flow " +
  "as static (ng.jit(f, { staticArgnums: [i] }), or pass it as a JS number), use ng.where(cond, a, b) " +
  "for value-dependent choices, or avoid reading values (item(), toArray(), dataSync()) inside f.";
const hinted = new WeakSet<Error>();

function isConstantLeaf(x: unknown): boolean {
  const t = typeof x;
  return t === "number" || t === "string" || t === "boolean" || t === "bigint" || t === "function";
}

/**
 * Compiles `f`: staged once per signature, optimised, and run on a backend. Tensor leaves
 * of the arguments are traced; other leaves and `staticArgnums` arguments are part of the
 * cache key. Output leaves are Tensors or constants (returned as recorded when staged).
 * @example
 * const f = ng.jit((x) => ng.sum(ng.mul(ng.sin(x), x)));
 * f(ng.array([1, 2, 3])); // stages, compiles and runs
 * f(ng.array([4, 5, 6])); // same signature: runs the cached program
 * const df = ng.grad(f); // grad of a jitted function runs compiled derivative programs
 * const y = await f.async(ng.array([1, 2, 3])); // ONNX Runtime's asynchronous API (browsers: onnxruntime-web)
 */
export function jit<F extends (...args: any[]) => any>(f: F, options?: JitOptions): Jitted<F> {
  if (typeof f !== "function") {
    throw new TypeError(`jit: f must be a function, got ${describe(f)}`);
  }
  const { resolved, staticArgnums, cacheSize } = resolveOptions(options);
  const name = f.name || "f";
  const cache = new Map<string, Entry>();
  const counters = { traces: 0, hits: 0, misses: 0, evictions: 0, compiles: 0, inlined: 0 };
  let last: Compiled | CompiledAsync | null = null;
  const onCompile = (c: Compiled | CompiledAsync) => {
    counters.compiles++;
    last = c;
  };

  /** Stages f on abstract stand-ins for the plan's tensor leaves. */
  const stage = (plan: ArgPlan): Entry => {
    counters.traces++;
    const staging = new StagingTrace(currentTrace(), "ng.jit");
    const ins = plan.leaves.map((x) => staging.newArg(x.aval));
    let out: unknown;
    try {
      out = withTrace(staging, () => f(...plan.rebuild(ins)));
    } catch (e) {
      if (e instanceof ConcretizationError && !hinted.has(e)) {
        hinted.add(e);
        e.message = `jit: ${e.message}${CONCRETIZATION_HINT}`;
      }
      throw e;
    }
    const [raw, outDef] = flatten(out);
    const paths = leafPaths(outDef);
    const tensors: Tensor[] = [];
    const outLeaves = raw.map((leaf, k): OutLeaf => {
      if (leaf instanceof Tensor) {
        tensors.push(leaf);
        return { tensor: tensors.length - 1 };
      }
      if (isConstantLeaf(leaf) || plan.opaque.has(leaf)) return { value: leaf };
      throw new TypeError(
        `jit: output of f at ${paths[k] || "(root)"}: expected a Tensor, a constant (number, string, ` +
          `boolean, function) or an object passed in through the arguments, in a pytree of plain ` +
          `arrays and objects; got ${describe(leaf)}`,
      );
    });
    const ir = staging.build(ins, tensors);
    ir.typecheck();
    const closed = closureConvert(ir);
    jitLog(
      () =>
        `staged ${name}(${plan.leaves.map((x) => x.aval.toString()).join(", ")}): ` +
        `${closed.ir.eqns.length} equation(s), ${tensors.length} output(s)` +
        (closed.captured.length > 0
          ? `, ${closed.captured.length} captured tracer(s) of an enclosing transform`
          : ""),
    );
    return {
      params: { ir: closed.ir, name, options: resolved, memo: { derived: new Map(), onCompile } },
      captured: closed.captured,
      outDef,
      outLeaves,
    };
  };

  /** The cache entry of the plan's signature, staging f on a miss. */
  const entryFor = (plan: ArgPlan): Entry => {
    const hit = cache.get(plan.key);
    if (hit !== undefined) {
      counters.hits++;
      cache.delete(plan.key);
      cache.set(plan.key, hit);
      return hit;
    }
    counters.misses++;
    const entry = stage(plan);
    // A program that captured tracers of enclosing transforms belongs to this call only.
    if (entry.captured.length === 0) {
      cache.set(plan.key, entry);
      if (cache.size > cacheSize) {
        cache.delete(cache.keys().next().value!);
        counters.evictions++;
      }
    }
    return entry;
  };

  const assemble = (entry: Entry, outs: readonly Tensor[]): ReturnType<F> =>
    unflatten<ReturnType<F>>(
      entry.outDef,
      entry.outLeaves.map((l) => ("tensor" in l ? outs[l.tensor] : l.value)),
    );

  const jitted = (...args: Parameters<F>): ReturnType<F> => {
    const plan = planArgs(args, staticArgnums);
    const trace = currentTrace();
    if (trace instanceof StagingTrace) {
      // Another program is being staged: f's operations join it.
      counters.inlined++;
      return f(...args);
    }
    const entry = entryFor(plan);
    if (
      trace === evalTrace &&
      entry.captured.length === 0 &&
      plan.leaves.every((x) => x instanceof ConcreteTensor)
    ) {
      const c = compiledOf(entry.params);
      const outs = c.exec.run(plan.leaves.map((x) => (x as ConcreteTensor).value));
      checkJittedOutputs(name, c.exec.backend, outs, () => locateNonFinite(f, args));
      return assemble(
        entry,
        outs.map((a) => new ConcreteTensor(a)),
      );
    }
    return assemble(entry, bind(jitCallP, [...plan.leaves, ...entry.captured], entry.params));
  };

  const runAsync = (...args: Parameters<F>): Promise<ReturnType<F>> => {
    const plan = planArgs(args, staticArgnums);
    const trace = currentTrace();
    // Checked before any promise exists, so the mistake surfaces where it is made.
    if (trace !== evalTrace || !plan.leaves.every((x) => x instanceof ConcreteTensor)) {
      throw new Error(
        `jit: ${name}.async(...) was called ${trace instanceof StagingTrace ? "while a program is being staged (jit, makeIR or an inner derivative)" : "under a transform (grad, jvp, vjp, vmap or a nested derivative)"}` +
          `, or with arguments that carry one; transforms are synchronous, so the asynchronous ` +
          `call cannot compose with them. Call the synchronous jitted function instead ` +
          `(${name}(...args)), which composes with every transform.`,
      );
    }
    const entry = entryFor(plan);
    const inputs = plan.leaves.map((x) => (x as ConcreteTensor).value);
    return compiledAsyncOf(entry.params).then(async (c) => {
      const outs = await c.exec.run(inputs);
      checkJittedOutputs(name, c.exec.backend, outs, () => locateNonFinite(f, args));
      return assemble(
        entry,
        outs.map((a) => new ConcreteTensor(a)),
      );
    });
  };

  const stats = (): JitStats => ({
    ...counters,
    cacheEntries: cache.size,
    backend: last === null ? null : (last as Compiled).exec.backend,
    notes: last === null ? [] : (last as Compiled).notes,
  });

  const lower = (...args: Parameters<F>): Lowered => {
    const entry = entryFor(planArgs(args, staticArgnums));
    const c = compiledOf(entry.params);
    return {
      staged: entry.params.ir,
      optimized: c.optimized,
      passes: c.passes,
      backend: c.exec.backend,
      notes: c.notes,
    };
  };

  return Object.assign(jitted, {
    stats,
    lower,
    clearCache: () => cache.clear(),
    async: runAsync,
  }) as Jitted<F>;
}
