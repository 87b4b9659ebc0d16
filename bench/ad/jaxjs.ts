/**
 * The AD workloads in jax-js (@jax-js/jax, wasm device), written as in JAX: nested `grad`
 * for the PINN residual and the gradient penalty, `jvp` along the basis directions for the
 * Jacobian, `jvp` of `grad` for the HVP. jax-js arrays are reference counted and every
 * function consumes its arguments, so each use of a closed-over or argument array is a
 * `.ref`. `jit: true` wraps the whole gradient computation in `jit`.
 */
import { grad, jit, jvp, numpy as np } from "@jax-js/jax";
import { concat, type Data, type Problem, type Run } from "./common.js";

type Arr = np.Array;

function tensor(d: Data): Arr {
  return np.array(Float32Array.from(d.data), { shape: d.shape });
}

function mlp(ps: Arr[], x: Arr): Arr {
  let h = x.ref;
  for (let i = 0; i < ps.length; i += 2) {
    h = np.matmul(h, ps[i]!.ref).add(ps[i + 1]!.ref);
    if (i + 2 < ps.length) h = np.tanh(h);
  }
  return h;
}

function lossFn(p: Problem): (ps: Arr[]) => Arr {
  const x = tensor(p.x);
  const y = p.y && tensor(p.y);
  switch (p.workload) {
    case "W0":
    case "W4":
      return (ps) => np.mean(np.square(mlp(ps, x).sub(y!.ref)));
    case "W1": {
      const cosT = np.cos(x.ref);
      return (ps) => {
        const r = grad((t: Arr) => np.sum(np.square(mlp(ps, t))))(x.ref);
        return np.sum(np.square(r.sub(cosT.ref)));
      };
    }
    case "W2": {
      const n = p.N;
      const basis = (j: number) => {
        const d = new Float32Array(n * 2);
        for (let i = 0; i < n; i++) d[i * 2 + j] = 1;
        return np.array(d, { shape: [n, 2] });
      };
      const e1 = basis(0);
      const e2 = basis(1);
      return (ps) => {
        const u = (z: Arr) => mlp(ps, z);
        const [out, j1] = jvp(u, [x.ref], [e1.ref]);
        const [out2, j2] = jvp(u, [x.ref], [e2.ref]);
        out2.dispose();
        const fit = np.sum(np.square(out.sub(y!.ref)));
        return fit.add(
          np
            .sum(np.square(j1))
            .add(np.sum(np.square(j2)))
            .mul(0.01),
        );
      };
    }
    case "W3":
      return (ps) => {
        const gx = grad((z: Arr) => np.sum(mlp(ps, z)))(x.ref);
        const nrm = np.sqrt(np.sum(np.square(gx), 1));
        return np.mean(mlp(ps, x)).add(np.mean(np.square(nrm.sub(1))).mul(10));
      };
  }
}

/** The parameter gradient (W4: H·v as jvp of grad), read back and flattened. */
export function jaxjsRun(p: Problem, opts: { jit: boolean }): Run {
  const ps = p.params.map(tensor);
  const loss = lossFn(p);
  let f: (q: Arr[]) => Arr[];
  if (p.workload === "W4") {
    const v = p.v!.map(tensor);
    f = (q) => {
      const [g, hv] = jvp(grad(loss), [q], [v.map((a) => a.ref)]);
      g.forEach((a) => a.dispose());
      return hv;
    };
  } else {
    f = (q) => grad(loss)(q);
  }
  const g = opts.jit ? jit(f) : f;
  return () => {
    const gs = g(ps.map((a) => a.ref));
    return concat(gs.map((a) => a.dataSync())); // dataSync consumes (disposes) the array
  };
}
