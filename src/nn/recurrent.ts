/**
 * Recurrent layers of `ng.nn`: rnnCell, lstmCell and gruCell map one
 * time step (x [B, in], carry) to (y, carry'), and `recurrence(cell)` runs a cell over a
 * batch-first sequence x [B, T, in]. Gates are stacked along the last axis of the weights
 * (LSTM: input, forget, cell, output; GRU: reset, update, new), as in PyTorch.
 */
import { Tensor } from "../core/tensor.js";
import type { FloatDType } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { describeValue } from "../primitives/convert.js";
import { sigmoid, slice, stack, tanh, zeros } from "../ops/index.js";
import { split } from "../random.js";
import { glorotUniform, orthogonal, zeros as zerosInit, type Initializer } from "./init.js";
import {
  activationAndOptions,
  checkFloatDType,
  checkInputTensor,
  checkKeys,
  checkLastDim,
  checkLayer,
  checkOptions,
  checkRank,
  checkSize,
  inputError,
  type Layer,
  checkInit,
  runInit,
} from "./layer.js";
import { optionKeys } from "../util/options.js";

/** Options of the recurrent cells. */
export interface CellOptions {
  /** Add biases (default true). */
  useBias?: boolean;
  /** Initialiser of the input weights (default glorotUniform). */
  init?: Initializer;
  /** Initialiser of the recurrent weights (default orthogonal). */
  recurrentInit?: Initializer;
  /** Initialiser of the biases (default zeros). */
  biasInit?: Initializer;
  dtype?: FloatDType;
}

/** The keys of CellOptions (checked against the interface by the compiler). */
export const CELL_OPTION_KEYS = optionKeys<CellOptions>()([
  "useBias",
  "init",
  "recurrentInit",
  "biasInit",
  "dtype",
]);

/** A cell: apply(x or [x, carry], ps, st) → [[y, carry'], st], plus its zero carry. */
export interface Cell<P = any, C = any> extends Layer<
  P,
  Record<string, never>,
  Tensor | [Tensor, C],
  [Tensor, C]
> {
  readonly inFeatures: number;
  readonly hiddenFeatures: number;
  /** The zero carry for a batch of `batch` sequences. */
  initialCarry(batch: number, dtype?: FloatDType): C;
}

type Empty = Record<string, never>;

/** Columns [k·h, (k+1)·h) of a [B, n·h] gate tensor. */
function gate(z: Tensor, k: number, h: number): Tensor {
  return slice(z, [null, { start: k * h, stop: (k + 1) * h }]);
}

