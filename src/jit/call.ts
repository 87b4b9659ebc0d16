/**
 * `jitCall`: the call primitive a jitted function binds when it is called under a
 * transform (grad, jvp, vmap, an outer nested derivative). It carries the staged, closed
 * IR of f; its impl runs the compiled program, so the primal stays compiled. Its rules come
 * from the IR and bind jitCall again on derived programs, so derivatives and batches run
 * compiled too: the JVP is a jitCall of the staged tangent program (x, ẋ) ↦ ∂f(x)·ẋ, which
 * is linear in ẋ; the transpose of a jitCall in its linear inputs is a jitCall of the
 * staged pullback of that linear map; the batch rule is a jitCall of the staged vmap of f.
 * Derived programs are staged once per params object and linearity/batching pattern.
 */
import type { ShapedArray } from "../core/aval.js";
import { evalIR, type IR } from "../core/ir.js";
import { JVPTrace } from "../core/jvp.js";
import { StagingTrace } from "../core/staging.js";
import { ConcreteTensor, Tensor } from "../core/tensor.js";
import {
  bind,
  currentTrace,
  evalTrace,
  LinearInput,
  withTrace,
  type Tangent,
} from "../core/trace.js";
import { definePrimitive, type DefinedPrimitive } from "../primitives/define.js";
import { zerosLike } from "../primitives/zeros_like.js";
import { linearizeFlat, pullbackFlat } from "../transforms/vjp.js";
import { vmap } from "../transforms/vmap.js";
import { debugNans, FloatingPointError, locateNonFinite } from "../core/debug.js";
import { isFloat } from "../tensor/dtype.js";
import type { NDArray } from "../tensor/ndarray.js";
import {
  compileIR,
  compileIRAsync,
  optimizeFor,
  type Compiled,
  type CompiledAsync,
  type ResolvedJitOptions,
} from "./compile.js";
import { jitLog } from "./log.js";
import type { PassStats } from "./passes.js";

/** Mutable memo of one jitCall params object: its compiled programs and derived programs. */
export interface JitMemo {
  /** The passes' result, shared by the synchronous and asynchronous compilations. */
  optimized?: { optimized: IR; passes: PassStats };
  compiled?: Compiled;
  /** The compilation for asynchronous runs (`jitted.async`), once started. */
  compiledAsync?: Promise<CompiledAsync>;
  readonly derived: Map<string, Derived>;
  /** Told about every compilation (the jitted function's stats). */
  readonly onCompile?: (c: Compiled | CompiledAsync) => void;
}

export interface JitCallParams {
  /** The staged program: closed (its constants are concrete). */
  readonly ir: IR;
  /** f's name, for IR printing. */
  readonly name: string;
  readonly options: ResolvedJitOptions;
  readonly memo: JitMemo;
}

interface Derived {
  /** null when the derived program has no outputs (all tangents or cotangents zero). */
  readonly params: JitCallParams | null;
  /** For a JVP: for each output of f, the index of its tangent among the derived outputs, or -1. */
  readonly outIndex: readonly number[];
}

function optimizedOf(p: JitCallParams): { optimized: IR; passes: PassStats } {
  return (p.memo.optimized ??= optimizeFor(p.ir, p.options));
}

function logCompiled(p: JitCallParams, c: Compiled | CompiledAsync, how: string): void {
  jitLog(() => {
    const removed = Object.entries(c.passes)
      .map(([k, n]) => `${k} -${n}`)
      .join(", ");
    return (
      `compiled ${p.name}${how} on ${c.exec.backend}: ${p.ir.eqns.length} equation(s) staged, ` +
      `${c.optimized.eqns.length} after the passes (${removed})` +
      c.notes.map((n) => `\n  note: ${n}`).join("")
    );
  });
}

/** The compiled program of `p`, compiling it on first use. */
export function compiledOf(p: JitCallParams): Compiled {
  if (p.memo.compiled === undefined) {
    p.memo.compiled = compileIR(p.ir, p.options, optimizedOf(p));
    logCompiled(p, p.memo.compiled, "");
    p.memo.onCompile?.(p.memo.compiled);
  }
  return p.memo.compiled;
}

/**
 * The program of `p` compiled for asynchronous runs (sessions of ONNX Runtime's
 * promise-based API), compiling it on first use; a failed compilation is retried next time.
 */
export function compiledAsyncOf(p: JitCallParams): Promise<CompiledAsync> {
  if (p.memo.compiledAsync === undefined) {
    const c = compileIRAsync(optimizedOf(p), p.options).then((c) => {
      logCompiled(p, c, " (async)");
      p.memo.onCompile?.(c);
      return c;
    });
    p.memo.compiledAsync = c;
    c.catch(() => {
      if (p.memo.compiledAsync === c) p.memo.compiledAsync = undefined;
    });
  }
  return p.memo.compiledAsync;
}

