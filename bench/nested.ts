/**
 * Nested-switching benchmark, float32, side by side in one run:
 *
 * - strategies: W1–W4 and a Hamiltonian network (HNN), small and medium, under switching
 *   off, auto and each strategy forced; eager time, `ng.jit(ng.grad(loss))` time on the
 *   default backend (ONNX Runtime when installed) and on the interpreter, and the peak of
 *   live residual bytes of one eager call (`ng.memory.measure`);
 * - the large cell: the W1 PINN at N = 65,536 points, width 256, where nest's residuals
 *   exceed the default 256 MiB budget and auto should pick forwardOverReverse (few
 *   repeats; innerForward skipped);
 * - mode choice: Σ‖J‖² of the per-sample Jacobian (vmap) of an MLP d → 64 → 64 → m at
 *   B = 256, differentiated with respect to the parameters, written with jacrev and with
 *   jacfwd, switching off and auto;
 * - Laplacian: `ng.laplacian` of an MLP d → 64 → 64 → 1 at B = 1024, Taylor mode against
 *   Hessian-vector products, and the parameter gradient of Σ laplacian² (PINN training).
 *
 * Every cell is checked against float64 with switching off before it is timed; times are
 * medians of runs interleaved round-robin across the cell's variants. Writes
 * bench/results/nested.md. Run alone: `npx tsx bench/nested.ts [--quick]`; `--only <group>`
 * (strategies, mode, laplacian, large) runs one group and only prints it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as ng from "../src/index.js";
import { makeProblem, relErr, TOLERANCE, type Data, type Problem } from "./ad/common.js";
import { lossFn, mlp } from "./ad/nestgrad.js";

type Tensor = ng.Tensor;
type Dt = "float32" | "float64";
const CONFIGS = ["off", "auto", "forwardOverReverse", "nest", "innerForward"] as const;
type ConfigName = (typeof CONFIGS)[number];
const WORKLOADS = ["W1", "W2", "W3", "W4", "HNN"] as const;
type NestedWorkload = (typeof WORKLOADS)[number];
const SHORT: Record<ConfigName, string> = {
  off: "off",
  auto: "auto",
  forwardOverReverse: "FoR",
  nest: "nest",
  innerForward: "innerFwd",
};

/** How a variant runs: eagerly, or jitted on a backend. */
type Mode = "eager" | "jit" | "interp";
const MODE_LABEL: Record<Mode, string> = { eager: "eager", jit: "jit", interp: "jit interp" };
const DEFAULT_BUDGET = ng.config.get().nestedMemoryBudget;

function configOf(c: ConfigName): Partial<ng.config.Config> {
  return c === "off"
    ? { nestedSwitching: false, nestedStrategy: "auto" }
    : { nestedSwitching: true, nestedStrategy: c };
}

function tensor(d: Data, dtype: Dt): Tensor {
  const data = dtype === "float32" ? Float32Array.from(d.data) : Float64Array.from(d.data);
  return ng.array(new ng.NDArray(data, d.shape));
}

function flat(ts: Tensor[]): Float64Array {
  const parts = ts.map((t) => t.dataSync());
  const out = new Float64Array(parts.reduce((s, q) => s + q.length, 0));
  let o = 0;
  for (const q of parts) for (const v of q) out[o++] = v;
  return out;
}

// ---------------------------------------------------------------------------------------
// the cells
// ---------------------------------------------------------------------------------------

/** One way of computing a cell's result: a configuration, eager or jitted. */
interface Variant {
  /** Row label within the cell (a configuration, a spelling, a method). */
  row: string;
  mode: Mode;
  config: Partial<ng.config.Config>;
  /** Builds the run (under `config`); jit variants compile on their first call. */
  build: () => () => Float64Array;
}

interface Cell {
  name: string;
  group: "strategies" | "large" | "mode" | "laplacian";
  /** The float64 reference, computed with switching off. */
  reference: () => Float64Array;
  variants: Variant[];
  /** Rows skipped, with the reason. */
  skipped: Map<string, string>;
  /** Timed rounds after `warmup` untimed ones, stopped early past `budgetMs` (at least `minRounds`). */
  rounds: number;
  warmup: number;
  minRounds: number;
  budgetMs: number;
  /** The eager check run counts as a timed sample (slow cells). */
  checkIsSample?: boolean;
  /** Check and time one variant at a time, collecting garbage between (large cells). */
  sequential?: boolean;
}

interface Outcome {
  ms?: number;
  samples: number;
  /** The first call (for jit: staging and compiling included). */
  firstMs?: number;
  peakBytes?: number;
  status?: string;
  /** What nested switching decided in the eager check run (ng.nested.stats()). */
  decisions?: string;
  /** Nest's residual estimate (the cost model's "keeping" figure), MiB. */
  nestEstimateMiB?: number;
  /** The linearization whose registration reached the peak, and the live bytes then. */
  peakAt?: { owner: string; bytes: number; viaTracers: number };
  backend?: string | null;
}

