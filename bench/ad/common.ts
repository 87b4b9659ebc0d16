/**
 * Shared pieces of the AD benchmark: the workload definitions, the
 * seeded problem data (drawn once with nestgrad's counter-based generator in float64 and
 * handed to every library, converted to float32 for the peers) and the result check.
 */
import * as ng from "../../src/index.js";

export const WORKLOADS = ["W0", "W1", "W2", "W3", "W4"] as const;
export type Workload = (typeof WORKLOADS)[number];

export const DESCRIPTIONS: Record<Workload, string> = {
  W0: "grad of mean((u(x)-y)^2), MLP 16-H-H-1",
  W1: "PINN: grad of sum((d/dt sum u(t)^2 - cos t)^2), MLP 1-H-H-1",
  W2: "Jacobian reg.: grad of sum((u-y)^2) + 0.01 sum J^2, MLP 2-H-H-2",
  W3: "gradient penalty: grad of mean D + 10 mean((|grad_x D|-1)^2), MLP 16-H-H-1",
  W4: "HVP of the W0 loss wrt all parameters",
};

/** A flat float64 array with its shape. */
export interface Data {
  data: Float64Array;
  shape: number[];
}

/** One benchmark cell's inputs: MLP parameters [W1, b1, W2, b2, W3, b3], data, direction. */
export interface Problem {
  workload: Workload;
  H: number;
  N: number;
  params: Data[];
  x: Data;
  /** Targets (W0, W2, W4). */
  y?: Data;
  /** The HVP direction, shaped like params (W4). */
  v?: Data[];
}

/** What each library's implementation returns: the parameter gradient (or HVP), flattened. */
export type Run = () => Float64Array;

function layerDims(w: Workload, H: number): number[] {
  switch (w) {
    case "W1":
      return [1, H, H, 1];
    case "W2":
      return [2, H, H, 2];
    default:
      return [16, H, H, 1];
  }
}

function draw(key: ng.Tensor, shape: number[], scale: number): Data {
  const t = ng.random.normal(key, shape, { dtype: "float64", std: scale });
  return { data: Float64Array.from(t.dataSync()), shape };
}

/** The problem of workload `w` at hidden width H and batch N, from one seeded key. */
export function makeProblem(w: Workload, H: number, N: number, seed = 0): Problem {
  const dims = layerDims(w, H);
  const keys = ng.random.split(ng.random.key(seed), 16);
  let k = 0;
  const params: Data[] = [];
  for (let i = 0; i + 1 < dims.length; i++) {
    params.push(draw(keys[k++]!, [dims[i]!, dims[i + 1]!], 1 / Math.sqrt(dims[i]!)));
    params.push(draw(keys[k++]!, [dims[i + 1]!], 0.1));
  }
  const x =
    w === "W1"
      ? (() => {
          // collocation points t in [-pi, pi)
          const u = ng.random.uniform(keys[k++]!, [N, 1], {
            dtype: "float64",
            minval: -Math.PI,
            maxval: Math.PI,
          });
          return { data: Float64Array.from(u.dataSync()), shape: [N, 1] };
        })()
      : draw(keys[k++]!, [N, dims[0]!], 1);
  const p: Problem = { workload: w, H, N, params, x };
  if (w === "W0" || w === "W2" || w === "W4")
    p.y = draw(keys[k++]!, [N, dims[dims.length - 1]!], 1);
  if (w === "W4") p.v = params.map((q) => draw(keys[k++]!, q.shape, 1));
  return p;
}

/** Concatenates typed arrays into one float64 vector. */
export function concat(parts: ArrayLike<number>[]): Float64Array {
  const n = parts.reduce((s, a) => s + a.length, 0);
  const out = new Float64Array(n);
  let o = 0;
  for (const a of parts) {
    for (let i = 0; i < a.length; i++) out[o + i] = a[i]!;
    o += a.length;
  }
  return out;
}

/** ‖a − b‖ / ‖b‖ (Infinity on a length mismatch or a non-finite entry). */
export function relErr(a: Float64Array, ref: Float64Array): number {
  if (a.length !== ref.length) return Infinity;
  let d = 0;
  let r = 0;
  for (let i = 0; i < a.length; i++) {
    const e = a[i]! - ref[i]!;
    d += e * e;
    r += ref[i]! * ref[i]!;
  }
  const out = Math.sqrt(d) / Math.max(Math.sqrt(r), 1e-30);
  return Number.isFinite(out) ? out : Infinity;
}

/** The float32 tolerance on relErr against the float64 reference. */
export const TOLERANCE = 1e-3;

/** A short one-line error message for a table cell. */
export function errorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const line = msg.split("\n")[0]!.replace(/\|/g, "/");
  return line.length > 90 ? `${line.slice(0, 87)}...` : line;
}
