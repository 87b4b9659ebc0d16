import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatNDArray, fromNested, NDArray } from "../../src/tensor/index.js";

const range = (n: number, dtype: "int32" | "float32" | "float64" = "int32"): NDArray =>
  fromNested(
    Array.from({ length: n }, (_, i) => i),
    dtype,
  );

describe("formatNDArray: exact output for small arrays", () => {
  it("2-D float32 (integral values print with a trailing dot)", () => {
    const x = fromNested([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(formatNDArray(x)).toBe("array([[1., 2., 3.],\n       [4., 5., 6.]], dtype=float32)");
    expect(x.toString()).toBe(formatNDArray(x));
    expect(String(x)).toBe(formatNDArray(x));
  });

  it("2-D int32", () => {
    const x = fromNested(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      "int32",
    );
    expect(formatNDArray(x)).toBe("array([[1, 2, 3],\n       [4, 5, 6]], dtype=int32)");
  });

  it("1-D floats: at most 4 decimals, decimal points aligned", () => {
    expect(formatNDArray(fromNested([0.5, 0.12345, -10.25]))).toBe(
      "array([  0.5   ,   0.1235, -10.25  ], dtype=float32)",
    );
    expect(formatNDArray(fromNested([0.1, 0.2, 0.3], "float64"))).toBe(
      "array([0.1, 0.2, 0.3], dtype=float64)",
    );
  });

  it("negative numbers align on the right", () => {
    expect(formatNDArray(fromNested([-1, 20, -300], "int32"))).toBe(
      "array([  -1,   20, -300], dtype=int32)",
    );
    expect(formatNDArray(fromNested([-1.5, 2, 3.25]))).toBe(
      "array([-1.5 ,  2.  ,  3.25], dtype=float32)",
    );
  });

  it("3-D arrays separate blocks with a blank line", () => {
    const x = range(12).view([2, 2, 3], [6, 3, 1], 0);
    expect(formatNDArray(x)).toBe(
      "array([[[ 0,  1,  2],\n" +
        "        [ 3,  4,  5]],\n" +
        "\n" +
        "       [[ 6,  7,  8],\n" +
        "        [ 9, 10, 11]]], dtype=int32)",
    );
  });

  it("scalars", () => {
    expect(formatNDArray(fromNested(3.5, "float64"))).toBe("array(3.5, dtype=float64)");
    expect(formatNDArray(fromNested(2, "float32"))).toBe("array(2., dtype=float32)");
    expect(formatNDArray(fromNested(-7, "int32"))).toBe("array(-7, dtype=int32)");
    expect(formatNDArray(fromNested(true))).toBe("array(true, dtype=bool)");
  });

  it("empty arrays show their shape", () => {
    expect(formatNDArray(new NDArray(new Float32Array(0), [0, 3]))).toBe(
      "array([], shape=[0, 3], dtype=float32)",
    );
    expect(formatNDArray(new NDArray(new Int32Array(0), [0]))).toBe(
      "array([], shape=[0], dtype=int32)",
    );
    expect(formatNDArray(new NDArray(new Uint8Array(0), [2, 0, 4]))).toBe(
      "array([], shape=[2, 0, 4], dtype=bool)",
    );
  });

  it("bool prints true/false", () => {
    expect(
      formatNDArray(
        fromNested([
          [true, false],
          [false, true],
        ]),
      ),
    ).toBe("array([[ true, false],\n       [false,  true]], dtype=bool)");
  });

  it("nan and infinities", () => {
    expect(formatNDArray(fromNested([1, NaN, Infinity, -Infinity, 0.25], "float64"))).toBe(
      "array([1.  ,  nan,  inf, -inf, 0.25], dtype=float64)",
    );
    expect(formatNDArray(fromNested([NaN, NaN]))).toBe("array([nan, nan], dtype=float32)");
  });

  it("scientific notation for large, tiny or widely spread magnitudes", () => {
    expect(formatNDArray(fromNested([1e10], "float64"))).toBe("array([1.e+10], dtype=float64)");
    expect(formatNDArray(fromNested([1e10, 1.5e-5], "float64"))).toBe(
      "array([1.0e+10, 1.5e-05], dtype=float64)",
    );
    expect(formatNDArray(fromNested([1, 2000], "float64"))).toBe(
      "array([1.e+00, 2.e+03], dtype=float64)",
    );
    expect(formatNDArray(fromNested([-1.23456e-7, 0], "float64"))).toBe(
      "array([-1.2346e-07,  0.0000e+00], dtype=float64)",
    );
    expect(formatNDArray(fromNested([1e200, 3e-200], "float64"))).toBe(
      "array([1.e+200, 3.e-200], dtype=float64)",
    );
  });

  it("float32 values print by their nearest 4-decimal rounding", () => {
    // fround(0.1) = 0.100000001490116…
    expect(formatNDArray(fromNested([0.1, 1 / 3]))).toBe("array([0.1   , 0.3333], dtype=float32)");
    expect(formatNDArray(fromNested([0, -0], "float64"))).toBe("array([ 0., -0.], dtype=float64)");
  });

  it("long rows wrap at 75 columns with a hanging indent", () => {
    expect(formatNDArray(range(30))).toBe(
      "array([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16,\n" +
        "       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29], dtype=int32)",
    );
    for (const line of formatNDArray(range(900, "float64")).split("\n")) {
      expect(line.length).toBeLessThanOrEqual(75 + " dtype=float64)".length);
    }
  });
});

describe("formatNDArray: strided views", () => {
  const base = range(6).view([2, 3], [3, 1], 0); // [[0,1,2],[3,4,5]]

  it("transpose (permuted strides)", () => {
    expect(formatNDArray(base.view([3, 2], [1, 3], 0))).toBe(
      "array([[0, 3],\n       [1, 4],\n       [2, 5]], dtype=int32)",
    );
  });

  it("negative strides with an offset (flip both axes)", () => {
    expect(formatNDArray(base.view([2, 3], [-3, -1], 5))).toBe(
      "array([[5, 4, 3],\n       [2, 1, 0]], dtype=int32)",
    );
  });

  it("stride-0 broadcast and an offset slice", () => {
    const row = range(6).view([3], [1], 3); // [3, 4, 5]
    expect(formatNDArray(row)).toBe("array([3, 4, 5], dtype=int32)");
    expect(formatNDArray(row.view([2, 3], [0, 1], 3))).toBe(
      "array([[3, 4, 5],\n       [3, 4, 5]], dtype=int32)",
    );
  });

  it("agrees with the contiguous copy (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        (r, c, flip) => {
          const x = range(r * c, "float32").view([r, c], [c, 1], 0);
          const t = flip ? x.view([c, r], [-1, -c], r * c - 1) : x.view([c, r], [1, c], 0);
          return formatNDArray(t) === formatNDArray(t.toContiguous());
        },
      ),
    );
  });
});

