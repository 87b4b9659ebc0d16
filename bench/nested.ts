/**
 * Nested-switching benchmark: for W1–W4 and a Hamiltonian
 * network, small and medium, the time and peak memory of every strategy, of auto and of
 * switching off, side by side in one run. Time: median of repeats in this process. Peak
 * memory: a fresh child process per cell runs the computation once after a warm-up of
 * the primal loss and reports the growth of its peak resident set (maxRSS), so garbage the
 * run leaves behind counts, as it would for a user. Results go to bench/results/nested.md.
 * Run alone: `npx tsx bench/nested.ts [--quick]`.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as ng from "../src/index.js";
import { makeProblem, relErr, type Data, type Problem } from "./ad/common.js";
import { lossFn, mlp } from "./ad/nestgrad.js";

type Tensor = ng.Tensor;
type Dt = "float32" | "float64";
const CONFIGS = ["off", "auto", "forwardOverReverse", "nest", "innerForward"] as const;
type ConfigName = (typeof CONFIGS)[number];
const WORKLOADS = ["W1", "W2", "W3", "W4", "HNN"] as const;
type NestedWorkload = (typeof WORKLOADS)[number];

function configOf(c: ConfigName): Partial<ng.config.Config> {
  return c === "off"
    ? { nestedSwitching: false, nestedStrategy: "auto" }
    : { nestedSwitching: true, nestedStrategy: c };
}

function tensor(d: Data, dtype: Dt): Tensor {
  const data = dtype === "float32" ? Float32Array.from(d.data) : Float64Array.from(d.data);
  return ng.array(new ng.NDArray(data, d.shape));
}

function problem(w: NestedWorkload, H: number, N: number): Problem {
  if (w !== "HNN") return makeProblem(w, H, N);
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

function runner(w: NestedWorkload, p: Problem, dtype: Dt): () => Float64Array {
  const ps = p.params.map((d) => tensor(d, dtype));
  const loss = nestedLoss(w, p, dtype);
  const flat = (ts: Tensor[]) => {
    const parts = ts.map((t) => t.dataSync());
    const out = new Float64Array(parts.reduce((s, q) => s + q.length, 0));
    let o = 0;
    for (const q of parts) for (const v of q) out[o++] = v;
    return out;
  };
  if (w === "W4") {
    const v = p.v!.map((d) => tensor(d, dtype));
    return () => flat(ng.hvp(loss, ps, v) as Tensor[]);
  }
  const g = ng.grad(loss);
  return () => flat(g(ps) as Tensor[]);
}

const SIZES = { small: [32, 128], medium: [256, 1024] } as const;

/** Child-process entry: peak memory (MiB) of one run of one cell. */
function childMain(w: NestedWorkload, size: keyof typeof SIZES, c: ConfigName): void {
  const [H, N] = SIZES[size];
  const p = problem(w, H, N);
  ng.config.set(configOf(c));
  const run = runner(w, p, "float32");
  const loss = nestedLoss(w, p, "float32");
  loss(p.params.map((d) => tensor(d, "float32"))).item(); // warm the primal path
  const before = process.resourceUsage().maxRSS;
  run();
  const after = process.resourceUsage().maxRSS;
  process.stdout.write(JSON.stringify({ peakMiB: (after - before) / 1024 }));
}

function innerForwardTooSlow(w: NestedWorkload, N: number): boolean {
  // inner forward mode costs one pass per differentiated input element
  const d = w === "W1" ? N : w === "W3" ? 16 * N : w === "W4" ? Infinity : 2 * N;
  return d > 64;
}

