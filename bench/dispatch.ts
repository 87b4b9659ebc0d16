/**
 * Per-op dispatch cost at small sizes: microseconds per call of single ops on float32
 * arrays of 4 and 64 elements in eager mode, and inside `grad` (of sum(op(x)), with
 * respect to every operand): its time, the primitives an eager run of it dispatches
 * (counted by wrapping each registry primitive's `impl`), the time per primitive, and the
 * time per primitive beyond the gradient of sum(x) alone (the fixed cost of a gradient,
 * measured right after each row). Then the W0 small gradient of the AD benchmark
 * (bench/ad.ts: grad of a small MLP loss). At these sizes the path from the op wrapper
 * through `bind` and the interpreters to the NDArray and tensor constructors costs as
 * much as the kernels or more. Times are the fastest of several short repeats (at a few
 * µs per call the median follows the machine's load). Run alone with
 * `npx tsx bench/dispatch.ts [--quick]` (about 15 s); `runDispatchBench` returns the
 * numbers.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ng from "../src/index.js";
import { PRIMITIVES } from "../src/primitives/index.js";
import type { NDArray } from "../src/tensor/ndarray.js";
import { makeProblem } from "./ad/common.js";
import { nestgradRun } from "./ad/nestgrad.js";
import { fmt, printTable, randomFloats, timeIt, type TimingOptions } from "./util.js";

type Tensor = ng.Tensor;

/** One row: an op applied to fixed operands. */
interface OpCase {
  op: string;
  shapes: string;
  elements: number;
  /** The operands; `apply` runs the op on them. */
  args: Tensor[];
  apply: (xs: Tensor[]) => Tensor;
}

function f32(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return ng.array(new ng.NDArray(randomFloats(n, seed, Float32Array), shape));
}

function fmtShape(s: number[]): string {
  return `[${s.join(",")}]`;
}

function cases(): OpCase[] {
  const out: OpCase[] = [];
  for (const n of [4, 64]) {
    const s = [n];
    const side = Math.round(Math.sqrt(n));
    const x = f32(s, 1);
    const y = f32(s, 2);
    const un = (op: string, f: (a: Tensor) => Tensor): OpCase => ({
      op,
      shapes: fmtShape(s),
      elements: n,
      args: [x],
      apply: ([a]) => f(a!),
    });
    const bin = (op: string, f: (a: Tensor, b: Tensor) => Tensor): OpCase => ({
      op,
      shapes: `${fmtShape(s)}, ${fmtShape(s)}`,
      elements: n,
      args: [x, y],
      apply: ([a, b]) => f(a!, b!),
    });
    out.push(bin("add", ng.add), bin("mul", ng.mul));
    out.push(
      un("tanh", ng.tanh),
      un("exp", ng.exp),
      un("sum", (a) => ng.sum(a)),
    );
    out.push(un("reshape", (a) => ng.reshape(a, [side, n / side])));
    // matmul [k,k]x[k,k]: [4,4]x[4,4] (16 elements) and [8,8]x[8,8] (64 elements)
    const k = n === 4 ? 4 : 8;
    const ma = f32([k, k], 3);
    const mb = f32([k, k], 4);
    out.push({
      op: "matmul",
      shapes: `${fmtShape([k, k])}x${fmtShape([k, k])}`,
      elements: k * k,
      args: [ma, mb],
      apply: ([a, b]) => ng.matmul(a!, b!),
    });
    // broadcast add [c] + [r, c]: [4] + [2,4] (8 elements) and [16] + [4,16] (64 elements)
    const c = n === 4 ? 4 : 16;
    const r = n === 4 ? 2 : 4;
    const bv = f32([c], 5);
    const bm = f32([r, c], 6);
    out.push({
      op: "broadcast add",
      shapes: `${fmtShape([c])}+${fmtShape([r, c])}`,
      elements: r * c,
      args: [bv, bm],
      apply: ([a, b]) => ng.add(a!, b!),
    });
  }
  return out;
}

/**
 * How many registry primitives an eager run of `fn` dispatches (each `impl` call counts
 * once), by wrapping every registry primitive's impl for the duration of one call.
 */
export function countPrimitives(fn: () => unknown): number {
  let count = 0;
  type Impl = (xs: NDArray[], p: unknown) => NDArray[];
  const saved = new Map<object, Impl>();
  for (const p of PRIMITIVES as unknown as { impl: Impl }[]) {
    const impl = p.impl;
    saved.set(p, impl);
    p.impl = (xs, params) => {
      count++;
      return impl(xs, params);
    };
  }
  try {
    fn();
  } finally {
    for (const [p, impl] of saved) (p as { impl: Impl }).impl = impl;
  }
  return count;
}

/**
 * Microseconds per call of `fn`: the fastest of several short repeats. At a few µs per
 * call, the minimum is the steady-state cost; the median follows whatever else the machine
 * runs at the time.
 */
function usPer(fn: () => unknown, repeats: number, repeatMs: number): number {
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < repeatMs / 4) {
    fn();
    calls++;
  }
  const perRepeat = Math.max(1, calls * 4);
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    for (let i = 0; i < perRepeat; i++) fn();
    best = Math.min(best, ((performance.now() - t) * 1e3) / perRepeat);
  }
  return best;
}

