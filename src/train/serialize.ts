/**
 * Saving and loading parameters and state: any pytree of tensors (float32, float64, int32, bool), numbers, booleans,
 * strings, null/undefined, plain objects and arrays — `nn` params and state, optimiser
 * state with its step counter, a whole TrainState minus its model — written as versioned
 * JSON (`saveJSON`/`loadJSON`) or as a compact binary file (`saveBinary`/`loadBinary`).
 * Both loaders treat the input as hostile: every length, offset, shape and dtype is
 * bounded and checked before anything is allocated, nesting depth is capped, objects are
 * built with `Object.defineProperty` on fresh `{}` and the key `"__proto__"` is rejected,
 * so no file can change a prototype; with a `template` (e.g. freshly set-up params) the
 * structure, every tensor's shape and dtype and every scalar's type must match. All
 * failures are `SerializationError`s naming the pytree path (`.layer_1.weight`).
 *
 * Tree encoding (shared by both formats; "node" below):
 * - a tensor is `{ "__tensor__": record }` (record described per format below);
 * - null, booleans, strings and finite numbers other than -0 are themselves;
 *   NaN, ±Infinity and -0 are `{ "__number__": "NaN" | "Infinity" | "-Infinity" | "-0" }`;
 *   undefined is `{ "__undefined__": true }`;
 * - arrays are arrays of nodes; plain objects are objects of nodes, except that an object
 *   whose only key is one of the four markers is wrapped as `{ "__object__": {...} }`
 *   so that it cannot be mistaken for one.
 *
 * JSON format: `{ "format": "nestgrad", "version": 1, "tree": node }` with tensor records
 * `{ "dtype", "shape", "data" }`, where `data` is the standard base64 (RFC 4648, padded)
 * of the elements in row-major order as little-endian bytes (float32 4 bytes, float64 8,
 * int32 4, bool 1 byte 0/1). Bytes keep every value exact, NaN payloads and -0 included.
 * For hand-written files `data` may instead be an array of numbers (booleans for bool;
 * the strings "NaN", "Infinity", "-Infinity" for floats).
 *
 * Binary format ("NGRD", version 1), all integers unsigned 32-bit little-endian:
 * ```
 * offset 0   4 bytes  magic "NGRD" (0x4E 0x47 0x52 0x44)
 *        4   u32      version (1)
 *        8   u32      H: byte length of the header
 *        12  u32      D: byte length of the data section
 *        16  u32      CRC-32 (IEEE 802.3, as in zlib) of every byte from offset 20 to the end
 *        20  H bytes  header: UTF-8 JSON `{ "tree": node }`, tensor records
 *                     `{ "dtype", "shape", "offset" }` with `offset` relative to the data section
 *        20+H         zero padding up to the next multiple of 8: the data section starts there
 *        S   D bytes  data: each tensor's row-major little-endian bytes at S + offset, offsets
 *                     multiples of 8 (so float64 data is 8-byte aligned), in tree order, not
 *                     overlapping; the file ends exactly at S + D.
 * ```
 * The checksum catches accidental corruption; the validation of every field (which does
 * not rely on it) catches deliberately crafted files.
 */
import { ConcreteTensor, Tensor } from "../core/tensor.js";
import { flatten, structureDifference } from "../core/tree.js";
import { allocate, DTYPES, type DataArray, type DType } from "../tensor/dtype.js";
import { NDArray } from "../tensor/ndarray.js";
import { formatShape, type Shape } from "../tensor/shape.js";

/** The error every loader and saver throws for bad content; `path` is the pytree path. */
export class SerializationError extends Error {
  /** Pytree path of the offending node (`""` for the root or the file as a whole). */
  readonly path: string;
  constructor(message: string, path = "", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SerializationError";
    this.path = path;
  }
}

