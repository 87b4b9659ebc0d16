/**
 * Global configuration (DESIGN.md §4, §5): `ng.config.set({...})` / `ng.config.get()`.
 * Settings are validated; an unknown key or a bad value is an error naming it.
 */

/** How an inner derivative under an outer derivative is expanded (DESIGN.md §4.4). */
export const NESTED_STRATEGIES = ["auto", "forwardOverReverse", "nest", "innerForward"] as const;
export type NestedStrategy = (typeof NESTED_STRATEGIES)[number];

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
  /** Debug channels to log to the console, e.g. ["nested"]; also NESTGRAD_DEBUG=nested. */
  debug: string[];
}

function envDebug(): string[] {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  const v = env?.NESTGRAD_DEBUG;
  return v
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

const current: Config = {
  nestedSwitching: true,
  nestedStrategy: "auto",
  nestedMemoryBudget: 256 * 2 ** 20,
  debug: envDebug(),
};

/** A copy of the current settings. */
export function get(): Config {
  return { ...current, debug: [...current.debug] };
}

/**
 * Changes settings; returns the previous ones (pass them back to restore).
 * @example const prev = ng.config.set({ nestedStrategy: "nest" }); ...; ng.config.set(prev);
 */
export function set(changes: Partial<Config>): Config {
  const prev = get();
  // Validate everything into a copy first: a rejected call changes nothing.
  const next = get();
  if (changes === null || typeof changes !== "object") {
    throw new TypeError(`config.set: expected an object of settings, got ${typeof changes}`);
  }
  for (const [k, v] of Object.entries(changes)) {
    switch (k) {
      case "nestedSwitching":
        if (typeof v !== "boolean")
          throw new TypeError(`config.set: nestedSwitching must be a boolean, got ${String(v)}`);
        next.nestedSwitching = v;
        break;
      case "nestedStrategy":
        if (!(NESTED_STRATEGIES as readonly unknown[]).includes(v)) {
          throw new TypeError(
            `config.set: nestedStrategy must be one of ${NESTED_STRATEGIES.join(", ")}, got ${String(v)}`,
          );
        }
        next.nestedStrategy = v as NestedStrategy;
        break;
      case "nestedMemoryBudget":
        if (typeof v !== "number" || !(v >= 0)) {
          throw new TypeError(
            `config.set: nestedMemoryBudget must be a non-negative number of bytes, got ${String(v)}`,
          );
        }
        next.nestedMemoryBudget = v;
        break;
      case "debug":
        if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
          throw new TypeError(
            `config.set: debug must be an array of channel names, got ${String(v)}`,
          );
        }
        next.debug = [...v];
        break;
      default:
        throw new TypeError(
          `config.set: unknown setting '${k}' (known: nestedSwitching, nestedStrategy, nestedMemoryBudget, debug)`,
        );
    }
  }
  Object.assign(current, next);
  return prev;
}

/** Runs `fn` with settings changed, restoring them afterwards. */
export function withConfig<T>(changes: Partial<Config>, fn: () => T): T {
  const prev = set(changes);
  try {
    return fn();
  } finally {
    set(prev);
  }
}

export function debugEnabled(channel: string): boolean {
  return current.debug.includes(channel);
}
