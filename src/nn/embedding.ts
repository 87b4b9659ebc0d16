/**
 * The embedding layer of `ng.nn`: int32 indices → rows of a learnt
 * table, by a gather (`ng.take`) whose transpose scatter-adds the cotangent back to the
 * rows that were used.
 */
import { ConcreteTensor, type Tensor } from "../core/tensor.js";
import type { FloatDType } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { take } from "../ops/index.js";
import { normal, type Initializer } from "./init.js";
import {
  checkFloatDType,
  checkInputTensor,
  checkKeys,
  checkOptions,
  checkSize,
  inputError,
  type Layer,
  checkInit,
  runInit,
} from "./layer.js";
import { optionKeys } from "../util/options.js";

/** Options of `embedding`. */
export interface EmbeddingOptions {
  /** Table initialiser (default N(0, 1)). */
  init?: Initializer;
  dtype?: FloatDType;
}

/** The keys of EmbeddingOptions (checked against the interface by the compiler). */
export const EMBEDDING_OPTION_KEYS = optionKeys<EmbeddingOptions>()(["init", "dtype"]);

class Embedding implements Layer<{ weight: Tensor }, Record<string, never>> {
  readonly kind = "embedding";
  constructor(
    readonly numEmbeddings: number,
    readonly features: number,
    readonly weightInit: Initializer,
    readonly dtype: FloatDType,
  ) {}
  describe(): string {
    return `embedding ${this.numEmbeddings} → ${this.features}`;
  }
  init(key: Tensor): [{ weight: Tensor }, Record<string, never>] {
    const shape = [this.numEmbeddings, this.features];
    return [{ weight: runInit(this.weightInit, key, shape, this.dtype, "embedding: weight") }, {}];
  }
  apply(
    x: unknown,
    ps: { weight: Tensor },
    st: Record<string, never>,
  ): [Tensor, Record<string, never>] {
    checkKeys(this, ps, { weight: [this.numEmbeddings, this.features] }, "params");
    const t = checkInputTensor(this, x);
    if (t.dtype !== "int32") {
      throw inputError(
        this,
        `expected int32 indices, got dtype ${t.dtype} (shape ${formatShape(t.shape)})`,
      );
    }
    if (t instanceof ConcreteTensor) {
      const data = t.dataSync();
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (v < 0 || v >= this.numEmbeddings) {
          throw inputError(
            this,
            `index ${v} (element ${i} of shape ${formatShape(t.shape)}) is out of range [0, ${this.numEmbeddings})`,
          );
        }
      }
    }
    return [take(ps.weight, t, 0), st];
  }
}

/**
 * A lookup table: int32 indices of any shape [...] → vectors [..., features]. Params
 * { weight: [numEmbeddings, features] }, no state.
 * @example const emb = ng.nn.embedding(100, 16); // tokens [B, T] → [B, T, 16]
 */
export function embedding(
  numEmbeddings: number,
  features: number,
  options?: EmbeddingOptions,
): Layer<{ weight: Tensor }, Record<string, never>> {
  const n = checkSize(numEmbeddings, "embedding: numEmbeddings");
  const f = checkSize(features, "embedding: features");
  const o = checkOptions<EmbeddingOptions>(options, "embedding", EMBEDDING_OPTION_KEYS);
  return new Embedding(
    n,
    f,
    checkInit(o.init, "embedding: init", normal),
    checkFloatDType(o.dtype, "embedding: dtype"),
  );
}