/** The measured numbers, for callers that want them (bench/index.ts prints the tables). */
export interface DispatchResult {
  rows: {
    op: string;
    shapes: string;
    eagerUs: number;
    gradUs: number;
    gradPrims: number;
  }[];
  /** grad of sum(x) alone, x of 4 and of 64 elements: the fixed cost of a gradient. */
  baseline: { elements: number; gradUs: number; gradPrims: number }[];
  /** W0 small, ms per gradient: median (as bench/ad.ts) and fastest repeat. */
  w0SmallMs: number;
  w0SmallMinMs: number;
  w0SmallPrims: number;
}

/** Runs the dispatch benchmark and prints its table; returns the numbers. */
export async function runDispatchBench(quick = false): Promise<DispatchResult> {
  const repeats = quick ? 5 : 9;
  const repeatMs = quick ? 10 : 20;
  const result: DispatchResult = {
    rows: [],
    baseline: [],
    w0SmallMs: NaN,
    w0SmallMinMs: NaN,
    w0SmallPrims: 0,
  };
  const table: string[][] = [];
  const runs = cases().map((c) => {
    // grad of sum(op(...)) with respect to every operand
    const loss = (...xs: Tensor[]) => ng.sum(c.apply(xs));
    const g = ng.grad(loss, { argnums: c.args.map((_, i) => i) });
    return { c, eager: () => c.apply(c.args), gradRun: () => g(...c.args) };
  });
  const sumGrad = ng.grad((x: Tensor) => ng.sum(x));
  const bases = [4, 64].map((n) => {
    const x = f32([n], 7);
    return { n, run: () => sumGrad(x) };
  });
  // Count first: counting swaps the registry's impl functions, which makes V8 drop code
  // that relied on them, so it must not happen between warm-up and timing.
  const prims = runs.map((r) => countPrimitives(r.gradRun));
  const basePrims = new Map<number, number>();
  for (const b of bases) basePrims.set(b.n, countPrimitives(b.run));
  const p = makeProblem("W0", 32, 128);
  const w0 = nestgradRun(p, "float32");
  result.w0SmallPrims = countPrimitives(w0);
  // Warm every path up, so that the first rows are not measured while V8 still compiles
  // code the later rows share.
  for (let i = 0; i < (quick ? 100 : 300); i++) {
    for (const r of runs) {
      r.eager();
      r.gradRun();
    }
    for (const b of bases) b.run();
  }
  const baseUs = new Map<number, number>();
  for (const [k, { c, eager, gradRun }] of runs.entries()) {
    const eagerUs = usPer(eager, repeats, repeatMs);
    const gradUs = usPer(gradRun, repeats, repeatMs);
    const gradPrims = prims[k]!;
    // the cost of the op's own primitives: beyond the gradient of sum(x) at that size,
    // measured right after, so that both see the same load on the machine
    const b = bases[c.elements <= 16 ? 0 : 1]!;
    const bUs = usPer(b.run, repeats, repeatMs);
    baseUs.set(b.n, Math.min(baseUs.get(b.n) ?? Infinity, bUs));
    result.rows.push({ op: c.op, shapes: c.shapes, eagerUs, gradUs, gradPrims });
    table.push([
      c.op,
      c.shapes,
      String(c.elements),
      fmt(eagerUs, 2),
      fmt(gradUs, 1),
      String(gradPrims),
      fmt(gradUs / gradPrims, 2),
      fmt((gradUs - bUs) / Math.max(1, gradPrims - basePrims.get(b.n)!), 2),
    ]);
  }
  for (const b of bases) {
    result.baseline.push({
      elements: b.n,
      gradUs: baseUs.get(b.n)!,
      gradPrims: basePrims.get(b.n)!,
    });
  }
  printTable(
    "eager dispatch at small sizes, float32 (µs per call, fastest of several repeats; lower is better)",
    [
      "op",
      "shapes",
      "elements",
      "eager µs",
      "grad µs",
      "grad prims",
      "grad µs/prim",
      "µs/prim beyond grad(sum)",
    ],
    table,
  );
  for (const b of result.baseline) {
    console.log(
      `grad of sum(x), x of ${b.elements} elements (the fixed cost of a gradient): ` +
        `${fmt(b.gradUs, 1)} µs, ${b.gradPrims} primitives`,
    );
  }

  // W0 small: the gradient of a 16-32-32-1 tanh MLP's mean squared error, batch 128
  const run = w0;
  const w0Opt: TimingOptions = {
    warmup: 20,
    repeats: quick ? 3 : 5,
    minRepeatMs: quick ? 50 : 150,
  };
  // the median as bench/ad.ts reports it, and the fastest repeat
  result.w0SmallMs = (await timeIt(run, w0Opt)) * 1e3;
  result.w0SmallMinMs = usPer(run, repeats, quick ? 50 : 100) / 1e3;
  printTable(
    "W0 small (grad of mean((u(x)-y)^2), MLP 16-32-32-1, N = 128), float32 eager",
    ["workload", "ms (median)", "ms (fastest)", "primitives", "µs/prim (fastest)"],
    [
      [
        "W0 small",
        fmt(result.w0SmallMs, 3),
        fmt(result.w0SmallMinMs, 3),
        String(result.w0SmallPrims),
        fmt((result.w0SmallMinMs * 1e3) / result.w0SmallPrims, 1),
      ],
    ],
  );
  return result;
}

// Run directly (npx tsx bench/dispatch.ts): print the tables.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  runDispatchBench(process.argv.includes("--quick")).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