/**
 * With debugNans on, a compiled run whose float outputs hold a NaN or an infinity is run
 * again eagerly, equation by equation, to raise the FloatingPointError that names the
 * primitive; the message says the program was jitted.
 */
export function checkJittedOutputs(
  name: string,
  backend: string,
  outs: readonly NDArray[],
  rerun: () => FloatingPointError | null,
): void {
  if (!debugNans) return;
  const bad = outs.findIndex((o) => isFloat(o.dtype) && o.flat().some((v) => !Number.isFinite(v)));
  if (bad < 0) return;
  const located = rerun();
  const where = `the jitted program ${name} (backend ${backend}) produced a non-finite value in output ${bad}`;
  if (located !== null) {
    located.message = `${located.message} (${where}; re-run eagerly to locate the primitive.)`;
    throw located;
  }
  const o = outs[bad]!;
  let nans = 0;
  let infs = 0;
  for (const v of o.flat()) {
    if (v !== v) nans++;
    else if (!Number.isFinite(v)) infs++;
  }
  const err = new FloatingPointError(
    `jit(${name})`,
    [],
    [],
    { index: bad, shape: [...o.shape], dtype: o.dtype, nans, infs },
    undefined,
  );
  err.message =
    `debugNans: ${where}, but an eager re-run produced none: the backend's arithmetic differs ` +
    `from the built-in kernels here (e.g. float32 rounding or fused operations). Run f without ` +
    `ng.jit, or with backend: "interpreter", to compare.`;
  throw err;
}

function derive(p: JitCallParams, ir: IR, suffix: string): JitCallParams {
  return {
    ir,
    name: `${p.name}${suffix}`,
    options: p.options,
    memo: { derived: new Map(), onCompile: p.memo.onCompile },
  };
}

function memoized(p: JitCallParams, key: string, make: () => Derived): Derived {
  let d = p.memo.derived.get(key);
  if (d === undefined) p.memo.derived.set(key, (d = make()));
  return d;
}

/** Stages `fn` on fresh arguments of the given avals (closed: nothing outer is captured). */
function stage(avals: readonly ShapedArray[], fn: (xs: Tensor[]) => Tensor[], what: string): IR {
  const staging = new StagingTrace(evalTrace, `ng.jit (${what})`);
  const args = avals.map((a) => staging.newArg(a));
  const outs = withTrace(staging, () => fn(args));
  return staging.build(args, outs);
}

/** The tangent program (x, ẋ[nn]) ↦ tangents of f's outputs (the non-zero ones). */
function stageJvp(p: JitCallParams, nn: readonly number[]): Derived {
  const avals = p.ir.inVars.map((v) => v.aval);
  let outIndex: number[] = [];
  const ir = stage(
    [...avals, ...nn.map((i) => avals[i]!)],
    (zs) => {
      const n = avals.length;
      const jt = new JVPTrace(currentTrace());
      const args = zs.slice(0, n).map((x, i) => {
        const k = nn.indexOf(i);
        return k < 0 ? x : jt.lift(x, zs[n + k]!);
      });
      const outs = withTrace(jt, () => evalIR(p.ir, args));
      const touts: Tensor[] = [];
      outIndex = outs.map((o) => {
        const [, t] = jt.unpack(o);
        if (t === null) return -1;
        touts.push(t);
        return touts.length - 1;
      });
      return touts;
    },
    "tangent program",
  );
  return {
    params: ir.outVars.length === 0 ? null : derive(p, ir, "′"),
    outIndex,
  };
}

/** The transpose program (x[nonlinear], ct[nz]) ↦ cotangents of the linear inputs `lin`. */
function stageTranspose(p: JitCallParams, lin: readonly number[], nz: readonly number[]): Derived {
  const avals = p.ir.inVars.map((v) => v.aval);
  const n = avals.length;
  const nonlin = avals.map((_a, i) => i).filter((i) => !lin.includes(i));
  const ir = stage(
    [...nonlin.map((i) => avals[i]!), ...nz.map((k) => p.ir.outVars[k]!.aval)],
    (zs) => {
      const xs = zs.slice(0, nonlin.length);
      const cs = zs.slice(nonlin.length);
      const full = (ys: readonly Tensor[]): Tensor[] => {
        const all = new Array<Tensor>(n);
        nonlin.forEach((i, k) => (all[i] = xs[k]!));
        lin.forEach((i, k) => (all[i] = ys[k]!));
        return all;
      };
      // The map is linear in the `lin` inputs: its linearization at zero is the map itself.
      const zeros = lin.map((i) => zerosLike(avals[i]!));
      const l = linearizeFlat((ys) => evalIR(p.ir, full(ys)), zeros);
      const cts: Tangent[] = p.ir.outVars.map((_v, k) => {
        const j = nz.indexOf(k);
        return j < 0 ? null : cs[j]!;
      });
      return pullbackFlat(l, zeros, cts);
    },
    "transpose",
  );
  return { params: derive(p, ir, "ᵀ"), outIndex: [] };
}

