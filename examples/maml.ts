/**
 * MAML (Finn et al., 2017) on sine regression, with the gradient through the inner step.
 *
 * Each task is y = A sin(x − φ) with A ∈ [0.1, 5], φ ∈ [0, π]. The inner step adapts the
 * parameters to a task's K support points, θ' = θ − α ∇θ L_support(θ); the meta-loss is
 * the loss of θ' on query points. Its gradient in θ differentiates through the inner
 * gradient (a second-order term, handled by nested switching). The headline is the
 * post-adaptation error on unseen tasks, against the same network trained without
 * meta-learning (one average model, fine-tuned the same way).
 *
 *   npx tsx examples/maml.ts [--steps 600] [--out out]
 */
import * as ng from "../src/index.js";
import { intOption, parseOptions, progressBar } from "./lib/cli.js";
import { plotSeries } from "./lib/plot.js";

const opts = parseOptions("maml", "MAML on sine regression, second order", {
  steps: { type: "string", default: "600", help: "meta-training steps" },
  tasks: { type: "string", default: "8", help: "tasks per meta-batch" },
  shots: { type: "string", default: "10", help: "support points per task (K)" },
  out: { type: "string", default: "out", help: "folder for the plot" },
});
const steps = intOption("maml", "steps", opts.steps);
const nTasks = intOption("maml", "tasks", opts.tasks);
const K = intOption("maml", "shots", opts.shots);
const alpha = 0.01;

const model = ng.nn.chain(
  ng.nn.dense(1, 40, ng.tanh),
  ng.nn.dense(40, 40, ng.tanh),
  ng.nn.dense(40, 1),
);
const [ps0, st] = ng.nn.setup(ng.random.key(0), model);
type Params = typeof ps0;
const mse = (ps: Params, x: ng.Tensor, y: ng.Tensor) => ng.nn.mse(model.apply(x, ps, st)[0], y);

interface Task {
  amp: number;
  phase: number;
}
function sampleTask(key: ng.Tensor): Task {
  const [a, p] = ng.random.uniform(key, [2]).toArray() as number[];
  return { amp: 0.1 + 4.9 * a!, phase: Math.PI * p! };
}
function points(task: Task, key: ng.Tensor, n: number): [ng.Tensor, ng.Tensor] {
  const x = ng.random.uniform(key, [n, 1], { minval: -5, maxval: 5 });
  return [x, ng.sin(x.sub(task.phase)).mul(task.amp)];
}

/** θ' = θ − α ∇L_support(θ); differentiable in θ (the outer gradient goes through it). */
const adapt = (ps: Params, x: ng.Tensor, y: ng.Tensor): Params => {
  const g = ng.grad(mse)(ps, x, y);
  return ng.tree.map((p: ng.Tensor, gi: ng.Tensor) => p.sub(gi.mul(alpha)), ps, g);
};

function metaLoss(ps: Params, batch: [ng.Tensor, ng.Tensor, ng.Tensor, ng.Tensor][]): ng.Tensor {
  const losses = batch.map(([xs, ys, xq, yq]) => mse(adapt(ps, xs, ys), xq, yq));
  return losses.reduce((a, b) => a.add(b)).div(batch.length);
}

function train(meta: boolean): Params {
  let ps = ps0;
  let os = ng.optim.setup(ng.optim.adam(1e-3), ps);
  const bar = progressBar(meta ? "MAML     " : "baseline ", steps);
  for (let i = 0; i < steps; i++) {
    const keys = ng.random.split(ng.random.foldIn(ng.random.key(1), i), nTasks);
    const batch = keys.map((k) => {
      const [kt, ks, kq] = ng.random.split(k, 3);
      const task = sampleTask(kt!);
      return [...points(task, ks!, K), ...points(task, kq!, K)] as [
        ng.Tensor,
        ng.Tensor,
        ng.Tensor,
        ng.Tensor,
      ];
    });
    const objective = meta
      ? (p: Params) => metaLoss(p, batch)
      : (p: Params) =>
          batch
            .map(([, , xq, yq]) => mse(p, xq, yq))
            .reduce((a, b) => a.add(b))
            .div(nTasks);
    const [loss, g] = ng.valueAndGrad(objective)(ps);
    [os, ps] = ng.optim.update(os, ps, g);
    if ((i + 1) % 10 === 0) bar.update(i + 1, loss.item());
  }
  bar.stop();
  return ps;
}

/** Mean query MSE on unseen tasks after `k` adaptation steps from `ps`. */
function evaluate(ps: Params, adaptSteps: number, tasks = 50): number {
  let total = 0;
  for (let t = 0; t < tasks; t++) {
    const [kt, ks, kq] = ng.random.split(ng.random.foldIn(ng.random.key(99), t), 3);
    const task = sampleTask(kt!);
    const [xs, ys] = points(task, ks!, K);
    const [xq, yq] = points(task, kq!, 100);
    let p = ps;
    for (let s = 0; s < adaptSteps; s++) p = adapt(p, xs, ys);
    total += mse(p, xq, yq).item();
  }
  return total / tasks;
}

const psMaml = train(true);
const psBase = train(false);
const rows = [0, 1, 5].map((k) => ({ k, maml: evaluate(psMaml, k), base: evaluate(psBase, k) }));
console.log("adaptation steps   MAML query MSE   baseline query MSE");
for (const r of rows) {
  console.log(
    `${String(r.k).padStart(16)}   ${r.maml.toFixed(3).padStart(14)}   ${r.base.toFixed(3).padStart(18)}`,
  );
}
console.log(
  `MAML after one inner step: query MSE ${rows[1]!.maml.toFixed(3)} against ${rows[1]!.base.toFixed(3)} without meta-learning`,
);

// Plot one unseen task: the truth, the support points, and both models after one step.
const [kt, ks] = ng.random.split(ng.random.key(1234));
const task = sampleTask(kt!);
const [xs, ys] = points(task, ks!, K);
const grid = ng.linspace(-5, 5, 101).reshape([101, 1]);
const curve = (ps: Params) =>
  model
    .apply(grid, adapt(ps, xs, ys), st)[0]
    .reshape([-1])
    .toArray() as number[];
const gx = grid.reshape([-1]).toArray() as number[];
const [svg] = await plotSeries(
  opts.out,
  "maml",
  [
    { name: "true task", x: gx, y: gx.map((x) => task.amp * Math.sin(x - task.phase)) },
    { name: "MAML, 1 step", x: gx, y: curve(psMaml) },
    { name: "baseline, 1 step", x: gx, y: curve(psBase) },
    {
      name: `${K} support points`,
      x: xs.reshape([-1]).toArray() as number[],
      y: ys.reshape([-1]).toArray() as number[],
      points: true,
    },
  ],
  { title: "Sine regression on an unseen task after one gradient step", xLabel: "x", yLabel: "y" },
);
console.log(`plot: ${svg} (and .png)`);
