/**
 * Options objects across the public API: every function that takes one rejects an unknown
 * key with a TypeError naming the function and the key and suggesting the close known key;
 * optimisers take the learning rate positionally or in their options; tensor
 * hyperparameters are checked like numbers; and the options-object forms of functions
 * with several optional positional arguments equal their positional forms.
 */
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { optionKeys } from "../src/util/options.js";
import { expectClose, f64, flat } from "./transforms-helpers.js";

const { optim, nn } = ng;

/** Runs `call`, expecting a TypeError that names `fn` and `key` and suggests `suggestion`. */
function expectUnknownKey(call: () => unknown, fn: string, key: string, suggestion?: string) {
  let err: unknown;
  try {
    call();
  } catch (e) {
    err = e;
  }
  expect(err, `${fn} accepted the unknown option "${key}"`).toBeInstanceOf(TypeError);
  const msg = (err as Error).message;
  expect(msg).toContain(`${fn}:`);
  expect(msg).toContain(`unknown option "${key}"`);
  if (suggestion !== undefined) expect(msg).toContain(`did you mean "${suggestion}"?`);
}

const sq = (x: Tensor) => ng.sum(ng.square(x));
const x2 = () =>
  f64([
    [1, -2, 3],
    [4, 5, -6],
  ]);
const img = () => f64(Array.from({ length: 16 }, (_, i) => i)).reshape([1, 4, 4, 1]);
const kernel = () => ng.ones([2, 2, 1, 1], { dtype: "float64" });
const key = () => ng.random.key(0);

describe("the reported examples", () => {
  it("grad(f, { argnum: 1 }) is an error, not a gradient of argument 0", () => {
    const f = (a: Tensor, b: Tensor) => ng.sum(ng.mul(a, b));
    expectUnknownKey(() => ng.grad(f, { argnum: 1 } as never), "grad", "argnum", "argnums");
    // The correct key differentiates argument 1: ∂(a·b)/∂b = a.
    expect(flat(ng.grad(f, { argnums: 1 })(f64([2, 3]), f64([5, 7])))).toEqual([2, 3]);
  });

  it("conv(x, w, { strides: 2 }) suggests stride", () => {
    expectUnknownKey(
      () => ng.conv(img(), kernel(), { strides: 2 } as never),
      "conv",
      "strides",
      "stride",
    );
  });

  it("nn.dense(4, 2, { usebias: false }) suggests useBias", () => {
    expectUnknownKey(
      () => nn.dense(4, 2, { usebias: false } as never),
      "dense",
      "usebias",
      "useBias",
    );
  });

  it("optim.adam({ lrr: 0.1 }) suggests lr", () => {
    expectUnknownKey(() => optim.adam({ lrr: 0.1 } as never), "optim.adam", "lrr", "lr");
  });
});

// [label, function name in the message, call with a misspelt key, the key, the suggestion]
type UnknownCase = [string, string, () => unknown, string, string | undefined];

