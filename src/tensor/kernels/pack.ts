/**
 * Operand packing shared by the matmul kernels: copies lines of a
 * strided operand (rows of A, columns of B) into contiguous strips, the layout both the
 * JavaScript micro-kernel and the WebAssembly kernels read.
 */
import type { DataArray } from "../dtype.js";

/**
 * Packs `count` lines of `src` into strips of `width` lines. Line i starts at
 * `off + i·across`; its element p (p < len) is `along` further on per p. Strip s occupies
 * dst[dOff + s·width·len ..], holding line s·width + j at p as dst[… + p·width + j];
 * lines past `count` are zero.
 */
export function packStrips(
  dst: Float32Array | Float64Array,
  dOff: number,
  src: DataArray,
  off: number,
  along: number,
  across: number,
  len: number,
  count: number,
  width: number,
): void {
  let q = dOff;
  for (let s = 0; s < count; s += width) {
    const w = Math.min(width, count - s);
    const line = off + s * across;
    if (w === 4 && width === 4) {
      for (let p = 0, i = line; p < len; p++, i += along, q += 4) {
        dst[q] = src[i]!;
        dst[q + 1] = src[i + across]!;
        dst[q + 2] = src[i + 2 * across]!;
        dst[q + 3] = src[i + 3 * across]!;
      }
    } else if (w === 8 && width === 8) {
      for (let p = 0, i = line; p < len; p++, i += along, q += 8) {
        dst[q] = src[i]!;
        dst[q + 1] = src[i + across]!;
        dst[q + 2] = src[i + 2 * across]!;
        dst[q + 3] = src[i + 3 * across]!;
        dst[q + 4] = src[i + 4 * across]!;
        dst[q + 5] = src[i + 5 * across]!;
        dst[q + 6] = src[i + 6 * across]!;
        dst[q + 7] = src[i + 7 * across]!;
      }
    } else {
      for (let p = 0, i = line; p < len; p++, i += along, q += width) {
        for (let j = 0; j < width; j++) dst[q + j] = j < w ? src[i + j * across]! : 0;
      }
    }
  }
}
