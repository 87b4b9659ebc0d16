/**
 * `ng.memory`: the ledger of the memory that reverse mode keeps alive. A linearization (the
 * first half of every reverse-mode derivative: grad, valueAndGrad, vjp, jacrev, hessian,
 * and the inner derivatives of nested switching) records the linear tangent program of f;
 * the arrays that program captured — primal intermediates such as tanh'(z), a layer's
 * input, a weight matrix — stay alive until its pullback has run. These are its residuals,
 * and they are what the nested strategies trade against time (`config.nestedMemoryBudget`).
 *
 * Counted: for each live linearization, the bytes of the distinct concrete arrays (each
 * underlying buffer once per linearization) among its tangent program's captured
 * constants, from the moment it is made until its owner is done with it — grad,
 * valueAndGrad, jacrev and the nested-switching expansions release right after their
 * pullbacks ran; a pullback returned by `ng.vjp` releases when it is garbage collected or
 * passed to `dispose`. An input of f that the program captures (W in dy = dx·W) counts
 * too, although the caller holds it anyway. A constant that is a tracer of an eager
 * forward-mode `jvp` or `vmap` around the linearization (as inside `hvp`, `jacfwd` or a
 * vmapped gradient) holds concrete arrays — its primal and tangent, or its batched value —
 * that nothing else accounts for, so those count as well (`viaTracers` in the records).
 *
 * Not counted: a constant that is, or holds, an abstract value — a tangent being recorded
 * by an enclosing reverse-mode derivative (the inner derivative of a nested one), anything
 * while `ng.jit` traces. Its values are captured, and counted, by the enclosing
 * linearization that holds them concretely. Nor are outputs, cotangents, temporaries of
 * the eager computation, the JavaScript heap, or what a jit backend allocates: for those,
 * use the process's resident set.
 *
 * Registering costs one pass over the program's constants and a few additions; nothing is
 * recorded unless a `measure` is running.
 */
import { checkFunction } from "../util/check.js";
import { describe as describeValue } from "../util/options.js";
import { disposerOf, ledger, type Residuals } from "./ledger.js";

/** One linearization as the ledger saw it (what `measure` lists). */
export interface LinearizationRecord {
  /** Who made it: "grad", "valueAndGrad", "vjp", "jacrev", "nested grad (nest)", "internal" (a nested call's expansion, jit's transpose). */
  readonly owner: string;
  /** Bytes of the distinct concrete buffers its tangent program captured. */
  readonly bytes: number;
  /** How many distinct buffers that is. */
  readonly buffers: number;
  /** Of `bytes`, those held through tracers of an eager forward-mode jvp or vmap. */
  readonly viaTracers: number;
  /** Live bytes of all linearizations just after it was registered (its peak contribution). */
  readonly liveBytesAfter: number;
  /** Whether it has been released (read when you look: a held vjp pullback flips it later). */
  readonly released: boolean;
}

/** A snapshot of the ledger (see `stats`). */
export interface MemoryStats {
  /** Bytes of concrete residuals held by live linearizations now. */
  liveBytes: number;
  /** The highest `liveBytes` since the program started or the last `resetPeak`. */
  peakBytes: number;
  /** Live linearizations (made and not yet released). */
  linearizations: number;
  /** Linearizations made since the program started. */
  made: number;
  /** Linearizations released since the program started. */
  released: number;
  /** Live linearizations held by vjp pullbacks, released when those are collected or disposed. */
  awaitingCollection: number;
  /** The live linearizations by who made them ("grad", "vjp", "nested grad (nest)", "internal"...). */
  byOwner: Record<string, { linearizations: number; bytes: number }>;
}

/**
 * The ledger now: live and peak residual bytes, live linearizations and their owners.
 * @example
 * const before = ng.memory.stats().liveBytes;
 * ng.grad((w: ng.Tensor) => ng.sum(ng.tanh(w)))(ng.array([1, 2, 3]));
 * ng.memory.stats().liveBytes - before // 0: grad released its residuals
 */
export function stats(): MemoryStats {
  const byOwner: MemoryStats["byOwner"] = {};
  for (const [k, t] of ledger.byOwner) if (t.linearizations > 0) byOwner[k] = { ...t };
  return {
    liveBytes: ledger.liveBytes,
    peakBytes: ledger.peakBytes,
    linearizations: ledger.linearizations,
    made: ledger.made,
    released: ledger.released,
    awaitingCollection: ledger.watched,
    byOwner,
  };
}

/**
 * Resets the peak to the current live bytes (so the next `stats().peakBytes` is the peak
 * from now on).
 * @example ng.memory.resetPeak(); ng.memory.stats().peakBytes === ng.memory.stats().liveBytes // true
 */
export function resetPeak(): void {
  ledger.peakBytes = ledger.liveBytes;
}

/** What `measure` returns. */
export interface Measurement<T> {
  /** What fn returned. */
  value: T;
  /** The peak of live residual bytes during fn, above the level when fn started. */
  peakBytes: number;
  /** Live residual bytes after fn, above the level when it started (held by what fn returned, such as a vjp pullback). */
  retainedBytes: number;
  /** The live bytes when fn started. */
  startBytes: number;
  /** Every linearization made during fn, in order. */
  linearizations: readonly LinearizationRecord[];
}

/**
 * Runs `fn` (synchronously) and reports the peak of live residual bytes above the starting
 * level while it ran: the "peak bytes per call" of a derivative. Measurements nest; the
 * global peak still sees what happened inside.
 * @example
 * const w = ng.ones([256]);
 * const m = ng.memory.measure(() => ng.grad((v: ng.Tensor) => ng.sum(ng.tanh(v)))(w));
 * m.peakBytes // 1024: tanh'(w), 256 float32 values, kept for the pullback
 */
export function measure<T>(fn: () => T): Measurement<T> {
  checkFunction("memory.measure", fn, "fn");
  const startBytes = ledger.liveBytes;
  const savedPeak = ledger.peakBytes;
  const savedRecording = ledger.recording;
  const records: Residuals[] = [];
  ledger.peakBytes = startBytes;
  ledger.recording = records;
  let peak: number;
  let value: T;
  try {
    value = fn();
  } finally {
    peak = ledger.peakBytes;
    ledger.peakBytes = Math.max(savedPeak, peak);
    ledger.recording = savedRecording;
    if (savedRecording !== null) savedRecording.push(...records);
  }
  if (value !== null && typeof value === "object" && typeof (value as any).then === "function") {
    throw new TypeError(
      "memory.measure: fn returned a Promise; only synchronous work is measured " +
        "(await it outside, and measure the synchronous calls)",
    );
  }
  return {
    value,
    peakBytes: peak - startBytes,
    retainedBytes: ledger.liveBytes - startBytes,
    startBytes,
    linearizations: records,
  };
}

/**
 * Releases the residuals of a pullback returned by `ng.vjp` now, instead of when it is
 * garbage collected: the ledger stops counting them and the pullback drops its reference to
 * them, so they can be freed while the function object is still around. Calling the
 * pullback afterwards is an error. Disposing twice does nothing.
 * @example
 * const [, pullback] = ng.vjp((w: ng.Tensor) => ng.tanh(w), ng.array([1, 2]));
 * const [dw] = pullback(ng.array([1, 1]));
 * ng.memory.dispose(pullback); // its residuals are released
 */
export function dispose(pullback: unknown): void {
  const d = disposerOf(pullback);
  if (d === undefined) {
    throw new TypeError(
      `memory.dispose: pullback must be a pullback returned by ng.vjp, got ${describeValue(pullback)}`,
    );
  }
  d();
}