/** The format version these functions write and the only one they read. */
export const FORMAT_VERSION = 1;
/** Deepest nesting of objects/arrays accepted on save and load. */
export const MAX_DEPTH = 128;
/** Most dimensions a stored tensor may have. */
export const MAX_NDIM = 32;
/** Most elements a stored tensor may have (and the bound on each dimension). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

const MAGIC = [0x4e, 0x47, 0x52, 0x44]; // "NGRD"
const PREAMBLE = 20;
const ALIGN = 8;
const ITEM_SIZE: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };
const MARKERS = new Set(["__tensor__", "__number__", "__undefined__", "__object__"]);
const SPECIAL_NUMBERS: Record<string, number> = {
  NaN: NaN,
  Infinity: Infinity,
  "-Infinity": -Infinity,
  "-0": -0,
};

// ---------------------------------------------------------------------------------------
// Paths, checks and safe object construction

/** `prefix` extended by object key `k`, in the notation of `tree.leafPaths`. */
function keyPath(prefix: string, k: string): string {
  return prefix + (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);
}

const showPath = (path: string): string => path || "(root)";

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object" || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** Sets an own enumerable data property: never invokes the `__proto__` setter. */
function defineKey(obj: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function fail(fn: string, path: string, message: string, cause?: unknown): never {
  throw new SerializationError(
    `${fn}: at ${showPath(path)}: ${message}`,
    path,
    cause === undefined ? undefined : { cause },
  );
}

function describeJSON(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "object") return "an object";
  if (typeof x === "string")
    return `string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x)}`;
  return `${typeof x} ${String(x)}`;
}

/** Checks that record `rec` is an object with exactly the keys `keys`. */
function checkRecord(
  fn: string,
  path: string,
  rec: unknown,
  what: string,
  keys: readonly string[],
): Record<string, unknown> {
  if (!isPlainObject(rec)) fail(fn, path, `${what} must be an object, got ${describeJSON(rec)}`);
  const got = Object.keys(rec);
  const missing = keys.filter((k) => !Object.hasOwn(rec, k));
  const extra = got.filter((k) => !keys.includes(k));
  if (missing.length || extra.length) {
    fail(
      fn,
      path,
      `${what} must have exactly the keys ${JSON.stringify(keys)} ` +
        `(missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(extra)})`,
    );
  }
  return rec;
}

/** Validates a stored dtype and shape; returns them with the element count. */
function checkTensorMeta(
  fn: string,
  path: string,
  rec: Record<string, unknown>,
): { dtype: DType; shape: number[]; size: number } {
  const dtype = rec.dtype;
  if (typeof dtype !== "string" || !(DTYPES as readonly string[]).includes(dtype)) {
    fail(fn, path, `unknown dtype ${describeJSON(dtype)}; expected one of ${DTYPES.join(", ")}`);
  }
  const shape = rec.shape;
  if (!Array.isArray(shape))
    fail(fn, path, `tensor shape must be an array, got ${describeJSON(shape)}`);
  if (shape.length > MAX_NDIM) {
    fail(fn, path, `tensor has ${shape.length} dimensions; at most ${MAX_NDIM} are allowed`);
  }
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0 || d > MAX_ELEMENTS) {
      fail(
        fn,
        path,
        `shape[${i}] must be an integer in [0, ${MAX_ELEMENTS}], got ${describeJSON(d)}`,
      );
    }
    size *= d;
  }
  // Exact: a product of integers <= 2^31 stays a safe integer until it exceeds the bound.
  if (size > MAX_ELEMENTS) {
    fail(
      fn,
      path,
      `shape ${formatShape(shape as number[])} has more than ${MAX_ELEMENTS} elements`,
    );
  }
  return { dtype: dtype as DType, shape: (shape as number[]).slice(), size };
}

function makeTensor(data: DataArray, shape: Shape): Tensor {
  return new ConcreteTensor(new NDArray(data, shape));
}

// ---------------------------------------------------------------------------------------
// Little-endian element bytes

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The elements of `flat` as little-endian bytes (a view on little-endian hosts). */
function toLittleEndian(flat: DataArray): Uint8Array {
  const bytes = new Uint8Array(flat.buffer, flat.byteOffset, flat.byteLength);
  if (HOST_LITTLE_ENDIAN || flat instanceof Uint8Array) return bytes;
  const out = new Uint8Array(flat.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < flat.length; i++) {
    if (flat instanceof Float32Array) view.setFloat32(4 * i, flat[i]!, true);
    else if (flat instanceof Float64Array) view.setFloat64(8 * i, flat[i]!, true);
    else view.setInt32(4 * i, flat[i]!, true);
  }
  return out;
}