abstract class CellBase<P extends Record<string, Tensor>, C> implements Cell<P, C> {
  abstract readonly kind: string;
  /** Number of gates stacked in the weights. */
  abstract readonly gates: number;
  constructor(
    readonly inFeatures: number,
    readonly hiddenFeatures: number,
    readonly useBias: boolean,
    readonly weightInit: Initializer,
    readonly recurrentInit: Initializer,
    readonly biasInit: Initializer,
    readonly dtype: FloatDType,
  ) {}
  describe(): string {
    return `${this.kind} ${this.inFeatures} → ${this.hiddenFeatures}`;
  }
  /** Parameter names and shapes. */
  protected paramShapes(): Record<string, number[]> {
    const gh = this.gates * this.hiddenFeatures;
    const s: Record<string, number[]> = {
      weightIh: [this.inFeatures, gh],
      weightHh: [this.hiddenFeatures, gh],
    };
    if (this.useBias) s.bias = [gh];
    return s;
  }
  init(key: Tensor): [P, Empty] {
    const shapes = Object.entries(this.paramShapes());
    const keys = split(key, shapes.length);
    const ps: Record<string, Tensor> = {};
    shapes.forEach(([name, shape], i) => {
      const init =
        name === "weightIh"
          ? this.weightInit
          : name === "weightHh"
            ? this.recurrentInit
            : this.biasInit;
      ps[name] = runInit(init, keys[i]!, shape, this.dtype, `${this.kind}: ${name}`);
    });
    return [ps as P, {}];
  }
  abstract initialCarry(batch: number, dtype?: FloatDType): C;
  /** One step given validated x [B, in] and carry. */
  protected abstract step(x: Tensor, carry: C, ps: P): [Tensor, C];
  /** Validates a carry for a batch of size b. */
  protected abstract checkCarry(carry: unknown, b: number): C;
  protected checkState(carry: unknown, b: number, name: string): Tensor {
    const shape = [b, this.hiddenFeatures];
    if (!(carry instanceof Tensor)) {
      throw inputError(
        this,
        `expected ${name} of shape ${formatShape(shape)}, got ${describeValue(carry)}`,
      );
    }
    if (carry.ndim !== 2 || carry.shape[0] !== b || carry.shape[1] !== shape[1]) {
      throw inputError(
        this,
        `expected ${name} of shape ${formatShape(shape)}, got shape ${formatShape(carry.shape)}`,
      );
    }
    return carry;
  }
  apply(input: unknown, ps: P, st: Empty): [[Tensor, C], Empty] {
    checkKeys(this, ps, this.paramShapes(), "params");
    const [x0, c0] = Array.isArray(input) ? input : [input, undefined];
    if (Array.isArray(input) && input.length !== 2) {
      throw inputError(this, `expected x or [x, carry], got an array of length ${input.length}`);
    }
    const x = checkInputTensor(this, x0);
    checkRank(this, x, 2, "[batch, features]");
    checkLastDim(this, x, this.inFeatures);
    const b = x.shape[0]!;
    const carry =
      c0 === undefined
        ? this.initialCarry(b, ps.weightHh!.dtype as FloatDType)
        : this.checkCarry(c0, b);
    return [this.step(x, carry, ps), st];
  }
  /** x @ Wih + h @ Whh (+ b). */
  protected preactivation(x: Tensor, h: Tensor, ps: Record<string, Tensor>): Tensor {
    const z = x.matmul(ps.weightIh!).add(h.matmul(ps.weightHh!));
    return ps.bias ? z.add(ps.bias) : z;
  }
}

type RNNParams = { weightIh: Tensor; weightHh: Tensor; bias?: Tensor };

class RNNCell extends CellBase<RNNParams, Tensor> {
  readonly kind = "rnnCell";
  readonly gates = 1;
  constructor(
    readonly activation: (x: Tensor) => Tensor,
    ...rest: ConstructorParameters<typeof CellBase>
  ) {
    super(...rest);
  }
  initialCarry(batch: number, dtype: FloatDType = this.dtype): Tensor {
    return zeros([batch, this.hiddenFeatures], { dtype });
  }
  protected checkCarry(carry: unknown, b: number): Tensor {
    return this.checkState(carry, b, "carry h");
  }
  protected step(x: Tensor, h: Tensor, ps: RNNParams): [Tensor, Tensor] {
    // h' = act(x Wih + h Whh + b)
    const hNew = this.activation(this.preactivation(x, h, ps));
    return [hNew, hNew];
  }
}

type LSTMParams = { weightIh: Tensor; weightHh: Tensor; bias?: Tensor };

class LSTMCell extends CellBase<LSTMParams, [Tensor, Tensor]> {
  readonly kind = "lstmCell";
  readonly gates = 4;
  initialCarry(batch: number, dtype: FloatDType = this.dtype): [Tensor, Tensor] {
    const z = zeros([batch, this.hiddenFeatures], { dtype });
    return [z, z];
  }
  protected checkCarry(carry: unknown, b: number): [Tensor, Tensor] {
    if (!Array.isArray(carry) || carry.length !== 2) {
      throw inputError(this, `expected the carry [h, c], got ${describeValue(carry)}`);
    }
    return [this.checkState(carry[0], b, "carry h"), this.checkState(carry[1], b, "carry c")];
  }
  protected step(x: Tensor, [h, c]: [Tensor, Tensor], ps: LSTMParams): [Tensor, [Tensor, Tensor]] {
    const n = this.hiddenFeatures;
    const z = this.preactivation(x, h, ps);
    const i = sigmoid(gate(z, 0, n));
    const f = sigmoid(gate(z, 1, n));
    const g = tanh(gate(z, 2, n));
    const o = sigmoid(gate(z, 3, n));
    // c' = f·c + i·g,  h' = o·tanh(c')
    const cNew = f.mul(c).add(i.mul(g));
    const hNew = o.mul(tanh(cNew));
    return [hNew, [hNew, cNew]];
  }
}

