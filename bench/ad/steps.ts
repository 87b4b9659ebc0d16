/**
 * The operator and training-step rows of the AD benchmark: the
 * per-sample Jacobian (`ng.nn.batchedJacobian`, MLP 2→64→64→2) and the Laplacian
 * (`ng.laplacian`, MLP 3→64→64→1) at B = 1024, a PINN training step (the W1 loss, whose
 * residual is an inner derivative, then its gradient and an Adam update) and the
 * two-spirals training step of examples/spirals.ts (`ng.train.trainStep`: cross-entropy,
 * global-norm clipping, Adam on a cosine schedule). Each row is written once and run
 * eagerly, under `ng.jit` and, where written, in tfjs; every result is checked against the
 * same nestgrad code in float64. Training steps are timed as a training loop (each call
 * takes the state the previous one returned) and checked on the first step: every state
 * leaf's change and the loss, each within the tolerance (the worst leaf is reported).
 */
import * as tf from "@tensorflow/tfjs-core";
import * as ng from "../../src/index.js";
import { accuracy, makeSpirals, spiralModel } from "../../examples/spirals.js";
import { makeProblem, relErr } from "./common.js";
import { lossFn, mlp } from "./nestgrad.js";

type Tensor = ng.Tensor;
type FloatDType = "float32" | "float64";

/** One timed computation: `check` gives the checked result, `timed` is what is timed. */
export interface Bench {
  check: () => Float64Array;
  timed: () => unknown;
  /** The jitted function and the arguments of its checked call (for flops and stats). */
  jit?: { jitted: ng.Jitted<(...args: any[]) => any>; args: unknown[] };
}

/** A row: its reference, its error measure and a builder per column (absent: not written). */
export interface StepCase {
  label: string;
  description: string;
  ref: Float64Array;
  err: (out: Float64Array, ref: Float64Array) => number;
  eager: () => Bench;
  jit: (options: ng.JitOptions) => Bench;
  tfjs?: () => Bench;
}

const B = 1024;

function flat(ts: Tensor[]): Float64Array {
  const n = ts.reduce((s, t) => s + t.size, 0);
  const out = new Float64Array(n);
  let o = 0;
  for (const t of ts) {
    out.set(t.dataSync(), o);
    o += t.size;
  }
  return out;
}

function tensorLeaves(tree: unknown): Tensor[] {
  return ng.tree.leaves(tree).filter((l): l is Tensor => l instanceof ng.Tensor);
}

/** MLP parameters [W1, b1, ...] drawn in float64 from one seed, cast to `dtype`. */
function mlpParams(sizes: number[], seed: number, dtype: FloatDType): Tensor[] {
  const keys = ng.random.split(ng.random.key(seed), 2 * sizes.length);
  return sizes.slice(1).flatMap((o, l) => {
    const i = sizes[l]!;
    const w = ng.random.normal(keys[2 * l]!, [i, o], { dtype: "float64", std: 1 / Math.sqrt(i) });
    const b = ng.random.normal(keys[2 * l + 1]!, [o], { dtype: "float64", std: 0.1 });
    return [ng.cast(w, dtype), ng.cast(b, dtype)];
  });
}

function points(d: number, seed: number, dtype: FloatDType): Tensor {
  return ng.cast(ng.random.normal(ng.random.key(seed), [B, d], { dtype: "float64" }), dtype);
}

/** A Bench of a function whose result is a tensor or a list of tensors. */
function simple(f: () => Tensor | Tensor[]): Bench {
  const run = () => {
    const out = f();
    return flat(Array.isArray(out) ? out : [out]);
  };
  return { check: run, timed: run };
}

function jitted(
  f: (...args: any[]) => Tensor | Tensor[],
  args: unknown[],
  options: ng.JitOptions,
): Bench {
  const j = ng.jit(f, options);
  return { ...simple(() => j(...args)), jit: { jitted: j, args } };
}

// tfjs (reverse mode only), as in bench/operators.ts
function tfTensor(t: Tensor): tf.Tensor {
  return tf.tensor(Float32Array.from(t.dataSync()), [...t.shape], "float32");
}

type TfAct = (z: tf.Tensor) => tf.Tensor;

function tfMlp(ps: tf.Tensor[], x: tf.Tensor, act: TfAct): tf.Tensor {
  let h = x;
  for (let i = 0; i < ps.length; i += 2) {
    h = tf.add(tf.matMul(h as tf.Tensor2D, ps[i] as tf.Tensor2D), ps[i + 1]!);
    if (i + 2 < ps.length) h = act(h);
  }
  return h;
}

function tfBench(f: () => tf.Tensor): Bench {
  const run = () => {
    const out = tf.tidy(f);
    const v = Float64Array.from(out.dataSync());
    out.dispose();
    return v;
  };
  return { check: run, timed: run };
}

