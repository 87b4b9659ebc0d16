/**
 * The AD workloads in TensorFlow.js (reverse mode only): nested `tf.grad`/`tf.grads` for
 * the PINN residual, the gradient penalty and the HVP (grad of ⟨grad, v⟩), and one input
 * gradient per output component for the Jacobian rows (tfjs has no forward mode). Runs on
 * whichever backend is active (cpu or wasm); float32.
 */
import * as tf from "@tensorflow/tfjs-core";
import { concat, type Data, type Problem, type Run } from "./common.js";

function tensor(d: Data): tf.Tensor {
  return tf.tensor(Float32Array.from(d.data), d.shape, "float32");
}

function mlp(ps: tf.Tensor[], x: tf.Tensor): tf.Tensor {
  let h = x;
  for (let i = 0; i < ps.length; i += 2) {
    h = tf.add(tf.matMul(h as tf.Tensor2D, ps[i] as tf.Tensor2D), ps[i + 1]!);
    if (i + 2 < ps.length) h = tf.tanh(h);
  }
  return h;
}

function lossFn(p: Problem): (ps: tf.Tensor[]) => tf.Scalar {
  const x = tensor(p.x);
  const y = p.y && tensor(p.y);
  switch (p.workload) {
    case "W0":
    case "W4":
      return (ps) => tf.mean(tf.square(tf.sub(mlp(ps, x), y!)));
    case "W1": {
      const cosT = tf.cos(x);
      return (ps) => {
        const r = tf.grad((t: tf.Tensor) => tf.sum(tf.square(mlp(ps, t))))(x);
        return tf.sum(tf.square(tf.sub(r, cosT)));
      };
    }
    case "W2":
      return (ps) => {
        const u = mlp(ps, x);
        // row k of each per-sample Jacobian: the input gradient of sum of output column k
        const rows = [0, 1].map((k) =>
          tf.grad((z: tf.Tensor) => tf.sum(tf.slice(mlp(ps, z), [0, k], [-1, 1])))(x),
        );
        const reg = tf.add(tf.sum(tf.square(rows[0]!)), tf.sum(tf.square(rows[1]!)));
        return tf.add(tf.sum(tf.square(tf.sub(u, y!))), tf.mul(0.01, reg));
      };
    case "W3":
      return (ps) => {
        const gx = tf.grad((z: tf.Tensor) => tf.sum(mlp(ps, z)))(x);
        const nrm = tf.sqrt(tf.sum(tf.square(gx), 1));
        return tf.add(tf.mean(mlp(ps, x)), tf.mul(10, tf.mean(tf.square(tf.sub(nrm, 1)))));
      };
  }
}

/** The parameter gradient (W4: H·v via grad of ⟨grad L, v⟩), read back and flattened. */
export function tfjsRun(p: Problem): Run {
  const ps = p.params.map(tensor);
  const loss = lossFn(p);
  let f: (...xs: tf.Tensor[]) => tf.Tensor = (...xs) => loss(xs);
  if (p.workload === "W4") {
    const v = p.v!.map(tensor);
    f = (...xs) => {
      const g = tf.grads((...q: tf.Tensor[]) => loss(q))(xs);
      let dot: tf.Scalar = tf.scalar(0);
      g.forEach((gi, i) => (dot = tf.add(dot, tf.sum(tf.mul(gi, v[i]!)))));
      return dot;
    };
  }
  const grads = tf.grads(f);
  return () => {
    const gs = tf.tidy(() => grads(ps));
    const out = concat(gs.map((g) => g.dataSync()));
    tf.dispose(gs);
    return out;
  };
}
