/**
 * `laplacian(f)` and `hessianDiagonal(f)` (DESIGN.md §4, §5; issue 6): for a scalar field
 * f: [B, d] → [B] that maps samples independently, the diagonal of each sample's Hessian
 * by d forward-over-reverse Hessian-vector products — one JVP of the per-sample gradient
 * ∇ₓ Σ_b f(x)_b along each basis direction e_j (broadcast over the batch), all d batched in
 * one pass by vmap over the direction axis. The Hessian of the whole batch is never formed.
 * The inner gradient is an ordinary `grad`, so under an outer transform it is staged as a
 * nested call and its strategy applies (docs/nested.md); the result differentiates again.
 */
import { Tensor } from "../core/tensor.js";
import { mul } from "../primitives/mul.js";
import { sum } from "../primitives/sum.js";
import { transpose } from "../primitives/transpose.js";
import { grad } from "../transforms/grad.js";
import { jvp } from "../transforms/jvp.js";
import { vmap } from "../transforms/vmap.js";
import { basisDirections, checkBatch, checkFunction, checkOutput } from "./common.js";

/** f(x) as [B] or [B, 1]: checked, then summed over the batch (per-sample gradients). */
function batchSum(f: (x: Tensor) => Tensor, fname: string, b: number, xShape: readonly number[]) {
  return (z: Tensor): Tensor => {
    const y: unknown = f(z);
    const out =
      y instanceof Tensor && y.ndim === 2
        ? checkOutput(y, [b, 1], fname, "[B] or [B, 1]", xShape)
        : checkOutput(y, [b], fname, "[B] or [B, 1]", xShape);
    return sum(out);
  };
}

/**
 * D [d, B]: D[j, b] = ∂²f(x)_b/∂x_{b,j}², by vmap over e_j of ⟨e_j, JVP of ∇ₓΣf along e_j⟩.
 * Since f is sample-wise, ∇ₓΣ_b f_b has row b equal to ∇f_b, and its JVP along E_j is H_b e_j.
 */
function diagonalHvps(f: (x: Tensor) => Tensor, x: Tensor, fname: string): Tensor {
  checkFunction(f, fname);
  const [b, d] = checkBatch(x, fname);
  const g = grad(batchSum(f, fname, b, x.shape));
  const dirs = basisDirections(b, d, x.dtype);
  return vmap((e: Tensor) => sum(mul(jvp(g, [x], [e])[1] as Tensor, e), 1))(dirs);
}

/**
 * The Laplacian Σᵢ ∂²f/∂xᵢ² of each sample of a batch-first scalar field: for x [B, d] and
 * f(x) [B] (or [B, 1]) computed row by row, returns [B]. d forward-over-reverse
 * Hessian-vector products batched in one vmapped pass; differentiable again (PINN losses).
 * @example
 * const u = (x) => ng.sum(ng.square(x), 1);   // |x|² per sample
 * ng.laplacian(u)(ng.array([[1, 2], [3, 4]])) // [4, 4]: 2d for every sample
 */
export function laplacian(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  checkFunction(f, "laplacian");
  return (x) => sum(diagonalHvps(f, x, "laplacian"), 0);
}

/**
 * The diagonal of each sample's Hessian, ∂²f/∂xᵢ², as [B, d] for x [B, d] and a
 * sample-wise scalar field f(x) [B] (or [B, 1]); computed like `laplacian`.
 * @example
 * ng.hessianDiagonal((x) => ng.sum(ng.pow(x, 3), 1))(ng.array([[1, 2]])) // [[6, 12]]: 6x
 */
export function hessianDiagonal(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  checkFunction(f, "hessianDiagonal");
  return (x) => transpose(diagonalHvps(f, x, "hessianDiagonal"), [1, 0]);
}
