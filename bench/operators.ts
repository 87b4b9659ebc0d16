/**
 * Per-sample operator benchmark, float32, side by side in one run:
 *
 * - `nn.batchedJacobian` of an MLP 2→64→64→2 (tanh) at B = 1024 in forward, reverse and
 *   auto mode, against the dense approach (jacrev of the whole batch, [B, m, B, d], then
 *   the per-sample diagonal blocks: B·m pullbacks, each over the whole batch, so O(B²); it
 *   is timed at small B and extrapolated quadratically to B = 1024, which the table says)
 *   and against TensorFlow.js's best equivalent (no forward mode: one `tf.grad` of the
 *   summed output column per output row, m backward passes; cpu and wasm backends).
 * - `laplacian` of an MLP 3→64→64→1 (tanh) at B = 1024, against tfjs's grad-of-grad, one
 *   reverse-over-reverse pass per input dimension.
 *
 * Every result is checked against a float64 reference computed independently in plain
 * JavaScript (the chain rule for the Jacobian, second-order forward propagation for the
 * Laplacian); a result off by more than float32 rounding is marked WRONG. Writes
 * bench/results/operators.md. Run alone: `npx tsx bench/operators.ts [--quick]`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// the gradient registrations of tf.grad (tfjs-core alone has none)
import "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as ng from "../src/index.js";
import { fmt, printTable, randomFloats, timeIt, type TimingOptions } from "./util.js";

type Tensor = ng.Tensor;

const B = 1024;
/** Relative error (2-norm) against the float64 reference above which a cell is WRONG. */
const WRONG = 1e-4;

/** An MLP as row-major float64 weights W_l [in, out] and biases b_l [out]. */
interface Net {
  sizes: number[];
  W: Float64Array[];
  b: Float64Array[];
}

function makeNet(sizes: number[], seed: number): Net {
  const W: Float64Array[] = [];
  const b: Float64Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [n, m] = [sizes[l]!, sizes[l + 1]!];
    const w = randomFloats(n * m, seed + 2 * l, Float64Array) as Float64Array;
    // uniform in ±√3/√n: unit-variance preactivations (tanh well inside its curved range)
    for (let i = 0; i < w.length; i++) w[i] = (w[i]! * Math.sqrt(3)) / Math.sqrt(n);
    W.push(w);
    const bb = randomFloats(m, seed + 2 * l + 1, Float64Array) as Float64Array;
    for (let i = 0; i < m; i++) bb[i] = bb[i]! * 0.1;
    b.push(bb);
  }
  return { sizes, W, b };
}

function inputs(d: number, seed: number): Float64Array {
  return randomFloats(B * d, seed, Float64Array) as Float64Array;
}

function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) return Infinity;
  let d = 0;
  let r = 0;
  for (let i = 0; i < ref.length; i++) {
    d += (a[i]! - ref[i]!) ** 2;
    r += ref[i]! ** 2;
  }
  const e = Math.sqrt(d) / Math.max(Math.sqrt(r), 1e-30);
  return Number.isFinite(e) ? e : Infinity;
}

// ---------------------------------------------------------------------------------------
// float64 references in plain JavaScript
// ---------------------------------------------------------------------------------------

/**
 * Per sample, the layer values and (for each input direction e_i) first and second
 * directional derivatives by forward propagation: z = Wᵀa + b; a' = tanh(z);
 * da' = (1 − a'²) dz; dda' = (1 − a'²) ddz − 2a'(1 − a'²) dz². Returns, per sample, the
 * output's Jacobian [m][d] and Σᵢ of its second derivatives along e_i [m].
 */
function referenceDerivatives(net: Net, x: Float64Array): { jac: Float64Array; lap: Float64Array } {
  const d = net.sizes[0]!;
  const m = net.sizes[net.sizes.length - 1]!;
  const L = net.W.length;
  const jac = new Float64Array(B * m * d);
  const lap = new Float64Array(B * m);
  for (let s = 0; s < B; s++) {
    for (let i = 0; i < d; i++) {
      let a = Array.from(x.subarray(s * d, s * d + d));
      let da: number[] = a.map((_v, k) => (k === i ? 1 : 0));
      let dda: number[] = a.map(() => 0);
      for (let l = 0; l < L; l++) {
        const [n, o] = [net.sizes[l]!, net.sizes[l + 1]!];
        const z = new Array<number>(o).fill(0);
        const dz = new Array<number>(o).fill(0);
        const ddz = new Array<number>(o).fill(0);
        for (let q = 0; q < o; q++) {
          let zq = net.b[l]![q]!;
          let dq = 0;
          let ddq = 0;
          for (let p = 0; p < n; p++) {
            const w = net.W[l]![p * o + q]!;
            zq += a[p]! * w;
            dq += da[p]! * w;
            ddq += dda[p]! * w;
          }
          z[q] = zq;
          dz[q] = dq;
          ddz[q] = ddq;
        }
        if (l === L - 1) {
          a = z;
          da = dz;
          dda = ddz;
        } else {
          a = z.map(Math.tanh);
          da = dz.map((v, q) => (1 - a[q]! ** 2) * v);
          dda = ddz.map(
            (v, q) => (1 - a[q]! ** 2) * v - 2 * a[q]! * (1 - a[q]! ** 2) * dz[q]! ** 2,
          );
        }
      }
      for (let k = 0; k < m; k++) {
        jac[(s * m + k) * d + i] = da[k]!;
        lap[s * m + k] = lap[s * m + k]! + dda[k]!;
      }
    }
  }
  return { jac, lap };
}