function batchedJacobianCase(): StepCase {
  const sizes = [2, 64, 64, 2];
  const make = (dtype: FloatDType) => ({
    ps: mlpParams(sizes, 11, dtype),
    x: points(2, 12, dtype),
  });
  const jac = (ps: Tensor[], x: Tensor) => ng.nn.batchedJacobian((z) => mlp(ps, z), x);
  const r = make("float64");
  return {
    label: "batchedJacobian",
    description: `ng.nn.batchedJacobian of an MLP 2→64→64→2 (tanh) at B = ${B} ([B, 2, 2]; tfjs: one tf.grad per output row)`,
    ref: flat([jac(r.ps, r.x)]),
    err: relErr,
    eager: () => {
      const { ps, x } = make("float32");
      return simple(() => jac(ps, x));
    },
    jit: (options) => {
      const { ps, x } = make("float32");
      return jitted(jac, [ps, x], options);
    },
    tfjs: () => {
      const { ps, x } = make("float32");
      const tps = ps.map(tfTensor);
      const tx = tfTensor(x);
      return tfBench(() => {
        const rows = [0, 1].map((k) =>
          tf.grad((z: tf.Tensor) => tf.sum(tf.slice(tfMlp(tps, z, tf.tanh), [0, k], [-1, 1])))(tx),
        );
        return tf.stack(rows, 1);
      });
    },
  };
}

function laplacianCase(): StepCase {
  const sizes = [3, 64, 64, 1];
  const make = (dtype: FloatDType) => ({
    ps: mlpParams(sizes, 21, dtype),
    x: points(3, 22, dtype),
  });
  const lap = (ps: Tensor[], x: Tensor) => ng.laplacian((z: Tensor) => mlp(ps, z))(x);
  const r = make("float64");
  // tf.tanh's gradient is not differentiable again in tfjs: tanh z = 1 − 2/(e^{2z} + 1)
  const tanhViaExp: TfAct = (z) => tf.sub(1, tf.div(2, tf.add(tf.exp(tf.mul(z, 2)), 1)));
  return {
    label: "laplacian",
    description: `ng.laplacian of an MLP 3→64→64→1 (tanh) at B = ${B} ([B, 1]; tfjs: grad-of-grad per input dim, tanh written with exp)`,
    ref: flat([lap(r.ps, r.x)]),
    err: relErr,
    eager: () => {
      const { ps, x } = make("float32");
      return simple(() => lap(ps, x));
    },
    jit: (options) => {
      const { ps, x } = make("float32");
      return jitted(lap, [ps, x], options);
    },
    tfjs: () => {
      const { ps, x } = make("float32");
      const tps = ps.map(tfTensor);
      const tx = tfTensor(x);
      return tfBench(() => {
        const g = tf.grad((z: tf.Tensor) => tf.sum(tfMlp(tps, z, tanhViaExp)));
        const cols = [0, 1, 2].map((i) => {
          const hi = tf.grad((z: tf.Tensor) => tf.sum(tf.slice(g(z), [0, i], [-1, 1])))(tx);
          return tf.slice(hi, [0, i], [-1, 1]);
        });
        return tf.reshape(tf.addN(cols), [-1, 1]);
      });
    },
  };
}

/**
 * A training-step Bench: `step(state)` returns [loss, newState]. `check` is the first
 * step from `state0`: the loss, then the change of every tensor leaf of the state (in
 * tree order); `timed` runs the next step of a training loop and reads everything back.
 */
function trainingBench(
  state0: unknown,
  step: (state: any) => [Tensor, unknown],
  jit?: Bench["jit"],
): Bench {
  const before = tensorLeaves(state0);
  const check = () => {
    const [loss, state1] = step(state0);
    const after = tensorLeaves(state1);
    return flat([
      loss,
      ...after.map((a, i) => ng.sub(ng.cast(a, "float64"), ng.cast(before[i]!, "float64"))),
    ]);
  };
  let state = state0;
  const timed = () => {
    const [loss, next] = step(state);
    state = next;
    loss.item();
    for (const t of tensorLeaves(next)) t.dataSync();
  };
  return { check, timed, ...(jit ? { jit } : {}) };
}

/** The worst relative error over the loss and the state leaves (each leaf's change). */
function perLeafErr(lengths: number[]): (out: Float64Array, ref: Float64Array) => number {
  return (out, ref) => {
    if (out.length !== ref.length) return Infinity;
    let worst = 0;
    let o = 0;
    for (const n of lengths) {
      const e = relErr(out.subarray(o, o + n), ref.subarray(o, o + n));
      // a leaf that does not change in the reference (e.g. a step counter) is compared absolutely
      worst = Math.max(worst, Number.isFinite(e) ? e : Infinity);
      o += n;
    }
    return worst;
  };
}

