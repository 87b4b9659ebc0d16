/**
 * Timing and table helpers of the benchmark suite: warm-up runs, the
 * median of several timed repeats, and a plain-text table printer.
 */

export interface TimingOptions {
  /** Untimed runs before measuring (JIT warm-up). */
  warmup: number;
  /** Timed repeats; the median is reported. */
  repeats: number;
  /** Each repeat runs the function enough times to last at least this long (ms). */
  minRepeatMs: number;
  /**
   * Keep warming up until this many ms have passed (after the `warmup` runs), so that code
   * V8 compiles in tiers reaches its steady state, as it does in a training loop.
   */
  warmupMs?: number;
}

/** Median seconds per call of `fn` (async functions are awaited). */
export async function timeIt(
  fn: () => unknown,
  { warmup, repeats, minRepeatMs, warmupMs = 0 }: TimingOptions,
): Promise<number> {
  const w0 = performance.now();
  for (let i = 0; i < warmup; i++) await fn();
  while (performance.now() - w0 < warmupMs) await fn();
  // calls per repeat, so that one repeat lasts at least minRepeatMs
  let calls = 1;
  if (minRepeatMs > 0) {
    const t0 = performance.now();
    await fn();
    const once = Math.max(performance.now() - t0, 1e-3);
    calls = Math.max(1, Math.ceil(minRepeatMs / once));
  }
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) await fn();
    samples.push((performance.now() - t0) / calls / 1e3);
  }
  samples.sort((a, b) => a - b);
  const mid = samples.length >> 1;
  return samples.length % 2 === 1 ? samples[mid]! : (samples[mid - 1]! + samples[mid]!) / 2;
}

/** Formats a number with `digits` decimals, or "-" for a missing value. */
export function fmt(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits);
}

/** Throughput ratio nestgrad / peer formatted as "1.23x" (higher: nestgrad faster). */
export function ratio(ours: number | undefined, peer: number | undefined): string {
  if (ours === undefined || peer === undefined || !(peer > 0)) return "-";
  return `${(ours / peer).toFixed(2)}x`;
}

/** Prints a left-aligned header row plus right-aligned data rows. */
export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

/** Deterministic uniform values in [-1, 1) (mulberry32), so runs are comparable. */
export function randomFloats(
  n: number,
  seed: number,
  ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array,
): Float32Array | Float64Array {
  let s = seed >>> 0;
  const out = new ctor(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}