/** Storage for `size` elements of `dtype` read from little-endian `bytes` (length checked by the caller). */
function fromLittleEndian(
  fn: string,
  path: string,
  dtype: DType,
  size: number,
  bytes: Uint8Array,
): DataArray {
  const out = allocate(dtype, size);
  if (dtype === "bool") {
    for (let i = 0; i < size; i++) {
      const b = bytes[i]!;
      if (b > 1) fail(fn, path, `bool element ${i} holds byte ${b}; only 0 and 1 are valid`);
      out[i] = b;
    }
  } else if (HOST_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < size; i++) {
      if (dtype === "float32") out[i] = view.getFloat32(4 * i, true);
      else if (dtype === "float64") out[i] = view.getFloat64(8 * i, true);
      else out[i] = view.getInt32(4 * i, true);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Base64 (RFC 4648, padded), written here so that it behaves the same in Node and browsers

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  const chunk: number[] = [];
  const n = bytes.length;
  for (let i = 0; i < n; i += 3) {
    const a = bytes[i]!;
    const b = i + 1 < n ? bytes[i + 1]! : 0;
    const c = i + 2 < n ? bytes[i + 2]! : 0;
    chunk.push(
      B64.charCodeAt(a >> 2),
      B64.charCodeAt(((a & 3) << 4) | (b >> 4)),
      i + 1 < n ? B64.charCodeAt(((b & 15) << 2) | (c >> 6)) : 61,
      i + 2 < n ? B64.charCodeAt(c & 63) : 61,
    );
    if (chunk.length >= 8192) parts.push(String.fromCharCode(...chunk.splice(0)));
  }
  parts.push(String.fromCharCode(...chunk));
  return parts.join("");
}

/** Strict decoding: only the alphabet, correct padding, zero unused bits; null if invalid. */
function base64Decode(s: string): Uint8Array | null {
  if (s.length % 4 !== 0) return null;
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const v = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const code = s.charCodeAt(i + j);
      if (last && code === 61 && j >= 4 - pad) continue; // '=' padding
      const d = code < 128 ? B64_INDEX[code]! : -1;
      if (d < 0) return null;
      v[j] = d;
    }
    const triple = (v[0]! << 18) | (v[1]! << 12) | (v[2]! << 6) | v[3]!;
    if (last && pad === 2 && (triple & 0xffff) !== 0) return null;
    if (last && pad === 1 && (triple & 0xff) !== 0) return null;
    out[o++] = triple >> 16;
    if (o < out.length) out[o++] = (triple >> 8) & 255;
    if (o < out.length) out[o++] = triple & 255;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// CRC-32 (IEEE polynomial 0xEDB88320, reflected), as used by zlib and PNG

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 255]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------
// Encoding a tree (shared by both savers)

type TensorWriter = (t: Tensor, data: DataArray, path: string) => Record<string, unknown>;

function encodeTree(fn: string, tree: unknown, writeTensor: TensorWriter): unknown {
  const ancestors = new Set<object>();
  const walk = (x: unknown, path: string, depth: number): unknown => {
    if (x instanceof Tensor) {
      let flat: DataArray;
      try {
        // Row-major elements whatever the layout (transposed views, broadcasts, offsets).
        flat = x.concrete(`${fn}`).flat();
      } catch (e) {
        fail(fn, path, `cannot save an abstract tensor (${(e as Error).message})`, e);
      }
      return { __tensor__: writeTensor(x, flat, path) };
    }
    if (x === null || typeof x === "boolean" || typeof x === "string") return x;
    if (x === undefined) return { __undefined__: true };
    if (typeof x === "number") {
      if (Number.isNaN(x)) return { __number__: "NaN" };
      if (x === Infinity) return { __number__: "Infinity" };
      if (x === -Infinity) return { __number__: "-Infinity" };
      if (Object.is(x, -0)) return { __number__: "-0" };
      return x;
    }
    const isArray = Array.isArray(x);
    if (!isArray && !isPlainObject(x)) {
      const kind =
        typeof x === "object" ? `an object of class ${x.constructor?.name ?? "?"}` : typeof x;
      fail(
        fn,
        path,
        `cannot save ${kind}; trees may hold Tensors, numbers, booleans, strings, null, ` +
          `undefined, plain objects and arrays`,
      );
    }
    if (depth >= MAX_DEPTH) fail(fn, path, `nesting is deeper than ${MAX_DEPTH} levels`);
    if (ancestors.has(x)) fail(fn, path, "the tree contains a cycle");
    ancestors.add(x);
    let out: unknown;
    if (isArray) {
      const arr: unknown[] = [];
      for (let i = 0; i < x.length; i++) arr.push(walk(x[i], `${path}[${i}]`, depth + 1));
      out = arr;
    } else {
      const obj = x as Record<string, unknown>;
      const keys = Object.keys(obj);
      const enc: Record<string, unknown> = {};
      for (const k of keys) {
        if (k === "__proto__") fail(fn, keyPath(path, k), `the key "__proto__" is not allowed`);
        defineKey(enc, k, walk(obj[k], keyPath(path, k), depth + 1));
      }
      out = keys.length === 1 && MARKERS.has(keys[0]!) ? { __object__: enc } : enc;
    }
    ancestors.delete(x);
    return out;
  };
  return walk(tree, "", 0);
}