const UNKNOWN_KEY_CASES: UnknownCase[] = [
  // transforms
  ["grad", "grad", () => ng.grad(sq, { argnum: 0 } as never), "argnum", "argnums"],
  [
    "valueAndGrad",
    "valueAndGrad",
    () => ng.valueAndGrad(sq, { hasaux: true } as never),
    "hasaux",
    "hasAux",
  ],
  ["jacfwd", "jacfwd", () => ng.jacfwd(sq, { argnum: 0 } as never), "argnum", "argnums"],
  ["jacrev", "jacrev", () => ng.jacrev(sq, { argnum: 0 } as never), "argnum", "argnums"],
  ["hessian", "hessian", () => ng.hessian(sq, { argnum: 0 } as never), "argnum", "argnums"],
  ["jit", "jit", () => ng.jit(sq, { cachesize: 4 } as never), "cachesize", "cacheSize"],
  [
    "exportOnnx",
    "exportOnnx",
    () => ng.exportOnnx(sq, [f64([1])], { graphname: "g" } as never),
    "graphname",
    "graphName",
  ],
  // creation
  ["array", "array", () => ng.array([1], { dtyp: "float64" } as never), "dtyp", "dtype"],
  ["zeros", "zeros", () => ng.zeros([2], { dtyp: "float64" } as never), "dtyp", "dtype"],
  ["ones", "ones", () => ng.ones([2], { dtyp: "float64" } as never), "dtyp", "dtype"],
  ["full", "full", () => ng.full([2], 1, { dtyp: "float64" } as never), "dtyp", "dtype"],
  ["arange", "arange", () => ng.arange(3, { dtyp: "float64" } as never), "dtyp", "dtype"],
  [
    "linspace",
    "linspace",
    () => ng.linspace(0, 1, 3, { dtyp: "float64" } as never),
    "dtyp",
    "dtype",
  ],
  ["eye", "eye", () => ng.eye(3, null, { kk: 1 } as never), "kk", "k"],
  [
    "zerosLike",
    "zerosLike",
    () => ng.zerosLike(x2(), { dtyp: "float32" } as never),
    "dtyp",
    "dtype",
  ],
  ["onesLike", "onesLike", () => ng.onesLike(x2(), { dtyp: "float32" } as never), "dtyp", "dtype"],
  [
    "fullLike",
    "fullLike",
    () => ng.fullLike(x2(), 1, { dtyp: "float32" } as never),
    "dtyp",
    "dtype",
  ],
  // convolution and pooling
  [
    "conv",
    "conv",
    () => ng.conv(img(), kernel(), { dilations: 1 } as never),
    "dilations",
    "dilation",
  ],
  [
    "convTranspose",
    "convTranspose",
    () => ng.convTranspose(img(), kernel(), { outputpadding: 0 } as never),
    "outputpadding",
    "outputPadding",
  ],
  [
    "maxPool",
    "maxPool",
    () => ng.maxPool(img(), { window: 2, strides: 2 } as never),
    "strides",
    "stride",
  ],
  [
    "meanPool",
    "meanPool",
    () => ng.meanPool(img(), { window: 2, paddin: 0 } as never),
    "paddin",
    "padding",
  ],
  // reductions and the other options forms
  ["sum", "sum", () => ng.sum(x2(), { axes: 0 } as never), "axes", "axis"],
  ["mean", "mean", () => ng.mean(x2(), { axes: 0 } as never), "axes", "axis"],
  ["max", "max", () => ng.max(x2(), { axes: 0 } as never), "axes", "axis"],
  ["min", "min", () => ng.min(x2(), { axes: 0 } as never), "axes", "axis"],
  ["prod", "prod", () => ng.prod(x2(), { keepdim: true } as never), "keepdim", "keepdims"],
  ["logsumexp", "logsumexp", () => ng.logsumexp(x2(), { axes: 0 } as never), "axes", "axis"],
  ["sumSquares", "sumSquares", () => ng.sumSquares(x2(), { axes: 0 } as never), "axes", "axis"],
  ["variance", "variance", () => ng.variance(x2(), { ddf: 1 } as never), "ddf", "ddof"],
  ["std", "std", () => ng.std(x2(), { ddf: 1 } as never), "ddf", "ddof"],
  ["norm", "norm", () => ng.norm(x2(), { axes: 1 } as never), "axes", "axis"],
  ["argmax", "argmax", () => ng.argmax(x2(), { keepdim: true } as never), "keepdim", "keepdims"],
  ["argmin", "argmin", () => ng.argmin(x2(), { axes: 0 } as never), "axes", "axis"],
  ["softmax", "softmax", () => ng.softmax(x2(), { axes: 0 } as never), "axes", "axis"],
  ["logSoftmax", "logSoftmax", () => ng.logSoftmax(x2(), { axes: 0 } as never), "axes", "axis"],
  ["clip", "clip", () => ng.clip(x2(), { low: 0 } as never), "low", "lo"],
  [
    "leakyRelu",
    "leakyRelu",
    () => ng.leakyRelu(x2(), { negativeslope: 0.1 } as never),
    "negativeslope",
    "negativeSlope",
  ],
  ["gelu", "gelu", () => ng.gelu(x2(), { approximat: true } as never), "approximat", "approximate"],
  ["elu", "elu", () => ng.elu(x2(), { alhpa: 1 } as never), "alhpa", "alpha"],
  [
    "concatenate",
    "concatenate",
    () => ng.concatenate([x2()], { axes: 0 } as never),
    "axes",
    "axis",
  ],
  ["stack", "stack", () => ng.stack([x2()], { axes: 0 } as never), "axes", "axis"],
  // nn layers
  [
    "nn.dense (after an activation)",
    "dense",
    () => nn.dense(4, 2, ng.tanh, { biasinit: null } as never),
    "biasinit",
    "biasInit",
  ],
  ["nn.conv1d", "conv1d", () => nn.conv1d(1, 2, 3, { strides: 1 } as never), "strides", "stride"],
  [
    "nn.conv2d",
    "conv2d",
    () => nn.conv2d(1, 2, 3, ng.relu, { group: 1 } as never),
    "group",
    "groups",
  ],
  [
    "nn.convTranspose2d",
    "convTranspose2d",
    () => nn.convTranspose2d(1, 2, 3, { outputPading: 0 } as never),
    "outputPading",
    "outputPadding",
  ],
  ["nn.maxPool", "maxPool", () => nn.maxPool(2, { strides: 2 } as never), "strides", "stride"],
  [
    "nn.meanPool",
    "meanPool",
    () => nn.meanPool(2, { paddng: "same" } as never),
    "paddng",
    "padding",
  ],
  [
    "nn.dropout",
    "dropout",
    () => nn.dropout(0.5, { sharedAxis: [1] } as never),
    "sharedAxis",
    "sharedAxes",
  ],
  [
    "nn.embedding",
    "embedding",
    () => nn.embedding(10, 4, { dtyp: "float64" } as never),
    "dtyp",
    "dtype",
  ],
  [
    "nn.batchNorm",
    "batchNorm",
    () => nn.batchNorm(4, { momentun: 0.1 } as never),
    "momentun",
    "momentum",
  ],
  [
    "nn.layerNorm",
    "layerNorm",
    () => nn.layerNorm(4, { epsilonn: 1e-5 } as never),
    "epsilonn",
    "epsilon",
  ],
  [
    "nn.groupNorm",
    "groupNorm",
    () => nn.groupNorm(4, 2, { afine: true } as never),
    "afine",
    "affine",
  ],
  [
    "nn.rnnCell",
    "rnnCell",
    () => nn.rnnCell(2, 3, { usebias: false } as never),
    "usebias",
    "useBias",
  ],
  [
    "nn.lstmCell",
    "lstmCell",
    () => nn.lstmCell(2, 3, { recurentInit: null } as never),
    "recurentInit",
    "recurrentInit",
  ],
  [
    "nn.gruCell",
    "gruCell",
    () => nn.gruCell(2, 3, { biasinit: null } as never),
    "biasinit",
    "biasInit",
  ],
  [
    "nn.recurrence",
    "recurrence",
    () => nn.recurrence(nn.gruCell(2, 3), { returnSequences: true } as never),
    "returnSequences",
    "returnSequence",
  ],
  // initialisers
  [
    "nn.init.glorotUniform",
    "init.glorotUniform",
    () => nn.init.glorotUniform({ gian: 2 } as never),
    "gian",
    "gain",
  ],
  [
    "nn.init.kaimingNormal",
    "init.kaimingNormal",
    () => nn.init.kaimingNormal({ gian: 2 } as never),
    "gian",
    "gain",
  ],
  ["nn.init.normal", "init.normal", () => nn.init.normal({ stdd: 1 } as never), "stdd", "std"],
  [
    "nn.init.truncatedNormal",
    "init.truncatedNormal",
    () => nn.init.truncatedNormal({ lowerr: -1 } as never),
    "lowerr",
    "lower",
  ],
  [
    "nn.init.constant",
    "init.constant",
    () => nn.init.constant({ valu: 1 } as never),
    "valu",
    "value",
  ],
  [
    "nn.init.orthogonal",
    "init.orthogonal",
    () => nn.init.orthogonal({ gian: 1 } as never),
    "gian",
    "gain",
  ],
  ["nn.init.zeros", "init.zeros", () => nn.init.zeros({ value: 1 } as never), "value", undefined],
  // losses
  [
    "nn.mse",
    "mse",
    () => nn.mse(x2(), x2(), { reductio: "sum" } as never),
    "reductio",
    "reduction",
  ],
  [
    "nn.mae",
    "mae",
    () => nn.mae(x2(), x2(), { reductio: "sum" } as never),
    "reductio",
    "reduction",
  ],
  ["nn.huber", "huber", () => nn.huber(x2(), x2(), { detla: 1 } as never), "detla", "delta"],
  [
    "nn.binaryCrossEntropyWithLogits",
    "binaryCrossEntropyWithLogits",
    () => nn.binaryCrossEntropyWithLogits(x2(), x2(), { reductio: "sum" } as never),
    "reductio",
    "reduction",
  ],
  [
    "nn.crossEntropyWithLogits",
    "crossEntropyWithLogits",
    () => nn.crossEntropyWithLogits(x2(), x2(), { reductio: "sum" } as never),
    "reductio",
    "reduction",
  ],
  [
    "nn.klDivergence",
    "klDivergence",
    () => nn.klDivergence(x2(), x2(), { logtarget: true } as never),
    "logtarget",
    "logTarget",
  ],
  // operators
  [
    "nn.batchedJacobian",
    "batchedJacobian",
    () => nn.batchedJacobian(ng.sin, x2(), { mdoe: "forward" } as never),
    "mdoe",
    "mode",
  ],
  [
    "hutchinsonTrace",
    "hutchinsonTrace",
    () =>
      ng.hutchinsonTrace(ng.sin, x2(), ng.ones([1, 2, 3], { dtype: "float64" }), {
        mdoe: "vjp",
      } as never),
    "mdoe",
    "mode",
  ],
  // optimisers, transforms of the gradient, schedules
  ["optim.sgd", "optim.sgd", () => optim.sgd({ lrr: 0.1 } as never), "lrr", "lr"],
  [
    "optim.momentum",
    "optim.momentum",
    () => optim.momentum(0.1, { bta: 0.9 } as never),
    "bta",
    "beta",
  ],
  ["optim.nesterov", "optim.nesterov", () => optim.nesterov({ bta: 0.9 } as never), "bta", "beta"],
  [
    "optim.adam (after a positional lr)",
    "optim.adam",
    () => optim.adam(1e-3, { beta3: 0.9 } as never),
    "beta3",
    "beta1",
  ],
  [
    "optim.adamw",
    "optim.adamw",
    () => optim.adamw({ weightdecay: 0.1 } as never),
    "weightdecay",
    "weightDecay",
  ],
  [
    "optim.rmsprop",
    "optim.rmsprop",
    () => optim.rmsprop({ centred: true } as never),
    "centred",
    "centered",
  ],
  ["optim.adagrad", "optim.adagrad", () => optim.adagrad(0.1, { ep: 1e-8 } as never), "ep", "eps"],
  [
    "optim.lion",
    "optim.lion",
    () => optim.lion({ weight_decay: 0 } as never),
    "weight_decay",
    "weightDecay",
  ],
  [
    "optim.schedules.exponential",
    "schedules.exponential",
    () => optim.schedules.exponential(1, 0.5, 10, { stairCase: true } as never),
    "stairCase",
    "staircase",
  ],
  [
    "optim.schedules.cosine",
    "schedules.cosine",
    () => optim.schedules.cosine(1, 10, { alfa: 0 } as never),
    "alfa",
    "alpha",
  ],
  [
    "optim.schedules.linearWarmup",
    "schedules.linearWarmup",
    () => optim.schedules.linearWarmup(1, 10, undefined, { int: 0 } as never),
    "int",
    "init",
  ],
  // random
  [
    "random.uniform",
    "random.uniform",
    () => ng.random.uniform(key(), [2], { minVal: 0 } as never),
    "minVal",
    "minval",
  ],
  [
    "random.normal",
    "random.normal",
    () => ng.random.normal(key(), [2], { sd: 1 } as never),
    "sd",
    "std",
  ],
  [
    "random.truncatedNormal",
    "random.truncatedNormal",
    () => ng.random.truncatedNormal(key(), [2], { lowr: -1 } as never),
    "lowr",
    "lower",
  ],
  [
    "nd.random.uniform",
    "uniform",
    () => ng.nd.random.uniform(ng.nd.random.key(0), [2], { maxVal: 1 } as never),
    "maxVal",
    "maxval",
  ],
  [
    "nd.random.normal",
    "normal",
    () => ng.nd.random.normal(ng.nd.random.key(0), [2], { meen: 0 } as never),
    "meen",
    "mean",
  ],
  // di backends
  [
    "di.finiteDifferences",
    "ng.di.finiteDifferences",
    () => ng.di.finiteDifferences({ stepp: 1e-3 } as never),
    "stepp",
    "step",
  ],
  [
    "di.autoSparse",
    "ng.di.autoSparse",
    () => ng.di.autoSparse(ng.di.autoReverse(), { patern: null } as never),
    "patern",
    "pattern",
  ],
  // testing
  [
    "testing.checkGrads",
    "checkGrads",
    () => ng.testing.checkGrads(ng.sin, [f64([0.5])], { ordr: 1 } as never),
    "ordr",
    "order",
  ],
  [
    "testing.allclose",
    "allclose",
    () => ng.testing.allclose([1], [1], { rtoll: 1 } as never),
    "rtoll",
    "rtol",
  ],
];