type GRUParams = { weightIh: Tensor; weightHh: Tensor; biasIh?: Tensor; biasHh?: Tensor };

class GRUCell extends CellBase<GRUParams, Tensor> {
  readonly kind = "gruCell";
  readonly gates = 3;
  protected override paramShapes(): Record<string, number[]> {
    const gh = 3 * this.hiddenFeatures;
    const s: Record<string, number[]> = {
      weightIh: [this.inFeatures, gh],
      weightHh: [this.hiddenFeatures, gh],
    };
    if (this.useBias) {
      s.biasIh = [gh];
      s.biasHh = [gh];
    }
    return s;
  }
  initialCarry(batch: number, dtype: FloatDType = this.dtype): Tensor {
    return zeros([batch, this.hiddenFeatures], { dtype });
  }
  protected checkCarry(carry: unknown, b: number): Tensor {
    return this.checkState(carry, b, "carry h");
  }
  protected step(x: Tensor, h: Tensor, ps: GRUParams): [Tensor, Tensor] {
    const n = this.hiddenFeatures;
    let gi = x.matmul(ps.weightIh);
    let gh = h.matmul(ps.weightHh);
    if (ps.biasIh) gi = gi.add(ps.biasIh);
    if (ps.biasHh) gh = gh.add(ps.biasHh);
    // r = σ(.), u = σ(.), m = tanh(x Win + bin + r·(h Whn + bhn)), h' = (1 - u)·m + u·h
    const r = sigmoid(gate(gi, 0, n).add(gate(gh, 0, n)));
    const u = sigmoid(gate(gi, 1, n).add(gate(gh, 1, n)));
    const m = tanh(gate(gi, 2, n).add(r.mul(gate(gh, 2, n))));
    const hNew = m.add(u.mul(h.sub(m)));
    return [hNew, hNew];
  }
}

function cellArgs(
  name: string,
  inFeatures: number,
  hiddenFeatures: number,
  o: Partial<CellOptions>,
): ConstructorParameters<typeof CellBase> {
  return [
    checkSize(inFeatures, `${name}: inFeatures`),
    checkSize(hiddenFeatures, `${name}: hiddenFeatures`),
    o.useBias ?? true,
    checkInit(o.init, `${name}: init`, glorotUniform),
    checkInit(o.recurrentInit, `${name}: recurrentInit`, orthogonal),
    checkInit(o.biasInit, `${name}: biasInit`, zerosInit),
    checkFloatDType(o.dtype, `${name}: dtype`),
  ];
}

/**
 * An Elman RNN cell: h' = activation(x @ weightIh + h @ weightHh + bias) (default tanh).
 * apply(x or [x, h]) → [[h', h'], st]; the carry defaults to zeros. Params
 * { weightIh: [in, h], weightHh: [h, h], bias: [h] }.
 * @example
 * const cell = ng.nn.rnnCell(3, 4);
 * const [ps, st] = ng.nn.setup(ng.random.key(0), cell);
 * const [[y, h]] = cell.apply([ng.ones([2, 3]), ng.zeros([2, 4])], ps, st); // y, h: [2, 4]
 */
export function rnnCell(
  inFeatures: number,
  hiddenFeatures: number,
  activation?: ((x: Tensor) => Tensor) | CellOptions,
  options?: CellOptions,
): Cell<RNNParams, Tensor> {
  const [act, o] = activationAndOptions<CellOptions>(
    activation,
    options,
    "rnnCell",
    CELL_OPTION_KEYS,
  );
  return new RNNCell(act ?? tanh, ...cellArgs("rnnCell", inFeatures, hiddenFeatures, o));
}

