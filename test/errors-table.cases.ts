// The table of bad inputs: one row per kind of mistake a user makes with
// the public API. Each row says which error class must be thrown and what the message
// must contain: the op, the argument, and expected vs actual where that means something.
// test/errors-table.test.ts runs the rows.
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";

export type ErrorClass = new (...args: any[]) => Error;

export interface BadInput {
  /** What the user did wrong. */
  what: string;
  run: () => unknown;
  error: ErrorClass;
  /** Substrings (or patterns) the message must contain: op, argument, expected/actual. */
  says: (string | RegExp)[];
}

const f32 = (v: unknown) => ng.array(v as number[]);
const f64 = (v: unknown) => ng.array(v as number[], { dtype: "float64" });
const i32 = (v: unknown) => ng.array(v as number[], { dtype: "int32" });
const x3 = f64([0.1, 0.2, 0.3]);
const x2 = f64([1, 2]);
const m23 = f64([
  [1, 2, 3],
  [4, 5, 6],
]);
const sumSq = (x: Tensor) => ng.sum(ng.mul(x, x));
const noReturn = ((x: Tensor) => {
  ng.sum(x);
}) as unknown as (x: Tensor) => Tensor;
const key = ng.random.key(0);

function cyclic(): unknown {
  const t: Record<string, unknown> = { a: x3 };
  t.self = t;
  return t;
}

