/**
 * `ng.di` benchmark: prepared vs unprepared operators, and
 * sparse vs dense Hessians, measured side by side in one process.
 *
 * - gradient (W0: grad of the MLP loss wrt all parameters) and hvp (W4: H·v of the same
 *   loss) on the small (H = 32, N = 128) and medium (H = 256, N = 1024) problems of
 *   bench/ad, float32, data passed as a `constant` context: the native transform
 *   (`ng.grad` / `ng.hvp`), the unprepared `ng.di` operator and the prepared one
 *   (`prepareGradient` / `prepareHvp`: staged once to IR, evaluated per call);
 * - the Hessian of a banded (chained Rosenbrock) function at n = 1000, float64: dense
 *   (one HVP per column), sparse unprepared (pattern detection + colouring + one HVP per
 *   colour) and sparse prepared (pattern and colouring reused), with the number of passes.
 *
 * Run alone: `npx tsx bench/di.ts [--quick]`; results go to bench/results/di.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import * as ng from "../src/index.js";
import { concat, makeProblem, relErr, type Data, type Workload } from "./ad/common.js";
import { mlp } from "./ad/nestgrad.js";
import { fmt, printTable, timeIt, type TimingOptions } from "./util.js";

type Tensor = ng.Tensor;
const di = ng.di;

function tensor(d: Data): Tensor {
  return ng.array(new ng.NDArray(Float32Array.from(d.data), d.shape));
}

function flat(ts: unknown): Float64Array {
  const [leaves] = ng.tree.flatten(ts);
  return concat(leaves.map((t) => (t as Tensor).dataSync()));
}

/** The W0 loss with its data as an argument (a `constant` context for ng.di). */
const loss = (ps: Tensor[], d: { x: Tensor; y: Tensor }) =>
  ng.mean(ng.square(ng.sub(mlp(ps, d.x), d.y)));

interface Row {
  cells: string[];
}

async function preparedRows(quick: boolean): Promise<Row[]> {
  const sizes = quick
    ? [{ name: "small", H: 32, N: 128 }]
    : [
        { name: "small", H: 32, N: 128 },
        { name: "medium", H: 256, N: 1024 },
      ];
  const rows: Row[] = [];
  for (const s of sizes) {
    const timing: TimingOptions = {
      warmup: 3,
      repeats: quick ? 5 : s.name === "small" ? 15 : 7,
      minRepeatMs: quick ? 50 : 100,
    };
    for (const w of ["W0", "W4"] as Workload[]) {
      const p = makeProblem("W4", s.H, s.N);
      const ps = p.params.map(tensor);
      const data = { x: tensor(p.x), y: tensor(p.y!) };
      const v = p.v!.map(tensor);
      const ctx = di.constant(data);
      let native: () => unknown;
      let plain: () => unknown;
      let prepared: () => unknown;
      let prepMs: number;
      if (w === "W0") {
        const b = di.autoReverse();
        native = () => flat(ng.grad((q: Tensor[]) => loss(q, data))(ps));
        plain = () => flat(di.gradient(loss, b, ps, ctx));
        const t0 = performance.now();
        const prep = di.prepareGradient(loss, b, ps, ctx);
        prepMs = performance.now() - t0;
        prepared = () => flat(prep.gradient(ps, ctx));
      } else {
        const b = di.secondOrder(di.autoForward(), di.autoReverse());
        native = () => flat(ng.hvp((q: Tensor[]) => loss(q, data), ps, v));
        plain = () => flat(di.hvp(loss, b, ps, [v], ctx)[0]);
        const t0 = performance.now();
        const prep = di.prepareHvp(loss, b, ps, [v], ctx);
        prepMs = performance.now() - t0;
        prepared = () => flat(prep.hvp(ps, [v], ctx)[0]);
      }
      const ref = native() as Float64Array;
      const errs = [plain, prepared].map((f) => relErr(f() as Float64Array, ref));
      const tn = await timeIt(native, timing);
      const tu = await timeIt(plain, timing);
      const tp = await timeIt(prepared, timing);
      rows.push({
        cells: [
          `${w} ${w === "W0" ? "gradient" : "hvp"}`,
          `${s.name} (H=${s.H}, N=${s.N})`,
          fmt(tn * 1e3, 3),
          fmt(tu * 1e3, 3),
          fmt(tp * 1e3, 3),
          `${(tu / tp).toFixed(2)}x`,
          fmt(prepMs, 1),
          errs.map((e) => e.toExponential(1)).join(" / "),
        ],
      });
      console.log(`  ${rows[rows.length - 1]!.cells.join("  ")}`);
    }
  }
  return rows;
}

/** Chained Rosenbrock: Σ (x_{i+1} − x_i²)² + 0.1 Σ x_i⁴; tridiagonal Hessian. */
function banded(x: Tensor): Tensor {
  const a = ng.slice(x, [{ start: 1 }]);
  const b = ng.slice(x, [{ stop: -1 }]);
  return ng.add(ng.sum(ng.square(ng.sub(a, ng.square(b)))), ng.mul(0.1, ng.sum(ng.pow(x, 4))));
}

