/**
 * The AD benchmark: first-order and nested-derivative training
 * gradients of small MLPs (plain gradient, PINN residual, Jacobian regularisation,
 * gradient penalty, Hessian-vector product), then operator and training-step rows
 * (bench/ad/steps.ts), timed side by side in one run for nestgrad eager, nestgrad under
 * `ng.jit` (ONNX Runtime with 1 and 2 threads, and the interpreter), tfjs (cpu and wasm
 * backends) and jax-js (eager and jit). Every cell's result is checked against nestgrad in
 * float64 (for W0–W4 itself checked by central finite differences), and a wrong result is
 * reported as WRONG instead of a time. Jitted cells also report their first-call (compile)
 * time, the flops of the optimised program (bench/flops.ts), GFLOP/s and the number of
 * traces. Prints the tables and writes them as markdown to bench/results/latest.md. Run
 * alone with `npx tsx bench/ad.ts [--quick]`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// tfjs-core's Node build registers no gradient functions; the union package registers them all
import "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { init as jaxInit } from "@jax-js/jax";
import {
  DESCRIPTIONS,
  TOLERANCE,
  WORKLOADS,
  errorText,
  makeProblem,
  relErr,
  type Problem,
  type Run,
} from "./ad/common.js";
import * as ng from "../src/index.js";
import { finiteDifferenceCheck, nestgradJitRun, nestgradRun } from "./ad/nestgrad.js";
import { handOnnxW0Run } from "./ad/handonnx.js";
import { stepCases, type Bench, type StepCase } from "./ad/steps.js";
import { irFlops } from "./flops.js";
import { tfjsRun } from "./ad/tfjs.js";
import { jaxjsRun } from "./ad/jaxjs.js";
import { timeIt, type TimingOptions } from "./util.js";

/** A library (or nestgrad variant) in the table: one column. */
interface Peer {
  name: string;
  /** A JS peer library (tfjs, jax-js), as opposed to nestgrad itself or a baseline. */
  jsPeer: boolean;
  /** Why the library cannot run at all (set during setup). */
  unavailable?: string;
  /** Builds the timed computation of a W0–W4 cell; called with the library ready. */
  build: (p: Problem) => Promise<Run | Bench>;
  /** Builds a step row's computation; absent, or undefined for a row: not written. */
  buildStep?: (c: StepCase) => Promise<Bench> | undefined;
}

interface Cell {
  ms?: number;
  err?: number;
  wrong?: boolean;
  failed?: string;
  /** Not written for this library. */
  absent?: boolean;
  repeats?: number;
  /** The first (checked) call, ms: for jitted cells it includes staging and compiling. */
  firstMs?: number;
  /** Flops of the optimised jitted program. */
  flops?: number;
  /** Times the jitted function was staged, after the timed runs. */
  traces?: number;
  backend?: string | null;
}

interface Row {
  label: string;
  H: string;
  N: string;
  /** The float64 reference's finite-difference check (W0–W4). */
  fdErr?: number;
  /** Flops of the jitted program with only the inline pass (before simplify, fold, cse, dce). */
  stagedFlops?: number;
  cells: Cell[];
}

const SIZES = [
  { name: "small", H: 32, N: 128 },
  { name: "medium", H: 256, N: 1024 },
];

/**
 * PyTorch 1.13 CPU, 1 thread, ms per cell (measured elsewhere, not run here): the goal is
 * nestgrad jit (1 thread) at most half of it.
 */
const PYTORCH_MS: Record<string, number> = {
  "W0 small": 0.092,
  "W0 medium": 6.6,
  "W1 small": 0.2,
  "W1 medium": 11.1,
  "W2 small": 0.27,
  "W2 medium": 16.2,
  "W3 small": 0.21,
  "W3 medium": 9.9,
  "W4 small": 0.41,
  "W4 medium": 13.7,
};
/** W0 medium as a hand-written ONNX graph on ONNX Runtime, 1 thread (ms); goal: within 1.3×. */
const HAND_ONNX_W0_MEDIUM_MS = 2.6;
/** The goal against the fastest correct JS peer: at least this many times faster. */
const PEER_SPEEDUP_GOAL = 5;

