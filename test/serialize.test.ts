/**
 * Tests of saving and loading pytrees (src/train/serialize.ts):
 * exact round trips in both formats for every dtype and layout, a hand-built model's
 * params/state/optimiser state, template checks with their messages, validation of
 * hand-crafted hostile files (checksums recomputed so the validation itself is tested),
 * prototype-pollution attempts, and fast-check fuzzing of corrupted files. The oracle is
 * the original tree, compared bit for bit.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import {
  loadBinary,
  loadJSON,
  MAX_DEPTH,
  saveBinary,
  saveJSON,
  SerializationError,
} from "../src/train/serialize.js";

type Tensor = ng.Tensor;
const f64 = { dtype: "float64" } as const;

// ---------------------------------------------------------------------------------------
// Helpers

/** The bytes of a tensor's row-major elements (bitwise comparison, NaN payloads included). */
function tensorBytes(t: Tensor): number[] {
  const d = t.dataSync();
  return Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
}

/** Deep equality: same structure and key order, tensors bitwise equal, numbers by Object.is. */
function expectSameTree(actual: unknown, expected: unknown, path = ""): void {
  const where = path || "(root)";
  if (expected instanceof ng.Tensor) {
    expect(actual, where).toBeInstanceOf(ng.Tensor);
    const a = actual as Tensor;
    expect(a.dtype, where).toBe(expected.dtype);
    expect(a.shape, where).toEqual(expected.shape);
    expect(tensorBytes(a), where).toEqual(tensorBytes(expected));
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), where).toBe(true);
    const a = actual as unknown[];
    expect(a.length, where).toBe(expected.length);
    expected.forEach((e, i) => expectSameTree(a[i], e, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === "object") {
    expect(Object.getPrototypeOf(actual), where).toBe(Object.prototype);
    const a = actual as Record<string, unknown>;
    expect(Object.keys(a), where).toEqual(Object.keys(expected));
    for (const k of Object.keys(expected)) {
      expectSameTree(a[k], (expected as Record<string, unknown>)[k], `${path}.${k}`);
    }
    return;
  }
  expect(Object.is(actual, expected), `${where}: ${String(actual)} vs ${String(expected)}`).toBe(
    true,
  );
}

const formats = [
  { name: "JSON", save: saveJSON, load: loadJSON },
  {
    name: "binary",
    save: saveBinary,
    load: (b: Uint8Array, t?: unknown) => loadBinary(b, t),
  },
] as const;

function roundTrip(fmt: (typeof formats)[number], tree: unknown, template?: unknown): any {
  return (fmt.load as (x: unknown, t?: unknown) => unknown)(fmt.save(tree), template);
}

/** Expects `f` to throw a SerializationError whose message contains every fragment. */
function expectError(f: () => unknown, ...fragments: string[]): SerializationError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a SerializationError").toBeInstanceOf(SerializationError);
  for (const frag of fragments) expect((err as Error).message).toContain(frag);
  return err as SerializationError;
}

/** No payload may have reached the shared prototypes. */
function expectNoPollution(): void {
  expect(({} as any).polluted).toBeUndefined();
  expect(([] as any).polluted).toBeUndefined();
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain("polluted");
}

afterEach(expectNoPollution);

/** Re-encodes the preamble and checksum around a header and data section (crafted files). */
function craftBinary(
  header: string | object,
  data: Uint8Array = new Uint8Array(0),
  opts: { version?: number; magic?: number[] } = {},
): Uint8Array {
  const h = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  return withHeaderBytes(h, data, opts);
}

function withHeaderBytes(
  h: Uint8Array,
  data: Uint8Array,
  opts: { version?: number; magic?: number[] } = {},
): Uint8Array {
  const start = Math.ceil((20 + h.length) / 8) * 8;
  const out = new Uint8Array(start + data.length);
  out.set(opts.magic ?? [0x4e, 0x47, 0x52, 0x44]);
  const v = new DataView(out.buffer);
  v.setUint32(4, opts.version ?? 1, true);
  v.setUint32(8, h.length, true);
  v.setUint32(12, data.length, true);
  out.set(h, 20);
  out.set(data, start);
  fixChecksum(out);
  return out;
}

/** Independent bitwise CRC-32 (no table), to recompute the checksum of a modified file. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function fixChecksum(file: Uint8Array): Uint8Array {
  if (file.length >= 20) {
    new DataView(file.buffer, file.byteOffset).setUint32(16, crc32(file.subarray(20)), true);
  }
  return file;
}

/** The header JSON and data section of a binary file. */
function splitBinary(file: Uint8Array): { header: any; data: Uint8Array } {
  const v = new DataView(file.buffer, file.byteOffset);
  const h = v.getUint32(8, true);
  const start = Math.ceil((20 + h) / 8) * 8;
  return {
    header: JSON.parse(new TextDecoder().decode(file.subarray(20, 20 + h))),
    data: file.slice(start),
  };
}

