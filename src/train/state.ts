/**
 * The training loop pieces, in the style of Lux.jl's
 * Training API: a TrainState `{ model, ps, st, optState, step }` is plain immutable data;
 * `computeGradients` differentiates an objective `(model, ps, st, data) -> [loss, st, stats]`
 * with `ng.valueAndGrad` (hasAux), `applyGradients` runs the optimiser, and `trainStep` does
 * both. Every function returns a new TrainState and leaves its inputs untouched.
 */
import { Tensor } from "../core/tensor.js";
import { add } from "../primitives/add.js";
import { describeValue, scalar } from "../primitives/convert.js";
import { formatShape } from "../tensor/shape.js";
import { valueAndGrad } from "../transforms/grad.js";
import type { MapLeaves } from "../core/tree.js";
import type { Rule } from "../optim/rule.js";
import { setup, update, type OptState } from "../optim/tree.js";

/** What train/ needs of a model: Lux-style `apply(x, ps, st) -> [y, st]` (and usually `init`). */
export interface Model {
  readonly kind?: string;
  init?(key: Tensor): readonly [unknown, unknown];
  // `never` parameters: any layer's apply fits, whatever its parameter and state types.
  apply(x: never, ps: never, st: never): readonly [unknown, unknown];
}

/** Everything a training loop carries, as plain immutable data. */
export interface TrainState<
  M extends Model = Model,
  R extends Rule = Rule,
  P = unknown,
  S = unknown,
> {
  readonly model: M;
  /** Parameters: a pytree of float tensors. */
  readonly ps: P;
  /** Model state (running statistics, dropout keys, train/test mode). */
  readonly st: S;
  readonly optState: OptState<R>;
  /**
   * Number of `applyGradients` calls so far, a rank-0 int32 tensor (traced under `ng.jit`,
   * so a jitted training step is staged once). Read it with `Number(ts.step)`.
   */
  readonly step: Tensor;
}

/** The objective: `[loss (a float scalar tensor), new model state, stats (any pytree)]`. */
export type Objective<
  M extends Model = Model,
  D = unknown,
  P = unknown,
  S = unknown,
  A = unknown,
> = (model: M, ps: P, st: S, data: D) => readonly [Tensor, S, A];

function makeTrainState<M extends Model, R extends Rule, P, S>(
  fields: TrainState<M, R, P, S>,
): TrainState<M, R, P, S> {
  return Object.freeze({ ...fields });
}

function checkTrainState(ts: unknown, fname: string): TrainState {
  const t = ts as TrainState;
  if (
    typeof ts !== "object" ||
    ts === null ||
    !("ps" in ts) ||
    typeof t.optState !== "object" ||
    t.optState === null ||
    t.optState.kind !== "optState"
  ) {
    throw new TypeError(
      `${fname}: ts: expected a TrainState from ng.train.trainState(model, ps, st, rule), got ${describeValue(ts)}`,
    );
  }
  if (!(t.step instanceof Tensor) || t.step.ndim !== 0 || t.step.dtype !== "int32") {
    throw new TypeError(
      `${fname}: ts.step: expected the step count as a rank-0 int32 tensor, got ${
        t.step instanceof Tensor
          ? `${t.step.dtype}${formatShape(t.step.shape)}`
          : describeValue(t.step)
      }`,
    );
  }
  return t;
}

/**
 * A fresh TrainState: the optimiser is set up for `ps` (`ng.optim.setup(rule, ps)`), step 0.
 * @example
 * const model = ng.nn.dense(2, 1);
 * const [ps, st] = ng.nn.setup(ng.random.key(0), model);
 * let ts = ng.train.trainState(model, ps, st, ng.optim.adam({ lr: 1e-3 }));
 */
export function trainState<M extends Model, R extends Rule, P, S>(
  model: M,
  ps: P,
  st: S,
  rule: R,
): TrainState<M, R, P, S> {
  if (
    (typeof model !== "object" && typeof model !== "function") ||
    model === null ||
    typeof (model as Model).apply !== "function"
  ) {
    throw new TypeError(
      `train.trainState: model: expected a layer with apply(x, ps, st), got ${describeValue(model)}`,
    );
  }
  return makeTrainState({ model, ps, st, optState: setup(rule, ps), step: scalar(0, "int32") });
}

/**
 * The gradient of `objective(model, ps, st, data)`'s loss with respect to ps, with the
 * loss, the stats and a TrainState holding the objective's new model state.
 * Returns `[grads, loss, stats, ts]`; grads mirror ts.ps.
 * @example
 * const model = ng.nn.dense(2, 1);
 * const [ps, st] = ng.nn.setup(ng.random.key(0), model);
 * let ts = ng.train.trainState(model, ps, st, ng.optim.adam({ lr: 1e-3 }));
 * const objective = (model, ps, st, [x, y]) => {
 *   const [yHat, st2] = model.apply(x, ps, st);
 *   return [ng.nn.mse(yHat, y), st2, {}];
 * };
 * const data = [ng.ones([4, 2]), ng.zeros([4, 1])];
 * const [grads, loss, stats, ts2] = ng.train.computeGradients(objective, data, ts);
 */
