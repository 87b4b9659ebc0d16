// Buffer recycling in the eager backward pass (core/transpose.ts): gradients are bitwise
// the same with the pool on and off, across transforms and on programs whose cotangents
// flow through views; no buffer is reused while something still references it (gradients
// held across later calls keep their values, cotangents a custom rule kept are left
// alone); the pool is really used in steady state; the hook is scoped and invisible.
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import { ConcreteTensor } from "../src/core/tensor.js";
import { swapAllocationHook } from "../src/tensor/alloc_hook.js";
import type { DataArray, DType } from "../src/tensor/dtype.js";
import {
  clearEagerPool,
  eagerPoolStats,
  POOL_MIN_SIZE,
  setEagerPool,
  type EagerPoolSettings,
} from "../src/core/transpose.js";
import { buildProgram, describeProgram, makeInputs, programArbitrary } from "./fuzz/programs.js";

type T = ng.Tensor;
type Dt = "float32" | "float64";

const OFF: EagerPoolSettings = { enabled: false };
const ON: EagerPoolSettings = { enabled: true, minSize: POOL_MIN_SIZE };
/** Every array recycled, however small: the strictest setting for safety checks. */
const ALL: EagerPoolSettings = { enabled: true, minSize: 1 };

function withPool<R>(settings: EagerPoolSettings, fn: () => R): R {
  const prev = setEagerPool(settings);
  try {
    return fn();
  } finally {
    setEagerPool(prev);
  }
}

let saved: Required<EagerPoolSettings>;
beforeEach(() => {
  saved = setEagerPool({});
});
afterEach(() => {
  setEagerPool(saved);
});

/** The exact bytes of a tensor's values (row-major), with its dtype and shape. */
interface Snap {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}
function snap(t: T): Snap {
  const d = t.dataSync(); // a copy
  return { dtype: t.dtype, shape: [...t.shape], bytes: new Uint8Array(d.buffer) };
}
const snaps = (ts: unknown): Snap[] => leaves(ts).map(snap);

/** Bitwise equality of two lists of snapshots (a plain loop: deep equality of long arrays is slow). */
function expectSame(got: Snap[], want: Snap[], what = ""): void {
  expect(got.length, what).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect([g.dtype, g.shape], `${what} value ${i}`).toEqual([w.dtype, w.shape]);
    let k = 0;
    while (k < w.bytes.length && g.bytes[k] === w.bytes[k]) k++;
    expect(k === w.bytes.length ? -1 : k, `${what} value ${i}: first differing byte`).toBe(-1);
  });
}

function leaves(x: unknown): T[] {
  if (x instanceof ng.Tensor) return [x];
  if (Array.isArray(x)) return x.flatMap(leaves);
  if (x !== null && typeof x === "object") return Object.values(x).flatMap(leaves);
  return [];
}

/** Deterministic values in [-scale, scale]. */
function values(shape: number[], seed: number, dtype: Dt, scale = 1): T {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = scale * Math.sin(1.37 * i + 0.71 * seed + 0.3);
  return ng.array(new ng.NDArray(data, shape));
}

/** tanh MLP with a linear last layer; params [W1, b1, W2, b2, ...]. */
function mlp(ps: T[], x: T): T {
  let h = x;
  for (let i = 0; i < ps.length; i += 2) {
    h = ng.add(ng.matmul(h, ps[i]!), ps[i + 1]!);
    if (i + 2 < ps.length) h = ng.tanh(h);
  }
  return h;
}

function mlpProblem(dims: number[], n: number, dtype: Dt, seed = 0) {
  const ps: T[] = [];
  for (let i = 0; i + 1 < dims.length; i++) {
    ps.push(values([dims[i]!, dims[i + 1]!], seed + 10 * i, dtype, 1 / Math.sqrt(dims[i]!)));
    ps.push(values([dims[i + 1]!], seed + 10 * i + 5, dtype, 0.1));
  }
  const x = values([n, dims[0]!], seed + 101, dtype);
  const y = values([n, dims[dims.length - 1]!], seed + 202, dtype);
  const loss = (q: T[]) => ng.mean(ng.square(ng.sub(mlp(q, x), y)));
  return { ps, x, y, loss };
}

/** Runs `fn` with the pool off, then on (twice: the second time on recycled memory); all bitwise equal. */
function expectSameBits(fn: () => unknown, on: EagerPoolSettings = ON): void {
  const ref = withPool(OFF, () => snaps(fn()));
  for (let k = 0; k < 2; k++)
    expectSame(
      withPool(on, () => snaps(fn())),
      ref,
      `pool on, run ${k}`,
    );
}

