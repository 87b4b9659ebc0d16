/**
 * The plain (non-switching) derivative computations that the nested call primitives
 * expand to: value-and-gradient of staged IR by reverse or forward mode,
 * and Hessian-vector products by forward-over-reverse. They use linearize/pullback and jvp
 * directly, so they never re-enter nested switching.
 */
import { evalIR, type IR } from "../core/ir.js";
import type { Tensor } from "../core/tensor.js";
import { allocate } from "../tensor/dtype.js";
import { NDArray } from "../tensor/ndarray.js";
import { fromNDArray, scalar } from "../primitives/convert.js";
import { cast } from "../primitives/cast.js";
import { reshape } from "../primitives/reshape.js";
import { stack } from "../primitives/concatenate.js";
// Internal: primals may include integer residuals carried with zero tangents.
import { jvpUnchecked as jvp } from "../transforms/jvp.js";
import { linearizeFlat, pullbackFlat } from "../transforms/vjp.js";

/** `xs` with the entries at `idx` replaced by `ys`. */
export function merge(
  xs: readonly Tensor[],
  idx: readonly number[],
  ys: readonly Tensor[],
): Tensor[] {
  const out = xs.slice();
  idx.forEach((i, k) => (out[i] = ys[k]!));
  return out;
}

/** [...outputs of ir, ...∂out0/∂xs[wrt]] by one reverse pass (linearized only in xs[wrt]). */
export function reverseValueAndGrad(
  ir: IR,
  xs: readonly Tensor[],
  wrt: readonly number[],
): Tensor[] {
  const lin = linearizeFlat(
    (ys) => evalIR(ir, merge(xs, wrt, ys)),
    wrt.map((i) => xs[i]!),
  );
  const y = lin.outs[0]!;
  const cts = lin.outs.map((_o, i) => (i === 0 ? scalar(1, y.dtype) : null));
  return [
    ...lin.outs,
    ...pullbackFlat(
      lin,
      wrt.map((i) => xs[i]!),
      cts,
    ),
  ];
}

function basis(x: Tensor, i: number): Tensor {
  const data = allocate(x.dtype, x.size);
  data[i] = 1;
  return fromNDArray(new NDArray(data, x.shape));
}

/** The same as reverseValueAndGrad by forward mode: one JVP per differentiated element. */
export function forwardValueAndGrad(
  ir: IR,
  xs: readonly Tensor[],
  wrt: readonly number[],
): Tensor[] {
  const ws = wrt.map((i) => xs[i]!);
  let outs: Tensor[] | undefined;
  const grads = ws.map((w, k) => {
    const parts: Tensor[] = [];
    for (let e = 0; e < w.size; e++) {
      const tangents = ws.map((u, j) =>
        j === k ? basis(u, e) : fromNDArray(new NDArray(allocate(u.dtype, u.size), u.shape)),
      );
      const [o, t] = jvp((...ys: Tensor[]) => evalIR(ir, merge(xs, wrt, ys)), ws, tangents) as [
        Tensor[],
        Tensor[],
      ];
      outs ??= o;
      // ∂f/∂w_e in w's dtype, as reverse mode gives it (f's output may be of a wider dtype).
      parts.push(t[0]!.dtype === w.dtype ? t[0]! : cast(t[0]!, w.dtype));
    }
    return parts.length === 0 ? w : reshape(stack(parts), w.shape as number[]);
  });
  return [...(outs ?? evalIR(ir, xs)), ...grads];
}

/**
 * Σ_c H[rows, c] · ts[c] for the Hessian H of output 0 of `ir`: one JVP of the gradient
 * with respect to xs[rows] along ts on xs[cols] (forward-over-reverse).
 */
export function hessianVectorProduct(
  ir: IR,
  xs: readonly Tensor[],
  rows: readonly number[],
  cols: readonly number[],
  ts: readonly Tensor[],
): Tensor[] {
  const nOut = ir.outVars.length;
  const [, touts] = jvp(
    (...ys: Tensor[]) => reverseValueAndGrad(ir, merge(xs, cols, ys), rows).slice(nOut),
    cols.map((i) => xs[i]!),
    ts as Tensor[],
  ) as [Tensor[], Tensor[]];
  return touts;
}