function hnnProblem(H: number, N: number): Problem {
  // Hamiltonian network: H an MLP of (q, p) 2→H→H→1; targets (q̇, ṗ) of a pendulum.
  const p = makeProblem("W2", H, N);
  const y = new Float64Array(N * 2);
  for (let i = 0; i < N; i++) {
    const q = p.x.data[2 * i]!;
    const mom = p.x.data[2 * i + 1]!;
    y[2 * i] = mom;
    y[2 * i + 1] = -Math.sin(q);
  }
  const params = p.params.slice(0, 4);
  const last = p.params[4]!;
  params.push(
    { data: last.data.filter((_v, i) => i % 2 === 0), shape: [H, 1] },
    { data: new Float64Array([0.1]), shape: [1] },
  );
  return { ...p, workload: "W2", params, y: { data: y, shape: [N, 2] } };
}

function problem(w: NestedWorkload, H: number, N: number): Problem {
  return w === "HNN" ? hnnProblem(H, N) : makeProblem(w, H, N);
}

/** The loss of a workload as a function of the parameters; W2 here uses pullbacks (vjp). */
function nestedLoss(w: NestedWorkload, p: Problem, dtype: Dt): (ps: Tensor[]) => Tensor {
  if (w === "W1" || w === "W3" || w === "W4") return lossFn(p, dtype);
  const x = tensor(p.x, dtype);
  const y = tensor(p.y!, dtype);
  const n = p.N;
  const basis = (j: number) => {
    const d = dtype === "float32" ? new Float32Array(n * 2) : new Float64Array(n * 2);
    for (let i = 0; i < n; i++) d[i * 2 + j] = 1;
    return ng.array(new ng.NDArray(d, [n, 2]));
  };
  if (w === "W2") {
    const e = [basis(0), basis(1)];
    return (ps) => {
      // rows of the per-sample 2×2 Jacobian: one pullback of the batched MLP per basis row
      const [out, pullback] = ng.vjp((z: Tensor) => mlp(ps, z), x);
      const j1 = pullback(e[0])[0] as Tensor;
      const j2 = pullback(e[1])[0] as Tensor;
      const fit = ng.sum(ng.square(ng.sub(out, y)));
      return ng.add(fit, ng.mul(0.01, ng.add(ng.sum(ng.square(j1)), ng.sum(ng.square(j2)))));
    };
  }
  // HNN: loss = ‖(∂H/∂p, −∂H/∂q) − (q̇, ṗ)‖²
  const sign = ng.array(
    dtype === "float32" ? new Float32Array([-1, 1]) : new Float64Array([-1, 1]),
  );
  return (ps) => {
    const dH = ng.grad((z: Tensor) => ng.sum(mlp(ps, z)))(x) as Tensor; // [N, 2] = (∂H/∂q, ∂H/∂p)
    const field = ng.mul(ng.flip(dH, 1), sign); // (∂H/∂p, −∂H/∂q)
    return ng.sum(ng.square(ng.sub(field, y)));
  };
}

/** The parameter gradient (W4: the HVP) of a workload, eager or jitted. */
function workloadRun(w: NestedWorkload, p: Problem, dtype: Dt, mode: Mode): () => Float64Array {
  const ps = p.params.map((d) => tensor(d, dtype));
  const loss = nestedLoss(w, p, dtype);
  const options: ng.JitOptions | null =
    mode === "eager" ? null : mode === "jit" ? {} : { backend: "interpreter" };
  if (w === "W4") {
    const v = p.v!.map((d) => tensor(d, dtype));
    const hvp = (q: Tensor[], u: Tensor[]) => ng.hvp(loss, q, u) as Tensor[];
    const f = options === null ? hvp : ng.jit(hvp, options);
    return () => flat(f(ps, v));
  }
  const g = ng.grad(loss) as (q: Tensor[]) => Tensor[];
  const f = options === null ? g : ng.jit(g, options);
  return () => flat(f(ps));
}

function innerForwardTooSlow(w: NestedWorkload, N: number): boolean {
  // inner forward mode costs one pass per differentiated input element
  const d = w === "W1" ? N : w === "W3" ? 16 * N : w === "W4" ? Infinity : 2 * N;
  return d > 64;
}

function modesFor(jit: boolean, interp: boolean): Mode[] {
  return ["eager", ...(jit ? (["jit"] as const) : []), ...(interp ? (["interp"] as const) : [])];
}

