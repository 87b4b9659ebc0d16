/**
 * Contexts of the `ng.di` operators: extra arguments of f passed
 * after x, so a loss with fixed data and parameters can be differentiated with respect to
 * x alone without writing a closure. `constant(c)` is passed to f and not differentiated
 * by this operator (an outer transform still differentiates it: a constant that is a
 * tracer of an enclosing `ng.grad` gets its gradient); `cache(c)` passes a mutable
 * scratch object through unchanged.
 */
import { describeValue } from "../primitives/convert.js";

/** A value passed to f but not differentiated (see {@link constant}). */
export class Constant<T = unknown> {
  readonly kind = "constant";
  constructor(readonly value: T) {}
}

/** Scratch storage passed to f as is (see {@link cache}). */
export class Cache<T = unknown> {
  readonly kind = "cache";
  constructor(readonly value: T) {}
}

export type Context = Constant | Cache;

/**
 * Marks a context argument that f receives but the operator does not differentiate.
 * @example
 * const loss = (w, data) => ng.mean(ng.square(ng.sub(ng.matmul(data.x, w), data.y)));
 * const data = { x: ng.array([[1, 2], [3, 4]]), y: ng.array([1, 0]) };
 * ng.di.gradient(loss, ng.di.autoReverse(), ng.zeros([2]), ng.di.constant(data)); // [-1, -2]
 */
export function constant<T>(value: T): Constant<T> {
  return new Constant(value);
}

/**
 * Marks scratch storage: a mutable object f may write intermediate values into and read
 * them back within one call. Its contents after the operator returns are unspecified
 * (they may hold tracers). Functions with a cache are never staged by preparation, since
 * their writes must happen on every call.
 * @example
 * const f = (x, s) => { s.sq = ng.square(x); return ng.sum(ng.mul(s.sq, x)); };
 * ng.di.gradient(f, ng.di.autoReverse(), x, ng.di.cache({}));
 */
export function cache<T>(value: T): Cache<T> {
  return new Cache(value);
}

/** Validates the context arguments of operator `op` and returns them. */
export function checkContexts(op: string, contexts: readonly unknown[], first: number): Context[] {
  return contexts.map((c, i) => {
    if (c instanceof Constant || c instanceof Cache) return c;
    throw new TypeError(
      `${op}: argument ${first + i} must be a context, ng.di.constant(value) or ng.di.cache(value), ` +
        `got ${describeValue(c)}`,
    );
  });
}

/** The values f receives after x. */
export function contextValues(contexts: readonly Context[]): unknown[] {
  return contexts.map((c) => c.value);
}