const tensorFile = (rec: object): string =>
  JSON.stringify({ format: "nestgrad", version: 1, tree: { w: { __tensor__: rec } } });

// ---------------------------------------------------------------------------------------
// Fixtures

/** Every dtype, scalars, empty tensors, special values and non-contiguous layouts. */
function richTree(): Record<string, unknown> {
  const base = ng.array(
    [
      [1.5, -2, 3e-300],
      [NaN, Infinity, -0],
    ],
    f64,
  );
  return {
    f32: ng.array([0.1, -0, NaN, -Infinity, 3.4e38, 1.4e-45]),
    f64: base,
    i32: ng.array([-(2 ** 31), 2 ** 31 - 1, 0, -1], { dtype: "int32" }),
    bool: ng.array([[true, false, true]], { dtype: "bool" }),
    scalars: [ng.array(Math.PI, f64), ng.array(7, { dtype: "int32" }), ng.array(true)],
    empty: [ng.zeros([0]), ng.zeros([2, 0, 3], f64), ng.zeros([0], { dtype: "bool" })],
    views: {
      transposed: base.T,
      flipped: ng.flip(ng.array([1, 2, 3, 4], { dtype: "int32" })),
      broadcast: ng.broadcastTo(ng.array([1, 2], f64), [3, 2]),
      flippedT: ng.flip(base.T, 0),
    },
    plain: {
      numbers: [0, -0, 1e-310, Number.MAX_VALUE, -Number.MIN_VALUE, NaN, Infinity, -Infinity],
      strings: ["", "héllo ✓ 🚀", "\ud800 lone surrogate", '"quoted"\n'],
      misc: [null, undefined, true, false, [], {}, [[]]],
      step: 42,
    },
    tricky: {
      constructor: { prototype: { polluted: "no, just data" } },
      toString: 1,
      "": "empty key",
      "a.b[0]": "odd key",
      marker: { __tensor__: 5 },
      marker2: { __object__: { __number__: "x" } },
      notMarker: { __tensor__: 1, other: 2 },
    },
  };
}

/** A small hand-built MLP (2 dense layers + dropout) with params, state and optimiser state. */
function smallModel(dtype: "float32" | "float64" = "float32") {
  const [k1, k2, k3] = ng.random.split(ng.random.key(0), 3);
  const ps = {
    layer_1: { weight: ng.random.normal(k1!, [3, 4], { dtype }), bias: ng.zeros([4], { dtype }) },
    layer_2: {},
    layer_3: { weight: ng.random.normal(k2!, [4, 2], { dtype }), bias: ng.ones([2], { dtype }) },
  };
  const st = { layer_1: {}, layer_2: { key: k3!, training: true }, layer_3: {} };
  const moments = (p: Tensor) => ({ m: ng.zerosLike(p), v: ng.onesLike(p).mul(0.5) });
  const optState = {
    step: 3,
    state: {
      layer_1: { weight: moments(ps.layer_1.weight), bias: moments(ps.layer_1.bias) },
      layer_2: {},
      layer_3: { weight: moments(ps.layer_3.weight), bias: moments(ps.layer_3.bias) },
    },
  };
  const apply = (x: Tensor, p: typeof ps) =>
    ng
      .tanh(x.matmul(p.layer_1.weight).add(p.layer_1.bias))
      .matmul(p.layer_3.weight)
      .add(p.layer_3.bias);
  return { ps, st, optState, apply };
}

// ---------------------------------------------------------------------------------------
// Round trips