function strategyCell(
  w: NestedWorkload,
  size: "small" | "medium",
  quick: boolean,
  modes: Mode[],
): Cell {
  const [H, N] = size === "small" ? [32, 128] : [256, 1024];
  const p = problem(w, H, N);
  const skipped = new Map<string, string>();
  const variants: Variant[] = [];
  for (const c of CONFIGS) {
    if (c === "innerForward" && innerForwardTooSlow(w, N)) {
      skipped.set(c, "d too large");
      continue;
    }
    for (const mode of modes) {
      variants.push({
        row: c,
        mode,
        config: configOf(c),
        build: () => workloadRun(w, p, "float32", mode),
      });
    }
  }
  return {
    name: `${w} ${size}`,
    group: "strategies",
    reference: () => workloadRun(w, p, "float64", "eager")(),
    variants,
    skipped,
    rounds: size === "small" ? (quick ? 7 : 31) : quick ? 3 : 11,
    warmup: size === "small" ? 2 : 1,
    minRounds: 3,
    budgetMs: size === "small" ? (quick ? 3e3 : 5e3) : quick ? 8e3 : 15e3,
  };
}

/**
 * W1 at N = 65,536, H = 256 (float32 residuals of nest ≈ 10 arrays of 64 MiB). Quick
 * runs a scaled copy: N = 4096 with the budget scaled down by the same factor, so the cost
 * model faces the same decision.
 */
function largeCell(quick: boolean, jit: boolean): Cell {
  const scale = quick ? 16 : 1;
  const N = 65536 / scale;
  const H = 256;
  const p = makeProblem("W1", H, N);
  const budget = DEFAULT_BUDGET / scale;
  const variants: Variant[] = [];
  const configs = ["off", "auto", "forwardOverReverse", "nest"] as const;
  for (const c of configs) {
    for (const mode of jit ? (["eager", "jit"] as const) : (["eager"] as const)) {
      variants.push({
        row: c,
        mode,
        config: { ...configOf(c), nestedMemoryBudget: budget },
        build: () => workloadRun("W1", p, "float32", mode),
      });
    }
  }
  // The float64 reference runs eagerly: slower than on ONNX Runtime, but with a third of
  // its memory (ORT's float64 program holds several GiB here).
  const reference = () => {
    const ps64 = p.params.map((d) => tensor(d, "float64"));
    return flat(ng.grad(lossFn(p, "float64"))(ps64) as Tensor[]);
  };
  return {
    name: quick ? `W1 large/16 (N=${N}, budget ${budget / 2 ** 20} MiB)` : `W1 large`,
    group: "large",
    reference,
    variants,
    skipped: new Map([["innerForward", "d = N"]]),
    rounds: 1,
    warmup: 0,
    minRounds: 1,
    budgetMs: 0,
    checkIsSample: true,
    sequential: true,
  };
}

/** Parameters of an MLP with the given layer sizes (float64 data, seeded). */
function mlpParams(sizes: number[], seed: number): Data[] {
  const keys = ng.random.split(ng.random.key(seed), 2 * sizes.length);
  const out: Data[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [n, m] = [sizes[l]!, sizes[l + 1]!];
    const w = ng.random.normal(keys[2 * l]!, [n, m], { dtype: "float64", std: 1 / Math.sqrt(n) });
    const b = ng.random.normal(keys[2 * l + 1]!, [m], { dtype: "float64", std: 0.1 });
    out.push({ data: Float64Array.from(w.dataSync()), shape: [n, m] });
    out.push({ data: Float64Array.from(b.dataSync()), shape: [m] });
  }
  return out;
}

function samples(B: number, d: number, seed: number): Data {
  const x = ng.random.normal(ng.random.key(seed), [B, d], { dtype: "float64" });
  return { data: Float64Array.from(x.dataSync()), shape: [B, d] };
}

type Spelling = "jacrev" | "jacfwd";

/** ∇_θ Σ_b ‖J_b‖², J_b the Jacobian of the MLP at sample b (vmap of jacrev or jacfwd). */
function modeRun(
  params: Data[],
  xs: Data,
  spelling: Spelling,
  dtype: Dt,
  mode: Mode,
): () => Float64Array {
  const ps = params.map((d) => tensor(d, dtype));
  const x = tensor(xs, dtype);
  const jac = spelling === "jacrev" ? ng.jacrev : ng.jacfwd;
  const loss = (q: Tensor[]) =>
    ng.sum(ng.square(ng.vmap((xi: Tensor) => jac((z: Tensor) => mlp(q, z))(xi))(x) as Tensor));
  const g = ng.grad(loss) as (q: Tensor[]) => Tensor[];
  const f = mode === "eager" ? g : ng.jit(g, mode === "jit" ? {} : { backend: "interpreter" });
  return () => flat(f(ps));
}

