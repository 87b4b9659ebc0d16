// matmul against a naive float64 triple loop written independently (NumPy promotion and
// batch broadcasting re-derived with index math over values read by NDArray.get), across
// sizes that cross the kernel's register and cache blocks, strided/transposed/broadcast
// views, zero-size dimensions, int32/bool exactness, fast-check algebraic properties and
// error messages.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  NDArray,
  allocate,
  fromNested,
  matmul,
  matmulDType,
  matmulFlops,
  matmulShape,
  type DType,
} from "../../src/tensor/index.js";
import { indices, sizeOf, mulberry32 } from "./reference.js";

function rng(seed: number): () => number {
  return mulberry32(seed >>> 0 || 1);
}

/** A contiguous random array: uniform floats in [-1, 1), or small integers. */
function rand(shape: number[], dtype: DType = "float64", seed = 1): NDArray {
  const r = rng(seed);
  const data = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    if (dtype === "bool") data[i] = r() < 0.5 ? 1 : 0;
    else if (dtype === "int32") data[i] = Math.floor(r() * 21) - 10;
    else data[i] = r() * 2 - 1;
  }
  return new NDArray(data, shape);
}

/** The same logical matrix stored transposed: storage [.., n, m], view [.., m, n]. */
function transposedView(x: NDArray): NDArray {
  const nd = x.ndim;
  const perm = x.shape.map((_, i) => i);
  [perm[nd - 1], perm[nd - 2]] = [perm[nd - 2]!, perm[nd - 1]!];
  const storedShape = perm.map((p) => x.shape[p]!);
  const stored = allocate(x.dtype, x.size);
  const st = new NDArray(stored, storedShape);
  const out = st.view(
    x.shape,
    perm.map((p) => st.strides[p]!),
    0,
  );
  for (const idx of indices(x.shape)) {
    let o = 0;
    for (let d = 0; d < nd; d++) o += idx[d]! * out.strides[d]!;
    stored[o] = x.get(...idx);
  }
  return out;
}

/** A view with every stride negated (elements reversed along each axis), data copied so the logical values equal `x` reversed. */
function flippedView(x: NDArray): NDArray {
  const data = allocate(x.dtype, x.size);
  const base = new NDArray(data, x.shape);
  let off = 0;
  for (let d = 0; d < x.ndim; d++) off += (x.shape[d]! - 1) * base.strides[d]!;
  const v = base.view(
    x.shape,
    base.strides.map((s) => -s),
    off,
  );
  for (const idx of indices(x.shape)) {
    let p = off;
    for (let d = 0; d < x.ndim; d++) p -= idx[d]! * base.strides[d]!;
    data[p] = x.get(...idx);
  }
  return v;
}

interface Ref {
  shape: number[];
  values: number[];
}

/** Reads all elements (row-major) through NDArray.get. */
function read(x: NDArray): number[] {
  return indices(x.shape).map((i) => x.get(...i));
}

/** NumPy matmul by definition: promote 1-D, broadcast batches, plain i-j-k triple loop in float64 (int: exact wrapping). */
function naiveMatmul(a: NDArray, b: NDArray, intMath = false): Ref {
  const as = a.ndim === 1 ? [1, a.shape[0]!] : a.shape.slice();
  const bs = b.ndim === 1 ? [b.shape[0]!, 1] : b.shape.slice();
  const av = read(a);
  const bv = read(b);
  const m = as[as.length - 2]!;
  const k = as[as.length - 1]!;
  const n = bs[bs.length - 1]!;
  const ab = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const nb = Math.max(ab.length, bb.length);
  const pa = [...new Array<number>(nb - ab.length).fill(1), ...ab];
  const pb = [...new Array<number>(nb - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => (d === 1 ? pb[i]! : d)); // 1 broadcasts (also against 0)
  const values: number[] = [];
  const batchIdx = nb === 0 ? [[]] : indices(batch);
  for (const bi of batchIdx) {
    let ao = 0;
    let bo = 0;
    for (let d = 0; d < nb; d++) {
      ao = ao * pa[d]! + (pa[d] === 1 ? 0 : bi[d]!);
      bo = bo * pb[d]! + (pb[d] === 1 ? 0 : bi[d]!);
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const x = av[ao * m * k + i * k + p]!;
          const y = bv[bo * k * n + p * n + j]!;
          s = intMath ? (s + Math.imul(x, y)) | 0 : s + x * y;
        }
        values.push(s);
      }
    }
  }
  const shape = [...batch];
  if (a.ndim > 1) shape.push(m);
  if (b.ndim > 1) shape.push(n);
  return { shape, values };
}

