/**
 * Tensor methods: `x.add(y)`, `x.sum(axis)`, `x.T`, ... on every Tensor,
 * concrete or tracer, by installing the user-facing ops on `Tensor.prototype`. The method
 * types come from module augmentation of core/tensor.ts; the implementation table below is
 * typed against them, so a declared method without an implementation fails to compile.
 * A method is the op with the tensor as first argument: `x.f(...args) = f(x, ...args)`.
 */
import { Tensor } from "../core/tensor.js";
import { abs } from "../primitives/abs.js";
import { add } from "../primitives/add.js";
import { argmax } from "../primitives/argmax.js";
import { argmin } from "../primitives/argmin.js";
import { atan2 } from "../primitives/atan2.js";
import { broadcastTo } from "../primitives/broadcast_to.js";
import { cast } from "../primitives/cast.js";
import { ceil } from "../primitives/ceil.js";
import { equal, greater, greaterEqual, less, lessEqual, notEqual } from "../primitives/compare.js";
import { cos } from "../primitives/cos.js";
import { div } from "../primitives/div.js";
import { erf } from "../primitives/erf.js";
import { exp } from "../primitives/exp.js";
import { expm1 } from "../primitives/expm1.js";
import { flip } from "../primitives/flip.js";
import { floor } from "../primitives/floor.js";
import { log } from "../primitives/log.js";
import { log1p } from "../primitives/log1p.js";
import { logicalAnd, logicalNot, logicalOr } from "../primitives/logical.js";
import { matmul } from "../primitives/matmul.js";
import { max } from "../primitives/max.js";
import { maximum } from "../primitives/maximum.js";
import { min } from "../primitives/min.js";
import { minimum } from "../primitives/minimum.js";
import { mod } from "../primitives/mod.js";
import { mul } from "../primitives/mul.js";
import { neg } from "../primitives/neg.js";
import { pad } from "../primitives/pad.js";
import { pow } from "../primitives/pow.js";
import { prod } from "../primitives/prod.js";
import { reshape } from "../primitives/reshape.js";
import { round } from "../primitives/round.js";
import { rsqrt } from "../primitives/rsqrt.js";
import { sigmoid } from "../primitives/sigmoid.js";
import { sign } from "../primitives/sign.js";
import { sin } from "../primitives/sin.js";
import { slice } from "../primitives/slice.js";
import { sqrt } from "../primitives/sqrt.js";
import { stopGradient } from "../primitives/stop_gradient.js";
import { sub } from "../primitives/sub.js";
import { sum } from "../primitives/sum.js";
import { take } from "../primitives/take.js";
import { tan } from "../primitives/tan.js";
import { tanh } from "../primitives/tanh.js";
import { moveAxis, swapAxes, transpose } from "../primitives/transpose.js";
import { elu, gelu, leakyRelu, logSoftmax, relu, silu, softmax, softplus } from "./activations.js";
import { clip, square } from "./elementwise.js";
import { dot, norm, outer } from "./linalg.js";
import { logsumexp, mean, std, sumSquares, variance } from "./reductions.js";

/** The parameters of `f` after the first (the tensor the method is called on). */
// The arguments after x, of both call forms when F is overloaded (`sum(x, axis?, keepdims?)`
// and `sum(x, { axis, keepdims })`); a single signature gives its own.
type Rest<F> = F extends {
  (x: never, ...a: infer A): unknown;
  (x: never, ...b: infer B): unknown;
}
  ? A | B
  : never;

/** The methods every Tensor has (see `installTensorMethods`). */
export interface TensorMethods {
  /** The tensor with its axes reversed (`transpose(x)`); a matrix transpose for rank 2. */
  readonly T: Tensor;