function modeCell(d: number, m: number, quick: boolean, modes: Mode[]): Cell {
  const params = mlpParams([d, 64, 64, m], 7);
  const xs = samples(256, d, 8);
  const variants: Variant[] = [];
  for (const spelling of ["jacrev", "jacfwd"] as const) {
    for (const c of ["off", "auto"] as const) {
      for (const mode of modes) {
        variants.push({
          row: `${spelling}, ${c}`,
          mode,
          config: configOf(c),
          build: () => modeRun(params, xs, spelling, "float32", mode),
        });
      }
    }
  }
  return {
    name: `Σ‖J‖² d=${d} m=${m}`,
    group: "mode",
    reference: () => modeRun(params, xs, d <= m ? "jacfwd" : "jacrev", "float64", "eager")(),
    variants,
    skipped: new Map(),
    rounds: quick ? 3 : 9,
    warmup: 1,
    minRounds: 3,
    budgetMs: quick ? 6e3 : 10e3,
  };
}

type Method = "taylor" | "hvp";
type LapQuantity = "laplacian" | "∇θ Σ lap²";

function laplacianRun(
  params: Data[],
  xs: Data,
  method: Method,
  quantity: LapQuantity,
  dtype: Dt,
  mode: Mode,
): () => Float64Array {
  const ps = params.map((d) => tensor(d, dtype));
  const x = tensor(xs, dtype);
  const lap = (q: Tensor[]) => ng.laplacian((z: Tensor) => mlp(q, z), { method })(x);
  const fn: (q: Tensor[]) => Tensor[] =
    quantity === "laplacian"
      ? (q) => [lap(q)]
      : (ng.grad((q: Tensor[]) => ng.sum(ng.square(lap(q)))) as (q: Tensor[]) => Tensor[]);
  const f = mode === "eager" ? fn : ng.jit(fn, mode === "jit" ? {} : { backend: "interpreter" });
  return () => flat(f(ps));
}

function laplacianCell(d: number, quantity: LapQuantity, quick: boolean, modes: Mode[]): Cell {
  const params = mlpParams([d, 64, 64, 1], 11);
  const xs = samples(1024, d, 12);
  const variants: Variant[] = [];
  for (const method of ["taylor", "hvp"] as const) {
    for (const mode of modes) {
      variants.push({
        row: method,
        mode,
        config: {},
        build: () => laplacianRun(params, xs, method, quantity, "float32", mode),
      });
    }
  }
  return {
    name: `${quantity} d=${d}`,
    group: "laplacian",
    reference: () => laplacianRun(params, xs, "hvp", quantity, "float64", "eager")(),
    variants,
    skipped: new Map(),
    rounds: quick ? 3 : 7,
    // the checked first call of each row is its warm-up (a round takes seconds at d = 64)
    warmup: 0,
    minRounds: 3,
    budgetMs: quick ? 6e3 : 10e3,
  };
}

// ---------------------------------------------------------------------------------------
// measuring
// ---------------------------------------------------------------------------------------

function key(v: Variant): string {
  return `${v.row}|${v.mode}`;
}

function describeStats(s: ng.nested.NestedStats): string {
  const parts = Object.entries(s.decisions).map(([k, n]) => (n > 1 ? `${k}×${n}` : k));
  const jac = (s as { jacobians?: Record<string, { count: number }> }).jacobians ?? {};
  for (const k of Object.keys(jac)) parts.push(k);
  return parts.join(", ") || "-";
}

function errorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const line = msg.split("\n")[0]!.replace(/\|/g, "/");
  return line.length > 70 ? `${line.slice(0, 67)}...` : line;
}

/** Checks every variant against the reference, then times them round-robin. */
type Checked = { k: string; v: Variant; run: () => Float64Array };

/** Runs a variant once: checks it against `ref`, and for eager runs reads the ledger and the decisions. */
function checkVariant(
  cell: Cell,
  v: Variant,
  ref: Float64Array,
  saved: ng.config.Config,
  o: Outcome,
  times: Map<string, number[]>,
): Checked | null {
  ng.config.set({ ...saved, ...v.config });
  const lines: string[] = [];
  const prevSink = ng.nested.setLogSink((l) => lines.push(l));
  if (v.mode === "eager") ng.config.set({ debug: ["nested"] });
  try {
    ng.nested.resetStats();
    const run = v.build();
    const t0 = performance.now();
    let result: Float64Array;
    if (v.mode === "eager") {
      const m = ng.memory.measure(run);
      result = m.value;
      o.peakBytes = m.peakBytes;
      let top: ng.memory.LinearizationRecord | undefined;
      for (const r of m.linearizations) if (!top || r.liveBytesAfter > top.liveBytesAfter) top = r;
      if (top) o.peakAt = { owner: top.owner, bytes: top.bytes, viaTracers: top.viaTracers };
      o.decisions = describeStats(ng.nested.stats());
      const est = lines.map((l) => /nest ≈ 6F keeping ([\d.]+) MiB/.exec(l)).find((r) => r);
      if (est) o.nestEstimateMiB = Number(est[1]);
    } else {
      result = run();
    }
    o.firstMs = performance.now() - t0;
    const err = relErr(result, ref);
    if (err > TOLERANCE) {
      o.status = `WRONG (${err.toExponential(1)})`;
      return null;
    }
    times.set(key(v), cell.checkIsSample && v.mode === "eager" ? [o.firstMs] : []);
    return { k: key(v), v, run };
  } catch (e) {
    o.status = `failed: ${errorText(e)}`;
    return null;
  } finally {
    ng.nested.setLogSink(prevSink);
    ng.config.set(saved);
  }
}