const JIT_1T = "ng jit 1t";
const HAND_ONNX = "hand-written ONNX 1t";

/** Thrown by a builder for a cell it does not write (shown as "-"). */
class NotWritten extends Error {}
const JIT_2T = "ng jit 2t";
const JIT_INTERP = "ng jit interp";
const JIT_OPTIONS: Record<string, ng.JitOptions> = {
  [JIT_1T]: { backend: "onnxruntime", threads: 1 },
  [JIT_2T]: { backend: "onnxruntime", threads: 2 },
  [JIT_INTERP]: { backend: "interpreter" },
};
/** Only the inline pass: the program as staged, to compare flops with the optimised one. */
const UNOPTIMISED: ng.JitOptions = {
  backend: "interpreter",
  passes: { simplify: false, fold: false, cse: false, dce: false },
};

function jitPeer(name: string): Peer {
  const options = JIT_OPTIONS[name]!;
  return {
    name,
    jsPeer: false,
    build: async (p) => {
      const j = nestgradJitRun(p, options);
      return { check: j.run, timed: j.run, jit: { jitted: j.jitted, args: j.args } };
    },
    buildStep: (c) => Promise.resolve(c.jit(options)),
  };
}

async function setupPeers(): Promise<Peer[]> {
  const tfStep = (backend: string) => (c: StepCase) =>
    c.tfjs === undefined ? undefined : tf.setBackend(backend).then(() => c.tfjs!());
  const peers: Peer[] = [
    {
      name: "nestgrad",
      jsPeer: false,
      build: async (p) => nestgradRun(p, "float32"),
      buildStep: (c) => Promise.resolve(c.eager()),
    },
    jitPeer(JIT_1T),
    jitPeer(JIT_2T),
    jitPeer(JIT_INTERP),
    {
      // the same W0 step as a hand-written ONNX graph on ORT (1 thread): the jit's target
      name: HAND_ONNX,
      jsPeer: false,
      build: async (p) => {
        if (p.workload !== "W0") throw new NotWritten();
        return handOnnxW0Run(p, 1);
      },
    },
    {
      name: "tfjs-cpu",
      jsPeer: true,
      build: async (p) => {
        await tf.setBackend("cpu");
        return tfjsRun(p);
      },
      buildStep: tfStep("cpu"),
    },
    {
      name: "tfjs-wasm",
      jsPeer: true,
      build: async (p) => {
        await tf.setBackend("wasm");
        return tfjsRun(p);
      },
      buildStep: tfStep("wasm"),
    },
    { name: "jax-js", jsPeer: true, build: async (p) => jaxjsRun(p, { jit: false }) },
    { name: "jax-js jit", jsPeer: true, build: async (p) => jaxjsRun(p, { jit: true }) },
  ];
  const byName = (n: string) => peers.find((q) => q.name === n)!;
  // tfjs wasm: load the .wasm binary from node_modules (no network)
  try {
    const require = createRequire(import.meta.url);
    const wasmFile = require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm");
    setWasmPaths(path.dirname(wasmFile) + path.sep);
    if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') returned false");
    await tf.ready();
  } catch (err) {
    byName("tfjs-wasm").unavailable = errorText(err);
  }
  await tf.setBackend("cpu");
  // jax-js: only the wasm device (its webgpu probe reads `navigator`, absent in Node 20)
  try {
    const devices = await jaxInit("wasm");
    if (!devices.includes("wasm"))
      throw new Error(`jax-js init("wasm") gave devices [${devices.join(", ")}]`);
  } catch (err) {
    byName("jax-js").unavailable = byName("jax-js jit").unavailable = errorText(err);
  }
  return peers;
}

function timing(size: string, quick: boolean): TimingOptions {
  if (quick) return { warmup: 1, repeats: 5, minRepeatMs: 0 };
  // Warm-up by time too: JS code (nestgrad eager, tfjs) is optimised by V8 in tiers over
  // its first calls, which a training loop soon leaves behind. Every cell takes a second of
  // warm-up: with 300 ms, cells measured up to 2-3x their steady state (the first cells of
  // a run, and medium cells that got only two or three calls). Small cells take the median
  // of more repeats: a call of under a millisecond is easily disturbed on a shared machine.
  return size === "small"
    ? { warmup: 3, repeats: 41, minRepeatMs: 0, warmupMs: 1000 }
    : { warmup: 1, repeats: 10, minRepeatMs: 0, warmupMs: 1000 };
}

