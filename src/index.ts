/**
 * nestgrad: differentiable programming in TypeScript. The one public surface
 *: every op as a function (and as a Tensor method), the transforms,
 * and the namespaces `tree`, `random`, `testing` and `nd` (the AD-free NDArray layer).
 */
export * from "./ops/index.js";
export { Tensor, ConcretizationError } from "./core/tensor.js";
export {
  FloatingPointError,
  EagerReadError,
  locateNonFinite,
  setWarningHandler,
  type WarningHandler,
} from "./core/debug.js";
export type { TensorLike } from "./primitives/convert.js";
export { array } from "./primitives/convert.js";
export type { IR } from "./core/ir.js";
export { grad, valueAndGrad, type GradOptions } from "./transforms/grad.js";
export { jvp } from "./transforms/jvp.js";
export { vjp, type VjpPullback } from "./transforms/vjp.js";
export type {
  Tensors,
  TangentOf,
  GradResult,
  ValueAndGradResult,
  JacobianOf,
  HessianOf,
} from "./transforms/types.js";
export { jacfwd, jacrev, hessian, hvp, type JacOptions } from "./transforms/jacobian.js";
export { customJvp, customVjp } from "./transforms/custom.js";
export { makeIR } from "./transforms/make_ir.js";
export {
  jit,
  type JitOptions,
  type JitStats,
  type Jitted,
  type Lowered,
  type OrtPackage,
  type PassOptions,
  setOnnxRuntimeWeb,
} from "./jit/index.js";
// Registers the "onnxruntime" jit backend (its package is loaded lazily, on first use).
import "./jit/onnx/index.js";
export {
  exportOnnx,
  type ExportOnnxOptions,
  type OnnxExport,
  type OnnxSignature,
  type OnnxValueSpec,
} from "./jit/onnx/export.js";
export { vmap, type AxisSpec } from "./transforms/vmap.js";
export {
  laplacian,
  hessianDiagonal,
  divergence,
  hutchinsonTrace,
  type HutchinsonOptions,
} from "./operators/index.js";
export * as tree from "./core/tree.js";
export * as random from "./random.js";
export * as testing from "./testing/index.js";
export * as optim from "./optim/index.js";
export * as train from "./train/index.js";
export * as nn from "./nn/index.js";
export * as nd from "./tensor/index.js";
export { NDArray } from "./tensor/ndarray.js";
export type { DType } from "./tensor/dtype.js";
export { AllocationError, MAX_ELEMENTS } from "./tensor/dtype.js";
export type { Shape } from "./tensor/shape.js";
export * as nested from "./nested/index.js";
export * as memory from "./core/memory.js";
export * as di from "./di/index.js";
export * as config from "./config.js";
