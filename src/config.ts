/**
 * Global configuration: `ng.config.set({...})` / `ng.config.get()`.
 * Settings are validated; an unknown key or a bad value is an error naming it. The NaN
 * check and the eager-read policy live in core/debug.ts, read there by the interpreters;
 * the thread count lives in tensor/kernels/gemm_threads.ts, read there by matmul and by
 * the jit interpreter's fused loops.
 */
import {
  EAGER_READ_MODES,
  debugNans,
  eagerReads,
  emitWarning,
  setDebugNans,
  setEagerReads,
  type EagerReadMode,
} from "./core/debug.js";
import {
  MAX_THREADS,
  setThreads,
  threadsSetting,
  type ThreadsSetting,
} from "./tensor/kernels/gemm_threads.js";
import { checkOptions, closest, describe } from "./util/options.js";

/** How an inner derivative under an outer derivative is expanded. */
export const NESTED_STRATEGIES = ["auto", "forwardOverReverse", "nest", "innerForward"] as const;
export type NestedStrategy = (typeof NESTED_STRATEGIES)[number];

/**
 * The known debug channels (`config.debug`, NESTGRAD_DEBUG): "nested" logs why each nested
 * derivative call was switched, and with which strategy; "jit" logs each staging and
 * compilation of a jitted function (signature, backend, equations before and after the
 * passes, fallbacks).
 */
export const DEBUG_CHANNELS = ["nested", "jit"] as const;
export type DebugChannel = (typeof DEBUG_CHANNELS)[number];

export { EAGER_READ_MODES, type EagerReadMode } from "./core/debug.js";

export interface Config {
  /** Stage inner derivatives under outer transforms as call primitives (default true). */
  nestedSwitching: boolean;
  /** Force one expansion strategy, or let the cost model choose ("auto", the default). */
  nestedStrategy: NestedStrategy;
  /**
   * Bytes of residuals the cost model lets an expansion keep alive between the outer
   * forward and backward passes before it prefers forward-over-reverse, which keeps none
   * (default 256 MiB).
   */
  nestedMemoryBudget: number;
  /**
   * Debug channels to log to the console (see DEBUG_CHANNELS), e.g. ["nested"]; also
   * NESTGRAD_DEBUG=nested. An unknown channel name is an error.
   */
  debug: string[];
  /**
   * Check the output of every primitive for NaN and infinity (default false). The first
   * primitive that produces one raises a `FloatingPointError` naming it, the derivative
   * rule it ran in (e.g. the JVP rule of sqrt, during grad), its input shapes and dtypes,
   * whether those were already non-finite, and the user's stack frame. Works eagerly and
   * inside grad, jvp, vjp and vmap; costs one boolean test per primitive while off.
   */
  debugNans: boolean;
  /**
   * What reading the value of a tensor that carries a derivative does (`x.item()`,
   * `x.toArray()`, `x.dataSync()`, `Number(x)` inside grad, jvp, vjp, ...): the number read
   * is a constant to the transform, so no derivative flows through it. "warn" (default):
   * the read works and warns once per call site; "error": it throws an `EagerReadError`;
   * "allow": it works silently. Reading `ng.stopGradient(x)` never warns. Under staging
   * (makeIR, jit, nested switching) and for batched values inside vmap a read is always an
   * error, since there is no single concrete value.
   */
  eagerReads: EagerReadMode;
  /**
   * Threads for large matrix products and for the large fused loops of the jit
   * interpreter (default "auto"): a positive integer, or "auto" for the available cores,
   * at most 4. For a product, the main thread puts the operands into shared WebAssembly
   * memory, and it and worker threads each compute blocks of rows of the result with the
   * same WebAssembly SIMD kernels; a fused loop is cut into blocks of indices that each
   * thread runs with the same generated code over the interpreter's buffers, which are then
   * in shared memory. So results are bitwise the same for every count. Products below 2^20
   * float32 multiply-adds (about 100³; float64: 2^19, about 80³) and loops of less than
   * about 0.4 ms stay on one thread. Threads need Node ≥ 20.16 (worker_threads) or a
   * cross-origin-isolated page, off the browser's main thread; elsewhere everything runs on
   * one thread whatever the setting. 1 turns threads off (started workers stay parked);
   * workers start on the first large product or loop and never keep a process alive. On a
   * machine whose cores are busy with other work, extra threads gain nothing.
   */
  threads: ThreadsSetting;
}

// Typed as a record so that a new setting without an entry here fails to compile.
const KEYS = Object.keys({
  nestedSwitching: 0,
  nestedStrategy: 0,
  nestedMemoryBudget: 0,
  debug: 0,
  debugNans: 0,
  eagerReads: 0,
  threads: 0,
} satisfies Record<keyof Config, 0>);

/** Validates a list of debug channel names; the message of the first bad one, or null. */
function badChannel(names: readonly string[]): string | null {
  for (const name of names) {
    if ((DEBUG_CHANNELS as readonly string[]).includes(name)) continue;
    const guess = closest(name, DEBUG_CHANNELS);
    return (
      `unknown debug channel ${JSON.stringify(name)}` +
      (guess !== undefined ? `; did you mean "${guess}"?` : "") +
      (/nan|inf/i.test(name) ? " (NaN/Inf checks are the debugNans: true setting.)" : "") +
      ` Known channels: ${DEBUG_CHANNELS.join(", ")}.`
    );
  }
  return null;
}