// ---------------------------------------------------------------------------------------
// Decoding a tree (shared by both loaders)

type TensorReader = (rec: unknown, path: string) => Tensor;

function decodeTree(fn: string, node: unknown, readTensor: TensorReader): unknown {
  const decodeObject = (obj: Record<string, unknown>, path: string, depth: number): unknown => {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj)) {
      if (k === "__proto__") {
        fail(fn, keyPath(path, k), `the key "__proto__" is not allowed (prototype pollution)`);
      }
      defineKey(out, k, walk(obj[k], keyPath(path, k), depth + 1));
    }
    return out;
  };
  const walk = (x: unknown, path: string, depth: number): unknown => {
    if (x === null || typeof x === "boolean" || typeof x === "string") return x;
    if (typeof x === "number") {
      if (!Number.isFinite(x)) fail(fn, path, `invalid number ${x}`);
      return x;
    }
    if (depth >= MAX_DEPTH) fail(fn, path, `nesting is deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(x)) {
      const out: unknown[] = [];
      for (let i = 0; i < x.length; i++) out.push(walk(x[i], `${path}[${i}]`, depth + 1));
      return out;
    }
    if (!isPlainObject(x)) fail(fn, path, `unexpected ${describeJSON(x)}`);
    const keys = Object.keys(x);
    if (keys.length === 1 && MARKERS.has(keys[0]!)) {
      const v = x[keys[0]!];
      switch (keys[0]) {
        case "__tensor__":
          return readTensor(v, path);
        case "__number__":
          if (typeof v !== "string" || !Object.hasOwn(SPECIAL_NUMBERS, v)) {
            fail(
              fn,
              path,
              `__number__ must be "NaN", "Infinity", "-Infinity" or "-0", got ${describeJSON(v)}`,
            );
          }
          return SPECIAL_NUMBERS[v];
        case "__undefined__":
          if (v !== true) fail(fn, path, `__undefined__ must be true, got ${describeJSON(v)}`);
          return undefined;
        default: // "__object__"
          if (!isPlainObject(v))
            fail(fn, path, `__object__ must hold an object, got ${describeJSON(v)}`);
          return decodeObject(v, path, depth);
      }
    }
    return decodeObject(x, path, depth);
  };
  return walk(node, "", 0);
}

// ---------------------------------------------------------------------------------------
// Templates

const leafKind = (x: unknown): string =>
  x instanceof Tensor ? "a Tensor" : x === null || x === undefined ? String(x) : `a ${typeof x}`;

/**
 * Checks `loaded` against `template`: same structure (via `tree.structureDifference`), each
 * tensor of the template's shape and dtype, each other leaf of the template's type. Returns
 * `loaded` rebuilt in the template's key order, so both flatten in the same order.
 */
function conformToTemplate(fn: string, template: unknown, loaded: unknown): unknown {
  const diff = structureDifference(flatten(template)[1], flatten(loaded)[1]);
  if (diff !== null) {
    throw new SerializationError(
      `${fn}: the file does not match the template's structure: at ${diff} (template vs file)`,
    );
  }
  const walk = (t: unknown, x: unknown, path: string): unknown => {
    if (Array.isArray(t)) return t.map((c, i) => walk(c, (x as unknown[])[i], `${path}[${i}]`));
    if (isPlainObject(t)) {
      const obj = x as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(t)) defineKey(out, k, walk(t[k], obj[k], keyPath(path, k)));
      return out;
    }
    if (t === null || t === undefined) return x;
    if (t instanceof Tensor) {
      if (!(x instanceof Tensor))
        fail(fn, path, `expected a Tensor (as in the template), the file has ${leafKind(x)}`);
      const same =
        t.dtype === x.dtype &&
        t.shape.length === x.shape.length &&
        t.shape.every((d, i) => d === x.shape[i]);
      if (!same) {
        fail(
          fn,
          path,
          `expected ${t.dtype} ${formatShape(t.shape)} (as in the template), ` +
            `the file has ${x.dtype} ${formatShape(x.shape)}`,
        );
      }
      return x;
    }
    if (x instanceof Tensor || typeof x !== typeof t) {
      fail(fn, path, `expected ${leafKind(t)} (as in the template), the file has ${leafKind(x)}`);
    }
    return x;
  };
  return walk(template, loaded, "");
}

