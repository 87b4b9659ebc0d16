/**
 * The account and debug log of nested switching: how often inner
 * derivatives were staged or served by the decision cache, which strategy was decided for
 * each, which expansion actually ran, which were substituted and why, and why staging fell
 * back. Every decided inner call carries a `DecisionRecord`; the counters follow the records,
 * so they add up (see `NestedStats`). `ng.nested.stats()` returns a snapshot;
 * NESTGRAD_DEBUG=nested logs the same in words.
 */
import { debugEnabled } from "../config.js";

export interface NestedStats {
  /** Inner derivative calls traced to IR (staged), by inner transform (grad, vjp, ...). */
  staged: Record<string, number>;
  /** Inner calls served by the decision cache without staging (plain nesting), by inner transform. */
  cacheHits: Record<string, number>;
  /** Cached decisions dropped because the inner computation's structure changed. */
  invalidations: number;
  /** One per decided inner call (staged or cache hit): the strategy chosen, by strategy. */
  decisions: Record<string, number>;
  /**
   * One per decided call, counted when an outer transform first differentiates it: the
   * expansion that ran (" (eager)" when the outer tangents were concrete, i.e. an outer
   * forward-mode jvp).
   */
  expansions: Record<string, number>;
  /** One per decided call computed without an outer derivative (its inner derivative only), by strategy. */
  evaluations: Record<string, number>;
  /** Decisions replaced before they ran, by "from → to", with the reason. */
  substitutions: Record<string, { count: number; because: string }>;
  /** Decided calls not (yet) run: a call in a program not evaluated, or dropped as dead code. */
  pending: Record<string, number>;
  /**
   * Expansions of the linear companions (hvpCall, dirDerivCall) and repeated expansions of
   * an already counted call (a second pullback, a third-order pass), by what ran.
   */
  derived: Record<string, number>;
  /** Inner calls that fell back to plain nesting, by reason. */
  fallbacks: Record<string, number>;
  /**
   * Inner jacfwd/jacrev under an outer transform, by "written → computed" mode (e.g.
   * "jacrev → forward"), with the reason of the last one. Not part of the strategy account
   * above: a Jacobian's mode is chosen and run inline, without a call primitive.
   */
  jacobians: Record<string, { count: number; because: string }>;
}

/**
 * One inner call's decision: what was chosen and why, a substitution if one happened, and
 * how it first ran. Carried by the call primitive's params, so every batched or derived
 * copy of the call reports to the same record.
 */
export class DecisionRecord {
  /** The strategy that runs now (the chosen one unless substituted). */
  current: string;
  substituted?: { to: string; because: string };
  /** How it first ran ("nest", "forwardOverReverse (eager)", "evaluated by nest"...). */
  ran?: string;
  constructor(
    readonly kind: string,
    readonly chosen: string,
    readonly why: string,
  ) {
    this.current = chosen;
  }
}

let counters: NestedStats = fresh();

function fresh(): NestedStats {
  return {
    staged: {},
    cacheHits: {},
    invalidations: 0,
    decisions: {},
    expansions: {},
    evaluations: {},
    substitutions: {},
    pending: {},
    derived: {},
    fallbacks: {},
    jacobians: {},
  };
}

function bump(table: Record<string, number>, key: string, by = 1): void {
  const v = (table[key] ?? 0) + by;
  if (v === 0) delete table[key];
  else table[key] = v;
}

/**
 * A snapshot of the counters since the last reset. They add up: for every strategy s
 * (reading expansion keys without " (eager)"),
 * decisions[s] + substitutions into s − substitutions out of s
 *   = expansions[s] + evaluations[s] + pending[s].
 * @example
 * ng.nested.resetStats();
 * ng.grad((x) => ng.sum(ng.grad((y) => ng.sum(ng.sin(y)))(x)))(ng.array([1, 2]));
 * ng.nested.stats().decisions // which expansion each nested call chose
 */
