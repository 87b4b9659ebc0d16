/**
 * Elementwise and reduction throughput in GB/s = (bytes read +
 * bytes written) / median time. Two tables, all arrays float32 and contiguous:
 * - nestgrad kernels vs a plain Float32Array loop vs the tfjs CPU backend (timed with
 *   dataSync());
 * - per family (exp, log, tanh, sigmoid, erf, add, mul, row-broadcast add, row sum,
 *   column sum) at 1e4, 1e5 and 1e6 elements: the WebAssembly SIMD kernels, the
 *   JavaScript kernels (WebAssembly switched off), a plain loop, next to this machine's
 *   memory bandwidth (a Float64Array copy of 64 MiB), the variants timed interleaved.
 * Run alone: npx tsx bench/elementwise.ts [--quick] (the second table only).
 */
import * as tf from "@tensorflow/tfjs-core";
import { fileURLToPath } from "node:url";
import * as nd from "../src/tensor/index.js";
import { NDArray, add, exp, sum } from "../src/tensor/index.js";
import { setWasmElementwiseEnabled } from "../src/tensor/kernels/elementwise_wasm.js";
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
  await benchElementwiseWasm(quick);
}

// ---------------------------------------------------------------------------------------
// WebAssembly vs JavaScript kernels per family

interface Family {
  name: string;
  /** Bytes read + written for n elements. */
  bytes: (n: number) => number;
  /** The nestgrad call (timed with the WebAssembly path on and off) and a plain loop. */
  make: (n: number) => { ours: () => unknown; plain: () => unknown };
}

const COLS = 100; // row length of the 2-d families: a [n/100, 100] dense-layer output

function unaryFamily(name: string, positive: boolean, f: (x: number) => number): Family {
  return {
    name,
    bytes: (n) => 8 * n,
    make: (n) => {
      const a = f32(n, 11);
      if (positive) for (let i = 0; i < n; i++) a[i] = Math.abs(a[i]!) * 4 + 1e-3;
      else for (let i = 0; i < n; i++) a[i] = a[i]! * 4;
      const x = new NDArray(a, [n]);
      return {
        ours: () => nd.unary(name as nd.UnaryOp, x),
        plain: () => {
          const out = new Float32Array(n);
          for (let i = 0; i < n; i++) out[i] = f(a[i]!);
          return out;
        },
      };
    },
  };
}

function binaryFamily(name: "add" | "mul"): Family {
  return {
    name,
    bytes: (n) => 12 * n,
    make: (n) => {
      const a = f32(n, 12);
      const b = f32(n, 13);
      const x = new NDArray(a, [n]);
      const y = new NDArray(b, [n]);
      return {
        ours: () => nd.binary(name, x, y),
        plain:
          name === "add"
            ? () => {
                const out = new Float32Array(n);
                for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
                return out;
              }
            : () => {
                const out = new Float32Array(n);
                for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
                return out;
              },
      };
    },
  };
}

const FAMILIES: Family[] = [
  unaryFamily("exp", false, Math.exp),
  unaryFamily("log", true, Math.log),
  unaryFamily("tanh", false, Math.tanh),
  unaryFamily("sigmoid", false, (x) => 1 / (1 + Math.exp(-x))),
  unaryFamily("erf", false, nd.erfScalar),
  binaryFamily("add"),
  binaryFamily("mul"),
  {
    name: "row-broadcast add",
    bytes: (n) => 8 * n + 4 * COLS,
    make: (n) => {
      const rows = n / COLS;
      const a = f32(n, 14);
      const b = f32(COLS, 15);
      const x = new NDArray(a, [rows, COLS]);
      const v = new NDArray(b, [COLS]);
      return {
        ours: () => nd.add(x, v),
        plain: () => {
          const out = new Float32Array(n);
          for (let i = 0; i < rows; i++) {
            const o = i * COLS;
            for (let j = 0; j < COLS; j++) out[o + j] = a[o + j]! + b[j]!;
          }
          return out;
        },
      };
    },
  },
  {
    name: "row sum",
    bytes: (n) => 4 * n + (4 * n) / COLS,
    make: (n) => {
      const rows = n / COLS;
      const a = f32(n, 16);
      const x = new NDArray(a, [rows, COLS]);
      return {
        ours: () => nd.sum(x, 1),
        plain: () => {
          const out = new Float32Array(rows);
          for (let i = 0; i < rows; i++) {
            let s = 0;
            for (let j = i * COLS, e = j + COLS; j < e; j++) s += a[j]!;
            out[i] = s;
          }
          return out;
        },
      };
    },
  },
  {
    name: "column sum",
    bytes: (n) => 4 * n + 4 * COLS,
    make: (n) => {
      const rows = n / COLS;
      const a = f32(n, 17);
      const x = new NDArray(a, [rows, COLS]);
      return {
        ours: () => nd.sum(x, 0),
        plain: () => {
          const acc = new Float64Array(COLS);
          for (let i = 0; i < rows; i++) {
            const o = i * COLS;
            for (let j = 0; j < COLS; j++) acc[j]! += a[o + j]!;
          }
          return Float32Array.from(acc);
        },
      };
    },
  },
];

