/**
 * The AD workloads written the natural way in nestgrad: nested `grad`
 * for the PINN residual and the gradient penalty, `jvp` along the two basis directions for
 * the per-sample input Jacobian, `hvp` for the Hessian-vector product. The same code runs
 * in float32 (timed) and float64 (the reference every library is checked against).
 */
import * as ng from "../../src/index.js";
import { concat, type Data, type Problem, type Run } from "./common.js";

type Tensor = ng.Tensor;
type FloatDType = "float32" | "float64";

function tensor(d: Data, dtype: FloatDType): Tensor {
  const data = dtype === "float32" ? Float32Array.from(d.data) : Float64Array.from(d.data);
  return ng.array(new ng.NDArray(data, d.shape));
}

/** tanh MLP: params [W1, b1, W2, b2, ...], linear last layer; x is [N, in]. */
export function mlp(ps: Tensor[], x: Tensor): Tensor {
  let h = x;
  for (let i = 0; i < ps.length; i += 2) {
    h = ng.add(ng.matmul(h, ps[i]!), ps[i + 1]!);
    if (i + 2 < ps.length) h = ng.tanh(h);
  }
  return h;
}

/** The scalar loss of a workload as a function of the parameters (W4: the W0 loss). */
export function lossFn(p: Problem, dtype: FloatDType): (ps: Tensor[]) => Tensor {
  return lossWith(p, dtype, tensor(p.x, dtype), p.y && tensor(p.y, dtype));
}

/** The loss of `lossFn` on the given data tensors (so that jit can take them as arguments). */
function lossWith(
  p: Problem,
  dtype: FloatDType,
  x: Tensor,
  y: Tensor | undefined,
): (ps: Tensor[]) => Tensor {
  switch (p.workload) {
    case "W0":
    case "W4":
      return (ps) => ng.mean(ng.square(ng.sub(mlp(ps, x), y!)));
    case "W1": {
      const cosT = ng.cos(x);
      return (ps) => {
        // r(t) = d/dt sum u(t)^2, per collocation point (rows are independent)
        const r = ng.grad((t: Tensor) => ng.sum(ng.square(mlp(ps, t))))(x);
        return ng.sum(ng.square(ng.sub(r, cosT)));
      };
    }
    case "W2": {
      const n = p.N;
      const basis = (j: number) => {
        const d = dtype === "float32" ? new Float32Array(n * 2) : new Float64Array(n * 2);
        for (let i = 0; i < n; i++) d[i * 2 + j] = 1;
        return ng.array(new ng.NDArray(d, [n, 2]));
      };
      const e1 = basis(0);
      const e2 = basis(1);
      return (ps) => {
        const u = (z: Tensor) => mlp(ps, z);
        // columns of the per-sample 2x2 Jacobian: one JVP of the batched MLP per basis direction
        const [out, j1] = ng.jvp(u, [x], [e1]);
        const [, j2] = ng.jvp(u, [x], [e2]);
        const fit = ng.sum(ng.square(ng.sub(out, y!)));
        return ng.add(fit, ng.mul(0.01, ng.add(ng.sum(ng.square(j1)), ng.sum(ng.square(j2)))));
      };
    }
    case "W3":
      return (ps) => {
        const gx = ng.grad((z: Tensor) => ng.sum(mlp(ps, z)))(x);
        const nrm = ng.sqrt(ng.sum(ng.square(gx), 1));
        return ng.add(ng.mean(mlp(ps, x)), ng.mul(10, ng.mean(ng.square(ng.sub(nrm, 1)))));
      };
  }
}

function flat(ts: Tensor[]): Float64Array {
  return concat(ts.map((t) => t.dataSync()));
}

/** The benchmarked computation: the parameter gradient (W4: H·v), flattened to float64. */
export function nestgradRun(p: Problem, dtype: FloatDType): Run {
  const ps = p.params.map((d) => tensor(d, dtype));
  const loss = lossFn(p, dtype);
  if (p.workload === "W4") {
    const v = p.v!.map((d) => tensor(d, dtype));
    return () => flat(ng.hvp(loss, ps, v) as Tensor[]);
  }
  const g = ng.grad(loss);
  return () => flat(g(ps) as Tensor[]);
}

/** What `nestgradJitRun` returns: the timed computation and the jitted function with its arguments. */
export interface JitRun {
  run: Run;
  jitted: ng.Jitted<(...args: any[]) => Tensor[]>;
  args: unknown[];
}

/**
 * The same computation as one `ng.jit` program: the parameters, the data (and the HVP
 * direction) are its arguments, so every call feeds them to the compiled program.
 */
export function nestgradJitRun(p: Problem, options: ng.JitOptions): JitRun {
  const ps = p.params.map((d) => tensor(d, "float32"));
  const x = tensor(p.x, "float32");
  const y = p.y && tensor(p.y, "float32");
  const data = y === undefined ? [x] : [x, y];
  const fn: (...args: any[]) => Tensor[] =
    p.workload === "W4"
      ? (q: Tensor[], [xa, ya]: Tensor[], v: Tensor[]) =>
          ng.hvp(lossWith(p, "float32", xa!, ya), q, v) as Tensor[]
      : (q: Tensor[], [xa, ya]: Tensor[]) =>
          ng.grad(lossWith(p, "float32", xa!, ya))(q) as Tensor[];
  const jitted = ng.jit(fn, options);
  const args: unknown[] =
    p.workload === "W4" ? [ps, data, p.v!.map((d) => tensor(d, "float32"))] : [ps, data];
  return { run: () => flat(jitted(...args)), jitted, args };
}

/**
 * Validates the float64 reference by central finite differences: for W0–W3 the
 * directional derivative ⟨∇L, d⟩ against (L(p+εd) − L(p−εd))/2ε along a random d; for W4
 * H·v against (∇L(p+εv) − ∇L(p−εv))/2ε. Returns the relative error.
 */
export function finiteDifferenceCheck(p: Problem, ref: Float64Array): number {
  const loss = lossFn(p, "float64");
  const shift = (dir: Data[], eps: number) =>
    p.params.map((q, i) => {
      const d = new Float64Array(q.data.length);
      for (let k = 0; k < d.length; k++) d[k] = q.data[k]! + eps * dir[i]!.data[k]!;
      return ng.array(new ng.NDArray(d, q.shape));
    });
  if (p.workload === "W4") {
    const eps = 1e-5;
    const g = ng.grad(loss);
    const gp = flat(g(shift(p.v!, eps)) as Tensor[]);
    const gm = flat(g(shift(p.v!, -eps)) as Tensor[]);
    let d = 0;
    let r = 0;
    for (let i = 0; i < ref.length; i++) {
      const fd = (gp[i]! - gm[i]!) / (2 * eps);
      d += (fd - ref[i]!) ** 2;
      r += ref[i]! ** 2;
    }
    return Math.sqrt(d / r);
  }
  // a deterministic direction from the same generator
  const keys = ng.random.split(ng.random.key(1234), p.params.length);
  const dir: Data[] = p.params.map((q, i) => ({
    data: Float64Array.from(ng.random.normal(keys[i]!, q.shape, { dtype: "float64" }).dataSync()),
    shape: q.shape,
  }));
  const dirFlat = concat(dir.map((d) => d.data));
  let analytic = 0;
  for (let i = 0; i < ref.length; i++) analytic += ref[i]! * dirFlat[i]!;
  const eps = 1e-6;
  const fd = (loss(shift(dir, eps)).item() - loss(shift(dir, -eps)).item()) / (2 * eps);
  return Math.abs(fd - analytic) / Math.max(Math.abs(analytic), 1e-30);
}
