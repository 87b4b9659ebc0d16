/**
 * The decision cache of nested switching ("no re-staging per call"): the
 * strategy decided for an inner function, per function (by identity, and by source text for
 * the fresh closure a loss creates on every step), inner transform, settings and the
 * shapes and dtypes of the differentiated inputs.
 *
 * What is safe to reuse. A staged IR bakes in what the inner function closes over: concrete
 * tensors and JS numbers become IR constants, and outer-only work is done during staging.
 * None of that is observable in JS without running the function, so reusing an IR for a new
 * call could silently use stale constants. A decision, on the other hand, only picks among
 * expansions that are all correct. So the cache keeps decisions, and a cached `nest`
 * decision is served by plain nesting of the fresh function — exactly what the nest
 * expansion computes — without staging it. A fingerprint of that linearization (its
 * equation count and residual shapes, and which residuals are outer tracers) is kept: when
 * it changes (a captured value of another shape, another network behind the same source
 * text), the decision is dropped and the next call stages and decides again.
 */
import type { IR } from "../core/ir.js";
import { Tracer, type Tensor } from "../core/tensor.js";
import { get as getConfig } from "../config.js";

export interface CacheEntry {
  strategy: string;
  why: string;
  /** For an inner jacfwd/jacrev: the mode and the batch size of its block structure. */
  jacobian?: { mode: "forward" | "reverse"; batch: number; why: string };
  /** Fingerprint of the plain-nesting linearization, set by the first cache hit. */
  fingerprint?: string;
}

/** Source text of functions already seen (toString of a closure is not free). */
const sourceOf = new WeakMap<object, string>();
/** Entries of functions whose source text does not identify them (bound, native). */
let byIdentity = new WeakMap<object, Map<string, CacheEntry>>();
const bySource = new Map<string, Map<string, CacheEntry>>();
/** Bounds the cache: source texts are strings a long session could accumulate. */
const MAX_ENTRIES = 1024;

/**
 * The cache slot of an inner call: `origin` is the user's inner function, `kind` the inner
 * transform, `leaves` the differentiated inputs. Null when there is nothing to key on.
 */
export function cacheKey(origin: unknown, kind: string, leaves: readonly Tensor[]) {
  if (typeof origin !== "function") return null;
  const c = getConfig();
  let sig = `${kind}|${c.nestedStrategy}|${c.nestedMemoryBudget}`;
  for (const l of leaves) sig += `|${l.dtype}[${l.shape.join(",")}]`;
  let src = sourceOf.get(origin);
  if (src === undefined) {
    src = Function.prototype.toString.call(origin);
    sourceOf.set(origin, src);
  }
  // A bound or native function prints as "[native code]": its text says nothing about it.
  if (src.includes("[native code]")) {
    let m = byIdentity.get(origin);
    if (m === undefined) byIdentity.set(origin, (m = new Map()));
    return { map: m, key: sig };
  }
  // Keyed by the source text first, so that the long text is not concatenated (and hashed
  // anew) with the signature on every call.
  let m = bySource.get(src);
  if (m === undefined) {
    if (bySource.size >= MAX_ENTRIES) bySource.clear();
    bySource.set(src, (m = new Map()));
  }
  return { map: m, key: sig };
}

export type CacheKey = NonNullable<ReturnType<typeof cacheKey>>;

export function lookup(k: CacheKey | null): CacheEntry | undefined {
  return k === null ? undefined : k.map.get(k.key);
}

export function store(k: CacheKey | null, entry: CacheEntry): void {
  if (k === null) return;
  k.map.set(k.key, entry);
}

export function drop(k: CacheKey): void {
  k.map.delete(k.key);
}

/** Empties the decision cache. @example ng.nested.clearCache() */
export function clearCache(): void {
  bySource.clear();
  byIdentity = new WeakMap();
}

/**
 * What the plain-nesting linearization of an inner call looks like: equation count, and
 * the shape, dtype and kind (outer tracer or constant) of every residual.
 */
export function fingerprint(ir: IR): string {
  let s = `${ir.eqns.length}`;
  for (const c of ir.consts)
    s += `|${c instanceof Tracer ? "t" : "c"}${c.dtype}[${c.shape.join(",")}]`;
  return s;
}
