/**
 * The main job: train a physics-informed network whose loss contains second derivatives.
 *
 * Problem: the 1-D Poisson equation u''(x) = −π² sin(πx) on [0, 1] with u(0) = u(1) = 0,
 * whose exact solution is u(x) = sin(πx). A tanh MLP u_θ is trained on the loss
 *
 *   L(θ) = mean_x (u_θ''(x) + π² sin(πx))² + λ (u_θ(0)² + u_θ(1)²)
 *
 * at random collocation points. u_θ'' is a per-sample Laplacian (`ng.laplacian`), an inner
 * derivative under the outer gradient in θ: nested switching stages it once and expands it
 * by the strategy its cost model picks, and `ng.jit` compiles the whole training step
 * (loss, nested derivatives, gradient and Adam update) into one program.
 *
 *   npm run demo                      # defaults: 3000 steps, float32
 *   npm run demo -- --help            # the options
 *   npm run demo -- --tour            # a tour of the API instead
 */
import * as ng from "../src/index.js";
import { choiceOption, intOption, median, parseOptions, progressBar } from "./lib/cli.js";
import { plotSeries } from "./lib/plot.js";
import { poissonProblem } from "./lib/poisson.js";

const STRATEGIES = ["auto", "nest", "forwardOverReverse", "innerForward", "off"] as const;
const opts = parseOptions(
  "demo",
  "train a physics-informed network on u'' = −π² sin(πx), u(0) = u(1) = 0",
  {
    steps: { type: "string", default: "3000", help: "training steps" },
    seed: { type: "string", default: "0", help: "random seed" },
    precision: { type: "string", default: "float32", help: "float32 or float64" },
    strategy: {
      type: "string",
      default: "auto",
      help: `nested strategy: ${STRATEGIES.join(", ")} (off = no switching)`,
    },
    width: { type: "string", default: "32", help: "hidden width of the MLP" },
    points: { type: "string", default: "128", help: "collocation points per step" },
    out: { type: "string", default: "out", help: "folder for the plots" },
    "no-jit": { type: "boolean", default: false, help: "train eagerly instead of with ng.jit" },
    tour: { type: "boolean", default: false, help: "run the API tour instead" },
  },
);

if (opts.tour) {
  await import("./tour.js");
  process.exit(0);
}

const steps = intOption("demo", "steps", opts.steps);
const seed = intOption("demo", "seed", opts.seed, 0);
const width = intOption("demo", "width", opts.width);
const nPoints = intOption("demo", "points", opts.points, 2);
const dtype = choiceOption("demo", "precision", opts.precision, ["float32", "float64"] as const);
const strategy = choiceOption("demo", "strategy", opts.strategy, STRATEGIES);
ng.config.set(
  strategy === "off"
    ? { nestedSwitching: false }
    : { nestedSwitching: true, nestedStrategy: strategy },
);

const P = poissonProblem({ width, dtype, seed, points: nPoints, steps });
const { ps0, rule, step, points } = P;
const useJit = !opts["no-jit"];
const jitted = ng.jit(step);
const trainStep = useJit ? jitted : step;

// Speed: the jitted, switched step against plain eager reverse-over-reverse.
function timeSteps(fn: typeof step, reps: number): number {
  let ps = ps0;
  let os = ng.optim.setup(rule, ps0);
  const times: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const x = points(i);
    const t0 = performance.now();
    [ps, os] = fn(ps, os, x);
    ng.tree.flatten<ng.Tensor>(ps)[0].forEach((p) => p.toArray()); // wait for the values
    if (i >= 2) times.push(performance.now() - t0);
  }
  return median(times);
}
const tEager = ng.config.withConfig({ nestedSwitching: false }, () => timeSteps(step, 8));
const tFast = timeSteps(trainStep, 20);
console.log(
  `training step: ${tFast.toFixed(2)} ms ${useJit ? `(ng.jit on ${jitted.stats().backend})` : "(eager)"}` +
    `, strategy ${strategy}; plain eager reverse-over-reverse ${tEager.toFixed(2)} ms` +
    ` → ${(tEager / tFast).toFixed(1)}× faster`,
);

// Training.
let ps = ps0;
let os = ng.optim.setup(rule, ps0);
const curve: { step: number; loss: number }[] = [];
const bar = progressBar("training", steps);
const t0 = performance.now();
for (let i = 1; i <= steps; i++) {
  const [ps2, os2, value] = trainStep(ps, os, points(1000 + i));
  ps = ps2;
  os = os2;
  if (i % 10 === 0 || i === steps) {
    const l = value.item();
    curve.push({ step: i, loss: l });
    bar.update(i, l);
  }
}
bar.stop();
const seconds = (performance.now() - t0) / 1000;

// Result: the maximum error against the exact solution on a fine grid.
const { xs, learned, truth: exact, maxError } = P.evaluate(ps);
console.log(
  `${steps} steps in ${seconds.toFixed(1)} s (${(steps / seconds).toFixed(0)} steps/s); ` +
    `final loss ${curve.at(-1)!.loss.toExponential(3)}; max |u − sin(πx)| = ${maxError.toExponential(2)}`,
);

const [solSvg] = await plotSeries(
  opts.out,
  "demo-solution",
  [
    { name: "exact sin(πx)", x: xs, y: exact },
    {
      name: "learned u(x)",
      x: xs.filter((_, i) => i % 5 === 0),
      y: learned.filter((_, i) => i % 5 === 0),
      points: true,
    },
  ],
  {
    title: `Poisson PINN: learned vs exact (max error ${maxError.toExponential(1)})`,
    xLabel: "x",
    yLabel: "u(x)",
  },
);
const [lossSvg] = await plotSeries(
  opts.out,
  "demo-loss",
  [{ name: "loss", x: curve.map((c) => c.step), y: curve.map((c) => c.loss) }],
  { title: "Training loss", xLabel: "step", yLabel: "loss", logY: true },
);
console.log(`plots: ${solSvg}, ${lossSvg} (and .png)`);