/** Timed rounds over `runs`, one run of each per round (round-robin). */
function timeRounds(
  cell: Cell,
  runs: Checked[],
  times: Map<string, number[]>,
  saved: ng.config.Config,
): void {
  const started = performance.now();
  for (let r = -cell.warmup; r < cell.rounds; r++) {
    if (r >= cell.minRounds && performance.now() - started > cell.budgetMs) break;
    for (const { k, v, run } of runs) {
      // an eager check run that counted as a sample stands for the last round
      if (cell.checkIsSample && v.mode === "eager" && r >= cell.rounds - 1) continue;
      ng.config.set({ ...saved, ...v.config });
      try {
        const t0 = performance.now();
        run();
        const dt = performance.now() - t0;
        if (r >= 0) times.get(k)!.push(dt);
      } finally {
        ng.config.set(saved);
      }
    }
  }
}

/**
 * Checks every variant against the reference, then times them round-robin; a sequential
 * cell times each variant right after its check and lets it go (with a garbage collection
 * between), so that only one large program holds memory at a time.
 */
async function runCell(cell: Cell): Promise<Map<string, Outcome>> {
  const out = new Map<string, Outcome>();
  const saved = ng.config.get();
  ng.config.set(configOf("off"));
  let ref: Float64Array;
  try {
    ref = cell.reference();
  } finally {
    ng.config.set(saved);
  }
  if (cell.sequential) await collectGarbage();
  const times = new Map<string, number[]>();
  const runs: Checked[] = [];
  for (const v of cell.variants) {
    const o: Outcome = { samples: 0 };
    out.set(key(v), o);
    const checked = checkVariant(cell, v, ref, saved, o, times);
    if (checked === null) continue;
    if (cell.sequential) {
      timeRounds(cell, [checked], times, saved);
      await collectGarbage();
    } else runs.push(checked);
  }
  timeRounds(cell, runs, times, saved);
  for (const [k, xs] of times) {
    const o = out.get(k)!;
    o.samples = xs.length;
    if (xs.length === 0) continue;
    xs.sort((a, b) => a - b);
    const mid = xs.length >> 1;
    o.ms = xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
  }
  return out;
}

/**
 * A full garbage collection, so that the arrays (and ONNX Runtime sessions) of the previous
 * variant of a large cell are freed before the next one runs; native finalizers run on the
 * event loop, hence the waits.
 */
const collectGarbage: () => Promise<void> = (() => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (() => void) | undefined;
  return async () => {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 20));
    }
  };
})();

// ---------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return "-";
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