  // Elementwise unary
  neg(): Tensor;
  abs(): Tensor;
  sign(): Tensor;
  exp(): Tensor;
  expm1(): Tensor;
  log(): Tensor;
  log1p(): Tensor;
  sqrt(): Tensor;
  rsqrt(): Tensor;
  square(): Tensor;
  sin(): Tensor;
  cos(): Tensor;
  tan(): Tensor;
  tanh(): Tensor;
  sigmoid(): Tensor;
  erf(): Tensor;
  floor(): Tensor;
  ceil(): Tensor;
  round(): Tensor;
  relu(): Tensor;
  leakyRelu(...args: Rest<typeof leakyRelu>): Tensor;
  gelu(...args: Rest<typeof gelu>): Tensor;
  softplus(): Tensor;
  silu(): Tensor;
  swish(): Tensor;
  elu(...args: Rest<typeof elu>): Tensor;
  clip(...args: Rest<typeof clip>): Tensor;
  logicalNot(): Tensor;
  stopGradient(): Tensor;
  cast(...args: Rest<typeof cast>): Tensor;

  // Elementwise binary (broadcasting; JS numbers take this tensor's dtype)
  add(...args: Rest<typeof add>): Tensor;
  sub(...args: Rest<typeof sub>): Tensor;
  mul(...args: Rest<typeof mul>): Tensor;
  div(...args: Rest<typeof div>): Tensor;
  pow(...args: Rest<typeof pow>): Tensor;
  mod(...args: Rest<typeof mod>): Tensor;
  maximum(...args: Rest<typeof maximum>): Tensor;
  minimum(...args: Rest<typeof minimum>): Tensor;
  atan2(...args: Rest<typeof atan2>): Tensor;
  equal(...args: Rest<typeof equal>): Tensor;
  notEqual(...args: Rest<typeof notEqual>): Tensor;
  less(...args: Rest<typeof less>): Tensor;
  lessEqual(...args: Rest<typeof lessEqual>): Tensor;
  greater(...args: Rest<typeof greater>): Tensor;
  greaterEqual(...args: Rest<typeof greaterEqual>): Tensor;
  /** Short comparison names: eq, ne, lt, le, gt, ge. */
  eq(...args: Rest<typeof equal>): Tensor;
  ne(...args: Rest<typeof notEqual>): Tensor;
  lt(...args: Rest<typeof less>): Tensor;
  le(...args: Rest<typeof lessEqual>): Tensor;
  gt(...args: Rest<typeof greater>): Tensor;
  ge(...args: Rest<typeof greaterEqual>): Tensor;
  logicalAnd(...args: Rest<typeof logicalAnd>): Tensor;
  logicalOr(...args: Rest<typeof logicalOr>): Tensor;

  // Reductions
  sum(...args: Rest<typeof sum>): Tensor;
  prod(...args: Rest<typeof prod>): Tensor;
  max(...args: Rest<typeof max>): Tensor;
  min(...args: Rest<typeof min>): Tensor;
  argmax(...args: Rest<typeof argmax>): Tensor;
  argmin(...args: Rest<typeof argmin>): Tensor;
  mean(...args: Rest<typeof mean>): Tensor;
  variance(...args: Rest<typeof variance>): Tensor;
  std(...args: Rest<typeof std>): Tensor;
  sumSquares(...args: Rest<typeof sumSquares>): Tensor;
  logsumexp(...args: Rest<typeof logsumexp>): Tensor;
  softmax(...args: Rest<typeof softmax>): Tensor;
  logSoftmax(...args: Rest<typeof logSoftmax>): Tensor;
  norm(...args: Rest<typeof norm>): Tensor;

  // Shape and linear algebra
  reshape(...args: Rest<typeof reshape>): Tensor;
  /** All elements as a 1-D tensor. */
  flatten(): Tensor;
  transpose(...args: Rest<typeof transpose>): Tensor;
  swapAxes(...args: Rest<typeof swapAxes>): Tensor;
  moveAxis(...args: Rest<typeof moveAxis>): Tensor;
  broadcastTo(...args: Rest<typeof broadcastTo>): Tensor;
  slice(...args: Rest<typeof slice>): Tensor;
  flip(...args: Rest<typeof flip>): Tensor;
  pad(...args: Rest<typeof pad>): Tensor;
  take(...args: Rest<typeof take>): Tensor;
  matmul(...args: Rest<typeof matmul>): Tensor;
  dot(...args: Rest<typeof dot>): Tensor;
  outer(...args: Rest<typeof outer>): Tensor;
}

