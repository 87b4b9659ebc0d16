/**
 * A physics-informed network for the 1-D heat equation.
 *
 *   u_t = κ u_xx on (x, t) ∈ [0, 1] × [0, 1],  u(x, 0) = sin(πx),  u(0, t) = u(1, t) = 0,
 *
 * whose exact solution is u = exp(−κπ²t) sin(πx). The network takes (x, t) and the loss
 * holds the residual u_t − κ u_xx at random collocation points: u_t is a first derivative
 * (one per-sample gradient) and u_xx a second one (`ng.hessianDiagonal`), both inner
 * derivatives under the outer gradient in the parameters; the whole training step is one
 * `ng.jit` program. The headline is the maximum error against the exact solution.
 *
 *   npx tsx examples/pinn-heat.ts [--steps 10000] [--out out]
 */
import * as ng from "../src/index.js";
import { intOption, parseOptions, progressBar } from "./lib/cli.js";
import { plotSeries } from "./lib/plot.js";

const opts = parseOptions("pinn-heat", "physics-informed network for the heat equation", {
  steps: { type: "string", default: "10000", help: "training steps" },
  points: { type: "string", default: "256", help: "collocation points per step" },
  out: { type: "string", default: "out", help: "folder for the plot" },
});
const steps = intOption("pinn-heat", "steps", opts.steps);
const nPoints = intOption("pinn-heat", "points", opts.points, 2);
const kappa = 0.1;
const PI = Math.PI;

const model = ng.nn.chain(
  ng.nn.dense(2, 32, ng.tanh),
  ng.nn.dense(32, 32, ng.tanh),
  ng.nn.dense(32, 1),
);
const [ps0, st] = ng.nn.setup(ng.random.key(0), model);
type Params = typeof ps0;
/** u at points z = (x, t) [B, 2] → [B]. */
const u = (ps: Params, z: ng.Tensor) => model.apply(z, ps, st)[0].reshape([-1]);
const exact = (x: number, t: number) => Math.exp(-kappa * PI * PI * t) * Math.sin(PI * x);

const loss = (ps: Params, z: ng.Tensor, zInit: ng.Tensor, zWall: ng.Tensor) => {
  const f = (s: ng.Tensor) => u(ps, s);
  const du = ng.grad((s: ng.Tensor) => ng.sum(f(s)))(z); // [B, 2]: (u_x, u_t) per sample
  const d2u = ng.hessianDiagonal(f)(z); // [B, 2]: (u_xx, u_tt)
  const residual = ng.slice(du, [null, 1]).sub(ng.slice(d2u, [null, 0]).mul(kappa));
  const x0 = ng.slice(zInit, [null, 0]);
  const initial = u(ps, zInit).sub(ng.sin(x0.mul(PI)));
  return ng
    .mean(ng.square(residual))
    .add(ng.mean(ng.square(initial)))
    .add(ng.mean(ng.square(u(ps, zWall))));
};

// One compiled training step: the loss with its inner derivatives, the gradient and Adam.
const rule = ng.optim.adam(ng.optim.schedules.cosine(3e-3, steps, { alpha: 0.02 }));
const trainStep = ng.jit(
  (ps: Params, os: ng.optim.OptState<typeof rule>, z: ng.Tensor, zi: ng.Tensor, zw: ng.Tensor) => {
    const [l, g] = ng.valueAndGrad(loss)(ps, z, zi, zw);
    const [os2, ps2] = ng.optim.update(os, ps, g);
    return [ps2, os2, l] as const;
  },
);
let ps = ps0;
let os = ng.optim.setup(rule, ps);
const curve: number[] = [];
const bar = progressBar("heat PINN", steps);
for (let i = 0; i < steps; i++) {
  const [k1, k2, k3] = ng.random.split(ng.random.foldIn(ng.random.key(1), i), 3);
  const z = ng.random.uniform(k1!, [nPoints, 2]);
  const x0 = ng.random.uniform(k2!, [64, 1]);
  const zInit = ng.concatenate([x0, ng.zerosLike(x0)], 1);
  const tw = ng.random.uniform(k3!, [64, 1]);
  const side = ng.arange(64).mod(2).reshape([64, 1]); // x = 0 or 1
  const zWall = ng.concatenate([side, tw], 1);
  const [ps2, os2, l] = trainStep(ps, os, z, zInit, zWall);
  [ps, os] = [ps2, os2];
  if ((i + 1) % 10 === 0) {
    curve.push(l.item());
    bar.update(i + 1, l.item());
  }
}
bar.stop();

// Error on a grid, and profiles u(x, t) at a few times.
const n = 41;
const xs = Array.from({ length: n }, (_, i) => i / (n - 1));
let maxErr = 0;
const series = [];
for (const t of [0, 0.5, 1]) {
  const z = ng.array(xs.map((x) => [x, t]));
  const pred = u(ps, z).toArray() as number[];
  pred.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - exact(xs[i]!, t)))));
  series.push({ name: `exact, t=${t}`, x: xs, y: xs.map((x) => exact(x, t)) });
  series.push({
    name: `learned, t=${t}`,
    x: xs.filter((_, i) => i % 2 === 0),
    y: pred.filter((_, i) => i % 2 === 0),
    points: true,
  });
}
for (let j = 0; j <= 20; j++) {
  const t = j / 20;
  const pred = u(ps, ng.array(xs.map((x) => [x, t]))).toArray() as number[];
  pred.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - exact(xs[i]!, t)))));
}
console.log(
  `heat equation PINN: max |u − exact| on a 41×21 grid = ${maxErr.toExponential(2)} after ${steps} steps`,
);
const [svg] = await plotSeries(opts.out, "pinn-heat", series, {
  title: "Heat equation: learned vs exact profiles",
  xLabel: "x",
  yLabel: "u(x, t)",
});
const [svg2] = await plotSeries(
  opts.out,
  "pinn-heat-loss",
  [{ name: "loss", x: curve.map((_, i) => (i + 1) * 10), y: curve }],
  { title: "Training loss", xLabel: "step", yLabel: "loss", logY: true },
);
console.log(`plots: ${svg}, ${svg2} (and .png)`);