export function computeGradients<M extends Model, R extends Rule, D, P, S, A>(
  objective: Objective<M, D, P, S, A>,
  data: D,
  ts: TrainState<M, R, P, S>,
): [MapLeaves<P, Tensor>, Tensor, A, TrainState<M, R, P, S>] {
  return computeGradientsNamed(objective, data, ts, "train.computeGradients");
}

/** computeGradients whose errors name `fname` (trainStep reuses it). */
function computeGradientsNamed<M extends Model, R extends Rule, D, P, S, A>(
  objective: Objective<M, D, P, S, A>,
  data: D,
  ts: TrainState<M, R, P, S>,
  fname: string,
): [MapLeaves<P, Tensor>, Tensor, A, TrainState<M, R, P, S>] {
  if (typeof objective !== "function") {
    throw new TypeError(`${fname}: objective must be a function, got ${describeValue(objective)}`);
  }
  const t = checkTrainState(ts, fname) as TrainState<M, R, P, S>;
  const f = (ps: P): [Tensor, [S, A]] => {
    const out = objective(t.model, ps, t.st, data);
    if (!Array.isArray(out) || out.length !== 3) {
      throw new TypeError(
        `${fname}: objective must return [loss, st, stats], got ${describeValue(out)}${
          Array.isArray(out) ? ` of length ${out.length}` : ""
        }`,
      );
    }
    const loss = out[0];
    if (!(loss instanceof Tensor) || loss.ndim !== 0) {
      throw new TypeError(
        `${fname}: the objective's loss must be a scalar tensor (shape []), got ${
          loss instanceof Tensor ? `${loss.dtype}${formatShape(loss.shape)}` : describeValue(loss)
        }`,
      );
    }
    return [loss, [out[1], out[2]]];
  };
  const [[loss, aux], grads] = valueAndGrad(f, { hasAux: true })(t.ps);
  const [st, stats] = aux;
  return [grads as MapLeaves<P, Tensor>, loss, stats, makeTrainState({ ...t, st })];
}

/**
 * One optimiser step: `ng.optim.update(ts.optState, ts.ps, grads)`, step + 1.
 * @example
 * const model = ng.nn.dense(2, 1);
 * const [ps, st] = ng.nn.setup(ng.random.key(0), model);
 * let ts = ng.train.trainState(model, ps, st, ng.optim.adam({ lr: 1e-3 }));
 * const objective = (model, ps, st, [x, y]) => {
 *   const [yHat, st2] = model.apply(x, ps, st);
 *   return [ng.nn.mse(yHat, y), st2, {}];
 * };
 * const data = [ng.ones([4, 2]), ng.zeros([4, 1])];
 * const [grads] = ng.train.computeGradients(objective, data, ts);
 * ts = ng.train.applyGradients(ts, grads);
 */
export function applyGradients<M extends Model, R extends Rule, P, S>(
  ts: TrainState<M, R, P, S>,
  grads: MapLeaves<P, Tensor>,
): TrainState<M, R, P, S> {
  const t = checkTrainState(ts, "train.applyGradients") as TrainState<M, R, P, S>;
  const [optState, ps] = update(t.optState, t.ps, grads);
  return makeTrainState({ ...t, ps, optState, step: add(t.step, 1) });
}

/**
 * computeGradients then applyGradients: returns `[loss, stats, ts]` with the new TrainState.
 * @example
 * const model = ng.nn.dense(2, 1);
 * const [ps, st] = ng.nn.setup(ng.random.key(0), model);
 * let ts = ng.train.trainState(model, ps, st, ng.optim.adam({ lr: 1e-3 }));
 * const objective = (model, ps, st, [x, y]) => {
 *   const [yHat, st2] = model.apply(x, ps, st);
 *   return [ng.nn.mse(yHat, y), st2, {}];
 * };
 * const data = [ng.ones([4, 2]), ng.zeros([4, 1])];
 * let loss, stats;
 * for (let i = 0; i < 10; i++) [loss, stats, ts] = ng.train.trainStep(objective, data, ts);
 */
export function trainStep<M extends Model, R extends Rule, D, P, S, A>(
  objective: Objective<M, D, P, S, A>,
  data: D,
  ts: TrainState<M, R, P, S>,
): [Tensor, A, TrainState<M, R, P, S>] {
  const [grads, loss, stats, ts1] = computeGradientsNamed(objective, data, ts, "train.trainStep");
  return [loss, stats, applyGradients(ts1, grads)];
}