describe("every options-taking public function rejects an unknown key", () => {
  it.each(UNKNOWN_KEY_CASES)("%s", (_label, fn, call, badKey, suggestion) => {
    expectUnknownKey(call, fn, badKey, suggestion);
  });

  it("a non-object options argument is a TypeError naming the function", () => {
    expect(() => ng.grad(sq, 1 as never)).toThrow(/grad: options must be an object/);
    expect(() => ng.zeros([2], "float64" as never)).toThrow(TypeError);
    expect(() => nn.dense(4, 2, ng.tanh, [] as never)).toThrow(/dense: options/);
  });

  it("an initialiser passed as a layer option is validated when configured", () => {
    expectUnknownKey(
      () => nn.dense(4, 2, { init: nn.init.glorotUniform({ gian: 2 } as never) }),
      "init.glorotUniform",
      "gian",
      "gain",
    );
  });

  it("the key lists are checked against the interfaces by the compiler", () => {
    interface Two {
      a?: number;
      b?: number;
    }
    expect(optionKeys<Two>()(["a", "b"])).toEqual(["a", "b"]);
    // @ts-expect-error: "b" is missing from the list
    optionKeys<Two>()(["a"]);
    // @ts-expect-error: "c" is not a key of Two
    optionKeys<Two>()(["a", "b", "c"]);
  });
});