describe.each(formats)("$name round trip", (fmt) => {
  it("is exact for every dtype, scalars, empty tensors, NaN/Inf/-0 and views", () => {
    const tree = richTree();
    const back = roundTrip(fmt, tree);
    expectSameTree(back, tree);
    // non-contiguous sources were stored in row-major order
    expect(back.views.transposed.toArray()).toEqual([
      [1.5, NaN],
      [-2, Infinity],
      [3e-300, -0],
    ]);
    expect(back.views.flipped.toArray()).toEqual([4, 3, 2, 1]);
    expect(back.views.broadcast.toArray()).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    expect(Object.is(back.f32.toArray()[1], -0)).toBe(true);
  });

  it("round-trips roots that are a tensor, a number, null, an array or a marker-like object", () => {
    for (const root of [ng.array(1.25), -0, NaN, null, undefined, "s", [], {}, { __number__: 1 }]) {
      expectSameTree(roundTrip(fmt, root), root);
    }
  });

  it("keeps the loaded tensors independent of the input buffer", () => {
    const t = { w: ng.array([1, 2, 3], f64) };
    const file = fmt.save(t);
    const back = (fmt.load as (x: unknown) => any)(file);
    if (file instanceof Uint8Array) file.fill(0);
    expect(back.w.toArray()).toEqual([1, 2, 3]);
  });

  it("is bitwise exact for random float32/float64/int32 data (property)", () => {
    fc.assert(
      fc.property(
        fc.float64Array({ maxLength: 20 }),
        fc.float32Array({ maxLength: 20 }),
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 20 }),
        (a, b, c) => {
          const tree = {
            a: ng.array(a, f64),
            b: ng.array(b),
            c: ng.array(c, { dtype: "int32" }),
            n: Array.from(a),
          };
          expectSameTree(roundTrip(fmt, tree), tree);
        },
      ),
      { numRuns: 100, seed: 4 },
    );
  });

  it("restores a hand-built model's params, state and optimiser state against a template", () => {
    const { ps, st, optState, apply } = smallModel();
    const saved = { ps, st, optState };
    const fresh = smallModel(); // a template like freshly set-up params
    const back = roundTrip(fmt, saved, { ps: fresh.ps, st: fresh.st, optState: fresh.optState });
    expectSameTree(back, saved);
    expect(back.st.layer_2.training).toBe(true);
    expect(back.st.layer_2.key.dtype).toBe("int32");
    const x = ng.array([
      [0.5, -1, 2],
      [0, 0.25, -0.75],
    ]);
    expect(tensorBytes(apply(x, back.ps))).toEqual(tensorBytes(apply(x, ps)));
  });

  it("orders keys like the template", () => {
    const tree = { b: ng.array([1]), a: { y: 1, x: ng.array([2]) } };
    const template = { a: { x: ng.array([0]), y: 0 }, b: ng.array([0]) };
    const back = roundTrip(fmt, tree, template);
    expect(Object.keys(back)).toEqual(["a", "b"]);
    expect(Object.keys(back.a)).toEqual(["x", "y"]);
    expect(back.a.x.toArray()).toEqual([2]);
  });
});

describe("formats", () => {
  it("is exposed as ng.train.*", () => {
    expect(ng.train.saveJSON).toBe(saveJSON);
    expect(ng.train.loadJSON).toBe(loadJSON);
    expect(ng.train.saveBinary).toBe(saveBinary);
    expect(ng.train.loadBinary).toBe(loadBinary);
    expect(ng.train.SerializationError).toBe(SerializationError);
  });

  it("writes the documented JSON envelope with base64 little-endian data", () => {
    const text = saveJSON({ w: ng.array([1, -0], f64), s: NaN, u: undefined });
    const parsed = JSON.parse(text);
    expect(parsed.format).toBe("nestgrad");
    expect(parsed.version).toBe(1);
    // 1.0 = 0x3FF0000000000000, -0 = 0x8000000000000000, little-endian
    const bytes = [0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x80];
    expect(parsed.tree.w).toEqual({
      __tensor__: {
        dtype: "float64",
        shape: [2],
        data: Buffer.from(bytes).toString("base64"),
      },
    });
    expect(parsed.tree.s).toEqual({ __number__: "NaN" });
    expect(parsed.tree.u).toEqual({ __undefined__: true });
  });

  it("writes the documented binary layout (magic, version, lengths, CRC, aligned data)", () => {
    const tree = {
      b: ng.array([true]),
      w: ng.array([1, 2], f64),
      i: ng.array([7], { dtype: "int32" }),
    };
    const file = saveBinary(tree);
    expect(Array.from(file.subarray(0, 4))).toEqual([0x4e, 0x47, 0x52, 0x44]);
    const v = new DataView(file.buffer, file.byteOffset);
    expect(v.getUint32(4, true)).toBe(1);
    const h = v.getUint32(8, true);
    const start = Math.ceil((20 + h) / 8) * 8;
    expect(start % 8).toBe(0);
    expect(v.getUint32(12, true)).toBe(file.length - start);
    expect(v.getUint32(16, true)).toBe(crc32(file.subarray(20)));
    const { header, data } = splitBinary(file);
    expect(header.tree.b.__tensor__).toEqual({ dtype: "bool", shape: [1], offset: 0 });
    expect(header.tree.w.__tensor__.offset).toBe(8); // aligned after the 1-byte bool
    expect(header.tree.i.__tensor__.offset).toBe(24);
    expect(new Float64Array(data.slice(8, 24).buffer)).toEqual(new Float64Array([1, 2]));
    expect(data.length).toBe(28);
  });

  it("reads hand-written JSON with number arrays as tensor data", () => {
    const text = JSON.stringify({
      format: "nestgrad",
      version: 1,
      tree: {
        a: { __tensor__: { dtype: "float32", shape: [2, 2], data: [0.1, 2, "NaN", "-Infinity"] } },
        b: { __tensor__: { dtype: "bool", shape: [3], data: [true, 0, 1] } },
        c: { __tensor__: { dtype: "int32", shape: [], data: [-5] } },
      },
    });
    const back = loadJSON(text);
    expect(back.a.dtype).toBe("float32");
    expect(Array.from(back.a.dataSync())).toEqual([Math.fround(0.1), 2, NaN, -Infinity]);
    expect(back.b.toArray()).toEqual([true, false, true]);
    expect(back.c.toArray()).toBe(-5);
    expectError(
      () => loadJSON(tensorFile({ dtype: "int32", shape: [1], data: [1.5] })),
      "at .w",
      "data[0] = number 1.5 is not a valid int32",
    );
    expectError(
      () => loadJSON(tensorFile({ dtype: "bool", shape: [1], data: [2] })),
      "not a valid bool",
    );
    expectError(
      () => loadJSON(tensorFile({ dtype: "float64", shape: [2], data: [1] })),
      "has 1 elements but float64 [2] needs 2",
    );
  });
});

