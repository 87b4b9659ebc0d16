/**
 * The training loop pieces (DESIGN.md §1 train/, §5 `ng.train`), in the style of Lux.jl's
 * Training API: a TrainState `{ model, ps, st, optState, step }` is plain immutable data;
 * `computeGradients` differentiates an objective `(model, ps, st, data) -> [loss, st, stats]`
 * with `ng.valueAndGrad` (hasAux), `applyGradients` runs the optimiser, and `trainStep` does
 * both. Every function returns a new TrainState and leaves its inputs untouched.
 */
import { Tensor } from "../core/tensor.js";
import { describeValue } from "../primitives/convert.js";
import { formatShape } from "../tensor/shape.js";
import { valueAndGrad } from "../transforms/grad.js";
import type { Rule } from "../optim/rule.js";
import { setup, update, type OptState } from "../optim/tree.js";

/** What train/ needs of a model: Lux-style `apply(x, ps, st) -> [y, st]` (and usually `init`). */
export interface Model {
  readonly kind?: string;
  init?(key: Tensor): [any, any];
  apply(x: any, ps: any, st: any): [any, any];
}

/** Everything a training loop carries, as plain immutable data. */
export interface TrainState<M extends Model = Model, R extends Rule = Rule> {
  readonly model: M;
  /** Parameters: a pytree of float tensors. */
  readonly ps: any;
  /** Model state (running statistics, dropout keys, train/test mode). */
  readonly st: any;
  readonly optState: OptState<R>;
  /** Number of `applyGradients` calls so far. */
  readonly step: number;
}

/** The objective: `[loss (a float scalar tensor), new model state, stats (any pytree)]`. */
export type Objective<M extends Model = Model, D = any> = (
  model: M,
  ps: any,
  st: any,
  data: D,
) => [Tensor, any, any];

function makeTrainState<M extends Model, R extends Rule>(
  fields: TrainState<M, R>,
): TrainState<M, R> {
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
  return t;
}

/**
 * A fresh TrainState: the optimiser is set up for `ps` (`ng.optim.setup(rule, ps)`), step 0.
 * @example
 * const [ps, st] = ng.nn.setup(ng.random.key(0), model);
 * let ts = ng.train.trainState(model, ps, st, ng.optim.adam({ lr: 1e-3 }));
 */
export function trainState<M extends Model, R extends Rule>(
  model: M,
  ps: unknown,
  st: unknown,
  rule: R,
): TrainState<M, R> {
  if (
    (typeof model !== "object" && typeof model !== "function") ||
    model === null ||
    typeof (model as Model).apply !== "function"
  ) {
    throw new TypeError(
      `train.trainState: model: expected a layer with apply(x, ps, st), got ${describeValue(model)}`,
    );
  }
  return makeTrainState({ model, ps, st, optState: setup(rule, ps), step: 0 });
}

/**
 * The gradient of `objective(model, ps, st, data)`'s loss with respect to ps, with the
 * loss, the stats and a TrainState holding the objective's new model state.
 * Returns `[grads, loss, stats, ts]`; grads mirror ts.ps.
 * @example
 * const objective = (model, ps, st, [x, y]) => {
 *   const [yHat, st2] = model.apply(x, ps, st);
 *   return [ng.nn.mse(yHat, y), st2, {}];
 * };
 * const [grads, loss, stats, ts2] = ng.train.computeGradients(objective, [x, y], ts);
 */
export function computeGradients<M extends Model, R extends Rule, D>(
  objective: Objective<M, D>,
  data: D,
  ts: TrainState<M, R>,
): [any, Tensor, any, TrainState<M, R>] {
  const fname = "train.computeGradients";
  if (typeof objective !== "function") {
    throw new TypeError(`${fname}: objective must be a function, got ${describeValue(objective)}`);
  }
  const t = checkTrainState(ts, fname) as TrainState<M, R>;
  const f = (ps: unknown): [Tensor, [unknown, unknown]] => {
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
  const [st, stats] = aux as [unknown, unknown];
  return [grads, loss as Tensor, stats, makeTrainState({ ...t, st })];
}

/**
 * One optimiser step: `ng.optim.update(ts.optState, ts.ps, grads)`, step + 1.
 * @example ts = ng.train.applyGradients(ts, grads);
 */
export function applyGradients<M extends Model, R extends Rule>(
  ts: TrainState<M, R>,
  grads: unknown,
): TrainState<M, R> {
  const t = checkTrainState(ts, "train.applyGradients") as TrainState<M, R>;
  const [optState, ps] = update(t.optState, t.ps, grads);
  return makeTrainState({ ...t, ps, optState, step: t.step + 1 });
}

/**
 * computeGradients then applyGradients: returns `[loss, stats, ts]` with the new TrainState.
 * @example
 * for (let i = 0; i < 1000; i++) [loss, stats, ts] = ng.train.trainStep(objective, [x, y], ts);
 */
export function trainStep<M extends Model, R extends Rule, D>(
  objective: Objective<M, D>,
  data: D,
  ts: TrainState<M, R>,
): [Tensor, any, TrainState<M, R>] {
  const [grads, loss, stats, ts1] = computeGradients(objective, data, ts);
  return [loss, stats, applyGradients(ts1, grads)];
}