function fmtBytes(b: number | undefined): string {
  if (b === undefined) return "-";
  if (b === 0) return "0";
  if (b < 2 ** 20) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 2 ** 20).toFixed(b < 100 * 2 ** 20 ? 2 : 0)} MiB`;
}

function peakText(o: Outcome | undefined): string {
  if (o?.peakBytes === undefined) return "-";
  const at = o.peakAt;
  if (at === undefined) return fmtBytes(o.peakBytes);
  const via = at.viaTracers > 0 ? `, ${fmtBytes(at.viaTracers)} via tracers` : "";
  return `${fmtBytes(o.peakBytes)} (${at.owner}: ${fmtBytes(at.bytes)}${via})`;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || !(b > 0) ? undefined : a / b;
}

function fmtRatio(r: number | undefined): string {
  return r === undefined ? "-" : `${r.toFixed(2)}x`;
}

function cellText(o: Outcome | undefined, reason?: string): string {
  if (o === undefined) return reason === undefined ? "-" : `skipped (${reason})`;
  if (o.status !== undefined) return o.status;
  const s = fmtMs(o.ms);
  return o.samples === 1 ? `${s} (1 run)` : s;
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

interface Goal {
  what: string;
  value: string;
  met: boolean | undefined;
}

function goal(what: string, r: number | undefined, limit: number, atLeast = false): Goal {
  return {
    what,
    value: fmtRatio(r),
    met: r === undefined ? undefined : atLeast ? r >= limit : r <= limit,
  };
}

function goalMark(g: Goal): string {
  return g.met === undefined ? "n/a" : g.met ? "met" : "MISSED";
}

/** The rows (one per configuration or method) of a cell, with eager, jit, interp and peak columns. */
function detailRows(cell: Cell, out: Map<string, Outcome>, modes: Mode[]): string[][] {
  const rows: string[][] = [];
  const labels = [...new Set(cell.variants.map((v) => v.row)), ...cell.skipped.keys()];
  for (const row of labels) {
    const eager = out.get(`${row}|eager`);
    rows.push([
      cell.name,
      cell.group === "strategies" || cell.group === "large"
        ? (SHORT[row as ConfigName] ?? row)
        : row,
      ...modes.map((m) => cellText(out.get(`${row}|${m}`), cell.skipped.get(row))),
      fmtBytes(eager?.peakBytes),
      eager?.decisions ?? "-",
    ]);
  }
  return rows;
}

function ms(out: Map<string, Outcome>, row: string, mode: Mode): number | undefined {
  return out.get(`${row}|${mode}`)?.ms;
}

function minOf(xs: (number | undefined)[]): number | undefined {
  const ys = xs.filter((x): x is number => x !== undefined);
  return ys.length === 0 ? undefined : Math.min(...ys);
}

function strategySummary(cell: Cell, out: Map<string, Outcome>, modes: Mode[], goals: Goal[]) {
  const rows: string[][] = [];
  const configs = [...new Set(cell.variants.map((v) => v.row))];
  const strategies = configs.filter((c) => c !== "off" && c !== "auto");
  for (const mode of modes) {
    const auto = ms(out, "auto", mode);
    const off = ms(out, "off", mode);
    const fastest = minOf(strategies.map((c) => ms(out, c, mode)));
    const aOff = ratio(auto, off);
    const aFast = ratio(auto, fastest);
    const isLarge = cell.group === "large";
    if (!isLarge)
      goals.push(goal(`${cell.name}, ${MODE_LABEL[mode]}: auto ≤ 1.03 × off`, aOff, 1.03));
    rows.push([
      cell.name,
      MODE_LABEL[mode],
      out.get("auto|eager")?.decisions ?? "-",
      fmtRatio(aOff),
      fmtRatio(aFast),
    ]);
  }
  return rows;
}

function report(
  quick: boolean,
  jitBackend: string,
  modes: Mode[],
  results: { cell: Cell; out: Map<string, Outcome>; cellModes: Mode[] }[],
  time: { wallS: number; cpuS: number },
): string {
  const goals: Goal[] = [];
  const modeHeaders = modes.map((m) => `${MODE_LABEL[m]} ms`);
  const section = (group: Cell["group"]) => results.filter((r) => r.cell.group === group);

  // strategies and the large cell
  const strategyRows: string[][] = [];
  const summaryRows: string[][] = [];
  const memoryRows: string[][] = [];
  for (const { cell, out, cellModes } of [...section("strategies"), ...section("large")]) {
    strategyRows.push(...detailRows(cell, out, modes));
    summaryRows.push(...strategySummary(cell, out, cellModes, goals));
    const nest = out.get("nest|eager");
    const measured = nest?.peakBytes;
    const est = out.get("auto|eager")?.nestEstimateMiB;
    memoryRows.push([
      cell.name,
      est === undefined ? "-" : `${est.toFixed(2)} MiB`,
      fmtBytes(measured),
      est === undefined || measured === undefined || measured === 0
        ? "-"
        : `${((est * 2 ** 20) / measured).toFixed(2)}`,
      peakText(nest),
      peakText(out.get("forwardOverReverse|eager")),
      fmtBytes(out.get("auto|eager")?.peakBytes),
    ]);
    if (cell.group === "large") {
      const autoPeak = out.get("auto|eager")?.peakBytes;
      goals.push(
        goal(`${cell.name}: auto peak ≤ 0.5 × nest peak`, ratio(autoPeak, measured), 0.5),
        goal(
          `${cell.name}: auto time ≤ 1.6 × nest time (eager)`,
          ratio(ms(out, "auto", "eager"), ms(out, "nest", "eager")),
          1.6,
        ),
      );
      if (cellModes.includes("jit")) {
        goals.push(
          goal(
            `${cell.name}: auto time ≤ 1.6 × nest time (jit)`,
            ratio(ms(out, "auto", "jit"), ms(out, "nest", "jit")),
            1.6,
          ),
        );
      }
      const pick = out.get("auto|eager")?.decisions ?? "";
      goals.push({
        what: `${cell.name}: auto picks forwardOverReverse`,
        value: pick,
        met: pick === "" ? undefined : pick.startsWith("forwardOverReverse"),
      });
    }
  }

  // mode choice
  const modeRows: string[][] = [];
  const modeSummary: string[][] = [];
  for (const { cell, out, cellModes } of section("mode")) {
    modeRows.push(...detailRows(cell, out, modes));
    for (const mode of cellModes) {
      const best = minOf([ms(out, "jacrev, off", mode), ms(out, "jacfwd, off", mode)]);
      const rev = ratio(ms(out, "jacrev, auto", mode), best);
      const fwd = ratio(ms(out, "jacfwd, auto", mode), best);
      for (const s of ["jacrev", "jacfwd"]) {
        goals.push(
          goal(
            `${cell.name}, ${MODE_LABEL[mode]}: auto ≤ 1.03 × off (${s})`,
            ratio(ms(out, `${s}, auto`, mode), ms(out, `${s}, off`, mode)),
            1.03,
          ),
        );
      }
      goals.push(
        goal(`${cell.name}, ${MODE_LABEL[mode]}: jacrev under auto ≤ 1.1 × better mode`, rev, 1.1),
        goal(`${cell.name}, ${MODE_LABEL[mode]}: jacfwd under auto ≤ 1.1 × better mode`, fwd, 1.1),
      );
      modeSummary.push([cell.name, MODE_LABEL[mode], fmtMs(best), fmtRatio(rev), fmtRatio(fwd)]);
    }
  }

  // Laplacian
  const lapRows: string[][] = [];
  const lapSummary: string[][] = [];
  for (const { cell, out, cellModes } of section("laplacian")) {
    lapRows.push(...detailRows(cell, out, modes));
    const d = Number(/d=(\d+)/.exec(cell.name)![1]);
    for (const mode of cellModes) {
      const r = ratio(ms(out, "hvp", mode), ms(out, "taylor", mode));
      lapSummary.push([cell.name, MODE_LABEL[mode], fmtRatio(r)]);
      if (d >= 16)
        goals.push(
          goal(`${cell.name}, ${MODE_LABEL[mode]}: taylor ≥ 2× faster than hvp`, r, 2, true),
        );
    }
  }

  const detailHeader = (first: string, second: string) => [
    first,
    second,
    ...modeHeaders,
    "peak residuals (eager)",
    "nested decisions (eager check run)",
  ];
  const md = [
    "# nestgrad nested-switching benchmark — latest results",
    "",
    `- date: ${new Date().toISOString()}; node ${process.version}; ${process.platform}/${process.arch}; total ${time.wallS.toFixed(0)} s wall, ${time.cpuS.toFixed(0)} s CPU (this process)`,
    `- command: \`npx tsx bench/nested.ts${quick ? " --quick" : ""}\` (also part of \`npm run bench\`)${quick ? " — QUICK run: fewer repeats, small cells only, the large cell scaled down" : ""}`,
    `- float32; milliseconds per call, median of runs interleaved round-robin across a cell's rows after warm-up (each cell stops early past its time budget; "(1 run)" marks a single sample); the large cell runs one row at a time (checked, timed, then let go, with a garbage collection between; its eager time is the checked run, its jit time one run after the compiling call)`,
    `- eager: nestgrad eagerly; jit: \`ng.jit(f)\` on the default backend (${jitBackend}); jit interp: \`ng.jit(f, { backend: "interpreter" })\``,
    "- every result is checked against float64 with switching off (WRONG above 1e-3 relative)",
    "- peak residuals: `ng.memory.measure` of one eager call (the checked one) — the peak of the bytes of concrete residuals held by live linearizations, including arrays held through tracers of an eager forward-mode jvp (see `ng.memory`); not cotangents or temporaries, and not the process's resident set",
    "- nested decisions: `ng.nested.stats()` of the eager check run: strategy decisions, and inner jacfwd/jacrev computed modes (written → computed)",
    "- W2 here takes the per-sample Jacobian rows with two vjp pullbacks (so switching applies); HNN: Hamiltonian network 2→H→H→1; small H = 32, N = 128; medium H = 256, N = 1024; large: W1, H = 256, N = 65,536",
    "",
    "## Strategies",
    "",
    table(detailHeader("cell", "config"), strategyRows),
    "",
    "### Ratios (auto picks from the eager check run)",
    "",
    table(["cell", "timing", "auto picks", "auto / off", "auto / fastest strategy"], summaryRows),
    "",
    "### Nest's residuals: the cost model's estimate against the ledger",
    "",
    "The estimate is `decide`'s \"nest keeping\" figure (3 × the bytes of every intermediate of the inner function); the measured value is the peak residual bytes of the nest run. Above 1: the model overestimates nest's memory.",
    "",
    table(
      [
        "cell",
        "nest estimate",
        "nest measured",
        "estimate / measured",
        "nest peak (reached by)",
        "FoR peak (reached by)",
        "auto peak",
      ],
      memoryRows,
    ),
    "",
    "Reached by: the linearization whose registration set the peak — its owner (internal: the expansion of a nested call, such as the Hessian-vector products forward-over-reverse runs in the outer backward pass), its own bytes, and how many of those it holds through tracers of an eager forward-mode jvp (primal and tangent).",
    "",
    "## Mode choice: ∇θ Σ_b ‖J_b‖², J_b by vmap of jacrev or jacfwd, MLP d → 64 → 64 → m, B = 256",
    "",
    table(detailHeader("cell", "spelling, switching"), modeRows),
    "",
    table(
      [
        "cell",
        "timing",
        "better mode as written, ms",
        "jacrev (auto) / better",
        "jacfwd (auto) / better",
      ],
      modeSummary,
    ),
    "",
    "## Laplacian of an MLP d → 64 → 64 → 1, B = 1024: Taylor mode against Hessian-vector products",
    "",
    table(detailHeader("cell", "method"), lapRows),
    "",
    table(["cell", "timing", "hvp / taylor"], lapSummary),
    "",
    "## Goals",
    "",
    "The large cell is exempt from auto ≤ 1.03 × off: there auto trades time for memory (its own goals apply).",
    "",
    table(
      ["goal", "value", ""],
      goals.map((g) => [g.what, g.value, goalMark(g)]),
    ),
    "",
    `Met ${goals.filter((g) => g.met === true).length} of ${goals.filter((g) => g.met !== undefined).length} (n/a: not measured).`,
    "",
  ].join("\n");
  return md;
}