// ---------------------------------------------------------------------------------------
// Optimisers: the learning rate positionally or in the options.

type AnyRuleFactory = (a?: unknown, b?: unknown) => ng.optim.Rule & { readonly lr: unknown };

interface OptCase {
  name: string;
  make: AnyRuleFactory;
  /** Options other than lr, to pass along with the positional lr. */
  extra: Record<string, unknown>;
}

const OPTIMISERS: OptCase[] = [
  { name: "sgd", make: optim.sgd as AnyRuleFactory, extra: {} },
  { name: "momentum", make: optim.momentum as AnyRuleFactory, extra: { beta: 0.5 } },
  { name: "nesterov", make: optim.nesterov as AnyRuleFactory, extra: { beta: 0.5 } },
  { name: "adam", make: optim.adam as AnyRuleFactory, extra: { beta1: 0.8, eps: 1e-6 } },
  { name: "adamw", make: optim.adamw as AnyRuleFactory, extra: { weightDecay: 0.05 } },
  { name: "rmsprop", make: optim.rmsprop as AnyRuleFactory, extra: { rho: 0.8, centered: true } },
  { name: "adagrad", make: optim.adagrad as AnyRuleFactory, extra: { eps: 1e-6 } },
  { name: "lion", make: optim.lion as AnyRuleFactory, extra: { beta2: 0.9 } },
];

