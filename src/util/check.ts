/**
 * Argument checks shared by the public functions that take a callback or return what a
 * user function returned: a non-function is an error naming the op and
 * the argument, and a user function that returned nothing is told so in plain words. The
 * bottom layer: it imports nothing from the library but util/.
 */
import { describe } from "./options.js";

/**
 * Throws a TypeError naming `op` and `argName` unless `f` is a function.
 * @example checkFunction("grad", f); // ok for f = (x) => x
 */
export function checkFunction(op: string, f: unknown, argName = "f"): void {
  if (typeof f !== "function") {
    throw new TypeError(`${op}: ${argName} must be a function, got ${describe(f)}`);
  }
}

/** A short description of what a user function returned, for error messages. */
export function describeResult(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v !== null && typeof v === "object" && "shape" in v && "dtype" in v) {
    const t = v as { shape: readonly number[]; dtype: string };
    return `a Tensor of shape [${t.shape.join(", ")}] (${t.dtype})`;
  }
  return describe(v);
}

/**
 * Throws a TypeError when a user function `argName` returned undefined: almost always a
 * missing return statement (an arrow function with a block body).
 * @example checkReturned("grad", f(x)); // throws "grad: f returned undefined — ..."
 */
export function checkReturned(op: string, out: unknown, argName = "f"): void {
  if (out === undefined) {
    throw new TypeError(
      `${op}: ${argName} returned undefined — did you forget a return statement?`,
    );
  }
}

/**
 * A value written out for an error message, like JSON.stringify for lists of numbers, but
 * never throwing: cycles print as "<cycle>", bigints as "2n", long or deep lists are cut.
 * @example formatValue([2, [3, 4n]]) // "[2,[3,4n]]"
 */
export function formatValue(v: unknown): string {
  const seen = new Set<unknown>();
  const go = (x: unknown, depth: number): string => {
    if (typeof x === "bigint") return `${x}n`;
    if (typeof x === "string") return JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x);
    if (x === undefined || typeof x === "number" || typeof x === "boolean" || x === null) {
      return String(x);
    }
    if (Array.isArray(x)) {
      if (seen.has(x)) return "<cycle>";
      if (depth > 8) return "[…]";
      seen.add(x);
      const items = x.slice(0, 16).map((y) => go(y, depth + 1));
      seen.delete(x);
      return `[${items.join(",")}${x.length > 16 ? ",…" : ""}]`;
    }
    return describe(x);
  };
  return go(v, 0);
}