// ---------------------------------------------------------------------------------------
// JSON format

/**
 * Serialises a tree of tensors and plain values as versioned JSON text (layout in the
 * module header). Tensors of any layout are stored row-major; floats are exact.
 *
 * @example
 * const model = ng.nn.dense(2, 1);
 * const [ps, st] = ng.nn.setup(ng.random.key(0), model);
 * const text = ng.train.saveJSON({ ps, st });
 * const { ps: ps2 } = ng.train.loadJSON(text, { ps, st });
 */
export function saveJSON(tree: unknown): string {
  const encoded = encodeTree("saveJSON", tree, (t, flat) => ({
    dtype: t.dtype,
    shape: t.shape.slice(),
    data: base64Encode(toLittleEndian(flat)),
  }));
  return JSON.stringify({ format: "nestgrad", version: FORMAT_VERSION, tree: encoded });
}

function readJSONTensor(fn: string, rec: unknown, path: string): Tensor {
  const r = checkRecord(fn, path, rec, "a __tensor__ record", ["dtype", "shape", "data"]);
  const { dtype, shape, size } = checkTensorMeta(fn, path, r);
  const data = r.data;
  if (typeof data === "string") {
    const bytes = base64Decode(data);
    if (bytes === null) fail(fn, path, "tensor data is not valid base64");
    const need = size * ITEM_SIZE[dtype];
    if (bytes.length !== need) {
      fail(
        fn,
        path,
        `tensor data has ${bytes.length} bytes but ${dtype} ${formatShape(shape)} needs ${need}`,
      );
    }
    return makeTensor(fromLittleEndian(fn, path, dtype, size, bytes), shape);
  }
  if (!Array.isArray(data)) {
    fail(
      fn,
      path,
      `tensor data must be a base64 string or an array of numbers, got ${describeJSON(data)}`,
    );
  }
  if (data.length !== size) {
    fail(
      fn,
      path,
      `tensor data has ${data.length} elements but ${dtype} ${formatShape(shape)} needs ${size}`,
    );
  }
  const out = allocate(dtype, size);
  for (let i = 0; i < size; i++) {
    const v: unknown = data[i];
    let num: number | undefined;
    if (dtype === "bool") num = v === true || v === 1 ? 1 : v === false || v === 0 ? 0 : undefined;
    else if (typeof v === "number") num = v;
    else if (
      typeof v === "string" &&
      dtype !== "int32" &&
      v !== "-0" &&
      Object.hasOwn(SPECIAL_NUMBERS, v)
    ) {
      num = SPECIAL_NUMBERS[v];
    }
    if (dtype === "int32" && !(Number.isInteger(num) && num! >= -(2 ** 31) && num! < 2 ** 31)) {
      num = undefined;
    }
    if (num === undefined)
      fail(fn, path, `tensor data[${i}] = ${describeJSON(v)} is not a valid ${dtype}`);
    out[i] = num;
  }
  return makeTensor(out, shape);
}

