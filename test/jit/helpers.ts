// Shared helpers of the jit tests: inputs drawn from a primitive's testSpec, dtype
// conversion of float inputs, a closeness assertion that names the worst element, and the
// registry check of one testSpec case on a backend.
import { expect } from "vitest";
import type { Tensor } from "../../src/core/tensor.js";
import { bind } from "../../src/core/trace.js";
import type { DefinedPrimitive, TestInput } from "../../src/primitives/define.js";
import { jit, type Jitted } from "../../src/jit/index.js";
import { isRegistryPrimitive } from "../../src/jit/passes.js";
import { jvp } from "../../src/transforms/jvp.js";
import { vjp } from "../../src/transforms/vjp.js";
import { specInputs } from "../spec-inputs.js";

export { specInputs };
import { isFloat, type DType } from "../../src/tensor/dtype.js";

/** Asserts that two lists of tensors agree in shape, dtype and values (NaNs match NaNs). */
export function expectClose(
  actual: readonly Tensor[],
  expected: readonly Tensor[],
  rtol: number,
  atol: number,
  what: string,
): void {
  expect(actual.length, `${what}: number of outputs`).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(`${a.dtype}[${a.shape.join(",")}]`, `${what}: output ${i} type`).toBe(
      `${e.dtype}[${e.shape.join(",")}]`,
    );
    const av = Array.from(a.dataSync(), Number);
    const ev = Array.from(e.dataSync(), Number);
    let worst = 0;
    let at = -1;
    ev.forEach((x, k) => {
      const y = av[k]!;
      if (Number.isNaN(x) && Number.isNaN(y)) return;
      if (x === y) return;
      const excess = Math.abs(y - x) - (atol + rtol * Math.abs(x));
      if (!(excess <= worst)) {
        worst = Number.isNaN(excess) ? Infinity : excess;
        at = k;
      }
    });
    expect(
      at < 0 ? "close" : `element ${at}: got ${av[at]}, expected ${ev[at]}`,
      `${what}: output ${i}`,
    ).toBe("close");
  });
}

/** Tolerances of comparisons between two evaluation orders in a dtype. */
export function tolerances(dtype: DType): [number, number] {
  return dtype === "float64" ? [1e-10, 1e-12] : [2e-5, 1e-6];
}

/** xs with the entries at `idx` replaced by ys. */
function merge(xs: readonly Tensor[], idx: readonly number[], ys: readonly Tensor[]): Tensor[] {
  const out = xs.slice();
  idx.forEach((i, k) => (out[i] = ys[k]!));
  return out;
}

/** What a caller asserts about the compiled programs of one case, beyond equality with eager. */
export interface CaseChecks {
  primitive?(jitted: Jitted<(...as: Tensor[]) => Tensor[]>, xs: readonly Tensor[]): void;
  jvp?(jitted: Jitted<(ps: Tensor[], ts: Tensor[]) => [Tensor[], Tensor[]]>): void;
}

/**
 * The registry check of one testSpec case on `backend`: the primitive, its JVP (jit of jvp)
 * and, for differentiable primitives, its transpose (jit of vjp, whose lowered program
 * holds registry primitives only) agree with eager evaluation in `dtype`.
 */
export function checkPrimitiveCase(
  prim: DefinedPrimitive<any>,
  c: { inputs: TestInput[]; params: unknown },
  k: number,
  dtype: DType,
  backend: string,
  checks: CaseChecks = {},
): void {
  const [rtol, atol] = tolerances(dtype);
  const xs = specInputs(c.inputs, 500 + k, dtype);
  const f = (...as: Tensor[]) => bind(prim, as, c.params);
  const jf = jit(f, { backend });
  expectClose(jf(...xs), f(...xs), rtol, atol, "primitive");
  checks.primitive?.(jf, xs);

  const floatIdx = xs.flatMap((x, i) => (isFloat(x.dtype) ? [i] : []));
  if (floatIdx.length === 0) return;
  const fxs = floatIdx.map((i) => xs[i]!);
  const g = (...fs: Tensor[]) => f(...merge(xs, floatIdx, fs));
  const ts = specInputs(
    floatIdx.map((i) => ({ shape: [...xs[i]!.shape], dtype: xs[i]!.dtype })),
    700 + k,
    dtype,
  );
  const jvpOf = (ps: Tensor[], tans: Tensor[]) =>
    jvp(g, ps as any, tans as any) as unknown as [Tensor[], Tensor[]];
  const [eo, et] = jvpOf(fxs, ts);
  const jj = jit(jvpOf, { backend });
  const [jo, jt] = jj(fxs, ts);
  expectClose(jo, eo, rtol, atol, "jvp primal");
  expectClose(jt, et, rtol, atol, "jvp tangent");
  checks.jvp?.(jj);

  if (prim.testSpec.nonDifferentiable) return;
  const outs = f(...xs);
  const cts = specInputs(
    outs.map((o) => ({ shape: [...o.shape], dtype: o.dtype })),
    900 + k,
    dtype,
  );
  const pullbackOf = (ps: Tensor[], us: Tensor[]) => {
    const [, pb] = vjp(g, ...(ps as [Tensor]));
    return pb(us as any) as unknown as Tensor[];
  };
  const jpb = jit(pullbackOf, { backend });
  expectClose(jpb(fxs, cts), pullbackOf(fxs, cts), rtol, atol, "transpose (vjp)");
  const lowered = jpb.lower(fxs, cts).optimized;
  expect(lowered.eqns.filter((e) => !isRegistryPrimitive(e.prim))).toEqual([]);
}
