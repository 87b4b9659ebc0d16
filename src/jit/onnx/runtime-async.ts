/**
 * Loading ONNX Runtime for asynchronous runs: the public, promise-based
 * `InferenceSession` API of onnxruntime-web (browsers; WebAssembly, or WebGPU where
 * `navigator.gpu` exists) or onnxruntime-node. `jitted.async(...)` uses it; synchronous
 * jitted calls keep using the native binding of runtime.ts. Both packages are optional
 * peer dependencies loaded only when an asynchronous call asks for one: onnxruntime-node
 * through `createRequire`, onnxruntime-web through a dynamic `import()` of a computed
 * specifier, so a bundler never pulls either into a bundle of nestgrad. A bundle that
 * uses onnxruntime-web hands its module over with `setOnnxRuntimeWeb(() => import(...))`.
 */
import { onnxType } from "../../primitives/onnx.js";
import { encodeModel } from "./proto.js";
/** The ONNX Runtime packages the asynchronous path can use. */
export const ORT_PACKAGES = ["onnxruntime-node", "onnxruntime-web"] as const;
export type OrtPackage = (typeof ORT_PACKAGES)[number];

/** An ORT tensor as the public API returns it. */
export interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

/** The slice of the public `InferenceSession` the asynchronous backend uses. */
export interface AsyncSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensorLike>>;
  release?(): Promise<void>;
}

/** The slice of an onnxruntime-web / onnxruntime-node module that is used here. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: object): Promise<AsyncSession> };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => unknown;
  env: {
    versions?: Record<string, string | undefined>;
    wasm?: { numThreads?: number; wasmPaths?: unknown };
  };
}

/** A loaded asynchronous runtime. */
export interface AsyncOrtRuntime {
  readonly pkg: OrtPackage;
  readonly version: string;
  readonly module: OrtModule;
}

/** Where a Node process is running (globalThis.process.versions.node). */
export function inNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string";
}

/** The package used by default: onnxruntime-node in Node, onnxruntime-web elsewhere. */
export function defaultOrtPackage(): OrtPackage {
  return inNode() ? "onnxruntime-node" : "onnxruntime-web";
}

type ModuleLoader = () => Promise<unknown> | unknown;

interface NodeProcess {
  getBuiltinModule?(id: string): unknown;
}

function loadNodePackage(): unknown {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (typeof proc?.getBuiltinModule !== "function") {
    throw new Error("onnxruntime-node needs Node >= 20.16 (process.getBuiltinModule)");
  }
  const mod = proc.getBuiltinModule("node:module") as {
    createRequire(from: string): (id: string) => unknown;
  };
  return mod.createRequire(import.meta.url)("onnxruntime-node");
}

// A computed specifier: bundlers leave it alone, Node and import maps resolve it.
const WEB_SPECIFIER = ["onnxruntime", "web"].join("-");
const defaultLoaders: Record<OrtPackage, ModuleLoader> = {
  "onnxruntime-node": loadNodePackage,
  "onnxruntime-web": () => import(/* @vite-ignore */ WEB_SPECIFIER),
};
const loaders: Record<OrtPackage, ModuleLoader> = { ...defaultLoaders };
const cache = new Map<OrtPackage, Promise<{ runtime: AsyncOrtRuntime } | { error: string }>>();

function asOrtModule(m: unknown): OrtModule | null {
  const cands = [m, (m as { default?: unknown } | null)?.default];
  for (const c of cands) {
    const o = c as Partial<OrtModule> | null;
    if (o && typeof o.InferenceSession?.create === "function" && typeof o.Tensor === "function") {
      return o as OrtModule;
    }
  }
  return null;
}

/** Identity on a float32[1]: the smallest model, run once to check that the runtime starts. */
const PROBE_MODEL = encodeModel({
  name: "probe",
  nodes: [{ opType: "Identity", inputs: ["x"], outputs: ["y"], name: "id", attrs: {} }],
  initializers: [],
  inputs: [{ name: "x", elemType: onnxType("float32"), shape: [1] }],
  outputs: [{ name: "y", elemType: onnxType("float32"), shape: [1] }],
});

/**
 * The loaded runtime of `pkg`, or why it could not be loaded or started (tried once, then
 * cached). Loading runs a one-node model, so that a runtime whose WebAssembly binary cannot
 * be fetched counts as unavailable rather than rejecting every graph. `threads` sets
 * onnxruntime-web's `env.wasm.numThreads`, which it reads once, when it starts.
 */
export function asyncOrtRuntime(
  pkg: OrtPackage,
  threads = 1,
): Promise<{ runtime: AsyncOrtRuntime } | { error: string }> {
  let p = cache.get(pkg);
  if (p === undefined) {
    p = (async () => {
      let stage = "loaded";
      try {
        const m = asOrtModule(await loaders[pkg]());
        if (m === null) {
          return { error: `${pkg}: the module has no InferenceSession.create / Tensor` };
        }
        if (pkg === "onnxruntime-web" && m.env.wasm !== undefined) m.env.wasm.numThreads = threads;
        stage = "started";
        const session = await m.InferenceSession.create(
          PROBE_MODEL,
          pkg === "onnxruntime-web" ? { executionProviders: ["wasm"] } : {},
        );
        await session.run({ x: new m.Tensor("float32", new Float32Array([1]), [1]) });
        await session.release?.();
        const v = m.env.versions;
        const version = v?.web ?? v?.node ?? v?.common ?? "unknown";
        return { runtime: { pkg, version, module: m } };
      } catch (e) {
        const msg = e instanceof Error ? e.message.split("\n")[0]! : String(e);
        return { error: `${pkg} could not be ${stage}: ${msg}` };
      }
    })();
    cache.set(pkg, p);
  }
  return p;
}

/**
 * Hands nestgrad the onnxruntime-web module (or a function that imports it), for bundles:
 * a bundler resolves the import in the application, and `jitted.async` loads it on first
 * use. `null` restores the default, a dynamic `import("onnxruntime-web")` at run time.
 * @example
 * ng.setOnnxRuntimeWeb(() => import("onnxruntime-web")); // loaded by the first jitted.async call
 */
export function setOnnxRuntimeWeb(load: ModuleLoader | object | null): void {
  setAsyncOrtLoader("onnxruntime-web", load);
}

/** Replaces the loader of `pkg` (tests simulate a missing package); `null` restores the default. */
export function setAsyncOrtLoader(pkg: OrtPackage, load: ModuleLoader | object | null): void {
  if (load !== null && typeof load !== "function" && typeof load !== "object") {
    throw new TypeError(
      `setOnnxRuntimeWeb: expected the onnxruntime-web module, a function returning it, or null; got ${typeof load}`,
    );
  }
  loaders[pkg] =
    load === null
      ? defaultLoaders[pkg]
      : typeof load === "function"
        ? (load as ModuleLoader)
        : () => load;
  cache.delete(pkg);
}