async function measure(
  build: (() => Promise<Run | Bench> | undefined) | undefined,
  unavailable: string | undefined,
  ref: Float64Array,
  errOf: (out: Float64Array, ref: Float64Array) => number,
  opt: TimingOptions,
): Promise<Cell> {
  if (unavailable) return { failed: unavailable };
  try {
    const pending = build?.();
    if (pending === undefined) return { absent: true };
    const built = await pending;
    const b: Bench = typeof built === "function" ? { check: built, timed: built } : built;
    const t0 = performance.now();
    const out = b.check(); // the checked result, also the first warm-up
    const once = performance.now() - t0;
    const err = errOf(out, ref);
    const wrong = !(err <= TOLERANCE);
    if (wrong) return { err, wrong, firstMs: once }; // a wrong result gets no time
    // keep the whole suite within budget: slow cells get fewer repeats (reported)
    const o = { ...opt };
    if (once > 2000) o.repeats = Math.min(o.repeats, 5);
    if (once > 2000) o.warmup = 0;
    if (once > 2000) o.warmupMs = 0;
    const ms = (await timeIt(b.timed, o)) * 1e3;
    const cell: Cell = { ms, err, wrong, repeats: o.repeats, firstMs: once };
    if (b.jit !== undefined) {
      const st = b.jit.jitted.stats();
      cell.traces = st.traces;
      cell.backend = st.backend;
      cell.flops = irFlops(b.jit.jitted.lower(...b.jit.args).optimized).total;
    }
    return cell;
  } catch (err) {
    return err instanceof NotWritten ? { absent: true } : { failed: errorText(err) };
  }
}

function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