/** Seconds per call of each function, measured in interleaved rounds (median). */
function interleaved(fns: (() => unknown)[], rounds: number, minMs: number): number[] {
  const calls = fns.map((fn) => {
    // warm-up: JIT and WebAssembly tier-up (compiled in the background) need a while
    for (let i = 0, t = performance.now(); i < 3 || performance.now() - t < 3 * minMs; i++) fn();
    const t0 = performance.now();
    fn();
    return Math.max(1, Math.ceil(minMs / Math.max(performance.now() - t0, 1e-3)));
  });
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, k) => {
      const t0 = performance.now();
      for (let c = 0; c < calls[k]!; c++) fn();
      samples[k]!.push((performance.now() - t0) / calls[k]! / 1e3);
    });
  }
  return samples.map((v) => v.sort((x, y) => x - y)[v.length >> 1]!);
}

/** Memory bandwidth: GB/s of (read + write) of a Float64Array copy of 64 MiB. */
function memoryBandwidth(rounds: number): number {
  const n = 8 * 1024 * 1024;
  const src = new Float64Array(n).fill(1.5);
  const dst = new Float64Array(n);
  const [t] = interleaved([() => dst.set(src)], rounds, 50);
  return (16 * n) / t! / 1e9;
}

/** The WebAssembly-vs-JavaScript table (float32, 1e4 / 1e5 / 1e6 elements). */
export async function benchElementwiseWasm(quick: boolean): Promise<void> {
  const rounds = quick ? 3 : 5;
  const minMs = quick ? 10 : 25;
  const bw = memoryBandwidth(rounds);
  const rows: string[][] = [];
  const wasmOn = (fn: () => unknown) => () => {
    setWasmElementwiseEnabled(true);
    return fn();
  };
  const wasmOff = (fn: () => unknown) => () => {
    setWasmElementwiseEnabled(false);
    return fn();
  };
  for (const fam of FAMILIES) {
    for (const n of [1e4, 1e5, 1e6]) {
      const { ours, plain } = fam.make(n);
      const [tw, tj, tp] = interleaved([wasmOn(ours), wasmOff(ours), plain], rounds, minMs);
      setWasmElementwiseEnabled(true);
      const gb = (t: number) => fam.bytes(n) / t / 1e9;
      rows.push([
        fam.name,
        n.toExponential(0),
        fmt(gb(tw!)),
        fmt(gb(tj!)),
        fmt(gb(tp!)),
        ratio(gb(tw!), gb(tj!)),
        `${((100 * gb(tw!)) / bw).toFixed(0)}%`,
      ]);
    }
  }
  printTable(
    `WebAssembly SIMD vs JavaScript kernels, float32, GB/s ((bytes read + written) / median ` +
      `time); memory bandwidth (Float64Array copy of 64 MiB): ${fmt(bw)} GB/s`,
    ["family", "n", "wasm", "JS kernel", "plain loop", "wasm/JS", "wasm/bw"],
    rows,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchElementwiseWasm(process.argv.includes("--quick"));
}