// ---------------------------------------------------------------------------------------
// Templates

describe("template checks", () => {
  const { ps } = smallModel();
  const text = saveJSON(ps);
  const bin = saveBinary(ps);
  const loaders = [(t: unknown) => loadJSON(text, t), (t: unknown) => loadBinary(bin, t)];

  it("names the missing and the extra keys with their path", () => {
    for (const load of loaders) {
      const missing = { ...ps, layer_1: { ...ps.layer_1, scale: ng.ones([4]) } };
      expectError(() => load(missing), "at .layer_1", 'missing ["scale"]', "extra []");
      const { bias: _b, ...noBias } = ps.layer_3;
      expectError(() => load({ ...ps, layer_3: noBias }), "at .layer_3", 'extra ["bias"]');
    }
  });

  it("names the path, the expected and the actual shape and dtype", () => {
    for (const load of loaders) {
      const shape = { ...ps, layer_1: { ...ps.layer_1, weight: ng.zeros([4, 3]) } };
      expectError(() => load(shape), "at .layer_1.weight", "float32 [4, 3]", "float32 [3, 4]");
      const dtype = { ...ps, layer_3: { ...ps.layer_3, bias: ng.zeros([2], f64) } };
      const e = expectError(() => load(dtype), "at .layer_3.bias", "float64 [2]", "float32 [2]");
      expect(e.path).toBe(".layer_3.bias");
    }
  });

  it("checks leaf kinds and array lengths", () => {
    const tree = { step: 3, training: true, list: [ng.array([1]), 2], name: "adam" };
    const file = saveJSON(tree);
    expectError(
      () => loadJSON(file, { ...tree, step: ng.array(3) }),
      "at .step",
      "expected a Tensor",
      "a number",
    );
    expectError(
      () => loadJSON(file, { ...tree, training: 1 }),
      "at .training",
      "expected a number",
      "a boolean",
    );
    expectError(
      () => loadJSON(file, { ...tree, list: [2, ng.array([1])] }),
      "at .list[0]",
      "expected a number",
      "a Tensor",
    );
    expectError(
      () => loadJSON(file, { ...tree, list: [ng.array([1])] }),
      "at .list",
      "array of length 1 vs 2",
    );
    expectError(() => loadJSON(file, { ...tree, name: {} }), "at .name");
    expect(loadJSON(file, tree).name).toBe("adam");
  });
});

// ---------------------------------------------------------------------------------------
// Validation of bad and hostile files