/** Three updates of a fixed params tree with fixed gradients; the resulting params as numbers. */
function run(rule: ng.optim.Rule): number[][] {
  let ps = {
    w: f64([
      [0.5, -1.5],
      [2, 0.25],
    ]),
    b: f64([0.1, -0.2]),
  };
  let os = optim.setup(rule, ps);
  const grads = [
    {
      w: f64([
        [0.3, -0.1],
        [0.2, 0.4],
      ]),
      b: f64([1, -2]),
    },
    {
      w: f64([
        [-0.2, 0.5],
        [0.1, -0.3],
      ]),
      b: f64([0.5, 0.5]),
    },
    {
      w: f64([
        [0.1, 0.1],
        [-0.4, 0.2],
      ]),
      b: f64([-1, 0.25]),
    },
  ];
  for (const g of grads) [os, ps] = optim.update(os, ps, g);
  return [flat(ps.w), flat(ps.b)];
}

describe("optimisers take the learning rate positionally", () => {
  describe.each(OPTIMISERS)("$name", ({ name, make, extra }) => {
    it("rule(lr) and rule({ lr }) are the same rule, bitwise", () => {
      const a = make(0.03);
      expect(a.lr).toBe(0.03);
      expect(run(a)).toEqual(run(make({ lr: 0.03 })));
      // and not the default learning rate
      expect(run(a)).not.toEqual(run(make()));
    });

    it("rule(lr, options) equals rule({ lr, ...options }), bitwise", () => {
      expect(run(make(0.03, extra))).toEqual(run(make({ lr: 0.03, ...extra })));
    });

    it("a schedule or a scalar tensor works in the lr position", () => {
      const sched = (t: number) => 0.05 / (1 + t);
      expect(run(make(sched, extra))).toEqual(run(make({ lr: sched, ...extra })));
      expectClose(run(make(f64(0.03), extra)).flat(), run(make(0.03, extra)).flat(), 1e-12);
    });

    it("the learning rate given both ways is an error", () => {
      expect(() => make(0.1, { lr: 0.2 })).toThrow(
        new RegExp(`optim\\.${name}: the learning rate was given twice`),
      );
    });

    it("a positional lr is validated like options.lr", () => {
      expect(() => make(-1)).toThrow(
        new RegExp(`optim\\.${name}: lr must be a number in \\[0, ∞\\)`),
      );
      expect(() => make(NaN)).toThrow(RangeError);
      expect(() => make(f64(NaN))).toThrow(RangeError);
    });
  });

  it("adam(1e-3, { b1, b2 }) takes Optax's names for beta1 and beta2", () => {
    const r = optim.adam(1e-3, { b1: 0.8, b2: 0.99 });
    expect([r.beta1, r.beta2]).toEqual([0.8, 0.99]);
    expect(run(r)).toEqual(run(optim.adam({ lr: 1e-3, beta1: 0.8, beta2: 0.99 })));
    expect(optim.lion(1e-4, { b1: 0.5 }).beta1).toBe(0.5);
    expect(() => optim.adam({ beta1: 0.9, b1: 0.9 })).toThrow(
      /optim.adam: options.beta1 and its alias options.b1 were both given/,
    );
  });

  it("momentum(undefined, options) keeps the default learning rate", () => {
    expect(optim.momentum(undefined as never, { beta: 0.5 }).lr).toBe(0.01);
  });

  it("training with adam(1e-2) equals adam({ lr: 1e-2 }) bitwise", () => {
    const model = nn.chain(
      nn.dense(2, 4, ng.tanh, { dtype: "float64" }),
      nn.dense(4, 1, { dtype: "float64" }),
    );
    const [ps, st] = nn.setup(ng.random.key(3), model);
    const x = f64([
      [0.1, 0.2],
      [-0.3, 0.4],
      [0.5, -0.6],
    ]);
    const y = f64([[1], [0], [-1]]);
    const objective = (m: typeof model, p: unknown, s: unknown, [xb, yb]: [Tensor, Tensor]) => {
      const [yHat, s2] = m.apply(xb, p as never, s as never);
      return [nn.mse(yHat as Tensor, yb), s2, {}] as [Tensor, unknown, unknown];
    };
    const train = (rule: ng.optim.Rule) => {
      let ts = ng.train.trainState(model, ps, st, rule);
      for (let i = 0; i < 5; i++) ts = ng.train.trainStep(objective, [x, y], ts)[2] as typeof ts;
      return ng.tree.flatten<Tensor>(ts.ps)[0].map(flat);
    };
    const a = train(optim.adam(1e-2));
    expect(a).toEqual(train(optim.adam({ lr: 1e-2 })));
    expect(a).not.toEqual(ng.tree.flatten<Tensor>(ps)[0].map(flat)); // it did train
  });
});

