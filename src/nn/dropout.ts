/**
 * Dropout of `ng.nn`: inverted dropout whose randomness comes from a
 * key kept in the state, so `apply` stays pure. Each call in training mode splits the key,
 * draws the mask with one half and returns the other as the new state's key; in test mode
 * (`ng.nn.testMode(st)`) the layer is the identity.
 */
import { Tensor } from "../core/tensor.js";
import { describeValue } from "../primitives/convert.js";
import { where, zerosLike } from "../ops/index.js";
import { bernoulli, split } from "../random.js";
import { checkInputTensor, checkKeys, checkOptions, treeError, type Layer } from "./layer.js";
import { optionKeys } from "../util/options.js";

/** State of dropout: the key of the next mask and the mode. */
export type DropoutState = {
  key: Tensor;
  training: boolean;
};

/** Options of `dropout`. */
export interface DropoutOptions {
  /**
   * Axes along which one mask value is shared (broadcast), e.g. [1, 2] for spatial
   * dropout of channels-last images [B, H, W, C]. Default: none (independent elements).
   */
  sharedAxes?: readonly number[];
}

/** The keys of DropoutOptions (checked against the interface by the compiler). */
export const DROPOUT_OPTION_KEYS = optionKeys<DropoutOptions>()(["sharedAxes"]);

class Dropout implements Layer<Record<string, never>, DropoutState> {
  readonly kind = "dropout";
  constructor(
    readonly rate: number,
    readonly sharedAxes: readonly number[],
  ) {}
  describe(): string {
    return `dropout ${this.rate}`;
  }
  init(key: Tensor): [Record<string, never>, DropoutState] {
    return [{}, { key: split(key)[0]!, training: true }];
  }
  apply(x: unknown, ps: Record<string, never>, st: DropoutState): [Tensor, DropoutState] {
    checkKeys(this, ps, {}, "params");
    checkKeys(this, st, { key: [2], training: null }, "state");
    if (typeof st.training !== "boolean") {
      throw treeError(
        this,
        `state.training: expected a boolean, got ${describeValue(st.training)}`,
      );
    }
    const t = checkInputTensor(this, x);
    if (!st.training || this.rate === 0) return [t, st];
    const [next, sub] = split(st.key);
    if (this.rate === 1) return [zerosLike(t), { key: next!, training: true }];
    const keep = 1 - this.rate;
    const maskShape = t.shape.map((d, i) =>
      this.sharedAxes.some((a) => (a < 0 ? a + t.ndim : a) === i) ? 1 : d,
    );
    // Inverted dropout: kept values are scaled by 1/keep so the expectation is unchanged.
    const mask = bernoulli(sub!, keep, maskShape);
    return [where(mask, t.mul(1 / keep), 0), { key: next!, training: true }];
  }
}

/**
 * Inverted dropout: in training mode each element is zeroed with probability `rate` and
 * the survivors are scaled by 1/(1 - rate); in test mode it is the identity. No params;
 * state { key, training }, with a fresh key after every call.
 * @example const model = ng.nn.chain(ng.nn.dense(4, 8, ng.relu), ng.nn.dropout(0.5));
 */
export function dropout(
  rate: number,
  options?: DropoutOptions,
): Layer<Record<string, never>, DropoutState> {
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    throw new RangeError(`dropout: rate: expected a number in [0, 1], got ${describeValue(rate)}`);
  }
  const o = checkOptions<DropoutOptions>(options, "dropout", DROPOUT_OPTION_KEYS);
  const shared = o.sharedAxes ?? [];
  if (!Array.isArray(shared) || !shared.every((a) => Number.isInteger(a))) {
    throw new TypeError(
      `dropout: sharedAxes: expected an array of integers, got ${describeValue(shared)}`,
    );
  }
  return new Dropout(rate, shared.slice());
}
