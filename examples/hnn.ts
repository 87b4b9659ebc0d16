/**
 * A Hamiltonian neural network (Greydanus et al., 2019) for the pendulum.
 *
 * The network learns a scalar H_θ(q, p); its dynamics are Hamilton's equations
 * q̇ = ∂H/∂p, ṗ = −∂H/∂q. Training fits those derivatives to observed (q̇, ṗ), so the loss
 * contains the gradient of the network in its input, and the parameter gradient is a
 * nested derivative. Because the learned field is Hamiltonian, a trajectory integrated with
 * it keeps the true energy E = p²/2 + (1 − cos q) nearly constant; a plain MLP that
 * predicts (q̇, ṗ) directly is trained alongside for comparison. The headline is the
 * energy drift of both over a long rollout.
 *
 *   npx tsx examples/hnn.ts [--steps 1500] [--out out]
 */
import * as ng from "../src/index.js";
import { intOption, parseOptions, progressBar } from "./lib/cli.js";
import { plotSeries } from "./lib/plot.js";

const opts = parseOptions("hnn", "Hamiltonian neural network on a pendulum", {
  steps: { type: "string", default: "1500", help: "training steps" },
  out: { type: "string", default: "out", help: "folder for the plot" },
});
const steps = intOption("hnn", "steps", opts.steps);

// Training data: states in the oscillating regime with their true time derivatives.
const energy = (q: number, p: number) => (p * p) / 2 + (1 - Math.cos(q));
const [kq, kp] = ng.random.split(ng.random.key(0));
const N = 512;
const q = ng.random.uniform(kq!, [N], { minval: -2, maxval: 2 });
const p = ng.random.uniform(kp!, [N], { minval: -1.5, maxval: 1.5 });
const states = ng.stack([q, p], 1); // [N, 2]
const targets = ng.stack([p, ng.sin(q).neg()], 1); // (q̇, ṗ)

const hnet = ng.nn.chain(
  ng.nn.dense(2, 64, ng.tanh),
  ng.nn.dense(64, 64, ng.tanh),
  ng.nn.dense(64, 1),
);
const mlp = ng.nn.chain(
  ng.nn.dense(2, 64, ng.tanh),
  ng.nn.dense(64, 64, ng.tanh),
  ng.nn.dense(64, 2),
);
const [hps0, hst] = ng.nn.setup(ng.random.key(1), hnet);
const [mps0, mst] = ng.nn.setup(ng.random.key(1), mlp);
type HParams = typeof hps0;
type MParams = typeof mps0;

/** The Hamiltonian vector field of H_θ at states z [B, 2]: (∂H/∂p, −∂H/∂q) per sample. */
const hamiltonianField = (ps: HParams, z: ng.Tensor): ng.Tensor => {
  const dH = ng.grad((s: ng.Tensor) => ng.sum(hnet.apply(s, ps, hst)[0]))(z); // [B, 2]
  const [dq, dp] = [ng.slice(dH, [null, 0]), ng.slice(dH, [null, 1])];
  return ng.stack([dp, dq.neg()], 1);
};
const mlpField = (ps: MParams, z: ng.Tensor): ng.Tensor => mlp.apply(z, ps, mst)[0];

function fit<P>(label: string, field: (ps: P, z: ng.Tensor) => ng.Tensor, ps0: P): P {
  let ps = ps0;
  let os = ng.optim.setup(ng.optim.adam(3e-3), ps);
  const loss = (ps: P) => ng.mean(ng.square(field(ps, states).sub(targets)));
  const bar = progressBar(label, steps);
  for (let i = 0; i < steps; i++) {
    const [l, g] = ng.valueAndGrad(loss)(ps);
    [os, ps] = ng.optim.update(os, ps, g);
    if ((i + 1) % 10 === 0) bar.update(i + 1, l.item());
  }
  bar.stop();
  return ps;
}
const hps = fit("HNN ", hamiltonianField, hps0);
const mps = fit("MLP ", mlpField, mps0);

/** A classical RK4 rollout of a learned field from z0, returning q, p and the true energy. */
function rollout(field: (z: ng.Tensor) => ng.Tensor, z0: [number, number], dt: number, n: number) {
  let z = ng.array([z0]);
  const qs = [z0[0]];
  const pp = [z0[1]];
  for (let i = 0; i < n; i++) {
    const k1 = field(z);
    const k2 = field(z.add(k1.mul(dt / 2)));
    const k3 = field(z.add(k2.mul(dt / 2)));
    const k4 = field(z.add(k3.mul(dt)));
    z = z.add(
      k1
        .add(k2.mul(2))
        .add(k3.mul(2))
        .add(k4)
        .mul(dt / 6),
    );
    const [qi, pi] = z.reshape([2]).toArray() as number[];
    qs.push(qi!);
    pp.push(pi!);
  }
  return { qs, pp, energies: qs.map((qi, i) => energy(qi, pp[i]!)) };
}
const z0: [number, number] = [1.0, 0.0];
const E0 = energy(...z0);
const dt = 0.1;
const n = 500;
const hnnRoll = rollout((z) => hamiltonianField(hps, z), z0, dt, n);
const mlpRoll = rollout((z) => mlpField(mps, z), z0, dt, n);
const drift = (e: number[]) => Math.abs(e.at(-1)! - E0) / E0;
console.log(
  `energy drift after t = ${(n * dt).toFixed(0)}: HNN ${(100 * drift(hnnRoll.energies)).toFixed(2)}%, ` +
    `plain MLP ${(100 * drift(mlpRoll.energies)).toFixed(2)}% (true energy ${E0.toFixed(4)})`,
);

const ts = hnnRoll.energies.map((_, i) => i * dt);
const [svg] = await plotSeries(
  opts.out,
  "hnn-energy",
  [
    { name: "true", x: ts, y: ts.map(() => E0) },
    { name: "HNN", x: ts, y: hnnRoll.energies },
    { name: "plain MLP", x: ts, y: mlpRoll.energies },
  ],
  { title: "Pendulum: energy along learned trajectories", xLabel: "t", yLabel: "energy" },
);
const [svg2] = await plotSeries(
  opts.out,
  "hnn-phase",
  [
    { name: "HNN", x: hnnRoll.qs, y: hnnRoll.pp },
    { name: "plain MLP", x: mlpRoll.qs, y: mlpRoll.pp },
  ],
  { title: "Pendulum: phase portrait of the rollouts", xLabel: "q", yLabel: "p" },
);
console.log(`plots: ${svg}, ${svg2} (and .png)`);
