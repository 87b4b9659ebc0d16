/**
 * WGAN-GP (Gulrajani et al., 2017) on a 2-D mixture of eight Gaussians on a circle.
 *
 * The critic D is trained on E[D(fake)] − E[D(real)] + λ E[(‖∇ₓD(x̂)‖ − 1)²] at random
 * interpolates x̂ between real and fake samples. The penalty contains the input gradient
 * of the critic, so the critic's parameter gradient is a nested derivative (reverse over
 * reverse, or whichever strategy nested switching picks). The headline is how many of the
 * eight modes the generator covers, and the fraction of its samples that land near a mode.
 *
 *   npx tsx examples/wgan-gp.ts [--steps 1500] [--out out]
 */
import * as ng from "../src/index.js";
import { intOption, parseOptions, progressBar } from "./lib/cli.js";
import { plotSeries } from "./lib/plot.js";

const opts = parseOptions("wgan-gp", "WGAN with gradient penalty on a 2-D Gaussian mixture", {
  steps: { type: "string", default: "1500", help: "generator steps (5 critic steps each)" },
  batch: { type: "string", default: "128", help: "batch size" },
  out: { type: "string", default: "out", help: "folder for the plot" },
});
const steps = intOption("wgan-gp", "steps", opts.steps);
const B = intOption("wgan-gp", "batch", opts.batch);
const nCritic = 5;
const lambda = 0.1;
const STD = 0.05;
const RADIUS = 2;
const modes = Array.from({ length: 8 }, (_, k) => [
  RADIUS * Math.cos((2 * Math.PI * k) / 8),
  RADIUS * Math.sin((2 * Math.PI * k) / 8),
]);
const modeTensor = ng.array(modes); // [8, 2]

function realBatch(key: ng.Tensor, n: number): ng.Tensor {
  const [km, kn] = ng.random.split(key);
  const which = ng.random.randint(km!, [n], 0, 8);
  return ng.take(modeTensor, which, 0).add(ng.random.normal(kn!, [n, 2]).mul(STD));
}

const gen = ng.nn.chain(
  ng.nn.dense(2, 128, ng.relu),
  ng.nn.dense(128, 128, ng.relu),
  ng.nn.dense(128, 2),
);
const critic = ng.nn.chain(
  ng.nn.dense(2, 128, ng.relu),
  ng.nn.dense(128, 128, ng.relu),
  ng.nn.dense(128, 1),
);
const [gps0, gst] = ng.nn.setup(ng.random.key(0), gen);
const [dps0, dst] = ng.nn.setup(ng.random.key(1), critic);
type GParams = typeof gps0;
type DParams = typeof dps0;
const G = (ps: GParams, z: ng.Tensor) => gen.apply(z, ps, gst)[0];
const D = (ps: DParams, x: ng.Tensor) => critic.apply(x, ps, dst)[0].reshape([-1]);

const criticLoss = (dps: DParams, real: ng.Tensor, fake: ng.Tensor, eps: ng.Tensor) => {
  const xhat = real.mul(eps).add(fake.mul(ng.onesLike(eps).sub(eps)));
  // ∇ₓ D at each interpolate: the samples are independent, so the gradient of the sum is per sample.
  const gx = ng.grad((x: ng.Tensor) => ng.sum(D(dps, x)))(xhat);
  const gnorm = ng.sqrt(ng.sum(ng.square(gx), 1).add(1e-12));
  const penalty = ng.mean(ng.square(gnorm.sub(1)));
  return ng
    .mean(D(dps, fake))
    .sub(ng.mean(D(dps, real)))
    .add(penalty.mul(lambda));
};
const genLoss = (gps: GParams, dps: DParams, z: ng.Tensor) => ng.mean(D(dps, G(gps, z))).neg();

let gps = gps0;
let dps = dps0;
let gos = ng.optim.setup(ng.optim.adam(1e-4, { b1: 0.5, b2: 0.9 }), gps);
let dos = ng.optim.setup(ng.optim.adam(1e-4, { b1: 0.5, b2: 0.9 }), dps);
const bar = progressBar("WGAN-GP", steps);
for (let i = 0; i < steps; i++) {
  const key = ng.random.foldIn(ng.random.key(2), i);
  let lastCritic = 0;
  for (let c = 0; c < nCritic; c++) {
    const [kr, kz, ke] = ng.random.split(ng.random.foldIn(key, c), 3);
    const real = realBatch(kr!, B);
    const fake = G(gps, ng.random.normal(kz!, [B, 2]));
    const eps = ng.random.uniform(ke!, [B, 1]);
    const [l, g] = ng.valueAndGrad(criticLoss)(dps, real, fake, eps);
    [dos, dps] = ng.optim.update(dos, dps, g);
    lastCritic = l.item();
  }
  const z = ng.random.normal(ng.random.foldIn(key, 99), [B, 2]);
  const g = ng.grad(genLoss)(gps, dps, z);
  [gos, gps] = ng.optim.update(gos, gps, g);
  if ((i + 1) % 10 === 0) bar.update(i + 1, -lastCritic);
}
bar.stop();

// Quality: nearest mode of each generated sample.
const samples = G(gps, ng.random.normal(ng.random.key(3), [2000, 2]));
const d2 = ng.sum(ng.square(samples.reshape([2000, 1, 2]).sub(modeTensor.reshape([1, 8, 2]))), 2);
const nearest = ng.argmin(d2, 1).toArray() as number[];
const dist = ng.sqrt(ng.min(d2, 1)).toArray() as number[];
const good = dist.map((d) => d < 3 * STD * 2);
const covered = new Set(nearest.filter((_, i) => good[i]));
const quality = good.filter(Boolean).length / good.length;
console.log(
  `WGAN-GP: ${covered.size}/8 modes covered; ${(100 * quality).toFixed(1)}% of generated samples within ${(6 * STD).toFixed(2)} of a mode`,
);
const real = realBatch(ng.random.key(4), 1000);
const sx = samples.toArray() as number[][];
const rx = real.toArray() as number[][];
const [svg] = await plotSeries(
  opts.out,
  "wgan-gp",
  [
    { name: "real", x: rx.map((r) => r[0]!), y: rx.map((r) => r[1]!), points: true },
    {
      name: "generated",
      x: sx.slice(0, 1000).map((r) => r[0]!),
      y: sx.slice(0, 1000).map((r) => r[1]!),
      points: true,
    },
  ],
  { title: "WGAN-GP on eight Gaussians", xLabel: "x₁", yLabel: "x₂", width: 420, height: 420 },
);
console.log(`plot: ${svg} (and .png)`);
