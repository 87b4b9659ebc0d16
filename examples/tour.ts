// A short tour of nestgrad: tensors, ops, forward and reverse mode nested to any order,
// Jacobians, Hessian-vector products, custom rules and the IR. Run: npm run demo
import * as ng from "../src/index.js";

const f64 = { dtype: "float64" } as const;
const show = (label: string, t: unknown) => console.log(`${label}\n${String(t)}\n`);

// Tensors: immutable n-d arrays with NumPy broadcasting.
const a = ng.array([
  [1, 2, 3],
  [4, 5, 6],
]);
show("a =", a);
show("a + [10, 20, 30] =", a.add(ng.array([10, 20, 30])));
show("a @ aᵀ =", ng.matmul(a, a.T));
show("softmax(a, axis=-1) =", ng.softmax(a));
const key = ng.random.key(42);
show("normal(key(42), [2, 3]) =", ng.random.normal(key, [2, 3]));

// Reverse mode: grad of a scalar function.
const x = ng.array([0.5, -1.0, 2.0], f64);
const loss = (x: ng.Tensor) => ng.sum(ng.tanh(x).mul(x));
show("grad(Σ tanh(x)·x) =", ng.grad(loss)(x));

// Any order, any mix of modes: d³/dx³ sin at 1 equals -cos(1).
const d3 = ng.grad(ng.grad(ng.grad((t: ng.Tensor) => ng.sin(t))))(ng.array(1, f64));
console.log(
  `d³/dx³ sin(1) = ${d3.item().toFixed(12)}   (-cos 1 = ${(-Math.cos(1)).toFixed(12)})\n`,
);

// No perturbation confusion: d/dx [x · d/dy (x + y)] = 1.
const pc = ng.grad((u: ng.Tensor) => u.mul(ng.grad((y: ng.Tensor) => u.add(y))(ng.array(3, f64))))(
  ng.array(2, f64),
);
console.log(`d/dx [x · d/dy (x + y)] = ${pc.item()}\n`);

// Hessian-vector product (forward-over-reverse) and the full Hessian.
const cubic = (x: ng.Tensor) => ng.sum(x.pow(3));
show("hvp(Σx³, x, 1) = 6x =", ng.hvp(cubic, x, ng.onesLike(x)));
show("hessian(Σx³) = diag(6x) =", ng.hessian(cubic)(x));

// Jacobians by forward and reverse mode agree.
const g = (x: ng.Tensor) => ng.sin(x).mul(x.sum());
show("jacfwd(g) =", ng.jacfwd(g)(x));
show("jacrev(g) =", ng.jacrev(g)(x));

// A custom VJP (clip the gradient) that can still be differentiated in forward mode.
const clipGrad = ng.customVjp(
  (x: ng.Tensor) => x.mul(x),
  (x: ng.Tensor) => [x.mul(x), x],
  (res: ng.Tensor, ct: ng.Tensor) => [ng.clip(ct.mul(res).mul(2), -1, 1)],
);
show(
  "grad of Σ customVjp(x²) with clipped gradient =",
  ng.grad((x: ng.Tensor) => ng.sum(clipGrad(x)))(x),
);

// The IR that reverse mode and jit work with.
console.log("makeIR(Σ tanh(x)·x):");
console.log(ng.makeIR(loss)(x).toString());

// Nested switching: a PINN-style loss whose inner gradient captures the MLP parameters.
const model = ng.nn.chain(
  ng.nn.dense(1, 16, ng.tanh, { dtype: "float64" }),
  ng.nn.dense(16, 1, undefined, { dtype: "float64" }),
);
const [ps, st] = ng.nn.setup(ng.random.key(0), model);
const t = ng.linspace(-1, 1, 8, { dtype: "float64" }).reshape([8, 1]);
const pinn = (p: typeof ps) => {
  const u = (z: ng.Tensor) => model.apply(z, p, st)[0];
  const dudt = ng.grad((z: ng.Tensor) => ng.sum(u(z)))(t); // inner derivative
  return ng.sum(ng.square(dudt.sub(ng.cos(t))));
};
ng.nested.resetStats();
const gPinn = ng.grad(pinn)(ps);
const auto = ng.tree.flatten<ng.Tensor>(gPinn)[0];
const off = ng.tree.flatten<ng.Tensor>(
  ng.config.withConfig({ nestedSwitching: false }, () => ng.grad(pinn)(ps)),
)[0];
const maxDiff = Math.max(...auto.map((g, i) => ng.max(ng.abs(g.sub(off[i]!))).item()));
console.log(
  `\nnested switching on a PINN loss: ${JSON.stringify(ng.nested.stats().decisions)}; max |auto − off| = ${maxDiff.toExponential(1)}`,
);

// Training: a few Adam steps of a sine regression.
const xs = ng.linspace(-3, 3, 64).reshape([64, 1]);
const ys = ng.sin(xs);
const net = ng.nn.chain(ng.nn.dense(1, 32, ng.tanh), ng.nn.dense(32, 1));
const [p0, s0] = ng.nn.setup(ng.random.key(1), net);
let ts = ng.train.trainState(net, p0, s0, ng.optim.adam({ lr: 0.01 }));
const objective = (
  m: typeof net,
  p: typeof p0,
  s: typeof s0,
  [x, y]: [ng.Tensor, ng.Tensor],
): [ng.Tensor, typeof s0, Record<string, never>] => {
  const [pred, s2] = m.apply(x, p, s);
  return [ng.nn.mse(pred, y), s2, {}];
};
for (let step = 0; step <= 300; step++) {
  const [loss, , next] = ng.train.trainStep(objective, [xs, ys], ts);
  ts = next;
  if (step % 100 === 0)
    console.log(`sine regression step ${step}: mse ${loss.item().toExponential(2)}`);
}
