/**
 * The batching interpreter (vmap): a tracer carries a value and the axis
 * along which it is batched (or null when it is the same for every batch element).
 * Primitives are batched by their own `batch` rule, run under the parent trace; values
 * of other traces are unbatched constants, so nested vmaps and every mix with the AD
 * transforms work by identity of the trace, as for JVP.
 */
import { ShapedArray } from "./aval.js";
import { Tensor, Tracer } from "./tensor.js";
import { Trace, bindIn, withTrace, type Primitive } from "./trace.js";

/** The batch axis of a value: an axis index, or null for an unbatched value. */
export type BatchDim = number | null;

export class BatchTracer extends Tracer {
  private _aval: ShapedArray | undefined;
  constructor(
    readonly trace: BatchTrace,
    readonly val: Tensor,
    readonly bdim: BatchDim,
  ) {
    super();
  }
  /** The per-example aval: the value's aval without the batch axis. */
  get aval(): ShapedArray {
    if (this._aval === undefined) {
      const a = this.val.aval;
      this._aval =
        this.bdim === null
          ? a
          : new ShapedArray(
              a.shape.filter((_d, i) => i !== this.bdim),
              a.dtype,
            );
    }
    return this._aval;
  }
  concrete(reason: string): never {
    throw new Error(
      `${reason} inside vmap: a batched value has no single concrete value (it is ${this.val.aval} batched ` +
        `along axis ${this.bdim}); use ng.where for value-dependent choices, or call the function outside vmap`,
    );
  }
}

/** The batch rule of a primitive: batched inputs (with their batch axes) -> batched outputs. */
export type BatchRule<P = any> = (
  args: Tensor[],
  dims: BatchDim[],
  params: P,
  axisSize: number,
) => [Tensor[], BatchDim[]];

export class BatchTrace extends Trace {
  readonly kind = "batch";
  constructor(
    parent: Trace,
    readonly axisSize: number,
  ) {
    super(parent);
  }
  lift(val: Tensor, bdim: BatchDim): Tensor {
    return bdim === null ? val : new BatchTracer(this, val, bdim);
  }
  unpack(x: Tensor): [Tensor, BatchDim] {
    if (x instanceof BatchTracer && x.trace === this) return [x.val, x.bdim];
    return [x, null];
  }
  processPrimitive(prim: Primitive, inputs: Tensor[], params: unknown): Tensor[] {
    const vals: Tensor[] = [];
    const dims: BatchDim[] = [];
    for (const x of inputs) {
      const [v, d] = this.unpack(x);
      vals.push(v);
      dims.push(d);
    }
    const parent = this.parent!;
    if (dims.every((d) => d === null)) return bindIn(parent, prim, vals, params);
    const rule = prim.batch;
    if (!rule) {
      throw new Error(`vmap: primitive '${prim.name}' has no batching rule`);
    }
    const [outs, outDims] = withTrace(parent, () => rule(vals, dims, params, this.axisSize));
    return outs.map((o, i) => this.lift(o, outDims[i] ?? null));
  }
}
