/**
 * `divergence(f)`: the trace of each sample's Jacobian of a vector
 * field f: [B, d] → [B, d] that maps samples independently, as the diagonal entries of d
 * JVPs along the basis directions e_j (broadcast over the batch), batched in one pass by
 * vmap over the direction axis. Neither the per-sample nor the batch Jacobian is stored.
 * Forward mode inside an outer derivative is plain nesting (docs/nested.md). By default the
 * d directions run as the first-order jets of one Taylor-mode pass (operators/taylor.ts),
 * with vmap(jvp) as the fallback when a primitive of f has no Taylor rule.
 */
import type { Tensor } from "../core/tensor.js";
import { mul } from "../primitives/mul.js";
import { sum } from "../primitives/sum.js";
import { jvp } from "../transforms/jvp.js";
import { vmap } from "../transforms/vmap.js";
import { basisDirections, checkBatch, checkFunction, checkOutput } from "./common.js";
import { byMethod, operatorMethod, taylorJets, type OperatorOptions } from "./taylor.js";

/**
 * The divergence ∇·f = Σᵢ ∂fᵢ/∂xᵢ of each sample of a batch-first vector field: for x
 * [B, d] and f(x) [B, d] computed row by row, returns [B]. `method` as for `laplacian`
 * (first-order jets only). Differentiable again.
 * @example
 * const A = ng.array([[1, 2], [3, 4]]);
 * const xs = ng.array([[1, 2], [3, 4], [5, 6]]); // 3 samples in 2-D
 * ng.divergence((x) => ng.matmul(x, A.T))(xs) // [5, 5, 5]: tr A for every sample
 */
export function divergence(
  f: (x: Tensor) => Tensor,
  options: OperatorOptions = {},
): (x: Tensor) => Tensor {
  checkFunction(f, "divergence");
  const method = operatorMethod("divergence", options);
  return (x) => {
    const [b, d] = checkBatch(x, "divergence");
    const dirs = basisDirections(b, d, x.dtype);
    const check = (y: unknown) => checkOutput(y, [b, d], "divergence", "[B, d]", x.shape);
    // ⟨e_j, J e_j⟩ per sample for each j: [d, B], then Σ_j.
    const diag = byMethod(
      "divergence",
      method,
      () => {
        const ctx = { directions: d, mode: "sum", order: 1 } as const;
        return sum(mul(taylorJets(f, x, ctx, check).jet1, dirs), 2);
      },
      () =>
        vmap((e: Tensor) => {
          const [, t] = jvp(f, [x], [e]) as [unknown, unknown];
          return sum(mul(check(t), e), 1);
        })(dirs),
    );
    return sum(diag, 0);
  };
}