// ---------------------------------------------------------------------------------------
// Tensor hyperparameters are validated like numbers.

describe("tensor hyperparameters", () => {
  it("optim.adam({ lr: ng.array(NaN) }) is rejected at construction", () => {
    expect(() => optim.adam({ lr: ng.array(NaN) })).toThrow(
      /optim.adam: lr \(a tensor\) must be a number in \[0, ∞\), got NaN/,
    );
  });

  it("every bound a number gets applies to a concrete tensor", () => {
    expect(() => optim.adam({ lr: f64(-1) })).toThrow(RangeError);
    expect(() => optim.adam({ beta1: f64(1) })).toThrow(
      /beta1 \(a tensor\) must be a number in \[0, 1\)/,
    );
    expect(() => optim.rmsprop({ eps: f64(Infinity) })).toThrow(RangeError);
    expect(() => optim.momentum(0.1, { beta: f64(2) })).toThrow(RangeError);
    expect(() => optim.lion({ weightDecay: f64(-0.1) })).toThrow(RangeError);
    expect(() => optim.weightDecay(f64(NaN))).toThrow(/optim.weightDecay: lambda \(a tensor\)/);
    expect(() => optim.clipByGlobalNorm(f64(0))).toThrow(
      /optim.clipByGlobalNorm: maxNorm \(a tensor\)/,
    );
  });

  it("a tensor hyperparameter must be a float scalar", () => {
    expect(() => optim.adam({ lr: ng.array(1, { dtype: "int32" }) })).toThrow(
      /optim.adam: lr: a tensor hyperparameter must be float32 or float64, got int32\[\]/,
    );
    expect(() => optim.sgd(f64([0.1, 0.2]))).toThrow(/must have shape \[\]/);
  });

  it("a valid tensor hyperparameter gives the numeric result", () => {
    expectClose(
      run(optim.adam({ lr: f64(0.01), beta1: f64(0.8) })).flat(),
      run(optim.adam({ lr: 0.01, beta1: 0.8 })).flat(),
      1e-12,
    );
  });

  it("a traced learning rate (meta-learning) is accepted and differentiable", () => {
    // One SGD step p1 = p − lr·g, loss ½‖p1‖²: d loss / d lr = −⟨p1, g⟩.
    const p = f64([1, -2, 0.5]);
    const g = f64([0.3, 0.1, -0.4]);
    const loss = (lr: Tensor) => {
      const [, ps1] = optim.update(optim.setup(optim.sgd(lr), { p }), { p }, { p: g });
      return ng.mul(ng.sum(ng.square(ps1.p)), 0.5);
    };
    const lr = 0.7;
    const p1 = flat(p).map((v, i) => v - lr * flat(g)[i]!);
    const expected = -p1.reduce((s, v, i) => s + v * flat(g)[i]!, 0);
    expectClose(ng.grad(loss)(f64(lr)), expected, 1e-12);
  });

  it("a schedule's value is checked when it is evaluated", () => {
    const ps = { w: f64([1]) };
    const rule = optim.adam({ lr: (t: number) => (t < 1 ? 0.1 : NaN) });
    let os = optim.setup(rule, ps);
    [os] = optim.update(os, ps, { w: f64([1]) });
    expect(() => optim.update(os, ps, { w: f64([1]) })).toThrow(
      /optim.adam: lr \(schedule value at step 1\) must be a number/,
    );
  });

  it("clipByValue checks tensor bounds and schedule bounds", () => {
    expect(() => optim.clipByValue(f64(2), f64(1))).toThrow(
      /optim.clipByValue: lo must not exceed hi/,
    );
    expect(() => optim.clipByValue(f64(-1))).toThrow(/optim.clipByValue: c \(a tensor\)/);
    // One tensor bound c clips to [−c, c]: the update is the clipped gradient.
    const ps = { w: f64([0, 0, 0]) };
    const [, q] = optim.update(optim.setup(optim.clipByValue(f64(1)), ps), ps, {
      w: f64([3, -3, 0.5]),
    });
    expect(flat(q.w)).toEqual([-1, 1, -0.5]);
    const crossing = optim.clipByValue(
      (t: number) => (t < 1 ? -1 : 2),
      () => 1,
    );
    let os = optim.setup(crossing, ps);
    [os] = optim.update(os, ps, { w: f64([1, 1, 1]) });
    expect(() => optim.update(os, ps, { w: f64([1, 1, 1]) })).toThrow(
      /optim.clipByValue: lo must not exceed hi, got lo = 2, hi = 1 at step 1/,
    );
  });

  it("numeric hyperparameters of layers, activations and losses reject NaN and tensors", () => {
    const x = f64([1, -1]);
    expect(() => nn.huber(x, x, { delta: NaN })).toThrow(/huber: delta/);
    expect(() => nn.huber(x, x, { delta: f64(1) as never })).toThrow(/huber: delta/);
    expect(() => nn.dropout(NaN)).toThrow(/dropout: rate/);
    expect(() => nn.dropout(f64(0.5) as never)).toThrow(/dropout: rate/);
    expect(() => ng.leakyRelu(x, NaN)).toThrow(/leakyRelu: negativeSlope/);
    expect(() => ng.leakyRelu(x, { negativeSlope: Infinity })).toThrow(/leakyRelu: negativeSlope/);
    expect(() => ng.elu(x, { alpha: f64(1) as never })).toThrow(/elu: alpha/);
    expect(() => nn.batchNorm(2, { momentum: NaN })).toThrow(/batchNorm: momentum/);
    expect(() => nn.layerNorm(2, { epsilon: -1 })).toThrow(/layerNorm: epsilon/);
  });
});