export async function runNestedSection(quick: boolean): Promise<void> {
  const sizes: (keyof typeof SIZES)[] = quick ? ["small"] : ["small", "medium"];
  const self = fileURLToPath(import.meta.url);
  const header = [
    "cell",
    ...CONFIGS,
    "auto picks",
    "auto / fastest",
    "off / auto",
    "peak MiB (off, auto, FoR, nest)",
  ];
  const rows: string[][] = [];
  for (const size of sizes) {
    const [H, N] = SIZES[size];
    for (const w of WORKLOADS) {
      const p = problem(w, H, N);
      const ref = (() => {
        ng.config.set(configOf("off"));
        return runner(w, p, "float64")();
      })();
      const times: Partial<Record<ConfigName, number>> = {};
      const cells = new Map<ConfigName, string>();
      let autoPick = "-";
      // Check every configuration first, then time them round-robin (one run of each per
      // round), so that JIT warm-up and machine drift affect all of them alike.
      const runs = new Map<ConfigName, () => Float64Array>();
      for (const c of CONFIGS) {
        if (c === "innerForward" && innerForwardTooSlow(w, N)) {
          cells.set(c, "skipped (d too large)");
          continue;
        }
        ng.config.set(configOf(c));
        const run = runner(w, p, "float32");
        ng.nested.resetStats();
        const result = run();
        if (c === "auto")
          autoPick = Object.keys(ng.nested.stats().decisions).join("+") || "not staged";
        const err = relErr(result, ref);
        if (err > 1e-3) {
          cells.set(c, `WRONG (${err.toExponential(1)})`);
          continue;
        }
        runs.set(c, run);
      }
      const reps = size === "medium" ? (quick ? 3 : 15) : 41;
      const samples = new Map<ConfigName, number[]>([...runs.keys()].map((c) => [c, []]));
      for (let r = -2; r < reps; r++) {
        for (const [c, run] of runs) {
          ng.config.set(configOf(c));
          const t0 = performance.now();
          run();
          if (r >= 0) samples.get(c)!.push(performance.now() - t0);
        }
      }
      for (const [c, xs] of samples) {
        xs.sort((a, b) => a - b);
        times[c] = xs[xs.length >> 1]!;
        cells.set(c, times[c]!.toFixed(size === "small" ? 2 : 0));
      }
      ng.config.set(configOf("auto"));
      const fastest = Math.min(...Object.values(times));
      const mem = (["off", "auto", "forwardOverReverse", "nest"] as const).map((c) => {
        try {
          const out = execFileSync(
            process.execPath,
            ["--import", "tsx", self, "--child", w, size, c],
            {
              encoding: "utf8",
              stdio: ["ignore", "pipe", "ignore"],
            },
          );
          return (JSON.parse(out) as { peakMiB: number }).peakMiB.toFixed(0);
        } catch {
          return "?";
        }
      });
      rows.push([
        `${w} ${size}`,
        ...CONFIGS.map((c) => cells.get(c)!),
        autoPick,
        times.auto ? `${(times.auto / fastest).toFixed(2)}x` : "-",
        times.auto && times.off ? `${(times.off / times.auto).toFixed(2)}x` : "-",
        mem.join(", "),
      ]);
      console.log(rows[rows.length - 1]!.join(" | "));
    }
  }
  const table = [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
  const md = [
    "# nestgrad nested-switching benchmark — latest results",
    "",
    `- date: ${new Date().toISOString()}; node ${process.version}; 2-core machine`,
    `- command: \`npx tsx bench/nested.ts${quick ? " --quick" : ""}\` (also part of \`npm run bench\`)`,
    "- float32; milliseconds per parameter gradient (W4: per HVP), median of 41 (small) or 15 (medium) repeats, timed round-robin across the configurations after two warm-up rounds",
    "- every cell is checked against nestgrad float64 with switching off (WRONG above 1e-3 relative)",
    "- peak MiB: growth of the peak resident set of a fresh process during one run (off, auto, forwardOverReverse, nest)",
    "- W2 here takes the per-sample Jacobian rows with two vjp pullbacks (so switching applies); HNN: Hamiltonian network 2→H→H→1",
    "",
    table,
    "",
  ].join("\n");
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}nested.md`, md);
  console.log(`\n${md}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf("--child");
  if (i >= 0) {
    childMain(
      process.argv[i + 1] as NestedWorkload,
      process.argv[i + 2] as keyof typeof SIZES,
      process.argv[i + 3] as ConfigName,
    );
  } else {
    await runNestedSection(process.argv.includes("--quick"));
  }
}
