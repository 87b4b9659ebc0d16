/**
 * The allocation hook of `allocate` (dtype.ts): while a runtime that knows its buffers'
 * lifetimes runs (the eager backward pass, core/transpose.ts), arrays of at least
 * `minSize` elements come from its `take`, which may hand out recycled memory. Kept out of
 * dtype.ts so that it is not part of the public `nd` namespace: users never see the hook,
 * and what `allocate` returns is an ordinary typed array either way.
 */
import type { DataArray, DType } from "./dtype.js";

export interface AllocationHook {
  /** Smallest request (elements) routed to `take`; smaller ones are allocated fresh. */
  readonly minSize: number;
  /**
   * Exactly `size` elements of `dtype`, zeroed when `zero` is set (else arbitrary). While
   * it runs the hook is off, so it may itself allocate through `allocate`.
   */
  take(dtype: DType, size: number, zero: boolean): DataArray;
}

let hook: AllocationHook | null = null;

/** `hook.minSize`, or Infinity without a hook (or while it runs): one comparison per allocation. */
export let hookMin = Infinity;

/**
 * Installs `next` (null: none) and returns the hook it replaces, which the caller restores
 * in a `finally`; so hooks nest, an inner runtime's hook (or null) hiding the outer one.
 */
export function swapAllocationHook(next: AllocationHook | null): AllocationHook | null {
  const prev = hook;
  hook = next;
  hookMin = next === null ? Infinity : next.minSize;
  return prev;
}

/** `allocate` of a request at or above `hookMin`: asks the hook, with the hook off meanwhile. */
export function takeFromHook(dtype: DType, size: number, zero: boolean): DataArray {
  const h = hook!;
  hook = null;
  hookMin = Infinity;
  try {
    return h.take(dtype, size, zero);
  } finally {
    hook = h;
    hookMin = h.minSize;
  }
}
