/**
 * Counters and the debug log of nested switching (DESIGN.md §4.6): how often inner
 * derivatives were staged, which strategy expanded them, and why staging fell back.
 * `ng.nested.stats()` returns a snapshot; NESTGRAD_DEBUG=nested logs the same in words.
 */
import { debugEnabled } from "../config.js";

export interface NestedStats {
  /** Inner derivative calls staged as call primitives, by inner transform (grad, vjp, ...). */
  staged: Record<string, number>;
  /** Expansions of call primitives under an outer transform, by strategy. */
  expansions: Record<string, number>;
  /** Strategy decisions of the cost model (or forced), by strategy. */
  decisions: Record<string, number>;
  /** Inner calls that fell back to plain nesting, by reason. */
  fallbacks: Record<string, number>;
}

let counters: NestedStats = fresh();

function fresh(): NestedStats {
  return { staged: {}, expansions: {}, decisions: {}, fallbacks: {} };
}

function bump(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

/** A snapshot of the counters since the last reset. */
export function stats(): NestedStats {
  return structuredClone(counters);
}

/** Resets the counters (e.g. between test scenarios). */
export function resetStats(): void {
  counters = fresh();
}

/** The debug log line sink (console by default; replaceable for tests). */
let sink: (line: string) => void = (line) => console.error(line);

/** Replaces the debug log sink; returns the previous one. */
export function setLogSink(fn: (line: string) => void): (line: string) => void {
  const prev = sink;
  sink = fn;
  return prev;
}

export function log(message: () => string): void {
  if (debugEnabled("nested")) sink(`[nestgrad:nested] ${message()}`);
}

export function recordStaged(kind: string, detail: () => string): void {
  bump(counters.staged, kind);
  log(() => `staged inner ${kind}: ${detail()}`);
}

export function recordDecision(strategy: string, why: () => string): void {
  bump(counters.decisions, strategy);
  log(() => `strategy ${strategy}: ${why()}`);
}

export function recordExpansion(strategy: string, what: () => string): void {
  bump(counters.expansions, strategy);
  log(() => `expanded ${what()} by ${strategy}`);
}

export function recordFallback(reason: string, detail: () => string): void {
  bump(counters.fallbacks, reason);
  log(() => `fell back to plain nesting (${reason}): ${detail()}`);
}