describe("loadJSON validation", () => {
  const good = { format: "nestgrad", version: 1, tree: { a: 1 } };
  const file = (over: object) => JSON.stringify({ ...good, ...over });

  it("rejects non-JSON, foreign JSON, other versions and unknown envelope keys", () => {
    expectError(() => loadJSON("{"), "not valid JSON");
    expectError(() => loadJSON("[1,2]"), "not a nestgrad file");
    expectError(() => loadJSON(file({ format: "other" })), "not a nestgrad file");
    expectError(() => loadJSON(file({ version: 2 })), "unsupported version number 2");
    expectError(() => loadJSON(file({ extra: 1 })), 'unexpected ["extra"]');
    expectError(
      () => loadJSON(JSON.stringify({ format: "nestgrad", version: 1 })),
      'missing ["tree"]',
    );
    expect(() => loadJSON(42 as any)).toThrow(TypeError);
  });

  it("rejects bad tensor records with the path", () => {
    const rec = { dtype: "float32", shape: [2], data: "AAAAAAAAAAA=" };
    expect(loadJSON(tensorFile(rec)).w.toArray()).toEqual([0, 0]);
    expectError(
      () => loadJSON(tensorFile({ ...rec, dtype: "float16" })),
      "at .w",
      'unknown dtype string "float16"',
    );
    expectError(
      () => loadJSON(tensorFile({ ...rec, shape: [-2] })),
      "at .w",
      "shape[0] must be an integer",
    );
    expectError(() => loadJSON(tensorFile({ ...rec, shape: [2.5] })), "shape[0]");
    expectError(() => loadJSON(tensorFile({ ...rec, shape: "2" })), "shape must be an array");
    expectError(() => loadJSON(tensorFile({ ...rec, shape: [2 ** 31, 2 ** 31] })), "shape[0]");
    expectError(() => loadJSON(tensorFile({ ...rec, shape: [2 ** 30, 2 ** 30] })), "more than");
    expectError(
      () => loadJSON(tensorFile({ ...rec, shape: new Array(33).fill(1) })),
      "33 dimensions",
    );
    expectError(
      () => loadJSON(tensorFile({ ...rec, shape: [3] })),
      "has 8 bytes but float32 [3] needs 12",
    );
    expectError(() => loadJSON(tensorFile({ ...rec, data: "AAAA*AAAAAA=" })), "not valid base64");
    expectError(() => loadJSON(tensorFile({ ...rec, data: "AAAAAAAAAAB=" })), "not valid base64");
    expectError(() => loadJSON(tensorFile({ ...rec, data: 5 })), "base64 string or an array");
    expectError(() => loadJSON(tensorFile({ ...rec, extra: 1 })), 'unexpected ["extra"]');
    expectError(() => loadJSON(tensorFile({ dtype: "float32", shape: [2] })), 'missing ["data"]');
    expectError(
      () => loadJSON(tensorFile({ dtype: "bool", shape: [2], data: "AQI=" })),
      "bool element 1 holds byte 2",
    );
    expectError(
      () => loadJSON(file({ tree: { x: { __tensor__: [1] } } })),
      "at .x",
      "must be an object",
    );
  });

  it("rejects bad markers and caps the nesting depth", () => {
    expectError(() => loadJSON(file({ tree: { n: { __number__: "1" } } })), "at .n", "__number__");
    expectError(() => loadJSON(file({ tree: { n: { __number__: "__proto__" } } })), "__number__");
    expectError(() => loadJSON(file({ tree: [{ __undefined__: 1 }] })), "at [0]", "__undefined__");
    expectError(() => loadJSON(file({ tree: { __object__: 3 } })), "__object__");
    let deep: unknown = 1;
    for (let i = 0; i < MAX_DEPTH + 5; i++) deep = [deep];
    expectError(() => loadJSON(file({ tree: deep })), `deeper than ${MAX_DEPTH}`);
    const veryDeep = `{"format":"nestgrad","version":1,"tree":${"[".repeat(200000)}${"]".repeat(200000)}}`;
    expectError(() => loadJSON(veryDeep), `deeper than ${MAX_DEPTH}`);
  });
});