function leafLengths(state: unknown): number[] {
  return [1, ...tensorLeaves(state).map((t) => t.size)];
}

function pinnCase(H: number, N: number, size: string): StepCase {
  const p = makeProblem("W1", H, N, 0);
  const rule = ng.optim.adam({ lr: 1e-3 });
  const make = (dtype: FloatDType) => {
    const ps = p.params.map((d) =>
      ng.array(new ng.NDArray(dtype === "float32" ? Float32Array.from(d.data) : d.data, d.shape)),
    );
    const loss = lossFn(p, dtype);
    const state0 = { ps, os: ng.optim.setup(rule, ps) };
    const step = (s: { ps: Tensor[]; os: ng.optim.OptState }): [Tensor, unknown] => {
      const [l, g] = ng.valueAndGrad(loss)(s.ps) as [Tensor, Tensor[]];
      const [os, ps2] = ng.optim.update(s.os, s.ps, g);
      return [l, { ps: ps2, os }];
    };
    return { state0, step };
  };
  const r = make("float64");
  const ref = trainingBench(r.state0, r.step).check();
  return {
    label: `PINN step ${size}`,
    description: `PINN training step: value and grad of the W1 loss (MLP 1-${H}-${H}-1, N = ${N}; the residual is an inner d/dt) + Adam update, one program`,
    ref,
    err: perLeafErr(leafLengths(r.state0)),
    eager: () => {
      const { state0, step } = make("float32");
      return trainingBench(state0, step);
    },
    jit: (options) => {
      const { state0, step } = make("float32");
      const j = ng.jit(step, options);
      return trainingBench(state0, j, { jitted: j, args: [state0] });
    },
  };
}

function spiralsCase(): StepCase {
  const { nn, optim, train } = ng;
  const steps = 600;
  const model = spiralModel(64);
  const data = makeSpirals(ng.random.key(1), 200);
  const [ps0, st0] = nn.setup(ng.random.key(0), model);
  const rule = optim.chain(
    optim.clipByGlobalNorm(1),
    optim.adam({ lr: optim.schedules.cosine(0.02, steps, { alpha: 0.1 }) }),
  );
  // the objective of examples/spirals.ts: mean cross-entropy, batch accuracy as stats
  const objective = (m: ng.nn.Layer, ps: ng.nn.Params, st: ng.nn.State, d: typeof data) => {
    const [logits, st2] = m.apply(d.x, ps, st);
    return [nn.crossEntropyWithLogits(logits, d.y), st2, { accuracy: accuracy(logits, d.y) }] as [
      Tensor,
      ng.nn.State,
      { accuracy: Tensor },
    ];
  };
  const make = (dtype: FloatDType) => {
    const cast = (t: unknown) => (t instanceof ng.Tensor ? ng.cast(t, dtype) : t);
    const ps = ng.tree.map(cast as any, ps0 as any) as ng.nn.Params;
    const d = { x: ng.cast(data.x, dtype), y: data.y };
    const ts0 = train.trainState(model, ps, st0, rule);
    const step = (ts: typeof ts0): [Tensor, unknown] => {
      const [loss, , ts1] = train.trainStep(objective, d, ts);
      return [loss, ts1];
    };
    return { ts0, step, d };
  };
  const r = make("float64");
  const ref = trainingBench(r.ts0, r.step).check();
  return {
    label: "spirals step",
    description: `the training step of examples/spirals.ts: MLP 2→64→64→2 (tanh), 400 points, cross-entropy, global-norm clipping, Adam (cosine schedule), ng.train.trainStep`,
    ref,
    err: perLeafErr(leafLengths(r.ts0)),
    eager: () => {
      const { ts0, step } = make("float32");
      return trainingBench(ts0, step);
    },
    jit: (options) => {
      const { ts0, d } = make("float32");
      const j = ng.jit((ts: typeof ts0, dd: typeof d) => {
        const [loss, , ts1] = train.trainStep(objective, dd, ts);
        return [loss, ts1] as [Tensor, unknown];
      }, options);
      return trainingBench(ts0, (ts) => j(ts, d), { jitted: j, args: [ts0, d] });
    },
  };
}

/** The operator and training-step rows (`quick`: the small PINN step only). */
export function stepCases(quick: boolean): StepCase[] {
  const cases = [batchedJacobianCase(), laplacianCase(), pinnCase(32, 128, "small")];
  if (!quick) cases.push(pinnCase(256, 1024, "medium"));
  cases.push(spiralsCase());
  return cases;
}
