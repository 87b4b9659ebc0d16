/**
 * `laplacian(f)` and `hessianDiagonal(f)`: for a scalar field
 * f: [B, d] → [B] that maps samples independently, the diagonal of each sample's Hessian
 * by d forward-over-reverse Hessian-vector products — one JVP of the per-sample gradient
 * ∇ₓ Σ_b f(x)_b along each basis direction e_j (broadcast over the batch), all d batched in
 * one pass by vmap over the direction axis. The Hessian of the whole batch is never formed.
 * The inner gradient is an ordinary `grad`, so under an outer transform it is staged as a
 * nested call and its strategy applies (docs/nested.md); the result differentiates again.
 * By default both run in Taylor mode instead (operators/taylor.ts): one forward pass that
 * carries each value's first-order jets along the d directions and their second-order sum
 * (or each second derivative), falling back to the Hessian-vector products when a
 * primitive of f has no Taylor rule.
 */
import { Tensor } from "../core/tensor.js";
import { mul } from "../primitives/mul.js";
import { sum } from "../primitives/sum.js";
import { reshape } from "../primitives/reshape.js";
import { transpose } from "../primitives/transpose.js";
import { grad } from "../transforms/grad.js";
import { jvp } from "../transforms/jvp.js";
import { vmap } from "../transforms/vmap.js";
import { basisDirections, checkBatch, checkFunction, checkOutput } from "./common.js";
import { byMethod, operatorMethod, taylorJets, type OperatorOptions } from "./taylor.js";

/** f's output checked as [B] or [B, 1]. */
function scalarField(y: unknown, fname: string, b: number, xShape: readonly number[]): Tensor {
  return y instanceof Tensor && y.ndim === 2
    ? checkOutput(y, [b, 1], fname, "[B] or [B, 1]", xShape)
    : checkOutput(y, [b], fname, "[B] or [B, 1]", xShape);
}

/** f(x) as [B] or [B, 1]: checked, then summed over the batch (per-sample gradients). */
function batchSum(f: (x: Tensor) => Tensor, fname: string, b: number, xShape: readonly number[]) {
  return (z: Tensor): Tensor => {
    return sum(scalarField(f(z), fname, b, xShape));
  };
}

/**
 * D [d, B]: D[j, b] = ∂²f(x)_b/∂x_{b,j}², by vmap over e_j of ⟨e_j, JVP of ∇ₓΣf along e_j⟩.
 * Since f is sample-wise, ∇ₓΣ_b f_b has row b equal to ∇f_b, and its JVP along E_j is H_b e_j.
 */
function diagonalHvps(f: (x: Tensor) => Tensor, x: Tensor, fname: string): Tensor {
  const [b, d] = checkBatch(x, fname);
  const g = grad(batchSum(f, fname, b, x.shape));
  const dirs = basisDirections(b, d, x.dtype);
  return vmap((e: Tensor) => sum(mul(jvp(g, [x], [e])[1] as Tensor, e), 1))(dirs);
}

/** The second-order jets of f at x in Taylor mode: [1, B] ("sum") or [d, B] ("diag"). */
function taylorSecond(
  f: (x: Tensor) => Tensor,
  x: Tensor,
  fname: string,
  mode: "sum" | "diag",
): Tensor {
  const [b, d] = checkBatch(x, fname);
  const ctx = { directions: d, mode, order: 2 } as const;
  const { jet2 } = taylorJets(f, x, ctx, (y) => scalarField(y, fname, b, x.shape));
  return reshape(jet2!, [mode === "sum" ? 1 : d, b]);
}

/**
 * The Laplacian Σᵢ ∂²f/∂xᵢ² of each sample of a batch-first scalar field: for x [B, d] and
 * f(x) [B] (or [B, 1]) computed row by row, returns [B]. `method` (see OperatorOptions):
 * one Taylor-mode forward pass by default, or d forward-over-reverse Hessian-vector
 * products batched in one vmapped pass; differentiable again in both (PINN losses).
 * @example
 * const u = (x) => ng.sum(ng.square(x), 1);   // |x|² per sample
 * ng.laplacian(u)(ng.array([[1, 2], [3, 4]])) // [4, 4]: 2d for every sample
 */
export function laplacian(
  f: (x: Tensor) => Tensor,
  options: OperatorOptions = {},
): (x: Tensor) => Tensor {
  checkFunction(f, "laplacian");
  const method = operatorMethod("laplacian", options);
  return (x) =>
    byMethod(
      "laplacian",
      method,
      () => reshape(taylorSecond(f, x, "laplacian", "sum"), [x.shape[0]!]),
      () => sum(diagonalHvps(f, x, "laplacian"), 0),
    );
}

/**
 * The diagonal of each sample's Hessian, ∂²f/∂xᵢ², as [B, d] for x [B, d] and a
 * sample-wise scalar field f(x) [B] (or [B, 1]); computed like `laplacian` (the Taylor
 * pass carries each direction's second derivative instead of their sum).
 * @example
 * ng.hessianDiagonal((x) => ng.sum(ng.pow(x, 3), 1))(ng.array([[1, 2]])) // [[6, 12]]: 6x
 */
export function hessianDiagonal(
  f: (x: Tensor) => Tensor,
  options: OperatorOptions = {},
): (x: Tensor) => Tensor {
  checkFunction(f, "hessianDiagonal");
  const method = operatorMethod("hessianDiagonal", options);
  return (x) =>
    transpose(
      byMethod(
        "hessianDiagonal",
        method,
        () => taylorSecond(f, x, "hessianDiagonal", "diag"),
        () => diagonalHvps(f, x, "hessianDiagonal"),
      ),
      [1, 0],
    );
}