function deepArray(depth: number): unknown {
  let v: unknown = [1];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** A small dense model with its params and state. */
function denseModel() {
  const model = ng.nn.dense(3, 2, { dtype: "float64" });
  const [ps, st] = ng.nn.setup(key, model);
  return { model, ps, st, ts: ng.train.trainState(model, ps, st, ng.optim.sgd(0.1)) };
}

export const creation: BadInput[] = [
  {
    what: "zeros with a shape too large to allocate",
    run: () => ng.zeros([1e10]),
    error: RangeError,
    says: ["zeros", "[10000000000]", "10000000000 elements", "37.3 GiB", "limit of 2147483647"],
  },
  {
    what: "ones with a product of dimensions too large",
    run: () => ng.ones([100000, 100000], { dtype: "float64" }),
    error: RangeError,
    says: ["ones", "[100000, 100000]", "float64", "limit"],
  },
  {
    what: "full too large",
    run: () => ng.full([70000, 70000], 1),
    error: RangeError,
    says: ["full", "[70000, 70000]", "4900000000 elements"],
  },
  {
    what: "eye too large",
    run: () => ng.eye(100000),
    error: RangeError,
    says: ["eye", "[100000, 100000]", "limit"],
  },
  {
    what: "arange too long",
    run: () => ng.arange(0, 1e10),
    error: RangeError,
    says: ["arange", "[10000000000]", "limit"],
  },
  {
    what: "linspace too long",
    run: () => ng.linspace(0, 1, 3e9),
    error: RangeError,
    says: ["linspace", "[3000000000]", "limit"],
  },
  {
    what: "a negative dimension",
    run: () => ng.zeros([2, -1]),
    error: RangeError,
    says: ["zeros", "shape", "-1", "non-negative integer"],
  },
  {
    what: "a fractional dimension",
    run: () => ng.ones([2.5]),
    error: RangeError,
    says: ["ones", "shape", "2.5"],
  },
  {
    what: "a bigint dimension",
    run: () => ng.zeros([2n] as never),
    error: RangeError,
    says: ["zeros: shape[0]", "non-negative integer dimension", "[2n]"],
  },
  {
    what: "a shape list that contains itself",
    run: () => {
      const s: unknown[] = [2];
      s.push(s);
      return ng.zeros(s as never);
    },
    error: RangeError,
    says: ["zeros: shape[1]", "<cycle>"],
  },
  {
    what: "an unknown dtype",
    run: () => ng.zeros([2], { dtype: "float16" as never }),
    error: TypeError,
    says: ["zeros", "dtype", '"float16"', "float32, float64, int32, bool"],
  },
  {
    what: "array of a ragged nested list",
    run: () => ng.array([[1, 2], [3]]),
    error: RangeError,
    says: ["array: values[1]", "ragged", "expected length 2", "got 1"],
  },
  {
    what: "array of a string element",
    run: () => ng.array([1, "2"] as never),
    error: TypeError,
    says: ["array: values[1]", "expected a number or boolean", "string"],
  },
  {
    what: "array with int32 dtype of a fraction",
    run: () => ng.array([1, 2.5], { dtype: "int32" }),
    error: RangeError,
    says: ["array: values", "expected integers", "element 1 is 2.5"],
  },
  {
    what: "array of a cyclic nested list",
    run: () => {
      const a: unknown[] = [];
      a.push(a);
      return ng.array(a);
    },
    error: RangeError,
    says: ["array: values", "cyclic"],
  },
  {
    what: "array of a list nested deeper than the maximum rank",
    run: () => ng.array(deepArray(10000)),
    error: RangeError,
    says: ["array: values", "maximum tensor rank 64"],
  },
  {
    what: "full with a non-number value",
    run: () => ng.full([2], "1" as never),
    error: TypeError,
    says: ["full", "value", "expected a number"],
  },
  {
    what: "arange with step 0",
    run: () => ng.arange(0, 5, 0),
    error: RangeError,
    says: ["arange", "step", "must not be 0"],
  },
  {
    what: "linspace with int32 dtype",
    run: () => ng.linspace(0, 1, 5, { dtype: "int32" }),
    error: TypeError,
    says: ["linspace", "dtype", "float32 or float64", "int32"],
  },
];

export const elementwise: BadInput[] = [
  {
    what: "add of shapes that do not broadcast",
    run: () => ng.add(x3, x2),
    error: RangeError,
    says: ["add", "[3]", "[2]", "cannot be broadcast"],
  },
  {
    what: "mul of a string",
    run: () => ng.mul(x3, "2" as never),
    error: TypeError,
    says: ["mul: y", "expected a Tensor or a number", "string"],
  },
  {
    what: "sub of a plain JS array",
    run: () => ng.sub([1, 2] as never, x2),
    error: TypeError,
    says: ["sub: x", "an array", "ng.array"],
  },
  {
    what: "exp of undefined",
    run: () => ng.exp(undefined as never),
    error: TypeError,
    says: ["exp", "x", "undefined"],
  },
  {
    what: "broadcasting to an output too large to allocate",
    run: () => ng.add(ng.zeros([100000, 1]), ng.zeros([1, 100000])),
    error: RangeError,
    says: ["add", "[100000, 100000]", "10000000000 elements", "limit"],
  },
  {
    what: "where with a condition that does not broadcast",
    run: () => ng.where(ng.array([true, false, true]), x2, x2),
    error: RangeError,
    says: ["where", "[3]", "[2]"],
  },
  {
    what: "clip with lo above hi",
    run: () => ng.clip(x3, 1, 0),
    error: RangeError,
    says: ["clip", "lo", "hi"],
  },
  {
    what: "clip with a NaN bound",
    run: () => ng.clip(x3, NaN, 1),
    error: RangeError,
    says: ["clip", "lo", "NaN"],
  },
];

export const reductions: BadInput[] = [
  {
    what: "sum over an axis out of range",
    run: () => ng.sum(m23, 2),
    error: RangeError,
    says: ["sum", "axis", "2", "rank 2"],
  },
  {
    what: "mean over a fractional axis",
    run: () => ng.mean(m23, 0.5),
    error: TypeError,
    says: ["mean", "axis", "0.5"],
  },
  {
    what: "max over a repeated axis",
    run: () => ng.max(m23, [0, 0]),
    error: RangeError,
    says: ["max", "axis", "0"],
  },
  {
    what: "argmax over an axis out of range",
    run: () => ng.argmax(m23, -3),
    error: RangeError,
    says: ["argmax", "axis", "-3"],
  },
];

export const movement: BadInput[] = [
  {
    what: "reshape to a different number of elements",
    run: () => ng.reshape(m23, [4]),
    error: RangeError,
    says: ["reshape", "[2, 3]", "[4]"],
  },
  {
    what: "reshape with two -1 dimensions",
    run: () => ng.reshape(m23, [-1, -1]),
    error: RangeError,
    says: ["reshape", "-1"],
  },
  {
    what: "transpose with a permutation of the wrong length",
    run: () => ng.transpose(m23, [0]),
    error: RangeError,
    says: ["transpose: perm", "permutation of 2 axes", "[2, 3]", "got [0]"],
  },
  {
    what: "transpose with a repeated axis",
    run: () => ng.transpose(m23, [0, 0]),
    error: RangeError,
    says: ["transpose: perm", "permutation of the 2 axes", "[0,0]"],
  },
  {
    what: "concat of differently shaped tensors",
    run: () => ng.concat([m23, x2], 0),
    error: RangeError,
    says: ["concat", "[2, 3]", "[2]"],
  },
  {
    what: "concat of an empty list",
    run: () => ng.concat([], 0),
    error: RangeError,
    says: ["concat", "at least one"],
  },
  {
    what: "stack of differently shaped tensors",
    run: () => ng.stack([x3, x2]),
    error: RangeError,
    says: ["stack", "[3]", "[2]"],
  },
  {
    what: "take with fractional indices",
    run: () => ng.take(x3, [0.5]),
    error: RangeError,
    says: ["take: indices", "expected integers", "element 0 is 0.5"],
  },
  {
    what: "take with float tensor indices",
    run: () => ng.take(x3, f32([0, 1])),
    error: TypeError,
    says: ["take: indices", "int32", "float32"],
  },
  {
    what: "take with an index out of range",
    run: () => ng.take(x3, [5]),
    error: RangeError,
    says: ["take", "5", "3"],
  },
  {
    what: "slice with too many entries",
    run: () => ng.slice(x3, [0, 0]),
    error: RangeError,
    says: ["slice", "2", "rank 1"],
  },
  {
    what: "broadcastTo a shape that does not fit",
    run: () => ng.broadcastTo(x3, [2, 2]),
    error: RangeError,
    says: ["broadcastTo", "[3]", "[2, 2]"],
  },
  {
    what: "swapAxes with an axis out of range",
    run: () => ng.swapAxes(m23, 0, 5),
    error: RangeError,
    says: ["swapAxes", "axis 5", "rank 2"],
  },
  {
    what: "moveAxis to an axis out of range",
    run: () => ng.moveAxis(m23, 0, 5),
    error: RangeError,
    says: ["moveAxis: destination", "axis 5", "rank 2"],
  },
  {
    what: "pad with a negative width",
    run: () => ng.pad(x3, -1 as never),
    error: RangeError,
    says: ["pad: widths", "non-negative integer", "-1"],
  },
  {
    what: "pad to a result too large to allocate",
    run: () => ng.pad(x3, 3e9),
    error: RangeError,
    says: ["pad", "[6000000003]", "limit"],
  },
  {
    what: "concat of broadcast views into a result too large to allocate",
    run: () => {
      const big = ng.broadcastTo(ng.zeros([1]), [2e9]);
      return ng.concat([big, big], 0);
    },
    error: RangeError,
    says: ["concatenate", "[4000000000]", "limit"],
  },
  {
    what: "slice with step 0",
    run: () => ng.slice(x3, [{ start: 0, stop: 2, step: 0 }]),
    error: RangeError,
    says: ["slice: specs[0].step", "must not be 0"],
  },
  {
    what: "flip along an axis out of range",
    run: () => ng.flip(x3, 1),
    error: RangeError,
    says: ["flip", "axis", "1"],
  },
];

export const linalg: BadInput[] = [
  {
    what: "matmul with inner dimensions that differ",
    run: () => ng.matmul(m23, m23),
    error: RangeError,
    says: ["matmul", "[2, 3]", "3", "2"],
  },
  {
    what: "matmul of a scalar",
    run: () => ng.matmul(ng.array(1), m23),
    error: RangeError,
    says: ["matmul", "scalar"],
  },
  {
    what: "matmul whose output is too large to allocate",
    run: () => ng.matmul(ng.zeros([100000, 1]), ng.zeros([1, 100000])),
    error: RangeError,
    says: ["matmul", "[100000, 100000]", "limit"],
  },
  {
    what: "dot of vectors of different lengths",
    run: () => ng.dot(x3, x2),
    error: RangeError,
    says: ["dot", "3", "2"],
  },
  {
    what: "conv with a kernel whose input channels differ",
    run: () => ng.conv(ng.zeros([1, 5, 5, 3]), ng.zeros([3, 3, 2, 4])),
    error: RangeError,
    says: ["conv: x has 3 input channels", "w expects 2", "[3, 3, 2, 4]"],
  },
  {
    what: "conv of an input of the wrong rank",
    run: () => ng.conv(ng.zeros([5, 5]), ng.zeros([3, 3, 3, 4])),
    error: RangeError,
    says: ["conv: x must have rank 4", "got shape [5, 5]"],
  },
  {
    what: "convTranspose with a kernel whose channels differ",
    run: () => ng.convTranspose(ng.zeros([1, 5, 5, 3]), ng.zeros([3, 3, 2, 4])),
    error: RangeError,
    says: ["convTranspose: x has 3 input channels", "w expects 4"],
  },
  {
    what: "maxPool with a window larger than the input",
    run: () => ng.maxPool(ng.zeros([1, 2, 2, 1]), { window: 3 }),
    error: RangeError,
    says: ["maxPool: window 3", "larger than the padded input (size 2)", "[1, 2, 2, 1]"],
  },
  {
    what: "meanPool with a window larger than the input",
    run: () => ng.meanPool(ng.zeros([1, 2, 2, 1]), { window: [3, 3] }),
    error: RangeError,
    says: ["meanPool: window 3", "size 2"],
  },
  {
    what: "trace of a vector",
    run: () => ng.trace(x3),
    error: RangeError,
    says: ["trace: x", "2-D", "[3]"],
  },
  {
    what: "norm with an unknown order",
    run: () => ng.norm(m23, "fro" as never),
    error: RangeError,
    says: ["norm: ord", '"inf"', "fro"],
  },
];

export const dtypes: BadInput[] = [
  {
    what: "cast to an unknown dtype",
    run: () => ng.cast(x3, "int64" as never),
    error: TypeError,
    says: ["cast: dtype", '"int64"', "float32, float64, int32, bool"],
  },
  {
    what: "an int32 tensor to a negative integer power",
    run: () => ng.pow(i32([2]), -1),
    error: RangeError,
    says: ["pow", "negative integer powers", "-1"],
  },
  {
    what: "item of a tensor with several elements",
    run: () => ng.zeros([2]).item(),
    error: RangeError,
    says: ["item", "exactly one element", "[2]"],
  },
];

export const transforms: BadInput[] = [
  {
    what: "grad of a non-function",
    run: () => ng.grad(5 as never),
    error: TypeError,
    says: ["grad: f must be a function", "number 5"],
  },
  {
    what: "grad of a function with a missing return",
    run: () => ng.grad(noReturn)(x3),
    error: TypeError,
    says: ["grad: f returned undefined", "return statement"],
  },
  {
    what: "grad of a non-scalar output",
    run: () => ng.grad((x: Tensor) => ng.sin(x))(x3),
    error: TypeError,
    says: ["grad", "shape []", "float64[3]", "ng.vjp or ng.jacrev"],
  },
  {
    what: "grad with argnums out of range",
    run: () => ng.grad(sumSq, { argnums: 1 })(x3),
    error: RangeError,
    says: ["grad: argnums 1 is out of range", "1 argument"],
  },
  {
    what: "grad with duplicated argnums",
    run: () => ng.grad((a: Tensor, b: Tensor) => ng.sum(ng.mul(a, b)), { argnums: [0, 0] })(x3, x3),
    error: RangeError,
    says: ["grad: argnums [0,0]", "duplicates"],
  },
  {
    what: "grad with argnums of a bigint",
    run: () => ng.grad(sumSq, { argnums: 0n as never })(x3),
    error: TypeError,
    says: ["grad: argnums must be an integer or a list of integers", "got 0n"],
  },
  {
    what: "grad with respect to an int32 argument",
    run: () => ng.grad((x: Tensor) => ng.sum(x))(i32([1, 2])),
    error: TypeError,
    says: ["grad: argument [0]", "dtype int32", "float32/float64"],
  },
  {
    what: "grad with hasAux of a function returning one tensor",
    run: () => ng.grad((x: Tensor) => ng.mul(x, x), { hasAux: true })(x3),
    error: TypeError,
    says: ["grad: with hasAux", "[value, aux]", "got a Tensor of shape [3]"],
  },
  {
    what: "valueAndGrad of a function with a missing return",
    run: () => ng.valueAndGrad(noReturn)(x3),
    error: TypeError,
    says: ["valueAndGrad: f returned undefined"],
  },
  {
    what: "grad of a cyclic pytree argument",
    run: () => ng.grad((p: { a: Tensor }) => ng.sum(p.a))(cyclic() as never),
    error: RangeError,
    says: ["grad: argument [0].self", "cyclic"],
  },
  {
    what: "grad of a pytree argument nested 10000 levels deep",
    run: () => ng.grad((_t: unknown) => ng.sum(x3))(deepArray(10000)),
    error: RangeError,
    says: ["grad: argument", "more than 1000 levels"],
  },
  {
    what: "grad of a string argument",
    run: () => ng.grad(sumSq)("x" as never),
    error: TypeError,
    says: ["grad: argument [0]", "expected a Tensor or a number", "string"],
  },
  {
    what: "vjp of a non-function",
    run: () => ng.vjp(null as any, x3),
    error: TypeError,
    says: ["vjp: f must be a function", "null"],
  },
  {
    what: "vjp of a function with a missing return",
    run: () => ng.vjp(noReturn, x3),
    error: TypeError,
    says: ["vjp: f returned undefined"],
  },
  {
    what: "vjp pullback of a cotangent of the wrong shape",
    run: () => ng.vjp((x: Tensor) => ng.sin(x), x3)[1](x2),
    error: RangeError,
    says: ["vjp: cotangent", "shape [2]", "[3]"],
  },
  {
    what: "jvp of a non-function",
    run: () => ng.jvp({} as any, [x3], [x3]),
    error: TypeError,
    says: ["jvp: f must be a function", "an object"],
  },
  {
    what: "jvp with primals not given as a list",
    run: () => ng.jvp(sumSq, x3 as never, [x3]),
    error: TypeError,
    says: ["jvp: primals", "array of arguments"],
  },
  {
    what: "jvp with tangents of the wrong shape",
    run: () => ng.jvp(sumSq, [x3], [x2]),
    error: RangeError,
    says: ["jvp: tangents[0]", "shape [2]", "primals shape [3]"],
  },
  {
    what: "jvp with tangents of another structure",
    run: () => ng.jvp(sumSq as any, [x3], [x3, x3]),
    error: TypeError,
    says: ["jvp: tangents", "structure of primals", "length 1 vs 2"],
  },
  {
    what: "jvp through an int32 primal",
    run: () => ng.jvp((x: Tensor) => ng.mul(x, x), [i32([1, 2])], [i32([1, 1])]),
    error: TypeError,
    says: ["jvp: primals[0]", "dtype int32", "float32/float64"],
  },
  {
    what: "jvp of a function with a missing return",
    run: () => ng.jvp(noReturn, [x3], [x3]),
    error: TypeError,
    says: ["jvp: f returned undefined"],
  },
  {
    what: "jacfwd of a non-function",
    run: () => ng.jacfwd("f" as never),
    error: TypeError,
    says: ["jacfwd: f must be a function", '"f"'],
  },
  {
    what: "jacfwd of a function with a missing return",
    run: () => ng.jacfwd(noReturn)(x3),
    error: TypeError,
    says: ["jacfwd: f returned undefined"],
  },
  {
    what: "jacrev with argnums out of range",
    run: () => ng.jacrev(sumSq, { argnums: 3 })(x3),
    error: RangeError,
    says: ["jacrev: argnums 3 is out of range"],
  },
  {
    what: "jacrev of a function with a missing return",
    run: () => ng.jacrev(noReturn)(x3),
    error: TypeError,
    says: ["jacrev: f returned undefined"],
  },
  {
    what: "hessian of a non-function",
    run: () => ng.hessian(undefined as never),
    error: TypeError,
    says: ["hessian: f must be a function", "undefined"],
  },
  {
    what: "hessian of a function with a missing return",
    run: () => ng.hessian(noReturn)(x3),
    error: TypeError,
    says: ["hessian: f returned undefined"],
  },
  {
    what: "hvp with v of another shape than x",
    run: () => ng.hvp(sumSq, x3, x2),
    error: RangeError,
    says: ["hvp: v", "shape [2]", "x shape [3]"],
  },
  {
    what: "hvp in JAX's list form for a function of one tensor",
    run: () => ng.hvp(sumSq as any, [x3], [x3]),
    error: TypeError,
    says: ["hvp: x is an array", "one argument", "hvp((xs) => f(...xs)"],
  },
  {
    what: "hvp of a function with a missing return",
    run: () => ng.hvp(noReturn, x3, x3),
    error: TypeError,
    says: ["hvp: f returned undefined"],
  },
  {
    what: "hvp at an int32 point",
    run: () => ng.hvp(sumSq, i32([1, 2]), i32([1, 2])),
    error: TypeError,
    says: ["hvp: x", "dtype int32"],
  },
  {
    what: "vmap of a non-function",
    run: () => ng.vmap(42 as never),
    error: TypeError,
    says: ["vmap: f must be a function", "number 42"],
  },
  {
    what: "vmap of a function with a missing return",
    run: () => ng.vmap(noReturn)(m23),
    error: TypeError,
    says: ["vmap: f returned undefined"],
  },
  {
    what: "vmap with an inAxes out of range",
    run: () => ng.vmap(sumSq, 2)(m23),
    error: RangeError,
    says: ["vmap: inAxes", "axis 2", "rank 2"],
  },
  {
    what: "vmap with batch sizes that differ",
    run: () => ng.vmap((a: Tensor, b: Tensor) => ng.add(a, b))(m23, x3),
    error: RangeError,
    says: ["vmap: batch sizes differ", "2", "3"],
  },
  {
    what: "vmap with every inAxes null",
    run: () => ng.vmap(sumSq, [null])(m23),
    error: TypeError,
    says: ["vmap", "no argument is batched"],
  },
  {
    what: "customJvp with a rule that is not a function",
    run: () => ng.customJvp(sumSq, 3 as never),
    error: TypeError,
    says: ["customJvp: rule must be a function", "number 3"],
  },
  {
    what: "customVjp with a bwd that is not a function",
    run: () => ng.customVjp(sumSq, (x: Tensor) => [sumSq(x), x], null as never),
    error: TypeError,
    says: ["customVjp: bwd must be a function", "null"],
  },
  {
    what: "customJvp with a rule whose tangent has the wrong shape",
    run: () => {
      const f = ng.customJvp(
        (x: Tensor) => ng.sin(x),
        ([x]: Tensor[]) => [ng.sin(x!), x2],
      );
      return ng.jvp(f, [x3], [x3]);
    },
    error: RangeError,
    says: ["customJvp: rule tangent output", "shape [2]", "[3]"],
  },
  {
    what: "customJvp with a rule returning a bare tensor",
    run: () => {
      const f = ng.customJvp(
        (x: Tensor) => ng.sin(x),
        ([x]: Tensor[]) => ng.sin(x!) as never,
      );
      return ng.jvp(f, [x3], [x3]);
    },
    error: TypeError,
    says: ["customJvp: rule must return [out, tangentOut]", "a Tensor of shape [3]"],
  },
  {
    what: "customVjp with a bwd returning one cotangent too many",
    run: () => {
      const f = ng.customVjp(
        (x: Tensor) => ng.sum(x),
        (x: Tensor) => [ng.sum(x), x],
        (_r: unknown, g: Tensor) => [g, g],
      );
      return ng.grad(f)(x3);
    },
    error: TypeError,
    says: ["customVjp: bwd", "one cotangent per argument (1)", "got 2"],
  },
  {
    what: "customVjp with a fwd returning a bare tensor",
    run: () => {
      const f = ng.customVjp(
        (x: Tensor) => ng.sum(x),
        (x: Tensor) => ng.sum(x) as never,
        (_r: unknown, g: Tensor) => [g],
      );
      return ng.grad(f)(x3);
    },
    error: TypeError,
    says: ["customVjp: fwd must return [output, residuals]", "a Tensor of shape []"],
  },
  {
    what: "makeIR of a function with a missing return",
    run: () => ng.makeIR(noReturn)(x3),
    error: TypeError,
    says: ["makeIR: f returned undefined"],
  },
  {
    what: "makeIR of a non-function",
    run: () => ng.makeIR(1 as never),
    error: TypeError,
    says: ["makeIR: f must be a function"],
  },
];

export const operators: BadInput[] = [
  {
    what: "laplacian of a non-function",
    run: () => ng.laplacian(0 as never),
    error: TypeError,
    says: ["laplacian", "f must be a function"],
  },
  {
    what: "hutchinsonTrace of a non-function",
    run: () => (ng.hutchinsonTrace as any)(5, {}),
    error: TypeError,
    says: ["hutchinsonTrace", "f must be a function"],
  },
  {
    what: "divergence of a non-function",
    run: () => ng.divergence("div" as never),
    error: TypeError,
    says: ["divergence", "f must be a function"],
  },
  {
    what: "batchedJacobian of an input that is not [B, d]",
    run: () => ng.nn.batchedJacobian((x: Tensor) => x, x3),
    error: TypeError,
    says: ["batchedJacobian: x", "[B, d]", "float64[3]"],
  },
];

export const nn: BadInput[] = [
  {
    what: "dense with a fractional size",
    run: () => ng.nn.dense(2.5, 3),
    error: RangeError,
    says: ["dense: inFeatures", "2.5"],
  },
  {
    what: "dense with a negative size",
    run: () => ng.nn.dense(2, -3),
    error: RangeError,
    says: ["dense: outFeatures", "-3"],
  },
  {
    what: "dense with an activation that is not a function",
    run: () => ng.nn.dense(2, 3, "relu" as never),
    error: TypeError,
    says: ["dense: activation", "expected a function", "relu"],
  },
  {
    what: "dense applied to an input of the wrong width",
    run: () => {
      const { model, ps, st } = denseModel();
      return model.apply(m23.reshape([3, 2]), ps, st);
    },
    error: RangeError,
    says: ["dense", "3", "2"],
  },
  {
    what: "dense applied with params of another structure",
    run: () => {
      const { model, st } = denseModel();
      return model.apply(m23, { w: x3 } as never, st);
    },
    error: TypeError,
    says: ["dense", "weight"],
  },
  {
    what: "dense applied with a weight of the wrong shape",
    run: () => {
      const { model, ps, st } = denseModel();
      return model.apply(m23, { ...ps, weight: m23 }, st);
    },
    error: TypeError,
    says: ["dense", "weight", "[2, 3]", "[3, 2]"],
  },
  {
    what: "conv2d layer with a zero kernel size",
    run: () => ng.nn.conv2d(3, 4, 0),
    error: RangeError,
    says: ["conv2d", "kernel"],
  },
  {
    what: "chain of something that is not a layer",
    run: () => ng.nn.chain(ng.nn.dense(2, 2), 5 as never),
    error: TypeError,
    says: ["chain", "layer", "number 5"],
  },
  {
    what: "wrappedFunction of a non-function",
    run: () => ng.nn.wrappedFunction("sin" as never),
    error: TypeError,
    says: ["wrappedFunction: fn", "expected a function", "sin"],
  },
  {
    what: "setup with a key that is not a key",
    run: () => ng.nn.setup(x3, ng.nn.dense(2, 2)),
    error: TypeError,
    says: ["key"],
  },
  {
    what: "dropout with a rate of 1.5",
    run: () => ng.nn.dropout(1.5),
    error: RangeError,
    says: ["dropout", "1.5"],
  },
  {
    what: "embedding with a fractional vocabulary size",
    run: () => ng.nn.embedding(2.5, 4),
    error: RangeError,
    says: ["embedding", "2.5"],
  },
];

export const losses: BadInput[] = [
  {
    what: "mse of predictions and targets of different shapes",
    run: () => ng.nn.mse(x3, x2),
    error: RangeError,
    says: ["mse", "[3]", "[2]"],
  },
  {
    what: "mse with an unknown reduction",
    run: () => ng.nn.mse(x3, x3, { reduction: "avg" as never }),
    error: RangeError,
    says: ["mse: reduction", '"mean", "sum" or "none"', "avg"],
  },
  {
    what: "crossEntropyWithLogits with float class indices",
    run: () => ng.nn.crossEntropyWithLogits(ng.zeros([2, 3]), f32([0, 1])),
    error: RangeError,
    says: ["crossEntropyWithLogits", "labels", "[2, 3]", "[2]", "int32"],
  },
  {
    what: "crossEntropyWithLogits with an int32 class index out of range",
    run: () => ng.nn.crossEntropyWithLogits(ng.zeros([2, 3]), i32([0, 3])),
    error: RangeError,
    says: ["crossEntropyWithLogits: labels", "class index 3", "[0, 3)"],
  },
  {
    what: "crossEntropyWithLogits with int32 labels of the wrong shape",
    run: () => ng.nn.crossEntropyWithLogits(ng.zeros([2, 3]), i32([0, 1, 2])),
    error: RangeError,
    says: ["crossEntropyWithLogits", "int32 labels", "[2]", "[3]"],
  },
  {
    what: "binaryCrossEntropyWithLogits of shapes that differ",
    run: () => ng.nn.binaryCrossEntropyWithLogits(x3, x2),
    error: RangeError,
    says: ["binaryCrossEntropyWithLogits", "[3]", "[2]"],
  },
];

export const optim: BadInput[] = [
  {
    what: "adam with a negative learning rate",
    run: () => ng.optim.adam({ lr: -1 }),
    error: RangeError,
    says: ["adam", "lr", "-1"],
  },
  {
    what: "adam with beta1 of 1",
    run: () => ng.optim.adam({ beta1: 1 }),
    error: RangeError,
    says: ["optim.adam: beta1", "[0, 1)", "got 1"],
  },
  {
    what: "sgd with a NaN learning rate",
    run: () => ng.optim.sgd(NaN),
    error: RangeError,
    says: ["optim.sgd: lr", "[0, ∞)", "NaN"],
  },
  {
    what: "optim.setup of something that is not a rule",
    run: () => ng.optim.setup({} as never, { w: x3 }),
    error: TypeError,
    says: ["optim.setup: rule"],
  },
  {
    what: "optim.setup of int32 parameters",
    run: () => ng.optim.setup(ng.optim.sgd(0.1), { w: i32([1]) }),
    error: TypeError,
    says: ["optim.setup", "ps.w", "float tensor", "int32"],
  },
  {
    what: "optim.update with grads of another structure",
    run: () => {
      const os = ng.optim.setup(ng.optim.sgd(0.1), { w: x3 });
      return ng.optim.update(os, { w: x3 }, { v: x3 });
    },
    error: TypeError,
    says: ["optim.update", "grads"],
  },
  {
    what: "optim.setup of a cyclic params tree",
    run: () => ng.optim.setup(ng.optim.sgd(0.1), cyclic()),
    error: RangeError,
    says: ["optim.setup: ps.self", "cyclic"],
  },
];

export const train: BadInput[] = [
  {
    what: "trainStep with an objective that is not a function",
    run: () => ng.train.trainStep(7 as never, [m23], denseModel().ts),
    error: TypeError,
    says: ["trainStep", "objective must be a function", "number 7"],
  },
  {
    what: "trainStep with an objective returning a bare loss",
    run: () => ng.train.trainStep(() => ng.sum(x3) as never, [m23], denseModel().ts),
    error: TypeError,
    says: ["objective must return [loss, st, stats]"],
  },
  {
    what: "trainState of something that is not a model",
    run: () => ng.train.trainState(3 as never, {}, {}, ng.optim.sgd(0.1)),
    error: TypeError,
    says: ["train.trainState: model", "apply(x, ps, st)", "number 3"],
  },
  {
    what: "loadJSON of text that is not JSON",
    run: () => ng.train.loadJSON("{not json"),
    error: ng.train.SerializationError,
    says: ["loadJSON"],
  },
  {
    what: "loadBinary of bytes without the file header",
    run: () => ng.train.loadBinary(new Uint8Array([1, 2, 3, 4])),
    error: ng.train.SerializationError,
    says: ["loadBinary"],
  },
  {
    what: "saveJSON of a cyclic tree",
    run: () => ng.train.saveJSON(cyclic()),
    error: ng.train.SerializationError,
    says: ["saveJSON", "cycl"],
  },
];

export const random: BadInput[] = [
  {
    what: "normal with a key that is not a key",
    run: () => ng.random.normal(x3, [2]),
    error: TypeError,
    says: ["key"],
  },
  {
    what: "normal with a negative dimension",
    run: () => ng.random.normal(key, [-2]),
    error: RangeError,
    says: ["normal: shape", "-2"],
  },
  {
    what: "normal with a shape too large to allocate",
    run: () => ng.random.normal(key, [1e10]),
    error: RangeError,
    says: ["normal", "[10000000000]", "limit"],
  },
  {
    what: "split into more keys than can be allocated",
    run: () => ng.random.split(key, 1e10),
    error: RangeError,
    says: ["split", "[10000000000, 2]", "limit"],
  },
  {
    what: "uniform with minval above maxval",
    run: () => ng.random.uniform(key, [2], { minval: 1, maxval: 0 }),
    error: RangeError,
    says: ["uniform", "minval < maxval", "minval=1", "maxval=0"],
  },
  {
    what: "bernoulli with a probability above 1",
    run: () => ng.random.bernoulli(key, 2, [3]),
    error: RangeError,
    says: ["bernoulli: p", "[0, 1]", "2"],
  },
  {
    what: "key of a fractional seed",
    run: () => ng.random.key(0.5),
    error: TypeError,
    says: ["random.key: seed", "safe integer", "0.5"],
  },
  {
    what: "split into a fractional number of keys",
    run: () => ng.random.split(key, 1.5),
    error: RangeError,
    says: ["split", "1.5"],
  },
];

export const di: BadInput[] = [
  {
    what: "di.gradient of a non-function",
    run: () => ng.di.gradient(3 as never, ng.di.autoReverse(), x3),
    error: TypeError,
    says: ["ng.di.gradient: f must be a function"],
  },
  {
    what: "di.gradient with a backend that is not a backend",
    run: () => ng.di.gradient(sumSq, "reverse" as never, x3),
    error: TypeError,
    says: ["ng.di.gradient", "backend"],
  },
  {
    what: "di.pushforward with a tangent of the wrong shape",
    run: () => ng.di.pushforward(sumSq, ng.di.autoForward(), x3, [x2]),
    error: RangeError,
    says: ["ng.di.pushforward: tangents[0]", "shape [2]", "x shape [3]"],
  },
  {
    what: "di.gradient at a cyclic pytree",
    run: () => ng.di.gradient((p: any) => ng.sum(p.a), ng.di.autoReverse(), cyclic()),
    error: RangeError,
    says: ["ng.di.gradient: x.self", "cyclic"],
  },
  {
    what: "di.gradient at an int32 point",
    run: () => ng.di.gradient(sumSq, ng.di.autoReverse(), i32([1, 2])),
    error: TypeError,
    says: ["ng.di.gradient", "x", "int32"],
  },
];

export const testing: BadInput[] = [
  {
    what: "checkGrads of a non-function",
    run: () => ng.testing.checkGrads(5 as never, [x3]),
    error: TypeError,
    says: ["checkGrads: f must be a function", "number 5"],
  },
  {
    what: "checkGrads with args not given as a list",
    run: () => ng.testing.checkGrads(sumSq, x3 as never),
    error: TypeError,
    says: ["checkGrads: args", "array of arguments"],
  },
  {
    what: "checkGrads with a negative order",
    run: () => ng.testing.checkGrads(sumSq, [x3], { order: -1 }),
    error: RangeError,
    says: ["checkGrads: options.order", "integer ≥ 0", "-1"],
  },
  {
    what: "checkGrads with an unknown mode",
    run: () => ng.testing.checkGrads(sumSq, [x3], { modes: ["forward" as never] }),
    error: TypeError,
    says: ["checkGrads: options.modes", '"fwd"', "forward"],
  },
  {
    what: "checkGrads of a function with a missing return",
    run: () => ng.testing.checkGrads(noReturn, [x3]),
    error: TypeError,
    says: ["checkGrads: f returned undefined"],
  },
];

export const tree: BadInput[] = [
  {
    what: "tree.flatten of a cyclic object",
    run: () => ng.tree.flatten(cyclic()),
    error: RangeError,
    says: ["tree.flatten", ".self", "cyclic"],
  },
  {
    what: "tree.flatten of a cyclic array",
    run: () => {
      const a: unknown[] = [x3];
      a.push({ back: a });
      return ng.tree.flatten(a);
    },
    error: RangeError,
    says: ["tree.flatten", "[1].back", "cyclic"],
  },
  {
    what: "tree.flatten of a tree nested 10000 levels deep",
    run: () => ng.tree.flatten(deepArray(10000)),
    error: RangeError,
    says: ["tree.flatten", "more than 1000 levels"],
  },
  {
    what: "vmap of a cyclic pytree argument",
    run: () => ng.vmap((p: { a: Tensor }) => p.a)(cyclic() as { a: Tensor }),
    error: RangeError,
    says: ["vmap: argument [0].self", "cyclic"],
  },
  {
    what: "tree.unflatten with too few leaves",
    run: () => ng.tree.unflatten(ng.tree.flatten({ a: 1, b: 2 })[1], [1]),
    error: RangeError,
    says: ["tree.unflatten", "too few leaves"],
  },
];

export const options: BadInput[] = [
  {
    what: "grad with a misspelt option",
    run: () => ng.grad(sumSq, { argnum: 0 } as never),
    error: TypeError,
    says: ['grad: unknown option "argnum"', 'did you mean "argnums"'],
  },
  {
    what: "zeros with a misspelt option",
    run: () => ng.zeros([2], { dtpye: "float64" } as never),
    error: TypeError,
    says: ['zeros: unknown option "dtpye"', 'did you mean "dtype"'],
  },
  {
    what: "conv with a misspelt option",
    run: () => ng.conv(ng.zeros([1, 5, 5, 3]), ng.zeros([3, 3, 3, 4]), { strides: 1 } as never),
    error: TypeError,
    says: ['conv: unknown option "strides"', 'did you mean "stride"'],
  },
  {
    what: "checkGrads with a misspelt option",
    run: () => ng.testing.checkGrads(sumSq, [x3], { orders: 2 } as never),
    error: TypeError,
    says: ['checkGrads: unknown option "orders"', 'did you mean "order"'],
  },
  {
    what: "config.set of an unknown strategy",
    run: () => ng.config.set({ nestedStrategy: "fast" as never }),
    error: TypeError,
    says: ["config.set: nestedStrategy", "forwardOverReverse", '"fast"'],
  },
  {
    what: "config.set of a non-boolean switch",
    run: () => ng.config.set({ nestedSwitching: "yes" as never }),
    error: TypeError,
    says: ["config.set: nestedSwitching", "boolean", '"yes"'],
  },
  {
    what: "config.set of a misspelt option",
    run: () => ng.config.set({ nestedSwitchin: true } as never),
    error: TypeError,
    says: ["config.set", '"nestedSwitchin"', 'did you mean "nestedSwitching"'],
  },
];

/** Every row, grouped by area. */
export const groups: Record<string, BadInput[]> = {
  creation,
  elementwise,
  reductions,
  movement,
  linalg,
  dtypes,
  transforms,
  operators,
  nn,
  losses,
  optim,
  train,
  random,
  di,
  testing,
  tree,
  options,
};