/** The default jit backend's name (as `ng.jit` resolves "auto"), from a tiny program. */
function defaultJitBackend(): string {
  try {
    const j = ng.jit((x: Tensor) => ng.add(x, 1));
    j(ng.array([1]));
    return j.stats().backend ?? "interpreter";
  } catch {
    return "interpreter";
  }
}

const GROUPS = ["strategies", "mode", "laplacian", "large"] as const;

/**
 * Runs the benchmark and writes bench/results/nested.md; `only` runs one group of cells
 * and prints its table without writing the file (for development).
 */
export async function runNestedSection(quick: boolean, only?: Cell["group"]): Promise<void> {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const jitBackend = defaultJitBackend();
  const ort = jitBackend !== "interpreter";
  // the jit column is the default backend; the interpreter column only when that is ORT
  const modes = modesFor(true, ort);
  const cells: { cell: Cell; cellModes: Mode[] }[] = [];
  for (const size of quick ? (["small"] as const) : (["small", "medium"] as const)) {
    for (const w of WORKLOADS)
      cells.push({ cell: strategyCell(w, size, quick, modes), cellModes: modes });
  }
  for (const [d, m] of [
    [2, 16],
    [16, 2],
  ] as const) {
    cells.push({ cell: modeCell(d, m, quick, modes), cellModes: modes });
  }
  for (const quantity of ["laplacian", "∇θ Σ lap²"] as const) {
    for (const d of [3, 16, 64]) {
      // the interpreter runs the Laplacian's d-fold batched programs about as slowly as eager
      const lm = modesFor(true, false);
      cells.push({ cell: laplacianCell(d, quantity, quick, lm), cellModes: lm });
    }
  }
  // ORT only (the interpreter would take minutes here)
  const largeModes = modesFor(ort, false);
  cells.push({ cell: largeCell(quick, ort), cellModes: largeModes });

  const results: { cell: Cell; out: Map<string, Outcome>; cellModes: Mode[] }[] = [];
  for (const { cell, cellModes } of cells) {
    if (only !== undefined && cell.group !== only) continue;
    const t0 = performance.now();
    const out = await runCell(cell);
    results.push({ cell, out, cellModes });
    const line = [...out.entries()]
      .map(([k, o]) => `${k.replace("|", " ")} ${o.status ?? fmtMs(o.ms)}`)
      .join("; ");
    console.log(`${cell.name} (${((performance.now() - t0) / 1e3).toFixed(1)} s): ${line}`);
  }
  const cpu = process.cpuUsage(cpu0);
  const md = report(quick, jitBackend, modes, results, {
    wallS: (performance.now() - started) / 1e3,
    cpuS: (cpu.user + cpu.system) / 1e6,
  });
  if (only === undefined) {
    const dir = fileURLToPath(new URL("./results/", import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}nested.md`, md);
  }
  console.log(`\n${md}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf("--only");
  const only = i >= 0 ? process.argv[i + 1] : undefined;
  if (only !== undefined && !(GROUPS as readonly string[]).includes(only)) {
    throw new Error(`bench/nested.ts: --only must be one of ${GROUPS.join(", ")}, got ${only}`);
  }
  await runNestedSection(process.argv.includes("--quick"), only as Cell["group"] | undefined);
}
