/**
 * Pooling layers of `ng.nn`: maxPool and meanPool over the spatial
 * axes of channels-last inputs x [B, ...spatial, C] (the pooling primitives of ops/,
 * differentiable to any order), and globalMeanPool / globalMaxPool, which reduce all
 * spatial axes: [B, ...spatial, C] → [B, C]. No parameters, no state.
 */
import type { Tensor } from "../core/tensor.js";
import { describeValue } from "../primitives/convert.js";
import {
  max,
  maxPool as maxPoolOp,
  mean,
  meanPool as meanPoolOp,
  type Padding,
} from "../ops/index.js";
import { checkInputTensor, checkOptions, checkRank, checkSize, type Layer } from "./layer.js";
import { optionKeys } from "../util/options.js";

type Empty = Record<string, never>;

/** Options of the pooling layers. */
export interface PoolLayerOptions {
  /** Step between windows (default: the window). */
  stride?: number | readonly number[];
  /** "valid" (default), "same", a number or per-dim [lo, hi] pairs. */
  padding?: Padding;
}

/** The keys of PoolLayerOptions (checked against the interface by the compiler). */
export const POOL_LAYER_OPTION_KEYS = optionKeys<PoolLayerOptions>()(["stride", "padding"]);

class Pool implements Layer<Empty, Empty> {
  constructor(
    readonly kind: "maxPool" | "meanPool",
    readonly window: number | readonly number[],
    readonly options: PoolLayerOptions,
  ) {}
  describe(): string {
    return `${this.kind} ${JSON.stringify(this.window)}`;
  }
  init(): [Empty, Empty] {
    return [{}, {}];
  }
  apply(x: unknown, _ps: Empty, st: Empty): [Tensor, Empty] {
    const t = checkInputTensor(this, x);
    const n = typeof this.window === "number" ? 1 : this.window.length;
    checkRank(
      this,
      t,
      typeof this.window === "number" ? 3 : n + 2,
      "[batch, ...spatial, channels]",
      typeof this.window === "number",
    );
    const op = this.kind === "maxPool" ? maxPoolOp : meanPoolOp;
    return [op(t, { window: this.window, ...this.options }), st];
  }
}

function makePool(
  kind: "maxPool" | "meanPool",
  window: number | readonly number[],
  options: unknown,
): Pool {
  if (typeof window === "number") checkSize(window, `${kind}: window`);
  else if (Array.isArray(window)) window.forEach((d, i) => checkSize(d, `${kind}: window[${i}]`));
  else {
    throw new TypeError(
      `${kind}: window: expected a positive integer or one per spatial dim, got ${describeValue(window)}`,
    );
  }
  const o = checkOptions<PoolLayerOptions>(options, kind, POOL_LAYER_OPTION_KEYS);
  return new Pool(kind, typeof window === "number" ? window : window.slice(), {
    stride: o.stride,
    padding: o.padding,
  });
}

/**
 * Max pooling over the spatial axes of x [B, ...spatial, C] with `window` (a number for
 * every spatial dim, or one per dim); stride defaults to the window.
 * @example ng.nn.maxPool([2, 2]) // [B, 8, 8, C] → [B, 4, 4, C]
 */
export function maxPool(
  window: number | readonly number[],
  options?: PoolLayerOptions,
): Layer<Empty, Empty> {
  return makePool("maxPool", window, options);
}

/**
 * Mean pooling over the spatial axes of x [B, ...spatial, C]; with padding, each window
 * averages only the elements inside the input.
 * @example ng.nn.meanPool(2) // [B, 8, 8, C] → [B, 4, 4, C]
 */
export function meanPool(
  window: number | readonly number[],
  options?: PoolLayerOptions,
): Layer<Empty, Empty> {
  return makePool("meanPool", window, options);
}

class GlobalPool implements Layer<Empty, Empty> {
  constructor(readonly kind: "globalMeanPool" | "globalMaxPool") {}
  describe(): string {
    return this.kind;
  }
  init(): [Empty, Empty] {
    return [{}, {}];
  }
  apply(x: unknown, _ps: Empty, st: Empty): [Tensor, Empty] {
    const t = checkInputTensor(this, x);
    checkRank(this, t, 3, "[batch, ...spatial, channels]", true);
    const axes = t.shape.slice(1, -1).map((_, i) => i + 1);
    return [this.kind === "globalMeanPool" ? mean(t, axes) : max(t, axes), st];
  }
}

/**
 * The mean over all spatial axes: [B, ...spatial, C] → [B, C].
 * @example ng.nn.chain(ng.nn.conv2d(1, 8, 3), ng.nn.globalMeanPool(), ng.nn.dense(8, 10));
 */
export function globalMeanPool(): Layer<Empty, Empty> {
  return new GlobalPool("globalMeanPool");
}

/**
 * The maximum over all spatial axes: [B, ...spatial, C] → [B, C].
 * @example ng.nn.globalMaxPool()
 */
export function globalMaxPool(): Layer<Empty, Empty> {
  return new GlobalPool("globalMaxPool");
}
