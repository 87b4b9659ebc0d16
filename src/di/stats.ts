/**
 * Pass counters of the `ng.di` operators: how many directions the base operators
 * pushed forward or pulled back and how many Hessian-vector products were formed, so tests
 * and users can see what an operator cost (a sparse Jacobian uses one pass per colour, a
 * dense one one per column). Batched tangents count one pass per direction.
 */

export interface DiStats {
  /** Tangent directions pushed forward (one JVP or one finite difference each). */
  pushforward: number;
  /** Cotangents pulled back (one transposed linear pass each). */
  pullback: number;
  /** Hessian-vector products (each itself one outer pass over an inner gradient). */
  hvp: number;
}

let counters: DiStats = { pushforward: 0, pullback: 0, hvp: 0 };

/**
 * A snapshot of the pass counters since the last reset.
 * @example ng.di.resetStats(); ng.di.jacobian(f, ng.di.autoSparse(ng.di.autoForward()), x); ng.di.stats().pushforward // colours
 */
export function stats(): DiStats {
  return { ...counters };
}

/** Resets the pass counters. @example ng.di.resetStats(); ng.di.stats().pullback // 0 */
export function resetStats(): void {
  counters = { pushforward: 0, pullback: 0, hvp: 0 };
}

export function count(kind: keyof DiStats, n: number): void {
  counters[kind] += n;
}
