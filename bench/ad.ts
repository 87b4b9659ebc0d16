/**
 * The AD benchmark (DESIGN.md §4, §6.4): first-order and nested-derivative training
 * gradients of small MLPs (plain gradient, PINN residual, Jacobian regularisation,
 * gradient penalty, Hessian-vector product), timed side by side in one run for nestgrad,
 * tfjs (cpu and wasm backends) and jax-js (eager and jit). Every cell's result is checked
 * against nestgrad in float64, itself checked by central finite differences, and a wrong
 * result is reported as WRONG instead of a time. Prints a table and writes it as markdown
 * to bench/results/latest.md. Run alone with `npx tsx bench/ad.ts [--quick]`.
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
import { finiteDifferenceCheck, nestgradRun } from "./ad/nestgrad.js";
import { tfjsRun } from "./ad/tfjs.js";
import { jaxjsRun } from "./ad/jaxjs.js";
import { timeIt, type TimingOptions } from "./util.js";

interface Peer {
  name: string;
  /** Why the library cannot run at all (set during setup). */
  unavailable?: string;
  /** Builds the timed computation; called with the library ready. */
  build: (p: Problem) => Promise<Run>;
}

interface Cell {
  ms?: number;
  err?: number;
  wrong?: boolean;
  failed?: string;
  repeats?: number;
}

interface Row {
  label: string;
  workload: string;
  H: number;
  N: number;
  fdErr: number;
  cells: Cell[];
}

const SIZES = [
  { name: "small", H: 32, N: 128 },
  { name: "medium", H: 256, N: 1024 },
];

async function setupPeers(): Promise<Peer[]> {
  const peers: Peer[] = [
    { name: "nestgrad", build: async (p) => nestgradRun(p, "float32") },
    {
      name: "tfjs-cpu",
      build: async (p) => {
        await tf.setBackend("cpu");
        return tfjsRun(p);
      },
    },
    {
      name: "tfjs-wasm",
      build: async (p) => {
        await tf.setBackend("wasm");
        return tfjsRun(p);
      },
    },
    { name: "jax-js", build: async (p) => jaxjsRun(p, { jit: false }) },
    { name: "jax-js jit", build: async (p) => jaxjsRun(p, { jit: true }) },
  ];
  // tfjs wasm: load the .wasm binary from node_modules (no network)
  try {
    const require = createRequire(import.meta.url);
    const wasmFile = require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm");
    setWasmPaths(path.dirname(wasmFile) + path.sep);
    if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') returned false");
    await tf.ready();
  } catch (err) {
    peers[2]!.unavailable = errorText(err);
  }
  await tf.setBackend("cpu");
  // jax-js: only the wasm device (its webgpu probe reads `navigator`, absent in Node 20)
  try {
    const devices = await jaxInit("wasm");
    if (!devices.includes("wasm"))
      throw new Error(`jax-js init("wasm") gave devices [${devices.join(", ")}]`);
  } catch (err) {
    peers[3]!.unavailable = peers[4]!.unavailable = errorText(err);
  }
  return peers;
}

function timing(size: string, quick: boolean): TimingOptions {
  if (quick) return { warmup: 1, repeats: 5, minRepeatMs: 0 };
  return size === "small"
    ? { warmup: 3, repeats: 15, minRepeatMs: 0 }
    : { warmup: 1, repeats: 10, minRepeatMs: 0 };
}

async function measure(
  peer: Peer,
  p: Problem,
  ref: Float64Array,
  opt: TimingOptions,
): Promise<Cell> {
  if (peer.unavailable) return { failed: peer.unavailable };
  try {
    const run = await peer.build(p);
    const t0 = performance.now();
    const out = run(); // the checked result, also the first warm-up
    const once = performance.now() - t0;
    const err = relErr(out, ref);
    const wrong = !(err <= TOLERANCE);
    if (wrong) return { err, wrong }; // a wrong result gets no time
    // keep the whole suite within budget: slow cells get fewer repeats (reported)
    const o = { ...opt };
    if (once > 2000) o.repeats = Math.min(o.repeats, 5);
    if (once > 2000) o.warmup = 0;
    const ms = (await timeIt(run, o)) * 1e3;
    return { ms, err, wrong, repeats: o.repeats };
  } catch (err) {
    return { failed: errorText(err) };
  }
}

function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