/** The underlying typed array of a concrete tensor. */
const dataOf = (t: T) => (t as ConcreteTensor).value.data;

describe("eager backward pass: buffer pool", () => {
  it("MLP gradients are bitwise equal with the pool on and off, and the pool is used", () => {
    for (const dtype of ["float32", "float64"] as const) {
      // activations 256×128 and the W2 gradient 128×128 are at or above the threshold
      const { ps, loss } = mlpProblem([16, 128, 128, 1], 256, dtype);
      expect(256 * 128).toBeGreaterThanOrEqual(POOL_MIN_SIZE);
      const before = eagerPoolStats();
      expectSameBits(() => ng.grad(loss)(ps));
      expectSameBits(() => {
        const [out, pullback] = ng.vjp(loss, ps);
        return [out, pullback(ng.onesLike(out as T))];
      });
      const after = eagerPoolStats();
      expect(after.passes).toBeGreaterThan(before.passes);
      expect(after.hits).toBeGreaterThan(before.hits);
      expect(after.released).toBeGreaterThan(before.released);
    }
  });

  it("jacrev, hvp, grad of grad and vmap of grad are bitwise equal with the pool on and off", () => {
    const { ps, x, y } = mlpProblem([16, 128, 128, 1], 256, "float64", 3);
    // two outputs: jacrev pulls back twice
    const two = (q: T[]) => {
      const out = mlp(q, x);
      return ng.stack([ng.mean(out), ng.mean(ng.square(ng.sub(out, y)))]);
    };
    expectSameBits(() => ng.jacrev(two)(ps));
    const loss = (q: T[]) => ng.mean(ng.square(ng.sub(mlp(q, x), y)));
    const v = ps.map((p, i) => values([...p.shape], 50 + i, "float64"));
    expectSameBits(() => ng.hvp(loss, ps, v));
    // reverse over reverse: the outer pass is eager, the inner one runs under its trace
    const gradNormSq = (q: T[]) =>
      (ng.grad(loss)(q) as T[]).map((g) => ng.sum(ng.square(g))).reduce((a, b) => ng.add(a, b));
    expectSameBits(() => ng.grad(gradNormSq)(ps));
    // input gradient of the per-example loss, vmapped over a batch of 8
    const perExample = (xi: T) => ng.sum(ng.square(mlp(ps, ng.reshape(xi, [1, 16]))));
    const xs = values([8, 16], 9, "float64");
    expectSameBits(() => ng.vmap(ng.grad(perExample))(xs));
    // and the input gradient of the whole batch (an eager pass over [256, 16] cotangents)
    expectSameBits(() => ng.grad((z: T) => ng.sum(ng.tanh(mlp(ps, z))))(x));
  });

  it("cotangents that flow through views (reshape, transpose, slice, broadcast, pad, ...) give the same bits", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = values([128, 256], 1, dtype); // 32768 elements
      const w = values([256, 128], 2, dtype);
      const c = values([256], 3, dtype);
      const idx = ng.array(
        Array.from({ length: 200 }, (_, i) => (i * 37) % 128),
        { dtype: "int32" },
      );
      const f = (a: T) => {
        const t = ng.transpose(a); // [256, 128]
        const r = ng.reshape(t, [128, 256]);
        const s = ng.slice(a, [
          { start: 1, stop: 127, step: 2 },
          { start: -1, step: -1 },
        ]);
        const b = ng.broadcastTo(ng.sum(a, 1, true), [128, 256]);
        const twice = ng.add(a, a); // add's transpose: one value for both inputs
        const p = ng.pad(ng.mul(a, a), [
          [2, 3],
          [0, 1],
        ]);
        const cat = ng.concatenate([a, ng.flip(a, 0)], { axis: 1 });
        const tk = ng.take(a, idx, 0);
        return ng.add(
          ng.add(
            ng.add(ng.sum(ng.mul(t, w)), ng.sum(ng.tanh(r))),
            ng.add(ng.sum(ng.square(s)), ng.sum(ng.mul(b, twice))),
          ),
          ng.add(
            ng.add(ng.sum(ng.sin(p)), ng.mean(ng.square(cat))),
            ng.add(ng.sum(ng.mul(tk, c)), ng.sum(ng.mul(ng.reshape(a, [256, 128]), w))),
          ),
        );
      };
      expectSameBits(() => ng.grad(f)(x));
      expectSameBits(() => ng.grad(f)(x), ALL);
    }
  });

  it("never reuses a buffer that is still referenced: held gradients keep their values", () => {
    for (const settings of [ON, ALL]) {
      withPool(settings, () => {
        const { ps: init, loss } = mlpProblem([16, 128, 128, 1], 256, "float32", 7);
        let ps = init;
        const held: { grads: T[]; snap: Snap[] }[] = [];
        for (let step = 0; step < 6; step++) {
          const grads = ng.grad(loss)(ps) as T[];
          held.push({ grads, snap: snaps(grads) });
          ps = ps.map((p, i) => ng.sub(p, ng.mul(0.1, grads[i]!)));
        }
        // every gradient handed out is unchanged by the later steps...
        for (const h of held) expectSame(snaps(h.grads), h.snap, "a held gradient");
        // ...and no two steps' gradients share memory
        const owner = new Map<ArrayBufferLike, number>();
        held.forEach((h, step) => {
          for (const g of h.grads) {
            const mem = dataOf(g).buffer;
            expect(owner.get(mem) ?? step).toBe(step);
            owner.set(mem, step);
          }
        });
      });
    }
  });

  it("fuzz: random programs give bitwise equal gradients with every array recycled and with the pool off", () => {
    fc.assert(
      fc.property(programArbitrary({ maxSteps: 5 }), (spec) => {
        const f = buildProgram(spec);
        const xs = makeInputs(spec);
        const run = () => {
          const [out, pullback] = ng.vjp((a: T[]) => f(a), xs);
          const ct = values([...(out as T).shape], spec.seed, "float64");
          return pullback(ct);
        };
        let ref: Snap[];
        try {
          ref = withPool(OFF, () => snaps(run()));
        } catch (e) {
          // not a valid program at this point (e.g. a shape it cannot take): same error with the pool on
          const msg = (e as Error).message;
          expect(() => withPool(ALL, run)).toThrow(msg);
          return;
        }
        const held = withPool(ALL, () => [run(), run(), run()]);
        const first = held.map((h) => snaps(h));
        const text = describeProgram(spec);
        for (const s of first) expectSame(s, ref, text);
        // results of earlier calls were not overwritten by later ones
        held.forEach((h, i) => expectSame(snaps(h), first[i]!, text));
      }),
      { numRuns: 40 },
    );
  });

  it("in a training-like loop the pool serves every temporary in steady state: hits grow, misses stop", () => {
    // activations 512×32 are recycled; the gradients handed out (32×32 and smaller) are not
    const { ps: init, loss } = mlpProblem([16, 32, 32, 1], 512, "float32", 11);
    clearEagerPool();
    let ps = init;
    const step = () => {
      const grads = ng.grad(loss)(ps) as T[];
      ps = ps.map((p, i) => ng.sub(p, ng.mul(0.05, grads[i]!)));
    };
    withPool(ON, () => {
      for (let i = 0; i < 3; i++) step();
      const warm = eagerPoolStats();
      for (let i = 0; i < 5; i++) step();
      const end = eagerPoolStats();
      expect(end.misses).toBe(warm.misses);
      expect(end.hits - warm.hits).toBeGreaterThanOrEqual(5 * 3);
      expect(end.released - warm.released).toBe(end.hits - warm.hits);
      expect(end.dropped).toBe(warm.dropped);
    });
  });

  it("hands out ordinary arrays: a gradient in a larger pooled buffer is copied out", () => {
    // W2 is 136×136 = 18496 elements, whose size class is 24576
    const { ps, loss } = mlpProblem([16, 136, 136, 1], 200, "float32", 5);
    const ref = withPool(OFF, () => ng.grad(loss)(ps) as T[]);
    const before = eagerPoolStats();
    const got = withPool(ON, () => ng.grad(loss)(ps) as T[]);
    expect(eagerPoolStats().copiedOut).toBeGreaterThan(before.copiedOut);
    expectSame(snaps(got), snaps(ref));
    for (const g of [...ref, ...got]) {
      const d = dataOf(g);
      expect(d.byteOffset).toBe(0);
      expect(d.byteLength).toBe(d.buffer.byteLength);
    }
  });

  it("leaves alone the cotangents a customVjp rule has seen, and nests a backward pass inside one", () => {
    const n = 4 * POOL_MIN_SIZE;
    const seen: { ct: T; snap: Snap }[] = [];
    const keep = ng.customVjp(
      (a: T) => ng.mul(a, 1),
      (a: T) => [ng.mul(a, 1), [a]] as [T, T[]],
      (res: T[], ct: T) => {
        seen.push({ ct, snap: snap(ct) }); // a user function may keep what it is given
        // a backward pass inside this backward pass
        const inner = ng.grad((z: T) => ng.sum(ng.mul(ng.tanh(z), ct)))(res[0]!) as T;
        return [ng.add(ng.mul(ct, 2), inner)];
      },
    );
    const x = values([n], 4, "float32");
    const f = (a: T) => ng.sum(ng.square(ng.sin(keep(ng.mul(ng.cos(a), 3)))));
    expectSameBits(() => ng.grad(f)(x), ALL);
    expectSameBits(() => ng.grad(f)(x));
    // more passes recycle memory; what the rule kept never changes
    for (let i = 0; i < 3; i++) withPool(ALL, () => ng.grad((a: T) => ng.sum(ng.exp(a)))(x));
    for (const s of seen) expectSame([snap(s.ct)], [s.snap], "a cotangent bwd kept");
  });

  it("scopes the hook to the pass: allocations outside it are fresh and zeroed", () => {
    const { ps, loss } = mlpProblem([16, 128, 128, 1], 256, "float32", 2);
    withPool(ON, () => {
      for (let i = 0; i < 2; i++) ng.grad(loss)(ps);
      const before = eagerPoolStats();
      expect(before.buffers).toBeGreaterThan(0);
      const a = ng.nd.allocate("float32", 256 * 128);
      const b = ng.nd.allocateUninit("float32", 256 * 128);
      const z = ng.zeros([256, 128]);
      const m = ng.matmul(values([256, 16], 1, "float32"), ps[0]!);
      expect(eagerPoolStats()).toEqual(before);
      expect(a.every((v) => v === 0) && b.every((v) => v === 0)).toBe(true);
      expect(z.dataSync().every((v) => v === 0)).toBe(true);
      for (const t of [a, b, dataOf(z), dataOf(m)]) {
        expect(t.byteLength).toBe(t.buffer.byteLength);
      }
    });
  });

  it("an error inside the pass leaves no hook behind", () => {
    const x = values([4 * POOL_MIN_SIZE], 8, "float32");
    const bad = ng.customVjp(
      (a: T) => ng.mul(a, 1),
      (a: T) => [ng.mul(a, 1), []] as [T, T[]],
      () => {
        throw new Error("bwd failed");
      },
    );
    withPool(ON, () => {
      expect(() => ng.grad((a: T) => ng.sum(bad(ng.exp(a))))(x)).toThrow("bwd failed");
      const before = eagerPoolStats();
      ng.nd.allocate("float32", 4 * POOL_MIN_SIZE);
      expect(eagerPoolStats()).toEqual(before);
    });
  });

  it("does not change what ng.memory reports", () => {
    const { ps, loss } = mlpProblem([16, 128, 128, 1], 256, "float32", 6);
    const measure = () => {
      const m = ng.memory.measure(() => ng.grad(loss)(ps));
      return { peak: m.peakBytes, retained: m.retainedBytes, n: m.linearizations.length };
    };
    const off = withPool(OFF, measure);
    expect(withPool(ON, measure)).toEqual(off);
    expect(withPool(ALL, measure)).toEqual(off);
    expect(off.peak).toBeGreaterThan(0);
    expect(off.retained).toBe(0);
  });

  it("rejects bad settings, naming the argument", () => {
    expect(() => setEagerPool({ enabld: true } as EagerPoolSettings)).toThrow(
      /setEagerPool: unknown option "enabld" in settings; did you mean "enabled"\?/,
    );
    expect(() => setEagerPool({ enabled: 1 } as unknown as EagerPoolSettings)).toThrow(
      "setEagerPool: settings.enabled: expected a boolean, got number 1",
    );
    expect(() => setEagerPool({ minSize: 0 })).toThrow(
      "setEagerPool: settings.minSize: expected an integer ≥ 1, got number 0",
    );
    expect(() => setEagerPool({ minSize: 1.5 })).toThrow(/minSize: expected an integer ≥ 1/);
    expect(() => setEagerPool(null as unknown as EagerPoolSettings)).toThrow(/setEagerPool/);
  });

  it("kernels that take uninitialised storage write every element of it", () => {
    // A hook that hands allocateUninit memory full of garbage (NaN, 0x5a5a5a5a, 7): a kernel
    // that leaves any element unwritten, or reads its output, gives a different result.
    const garbage = {
      minSize: 0,
      uninit: 0,
      take(dtype: DType, size: number, zero: boolean): DataArray {
        const a =
          dtype === "float32"
            ? new Float32Array(size)
            : dtype === "float64"
              ? new Float64Array(size)
              : dtype === "int32"
                ? new Int32Array(size)
                : new Uint8Array(size);
        if (!zero) {
          this.uninit++;
          a.fill(dtype === "int32" ? 0x5a5a5a5a : dtype === "bool" ? 7 : NaN);
        }
        return a;
      },
    };
    const nd = ng.nd;
    const arr = (shape: number[], seed: number, dtype: DType = "float32") => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = Array.from({ length: n }, (_, i) => Math.sin(1.37 * i + seed) * 3);
      return nd.cast(new ng.NDArray(Float64Array.from(v), shape), dtype);
    };
    const cases: [string, () => ng.NDArray][] = [];
    for (const dt of ["float32", "float64", "int32"] as const) {
      for (const [shape, strided] of [
        [[3, 5], false],
        [[64, 80], false],
        [[64, 80], true],
        [[0, 4], false],
      ] as const) {
        const base = arr([...shape], 1, dt);
        const x = strided ? nd.transpose(arr([shape[1], shape[0]], 1, dt)) : base;
        const y = arr([...shape], 2, dt);
        const row = arr([shape[1]], 3, dt);
        const tag = `${dt}[${shape}]${strided ? " strided" : ""}`;
        for (const op of ["neg", "exp", "tanh", "sqrt", "abs", "round", "sign"] as const)
          cases.push([`${op} ${tag}`, () => nd.unary(op, x)]);
        const binOps = ["add", "sub", "mul", "div", "maximum", "minimum"] as const;
        for (const op of dt === "int32" ? binOps : [...binOps, "pow" as const]) {
          cases.push([`${op} ${tag}`, () => nd.binary(op, x, y)]);
          cases.push([`${op} row ${tag}`, () => nd.binary(op, x, row)]);
          cases.push([`${op} scalar ${tag}`, () => nd.binary(op, arr([], 4, dt), x)]);
        }
        cases.push([`less ${tag}`, () => nd.compare("less", x, row)]);
        cases.push([`and ${tag}`, () => nd.logicalAnd(x, y)]);
        cases.push([`not ${tag}`, () => nd.logicalNot(x)]);
        cases.push([`where ${tag}`, () => nd.where(nd.less(x, y), x, row)]);
        for (const to of ["float32", "float64", "int32", "bool"] as const)
          cases.push([`cast ${to} ${tag}`, () => nd.cast(x, to)]);
        cases.push([`concat ${tag}`, () => nd.concatenate([x, y, x], 1)]);
        const idx = nd.cast(arr([7], 5, "float64"), "int32");
        cases.push([`take ${tag}`, () => nd.take(x, idx, 1)]);
        if (shape[0] > 0) {
          cases.push([`take0 ${tag}`, () => nd.take(x, idx, 0)]);
          const along = nd.cast(arr([2, shape[1]], 6, "float64"), "int32");
          cases.push([`takeAlongAxis ${tag}`, () => nd.takeAlongAxis(x, along, 0)]);
        }
        for (const op of ["sum", "prod", "max", "min"] as const) {
          for (const axis of [undefined, 0, 1, [0, 1]]) {
            if (shape[0] === 0 && (op === "max" || op === "min") && axis !== 1) continue;
            cases.push([`${op} ${String(axis)} ${tag}`, () => nd.reduce(op, x, axis)]);
          }
        }
      }
    }
    cases.push(["arange", () => nd.arange(3, 40000, 2)]);
    cases.push(["arange int32", () => nd.arange(-5, 20000, 3, "int32")]);
    cases.push(["linspace", () => nd.linspace(-1, 2, 30000, "float64")]);
    cases.push(["linspace 1", () => nd.linspace(-1, 2, 1)]);
    const bytesOf = (a: ng.NDArray) => {
      const d = a.flat();
      const bytes = Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString("base64");
      return [a.dtype, a.shape, bytes];
    };
    for (const [name, run] of cases) {
      const want = bytesOf(run());
      const prev = swapAllocationHook(garbage);
      let got: ng.NDArray;
      try {
        got = run();
      } finally {
        swapAllocationHook(prev);
      }
      expect(bytesOf(got), name).toEqual(want);
    }
    expect(garbage.uninit).toBeGreaterThan(cases.length);
  });
});