function fmtRatio(r: number | undefined): string {
  return r === undefined ? "-" : r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

function okMs(c: Cell | undefined): number | undefined {
  return c !== undefined && c.failed === undefined && !c.absent && !c.wrong ? c.ms : undefined;
}

function cellText(c: Cell, best: number | undefined, defaultRepeats: number): string {
  if (c.absent) return "-";
  if (c.failed !== undefined) return `n/a: ${c.failed}`;
  if (c.wrong) return `WRONG (rel. err ${c.err!.toExponential(1)})`;
  const ratio = best !== undefined ? ` (${(c.ms! / best).toFixed(2)}x)` : "";
  const reps = c.repeats !== undefined && c.repeats < defaultRepeats ? ` [${c.repeats} reps]` : "";
  return `${fmtMs(c.ms!)}${ratio}${reps}`;
}

const log = (peers: Peer[], row: Row) => {
  const brief = row.cells.map(
    (c, i) =>
      `${peers[i]!.name} ${c.absent ? "-" : c.failed ? "n/a" : c.wrong ? "WRONG" : fmtMs(c.ms!)}`,
  );
  console.log(`  ${row.label} (H=${row.H}, N=${row.N}): ${brief.join(", ")}`);
};

/** Runs the AD benchmark; returns the markdown report (also written to bench/results/latest.md). */
export async function benchAD(quick: boolean): Promise<string> {
  const peers = await setupPeers();
  const rows: Row[] = [];
  const sizes = quick ? SIZES.slice(0, 1) : SIZES;
  for (const size of sizes) {
    for (const w of WORKLOADS) {
      const p = makeProblem(w, size.H, size.N, 0);
      const ref = nestgradRun(p, "float64")();
      const fdErr = finiteDifferenceCheck(p, ref);
      const cells: Cell[] = [];
      for (const peer of peers) {
        const opt = timing(size.name, quick);
        cells.push(await measure(() => peer.build(p), peer.unavailable, ref, relErr, opt));
      }
      await tf.setBackend("cpu");
      const unopt = nestgradJitRun(p, UNOPTIMISED);
      const stagedFlops = irFlops(unopt.jitted.lower(...unopt.args).optimized).total;
      const row = {
        label: `${w} ${size.name}`,
        H: String(size.H),
        N: String(size.N),
        fdErr,
        stagedFlops,
        cells,
      };
      rows.push(row);
      log(peers, row);
    }
  }
  const steps: Row[] = [];
  const cases = stepCases(quick);
  for (const c of cases) {
    const cells: Cell[] = [];
    for (const peer of peers) {
      const opt = timing("medium", quick);
      const build = peer.buildStep && (() => peer.buildStep!(c));
      cells.push(await measure(build, peer.unavailable, c.ref, c.err, opt));
    }
    await tf.setBackend("cpu");
    const unopt = c.jit(UNOPTIMISED).jit!;
    const stagedFlops = irFlops(unopt.jitted.lower(...unopt.args).optimized).total;
    const row = { label: c.label, H: "-", N: "-", stagedFlops, cells };
    steps.push(row);
    log(peers, row);
  }
  return report(peers, rows, steps, cases, quick);
}

function table(h: string[], b: string[][]): string {
  return [
    `| ${h.join(" | ")} |`,
    `|${h.map(() => " --- ").join("|")}|`,
    ...b.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

function report(
  peers: Peer[],
  rows: Row[],
  steps: Row[],
  cases: StepCase[],
  quick: boolean,
): string {
  const defaultReps = (r: Row) => (quick ? 5 : r.H === "32" ? 15 : 10);
  const col = (n: string) => peers.findIndex((p) => p.name === n);
  const eager = col("nestgrad");
  const jit1 = col(JIT_1T);
  const jsPeers = peers.map((p, i) => (p.jsPeer ? i : -1)).filter((i) => i >= 0);
  const bestJs = (r: Row) => {
    const v = jsPeers.map((i) => okMs(r.cells[i])).filter((m): m is number => m !== undefined);
    return v.length > 0 ? Math.min(...v) : undefined;
  };
  const over = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined ? a / b : undefined;
  const timeTable = (rs: Row[], withPyTorch: boolean) => {
    const header = [
      "cell",
      ...(withPyTorch ? ["H", "N"] : []),
      ...peers.map((p) => p.name),
      ...(withPyTorch ? ["PyTorch (reference, not run here)"] : []),
      "ng / best JS peer",
      "jit 1t / best JS peer",
      ...(withPyTorch ? ["jit 1t / PyTorch"] : []),
    ];
    const body = rs.map((r) => {
      const valid = r.cells.map(okMs).filter((m): m is number => m !== undefined);
      const best = valid.length > 0 ? Math.min(...valid) : undefined;
      const js = bestJs(r);
      const torch = PYTORCH_MS[r.label];
      return [
        r.label,
        ...(withPyTorch ? [r.H, r.N] : []),
        ...r.cells.map((c) => cellText(c, best, defaultReps(r))),
        ...(withPyTorch ? [torch === undefined ? "-" : fmtMs(torch)] : []),
        fmtRatio(over(okMs(r.cells[eager]), js)),
        fmtRatio(over(okMs(r.cells[jit1]), js)),
        ...(withPyTorch ? [fmtRatio(over(okMs(r.cells[jit1]), torch))] : []),
      ];
    });
    return table(header, body);
  };
  const jitCols = [JIT_1T, JIT_2T, JIT_INTERP].map(col);
  const jitBody = [...rows, ...steps].flatMap((r) =>
    jitCols.map((i) => {
      const c = r.cells[i]!;
      const ms = okMs(c);
      const gflops = ms !== undefined && c.flops !== undefined ? c.flops / (ms * 1e6) : undefined;
      return [
        r.label,
        peers[i]!.name,
        c.firstMs === undefined ? "-" : fmtMs(c.firstMs),
        c.flops === undefined ? "-" : (c.flops / 1e6).toFixed(2),
        r.stagedFlops === undefined ? "-" : (r.stagedFlops / 1e6).toFixed(2),
        gflops === undefined ? "-" : gflops.toFixed(2),
        c.traces === undefined ? "-" : String(c.traces),
        c.backend ?? (c.failed !== undefined ? `n/a: ${c.failed}` : c.wrong ? "WRONG" : "-"),
      ];
    }),
  );
  const jitHeader = [
    "cell",
    "variant",
    "first call, ms (stage + compile + run)",
    "MFLOP (optimised program)",
    "MFLOP (inlined only, no other passes)",
    "GFLOP/s (optimised MFLOP / median)",
    "traces after the timed runs",
    "backend",
  ];
  const goalBody = [...rows, ...steps].map((r) => {
    const ms = okMs(r.cells[jit1]);
    const torch = PYTORCH_MS[r.label];
    const js = bestJs(r);
    const mark = (ok: boolean | undefined) => (ok === undefined ? "-" : ok ? "met" : "MISSED");
    const torchOk = ms !== undefined && torch !== undefined ? ms <= torch / 2 : undefined;
    const jsOk = ms !== undefined && js !== undefined ? ms * PEER_SPEEDUP_GOAL <= js : undefined;
    const hand = r.label === "W0 medium" ? 1.3 * HAND_ONNX_W0_MEDIUM_MS : undefined;
    const handHere = okMs(r.cells[col(HAND_ONNX)]);
    const within = (limit: number | undefined) =>
      limit === undefined
        ? "-"
        : `≤ ${fmtMs(limit)}: ${mark(ms === undefined ? undefined : ms <= limit)}`;
    return [
      r.label,
      ms === undefined ? "-" : fmtMs(ms),
      torch === undefined ? "-" : `≤ ${fmtMs(torch / 2)}: ${mark(torchOk)}`,
      js === undefined ? "no correct JS peer" : `≤ ${fmtMs(js / PEER_SPEEDUP_GOAL)}: ${mark(jsOk)}`,
      within(hand),
      handHere === undefined
        ? "-"
        : `${within(1.3 * handHere)} (jit / hand-written ${fmtRatio(over(ms, handHere))})`,
    ];
  });
  const goalHeader = [
    "cell",
    "jit 1t, ms",
    "≤ PyTorch / 2",
    `≤ best JS peer / ${PEER_SPEEDUP_GOAL}`,
    `≤ 1.3 × hand-written ONNX (${HAND_ONNX_W0_MEDIUM_MS} ms, measured elsewhere)`,
    "≤ 1.3 × hand-written ONNX measured here",
  ];
  // the built-in backend (no ONNX Runtime): eager no slower than jax-js jit, the
  // interpreter at least twice as fast as it, in the W0–W4 cells where jax-js is correct
  const jaxJit = col("jax-js jit");
  const builtinBody = rows.map((r) => {
    const jax = okMs(r.cells[jaxJit]);
    const goal = (ms: number | undefined, limit: number | undefined) =>
      ms === undefined || limit === undefined
        ? "-"
        : `${fmtMs(ms)} ≤ ${fmtMs(limit)}: ${ms <= limit ? "met" : "MISSED"} (${fmtRatio(limit / ms)})`;
    return [
      r.label,
      jax === undefined ? "jax-js jit not correct" : fmtMs(jax),
      goal(okMs(r.cells[eager]), jax),
      goal(okMs(r.cells[col(JIT_INTERP)]), jax === undefined ? undefined : jax / 2),
    ];
  });
  const builtinHeader = [
    "cell",
    "jax-js jit, ms",
    "nestgrad eager ≤ jax-js jit (jax-js jit / eager)",
    "ng jit interp ≤ jax-js jit / 2 (jax-js jit / (2 × interp))",
  ];
  const errHeader = ["cell", "reference FD check", ...peers.map((p) => p.name)];
  const errBody = [...rows, ...steps].map((r) => [
    r.label,
    r.fdErr === undefined ? "-" : r.fdErr.toExponential(1),
    ...r.cells.map((c) =>
      c.err === undefined ? "-" : `${c.err.toExponential(1)}${c.wrong ? " WRONG" : ""}`,
    ),
  ]);
  const cpu = os.cpus();
  const lines = [
    "# nestgrad AD benchmark — latest results",
    "",
    `- date: ${new Date().toISOString()}`,
    `- node ${process.version}, ${process.platform}/${process.arch}; machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown CPU"}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `- command: \`npm run bench${quick ? " -- --quick" : ""}\` (the AD section; alone: \`npx tsx bench/ad.ts${quick ? " --quick" : ""}\`)`,
    `- columns: nestgrad eager; \`${JIT_1T}\` / \`${JIT_2T}\`: \`ng.jit(f, { backend: "onnxruntime", threads: 1 | 2 })\` (onnxruntime-node ${ortVersion()});`,
    `  \`${JIT_INTERP}\`: \`ng.jit(f, { backend: "interpreter" })\`; \`${HAND_ONNX}\`: the W0 gradient as a hand-written ONNX graph (bench/ad/handonnx.ts) on the same ORT binding and session options, 1 thread;`,
    `  JS peers: tfjs ${tf.version_core} (cpu and wasm backends, tf.grads), @jax-js/jax (wasm device, eager and jit).`,
    `  Jitted W0–W4 cells take the parameters and the data as arguments (fed on every call).`,
    `- float32 everywhere; median of ${quick ? 5 : "41 (small) / 10 (medium and the step rows)"} timed repeats after warm-up (${quick ? "1 run" : "at least 1 s of runs"}), milliseconds per call (read back to JS included);`,
    `  "[k reps]" marks cells whose single run took over 2 s and got fewer repeats; "-": not written for that library.`,
    `- (r.x): time / fastest correct column in the row; "ng / best JS peer", "jit 1t / best JS peer": nestgrad eager or jit (1 thread) time / fastest correct JS peer (tfjs, jax-js; below 1: nestgrad faster);`,
    `  "PyTorch (reference, not run here)": PyTorch 1.13 CPU, 1 thread, measured elsewhere on other hardware — the reference of the goals below, not a side-by-side measurement.`,
    `- every result is compared with nestgrad in float64 (‖a − ref‖ / ‖ref‖ ≤ ${TOLERANCE}, else WRONG); for W0–W4 the float64 reference`,
    `  itself passes a central finite-difference check (directional derivative; W4: difference of gradients).`,
    "",
    "Workloads:",
    ...WORKLOADS.map((w) => `- ${w}: ${DESCRIPTIONS[w]}`),
    ...cases.map((c) => `- ${c.label}: ${c.description}`),
    "",
    "## Time, ms (median): W0–W4",
    "",
    timeTable(rows, true),
    "",
    "## Time, ms (median): operators and training steps",
    "",
    "Training steps are timed as a loop (each call takes the state the previous call returned, as in training);",
    "they are checked on the first step (the loss and the change of every parameter and optimiser-state leaf, worst leaf reported).",
    "",
    timeTable(steps, false),
    "",
    "## Jitted cells: compile time, flops, throughput, traces",
    "",
    "Flops are counted on the optimised program (`jitted.lower(...args).optimized`, bench/flops.ts): 2·m·n·k per matmul,",
    "one per element for elementwise ops and reductions, none for data movement. The inlined-only count is the same",
    "program before simplify/fold/cse/dce. A traces count above 1 means the jitted function was staged again during the",
    "timed calls (e.g. a static JS number in the arguments, such as a step counter, that changes on every call).",
    "",
    table(jitHeader, jitBody),
    "",
    "## Goals for nestgrad jit (1 thread)",
    "",
    table(goalHeader, goalBody),
    "",
    "## Goals for the built-in backend (eager, and the interpreter jit)",
    "",
    table(builtinHeader, builtinBody),
    "",
    "## Relative error against the float64 reference",
    "",
    "(training steps: the worst of the loss and the per-leaf state changes)",
    "",
    table(errHeader, errBody),
    "",
  ];
  const failed = peers.filter((p) => p.unavailable);
  if (failed.length > 0) {
    lines.push(
      "## Unavailable peers",
      "",
      ...failed.map((p) => `- ${p.name}: ${p.unavailable}`),
      "",
    );
  }
  return lines.join("\n");
}

function ortVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require("onnxruntime-node/package.json") as { version: string }).version;
  } catch {
    return "unknown version";
  }
}

/** Runs the section, prints the markdown and writes bench/results/latest.md. */
export async function runADSection(quick: boolean): Promise<void> {
  console.log("\nAD benchmark (nested derivatives of MLP losses), float32:");
  const md = await benchAD(quick);
  console.log(`\n${md}`);
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "latest.md"), md);
  console.log(`written to ${path.relative(process.cwd(), path.join(dir, "latest.md"))}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  runADSection(process.argv.includes("--quick")).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
