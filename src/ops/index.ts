/**
 * Every user-facing op: the primitives' user-facing functions and
 * the composites of this folder, under one name each. The public src/index.ts re-exports
 * this module. Importing it installs the Tensor methods (`x.add(y)`, `x.T`, ...).
 */
import { installTensorMethods } from "./methods.js";

installTensorMethods();

// Conversion
export {
  array,
  scalar,
  fromNDArray,
  type TensorLike,
  type ArrayLike,
} from "../primitives/convert.js";

// Elementwise primitives
export { neg } from "../primitives/neg.js";
export { abs } from "../primitives/abs.js";
export { sign } from "../primitives/sign.js";
export { exp } from "../primitives/exp.js";
export { expm1 } from "../primitives/expm1.js";
export { log } from "../primitives/log.js";
export { log1p } from "../primitives/log1p.js";
export { sqrt } from "../primitives/sqrt.js";
export { rsqrt } from "../primitives/rsqrt.js";
export { sin } from "../primitives/sin.js";
export { cos } from "../primitives/cos.js";
export { tan } from "../primitives/tan.js";
export { tanh } from "../primitives/tanh.js";
export { sigmoid } from "../primitives/sigmoid.js";
export { erf } from "../primitives/erf.js";
export { floor } from "../primitives/floor.js";
export { ceil } from "../primitives/ceil.js";
export { round } from "../primitives/round.js";
export { add } from "../primitives/add.js";
export { sub } from "../primitives/sub.js";
export { mul } from "../primitives/mul.js";
export { div } from "../primitives/div.js";
export { pow } from "../primitives/pow.js";
export { mod } from "../primitives/mod.js";
export { maximum } from "../primitives/maximum.js";
export { minimum } from "../primitives/minimum.js";
export { atan2 } from "../primitives/atan2.js";
export { equal, notEqual, less, lessEqual, greater, greaterEqual } from "../primitives/compare.js";
export { logicalAnd, logicalOr, logicalNot } from "../primitives/logical.js";
export { where } from "../primitives/where.js";
export { cast } from "../primitives/cast.js";
export { stopGradient } from "../primitives/stop_gradient.js";

// Reduction primitives
export { sum, type ReduceOptions } from "../primitives/sum.js";
export { prod } from "../primitives/prod.js";
export { max } from "../primitives/max.js";
export { min } from "../primitives/min.js";
export { argmax, type ArgReduceOptions } from "../primitives/argmax.js";
export { argmin } from "../primitives/argmin.js";

// Shape and indexing primitives
export { reshape } from "../primitives/reshape.js";
export { broadcastTo } from "../primitives/broadcast_to.js";
export { transpose, swapAxes, moveAxis } from "../primitives/transpose.js";
export { slice, type SliceSpec } from "../primitives/slice.js";
export {
  concatenate,
  concatenate as concat,
  stack,
  type JoinOptions,
} from "../primitives/concatenate.js";
export { pad } from "../primitives/pad.js";
export { take } from "../primitives/take.js";
export { flip } from "../primitives/flip.js";
export { matmul } from "../primitives/matmul.js";

// Convolution and pooling
export { conv } from "../primitives/conv.js";
export { convTranspose, type ConvTransposeOptions } from "../primitives/conv_back_input.js";
export { maxPool } from "../primitives/max_pool.js";
export { meanPool } from "../primitives/mean_pool.js";
export type { ConvOptions, PoolOptions, Padding } from "../primitives/conv_common.js";

// Composites
export { square, clip, type ClipOptions } from "./elementwise.js";
export {
  relu,
  leakyRelu,
  gelu,
  softplus,
  silu,
  swish,
  elu,
  softmax,
  logSoftmax,
  type SoftmaxOptions,
  type LeakyReluOptions,
  type GeluOptions,
  type EluOptions,
} from "./activations.js";
export {
  logsumexp,
  mean,
  variance,
  std,
  sumSquares,
  type Axis,
  type MomentOptions,
} from "./reductions.js";
export { norm, dot, outer, trace, type NormOrder, type VectorNormOptions } from "./linalg.js";
export {
  zeros,
  ones,
  full,
  arange,
  linspace,
  eye,
  zerosLike,
  onesLike,
  fullLike,
  type CreationOptions,
  type EyeOptions,
} from "./creation.js";
export { installTensorMethods, type TensorMethods } from "./methods.js";
