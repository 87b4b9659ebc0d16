// The WebAssembly SIMD matmul path: the committed module is what the WAT
// source compiles to, and the WebAssembly kernels agree with the JavaScript kernels and a
// float64 reference on every layout matmul accepts (edges, strides, batches, mixed dtypes).
// Also the committed elementwise module: its WAT is what scripts/elementwise-wat.ts
// generates and its bytes what that compiles to (its kernels: wasm-elementwise.test.ts).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as K from "../src/tensor/index.js";
import { GEMM_WASM_BASE64 } from "../src/tensor/kernels/gemm_wasm.generated.js";
import {
  setGemmPlacement,
  setWasmGemmEnabled,
  wasmGemmAvailable,
  type GemmPlacement,
} from "../src/tensor/kernels/gemm_wasm.js";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ELEMENTWISE_WASM_BASE64 } from "../src/tensor/kernels/elementwise_wasm.generated.js";
import { compileElementwiseWat, compileGemmWat } from "../scripts/build-wasm.js";
import { generateElementwiseWat } from "../scripts/elementwise-wat.js";

function withWasm<T>(on: boolean, fn: () => T): T {
  const prev = setWasmGemmEnabled(on);
  try {
    return fn();
  } finally {
    setWasmGemmEnabled(prev);
  }
}

/** Naive float64 reference of a 2-D product. */
function reference(a: K.NDArray, b: K.NDArray): number[] {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a.get(i, p) * b.get(p, j);
      out[i * n + j] = s;
    }
  return out;
}

function maxRelErr(x: ArrayLike<number>, ref: readonly number[]): number {
  const scale = Math.max(1e-30, ...ref.map(Math.abs));
  let e = 0;
  for (let i = 0; i < ref.length; i++) e = Math.max(e, Math.abs(x[i]! - ref[i]!) / scale);
  return e;
}

describe("WebAssembly GEMM", () => {
  it("is available in Node 20 (SIMD) and the committed module is the compiled WAT", async () => {
    expect(wasmGemmAvailable()).toBe(true);
    const bytes = await compileGemmWat();
    expect(Buffer.from(bytes).toString("base64")).toBe(GEMM_WASM_BASE64);
  });

  it.each([
    ["float32", 1e-5],
    ["float64", 1e-13],
  ] as const)(
    "%s: agrees with the JS kernel and a float64 reference on edge sizes",
    (dtype, tol) => {
      for (const [m, k, n] of [
        [8, 8, 8],
        [9, 7, 13],
        [33, 65, 17],
        [4, 300, 5],
        [130, 3, 129],
      ] as const) {
        const a = K.random.normal(K.random.key(m), [m, k], { dtype });
        const b = K.random.normal(K.random.key(n + 1000), [k, n], { dtype });
        const ref = reference(a, b);
        const w = withWasm(true, () => K.matmul(a, b));
        const j = withWasm(false, () => K.matmul(a, b));
        expect(w.dtype).toBe(dtype);
        expect(maxRelErr(w.flat(), ref)).toBeLessThan(tol);
        expect(maxRelErr(j.flat(), ref)).toBeLessThan(tol);
      }
    },
  );

  it("reads strided, transposed, flipped and broadcast operands and batches", () => {
    const a = K.random.normal(K.random.key(1), [3, 20, 24], { dtype: "float64" });
    const b = K.random.normal(K.random.key(2), [24, 18], { dtype: "float64" });
    const at = K.transpose(K.transpose(a, [0, 2, 1]), [0, 2, 1]); // same values, permuted strides twice
    const bt = K.flip(K.flip(b, 0), 0);
    const bb = K.broadcastTo(b, [3, 24, 18]);
    const aT = K.transpose(
      K.random.normal(K.random.key(3), [3, 24, 20], { dtype: "float64" }),
      [0, 2, 1],
    );
    for (const [x, y] of [
      [at, bt],
      [a, bb],
      [aT, b],
    ] as const) {
      const w = withWasm(true, () => K.matmul(x, y)).flat();
      const j = withWasm(false, () => K.matmul(x, y)).flat();
      for (let i = 0; i < w.length; i++) expect(Math.abs(w[i]! - j[i]!)).toBeLessThan(1e-12);
    }
  });

  it("mixed float32 × float64 computes in float64", () => {
    const a = K.random.normal(K.random.key(4), [12, 10], { dtype: "float32" });
    const b = K.random.normal(K.random.key(5), [10, 9], { dtype: "float64" });
    const w = withWasm(true, () => K.matmul(a, b));
    expect(w.dtype).toBe("float64");
    expect(maxRelErr(w.flat(), reference(a, b))).toBeLessThan(1e-13);
  });

  it("property: wasm = js on random shapes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        (m, k, n) => {
          const a = K.random.normal(K.random.key(m * 1000 + k), [m, k], { dtype: "float64" });
          const b = K.random.normal(K.random.key(n * 1000 + k), [k, n], { dtype: "float64" });
          const w = withWasm(true, () => K.matmul(a, b)).flat();
          const j = withWasm(false, () => K.matmul(a, b)).flat();
          for (let i = 0; i < w.length; i++)
            if (Math.abs(w[i]! - j[i]!) > 1e-12 * (1 + Math.abs(j[i]!))) return false;
          return true;
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });
});

