/**
 * Jitted training steps: `ng.jit` over `ng.optim.update` and `ng.train.trainStep`. The step
 * count of the optimiser and train state is a rank-0 int32 tensor, so it is traced, not
 * part of the jit signature: a step is staged once and every later step hits the cache.
 * Checked for every rule of the shared list (optim-rules.ts), with a built-in schedule on
 * the learning rate, against the eager steps (the oracle), on the interpreter and on
 * onnxruntime. Also: built-in and `traceable` schedules under jit against their number
 * form, plain JS schedules (fine eagerly, a clear error under jit), and a save/restore
 * round trip in the middle of jitted training.
 */
import { describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { RULES } from "../optim-rules.js";
import { expectClose } from "./helpers.js";

const { optim, train } = ng;
const S = optim.schedules;
const BACKENDS = ["interpreter", "onnxruntime"] as const;
const STEPS = 5;
// float32 throughout; Adam's traced bias correction (float32 ops) differs from the eager
// one (float64 JS numbers rounded once) in the last bits.
const RTOL = 2e-5;
const ATOL = 1e-6;

type Params = { w: Tensor; b: Tensor[] };
type Batch = [Tensor, Tensor];

const key = (i: number) => ng.random.key(i);
const PS0: Params = {
  w: ng.random.normal(key(1), [3, 2]),
  b: [ng.random.normal(key(2), [2])],
};
const BATCHES: Batch[] = Array.from({ length: STEPS }, (_, i) => [
  ng.random.normal(key(10 + i), [6, 3]),
  ng.random.normal(key(20 + i), [6, 2]),
]);

/** A linear model in the Lux style, and its mean squared error. */
const model = {
  kind: "linear",
  apply: (x: Tensor, ps: Params, st: null): [Tensor, null] => [
    ng.add(ng.matmul(x, ps.w), ps.b[0]!),
    st,
  ],
};
const loss = (ps: Params, [x, y]: Batch): Tensor =>
  ng.mean(ng.square(ng.sub(model.apply(x, ps, null)[0], y)));
const objective = (m: typeof model, ps: Params, st: null, data: Batch) =>
  [loss(ps, data), m.apply(data[0], ps, st)[1], {}] as const;

/** The case's rule with a built-in learning-rate schedule after it (warm-up, then cosine). */
const scheduled = (rule: ng.optim.Rule): ng.optim.Rule =>
  optim.chain(rule, optim.sgd(S.linearWarmup(1, 2, S.cosine(1, 4, { alpha: 0.2 }), { init: 0.5 })));

const leavesOf = (t: unknown): Tensor[] => ng.tree.flatten<Tensor>(t)[0];

function optimStep(os: ng.optim.OptState, ps: Params, batch: Batch): [ng.optim.OptState, Params] {
  return optim.update(os, ps, ng.grad((p: Params) => loss(p, batch))(ps));
}

describe("a jitted training step is staged once and equals the eager step", () => {
  describe.each(RULES)("$name", (c) => {
    it.each(BACKENDS)("%s: optim.update and train.trainStep", (backend) => {
      const rule = scheduled(c.make());
      const jOptim = ng.jit(optimStep, { backend });
      const jTrain = ng.jit(
        (ts: ng.train.TrainState<typeof model, ng.optim.Rule, Params, null>, batch: Batch) =>
          train.trainStep(objective, batch, ts),
        { backend },
      );
      if (c.jsSchedule) {
        const os = optim.setup(rule, PS0);
        expect(() => jOptim(os, PS0, BATCHES[0]!)).toThrow(
          /the schedule for lr.* is a JS function of a number, but the step count is traced/,
        );
        return;
      }
      let eager = optim.setup(rule, PS0);
      let jitted = eager;
      let psE = PS0;
      let psJ = PS0;
      let tsE = train.trainState(model, PS0, null, rule);
      let tsJ = tsE;
      for (let i = 0; i < STEPS; i++) {
        const batch = BATCHES[i]!;
        [eager, psE] = optimStep(eager, psE, batch);
        [jitted, psJ] = jOptim(jitted, psJ, batch);
        expectClose(leavesOf(psJ), leavesOf(psE), RTOL, ATOL, `update: params after step ${i}`);
        expectClose(
          leavesOf(jitted.state),
          leavesOf(eager.state),
          RTOL,
          ATOL,
          `update: state after step ${i}`,
        );
        expect(Number(jitted.step)).toBe(i + 1);
        let lossE: Tensor;
        let lossJ: Tensor;
        [lossE, , tsE] = train.trainStep(objective, batch, tsE);
        [lossJ, , tsJ] = jTrain(tsJ, batch);
        expectClose([lossJ], [lossE], RTOL, ATOL, `trainStep: loss at step ${i}`);
        expectClose(leavesOf(tsJ.ps), leavesOf(tsE.ps), RTOL, ATOL, `trainStep: params ${i}`);
        expect([Number(tsJ.step), Number(tsJ.optState.step)]).toEqual([i + 1, i + 1]);
      }
      for (const [name, j] of [
        ["update", jOptim],
        ["trainStep", jTrain],
      ] as const) {
        const s = j.stats();
        expect([s.traces, s.misses, s.hits], `${name}: traces, misses, hits`).toEqual([
          1,
          1,
          STEPS - 1,
        ]);
        expect(s.backend, name).toBe(backend);
      }
    });
  });
});

describe("schedules under jit", () => {
  const steps = [0, 1, 2, 3, 7, 12, 40];
  const cases: [string, ng.optim.TraceableSchedule][] = [
    ["constant", S.constant(0.3)],
    ["exponential", S.exponential(0.1, 0.5, 3)],
    ["exponential (staircase)", S.exponential(0.1, 0.5, 3, { staircase: true })],
    ["cosine", S.cosine(0.2, 10, { alpha: 0.1 })],
    ["linearWarmup then cosine", S.linearWarmup(1e-2, 4, S.cosine(1e-2, 20))],
    ["linearWarmup then a number", S.linearWarmup(1, 3, 0.25, { init: 0.1 })],
    ["traceable", S.traceable((t) => ng.div(0.5, ng.sqrt(ng.add(t, 1))))],
  ];
  it.each(cases)("%s: a traced int32 step gives the number form's values", (_name, s) => {
    for (const backend of BACKENDS) {
      const js = ng.jit((t: Tensor) => s(t), { backend });
      for (const t of steps) {
        const got = js(ng.array(t, { dtype: "int32" }));
        expect(got.dtype).toBe("float32");
        // The oracle: plain float64 arithmetic on the number step.
        expect(got.item(), `${backend} at step ${t}`).toBeCloseTo(s(t), 6);
      }
      expect(js.stats().traces, backend).toBe(1);
    }
  });

  it("traceable: a number step gives a number, computed with ops in float64", () => {
    const s = S.traceable((t) => ng.mul(0.1, ng.pow(0.99, t)));
    expect(s(2)).toBe(0.1 * 0.99 ** 2);
    expect(() => S.traceable((t) => ng.stack([t, t]))(1)).toThrow(
      /schedules.traceable: fn must return a number or a rank-0 tensor, got float64\[2\]/,
    );
  });

  it("a plain JS schedule works eagerly and is a clear error under jit", () => {
    const decay = function decay(t: number): number {
      return 0.1 / (1 + t);
    };
    const rule = optim.adam({ lr: decay });
    let os = optim.setup(rule, PS0);
    let ps = PS0;
    const g0 = ng.grad((p: Params) => loss(p, BATCHES[0]!))(PS0);
    [os, ps] = optim.update(os, ps, g0);
    // Adam's first update is lr · g / (|g| + ε), lr = decay(0) = 0.1.
    const want = ng.sub(PS0.w, ng.mul(0.1, ng.div(g0.w, ng.add(ng.abs(g0.w), 1e-8))));
    expectClose([ps.w], [want], 1e-6, 1e-7, "eager step with a JS schedule");
    expect(() => ng.jit(optimStep)(os, ps, BATCHES[1]!)).toThrow(
      new RegExp(
        "optim.adam: the schedule for lr \\(decay\\) is a JS function of a number, but the step " +
          "count is traced.*ng.optim.schedules.traceable",
      ),
    );
    const warm = optim.sgd(S.linearWarmup(0.1, 2, decay));
    expect(() => ng.jit(optimStep)(optim.setup(warm, PS0), PS0, BATCHES[0]!)).toThrow(
      /schedules.linearWarmup: then \(decay\) is a JS function of a number/,
    );
  });
});

describe("saving and restoring in the middle of jitted training", () => {
  it.each(BACKENDS)("%s: save → load → restore continues like the uninterrupted run", (backend) => {
    const rule = scheduled(optim.adam({ lr: 0.05 }));
    const jstep = ng.jit(optimStep, { backend });
    let os = optim.setup(rule, PS0);
    let ps = PS0;
    for (let i = 0; i < 2; i++) [os, ps] = jstep(os, ps, BATCHES[i]!);
    const fresh = optim.setup(rule, PS0);
    const template = { state: fresh.state, step: fresh.step };
    for (const loaded of [
      train.loadJSON(train.saveJSON({ state: os.state, step: os.step }), template),
      train.loadBinary(train.saveBinary({ state: os.state, step: os.step }), template),
    ]) {
      let a = os;
      let b = optim.restore(fresh, loaded);
      expect(Number(b.step)).toBe(2);
      let pa = ps;
      let pb = ps;
      for (let i = 2; i < STEPS; i++) {
        [a, pa] = jstep(a, pa, BATCHES[i]!);
        [b, pb] = jstep(b, pb, BATCHES[i]!);
      }
      expectClose(leavesOf(pb), leavesOf(pa), 0, 0, "restored run");
      expect(Number(b.step)).toBe(STEPS);
    }
    // The restored state has the same signature: still one trace.
    expect(jstep.stats().traces).toBe(1);
  });
});

describe("the step count must be a tensor", () => {
  it("a state whose step is a JS number is an error naming the field", () => {
    const g = ng.grad((p: Params) => loss(p, BATCHES[0]!))(PS0);
    const os = { ...optim.setup(optim.sgd(0.1), PS0), step: 3 } as never;
    expect(() => optim.update(os, PS0, g)).toThrow(
      /optim.update: optState.step: expected the update count as a rank-0 int32 tensor, got number 3/,
    );
    const ts = { ...train.trainState(model, PS0, null, optim.sgd(0.1)), step: 3 } as never;
    expect(() => train.applyGradients(ts, g)).toThrow(
      /train.applyGradients: ts.step: expected the step count as a rank-0 int32 tensor, got number 3/,
    );
  });
});
