/**
 * From a staged IR to an executable: the passes of passes.ts, then the backend chosen by
 * the jit options ("auto": ONNX Runtime when it is registered and available, else the
 * built-in interpreter). Under "auto", a program ONNX Runtime cannot compile runs on the
 * interpreter, and the executable's notes say why. `compileIRAsync` is the same for
 * asynchronous runs, on ONNX Runtime's promise-based API (onnxruntime-web in browsers).
 */
import type { IR } from "../core/ir.js";
import {
  BACKENDS,
  type AsyncExecutable,
  type CompileOptions,
  type Executable,
  type JitBackend,
} from "./backend.js";
import { interpreterBackend } from "./interpreter.js";
import { assertRegistryOnly, optimize, type PassOptions, type PassStats } from "./passes.js";

/** Jit options after validation and defaults. */
export interface ResolvedJitOptions {
  readonly backend: string;
  readonly threads: number;
  readonly passes: Readonly<PassOptions>;
  /** Asynchronous calls: the ONNX Runtime package (default by environment). */
  readonly ortPackage?: "onnxruntime-node" | "onnxruntime-web";
  /** Asynchronous calls: ONNX Runtime execution providers. */
  readonly executionProviders?: readonly string[];
}

/** A compiled program: the optimised IR, what the passes removed, and the executable. */
export interface Compiled {
  readonly optimized: IR;
  readonly passes: PassStats;
  readonly exec: Executable;
  /** The executable's notes and the backend choice. */
  readonly notes: readonly string[];
}

function requireBackend(name: string): JitBackend {
  const b = BACKENDS.get(name);
  if (b === undefined) {
    throw new Error(
      `jit: backend "${name}" is not registered (registered: ${[...BACKENDS.keys()].join(", ")})` +
        (name === "onnxruntime" ? "; import nestgrad's ONNX backend module to register it" : ""),
    );
  }
  if (!b.available()) {
    const reason = b.unavailableReason?.();
    throw new Error(
      `jit: backend "${name}" is not available here` +
        (reason ? ` (${reason})` : "") +
        (name === "onnxruntime"
          ? `: its optional package (onnxruntime-node in Node, onnxruntime-web in browsers) was not found; install it, or use backend: "interpreter"`
          : "") +
        `; use backend: "auto" to fall back to the interpreter`,
    );
  }
  return b;
}

/** Runs the passes on `ir` (shared by the synchronous and asynchronous compilations). */
export function optimizeFor(
  ir: IR,
  options: ResolvedJitOptions,
): { optimized: IR; passes: PassStats } {
  const { ir: optimized, stats } = optimize(ir, options.passes);
  optimized.typecheck();
  return { optimized, passes: stats };
}

function compileOptionsOf(options: ResolvedJitOptions): CompileOptions {
  return {
    threads: options.threads,
    ...(options.ortPackage !== undefined ? { ortPackage: options.ortPackage } : {}),
    ...(options.executionProviders !== undefined
      ? { executionProviders: options.executionProviders }
      : {}),
  };
}

/** Why backend "auto" does not use onnxruntime, or null when it may. */
function autoSkipsOnnx(onnx: JitBackend | undefined, options: ResolvedJitOptions): string | null {
  if (!options.passes.inline) {
    return "backend auto: call primitives are not inlined (passes.inline: false), so the interpreter runs the program";
  }
  if (onnx === undefined) {
    return "backend auto: onnxruntime is not registered; the interpreter runs the program";
  }
  return null;
}

/**
 * Optimises `ir` and compiles it on the backend the options name.
 * @example const c = compileIR(ng.makeIR(f)(x), { backend: "interpreter", threads: 1, passes: DEFAULT_PASSES });
 */
