/**
 * The static types of the transforms: what `grad`, `valueAndGrad`, `jvp`,
 * `vjp`, `vmap` and the Jacobians return, computed from the type of f and of the options,
 * so that strict TypeScript programs need no casts. Derivatives are trees of tensors
 * shaped like the differentiated argument (a number argument gets a tensor derivative);
 * tree types are mapped with `MapLeaves` from core/tree.
 */
import type { Tensor } from "../core/tensor.js";
import type { MapLeaves } from "../core/tree.js";

/**
 * A function a transform accepts. Its parameters are `any[]` so that an unannotated
 * lambda (`ng.grad((x) => ...)`) still type-checks; annotate the parameters to get typed
 * results.
 */
export type Fn = (...args: any[]) => unknown;

/** The options type when none are given: no argnums (so 0), no hasAux. */
export type NoOptions = Record<never, never>;

/** A function with an auxiliary output (`hasAux: true`): it returns [value, aux]. */
export type AuxFn = (...args: any[]) => readonly [Tensor, unknown];

/** T with every leaf a tensor: transforms return tensors where f took or gave numbers. */
export type Tensors<T> = MapLeaves<T, Tensor>;

/** A tangent or cotangent for a value of type T: same tree, tensor or number leaves. */
export type TangentOf<T> = MapLeaves<T, Tensor | number>;

/** Tangents for an argument list P, one per argument. */
export type TangentsOf<P extends readonly unknown[]> = { [K in keyof P]: TangentOf<P[K]> };

/** The type of argument `I` of F (unknown when F has no such argument). */
export type ArgOf<F extends Fn, I> = I extends keyof Parameters<F> ? Parameters<F>[I] : unknown;

/** The `argnums` of an options type: 0 when absent. */
export type ArgnumsOf<O> = O extends { readonly argnums: infer A }
  ? Exclude<A, undefined>
  : O extends { readonly argnums?: infer A }
    ? unknown extends A
      ? 0
      : Exclude<A, undefined> | 0
    : 0;

/** True when the options type sets `hasAux: true`. */
export type HasAux<O> = O extends { readonly hasAux: true } ? true : false;

/** The derivative of F with respect to the arguments `A` (one number, or a tuple of them). */
export type DerivOf<F extends Fn, A> = A extends number
  ? Tensors<ArgOf<F, A>>
  : A extends readonly number[]
    ? { -readonly [K in keyof A]: Tensors<ArgOf<F, A[K]>> }
    : unknown;

/** The auxiliary output of a hasAux function, which returns [value, aux]. */
export type AuxOf<F extends Fn> = ReturnType<F> extends readonly [unknown, infer X] ? X : unknown;

/** The result of `grad(f, options)(...)`: the gradient, or [gradient, aux] with hasAux. */
export type GradResult<F extends Fn, O> =
  HasAux<O> extends true ? [DerivOf<F, ArgnumsOf<O>>, AuxOf<F>] : DerivOf<F, ArgnumsOf<O>>;

/** The result of `valueAndGrad(f, options)(...)`: [value, gradient], value being [y, aux] with hasAux. */
export type ValueAndGradResult<F extends Fn, O> = [
  HasAux<O> extends true ? [Tensor, AuxOf<F>] : Tensor,
  DerivOf<F, ArgnumsOf<O>>,
];

/**
 * The Jacobian of F with respect to the arguments chosen by O: F's output structure
 * outside, the argument's structure inside, every leaf a tensor.
 */
export type JacobianOf<F extends Fn, O> = MapLeaves<
  Tensors<ReturnType<F>>,
  DerivOf<F, ArgnumsOf<O>>
>;

/** The Hessian of a scalar F: the Jacobian of its gradient. */
export type HessianOf<F extends Fn, O> = MapLeaves<
  DerivOf<F, ArgnumsOf<O>>,
  DerivOf<F, ArgnumsOf<O>>
>;