describe("loadBinary validation", () => {
  const tree = { a: ng.array([1, 2, 3], f64), b: { c: ng.array([true, false]) } };
  const file = saveBinary(tree);
  const { header, data } = splitBinary(file);

  it("accepts the crafted copy of a valid file (the helper matches the writer)", () => {
    expect(Array.from(craftBinary(header, data))).toEqual(Array.from(file));
    expectSameTree(loadBinary(file.buffer.slice(0) as ArrayBuffer), tree);
  });

  it("rejects bad magic, versions, truncation, trailing bytes and checksum errors", () => {
    expectError(
      () => loadBinary(craftBinary(header, data, { magic: [1, 2, 3, 4] })),
      'magic bytes are not "NGRD"',
    );
    expectError(() => loadBinary(new TextEncoder().encode("{}")), "truncated");
    expectError(() => loadBinary(new TextEncoder().encode('{"format": 1, "x": 2}')), "magic bytes");
    expectError(() => loadBinary(new TextEncoder().encode("abcdef")), "magic bytes");
    expectError(
      () => loadBinary(craftBinary(header, data, { version: 2 })),
      "unsupported version 2",
    );
    for (let n = 0; n < file.length; n++) {
      expectError(() => loadBinary(file.subarray(0, n)), "truncated");
    }
    const longer = new Uint8Array(file.length + 3);
    longer.set(file);
    expectError(() => loadBinary(longer), "3 unexpected bytes");
    const flipped = file.slice();
    flipped[file.length - 1]! ^= 0x40;
    expectError(() => loadBinary(flipped), "checksum mismatch", "corrupted");
    expect(() => loadBinary([1, 2] as any)).toThrow(TypeError);
  });

  it("rejects hostile headers even with a valid checksum", () => {
    const rec = (r: object) => ({ tree: { a: { __tensor__: r } } });
    const okRec = { dtype: "float64", shape: [3], offset: 0 };
    const d24 = new Uint8Array(24);
    expect(loadBinary(craftBinary(rec(okRec), d24)).a.toArray()).toEqual([0, 0, 0]);
    expectError(
      () => loadBinary(craftBinary(rec({ ...okRec, offset: 8 }), d24)),
      "at .a",
      "needs bytes [8, 32)",
      "has 24 bytes",
    );
    expectError(
      () => loadBinary(craftBinary(rec({ ...okRec, offset: -8 }), d24)),
      "non-negative multiple of 8",
    );
    expectError(() => loadBinary(craftBinary(rec({ ...okRec, offset: 4 }), d24)), "multiple of 8");
    expectError(
      () => loadBinary(craftBinary(rec({ ...okRec, offset: 2 ** 40 }), d24)),
      "needs bytes",
    );
    expectError(
      () => loadBinary(craftBinary(rec({ ...okRec, offset: "0" }), d24)),
      "offset must be",
    );
    expectError(
      () => loadBinary(craftBinary(rec({ ...okRec, shape: [4] }), d24)),
      "float64 [4] needs bytes [0, 32)",
    );
    expectError(
      () => loadBinary(craftBinary(rec({ ...okRec, shape: [2 ** 31 - 1, 2 ** 31 - 1] }), d24)),
      "more than",
    );
    expectError(
      () => loadBinary(craftBinary(rec({ ...okRec, dtype: "complex64" }), d24)),
      'unknown dtype string "complex64"',
    );
    expectError(
      () => loadBinary(craftBinary(rec({ ...okRec, data: "" }), d24)),
      'unexpected ["data"]',
    );
    const two = {
      tree: [
        { __tensor__: { dtype: "int32", shape: [4], offset: 0 } },
        { __tensor__: { dtype: "int32", shape: [1], offset: 8 } },
      ],
    };
    expectError(
      () => loadBinary(craftBinary(two, new Uint8Array(24))),
      "at [1]",
      "overlaps the previous tensor",
    );
    expectError(() => loadBinary(craftBinary({ tree: 1, more: 2 })), 'unexpected ["more"]');
    expectError(() => loadBinary(craftBinary("{not json")), "not valid UTF-8 JSON");
    expectError(
      () => loadBinary(withHeaderBytes(new Uint8Array([0x22, 0xff, 0x22]), d24)),
      "not valid UTF-8 JSON",
    );
    expectError(
      () =>
        loadBinary(craftBinary(rec({ dtype: "bool", shape: [1], offset: 0 }), new Uint8Array([7]))),
      "holds byte 7",
    );
    // non-zero padding between the header and the data section
    const padded = craftBinary({ tree: 1 }, new Uint8Array(0));
    padded[padded.length - 1] = 1;
    expectError(() => loadBinary(fixChecksum(padded)), "non-zero padding");
  });
});

// ---------------------------------------------------------------------------------------
// Prototype pollution

