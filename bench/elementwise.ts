/**
 * Elementwise and reduction throughput in GB/s = (bytes read +
 * bytes written) / median time: nestgrad kernels vs a plain Float32Array loop vs the tfjs
 * CPU backend (timed with dataSync()). All arrays are float32 and contiguous.
 */
import * as tf from "@tensorflow/tfjs-core";
import { NDArray, add, exp, sum } from "../src/tensor/index.js";
import { fmt, printTable, randomFloats, ratio, timeIt, type TimingOptions } from "./util.js";

interface Case {
  name: string;
  shape: string;
  bytes: number;
  ours: () => unknown;
  plain: () => unknown;
  peer: () => void;
  dispose: () => void;
}

function f32(n: number, seed: number): Float32Array {
  return randomFloats(n, seed, Float32Array) as Float32Array;
}

/** Runs a tfjs op and reads its result back, then frees it. */
function tfRun(make: () => tf.Tensor): () => void {
  return () => {
    const t = make();
    t.dataSync();
    t.dispose();
  };
}

function addCase(n: number): Case {
  const a = f32(n, 1);
  const b = f32(n, 2);
  const na = new NDArray(a, [n]);
  const nb = new NDArray(b, [n]);
  const ta = tf.tensor1d(a, "float32");
  const tb = tf.tensor1d(b, "float32");
  return {
    name: "add",
    shape: `[${n.toExponential(0)}] + same`,
    bytes: 12 * n,
    ours: () => add(na, nb),
    plain: () => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
      return out;
    },
    peer: tfRun(() => tf.add(ta, tb)),
    dispose: () => tf.dispose([ta, tb]),
  };
}

function broadcastCase(): Case {
  const r = 1000;
  const c = 1000;
  const a = f32(r * c, 3);
  const b = f32(c, 4);
  const na = new NDArray(a, [r, c]);
  const nb = new NDArray(b, [c]);
  const ta = tf.tensor2d(a, [r, c], "float32");
  const tb = tf.tensor1d(b, "float32");
  return {
    name: "add (broadcast)",
    shape: "[1000, 1000] + [1000]",
    bytes: 4 * (2 * r * c + c),
    ours: () => add(na, nb),
    plain: () => {
      const out = new Float32Array(r * c);
      for (let i = 0; i < r; i++) {
        const o = i * c;
        for (let j = 0; j < c; j++) out[o + j] = a[o + j]! + b[j]!;
      }
      return out;
    },
    peer: tfRun(() => tf.add(ta, tb)),
    dispose: () => tf.dispose([ta, tb]),
  };
}

function expCase(n: number): Case {
  const a = f32(n, 5);
  const na = new NDArray(a, [n]);
  const ta = tf.tensor1d(a, "float32");
  return {
    name: "exp",
    shape: `[${n.toExponential(0)}]`,
    bytes: 8 * n,
    ours: () => exp(na),
    plain: () => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.exp(a[i]!);
      return out;
    },
    peer: tfRun(() => tf.exp(ta)),
    dispose: () => ta.dispose(),
  };
}

function sumCase(n: number): Case {
  const a = f32(n, 6);
  const na = new NDArray(a, [n]);
  const ta = tf.tensor1d(a, "float32");
  return {
    name: "sum (all)",
    shape: `[${n.toExponential(0)}]`,
    bytes: 4 * n + 4,
    ours: () => sum(na),
    plain: () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += a[i]!;
      return s;
    },
    peer: tfRun(() => tf.sum(ta)),
    dispose: () => ta.dispose(),
  };
}

export async function benchElementwise(quick: boolean): Promise<void> {
  const opt: TimingOptions = { warmup: 5, repeats: quick ? 3 : 7, minRepeatMs: quick ? 30 : 100 };
  const makers = [
    () => addCase(1e6),
    () => addCase(1e7),
    () => broadcastCase(),
    () => expCase(1e6),
    () => expCase(1e7),
    () => sumCase(1e6),
    () => sumCase(1e7),
  ];
  const rows: string[][] = [];
  for (const make of makers) {
    const c = make();
    const gbs = async (fn: () => unknown) => c.bytes / (await timeIt(fn, opt)) / 1e9;
    const ours = await gbs(c.ours);
    const plain = await gbs(c.plain);
    const peer = await gbs(c.peer);
    c.dispose();
    rows.push([
      c.name,
      c.shape,
      fmt(ours),
      fmt(plain),
      fmt(peer),
      ratio(ours, plain),
      ratio(ours, peer),
    ]);
  }
  printTable(
    "elementwise and reduction, float32, GB/s ((bytes read + written) / median time; higher is better)",
    ["op", "shape", "nestgrad", "plain loop", "tfjs-cpu", "ng/plain", "ng/tfjs"],
    rows,
  );
}
