/**
 * Per-sample gradients with `ng.vmap(ng.grad(...))`, and a DP-SGD-style step.
 *
 * Each example's gradient is computed in one vectorised pass (no loop over the batch),
 * clipped to norm C, summed, perturbed with Gaussian noise of scale σC and averaged
 * (Abadi et al., 2016). The example checks the vectorised per-sample gradients against a
 * loop of ordinary gradients, then trains a small classifier and reports its accuracy
 * with and without the privacy mechanism.
 *
 *   npx tsx examples/dp-sgd.ts [--steps 300] [--clip 1] [--noise 1] [--out out]
 */
import * as ng from "../src/index.js";
import { intOption, parseOptions, progressBar } from "./lib/cli.js";
import { plotSeries } from "./lib/plot.js";

const opts = parseOptions("dp-sgd", "per-sample gradients with vmap and DP-SGD clipping", {
  steps: { type: "string", default: "300", help: "training steps" },
  batch: { type: "string", default: "64", help: "batch size" },
  clip: { type: "string", default: "1", help: "per-sample gradient norm bound C" },
  noise: { type: "string", default: "1", help: "noise multiplier σ" },
  out: { type: "string", default: "out", help: "folder for the plot" },
});
const steps = intOption("dp-sgd", "steps", opts.steps);
const batch = intOption("dp-sgd", "batch", opts.batch);
const clipNorm = Number(opts.clip);
const sigma = Number(opts.noise);

// Two interleaved half-moons, 2-D, labels 0/1.
function moons(key: ng.Tensor, n: number): [ng.Tensor, ng.Tensor] {
  const [kt, kn] = ng.random.split(key);
  const t = ng.random.uniform(kt!, [n], { minval: 0, maxval: Math.PI });
  const label = ng.arange(n, { dtype: "int32" }).mod(2);
  const flip = label.cast("float32");
  const x0 = ng.cos(t).add(flip); // second moon shifted right and down
  const x1 = ng.sin(t).mul(flip.mul(-2).add(1)).add(flip.mul(0.5));
  const x = ng.stack([x0, x1], 1).add(ng.random.normal(kn!, [n, 2]).mul(0.1));
  return [x, label];
}
const [xTrain, yTrain] = moons(ng.random.key(0), 2048);
const [xTest, yTest] = moons(ng.random.key(1), 1024);

const model = ng.nn.chain(
  ng.nn.dense(2, 32, ng.tanh),
  ng.nn.dense(32, 32, ng.tanh),
  ng.nn.dense(32, 2),
);
const [ps0, st] = ng.nn.setup(ng.random.key(2), model);
type Params = typeof ps0;
const exampleLoss = (ps: Params, x: ng.Tensor, y: ng.Tensor) => {
  const [logits] = model.apply(x.reshape([1, 2]), ps, st);
  return ng.nn.crossEntropyWithLogits(logits, y.reshape([1]));
};
// One gradient per example: vmap over the example axis of x and y, not over the parameters.
const perSample = ng.vmap(ng.grad(exampleLoss), [null, 0, 0]);

// Check: vmap(grad) equals a loop of grads.
{
  const xs = ng.slice(xTrain, [{ start: 0, stop: 8 }]);
  const ys = ng.slice(yTrain, [{ start: 0, stop: 8 }]);
  const batched = ng.tree.flatten<ng.Tensor>(perSample(ps0, xs, ys))[0];
  let maxDiff = 0;
  for (let i = 0; i < 8; i++) {
    const gi = ng.tree.flatten<ng.Tensor>(
      ng.grad(exampleLoss)(ps0, ng.slice(xs, [i]), ng.slice(ys, [i])),
    )[0];
    gi.forEach((g, k) => {
      const row = ng.slice(batched[k]!, [i]);
      maxDiff = Math.max(maxDiff, ng.max(ng.abs(row.sub(g))).item());
    });
  }
  console.log(
    `per-sample gradients: vmap(grad) vs a loop of grad, max |difference| = ${maxDiff.toExponential(1)}`,
  );
}

/** Clips each example's gradient (over all parameter leaves) to norm C and sums them. */
function clippedSum(grads: Params): Params {
  const leaves = ng.tree.flatten<ng.Tensor>(grads)[0];
  const sq = leaves.map((g) => ng.sum(ng.square(g).reshape([g.shape[0]!, -1]), 1));
  const norms = ng.sqrt(sq.reduce((a, b) => a.add(b)));
  const scale = ng.minimum(
    ng.onesLike(norms),
    ng.full(norms.shape, clipNorm).div(norms.add(1e-12)),
  );
  const [, def] = ng.tree.flatten(grads);
  return ng.tree.unflatten(
    def,
    leaves.map((g) => ng.sum(g.mul(scale.reshape([-1, ...g.shape.slice(1).map(() => 1)])), 0)),
  );
}

const accuracy = (ps: Params) => {
  const [logits] = model.apply(xTest, ps, st);
  return ng.mean(ng.equal(ng.argmax(logits, 1), yTest).cast("float32")).item();
};

function train(privateSteps: boolean, key: ng.Tensor): { acc: number; curve: number[] } {
  let ps = ps0;
  let os = ng.optim.setup(ng.optim.adam(1e-2), ps);
  const curve: number[] = [];
  const bar = progressBar(privateSteps ? "DP-SGD " : "SGD    ", steps);
  for (let i = 0; i < steps; i++) {
    const idx = ng.random.randint(ng.random.foldIn(key, i), [batch], 0, 2048);
    const xb = ng.take(xTrain, idx, 0);
    const yb = ng.take(yTrain, idx, 0);
    let grads: Params;
    if (privateSteps) {
      const summed = clippedSum(perSample(ps, xb, yb));
      const [leaves, def] = ng.tree.flatten<ng.Tensor>(summed);
      const keys = ng.random.split(ng.random.foldIn(key, 100000 + i), leaves.length);
      grads = ng.tree.unflatten(
        def,
        leaves.map((g, k) =>
          g.add(ng.random.normal(keys[k]!, g.shape).mul(sigma * clipNorm)).div(batch),
        ),
      );
    } else {
      grads = ng.grad((p: Params) => ng.nn.crossEntropyWithLogits(model.apply(xb, p, st)[0], yb))(
        ps,
      );
    }
    [os, ps] = ng.optim.update(os, ps, grads);
    if ((i + 1) % 25 === 0 || i + 1 === steps) {
      const acc = accuracy(ps);
      curve.push(acc);
      bar.update(i + 1, 1 - acc);
    }
  }
  bar.stop();
  return { acc: accuracy(ps), curve };
}

const plain = train(false, ng.random.key(3));
const priv = train(true, ng.random.key(3));
console.log(
  `test accuracy: non-private ${(100 * plain.acc).toFixed(1)}%, DP-SGD (C = ${clipNorm}, σ = ${sigma}) ${(100 * priv.acc).toFixed(1)}%`,
);
const xsPlot = plain.curve.map((_, i) => Math.min((i + 1) * 25, steps));
const [svg] = await plotSeries(
  opts.out,
  "dp-sgd",
  [
    { name: "non-private", x: xsPlot, y: plain.curve },
    { name: `DP-SGD (C=${clipNorm}, σ=${sigma})`, x: xsPlot, y: priv.curve },
  ],
  { title: "Test accuracy on two moons", xLabel: "step", yLabel: "accuracy" },
);
console.log(`plot: ${svg} (and .png)`);
