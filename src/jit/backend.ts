/**
 * The backend interface of `ng.jit`: a backend compiles a fully optimised IR (registry
 * primitives only, constants baked in) into an executable that runs synchronously on
 * NDArrays, and optionally into one whose runs return promises (`jitted.async`). The built-in interpreter is always registered; the ONNX Runtime module
 * registers itself when it loads.
 */
import type { IR } from "../core/ir.js";
import type { NDArray } from "../tensor/ndarray.js";

export interface CompileOptions {
  /** intra-op threads (ONNX Runtime); default 1 */
  threads: number;
  /** Asynchronous compilation: the ONNX Runtime package (default: onnxruntime-node in Node, onnxruntime-web elsewhere). */
  ortPackage?: "onnxruntime-node" | "onnxruntime-web";
  /** Asynchronous compilation: ONNX Runtime execution providers, e.g. ["webgpu", "wasm"]. */
  executionProviders?: readonly string[];
}

export interface Executable {
  /** Which engine runs it, e.g. "interpreter", "onnxruntime", "onnxruntime+interpreter". */
  readonly backend: string;
  /** Runs synchronously. inputs: one array per ir.inVars (consts are baked into the executable). */
  run(inputs: readonly NDArray[]): NDArray[];
  /** Human-readable notes: fallbacks, partitions, precision decisions. */
  readonly notes: readonly string[];
}

/** An executable whose runs return promises (`jitted.async`). */
export interface AsyncExecutable {
  readonly backend: string;
  /** inputs: one array per ir.inVars. */
  run(inputs: readonly NDArray[]): Promise<NDArray[]>;
  readonly notes: readonly string[];
}

export interface JitBackend {
  readonly name: string;
  /** Whether this backend can run here now (e.g. its optional package was found). */
  available(): boolean;
  /** Why it cannot run here (the loader's message), or null when it can. */
  unavailableReason?(): string | null;
  /** Compiles a fully optimised IR whose equations are all registry primitives (no call primitives). */
  compile(ir: IR, options: CompileOptions): Executable;
  /**
   * Compiles for asynchronous runs (`jitted.async`), e.g. on an ONNX Runtime that has only a
   * promise-based API. Without it, the asynchronous path runs the synchronous executable.
   */
  compileAsync?(ir: IR, options: CompileOptions): Promise<AsyncExecutable>;
}

/** Backends by name; the ONNX module registers itself here when it loads. */
export const BACKENDS = new Map<string, JitBackend>();

/**
 * Registers (or replaces) a backend under its name.
 * @example registerBackend({ ...interpreterBackend, name: "my-interpreter" }) // then ng.jit(f, { backend: "my-interpreter" })
 */
export function registerBackend(b: JitBackend): void {
  BACKENDS.set(b.name, b);
}
