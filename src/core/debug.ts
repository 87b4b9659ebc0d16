/**
 * Debugging aids of the core (nothing drops a derivative or returns
 * NaN silently). Two switches live here, below config.ts, so that the interpreters test a
 * plain module-level boolean: `eagerReads` decides what reading the value of a tensor that
 * carries a derivative does (warn once per call site, throw, or allow), and `debugNans`
 * makes the eval interpreter check every primitive's concrete outputs and raise a
 * `FloatingPointError` naming the first primitive that produced a NaN or an infinity, the
 * derivative rule it ran in and the user's stack frame. `locateNonFinite` re-runs a
 * function eagerly with the check on, which is how a compiled program can point at the
 * primitive. The warning sink is pluggable so that tests and applications can capture it.
 */
import { isFloat } from "../tensor/dtype.js";
import type { NDArray } from "../tensor/ndarray.js";

/** What reading the value of a tensor that carries a derivative does (see `config.eagerReads`). */
export const EAGER_READ_MODES = ["warn", "error", "allow"] as const;
export type EagerReadMode = (typeof EAGER_READ_MODES)[number];

/** Live flag read by the eval interpreter: check primitive outputs for NaN/Inf. */
export let debugNans = false;
/** Live policy read by Tensor's read methods. */
export let eagerReads: EagerReadMode = "warn";

/** Sets `debugNans` (config.set is the public way; it validates). */
export function setDebugNans(on: boolean): void {
  debugNans = on;
}

/** Sets `eagerReads` (config.set is the public way; it validates). */
export function setEagerReads(mode: EagerReadMode): void {
  eagerReads = mode;
}

// ---------------------------------------------------------------------------------------
// Warnings

/** Receives the library's warnings (one message each). */
export type WarningHandler = (message: string) => void;

const consoleWarning: WarningHandler = (message) => console.warn(message);
let warningHandler: WarningHandler = consoleWarning;

/**
 * Replaces the sink of nestgrad's warnings (console.warn by default; null restores it) and
 * returns the previous sink, so that it can be put back.
 * @example
 * const seen: string[] = [];
 * const prev = ng.setWarningHandler((m) => seen.push(m));
 * ng.grad((x) => (x.item() > 0 ? x : ng.neg(x)))(ng.array(2)); // seen has one warning
 * ng.setWarningHandler(prev);
 */
export function setWarningHandler(handler: WarningHandler | null): WarningHandler {
  if (handler !== null && typeof handler !== "function") {
    throw new TypeError(
      `setWarningHandler: handler must be a function or null, got ${typeof handler}`,
    );
  }
  const prev = warningHandler;
  warningHandler = handler ?? consoleWarning;
  return prev;
}

/** Hands `message` to the current warning sink. */
export function emitWarning(message: string): void {
  warningHandler(message);
}

// ---------------------------------------------------------------------------------------
// Stack frames: which frame is the user's

/**
 * The library's root folder (src/ or dist/), as a path with forward slashes; a prefix that
 * matches nothing where the module URL has no folders (e.g. a blob: bundle).
 */
const LIB_DIR = libDir();
const CORE_DIR = LIB_DIR + "core/";

function libDir(): string {
  try {
    return normalizePath(new URL("..", import.meta.url).href);
  } catch {
    return "\0no-library-folder/";
  }
}

function normalizePath(file: string): string {
  let f = file;
  if (f.startsWith("file://")) {
    try {
      f = decodeURIComponent(new URL(f).pathname);
    } catch {
      f = f.slice("file://".length);
    }
  }
  f = f.replace(/\\/g, "/");
  // Windows: "/C:/x" from a URL and "C:/x" from a path compare equal.
  return /^\/[A-Za-z]:\//.test(f) ? f.slice(1) : f;
}

interface Frame {
  /** "file:line:column" as printed in the stack. */
  where: string;
  file: string;
  /** The library's own code. */
  lib: boolean;
  /** Runtime internals (node:internal, native code, eval): never the user's site. */
  runtime: boolean;
}