declare module "../core/tensor.js" {
  // Declaration merging adds the methods to the Tensor class type.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Tensor extends TensorMethods {}
}

/** `f` as a method: `this` becomes the first argument. */
function method<F extends (x: Tensor, ...args: never[]) => Tensor>(
  f: F,
): (this: Tensor, ...args: Rest<F>) => Tensor {
  const g = f as unknown as (x: Tensor, ...args: unknown[]) => Tensor;
  return function (this: Tensor, ...args: Rest<F>): Tensor {
    return g(this, ...(args as unknown[]));
  };
}

type MethodTable = {
  [K in Exclude<keyof TensorMethods, "T">]: (
    this: Tensor,
    ...args: Parameters<TensorMethods[K]>
  ) => Tensor;
};

const METHODS: MethodTable = {
  neg: method(neg),
  abs: method(abs),
  sign: method(sign),
  exp: method(exp),
  expm1: method(expm1),
  log: method(log),
  log1p: method(log1p),
  sqrt: method(sqrt),
  rsqrt: method(rsqrt),
  square: method(square),
  sin: method(sin),
  cos: method(cos),
  tan: method(tan),
  tanh: method(tanh),
  sigmoid: method(sigmoid),
  erf: method(erf),
  floor: method(floor),
  ceil: method(ceil),
  round: method(round),
  relu: method(relu),
  leakyRelu: method(leakyRelu),
  gelu: method(gelu),
  softplus: method(softplus),
  silu: method(silu),
  swish: method(silu),
  elu: method(elu),
  clip: method(clip),
  logicalNot: method(logicalNot),
  stopGradient: method(stopGradient),
  cast: method(cast),
  add: method(add),
  sub: method(sub),
  mul: method(mul),
  div: method(div),
  pow: method(pow),
  mod: method(mod),
  maximum: method(maximum),
  minimum: method(minimum),
  atan2: method(atan2),
  equal: method(equal),
  notEqual: method(notEqual),
  less: method(less),
  lessEqual: method(lessEqual),
  greater: method(greater),
  greaterEqual: method(greaterEqual),
  eq: method(equal),
  ne: method(notEqual),
  lt: method(less),
  le: method(lessEqual),
  gt: method(greater),
  ge: method(greaterEqual),
  logicalAnd: method(logicalAnd),
  logicalOr: method(logicalOr),
  sum: method(sum),
  prod: method(prod),
  max: method(max),
  min: method(min),
  argmax: method(argmax),
  argmin: method(argmin),
  mean: method(mean),
  variance: method(variance),
  std: method(std),
  sumSquares: method(sumSquares),
  logsumexp: method(logsumexp),
  softmax: method(softmax),
  logSoftmax: method(logSoftmax),
  norm: method(norm),
  reshape: method(reshape),
  flatten: method((x: Tensor) => reshape(x, [x.size])),
  transpose: method(transpose),
  swapAxes: method(swapAxes),
  moveAxis: method(moveAxis),
  broadcastTo: method(broadcastTo),
  slice: method(slice),
  flip: method(flip),
  pad: method(pad),
  take: method(take),
  matmul: method(matmul),
  dot: method(dot),
  outer: method(outer),
};

let installed = false;

/**
 * Installs the methods on `Tensor.prototype` (idempotent; ops/index.ts calls it at import).
 * The methods are non-enumerable, like class methods.
 * @example ng.installTensorMethods(); ng.array([1, 4]).sqrt() // [1, 2]
 */
export function installTensorMethods(): void {
  if (installed) return;
  installed = true;
  for (const [name, fn] of Object.entries(METHODS)) {
    Object.defineProperty(Tensor.prototype, name, {
      value: fn,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  Object.defineProperty(Tensor.prototype, "T", {
    get(this: Tensor): Tensor {
      return transpose(this);
    },
    configurable: true,
    enumerable: false,
  });
}
