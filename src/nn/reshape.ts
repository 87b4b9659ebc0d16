/**
 * Shape layers of `ng.nn`: flatten and reshape, which act on each
 * sample and keep the leading batch axis. No parameters, no state.
 */
import type { Tensor } from "../core/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { describeValue } from "../primitives/convert.js";
import "../ops/index.js";
import { checkInputTensor, checkRank, inputError, type Layer } from "./layer.js";

type Empty = Record<string, never>;

class Flatten implements Layer<Empty, Empty> {
  readonly kind = "flatten";
  describe(): string {
    return "flatten";
  }
  init(): [Empty, Empty] {
    return [{}, {}];
  }
  apply(x: unknown, _ps: Empty, st: Empty): [Tensor, Empty] {
    const t = checkInputTensor(this, x);
    checkRank(this, t, 1, "[batch, ...]", true);
    return [t.reshape([t.shape[0]!, t.size / Math.max(1, t.shape[0]!)]), st];
  }
}

/**
 * Flattens every sample: [B, d1, d2, ...] → [B, d1·d2·...].
 * @example ng.nn.chain(ng.nn.conv2d(1, 4, 3), ng.nn.flatten(), ng.nn.dense(4 * 26 * 26, 10));
 */
export function flatten(): Layer<Empty, Empty> {
  return new Flatten();
}

class Reshape implements Layer<Empty, Empty> {
  readonly kind = "reshape";
  constructor(readonly shape: readonly number[]) {}
  describe(): string {
    return `reshape ${formatShape(this.shape)}`;
  }
  init(): [Empty, Empty] {
    return [{}, {}];
  }
  apply(x: unknown, _ps: Empty, st: Empty): [Tensor, Empty] {
    const t = checkInputTensor(this, x);
    checkRank(this, t, 1, "[batch, ...]", true);
    const b = t.shape[0]!;
    const per = t.size / Math.max(1, b);
    const known = this.shape.filter((d) => d !== -1).reduce((a, c) => a * c, 1);
    const free = this.shape.includes(-1);
    if (free ? known === 0 || per % known !== 0 : known !== per) {
      throw inputError(
        this,
        `cannot reshape samples of shape ${formatShape(t.shape.slice(1))} (size ${per}) to ${formatShape(this.shape)}`,
      );
    }
    return [t.reshape([b, ...this.shape.map((d) => (d === -1 ? per / known : d))]), st];
  }
}

/**
 * Reshapes every sample to `shape` (one entry may be -1): [B, ...] → [B, ...shape].
 * @example ng.nn.reshape([4, 4, 1]) // [B, 16] → [B, 4, 4, 1]
 */
export function reshape(shape: readonly number[]): Layer<Empty, Empty> {
  if (
    !Array.isArray(shape) ||
    !shape.every((d) => Number.isInteger(d) && d >= -1) ||
    shape.filter((d) => d === -1).length > 1
  ) {
    throw new TypeError(
      `reshape: shape: expected an array of non-negative integers with at most one -1, got ${describeValue(shape)}`,
    );
  }
  return new Reshape(shape.slice());
}