/** The frames of the current stack (deepest first), without this function's own. */
function captureFrames(): Frame[] {
  // V8's stack depth setting (absent elsewhere): library frames (transform, trace, rule,
  // op) can be many, so look past them.
  const E = Error as { stackTraceLimit?: number };
  const saved = E.stackTraceLimit;
  if (saved !== undefined) E.stackTraceLimit = Math.max(saved, 64);
  const stack = new Error().stack ?? "";
  if (saved !== undefined) E.stackTraceLimit = saved;
  const frames: Frame[] = [];
  for (const raw of stack.split("\n")) {
    // V8: "at fn (file:1:2)" or "at file:1:2"; SpiderMonkey/JSC: "fn@file:1:2". Paths may
    // hold "@" (pnpm's store) or spaces, so the file is everything up to ":line:column".
    const line = raw.trim();
    const m =
      /\((.+):(\d+):(\d+)\)$/.exec(line) ??
      /^at (.+):(\d+):(\d+)$/.exec(line) ??
      /^[^@\s]*@(.+):(\d+):(\d+)$/.exec(line);
    if (!m) continue;
    const file = normalizePath(m[1]!);
    const lib = file.startsWith(LIB_DIR);
    const runtime = file.startsWith("node:") || file.startsWith("internal/");
    frames.push({ where: `${file}:${m[2]}:${m[3]}`, file, lib, runtime });
  }
  // Drop captureFrames itself.
  return frames.filter((f) => !(f.file.startsWith(CORE_DIR) && f.file.includes("/core/debug.")));
}

/** The first frame outside the library: where the user's program called into it. */
function userFrame(frames: readonly Frame[]): string | undefined {
  return frames.find((f) => !f.lib && !f.runtime)?.where;
}

// ---------------------------------------------------------------------------------------
// Eager reads

/** Raised by a read of a tensor that carries a derivative while `eagerReads` is "error". */
export class EagerReadError extends Error {
  constructor(
    readonly method: string,
    readonly site: string | undefined,
    what: string,
  ) {
    super(
      `${method} reads the value of ${what} that carries a derivative (inside grad, jvp, vjp, ...)` +
        (site ? ` at ${site}` : "") +
        `, and config.eagerReads is "error". The value read would be a constant to the transform: ` +
        `no derivative flows through it. Read ng.stopGradient(x) instead if a constant is what you ` +
        `mean, use ng.where(cond, a, b) for value-dependent choices, or set ` +
        `ng.config.set({ eagerReads: "warn" }) to allow such reads with a warning.`,
    );
    this.name = "EagerReadError";
  }
}

const warnedSites = new Set<string>();

/**
 * Applies the `eagerReads` policy to a successful read (`method`, e.g. "item()") of a
 * tensor that carries a derivative. Reads made by the library itself (the frame calling
 * the read method is library code) are its own business and pass; when no frame can be
 * told apart (a bundle holding both), the read counts as the user's: warning rather than
 * silence.
 */
export function onDerivativeRead(method: string, what: string): void {
  if (eagerReads === "allow") return;
  const frames = captureFrames();
  // Skip the read machinery (Tensor's methods in core/), then look at the caller.
  let k = 0;
  while (k < frames.length && frames[k]!.file.startsWith(CORE_DIR)) k++;
  const caller = frames[k];
  if (caller?.lib && frames.some((f) => !f.lib && !f.runtime)) return;
  const site = userFrame(frames.slice(k));
  if (eagerReads === "error") throw new EagerReadError(method, site, what);
  const key = site ?? "(unknown site)";
  if (warnedSites.has(key)) return;
  warnedSites.add(key);
  warningHandler(
    `nestgrad: ${method}${site ? ` at ${site}` : ""} reads the value of ${what} that ` +
      `carries a derivative (inside grad, jvp, vjp, ...). The value read is a constant to the ` +
      `transform, so no derivative flows through it (and branching on it makes the function ` +
      `piecewise). If a constant is what you mean, read ng.stopGradient(x) instead; ` +
      `ng.config.set({ eagerReads: "error" }) makes such reads errors and "allow" silences ` +
      `them. (This warning is shown once per call site.)`,
  );
}

// ---------------------------------------------------------------------------------------
// NaN / Inf detection

/** One input of the primitive that produced a non-finite value. */
export interface NonFiniteInput {
  shape: number[];
  dtype: string;
  /** How many of its elements were already NaN or infinite. */
  nonFinite: number;
}

/**
 * Raised while `config.debugNans` is on by the first primitive whose output holds a NaN
 * or an infinity. It names the primitive, the derivative rules it ran inside (innermost
 * first; empty for the user's own forward computation), the shapes and dtypes of its
 * inputs and whether they were already non-finite, and the user's stack frame.
 */
