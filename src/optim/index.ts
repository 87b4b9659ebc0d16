/**
 * The optim namespace, in the style of Optimisers.jl:
 * rules are immutable hyperparameter records with `init` and `apply`; `setup(rule, ps)` and
 * `update(optState, ps, grads) -> [optState, ps]` walk any params tree purely; `freeze` /
 * `thaw` mark subtrees as not trained; every hyperparameter accepts a number, a rank-0
 * tensor or a schedule from `ng.optim.schedules`.
 */
export {
  applyRule,
  isRule,
  isTraceable,
  type Rule,
  type Hyper,
  type Schedule,
  type TraceableSchedule,
  type Scalar,
} from "./rule.js";
export {
  sgd,
  momentum,
  nesterov,
  type SGDOptions,
  type MomentumOptions,
  type NesterovOptions,
} from "./basic.js";
export {
  adam,
  adamw,
  rmsprop,
  adagrad,
  lion,
  type AdamOptions,
  type AdamState,
  type AdamWOptions,
  type RMSPropOptions,
  type RMSPropState,
  type AdagradOptions,
  type LionOptions,
} from "./adaptive.js";
export { chain, clipByGlobalNorm, clipByValue, weightDecay } from "./transforms.js";
export { setup, update, freeze, thaw, restore, type OptState, type PathSelector } from "./tree.js";
export * as schedules from "./schedules.js";