// ---------------------------------------------------------------------------------------
// Options objects where several optional positional arguments exist.

type FormCase = [string, () => Tensor | boolean, () => Tensor | boolean, number[] | boolean];

const values = (v: Tensor | boolean) => (typeof v === "boolean" ? v : flat(v));

// [label, options form, positional form, closed-form value of x = [[1, -2, 3], [4, 5, -6]]]
const FORM_CASES: FormCase[] = [
  ["sum", () => ng.sum(x2(), { axis: 1, keepdims: true }), () => ng.sum(x2(), 1, true), [2, 3]],
  ["mean", () => ng.mean(x2(), { axis: 0 }), () => ng.mean(x2(), 0), [2.5, 1.5, -1.5]],
  ["max", () => ng.max(x2(), { axis: [0, 1] }), () => ng.max(x2(), [0, 1]), [5]],
  ["min", () => ng.min(x2(), { axis: 1 }), () => ng.min(x2(), 1), [-2, -6]],
  [
    "prod",
    () => ng.prod(x2(), { axis: 0, keepdims: true }),
    () => ng.prod(x2(), 0, true),
    [4, -10, -18],
  ],
  [
    "logsumexp",
    () => ng.logsumexp(x2(), { axis: 0 }),
    () => ng.logsumexp(x2(), 0),
    [
      [1, 4],
      [-2, 5],
      [3, -6],
    ].map(([a, b]) => Math.log(Math.exp(a!) + Math.exp(b!))),
  ],
  ["sumSquares", () => ng.sumSquares(x2(), { axis: 1 }), () => ng.sumSquares(x2(), 1), [14, 77]],
  [
    "variance",
    () => ng.variance(x2(), { axis: 0, ddof: 1 }),
    () => ng.variance(x2(), 0, false, 1),
    [4.5, 24.5, 40.5],
  ],
  [
    "std",
    () => ng.std(x2(), { ddof: 1, axis: 0 }),
    () => ng.std(x2(), 0, false, 1),
    [4.5, 24.5, 40.5].map(Math.sqrt),
  ],
  [
    "norm",
    () => ng.norm(x2(), { axis: 1 }),
    () => ng.norm(x2(), 2, 1),
    [Math.sqrt(14), Math.sqrt(77)],
  ],
  ["norm (ord 1)", () => ng.norm(x2(), { ord: 1, axis: 0 }), () => ng.norm(x2(), 1, 0), [5, 7, 9]],
  ["argmax", () => ng.argmax(x2(), { axis: 1 }), () => ng.argmax(x2(), 1), [2, 1]],
  [
    "argmin",
    () => ng.argmin(x2(), { axis: 0, keepdims: true }),
    () => ng.argmin(x2(), 0, true),
    [0, 0, 1],
  ],
  [
    "softmax",
    () => ng.softmax(f64([0, Math.log(3)]), { axis: 0 }),
    () => ng.softmax(f64([0, Math.log(3)]), 0),
    [0.25, 0.75],
  ],
  [
    "logSoftmax",
    () => ng.logSoftmax(f64([0, Math.log(3)]), { axis: -1 }),
    () => ng.logSoftmax(f64([0, Math.log(3)]), -1),
    [Math.log(0.25), Math.log(0.75)],
  ],
  [
    "clip",
    () => ng.clip(x2(), { lo: -1, hi: 4 }),
    () => ng.clip(x2(), -1, 4),
    [1, -1, 3, 4, 4, -1],
  ],
  [
    "clip (hi only)",
    () => ng.clip(x2(), { hi: 0 }),
    () => ng.clip(x2(), null, 0),
    [0, -2, 0, 0, 0, -6],
  ],
  [
    "leakyRelu",
    () => ng.leakyRelu(x2(), { negativeSlope: 0.5 }),
    () => ng.leakyRelu(x2(), 0.5),
    [1, -1, 3, 4, 5, -3],
  ],
  [
    "elu",
    () => ng.elu(f64([-1, 2]), { alpha: 2 }),
    () => ng.elu(f64([-1, 2]), 2),
    [2 * Math.expm1(-1), 2],
  ],
  [
    "gelu (tanh form)",
    () => ng.gelu(f64([1]), { approximate: true }),
    () => ng.gelu(f64([1]), true),
    [0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (1 + 0.044715)))],
  ],
  [
    "concatenate",
    () => ng.concatenate([f64([[1], [2]]), f64([[3], [4]])], { axis: 1 }),
    () => ng.concatenate([f64([[1], [2]]), f64([[3], [4]])], 1),
    [1, 3, 2, 4],
  ],
  [
    "stack",
    () => ng.stack([f64([1, 2]), f64([3, 4])], { axis: 1 }),
    () => ng.stack([f64([1, 2]), f64([3, 4])], 1),
    [1, 3, 2, 4],
  ],
  [
    "allclose",
    () => ng.testing.allclose([1], [1.05], { atol: 0.1 }),
    () => ng.testing.allclose([1], [1.05], 1e-5, 0.1),
    true,
  ],
  [
    "random.truncatedNormal",
    () => ng.random.truncatedNormal(key(), [4], { lower: -0.5, upper: 0.5, dtype: "float64" }),
    () => ng.random.truncatedNormal(key(), [4], -0.5, 0.5, { dtype: "float64" }),
    false,
  ],
];