export class FloatingPointError extends Error {
  constructor(
    readonly primitive: string,
    /** E.g. ["the JVP rule of sqrt"]; empty outside derivative rules. */
    readonly rules: readonly string[],
    readonly inputs: readonly NonFiniteInput[],
    readonly output: { index: number; shape: number[]; dtype: string; nans: number; infs: number },
    /** "file:line:column" of the user's code that led to the primitive, when found. */
    readonly frame: string | undefined,
  ) {
    const found = [
      output.nans ? `${output.nans} NaN` : "",
      output.infs ? `${output.infs} infinite` : "",
    ]
      .filter(Boolean)
      .join(" and ");
    const ins = inputs.map(
      (x, i) =>
        `input ${i}: ${x.dtype}[${x.shape.join(",")}]` +
        (x.nonFinite ? ` (already had ${x.nonFinite} non-finite)` : ""),
    );
    const already = inputs.some((x) => x.nonFinite > 0);
    super(
      `debugNans: primitive '${primitive}'` +
        (rules.length ? ` in ${rules.join(", in ")}` : "") +
        ` produced ${found} value${output.nans + output.infs === 1 ? "" : "s"} in output ` +
        `${output.index} (${output.dtype}[${output.shape.join(",")}]) from ` +
        (ins.length ? ins.join(", ") : "no inputs") +
        `. ` +
        (already
          ? `Its inputs were already non-finite: the cause lies upstream (e.g. in the data). `
          : `Its inputs were finite: this primitive is where the NaN/Inf arises. `) +
        (frame ? `The user's code that led to it: ${frame}.` : `No user stack frame was found.`),
    );
    this.name = "FloatingPointError";
  }
}

const ruleStack: string[] = [];

/**
 * Runs `fn` marked as the body of a derivative rule (`what`, e.g. "the JVP rule of sqrt"), so that a NaN found inside names it. Interpreters call it only while debugNans is on.
 */
export function inRule<T>(what: string, fn: () => T): T {
  ruleStack.push(what);
  try {
    return fn();
  } finally {
    ruleStack.pop();
  }
}

/** The derivative rules an equation was staged in, while debugNans is on (linearize). */
const origins = new WeakMap<object, string>();

/** Records the rule context of a staged equation, so its transpose can name where it came from. */
export function noteOrigin(eqn: object): void {
  if (ruleStack.length > 0) origins.set(eqn, ruleStack[ruleStack.length - 1]!);
}

/** ", from <rule>" for an equation staged inside a rule, else "". */
export function originOf(eqn: object): string {
  const o = origins.get(eqn);
  return o === undefined ? "" : `, from ${o}`;
}

function countNonFinite(a: NDArray): { nans: number; infs: number } {
  let nans = 0;
  let infs = 0;
  for (const v of a.flat()) {
    if (v !== v) nans++;
    else if (v === Infinity || v === -Infinity) infs++;
  }
  return { nans, infs };
}

/**
 * Throws a FloatingPointError when a float output of primitive `name` holds a NaN or an
 * infinity. Called by the eval interpreter after every impl while debugNans is on.
 */
export function checkNonFinite(
  name: string,
  inputs: readonly NDArray[],
  outputs: readonly NDArray[],
): void {
  outputs.forEach((o, index) => {
    if (!isFloat(o.dtype)) return;
    const { nans, infs } = countNonFinite(o);
    if (nans === 0 && infs === 0) return;
    const described = inputs.map((x) => {
      const c = isFloat(x.dtype) ? countNonFinite(x) : { nans: 0, infs: 0 };
      return { shape: [...x.shape], dtype: x.dtype, nonFinite: c.nans + c.infs };
    });
    throw new FloatingPointError(
      name,
      [...ruleStack].reverse(),
      described,
      { index, shape: [...o.shape], dtype: o.dtype, nans, infs },
      userFrame(captureFrames()),
    );
  });
}

/**
 * Runs `fn(...args)` eagerly with `debugNans` on and returns the FloatingPointError that
 * locates the first primitive producing a NaN or an infinity, or null when none does.
 * Other errors propagate; the previous debugNans setting is restored. A compiled program
 * that finds a NaN can call it with the uncompiled function to point at the primitive.
 * @example
 * const err = ng.locateNonFinite((x) => ng.log(ng.sub(x, 2)), [ng.array([1, 3])]);
 * err?.primitive; // "log"
 */
export function locateNonFinite<A extends unknown[]>(
  fn: (...args: A) => unknown,
  args: A,
): FloatingPointError | null {
  if (typeof fn !== "function") {
    throw new TypeError(`locateNonFinite: fn must be a function, got ${typeof fn}`);
  }
  if (!Array.isArray(args)) {
    throw new TypeError(`locateNonFinite: args must be an array of arguments, got ${typeof args}`);
  }
  const saved = debugNans;
  debugNans = true;
  try {
    fn(...args);
    return null;
  } catch (e) {
    if (e instanceof FloatingPointError) return e;
    throw e;
  } finally {
    debugNans = saved;
  }
}