/** float32 results within relTol of the largest |reference| entry; float64 tighter; ints exact. */
function expectMatmul(got: NDArray, ref: Ref, relTol?: number): void {
  expect(got.shape).toEqual(ref.shape);
  const g = Array.from(got.flat());
  expect(g.length).toBe(ref.values.length);
  if (got.dtype === "int32") {
    expect(g).toEqual(ref.values);
    return;
  }
  const tol = relTol ?? (got.dtype === "float32" ? 1e-5 : 1e-12);
  let scale = 0;
  for (const v of ref.values) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i]! - ref.values[i]!));
  expect(worst).toBeLessThanOrEqual(tol * Math.max(scale, 1e-30));
}

describe("matmul against the naive triple loop", () => {
  const sizes = [1, 7, 33, 65, 130];
  for (const dtype of ["float32", "float64"] as DType[]) {
    it(`${dtype}: square and non-square sizes crossing block boundaries`, () => {
      let seed = 1;
      for (const m of sizes) {
        for (const k of sizes) {
          for (const n of [1, 7, 65, 130]) {
            if (m * n * k > 130 * 130 * 65) continue; // keep the naive loop quick
            const a = rand([m, k], dtype, seed++);
            const b = rand([k, n], dtype, seed++);
            const c = matmul(a, b);
            expect(c.dtype).toBe(dtype);
            expectMatmul(c, naiveMatmul(a, b));
          }
        }
      }
    });

    it(`${dtype}: a problem spanning several KC, MC and NC blocks`, () => {
      const a = rand([131, 300], dtype, 3);
      const b = rand([300, 521], dtype, 4);
      expectMatmul(matmul(a, b), naiveMatmul(a, b));
    });

    it(`${dtype}: transposed, flipped, offset and broadcast operands`, () => {
      for (const [m, k, n] of [
        [5, 3, 6],
        [33, 65, 7],
        [64, 70, 36],
      ] as const) {
        const a = rand([m, k], dtype, m);
        const b = rand([k, n], dtype, n);
        const ref = naiveMatmul(a, b);
        expectMatmul(matmul(transposedView(a), b), ref);
        expectMatmul(matmul(a, transposedView(b)), ref);
        expectMatmul(matmul(transposedView(a), transposedView(b)), ref);
        expectMatmul(matmul(flippedView(a), flippedView(b)), ref);
        // an offset view into a larger buffer with a row gap
        const big = rand([m + 1, k + 3], dtype, 99);
        const sub = big.view([m, k], [k + 3, 1], k + 3 + 2);
        expectMatmul(matmul(sub, b), naiveMatmul(sub, b));
        // a stride-0 (broadcast) row vector repeated m times
        const row = rand([k], dtype, 7);
        const rep = row.view([m, k], [0, 1], 0);
        expectMatmul(matmul(rep, b), naiveMatmul(rep, b));
      }
    });
  }

  it("batch dimensions broadcast ([2,1,3,4] @ [5,4,6] -> [2,5,3,6])", () => {
    const a = rand([2, 1, 3, 4], "float64", 1);
    const b = rand([5, 4, 6], "float64", 2);
    const c = matmul(a, b);
    expect(c.shape).toEqual([2, 5, 3, 6]);
    expectMatmul(c, naiveMatmul(a, b));
    // batched packed kernel, one side broadcast
    const a2 = rand([3, 40, 20], "float32", 3);
    const b2 = rand([20, 24], "float32", 4);
    expectMatmul(matmul(a2, b2), naiveMatmul(a2, b2));
    // a stride-0 batch dimension on the left
    const bb = b2.view([2, 20, 24], [0, 24, 1], 0);
    const r = rand([24, 5], "float32", 5);
    expectMatmul(matmul(bb, r), naiveMatmul(bb, r));
    // batched transposed operands
    const bt = transposedView(rand([3, 20, 24], "float64", 6));
    const a3 = rand([3, 40, 20], "float64", 7);
    expectMatmul(matmul(a3, bt), naiveMatmul(a3, bt));
  });

  it("1-D operands are promoted and the promoted dimension removed", () => {
    const v = rand([7], "float64", 1);
    const w = rand([7], "float64", 2);
    const M = rand([5, 7], "float64", 3);
    const N = rand([7, 4], "float64", 4);
    const B = rand([2, 7, 3], "float64", 5);
    const vw = matmul(v, w);
    expect(vw.shape).toEqual([]);
    expectMatmul(vw, naiveMatmul(v, w));
    expect(matmul(M, w).shape).toEqual([5]);
    expectMatmul(matmul(M, w), naiveMatmul(M, w));
    expect(matmul(v, N).shape).toEqual([4]);
    expectMatmul(matmul(v, N), naiveMatmul(v, N));
    expect(matmul(v, B).shape).toEqual([2, 3]);
    expectMatmul(matmul(v, B), naiveMatmul(v, B));
    const Bb = rand([2, 5, 7], "float64", 6);
    expect(matmul(Bb, w).shape).toEqual([2, 5]);
    expectMatmul(matmul(Bb, w), naiveMatmul(Bb, w));
    // long vectors use the thin kernels
    const big = rand([300, 400], "float32", 8);
    const x = rand([400], "float32", 9);
    const y = rand([300], "float32", 10);
    expectMatmul(matmul(big, x), naiveMatmul(big, x));
    expectMatmul(matmul(y, big), naiveMatmul(y, big));
    expect(
      matmul(
        fromNested([
          [1, 2],
          [3, 4],
        ]),
        fromNested([5, 6]),
      ).toArray(),
    ).toEqual([17, 39]);
  });

  it("zero-size dimensions", () => {
    const c1 = matmul(rand([0, 3]), rand([3, 4]));
    expect(c1.shape).toEqual([0, 4]);
    const c2 = matmul(rand([2, 0], "float32"), rand([0, 3], "float32"));
    expect(c2.shape).toEqual([2, 3]);
    expect(c2.dtype).toBe("float32");
    expect(Array.from(c2.flat())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(matmul(rand([0]), rand([0])).item()).toBe(0);
    expect(matmul(rand([0, 2, 3]), rand([3, 4])).shape).toEqual([0, 2, 4]);
    expect(matmul(rand([3, 5]), rand([5, 0])).shape).toEqual([3, 0]);
    expect(Array.from(matmul(rand([2, 0], "int32"), rand([0, 2], "int32")).flat())).toEqual([
      0, 0, 0, 0,
    ]);
  });

  it("int32 and bool are exact (wrapping) and give int32; mixed dtypes promote", () => {
    for (const [m, k, n] of [
      [3, 4, 5],
      [33, 65, 7],
      [1, 9, 1],
    ] as const) {
      const a = rand([m, k], "int32", m);
      const b = rand([k, n], "int32", n);
      const c = matmul(a, b);
      expect(c.dtype).toBe("int32");
      expectMatmul(c, naiveMatmul(a, b, true));
      expectMatmul(matmul(transposedView(a), b), naiveMatmul(a, b, true));
    }
    const big = fromNested([[65536, 65536]], "int32");
    const col = fromNested([[65536], [1]], "int32");
    expect(matmul(big, col).toArray()).toEqual([[65536]]); // 2^32 wraps to 0, plus 65536
    const p = rand([4, 6], "bool", 1);
    const q = rand([6, 3], "bool", 2);
    const pq = matmul(p, q);
    expect(pq.dtype).toBe("int32");
    expectMatmul(pq, naiveMatmul(p, q, true));
    const f = matmul(rand([3, 4], "int32", 3), rand([4, 2], "float32", 4));
    expect(f.dtype).toBe("float32");
    expect(matmul(rand([3, 4], "float32"), rand([4, 2], "float64")).dtype).toBe("float64");
    expect(matmulDType("bool", "bool")).toBe("int32");
    expect(matmulDType("bool", "float32")).toBe("float32");
    const ai = rand([40, 30], "int32", 5);
    const bf = rand([30, 20], "float64", 6);
    expectMatmul(matmul(ai, bf), naiveMatmul(ai, bf));
  });

  it("float32 results are accumulated in float64 and rounded once", () => {
    // 1 + 2^-30 - 1 cancels exactly in float64 but not in float32 arithmetic
    const a = new NDArray(new Float32Array([1, 2 ** -30, -1, 0]), [1, 4]);
    const b = new NDArray(new Float32Array([1, 1, 1, 1]), [4, 1]);
    expect(matmul(a, b).item()).toBe(Math.fround(2 ** -30));
  });
});

describe("shape helpers", () => {
  it("matmulShape and matmulFlops follow NumPy rules", () => {
    expect(matmulShape([2, 1, 3, 4], [5, 4, 6])).toEqual([2, 5, 3, 6]);
    expect(matmulShape([4], [4])).toEqual([]);
    expect(matmulShape([3, 4], [4])).toEqual([3]);
    expect(matmulFlops([64, 64], [64, 64])).toBe(2 * 64 ** 3);
    expect(matmulFlops([2, 3, 4], [4, 5])).toBe(2 * 2 * 3 * 4 * 5);
  });
});

describe("errors", () => {
  it("contracting dimension mismatch names both shapes and dims", () => {
    expect(() => matmul(rand([2, 3]), rand([4, 5]))).toThrow(
      "matmul: contracting dimensions differ: a has shape [2, 3] (contracting dim 3), b has shape [4, 5] (contracting dim 4)",
    );
    expect(() => matmul(rand([3]), rand([4]))).toThrow(
      /a has shape \[3\] \(contracting dim 3\), b has shape \[4\] \(contracting dim 4\)/,
    );
    expect(() => matmul(rand([2, 3, 4]), rand([5]))).toThrow(
      /contracting dim 4.*contracting dim 5/,
    );
  });

  it("rank-0 operands, unbroadcastable batches and non-arrays are rejected", () => {
    const s = fromNested(2);
    expect(() => matmul(s, rand([2, 2]))).toThrow(
      /matmul: a must have at least 1 dimension, got a scalar/,
    );
    expect(() => matmul(rand([2]), s)).toThrow(/matmul: b must have at least 1 dimension/);
    expect(() => matmul(rand([2, 3, 4]), rand([5, 4, 6]))).toThrow(
      "matmul: batch dimensions cannot be broadcast: a has shape [2, 3, 4] (batch [2]), b has shape [5, 4, 6] (batch [5])",
    );
    expect(() => matmul([[1]] as unknown as NDArray, rand([1, 1]))).toThrow(
      /matmul: a: expected an NDArray, got an array/,
    );
    expect(() => matmul(rand([1, 1]), undefined as unknown as NDArray)).toThrow(
      /matmul: b: expected an NDArray, got undefined/,
    );
  });
});

// ---------------------------------------------------------------------------------------
// properties on small random shapes (float64)

function addFlat(x: NDArray, y: NDArray): NDArray {
  const a = x.flat();
  const b = y.flat();
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return new NDArray(out, x.shape);
}

function maxAbsDiff(x: NDArray, y: NDArray): number {
  const a = x.flat();
  const b = y.flat();
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

const dim = fc.integer({ min: 1, max: 9 });

describe("properties", () => {
  it("associativity: (A B) C ≈ A (B C)", () => {
    fc.assert(
      fc.property(dim, dim, dim, dim, fc.integer({ min: 1, max: 1e6 }), (m, k, l, n, seed) => {
        const A = rand([m, k], "float64", seed);
        const B = rand([k, l], "float64", seed + 1);
        const C = rand([l, n], "float64", seed + 2);
        const left = matmul(matmul(A, B), C);
        const right = matmul(A, matmul(B, C));
        expect(left.shape).toEqual([m, n]);
        expect(maxAbsDiff(left, right)).toBeLessThan(1e-12 * k * l);
      }),
      { numRuns: 150 },
    );
  });

  it("distributivity: A (B + C) ≈ A B + A C, with batches", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        dim,
        dim,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 1e6 }),
        (batch, m, k, n, seed) => {
          const A = rand([batch, m, k], "float64", seed);
          const B = rand([k, n], "float64", seed + 1);
          const C = rand([k, n], "float64", seed + 2);
          const lhs = matmul(A, addFlat(B, C));
          const rhs = addFlat(matmul(A, B), matmul(A, C));
          expect(lhs.shape).toEqual([batch, m, n]);
          expect(maxAbsDiff(lhs, rhs)).toBeLessThan(1e-12 * k);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("matches the naive loop on random shapes and transposed layouts", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 12 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 1e6 }),
        (batch, m, k, n, transpose, seed) => {
          const a0 = rand([...batch, m, k], "float32", seed);
          const b0 = rand([k, n], "float32", seed + 1);
          const a = transpose && a0.size > 0 ? transposedView(a0) : a0;
          const b = transpose && b0.size > 0 ? transposedView(b0) : b0;
          expectMatmul(matmul(a, b), naiveMatmul(a0, b0));
        },
      ),
      { numRuns: 200 },
    );
  });
});