/** NESTGRAD_DEBUG as a list of channels; unknown names are dropped with a warning, not thrown at import. */
function envDebug(): string[] {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  const v = env?.NESTGRAD_DEBUG;
  if (!v) return [];
  const names = v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const known: string[] = [];
  for (const name of names) {
    const bad = badChannel([name]);
    if (bad === null) known.push(name);
    else emitWarning(`nestgrad: NESTGRAD_DEBUG: ${bad} Ignoring it.`);
  }
  return known;
}

const current = {
  nestedSwitching: true,
  nestedStrategy: "auto" as NestedStrategy,
  nestedMemoryBudget: 256 * 2 ** 20,
  debug: envDebug(),
};

/** A copy of the current settings. @example ng.config.get().nestedStrategy // "auto" */
export function get(): Config {
  return {
    ...current,
    debug: [...current.debug],
    debugNans,
    eagerReads,
    threads: threadsSetting(),
  };
}

/**
 * Changes settings; returns the previous ones (pass them back to restore). Every value is
 * validated first: a rejected call changes nothing.
 * @example
 * const prev = ng.config.set({ debugNans: true, eagerReads: "error" });
 * ng.config.set(prev); // restores every setting
 */
export function set(changes: Partial<Config>): Config {
  if (changes === null || typeof changes !== "object" || Array.isArray(changes)) {
    throw new TypeError(`config.set: expected an object of settings, got ${describe(changes)}`);
  }
  checkOptions("config.set", changes, KEYS, "settings");
  const prev = get();
  // Validate everything into a copy first: a rejected call changes nothing.
  const next = get();
  for (const [k, v] of Object.entries(changes) as [keyof Config, unknown][]) {
    switch (k) {
      case "nestedSwitching":
        if (typeof v !== "boolean")
          throw new TypeError(`config.set: nestedSwitching must be a boolean, got ${describe(v)}`);
        next.nestedSwitching = v;
        break;
      case "nestedStrategy":
        if (!(NESTED_STRATEGIES as readonly unknown[]).includes(v)) {
          throw new TypeError(
            `config.set: nestedStrategy must be one of ${NESTED_STRATEGIES.join(", ")}, got ${describe(v)}` +
              suggestion(v, NESTED_STRATEGIES),
          );
        }
        next.nestedStrategy = v as NestedStrategy;
        break;
      case "nestedMemoryBudget":
        if (typeof v !== "number" || !(v >= 0)) {
          throw new TypeError(
            `config.set: nestedMemoryBudget must be a non-negative number of bytes, got ${describe(v)}`,
          );
        }
        next.nestedMemoryBudget = v;
        break;
      case "debug": {
        if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
          throw new TypeError(
            `config.set: debug must be an array of channel names (${DEBUG_CHANNELS.join(", ")}), got ${describe(v)}`,
          );
        }
        const bad = badChannel(v);
        if (bad !== null) throw new TypeError(`config.set: debug: ${bad}`);
        next.debug = [...v];
        break;
      }
      case "debugNans":
        if (typeof v !== "boolean")
          throw new TypeError(`config.set: debugNans must be a boolean, got ${describe(v)}`);
        next.debugNans = v;
        break;
      case "eagerReads":
        if (!(EAGER_READ_MODES as readonly unknown[]).includes(v)) {
          throw new TypeError(
            `config.set: eagerReads must be one of ${EAGER_READ_MODES.join(", ")}, got ${describe(v)}` +
              suggestion(v, EAGER_READ_MODES),
          );
        }
        next.eagerReads = v as EagerReadMode;
        break;
      case "threads":
        if (
          v !== "auto" &&
          !(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_THREADS)
        ) {
          throw new TypeError(
            `config.set: threads must be a positive integer (at most ${MAX_THREADS}) or "auto", got ${describe(v)}` +
              suggestion(v, ["auto"]),
          );
        }
        next.threads = v as ThreadsSetting;
        break;
    }
  }
  current.nestedSwitching = next.nestedSwitching;
  current.nestedStrategy = next.nestedStrategy;
  current.nestedMemoryBudget = next.nestedMemoryBudget;
  current.debug = next.debug;
  setDebugNans(next.debugNans);
  setEagerReads(next.eagerReads);
  if (next.threads !== threadsSetting()) setThreads(next.threads);
  return prev;
}

/** "; did you mean ...?" for a string close to one of `known`, else "". */
function suggestion(v: unknown, known: readonly string[]): string {
  if (typeof v !== "string") return "";
  const guess = closest(v, known);
  return guess !== undefined && guess !== v ? `; did you mean "${guess}"?` : "";
}

/**
 * Runs `fn` with settings changed, restoring them afterwards (also when it throws).
 * @example ng.config.withConfig({ debugNans: true }, () => ng.sqrt(ng.array(4))).item() // 2
 */
export function withConfig<T>(changes: Partial<Config>, fn: () => T): T {
  const prev = set(changes);
  try {
    return fn();
  } finally {
    set(prev);
  }
}

/**
 * True when debug channel `channel` (one of DEBUG_CHANNELS) is switched on.
 * @example ng.config.debugEnabled("nested") // false unless NESTGRAD_DEBUG names it
 */
export function debugEnabled(channel: DebugChannel): boolean {
  return current.debug.includes(channel);
}
