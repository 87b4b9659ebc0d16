// Naive shape helpers shared by the tensor-layer tests: independent of src/ so they can
// serve as an oracle.

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