/** A view of `x` (m×n) inside a wider or taller array whose other elements are `fill`. */
function embedded(x: K.NDArray, fill: number, transposed: boolean): K.NDArray {
  const [m, n] = x.shape as [number, number];
  // storage [rows, cols] with 3 extra columns (and rows), the view at offset 1
  const rows = (transposed ? n : m) + 3;
  const cols = (transposed ? m : n) + 3;
  const data = (
    x.dtype === "float32" ? new Float32Array(rows * cols) : new Float64Array(rows * cols)
  ).fill(fill);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      data[transposed ? (j + 1) * cols + i + 1 : (i + 1) * cols + j + 1] = x.get(i, j);
    }
  const strides = transposed ? [1, cols] : [cols, 1];
  return new K.NDArray(data, [m, n], strides, cols + 1);
}

describe("WebAssembly GEMM operand placement", () => {
  const placements: GemmPlacement[] = [
    { inPlace: true, modulePack: true },
    { inPlace: true, modulePack: false },
    { inPlace: false, modulePack: true },
    { inPlace: false, modulePack: false },
  ];
  const run = (p: GemmPlacement, f: () => K.NDArray): K.NDArray => {
    const prev = setGemmPlacement(p);
    try {
      return f();
    } finally {
      setGemmPlacement(prev);
    }
  };
  it.each(["float32", "float64"] as const)(
    "%s: read in place, packed by the module or by packStrips: bitwise the same, whatever lies around the operands",
    (dtype) => {
      // thin and thick shapes on both sides of the in-place rules (one strip of B, one block
      // of rows of A), row counts and widths that are not multiples of the strips
      for (const [m, k, n] of [
        [70, 33, 1],
        [70, 33, 9],
        [13, 40, 21],
        [64, 17, 8],
        [65, 17, 8],
        [130, 5, 300],
      ] as const) {
        const a = K.random.normal(K.random.key(m + k), [m, k], { dtype });
        const b = K.random.normal(K.random.key(n + 7), [k, n], { dtype });
        const ref = reference(a, b);
        let first: Float64Array | undefined;
        for (const ta of [false, true])
          for (const tb of [false, true])
            for (const fill of [Number.NaN, Number.POSITIVE_INFINITY]) {
              const av = embedded(a, fill, ta);
              const bv = embedded(b, fill, tb);
              for (const p of placements) {
                const got = Float64Array.from(run(p, () => K.matmul(av, bv)).flat());
                if (first === undefined) {
                  expect(maxRelErr(got, ref)).toBeLessThan(dtype === "float32" ? 1e-5 : 1e-13);
                  first = got;
                } else expect(got).toEqual(first);
              }
            }
      }
    },
  );
});

describe("WebAssembly elementwise module", () => {
  it("the committed WAT is what the generator writes and the bytes what it compiles to", async () => {
    const path = fileURLToPath(
      new URL("../src/tensor/kernels/elementwise_kernel.wat", import.meta.url),
    );
    expect(readFileSync(path, "utf8")).toBe(generateElementwiseWat());
    const bytes = await compileElementwiseWat();
    expect(Buffer.from(bytes).toString("base64")).toBe(ELEMENTWISE_WASM_BASE64);
  });
});