describe("prototype pollution", () => {
  const envelope = (tree: string) => `{"format":"nestgrad","version":1,"tree":${tree}}`;
  const payloads = [
    '{"__proto__":{"polluted":"yes"}}',
    '{"a":{"b":{"__proto__":{"polluted":"yes"}}}}',
    '[{"__proto__":{"polluted":"yes"}}]',
    '{"__object__":{"__proto__":{"polluted":"yes"}}}',
    '{"w":{"__tensor__":{"dtype":"float32","shape":[0],"data":"","__proto__":{"polluted":1}}}}',
  ];

  it("rejects __proto__ keys anywhere in JSON files, naming the path", () => {
    for (const p of payloads) {
      expectError(() => loadJSON(envelope(p)), "__proto__");
      expectNoPollution();
    }
    expectError(() => loadJSON(envelope('{"a":{"__proto__":{"polluted":1}}}')), "at .a.__proto__");
    // at the envelope level: an own "__proto__" key is not part of the format
    expectError(
      () => loadJSON('{"__proto__":{"polluted":1},"format":"nestgrad","version":1,"tree":1}'),
      "__proto__",
    );
  });

  it("rejects __proto__ keys in binary headers (valid checksum)", () => {
    for (const p of payloads.slice(0, 4)) {
      expectError(() => loadBinary(craftBinary(`{"tree":${p}}`)), "__proto__");
      expectError(
        () => loadBinary(craftBinary(`{"__proto__":{"polluted":1},"tree":1}`)),
        "__proto__",
      );
    }
  });

  it("keeps constructor/prototype keys as plain data without touching prototypes", () => {
    const text = envelope(
      '{"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},"hasOwnProperty":1}',
    );
    for (const back of [loadJSON(text), loadBinary(saveBinary(loadJSON(text)))]) {
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(Object.keys(back)).toEqual(["constructor", "prototype", "hasOwnProperty"]);
      expect(back.constructor.prototype.polluted).toBe("yes");
      expect(Object.getPrototypeOf(back.constructor)).toBe(Object.prototype);
      expectNoPollution();
    }
  });

  it("refuses to save an own __proto__ key", () => {
    const hostile = JSON.parse('{"__proto__":{"polluted":1}}');
    expectError(() => saveJSON({ x: hostile }), "at .x.__proto__");
    expectError(() => saveBinary(hostile), "__proto__");
  });
});

describe("save errors", () => {
  it("names the path of unsupported leaves, cycles and excessive depth", () => {
    expectError(() => saveJSON({ a: [1, new Map()] }), "at .a[1]", "class Map");
    expectError(() => saveBinary({ f: () => 1 }), "at .f", "cannot save function");
    expectError(() => saveJSON({ n: 1n }), "at .n", "bigint");
    const cyc: any = { a: { b: [] } };
    cyc.a.b.push(cyc);
    expectError(() => saveJSON(cyc), "at .a.b[0]", "cycle");
    let deep: unknown = 1;
    for (let i = 0; i < MAX_DEPTH + 1; i++) deep = { d: deep };
    expectError(() => saveBinary(deep), `deeper than ${MAX_DEPTH}`);
    // a shared (non-cyclic) subtree is fine
    const shared = ng.array([1]);
    const s = { x: { t: shared }, y: { t: shared } };
    expectSameTree(loadJSON(saveJSON(s)), s);
  });

  it("refuses abstract tensors under staging", () => {
    expect(() =>
      ng.makeIR((x: Tensor) => {
        saveJSON({ x });
        return x;
      })(ng.array([1])),
    ).toThrow(/saveJSON: at \.x: cannot save an abstract tensor/);
  });
});

// ---------------------------------------------------------------------------------------
// Fuzzing: corrupted files load to a tree of the template's structure or throw a
// SerializationError; never another exception, never a hang, never pollution.