/**
 * A long short-term memory cell; the carry is [h, c]. With z = x Wih + h Whh + b split
 * into gates i, f, g, o: c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'). apply returns
 * [[h', [h', c']], st]. Params { weightIh: [in, 4h], weightHh: [h, 4h], bias: [4h] }.
 * @example const model = ng.nn.recurrence(ng.nn.lstmCell(3, 8));
 */
export function lstmCell(
  inFeatures: number,
  hiddenFeatures: number,
  options?: CellOptions,
): Cell<LSTMParams, [Tensor, Tensor]> {
  const o = checkOptions<CellOptions>(options, "lstmCell", CELL_OPTION_KEYS);
  return new LSTMCell(...cellArgs("lstmCell", inFeatures, hiddenFeatures, o));
}

/**
 * A gated recurrent unit (PyTorch's formulation, the reset gate applied after the
 * recurrent product): r = σ(·), u = σ(·), m = tanh(x Win + bin + r·(h Whn + bhn)),
 * h' = (1 - u)·m + u·h. Params { weightIh: [in, 3h], weightHh: [h, 3h], biasIh: [3h],
 * biasHh: [3h] }.
 * @example const model = ng.nn.recurrence(ng.nn.gruCell(3, 8), { returnSequence: true });
 */
export function gruCell(
  inFeatures: number,
  hiddenFeatures: number,
  options?: CellOptions,
): Cell<GRUParams, Tensor> {
  const o = checkOptions<CellOptions>(options, "gruCell", CELL_OPTION_KEYS);
  return new GRUCell(...cellArgs("gruCell", inFeatures, hiddenFeatures, o));
}

/** Options of `recurrence`. */
export interface RecurrenceOptions {
  /** Return every step's output [B, T, h] instead of the last one [B, h] (default false). */
  returnSequence?: boolean;
}

/** The keys of RecurrenceOptions (checked against the interface by the compiler). */
export const RECURRENCE_OPTION_KEYS = optionKeys<RecurrenceOptions>()(["returnSequence"]);

class Recurrence implements Layer<any, any, Tensor, Tensor> {
  readonly kind = "recurrence";
  constructor(
    readonly cell: Cell,
    readonly returnSequence: boolean,
  ) {}
  describe(): string {
    const d = this.cell.describe ? this.cell.describe() : this.cell.kind;
    return `recurrence(${d})`;
  }
  init(key: Tensor): [any, any] {
    return this.cell.init(key);
  }
  apply(x: unknown, ps: any, st: any): [Tensor, any] {
    const t = checkInputTensor(this, x);
    checkRank(this, t, 3, "[batch, time, features]");
    const steps = t.shape[1]!;
    if (steps === 0)
      throw inputError(this, `expected at least one time step, got shape ${formatShape(t.shape)}`);
    let carry: unknown = undefined;
    let state = st;
    const ys: Tensor[] = [];
    for (let k = 0; k < steps; k++) {
      const xk = slice(t, [null, k]);
      const [[y, c], s] = this.cell.apply(carry === undefined ? xk : [xk, carry], ps, state);
      carry = c;
      state = s;
      ys.push(y as Tensor);
    }
    return [this.returnSequence ? stack(ys, 1) : ys[ys.length - 1]!, state];
  }
}

/**
 * Runs a cell over a batch-first sequence x [B, T, in], starting from the cell's zero
 * carry; returns the last output [B, h] or, with `returnSequence`, all of them
 * [B, T, h]. A wrapper: its parameters and state are the cell's.
 * @example const model = ng.nn.chain(ng.nn.recurrence(ng.nn.gruCell(2, 8)), ng.nn.dense(8, 1));
 */
export function recurrence<P>(
  cell: Cell<P>,
  options?: RecurrenceOptions,
): Layer<P, Record<string, never>> {
  checkLayer(cell, "recurrence: cell");
  if (typeof (cell as Cell).initialCarry !== "function") {
    throw new TypeError(
      `recurrence: cell: expected a recurrent cell (rnnCell, lstmCell, gruCell), got a ${cell.kind} layer`,
    );
  }
  const o = checkOptions<RecurrenceOptions>(options, "recurrence", RECURRENCE_OPTION_KEYS);
  return new Recurrence(cell, o.returnSequence ?? false);
}
