/**
 * Per-sample differential operators, batch-first: the
 * Laplacian and Hessian diagonal of a scalar field, the divergence and Hutchinson trace
 * estimate of a vector field, and the per-sample Jacobian (`ng.nn.batchedJacobian`). Each
 * is composed from vmap, jvp and vjp/grad, never forms the Hessian or Jacobian of the whole
 * batch, differentiates again in both modes, and takes part in nested switching.
 */
export { laplacian, hessianDiagonal } from "./laplacian.js";
export { divergence } from "./divergence.js";
export { hutchinsonTrace, type HutchinsonOptions } from "./hutchinson.js";
export {
  batchedJacobian,
  type BatchedJacobianOptions,
  type JacobianMode,
} from "./batched_jacobian.js";
export { type OperatorOptions, type OperatorMethod } from "./taylor.js";