describe("fuzzing", () => {
  const { ps, st, optState } = smallModel();
  const tree = { ps, st, optState, misc: [NaN, "s", null, { __tensor__: 1 }] };
  const binFile = saveBinary(tree);
  const jsonText = saveJSON(tree);

  /** Loads with and without the template and checks the outcome. */
  const outcomes = { loaded: 0, rejected: 0 };
  function check(load: (template?: unknown) => unknown): void {
    for (const template of [undefined, tree]) {
      let out: unknown;
      try {
        out = load(template);
      } catch (e) {
        if (!(e instanceof SerializationError)) throw e;
        expect(e.message.length).toBeGreaterThan(0);
        outcomes.rejected++;
        continue;
      }
      outcomes.loaded++;
      // a result is a valid tree: it can be saved again ...
      expect(() => saveJSON(out)).not.toThrow();
      // ... and with a template it has the template's structure, shapes and dtypes
      if (template !== undefined) {
        const [la, da] = ng.tree.flatten(out);
        const [lt, dt] = ng.tree.flatten(template);
        expect(ng.tree.structureDifference(dt, da)).toBeNull();
        lt.forEach((t, i) => {
          if (t instanceof ng.Tensor) {
            expect((la[i] as Tensor).shape).toEqual(t.shape);
            expect((la[i] as Tensor).dtype).toBe(t.dtype);
          }
        });
      }
    }
    expectNoPollution();
  }

  /** Runs a fuzz property and checks that both outcomes occurred (the fuzzing bites). */
  function fuzz(
    prop: fc.IRawProperty<any>,
    seed: number,
    numRuns = 400,
    bothOutcomes = true,
  ): void {
    outcomes.loaded = outcomes.rejected = 0;
    fc.assert(prop, { numRuns, seed });
    expect(outcomes.rejected).toBeGreaterThan(0);
    if (bothOutcomes) expect(outcomes.loaded).toBeGreaterThan(0);
  }

  const flips = (n: number) =>
    fc.array(fc.tuple(fc.nat({ max: n - 1 }), fc.integer({ min: 1, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    });

  it("binary: random byte flips and truncations (the checksum catches them)", () => {
    const prop = fc.property(flips(binFile.length), fc.nat({ max: binFile.length }), (fl, cut) => {
      const bad = binFile.slice(0, cut);
      for (const [i, x] of fl) if (i < bad.length) bad[i]! ^= x;
      check((t) => loadBinary(bad, t));
    });
    fuzz(prop, 1, 300, false);
  });

  it("binary: random byte flips with the checksum recomputed (crafted files)", () => {
    const prop = fc.property(flips(binFile.length), (fl) => {
      const bad = binFile.slice();
      for (const [i, x] of fl) bad[i]! ^= x;
      check((t) => loadBinary(fixChecksum(bad), t));
    });
    fuzz(prop, 2);
  });

  it("binary: flips confined to the header with the checksum recomputed", () => {
    const h = new DataView(binFile.buffer).getUint32(8, true);
    const prop = fc.property(flips(h), (fl) => {
      const bad = binFile.slice();
      for (const [i, x] of fl) bad[20 + i]! ^= x;
      check((t) => loadBinary(fixChecksum(bad), t));
    });
    fuzz(prop, 3);
  });

  it("JSON: random character edits", () => {
    const chars = fc.constantFrom(...'{}[]",:0123456789-.eE_atrufnlsx \\/=+');
    const edit = fc.tuple(
      fc.nat({ max: jsonText.length - 1 }),
      fc.constantFrom("set", "ins", "del"),
      chars,
    );
    const prop = fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
      let s = jsonText;
      for (const [i, op, c] of edits) {
        const j = Math.min(i, s.length);
        const rest = op === "ins" ? s.slice(j) : s.slice(j + 1);
        s = s.slice(0, j) + (op === "del" ? "" : c) + rest;
      }
      check((t) => loadJSON(s, t));
    });
    fuzz(prop, 5);
  });

  it("JSON: random structural mutations, hostile keys and values included", () => {
    const hostileKey = fc.constantFrom(
      "__proto__",
      "constructor",
      "prototype",
      "__tensor__",
      "__object__",
      "__number__",
      "__undefined__",
    );
    const anyKey = fc.oneof(hostileKey, fc.string({ maxLength: 5 }));
    const hostileValue = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(anyKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      fc.record({
        dtype: fc.constantFrom("float32", "float64", "int32", "bool", "x"),
        shape: fc.array(fc.integer({ min: -2, max: 2 ** 32 }), { maxLength: 3 }),
        data: fc.oneof(fc.base64String(), fc.array(fc.jsonValue({ maxDepth: 0 }))),
      }),
    );
    // every node of the parsed file, as a path of keys from the root
    const paths: string[][] = [];
    const collect = (x: unknown, p: string[]) => {
      paths.push(p);
      if (x !== null && typeof x === "object") {
        for (const [k, v] of Object.entries(x)) collect(v, [...p, k]);
      }
    };
    collect(JSON.parse(jsonText), []);
    const setOwn = (o: object, k: string, value: unknown) =>
      Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true });
    const prop = fc.property(
      fc.nat({ max: paths.length - 1 }),
      anyKey,
      hostileValue,
      fc.boolean(),
      (pi, key, value, addKey) => {
        const root = JSON.parse(jsonText);
        const p = paths[pi]!;
        const node = p.reduce((o: any, k) => o[k], root);
        if (p.length === 0 || (addKey && node !== null && typeof node === "object")) {
          setOwn(Array.isArray(node) ? root : node, key, value); // add a key
        } else {
          setOwn(
            p.slice(0, -1).reduce((o: any, k) => o[k], root),
            p[p.length - 1]!,
            value,
          );
        }
        check((t) => loadJSON(JSON.stringify(root), t));
      },
    );
    fuzz(prop, 6);
  });
});