export function compileIR(
  ir: IR,
  options: ResolvedJitOptions,
  pre?: { optimized: IR; passes: PassStats },
): Compiled {
  const { optimized, passes } = pre ?? optimizeFor(ir, options);
  const compileOptions = compileOptionsOf(options);
  if (options.backend !== "auto") {
    const backend = requireBackend(options.backend);
    if (backend !== interpreterBackend) assertRegistryOnly(optimized, `jit (${backend.name})`);
    const exec = backend.compile(optimized, compileOptions);
    return { optimized, passes, exec, notes: [...exec.notes] };
  }
  const onnx = BACKENDS.get("onnxruntime");
  const notes: string[] = [];
  const skip = autoSkipsOnnx(onnx, options);
  if (skip !== null) {
    notes.push(skip);
  } else if (onnx!.available()) {
    try {
      const exec = onnx!.compile(optimized, compileOptions);
      return { optimized, passes, exec, notes: [...exec.notes] };
    } catch (e) {
      notes.push(
        `backend auto: onnxruntime could not compile the program (${(e as Error).message}); the interpreter runs it`,
      );
    }
  } else {
    const reason = onnx!.unavailableReason?.();
    notes.push(
      `backend auto: onnxruntime is not available here${reason ? ` (${reason})` : ""}; the interpreter runs the program`,
    );
  }
  const exec = interpreterBackend.compile(optimized, compileOptions);
  return { optimized, passes, exec, notes: [...notes, ...exec.notes] };
}

/** A compiled program for asynchronous runs (`jitted.async`). */
export interface CompiledAsync {
  readonly optimized: IR;
  readonly passes: PassStats;
  readonly exec: AsyncExecutable;
  readonly notes: readonly string[];
}

/** A synchronous executable behind the asynchronous interface. */
function asAsync(exec: Executable): AsyncExecutable {
  return {
    backend: exec.backend,
    notes: exec.notes,
    run: (inputs) => new Promise((resolve) => resolve(exec.run(inputs))),
  };
}

/**
 * Compiles an optimised program for asynchronous runs: on the backend's `compileAsync`
 * (ONNX Runtime's promise-based API: onnxruntime-web in browsers), else its synchronous
 * executable. Under "auto", a runtime that cannot be loaded leaves the program to the
 * interpreter, and the notes carry the loader's reason.
 */
export async function compileIRAsync(
  pre: { optimized: IR; passes: PassStats },
  options: ResolvedJitOptions,
): Promise<CompiledAsync> {
  const { optimized, passes } = pre;
  const compileOptions = compileOptionsOf(options);
  const on = async (b: JitBackend): Promise<AsyncExecutable> =>
    b.compileAsync
      ? b.compileAsync(optimized, compileOptions)
      : asAsync(b.compile(optimized, compileOptions));
  if (options.backend !== "auto") {
    const b = BACKENDS.get(options.backend);
    // A backend with an asynchronous path is checked by loading it; others as for sync calls.
    const backend = b?.compileAsync !== undefined ? b : requireBackend(options.backend);
    if (backend !== interpreterBackend) assertRegistryOnly(optimized, `jit (${backend.name})`);
    try {
      const exec = await on(backend);
      return { optimized, passes, exec, notes: [...exec.notes] };
    } catch (e) {
      throw new Error(
        `jit (async): backend "${backend.name}" could not compile the program: ${(e as Error).message}` +
          (backend.name === "onnxruntime"
            ? `; install the package, hand it over with ng.setOnnxRuntimeWeb(() => import("onnxruntime-web")) in a bundle, or use backend: "interpreter"`
            : ""),
        { cause: e },
      );
    }
  }
  const onnx = BACKENDS.get("onnxruntime");
  const notes: string[] = [];
  const skip = autoSkipsOnnx(onnx, options);
  if (skip !== null) {
    notes.push(skip);
  } else {
    try {
      const exec = await on(onnx!);
      return { optimized, passes, exec, notes: [...exec.notes] };
    } catch (e) {
      notes.push(
        `backend auto: onnxruntime could not run the program asynchronously (${(e as Error).message}); the interpreter runs it`,
      );
    }
  }
  const exec = interpreterBackend.compile(optimized, compileOptions);
  return { optimized, passes, exec: asAsync(exec), notes: [...notes, ...exec.notes] };
}
