// Two spirals: an MLP classifier trained with Adam on the classic two-spirals problem.
// Run: npx tsx examples/spirals.ts            (options: --steps N, --save params.bin, --quiet)
//
// The example of the nn / optim / train half of nestgrad: the data come from `ng.random` (fixed keys, so every
// run is the same), the model is `ng.nn.chain` of dense layers, the parameters and state
// are explicit plain trees, `ng.train.trainStep` differentiates the cross-entropy and runs
// the optimiser (Adam after global-norm clipping, learning rate on a cosine schedule), and
// `--save` writes the trained parameters with `ng.train.saveBinary`. It reports the accuracy
// on a held-out set drawn with another key and exits with status 1 below 97%.
// test/training.test.ts imports `main` and runs it as the example's smoke test.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";

const { nn, optim, train } = ng;

/** The accuracy the example must reach on the held-out set. */
export const TARGET_ACCURACY = 0.97;

/** Options of `makeSpirals`. */
export interface SpiralOptions {
  /** Standard deviation of the Gaussian noise added to each coordinate (default 0.02). */
  noise?: number;
  /** Turns of each arm (default 2). */
  turns?: number;
  /** Radius where the arms start (default 0.15); they end at radius 1. */
  inner?: number;
}

/**
 * The two-spirals dataset: `perClass` points on each of two interleaved Archimedean
 * spirals, class 0 at r(cos θ, sin θ) and class 1 at its mirror image −r(cos θ, sin θ),
 * θ = 2π·turns·r, r ∈ [inner, 1], plus Gaussian noise. x is float32 [2·perClass, 2], y int32
 * [2·perClass] (class 0 first). The same key gives the same points.
 * @example const { x, y } = makeSpirals(ng.random.key(1), 200); // x [400, 2], y [400]
 */
export function makeSpirals(
  key: Tensor,
  perClass: number,
  options: SpiralOptions = {},
): { x: Tensor; y: Tensor } {
  const { noise = 0.02, turns = 2, inner = 0.15 } = options;
  const n = 2 * perClass;
  const [kr, kn] = ng.random.split(key);
  // r uniform in [inner, 1]: the points crowd towards the centre, where the arms curl tightly
  const r = ng.random.uniform(kr!, [n], { minval: inner, maxval: 1 });
  const theta = ng.mul(r, 2 * Math.PI * turns);
  const side = ng.concatenate([ng.ones([perClass]), ng.full([perClass], -1)]); // +1 / −1 arm
  const rs = ng.mul(r, side);
  const clean = ng.stack([ng.mul(rs, ng.cos(theta)), ng.mul(rs, ng.sin(theta))], -1);
  const x = ng.add(clean, ng.random.normal(kn!, [n, 2], { std: noise }));
  const y = ng.concatenate([
    ng.zeros([perClass], { dtype: "int32" }),
    ng.ones([perClass], { dtype: "int32" }),
  ]);
  return { x, y };
}

/**
 * The fraction of rows whose largest logit is at the label: logits [N, C], labels int32 [N].
 * @example accuracy(ng.array([[2, 1], [0, 3]]), ng.array([0, 0], { dtype: "int32" })) // 0.5
 */
export function accuracy(logits: Tensor, labels: Tensor): Tensor {
  return ng.mean(ng.cast(ng.equal(ng.argmax(logits, -1), labels), "float32"));
}

/**
 * The classifier: 2 → hidden → hidden → 2 logits, tanh hidden layers, float32.
 * @example const [ps, st] = ng.nn.setup(ng.random.key(0), spiralModel());
 */
export function spiralModel(hidden = 64): ng.nn.Layer {
  return nn.chain(
    nn.dense(2, hidden, ng.tanh),
    nn.dense(hidden, hidden, ng.tanh),
    nn.dense(hidden, 2),
  );
}

type Data = { x: Tensor; y: Tensor };

/** Mean cross-entropy of the logits against the labels; stats: the batch accuracy. */
function objective(
  model: ng.nn.Layer,
  ps: ng.nn.Params,
  st: ng.nn.State,
  data: Data,
): [Tensor, ng.nn.State, { accuracy: Tensor }] {
  const [logits, st2] = model.apply(data.x, ps, st);
  return [nn.crossEntropyWithLogits(logits, data.y), st2, { accuracy: accuracy(logits, data.y) }];
}