/** The batched program: f vmapped with the given input axes, every output batched along 0. */
function stageBatch(
  p: JitCallParams,
  avals: readonly ShapedArray[],
  dims: readonly (number | null)[],
): Derived {
  const ir = stage(
    avals,
    (zs) => vmap((...a: Tensor[]) => evalIR(p.ir, a), dims)(...zs) as Tensor[],
    "batch",
  );
  return { params: derive(p, ir, "ᵛ"), outIndex: [] };
}

function indices<T>(xs: readonly T[], pred: (x: T) => boolean): number[] {
  const out: number[] = [];
  xs.forEach((x, i) => pred(x) && out.push(i));
  return out;
}

export const jitCallP: DefinedPrimitive<JitCallParams, "jitCall"> = definePrimitive<
  JitCallParams,
  "jitCall"
>({
  name: "jitCall",
  linear: true,
  impl: (xs, p) => {
    const c = compiledOf(p);
    const outs = c.exec.run(xs);
    checkJittedOutputs(p.name, c.exec.backend, outs, () =>
      withTrace(evalTrace, () =>
        locateNonFinite(
          (...a: Tensor[]) => evalIR(p.ir, a),
          xs.map((x) => new ConcreteTensor(x)),
        ),
      ),
    );
    return outs;
  },
  expand: (xs, p) => evalIR(p.ir, xs),
  abstractEval: (avals, p) => {
    const want = p.ir.inVars;
    if (avals.length !== want.length) {
      throw new TypeError(`jitCall ${p.name}: expected ${want.length} inputs, got ${avals.length}`);
    }
    avals.forEach((a, i) => {
      if (!a.equals(want[i]!.aval)) {
        throw new TypeError(
          `jitCall ${p.name}: input ${i} is ${a}, the program was staged for ${want[i]!.aval}`,
        );
      }
    });
    return p.ir.outVars.map((v) => v.aval);
  },
  formatParams: (p) => `[name=${p.name}, ir=(${p.ir.eqns.length} eqns)]`,
  // d f(x)·ẋ: the primal by the compiled f, the tangents by the compiled tangent program.
  jvp: (primals, tangents, p) => {
    const nn = indices(tangents, (t) => t !== null);
    const outs = bind(jitCallP, primals, p);
    const d = memoized(p, `jvp:${nn.join(",")}`, () => stageJvp(p, nn));
    if (d.params === null) return [outs, outs.map(() => null)];
    const touts = bind(jitCallP, [...primals, ...nn.map((i) => tangents[i]!)], d.params);
    return [outs, d.outIndex.map((j) => (j < 0 ? null : touts[j]!))];
  },
  // Linear in its LinearInput inputs (as the JVP rule emits it): ct ↦ (∂f/∂lin)ᵀ ct.
  transpose: (cts, inputs, p) => {
    const lin = indices(inputs, (x) => x instanceof LinearInput);
    const nz = indices(cts, (c) => c !== null);
    if (lin.length === 0 || nz.length === 0) return inputs.map(() => null);
    const d = memoized(p, `T:${lin.join(",")}:${nz.join(",")}`, () => stageTranspose(p, lin, nz));
    const nonlin = inputs.filter((x): x is Tensor => !(x instanceof LinearInput));
    const back = bind(jitCallP, [...nonlin, ...nz.map((k) => cts[k]!)], d.params!);
    return inputs.map((_x, i) => {
      const k = lin.indexOf(i);
      return k < 0 ? null : back[k]!;
    });
  },
  // vmap: one jitCall of the staged vmap of f; every output batched along axis 0.
  batch: (xs, dims, p, size) => {
    const d = memoized(p, `B:${dims.join(",")}:${size}`, () =>
      stageBatch(
        p,
        xs.map((x) => x.aval),
        dims,
      ),
    );
    const outs = bind(jitCallP, xs, d.params!);
    return [outs, outs.map(() => 0)];
  },
  testSpec: { cases: [] },
});