// ---------------------------------------------------------------------------------------
// nestgrad and tfjs implementations
// ---------------------------------------------------------------------------------------

function ngParams(net: Net): Tensor[] {
  return net.W.flatMap((w, l) => [
    ng.array(new ng.NDArray(Float32Array.from(w), [net.sizes[l]!, net.sizes[l + 1]!])),
    ng.array(new ng.NDArray(Float32Array.from(net.b[l]!), [net.sizes[l + 1]!])),
  ]);
}

function ngMlp(ps: Tensor[]): (x: Tensor) => Tensor {
  return (x) => {
    let h = x;
    for (let i = 0; i < ps.length; i += 2) {
      h = ng.add(ng.matmul(h, ps[i]!), ps[i + 1]!);
      if (i + 2 < ps.length) h = ng.tanh(h);
    }
    return h;
  };
}

function tfParams(net: Net): tf.Tensor[] {
  return net.W.flatMap((w, l) => [
    tf.tensor2d(Float32Array.from(w), [net.sizes[l]!, net.sizes[l + 1]!]),
    tf.tensor1d(Float32Array.from(net.b[l]!)),
  ]);
}

/**
 * tf.tanh's gradient is not differentiable again with respect to the input in tfjs
 * ("Cannot compute gradient of y=f(x) with respect to x"), so second-order rows also run
 * with tanh written as 1 − 2/(e^{2z} + 1) (tf.sigmoid fails the same way), whose derivatives tfjs can take twice.
 */
type TfAct = (z: tf.Tensor) => tf.Tensor;
const tfTanh: TfAct = (z) => tf.tanh(z);
const tfTanhViaExp: TfAct = (z) => tf.sub(1, tf.div(2, tf.add(tf.exp(tf.mul(z, 2)), 1)));

function tfMlp(ps: tf.Tensor[], x: tf.Tensor, act: TfAct = tfTanh): tf.Tensor {
  let h = x;
  for (let i = 0; i < ps.length; i += 2) {
    h = tf.add(tf.matMul(h as tf.Tensor2D, ps[i] as tf.Tensor2D), ps[i + 1]!);
    if (i + 2 < ps.length) h = act(h);
  }
  return h;
}

/** tfjs per-sample Jacobian [B, m, d]: row k is the input gradient of Σ_b f(x)[b, k]. */
function tfBatchedJacobian(ps: tf.Tensor[], x: tf.Tensor, m: number): tf.Tensor {
  const rows = Array.from({ length: m }, (_v, k) =>
    tf.grad((z: tf.Tensor) => tf.sum(tf.slice(tfMlp(ps, z), [0, k], [-1, 1])))(x),
  );
  return tf.stack(rows, 1);
}

/** tfjs Laplacian [B] by grad-of-grad: Σᵢ ∂/∂xᵢ of the i-th column of ∇ₓΣ u. */
function tfLaplacian(ps: tf.Tensor[], x: tf.Tensor, d: number, act: TfAct): tf.Tensor {
  const g = tf.grad((z: tf.Tensor) => tf.sum(tfMlp(ps, z, act)));
  const cols = Array.from({ length: d }, (_v, i) => {
    const hi = tf.grad((z: tf.Tensor) => tf.sum(tf.slice(g(z), [0, i], [-1, 1])))(x);
    return tf.slice(hi, [0, i], [-1, 1]);
  });
  return tf.reshape(tf.addN(cols), [-1]);
}

// ---------------------------------------------------------------------------------------
// The section
// ---------------------------------------------------------------------------------------

interface Row {
  name: string;
  seconds?: number;
  err?: number;
  note: string;
}

function timingOptions(quick: boolean): TimingOptions {
  return quick
    ? { warmup: 1, repeats: 3, minRepeatMs: 0 }
    : { warmup: 2, repeats: 7, minRepeatMs: 200 };
}

function status(err: number | undefined): string {
  if (err === undefined) return "n/a";
  return err <= WRONG ? `ok (${err.toExponential(1)})` : `WRONG (${err.toExponential(1)})`;
}

