/**
 * A continuous normalising flow (Chen et al., 2018; Grathwohl et al., 2019) with the
 * Hutchinson trace estimator.
 *
 * A velocity field f_θ(z, t) carries a standard normal at t = 0 to the data at t = 1. The
 * density follows d log p / dt = −tr(∂f/∂z); integrating backwards from a data point x
 * with K Euler steps gives z₀ and log p(x) = log N(z₀) − Σ_k h·tr(∂f/∂z)(z_k, t_k). The
 * trace is estimated per sample with Rademacher probes, E[vᵀ J v] = tr J
 * (`ng.hutchinsonTrace`), and the parameter gradient of the likelihood differentiates
 * through it. The headline is the test negative log-likelihood, and the error of the
 * Hutchinson estimate against the exact divergence (`ng.divergence`).
 *
 *   npx tsx examples/cnf.ts [--steps 800] [--out out]
 */
import * as ng from "../src/index.js";
import { intOption, parseOptions, progressBar } from "./lib/cli.js";
import { plotSeries } from "./lib/plot.js";

const opts = parseOptions("cnf", "continuous normalising flow trained with Hutchinson traces", {
  steps: { type: "string", default: "800", help: "training steps" },
  batch: { type: "string", default: "256", help: "batch size" },
  probes: { type: "string", default: "1", help: "Hutchinson probes per sample" },
  out: { type: "string", default: "out", help: "folder for the plot" },
});
const steps = intOption("cnf", "steps", opts.steps);
const B = intOption("cnf", "batch", opts.batch);
const S = intOption("cnf", "probes", opts.probes);
const K = 8; // Euler steps over [0, 1]
const h = 1 / K;

/** Data: points on a ring of radius 1.5 with radial noise. */
function data(key: ng.Tensor, n: number): ng.Tensor {
  const [ka, kr] = ng.random.split(key);
  const angle = ng.random.uniform(ka!, [n], { maxval: 2 * Math.PI });
  const r = ng.random.normal(kr!, [n]).mul(0.1).add(1.5);
  return ng.stack([ng.cos(angle).mul(r), ng.sin(angle).mul(r)], 1);
}

const net = ng.nn.chain(
  ng.nn.dense(3, 64, ng.tanh),
  ng.nn.dense(64, 64, ng.tanh),
  ng.nn.dense(64, 2),
);
const [ps0, st] = ng.nn.setup(ng.random.key(0), net);
type Params = typeof ps0;
/** The velocity field at time t for a batch z [B, 2]. */
const field = (ps: Params, t: number) => (z: ng.Tensor) =>
  net.apply(
    ng.concatenate([z, ng.fullLike(ng.slice(z, [null, { start: 0, stop: 1 }]), t)], 1),
    ps,
    st,
  )[0];

const LOG2PI = Math.log(2 * Math.PI);
/** log p(x) per sample, integrating backwards; `trace` gives tr(∂f/∂z) per sample. */
function logLikelihood(
  ps: Params,
  x: ng.Tensor,
  trace: (f: (z: ng.Tensor) => ng.Tensor, z: ng.Tensor, k: number) => ng.Tensor,
): ng.Tensor {
  let z = x;
  let logdet = ng.zeros([x.shape[0]!]);
  for (let k = K; k >= 1; k--) {
    const f = field(ps, k * h);
    logdet = logdet.sub(trace(f, z, k).mul(h)); // log det(I − hJ) ≈ −h tr J
    z = z.sub(f(z).mul(h));
  }
  const logp0 = ng.sum(ng.square(z), 1).mul(-0.5).sub(LOG2PI);
  return logp0.add(logdet);
}
const rademacher = (key: ng.Tensor, n: number) =>
  ng.random.bernoulli(key, 0.5, [S, n, 2]).cast("float32").mul(2).sub(1);

let ps = ps0;
let os = ng.optim.setup(ng.optim.adam(3e-3), ps);
const bar = progressBar("CNF", steps);
for (let i = 0; i < steps; i++) {
  const key = ng.random.foldIn(ng.random.key(1), i);
  const [kd, kv] = ng.random.split(key);
  const x = data(kd!, B);
  const hutch = (f: (z: ng.Tensor) => ng.Tensor, z: ng.Tensor, k: number) =>
    ng.hutchinsonTrace(f, z, rademacher(ng.random.foldIn(kv!, k), B));
  const nll = (p: Params) => ng.mean(logLikelihood(p, x, hutch)).neg();
  const [l, g] = ng.valueAndGrad(nll)(ps);
  [os, ps] = ng.optim.update(os, ps, g);
  if ((i + 1) % 10 === 0) bar.update(i + 1, l.item());
}
bar.stop();

// Test likelihood with the exact divergence, and the estimator's error on the same points.
const xTest = data(ng.random.key(2), 2000);
const exactDiv = (f: (z: ng.Tensor) => ng.Tensor, z: ng.Tensor) => ng.divergence(f)(z);
const nllTest = ng
  .mean(logLikelihood(ps, xTest, exactDiv))
  .neg()
  .item();
const f1 = field(ps, 1);
const exactTr = exactDiv(f1, xTest);
const estTr = ng.hutchinsonTrace(
  f1,
  xTest,
  rademacher(ng.random.key(3), 2000).reshape([S, 2000, 2]),
);
const relErr = ng.mean(ng.abs(estTr.sub(exactTr))).item() / ng.mean(ng.abs(exactTr)).item();
const gaussNll = ng.mean(ng.sum(ng.square(xTest), 1).mul(0.5).add(LOG2PI)).item();
console.log(
  `CNF: test NLL ${nllTest.toFixed(3)} nats (a standard normal scores ${gaussNll.toFixed(3)}); ` +
    `Hutchinson (${S} probe${S > 1 ? "s" : ""}) vs exact trace: mean relative error ${relErr.toFixed(2)}`,
);

// Samples: integrate forward from the base distribution.
let z = ng.random.normal(ng.random.key(4), [1000, 2]);
for (let k = 1; k <= K; k++) z = z.add(field(ps, k * h)(z).mul(h));
const sx = z.toArray() as number[][];
const dx = data(ng.random.key(5), 1000).toArray() as number[][];
const [svg] = await plotSeries(
  opts.out,
  "cnf",
  [
    { name: "data", x: dx.map((p) => p[0]!), y: dx.map((p) => p[1]!), points: true },
    { name: "flow samples", x: sx.map((p) => p[0]!), y: sx.map((p) => p[1]!), points: true },
  ],
  {
    title: "Continuous normalising flow: samples vs data",
    xLabel: "x₁",
    yLabel: "x₂",
    width: 420,
    height: 420,
  },
);
console.log(`plot: ${svg} (and .png)`);
