/**
 * `ng.nn`: explicit-parameter layers in the style of Lux.jl —
 * immutable layer configurations with `init(key) -> [ps, st]` and
 * `apply(x, ps, st) -> [y, st]`, containers that derive their parameters and state from
 * their children, the `stateful` wrapper, initialisers (`ng.nn.init`) and losses
 * (`ng.nn.losses`, also exported here by name).
 */
export {
  setup,
  stateful,
  parameterCount,
  testMode,
  trainMode,
  isLayer,
  type Layer,
  type Params,
  type State,
  type StatefulModel,
  type Tree,
} from "./layer.js";
export { chain, parallel, skipConnection, wrappedFunction, type Connection } from "./containers.js";
export { dense, type DenseOptions, type DenseParams } from "./dense.js";
export {
  conv1d,
  conv2d,
  convTranspose2d,
  type ConvLayerOptions,
  type ConvTransposeLayerOptions,
  type ConvLayerParams,
} from "./conv.js";
export { maxPool, meanPool, globalMeanPool, globalMaxPool, type PoolLayerOptions } from "./pool.js";
export {
  batchNorm,
  layerNorm,
  groupNorm,
  type BatchNormOptions,
  type BatchNormState,
  type NormOptions,
  type NormParams,
} from "./norm.js";
export { dropout, type DropoutOptions, type DropoutState } from "./dropout.js";
export { embedding, type EmbeddingOptions } from "./embedding.js";
export {
  rnnCell,
  lstmCell,
  gruCell,
  recurrence,
  type Cell,
  type CellOptions,
  type RecurrenceOptions,
} from "./recurrent.js";
export { flatten, reshape } from "./reshape.js";
export {
  batchedJacobian,
  type BatchedJacobianOptions,
  type JacobianMode,
} from "../operators/batched_jacobian.js";
export * as init from "./init.js";
export type { Initializer, InitializerFactory } from "./init.js";
export * as losses from "./losses.js";
export {
  mse,
  mae,
  huber,
  binaryCrossEntropyWithLogits,
  crossEntropyWithLogits,
  klDivergence,
  type Reduction,
  type LossOptions,
  type HuberOptions,
  type KLOptions,
} from "./losses.js";
