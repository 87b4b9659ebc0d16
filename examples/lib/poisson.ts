/**
 * The physics-informed network of the demo and of the browser page: the 1-D Poisson
 * problem u''(x) = −π² sin(πx) on [0, 1] with u(0) = u(1) = 0 (exact solution sin(πx)),
 * a tanh MLP u_θ, and the loss
 *
 *   L(θ) = mean_x (u_θ''(x) + π² sin(πx))² + 10 (u_θ(0)² + u_θ(1)²)
 *
 * at random collocation points. u_θ'' is a per-sample Laplacian under the gradient in θ.
 * Browser-safe: it imports nothing but nestgrad.
 */
import * as ng from "../../src/index.js";

export interface PoissonOptions {
  width: number;
  dtype: "float32" | "float64";
  seed: number;
  /** Collocation points per step. */
  points: number;
  /** Adam learning rate (default 3e-3), decayed by a cosine to 1% over `steps`. */
  lr?: number;
  /** Training steps the learning-rate schedule spans (default 3000). */
  steps?: number;
}

/** Builds the network, its loss and one training step (loss, gradient and Adam update). */
export function poissonProblem(o: PoissonOptions) {
  const { width, dtype } = o;
  const model = ng.nn.chain(
    ng.nn.dense(1, width, ng.tanh, { dtype }),
    ng.nn.dense(width, width, ng.tanh, { dtype }),
    ng.nn.dense(width, 1, undefined, { dtype }),
  );
  const [keyInit, keyData] = ng.random.split(ng.random.key(o.seed));
  const [ps0, st] = ng.nn.setup(keyInit!, model);
  type Params = typeof ps0;

  /** u at a batch x [B, 1], as [B]. */
  const u = (ps: Params, x: ng.Tensor): ng.Tensor => model.apply(x, ps, st)[0].reshape([-1]);
  const PI2 = Math.PI * Math.PI;
  const boundary = ng.array([[0], [1]], { dtype });
  const loss = (ps: Params, x: ng.Tensor): ng.Tensor => {
    const uxx = ng.laplacian((z: ng.Tensor) => u(ps, z))(x); // the inner derivative, per sample
    const source = ng.sin(x.reshape([-1]).mul(Math.PI)).mul(-PI2);
    const residual = ng.mean(ng.square(uxx.sub(source)));
    return residual.add(ng.mean(ng.square(u(ps, boundary))).mul(10));
  };
  const rule = ng.optim.adam(
    ng.optim.schedules.cosine(o.lr ?? 3e-3, o.steps ?? 3000, { alpha: 0.01 }),
  );
  /** One training step: (ps, optimiser state, points) → [ps', state', loss]. */
  const step = (ps: Params, os: ng.optim.OptState<typeof rule>, x: ng.Tensor) => {
    const [value, grads] = ng.valueAndGrad(loss)(ps, x);
    const [os2, ps2] = ng.optim.update(os, ps, grads);
    return [ps2, os2, value] as const;
  };
  /** The collocation points of step i: uniform in [0, 1], [points, 1]. */
  const points = (i: number) =>
    ng.random.uniform(ng.random.foldIn(keyData!, i), [o.points, 1], { dtype });
  const exact = (x: number) => Math.sin(Math.PI * x);
  /** The learned and exact solutions on n grid points, and the maximum error. */
  const evaluate = (ps: Params, n = 201) => {
    const grid = ng.linspace(0, 1, n, { dtype }).reshape([n, 1]);
    const xs = grid.reshape([-1]).toArray() as number[];
    const learned = u(ps, grid).toArray() as number[];
    const truth = xs.map(exact);
    const maxError = Math.max(...learned.map((v, i) => Math.abs(v - truth[i]!)));
    return { xs, learned, truth, maxError };
  };
  return { model, ps0, st, u, loss, rule, step, points, evaluate };
}
