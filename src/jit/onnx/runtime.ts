/**
 * Loading ONNX Runtime synchronously. In Node, onnxruntime-node's public
 * `InferenceSession.create`/`run` return promises, but its native binding loads models and
 * runs them synchronously; jitted calls use that binding so they compose with nestgrad's
 * synchronous transforms. The package is an optional peer dependency, loaded lazily with
 * `process.getBuiltinModule("node:module").createRequire` (Node >= 20.16), so nothing here
 * is a static import of a Node-only module and the library still bundles for browsers,
 * where this loader reports ONNX Runtime unavailable for synchronous use.
 */
import type { DType } from "../../tensor/dtype.js";

/** ORT element type names of nestgrad dtypes. */
export const ORT_TYPE: Record<DType, string> = {
  float32: "float32",
  float64: "float64",
  int32: "int32",
  bool: "bool",
};

/** The slice of onnxruntime-node's native session that the backend uses. */
export interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(
    feeds: Record<string, unknown>,
    fetches: Record<string, null>,
    options: object,
  ): Record<string, { type: string; dims: readonly number[]; data: unknown }>;
  dispose?(): void;
}

/** A loaded ONNX Runtime: session factory and tensor constructor. */
export interface OrtRuntime {
  readonly version: string;
  createSession(model: Uint8Array, options: object): NativeSession;
  tensor(type: string, data: unknown, dims: readonly number[]): unknown;
}

type Loader = () => OrtRuntime;

interface NodeProcess {
  getBuiltinModule?(id: string): unknown;
}

/** The default loader: onnxruntime-node's synchronous native binding. */
function loadNode(): OrtRuntime {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (typeof proc?.getBuiltinModule !== "function") {
    throw new Error(
      "synchronous ONNX Runtime needs Node >= 20.16 (process.getBuiltinModule); in browsers use the interpreter or jit.init",
    );
  }
  const mod = proc.getBuiltinModule("node:module") as {
    createRequire(from: string): (id: string) => unknown;
  };
  const require = mod.createRequire(import.meta.url);
  const ort = require("onnxruntime-node") as {
    Tensor: new (type: string, data: unknown, dims: readonly number[]) => unknown;
    env: { versions?: { node?: string; common?: string } };
  };
  const native = require("onnxruntime-node/dist/binding.js") as {
    binding: { InferenceSession: new () => NativeSession };
    initOrt(): void;
  };
  native.initOrt();
  return {
    version: ort.env.versions?.node ?? ort.env.versions?.common ?? "unknown",
    createSession(model, options) {
      const s = new native.binding.InferenceSession();
      s.loadModel(model.buffer, model.byteOffset, model.byteLength, options);
      return s;
    },
    tensor: (type, data, dims) => new ort.Tensor(type, data, dims),
  };
}

let loader: Loader = loadNode;
let cached: { runtime: OrtRuntime } | { error: string } | undefined;

/** The loaded runtime, or the reason it could not be loaded (tried once, then cached). */
export function ortRuntime(): { runtime: OrtRuntime } | { error: string } {
  if (cached === undefined) {
    try {
      cached = { runtime: loader() };
    } catch (e) {
      cached = { error: e instanceof Error ? e.message.split("\n")[0]! : String(e) };
    }
  }
  return cached;
}

/**
 * Replaces the loader (tests use it to simulate a missing package) and forgets the cached
 * result; `null` restores the default.
 */
export function setOrtLoader(l: Loader | null): void {
  loader = l ?? loadNode;
  cached = undefined;
}