async function tfjsBackends(): Promise<string[]> {
  const backends = ["cpu"];
  try {
    const require = createRequire(import.meta.url);
    const wasmFile = require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm");
    setWasmPaths(path.dirname(wasmFile) + path.sep);
    if (await tf.setBackend("wasm")) backends.push("wasm");
  } catch {
    // wasm unavailable: cpu only
  }
  await tf.setBackend("cpu");
  return backends;
}

/** Times a tfjs computation on each backend (tidy, read back, dispose); its error vs ref. */
async function tfjsRows(
  label: string,
  build: () => tf.Tensor,
  ref: Float64Array,
  opts: TimingOptions,
  backends: string[],
  note: string,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const be of backends) {
    await tf.setBackend(be);
    await tf.ready();
    const run = () => {
      const t = tf.tidy(build);
      const v = t.dataSync();
      t.dispose();
      return v;
    };
    try {
      const err = relErr(run(), ref);
      const seconds = await timeIt(run, opts);
      rows.push({ name: `${label} (tfjs-${be})`, seconds, err, note });
    } catch (e) {
      rows.push({
        name: `${label} (tfjs-${be})`,
        note: `failed: ${(e as Error).message.slice(0, 80)}`,
      });
    }
  }
  await tf.setBackend("cpu");
  return rows;
}

/** The batchedJacobian table: MLP 2→64→64→2 at B = 1024. */
async function benchBatchedJacobian(quick: boolean, backends: string[]): Promise<Row[]> {
  const net = makeNet([2, 64, 64, 2], 11);
  const xv = inputs(2, 12);
  const ref = referenceDerivatives(net, xv).jac;
  const ps = ngParams(net);
  const f = ngMlp(ps);
  const x = ng.array(new ng.NDArray(Float32Array.from(xv), [B, 2]));
  const opts = timingOptions(quick);
  const rows: Row[] = [];
  for (const mode of ["forward", "reverse", "auto"] as const) {
    const run = () => ng.nn.batchedJacobian(f, x, { mode }).dataSync();
    const err = relErr(run(), ref);
    rows.push({
      name: `nestgrad batchedJacobian ${mode}`,
      seconds: await timeIt(run, opts),
      err,
      note:
        mode === "auto"
          ? "d = m = 2: forward"
          : mode === "forward"
            ? "d = 2 JVPs, one vmapped pass"
            : "1 linearization + m = 2 pullbacks, one vmapped pass",
    });
  }
  // Dense: jacrev of the whole batch [b, 2, b, 2], then its diagonal blocks; O(b²).
  const small = quick ? [32, 64] : [64, 128];
  const dense: { b: number; s: number; err: number }[] = [];
  for (const b of small) {
    const xs = ng.array(new ng.NDArray(Float32Array.from(xv.subarray(0, b * 2)), [b, 2]));
    const run = () => {
      const J = ng.jacrev(f)(xs) as Tensor; // [b, 2, b, 2]
      const v = J.dataSync();
      const out = new Float32Array(b * 4);
      for (let i = 0; i < b; i++)
        for (let o = 0; o < 2; o++)
          for (let c = 0; c < 2; c++) out[(i * 2 + o) * 2 + c] = v[((i * 2 + o) * b + i) * 2 + c]!;
      return out;
    };
    const err = relErr(run(), ref.subarray(0, b * 4));
    dense.push({
      b,
      s: await timeIt(run, { ...opts, minRepeatMs: 0, repeats: quick ? 1 : 3 }),
      err,
    });
  }
  const last = dense[dense.length - 1]!;
  const exponent = Math.log(last.s / dense[0]!.s) / Math.log(last.b / dense[0]!.b);
  for (const dd of dense) {
    rows.push({
      name: `dense jacrev + diagonal, B = ${dd.b} (measured)`,
      seconds: dd.s,
      err: dd.err,
      note: `B·m = ${dd.b * 2} pullbacks`,
    });
  }
  rows.push({
    name: `dense jacrev + diagonal, B = 1024 (extrapolated)`,
    seconds: last.s * (B / last.b) ** 2,
    note: `from B = ${last.b} × (1024/${last.b})² (O(B²); measured exponent ${exponent.toFixed(2)} between B = ${dense[0]!.b} and ${last.b}); [B, m, B, d] = 16 MiB`,
  });
  const tps = tfParams(net);
  const tx = tf.tensor2d(Float32Array.from(xv), [B, 2]);
  rows.push(
    ...(await tfjsRows(
      "per-row tf.grad",
      () => tfBatchedJacobian(tps, tx, 2),
      ref,
      opts,
      backends,
      "m = 2 forward + backward passes (no forward mode)",
    )),
  );
  tf.dispose([...tps, tx]);
  return rows;
}