async function sparseRows(quick: boolean): Promise<Row[]> {
  const n = 1000;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(0.37 * i);
  const x = ng.array(new ng.NDArray(data, [n]));
  const dense = di.secondOrder(di.autoForward(), di.autoReverse());
  const sparse = di.autoSparse(dense);
  const rows: Row[] = [];
  const one: TimingOptions = { warmup: 1, repeats: quick ? 1 : 3, minRepeatMs: 0 };
  const many: TimingOptions = { warmup: 2, repeats: quick ? 5 : 11, minRepeatMs: 50 };
  di.resetStats();
  const Hd = flat(di.hessian(banded, dense, x));
  const densePasses = di.stats().hvp;
  di.resetStats();
  const Hs = flat(di.hessian(banded, sparse, x));
  const sparsePasses = di.stats().hvp;
  const t0 = performance.now();
  const prep = di.prepareHessian(banded, sparse, x);
  const prepMs = performance.now() - t0;
  const Hp = flat(prep.hessian(x));
  const err = [relErr(Hs, Hd), relErr(Hp, Hd)];
  const td = await timeIt(() => flat(di.hessian(banded, dense, x)), one);
  const ts = await timeIt(() => flat(di.hessian(banded, sparse, x)), many);
  const tp = await timeIt(() => flat(prep.hessian(x)), many);
  const p = prep.pattern!;
  rows.push(
    {
      cells: [
        "dense (one HVP per column)",
        String(densePasses),
        fmt(td * 1e3, 1),
        "1.00x",
        "-",
        "-",
      ],
    },
    {
      cells: [
        "sparse, unprepared (detect + colour + HVPs)",
        String(sparsePasses),
        fmt(ts * 1e3, 1),
        `${(td / ts).toFixed(0)}x`,
        "-",
        err[0]!.toExponential(1),
      ],
    },
    {
      cells: [
        "sparse, prepared",
        String(prep.coloring!.count),
        fmt(tp * 1e3, 1),
        `${(td / tp).toFixed(0)}x`,
        fmt(prepMs, 1),
        err[1]!.toExponential(1),
      ],
    },
  );
  console.log(`  pattern: ${p.rows}x${p.cols}, nnz ${p.nnz}, colours ${prep.coloring!.count}`);
  return rows;
}

export async function runDiBench(quick = false): Promise<string> {
  console.log("ng.di: prepared vs unprepared (ms per call)");
  const prep = await preparedRows(quick);
  console.log("ng.di: sparse vs dense Hessian, banded n = 1000");
  const sparse = await sparseRows(quick);
  const h1 = [
    "operator",
    "size",
    "native ng",
    "di unprepared",
    "di prepared",
    "unprepared / prepared",
    "preparation ms",
    "rel. err (unprep / prep)",
  ];
  const h2 = [
    "Hessian",
    "passes (HVPs)",
    "ms",
    "speed-up vs dense",
    "preparation ms",
    "rel. err vs dense",
  ];
  printTable(
    "ng.di prepared vs unprepared, ms (median)",
    h1,
    prep.map((r) => r.cells),
  );
  printTable(
    "ng.di sparse vs dense Hessian, n = 1000, ms (median)",
    h2,
    sparse.map((r) => r.cells),
  );
  const table = (h: string[], b: Row[]) =>
    [
      `| ${h.join(" | ")} |`,
      `|${h.map(() => " --- ").join("|")}|`,
      ...b.map((r) => `| ${r.cells.join(" | ")} |`),
    ].join("\n");
  const cpu = os.cpus();
  const md = [
    "# ng.di benchmark — latest results",
    "",
    `- date: ${new Date().toISOString()}`,
    `- node ${process.version}, ${process.platform}/${process.arch}; machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown CPU"})`,
    `- command: \`npx tsx bench/di.ts${quick ? " --quick" : ""}\``,
    "- W0: gradient of mean((u(x)−y)²) wrt all parameters of a tanh MLP 16→H→H→1 (autoReverse); W4: HVP of",
    "  the same loss (secondOrder(autoForward, autoReverse)); float32, data passed as `ng.di.constant`.",
    "  native ng: `ng.grad` / `ng.hvp` with a closure. Prepared: staged once to IR (forward + backward passes),",
    "  evaluated per call. Median of timed repeats after warm-up, ms per call, reading the result back included.",
    "- Sparse Hessian: chained Rosenbrock Σ(x_{i+1} − x_i²)² + 0.1Σx_i⁴ at n = 1000, float64,",
    "  autoSparse(secondOrder(autoForward, autoReverse)) vs the dense backend (one HVP per column).",
    "",
    "## Prepared vs unprepared",
    "",
    table(h1, prep),
    "",
    "## Sparse vs dense Hessian (n = 1000)",
    "",
    table(h2, sparse),
    "",
  ].join("\n");
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}di.md`, md);
  console.log(`\nwritten to bench/results/di.md`);
  return md;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runDiBench(process.argv.includes("--quick"));
}