/**
 * Parses text written by `saveJSON`, validating everything (see the module header). With
 * a `template` the result must have its structure and each tensor its shape and dtype;
 * the result then lists keys in the template's order, and has the template's type.
 *
 * @example
 * const text = ng.train.saveJSON({ w: ng.array([1, 2]) });
 * ng.train.loadJSON(text, { w: ng.zeros([2]) }).w // [1, 2]
 * ng.train.loadJSON(text, { w: ng.zeros([3]) }); // throws SerializationError (shape mismatch)
 */
export function loadJSON<T>(text: string, template: T): T;
export function loadJSON<T = any>(text: string, template?: unknown): T;
export function loadJSON<T = any>(text: string, template?: unknown): T {
  const fn = "loadJSON";
  if (typeof text !== "string") {
    throw new TypeError(`${fn}: text must be a string, got ${describeJSON(text)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new SerializationError(`${fn}: not valid JSON (${(e as Error).message})`, "", {
      cause: e,
    });
  }
  if (!isPlainObject(parsed) || parsed.format !== "nestgrad") {
    throw new SerializationError(
      `${fn}: not a nestgrad file: expected an object with "format": "nestgrad"`,
    );
  }
  if (parsed.version !== FORMAT_VERSION) {
    throw new SerializationError(
      `${fn}: unsupported version ${describeJSON(parsed.version)} (this nestgrad reads version ${FORMAT_VERSION})`,
    );
  }
  checkRecord(fn, "", parsed, "the file", ["format", "version", "tree"]);
  const tree = decodeTree(fn, parsed.tree, (rec, path) => readJSONTensor(fn, rec, path));
  return (template === undefined ? tree : conformToTemplate(fn, template, tree)) as T;
}

// ---------------------------------------------------------------------------------------
// Binary format

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/**
 * Serialises a tree as the compact "NGRD" binary format (layout in the module header):
 * a JSON header with the structure, dtypes, shapes and offsets, then 8-byte-aligned
 * little-endian tensor data.
 *
 * @example
 * const model = ng.nn.dense(2, 1);
 * const [ps, st] = ng.nn.setup(ng.random.key(0), model);
 * const os = ng.optim.setup(ng.optim.adam(1e-3), ps);
 * const opt = { state: os.state, step: os.step };
 * const bytes = ng.train.saveBinary({ ps, st, opt }); // a Uint8Array, e.g. for fs.writeFileSync
 * const back = ng.train.loadBinary(bytes, { ps, st, opt });
 */
export function saveBinary(tree: unknown): Uint8Array {
  const chunks: { offset: number; bytes: Uint8Array }[] = [];
  let cursor = 0;
  const encoded = encodeTree("saveBinary", tree, (t, flat) => {
    const bytes = toLittleEndian(flat);
    const offset = align(cursor);
    chunks.push({ offset, bytes });
    cursor = offset + bytes.length;
    return { dtype: t.dtype, shape: t.shape.slice(), offset };
  });
  const header = new TextEncoder().encode(JSON.stringify({ tree: encoded }));
  const dataStart = align(PREAMBLE + header.length);
  const dataLength = cursor;
  if (dataStart + dataLength > 0xffffffff) {
    throw new SerializationError(`saveBinary: the tree needs more than 4 GiB`);
  }
  const out = new Uint8Array(dataStart + dataLength);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, header.length, true);
  view.setUint32(12, dataLength, true);
  out.set(header, PREAMBLE);
  for (const c of chunks) out.set(c.bytes, dataStart + c.offset);
  view.setUint32(16, crc32(out.subarray(PREAMBLE)), true);
  return out;
}

/**
 * Reads a file written by `saveBinary`, validating the magic bytes, version, lengths,
 * checksum, header and every tensor's dtype, shape and byte range. With a `template` the
 * result must have its structure and each tensor its shape and dtype, and it has the
 * template's type.
 *
 * @example
 * const model = ng.nn.dense(2, 1);
 * const [freshPs, freshSt] = ng.nn.setup(ng.random.key(0), model);
 * const bytes = ng.train.saveBinary({ ps: freshPs, st: freshSt });
 * const { ps, st } = ng.train.loadBinary(bytes, { ps: freshPs, st: freshSt });
 */
export function loadBinary<T>(bytes: Uint8Array | ArrayBuffer, template: T): T;
export function loadBinary<T = any>(bytes: Uint8Array | ArrayBuffer, template?: unknown): T;
export function loadBinary<T = any>(bytes: Uint8Array | ArrayBuffer, template?: unknown): T {
  const fn = "loadBinary";
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${fn}: bytes must be a Uint8Array, got ${describeJSON(bytes)}`);
  }
  const whole = (message: string, cause?: unknown): never => {
    throw new SerializationError(
      `${fn}: ${message}`,
      "",
      cause === undefined ? undefined : { cause },
    );
  };
  if (bytes.length < PREAMBLE) {
    if (bytes.length >= 4 && MAGIC.some((m, i) => bytes[i] !== m)) {
      whole(`not a nestgrad binary file (magic bytes are not "NGRD")`);
    }
    whole(`truncated: ${bytes.length} bytes is shorter than the ${PREAMBLE}-byte preamble`);
  }
  if (MAGIC.some((m, i) => bytes[i] !== m)) {
    whole(`not a nestgrad binary file (magic bytes are not "NGRD")`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== FORMAT_VERSION) {
    whole(`unsupported version ${version} (this nestgrad reads version ${FORMAT_VERSION})`);
  }
  const headerLength = view.getUint32(8, true);
  const dataLength = view.getUint32(12, true);
  const dataStart = align(PREAMBLE + headerLength);
  const total = dataStart + dataLength; // < 2^34: exact
  if (bytes.length < total) {
    whole(
      `truncated: the preamble announces ${total} bytes ` +
        `(header ${headerLength}, data ${dataLength}) but there are ${bytes.length}`,
    );
  }
  if (bytes.length > total) {
    whole(`${bytes.length - total} unexpected bytes after the announced end (${total} bytes)`);
  }
  const expectedCrc = view.getUint32(16, true);
  const actualCrc = crc32(bytes.subarray(PREAMBLE));
  if (expectedCrc !== actualCrc) {
    whole(
      `checksum mismatch (stored 0x${expectedCrc.toString(16)}, computed 0x${actualCrc.toString(16)}): the file is corrupted`,
    );
  }
  for (let i = PREAMBLE + headerLength; i < dataStart; i++) {
    if (bytes[i] !== 0) whole(`non-zero padding byte at offset ${i}`);
  }
  let header: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(PREAMBLE, PREAMBLE + headerLength),
    );
    header = JSON.parse(text);
  } catch (e) {
    whole(`the header is not valid UTF-8 JSON (${(e as Error).message})`, e);
  }
  const h = checkRecord(fn, "", header, "the header", ["tree"]);
  const data = bytes.subarray(dataStart, total);
  let end = 0; // tensors are stored in tree order without overlap
  const tree = decodeTree(fn, h.tree, (rec, path) => {
    const r = checkRecord(fn, path, rec, "a __tensor__ record", ["dtype", "shape", "offset"]);
    const { dtype, shape, size } = checkTensorMeta(fn, path, r);
    const offset = r.offset;
    if (
      typeof offset !== "number" ||
      !Number.isInteger(offset) ||
      offset < 0 ||
      offset % ALIGN !== 0
    ) {
      fail(
        fn,
        path,
        `offset must be a non-negative multiple of ${ALIGN}, got ${describeJSON(offset)}`,
      );
    }
    if (offset < end)
      fail(fn, path, `offset ${offset} overlaps the previous tensor (which ends at ${end})`);
    const nbytes = size * ITEM_SIZE[dtype];
    if (offset + nbytes > dataLength) {
      fail(
        fn,
        path,
        `${dtype} ${formatShape(shape)} needs bytes [${offset}, ${offset + nbytes}) ` +
          `but the data section has ${dataLength} bytes`,
      );
    }
    end = offset + nbytes;
    const out = fromLittleEndian(fn, path, dtype, size, data.subarray(offset, end));
    return makeTensor(out, shape);
  });
  return (template === undefined ? tree : conformToTemplate(fn, template, tree)) as T;
}