/** The Laplacian table: MLP 3→64→64→1 at B = 1024. */
async function benchLaplacian(quick: boolean, backends: string[]): Promise<Row[]> {
  const net = makeNet([3, 64, 64, 1], 21);
  const xv = inputs(3, 22);
  const ref = referenceDerivatives(net, xv).lap;
  const opts = timingOptions(quick);
  const rows: Row[] = [];
  const ps = ngParams(net);
  const u = ngMlp(ps);
  const x = ng.array(new ng.NDArray(Float32Array.from(xv), [B, 3]));
  const run = () => ng.laplacian(u)(x).dataSync();
  rows.push({
    name: "nestgrad laplacian",
    seconds: await timeIt(run, opts),
    err: relErr(run(), ref),
    note: "d = 3 forward-over-reverse HVPs, one vmapped pass",
  });
  const runH = () => ng.hessianDiagonal(u)(x).dataSync();
  rows.push({
    name: "nestgrad hessianDiagonal (then Σ)",
    seconds: await timeIt(runH, opts),
    err: relErr(sumRows(runH(), 3), ref),
    note: "the same passes",
  });
  const tps = tfParams(net);
  const tx = tf.tensor2d(Float32Array.from(xv), [B, 3]);
  for (const [act, name] of [
    [tfTanh, "tf.tanh"],
    [tfTanhViaExp, "tanh = 1 − 2/(e^2z + 1)"],
  ] as const) {
    rows.push(
      ...(await tfjsRows(
        `grad-of-grad per input dim, ${name}`,
        () => tfLaplacian(tps, tx, 3, act),
        ref,
        opts,
        backends,
        "d = 3 reverse-over-reverse passes",
      )),
    );
  }
  tf.dispose([...tps, tx]);
  return rows;
}

function sumRows(v: ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(v.length / d);
  for (let i = 0; i < out.length; i++) for (let j = 0; j < d; j++) out[i] = out[i]! + v[i * d + j]!;
  return out;
}

function table(rows: Row[], base: number): string[][] {
  return rows.map((r) => [
    r.name,
    r.seconds === undefined ? "-" : fmt(r.seconds * 1e3, 2),
    r.seconds === undefined ? "-" : `${fmt(r.seconds / base, 2)}x`,
    status(r.err),
    r.note,
  ]);
}

function markdown(title: string, header: string[], rows: string[][]): string {
  return [
    `### ${title}`,
    "",
    `| ${header.join(" | ")} |`,
    `| ${header.map((_h, i) => (i === 0 || i === header.length - 1 ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
  ].join("\n");
}

/** Runs both tables, prints them and writes bench/results/operators.md. */
export async function runOperatorsSection(quick = false): Promise<void> {
  const backends = await tfjsBackends();
  const header = ["method", "ms", "time / nestgrad", "vs float64 reference (rel. error)", "note"];
  const jac = await benchBatchedJacobian(quick, backends);
  const jacBase = jac.find((r) => r.name === "nestgrad batchedJacobian auto")!.seconds!;
  const jacRows = table(jac, jacBase);
  const jacTitle = `batchedJacobian: MLP 2→64→64→2 (tanh), B = ${B}, float32 (time relative to nestgrad auto)`;
  printTable(jacTitle, header, jacRows);
  const lap = await benchLaplacian(quick, backends);
  const lapBase = lap[0]!.seconds!;
  const lapRows = table(lap, lapBase);
  const lapTitle = `laplacian: MLP 3→64→64→1 (tanh), B = ${B}, float32 (time relative to nestgrad laplacian)`;
  printTable(lapTitle, header, lapRows);
  const md = [
    "# Per-sample operators",
    "",
    `Generated by \`npx tsx bench/operators.ts${quick ? " --quick" : ""}\` (node ${process.version}, ` +
      `${process.platform}/${process.arch}, tfjs-core ${tf.version_core}, backends ${backends.join(", ")}). ` +
      "Median of repeats in one process; errors are relative 2-norm errors against a float64 " +
      `reference computed in plain JavaScript (WRONG above ${WRONG}).`,
    "",
    markdown(jacTitle, header, jacRows),
    markdown(lapTitle, header, lapRows),
    "tfjs has no forward mode, so its per-sample Jacobian is one `tf.grad` per output row. Its " +
      "Laplacian is grad-of-grad per input dimension: with `tf.tanh` tfjs cannot differentiate " +
      "the input gradient again (the error above); with tanh written through `exp` it runs but " +
      "returns a wrong Laplacian (the same code with a `sin` activation matches nestgrad, so the " +
      "formulation is right and second-order terms are lost inside tfjs).",
    "",
  ].join("\n");
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "operators.md"), md);
  console.log(`\nwritten to ${path.join("bench", "results", "operators.md")}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  runOperatorsSection(process.argv.includes("--quick")).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