function cellText(c: Cell, best: number | undefined, defaultRepeats: number): string {
  if (c.failed !== undefined) return `n/a: ${c.failed}`;
  if (c.wrong) return `WRONG (rel. err ${c.err!.toExponential(1)})`;
  const ratio = best !== undefined ? ` (${(c.ms! / best).toFixed(2)}x)` : "";
  const reps = c.repeats !== undefined && c.repeats < defaultRepeats ? ` [${c.repeats} reps]` : "";
  return `${fmtMs(c.ms!)}${ratio}${reps}`;
}

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
      for (const peer of peers) cells.push(await measure(peer, p, ref, timing(size.name, quick)));
      await tf.setBackend("cpu");
      const row = { label: `${w} ${size.name}`, workload: w, H: size.H, N: size.N, fdErr, cells };
      rows.push(row);
      const brief = cells.map(
        (c, i) => `${peers[i]!.name} ${c.failed ? "n/a" : c.wrong ? "WRONG" : fmtMs(c.ms!)}`,
      );
      console.log(`  ${row.label} (H=${size.H}, N=${size.N}): ${brief.join(", ")}`);
    }
  }
  return report(peers, rows, quick);
}

function report(peers: Peer[], rows: Row[], quick: boolean): string {
  const defaultReps = (s: number) => (quick ? 5 : s === 32 ? 15 : 10);
  const header = ["cell", "H", "N", ...peers.map((p) => p.name), "ng / best peer"];
  const body = rows.map((r) => {
    const ok = r.cells.map((c) => (c.failed === undefined && !c.wrong ? c.ms : undefined));
    const valid = ok.filter((m): m is number => m !== undefined);
    const best = valid.length > 0 ? Math.min(...valid) : undefined;
    const peerValid = ok.slice(1).filter((m): m is number => m !== undefined);
    const bestPeer = peerValid.length > 0 ? Math.min(...peerValid) : undefined;
    const ngRatio =
      ok[0] !== undefined && bestPeer !== undefined ? `${(ok[0] / bestPeer).toFixed(2)}x` : "-";
    return [
      r.label,
      String(r.H),
      String(r.N),
      ...r.cells.map((c) => cellText(c, best, defaultReps(r.H))),
      ngRatio,
    ];
  });
  const errHeader = ["cell", "reference FD check", ...peers.map((p) => p.name)];
  const errBody = rows.map((r) => [
    r.label,
    r.fdErr.toExponential(1),
    ...r.cells.map((c) =>
      c.err === undefined ? "-" : `${c.err.toExponential(1)}${c.wrong ? " WRONG" : ""}`,
    ),
  ]);
  const table = (h: string[], b: string[][]) =>
    [
      `| ${h.join(" | ")} |`,
      `|${h.map(() => " --- ").join("|")}|`,
      ...b.map((r) => `| ${r.join(" | ")} |`),
    ].join("\n");
  const cpu = os.cpus();
  const lines = [
    "# nestgrad AD benchmark — latest results",
    "",
    `- date: ${new Date().toISOString()}`,
    `- node ${process.version}, ${process.platform}/${process.arch}; machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown CPU"}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `- command: \`npm run bench${quick ? " -- --quick" : ""}\` (the AD section; alone: \`npx tsx bench/ad.ts\`)`,
    `- peers: tfjs ${tf.version_core} (cpu and wasm backends, tf.grads), @jax-js/jax (wasm device, eager and jit)`,
    `- float32 everywhere; median of ${quick ? 5 : "15 (small) / 10 (medium)"} timed repeats after warm-up, milliseconds per gradient (read back to JS included);`,
    `  "[k reps]" marks cells whose single run took over 2 s and got fewer repeats.`,
    `- (r.x): time / fastest correct library in the row; "ng / best peer": nestgrad time / fastest correct peer (below 1: nestgrad faster).`,
    `- every result is compared with nestgrad in float64 (‖a − ref‖ / ‖ref‖ ≤ ${TOLERANCE}, else WRONG); the float64 reference`,
    `  itself passes a central finite-difference check (directional derivative; W4: difference of gradients).`,
    "",
    "Workloads:",
    ...WORKLOADS.map((w) => `- ${w}: ${DESCRIPTIONS[w]}`),
    "",
    "## Time, ms (median)",
    "",
    table(header, body),
    "",
    "## Relative error against the float64 reference",
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