describe("options objects equal the positional forms", () => {
  it.each(FORM_CASES)("%s", (_label, withOptions, positional, closedForm) => {
    const a = withOptions();
    const b = positional();
    expect(values(a)).toEqual(values(b));
    if (Array.isArray(closedForm)) expectClose(values(a) as number[], closedForm, 1e-12);
    else if (typeof a === "boolean") expect(a).toBe(closedForm);
  });

  it("truncatedNormal with options keeps to its bounds", () => {
    const s = flat(ng.random.truncatedNormal(key(), [200], { lower: -0.5, upper: 0.5 }));
    expect(s.every((v) => v >= -0.5 && v <= 0.5)).toBe(true);
  });

  it("shape-changing options: keepdims in the options object", () => {
    expect(ng.sum(x2(), { axis: 1, keepdims: true }).shape).toEqual([2, 1]);
    expect(ng.argmin(x2(), { axis: 0, keepdims: true }).shape).toEqual([1, 3]);
    expect(ng.norm(x2(), { keepdims: true }).shape).toEqual([1, 1]);
  });

  it("Tensor methods take the options form too", () => {
    const x = x2();
    expect(flat(x.sum({ axis: 0 }))).toEqual([5, 3, -3]);
    expect(flat(x.norm({ ord: 1, axis: 1 }))).toEqual([6, 15]);
    expect(flat(x.max({ axis: 1, keepdims: true }))).toEqual([3, 5]);
    expect(flat(x.clip({ lo: 0 }))).toEqual([1, 0, 3, 4, 5, 0]);
    expect(flat(x.argmax({ axis: 0 }))).toEqual([1, 1, 0]);
  });

  it("the options form differentiates like the positional form", () => {
    const f = (x: Tensor) => ng.sum(ng.norm(x, { axis: 1 }));
    const g = (x: Tensor) => ng.sum(ng.norm(x, 2, 1));
    expect(flat(ng.grad(f)(x2()))).toEqual(flat(ng.grad(g)(x2())));
  });

  it("an options object must come alone", () => {
    expect(() => (ng.sum as (...a: unknown[]) => Tensor)(x2(), { axis: 0 }, true)).toThrow(
      /sum: an options object replaces the positional arguments \(axis, keepdims\)/,
    );
    expect(() => (ng.sum as (...a: unknown[]) => Tensor)(x2(), 1, { keepdims: true })).toThrow(
      /sum: keepdims: got an options object as positional argument 3/,
    );
    expect(() => (ng.mean as (...a: unknown[]) => Tensor)(x2(), 0, true, 1)).toThrow(
      /mean: expected at most 2 argument\(s\) after the input/,
    );
    expect(() => ng.random.truncatedNormal(key(), [2], { lower: -1 } as never, 1 as never)).toThrow(
      /random.truncatedNormal: with an options object/,
    );
  });
});