describe("formatNDArray: summarisation above 1000 elements", () => {
  it("[2000] shows the first and last 3 entries", () => {
    const s = formatNDArray(range(2000));
    expect(s).toBe("array([   0,    1,    2, ..., 1997, 1998, 1999], dtype=int32)");
  });

  it("[1000] is not summarised, [1001] is", () => {
    expect(formatNDArray(range(1000))).not.toContain("...");
    expect(formatNDArray(range(1001))).toContain("...");
  });

  it("[100, 100] summarises both axes", () => {
    const s = formatNDArray(range(10000).view([100, 100], [100, 1], 0));
    expect(s).toBe(
      "array([[   0,    1,    2, ...,   97,   98,   99],\n" +
        "       [ 100,  101,  102, ...,  197,  198,  199],\n" +
        "       [ 200,  201,  202, ...,  297,  298,  299],\n" +
        "       ...,\n" +
        "       [9700, 9701, 9702, ..., 9797, 9798, 9799],\n" +
        "       [9800, 9801, 9802, ..., 9897, 9898, 9899],\n" +
        "       [9900, 9901, 9902, ..., 9997, 9998, 9999]], dtype=int32)",
    );
    expect(s.length).toBeLessThan(500);
  });

  it("summarises a transposed view through its strides", () => {
    const t = range(10000).view([100, 100], [1, 100], 0);
    const s = formatNDArray(t);
    expect(s.split("\n")[0]).toBe("array([[   0,  100,  200, ..., 9700, 9800, 9900],");
    expect(s.split("\n").at(-1)).toBe(
      "       [  99,  199,  299, ..., 9799, 9899, 9999]], dtype=int32)",
    );
  });

  it("keeps short axes whole and stays short for big 3-D arrays", () => {
    const s = formatNDArray(range(2 * 1000).view([2, 1000, 1], [1000, 1, 1], 0));
    expect(s.split("\n")).toHaveLength(2 * 7 + 1);
    expect(s).toContain("[[[   0],");
    expect(s).toContain("[1999]]], dtype=int32)");
    const big = formatNDArray(new NDArray(new Float64Array(1_000_000), [100, 100, 100]));
    expect(big).toContain("...");
    expect(big.length).toBeLessThan(2000); // 7·7·7 entries shown of 10^6
  });
});
