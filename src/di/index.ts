/**
 * `ng.di`: uniform differentiation operators over interchangeable backends (after
 * DifferentiationInterface.jl). Say *what* derivative you
 * want with the operator and *how* it is computed with one backend argument:
 *
 * ```ts
 * const b = ng.di.autoReverse(); // or autoForward(), finiteDifferences(), secondOrder(o, i), autoSparse(b)
 * ng.di.gradient(loss, b, w, ng.di.constant(data));
 * ng.di.hessian(f, ng.di.autoSparse(ng.di.secondOrder(ng.di.autoForward(), ng.di.autoReverse())), x);
 * const prep = ng.di.prepareGradient(loss, b, w, ng.di.constant(data)); // staged once
 * prep.gradient(w2, ng.di.constant(data2));
 * ```
 *
 * Backends provide two base operators (pushforward, pullback), every other operator is
 * composed from them; `ng.di.stats()` counts the passes. Operators called under an outer
 * transform take part in nested switching like the native transforms. See backends.ts,
 * operators.ts, sparsity.ts and prepare.ts.
 */
export {
  autoForward,
  autoReverse,
  finiteDifferences,
  secondOrder,
  autoSparse,
  AutoForward,
  AutoReverse,
  FiniteDifferences,
  SecondOrder,
  AutoSparse,
  type Backend,
  type FDMethod,
  type FiniteDifferencesOptions,
  type AutoSparseOptions,
} from "./backends.js";
export { constant, cache, Constant, Cache, type Context } from "./contexts.js";
export {
  pushforward,
  valueAndPushforward,
  pullback,
  valueAndPullback,
  derivative,
  valueAndDerivative,
  gradient,
  valueAndGradient,
  jacobian,
  valueAndJacobian,
  hvp,
  gradientAndHvp,
  hessian,
  valueGradientAndHessian,
  secondDerivative,
  valueDerivativeAndSecondDerivative,
  jacobianSparsity,
  hessianSparsity,
  coloring,
} from "./operators.js";
export type { Pattern, Coloring } from "./sparsity.js";
export { stats, resetStats, type DiStats } from "./stats.js";
export {
  prepareDerivative,
  prepareGradient,
  prepareJacobian,
  preparePushforward,
  preparePullback,
  prepareHvp,
  prepareHessian,
  prepareSecondDerivative,
  Preparation,
  type DerivativePrep,
  type GradientPrep,
  type JacobianPrep,
  type PushforwardPrep,
  type PullbackPrep,
  type HvpPrep,
  type HessianPrep,
  type SecondDerivativePrep,
} from "./prepare.js";