export function stats(): NestedStats {
  return structuredClone(counters);
}

let onReset: () => void = () => {};

/** Installs what resetStats also clears (the decision cache). */
export function setOnReset(fn: () => void): void {
  onReset = fn;
}

/**
 * Resets the counters and empties the decision cache, so the counters after a reset
 * describe a cold start (e.g. between test scenarios).
 * @example ng.nested.resetStats(); ng.nested.stats().staged // {}
 */
export function resetStats(): void {
  counters = fresh();
  onReset();
}

/** The debug log line sink (console by default; replaceable for tests). */
let sink: (line: string) => void = (line) => console.error(line);

/**
 * Replaces the debug log sink; returns the previous one.
 * @example
 * const lines: string[] = [];
 * const prev = ng.nested.setLogSink((line) => lines.push(line));
 * ng.nested.setLogSink(prev);
 */
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

export function recordCacheHit(kind: string, detail: () => string): void {
  bump(counters.cacheHits, kind);
  log(() => `inner ${kind} served by the decision cache: ${detail()}`);
}

export function recordInvalidation(detail: () => string): void {
  counters.invalidations++;
  log(() => `cached decision invalidated: ${detail()}`);
}

/** A new decision for an inner call of transform `kind`; pending until it runs. */
export function recordDecision(kind: string, strategy: string, why: string): DecisionRecord {
  bump(counters.decisions, strategy);
  bump(counters.pending, strategy);
  log(() => `strategy ${strategy}: ${why} (inner ${kind})`);
  return new DecisionRecord(kind, strategy, why);
}

/** Replaces a pending decision's strategy (e.g. under vmap), with the reason. */
export function recordSubstitution(rec: DecisionRecord, to: string, because: string): void {
  if (rec.ran !== undefined || rec.current === to) return;
  const key = `${rec.current} → ${to}`;
  const s = (counters.substitutions[key] ??= { count: 0, because });
  s.count++;
  bump(counters.pending, rec.current, -1);
  bump(counters.pending, to);
  rec.substituted = { to, because };
  log(() => `substituted ${key} for inner ${rec.kind} because ${because}`);
  rec.current = to;
}

function settle(rec: DecisionRecord, ran: string): boolean {
  if (rec.ran !== undefined) return false;
  rec.ran = ran;
  bump(counters.pending, rec.current, -1);
  return true;
}

/**
 * An expansion by `strategy` (" (eager)" appended by the caller where it applies): the
 * first one of a decided call settles its record; later ones, and those of calls without a
 * record (linear companions), count as derived.
 */
export function recordExpansion(strategy: string, what: () => string, rec?: DecisionRecord): void {
  if (rec !== undefined && settle(rec, strategy)) bump(counters.expansions, strategy);
  else bump(counters.derived, strategy);
  log(() => `expanded ${what()} by ${strategy}`);
}

/** A decided call computed without an outer derivative (its impl or jit's inlining). */
export function recordEvaluation(rec: DecisionRecord | undefined, what: () => string): void {
  if (rec === undefined || !settle(rec, `evaluated by ${rec.current}`)) return;
  bump(counters.evaluations, rec.current);
  log(() => `evaluated ${what()} by ${rec.current} (no outer derivative)`);
}

export function recordFallback(reason: string, detail: () => string): void {
  bump(counters.fallbacks, reason);
  log(() => `fell back to plain nesting (${reason}): ${detail()}`);
}

/** An inner jacfwd/jacrev computed in `mode` (chosen now, or served by the decision cache). */
export function recordJacobianMode(kind: string, mode: string, why: string, cached: boolean): void {
  const key = `${kind} → ${mode}`;
  const s = (counters.jacobians[key] ??= { count: 0, because: why });
  s.count++;
  s.because = why;
  log(() => `inner ${kind} computed in ${mode} mode${cached ? " (cached)" : ""}: ${why}`);
}
