// Naive shape helpers shared by the tensor-layer tests: independent of src/ so they can
// serve as an oracle.

/** Deterministic uniform numbers in [0, 1) from a 32-bit seed (mulberry32), so test data reproduce. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Number of elements of `shape`. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Every multi-index of `shape` in row-major order. */
export function indices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  if (sizeOf(shape) === 0) return out;
  const idx = new Array<number>(shape.length).fill(0);
  for (;;) {
    out.push(idx.slice());
    let d = shape.length - 1;
    while (d >= 0) {
      idx[d]!++;
      if (idx[d]! < shape[d]!) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return out;
  }
}