/** Options of `main`. */
export interface MainOptions {
  /** Full-batch training steps (default 600). */
  steps?: number;
  /** Print nothing (default false). */
  quiet?: boolean;
  /** Write the trained parameters (`ng.train.saveBinary`) to this path. */
  save?: string;
  /** Seed of the parameter initialisation (default 0); the data keys are fixed. */
  seed?: number;
}

/** What `main` returns: held-out and training accuracy, final training loss, and the model. */
export interface MainResult {
  /** Accuracy on the held-out set (400 points drawn with another key). */
  accuracy: number;
  /** Accuracy on the training set. */
  trainAccuracy: number;
  /** Training loss of the final parameters. */
  loss: number;
  steps: number;
  model: ng.nn.Layer;
  ps: any;
  st: any;
}

/** The data keys: training and held-out sets never share a key. */
export const TRAIN_KEY = 1;
export const TEST_KEY = 2;

/**
 * Trains the spiral classifier with full-batch Adam and evaluates it.
 * @example const { accuracy } = main({ steps: 600, quiet: true }); // accuracy > 0.97
 */
export function main(options: MainOptions = {}): MainResult {
  const { steps = 600, quiet = false, save, seed = 0 } = options;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`spirals: steps must be a positive integer, got ${steps}`);
  }
  const log = quiet ? () => {} : (line: string) => console.log(line);
  const trainSet = makeSpirals(ng.random.key(TRAIN_KEY), 200);
  const testSet = makeSpirals(ng.random.key(TEST_KEY), 200);

  const model = spiralModel(64);
  const [ps0, st0] = nn.setup(ng.random.key(seed), model);
  const rule = optim.chain(
    optim.clipByGlobalNorm(1),
    optim.adam({ lr: optim.schedules.cosine(0.02, steps, { alpha: 0.1 }) }),
  );
  let ts = train.trainState(model, ps0, st0, rule);
  log(
    `two spirals: ${nn.parameterCount(model)} parameters, ${trainSet.x.shape[0]} training points`,
  );

  const every = Math.max(1, Math.round(steps / 10));
  const t0 = Date.now();
  for (let i = 1; i <= steps; i++) {
    let loss: Tensor;
    let stats: { accuracy: Tensor };
    [loss, stats, ts] = train.trainStep(objective, trainSet, ts);
    if (i % every === 0 || i === steps) {
      // loss and accuracy of the parameters before step i
      log(
        `step ${String(i).padStart(5)}  loss ${loss.item().toFixed(5)}  train accuracy ${(100 * stats.accuracy.item()).toFixed(2)}%`,
      );
    }
  }

  const st = nn.testMode(ts.st);
  const [trainLogits] = model.apply(trainSet.x, ts.ps, st);
  const [testLogits] = model.apply(testSet.x, ts.ps, st);
  const result: MainResult = {
    accuracy: accuracy(testLogits, testSet.y).item(),
    trainAccuracy: accuracy(trainLogits, trainSet.y).item(),
    loss: nn.crossEntropyWithLogits(trainLogits, trainSet.y).item(),
    steps: Number(ts.step),
    model,
    ps: ts.ps,
    st,
  };
  log(
    `final: loss ${result.loss.toFixed(5)}, train accuracy ${(100 * result.trainAccuracy).toFixed(2)}%, ` +
      `held-out accuracy ${(100 * result.accuracy).toFixed(2)}% (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
  if (save !== undefined) {
    writeFileSync(save, train.saveBinary(ts.ps));
    log(`saved the parameters to ${save}`);
  }
  return result;
}

/** Parses the command line: --steps N, --save PATH, --quiet. */
function cli(argv: string[]): MainOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      steps: { type: "string" },
      save: { type: "string" },
      quiet: { type: "boolean", default: false },
    },
  });
  const out: MainOptions = { quiet: values.quiet };
  if (values.steps !== undefined) {
    const steps = Number(values.steps);
    if (!Number.isInteger(steps) || steps < 1) {
      throw new RangeError(
        `--steps: expected a positive integer, got ${JSON.stringify(values.steps)}`,
      );
    }
    out.steps = steps;
  }
  if (values.save !== undefined) out.save = values.save;
  return out;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(resolve(entry)).href) {
  try {
    const { accuracy: acc } = main(cli(process.argv.slice(2)));
    if (acc < TARGET_ACCURACY) {
      console.error(
        `spirals: held-out accuracy ${(100 * acc).toFixed(2)}% is below the target ${100 * TARGET_ACCURACY}%`,
      );
      process.exitCode = 1;
    }
  } catch (e) {
    console.error(`spirals: ${(e as Error).message}`);
    process.exitCode = 2;
  }
}
