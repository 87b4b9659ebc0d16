/**
 * The built-in backend of `ng.jit`: runs an optimised IR on NDArrays, without tracers or
 * `bind` dispatch. Compilation does all the per-step work once:
 *
 * - fusion (fuse.ts): elementwise equations become fused groups, each one generated loop;
 * - slots: every variable gets an index into a flat array, every step its argument slots;
 * - buffers by liveness: every array the interpreter owns (outputs of fused loops, and
 *   the fresh outputs of kernels known to allocate, such as matmul and reductions) is a
 *   "root" buffer. Views (reshape, transpose, broadcast, slice, ... and anything not known
 *   to allocate) may share their input's buffer, so a slot carries the set of roots it may
 *   point into, and a root dies after the last step that reads any slot carrying it. A
 *   root that reaches a program output escapes: it is allocated fresh and never reused.
 * - reuse: a fused loop writes an output in place over an input buffer that dies at that
 *   step and is read element for element (so a matmul → bias → tanh epilogue runs over
 *   the matmul's result); otherwise it takes a buffer from the size-class pool
 *   (tensor/pool.ts), and dead roots go back to the pool, so repeated calls allocate
 *   nothing new for fused values (kernels such as the reductions still allocate their
 *   results, which are recycled). Program inputs, constants and outputs are never written or
 *   pooled. Should a kernel on the fresh-output list ever return memory of an input, the
 *   run notices and stops recycling for good instead of reusing a live buffer.
 * - matmul results the interpreter manages are computed into pool buffers too (through
 *   the kernel's `into` argument), or into exact-size storage when a fused output that
 *   escapes takes them over.
 * - threads: while the `threads` setting is above 1 and worker threads work here, the
 *   interpreter's buffers are views of shared memory, and a fused loop large enough to
 *   repay it is split across worker threads (fused_threads.ts), bitwise as on one thread
 *   (a program output such a loop writes is copied into ordinary memory before it is
 *   returned: callers never see shared memory). An input in ordinary memory (a program
 *   input, a constant, a kernel's own result) is
 *   copied into shared memory when that is cheap next to the loop (a constant once per
 *   executable, anything else once per call), else that loop runs on one thread.
 *
 * Where code generation is unavailable (`new Function` forbidden) or fusion is switched
 * off, every equation runs by its primitive's `impl` and references to intermediates are
 * dropped at their last use. Always available.
 */
import type { IR, Var } from "../core/ir.js";
import { ConcreteTensor } from "../core/tensor.js";
import type { Primitive } from "../core/trace.js";
import { allocate, type DataArray, type DType } from "../tensor/dtype.js";
import { matmul as matmulKernel } from "../tensor/kernels/matmul.js";
import { NDArray } from "../tensor/ndarray.js";
import { allocateShared, bufferPool, isSharedMemory } from "../tensor/pool.js";
import { formatShape, shapesEqual, type Shape } from "../tensor/shape.js";
import { argmaxP } from "../primitives/argmax.js";
import { argminP } from "../primitives/argmin.js";
import { matmulP } from "../primitives/matmul.js";
import { maxP } from "../primitives/max.js";
import { minP } from "../primitives/min.js";
import { prodP } from "../primitives/prod.js";
import { sumP } from "../primitives/sum.js";
import { registerBackend, type Executable, type JitBackend } from "./backend.js";
import {
  fusionActive,
  planFusion,
  type FusedGroup,
  type GroupKernel,
  type PlanNode,
} from "./fuse.js";
import {
  copyPays,
  fusedThreadsActive,
  runSplit,
  spanOf,
  splitThreads,
  workersCanRun,
} from "./fused_threads.js";

/**
 * Primitives whose implementation always returns newly allocated, contiguous outputs that
 * share no memory with their inputs (everything else may return a view of an input).
 */
const FRESH_OUTPUT: ReadonlySet<Primitive> = new Set<Primitive>([
  matmulP,
  sumP,
  prodP,
  maxP,
  minP,
  argmaxP,
  argminP,
]);

/** The root id of memory the interpreter does not manage (inputs, constants, unknown views). */
const UNMANAGED = 0;

/** Where a fused loop's output storage comes from. */
const enum Source {
  /** a buffer from the pool (released when the output's root dies) */
  Pool,
  /** exact-size fresh storage: the output escapes to the caller */
  Fresh,
  /** in place over an input's root buffer that dies here (else from the pool) */
  InPlace,
  /** in place over a fresh kernel result when it is exactly the size (else fresh): escapes */
  InPlaceFresh,
}

/** Where a matmul step's result storage comes from. */
const enum Into {
  /** the kernel allocates it (its root is unmanaged or escapes) */
  None,
  /** a buffer from the pool (the root dies inside the program) */
  Pool,
  /** exact-size fresh storage (a fused output that escapes takes it over) */
  Exact,
}

interface KernelStep {
  readonly group: false;
  readonly impl: (inputs: NDArray[], params: unknown) => NDArray[];
  readonly params: unknown;
  readonly ins: readonly number[];
  readonly outs: readonly number[];
  /** Per output: its root when the kernel allocates it fresh and the root is managed, else -1. */
  readonly roots: readonly number[];
  /** A matmul of float operands (whose result can be computed into given storage). */
  readonly floatMatmul: boolean;
  /** For a float matmul: where its result's storage comes from (set once the plan is known). */
  into: Into;
  /** The matmul result's dtype and size (for `into`). */
  readonly outDtype: DType;
  readonly outSize: number;
  /** Slots whose last use is this step (cleared after it runs). */
  readonly clear: readonly number[];
  /** Roots that die at this step (their buffers go back to the pool). */
  readonly release: readonly number[];
}

interface GroupOut {
  readonly slot: number;
  readonly root: number;
  readonly dtype: DType;
  readonly source: Source;
  /** The root taken over (InPlace / InPlaceFresh). */
  readonly from: number;
}

interface GroupStep {
  readonly group: true;
  readonly fused: FusedGroup;
  readonly kernel: GroupKernel;
  readonly shape: Shape;
  readonly size: number;
  readonly ins: readonly number[];
  readonly outs: readonly GroupOut[];
  readonly clear: readonly number[];
  readonly release: readonly number[];
}

type Step = KernelStep | GroupStep;

/** Counters of one executable (for tests and tuning). */
export interface InterpreterStats {
  /** Steps run per call: fused groups and equations run by their implementation. */
  readonly groups: number;
  readonly kernels: number;
  /** Equations fused into groups. */
  readonly fusedEquations: number;
  /** Fused outputs written in place over a dying input. */
  readonly inPlace: number;
  /** Root buffers the interpreter manages per call. */
  readonly roots: number;
}

class InterpreterExecutable implements Executable {
  readonly backend = "interpreter";
  readonly notes: readonly string[];
  readonly stats: InterpreterStats;
  private readonly nSlots: number;
  private readonly nRoots: number;
  private readonly inVars: readonly Var[];
  private readonly constSlots: readonly [number, NDArray][];
  private readonly steps: readonly Step[];
  private readonly outSlots: readonly number[];
  /** Buffers are recycled (off for good once a kernel broke the fresh-output assumption). */
  private reuse = true;
  /** Slots of constants, and their copies in shared memory (made on first need). */
  private readonly constSlotSet: ReadonlySet<number>;
  private readonly sharedConsts = new Map<number, NDArray>();

  constructor(ir: IR) {
    const slot = new Map<Var, number>();
    const slotOf = (v: Var): number => {
      const s = slot.get(v);
      if (s === undefined) throw new Error("jit interpreter: the IR uses an undefined variable");
      return s;
    };
    const define = (v: Var) => {
      if (!slot.has(v)) slot.set(v, slot.size);
    };
    ir.inVars.forEach(define);
    ir.constVars.forEach(define);
    this.inVars = ir.inVars;
    this.constSlots = ir.constVars.map((v, i) => {
      const c = ir.consts[i]!;
      if (!(c instanceof ConcreteTensor)) {
        throw new Error(
          `jit interpreter: constant ${i} is a tracer (${c.toString()}); compiled programs must be closed`,
        );
      }
      return [slotOf(v), c.value];
    });
    this.constSlotSet = new Set(this.constSlots.map(([s]) => s));
    const fused = fusionActive();
    const nodes: PlanNode[] = fused
      ? planFusion(ir)
      : ir.eqns.map((eqn) => ({ kind: "eqn" as const, eqn }));
    // Slots, and every node's input and output slots.
    const raw = nodes.map((node) => {
      if (node.kind === "eqn") {
        const ins = node.eqn.inputs.map(slotOf);
        node.eqn.outputs.forEach(define);
        return { node, ins, outs: node.eqn.outputs.map(slotOf) };
      }
      const g = node.group;
      const ins = g.inputs.map((x) => slotOf(x.v));
      g.members.forEach((e) => e.outputs.forEach(define));
      return { node, ins, outs: g.outputs.map(slotOf) };
    });
    this.outSlots = ir.outVars.map(slotOf);
    this.nSlots = slot.size;
    const end = raw.length; // "after the last step": program outputs live to the end

    // Roots: which managed buffers each slot may point into.
    const slotRoots: (readonly number[])[] = new Array(this.nSlots).fill([UNMANAGED]);
    const owner: number[] = [-1]; // the slot that defines each root
    const freshRoot: boolean[] = [false]; // a kernel's fresh result (exact size), not a pool buffer
    const newRoot = (s: number, fresh: boolean): number => {
      owner.push(s);
      freshRoot.push(fresh);
      return owner.length - 1;
    };
    raw.forEach(({ node, ins, outs }) => {
      if (node.kind === "group") {
        outs.forEach((s) => (slotRoots[s] = [newRoot(s, false)]));
      } else if (fused && FRESH_OUTPUT.has(node.eqn.prim)) {
        outs.forEach((s) => (slotRoots[s] = [newRoot(s, true)]));
      } else {
        const union = new Set<number>([UNMANAGED]);
        for (const s of ins) for (const r of slotRoots[s]!) union.add(r);
        const rs = [...union].sort((a, b) => a - b);
        outs.forEach((s) => (slotRoots[s] = rs));
      }
    });
    // Liveness: the last step reading each slot; a root dies after the last read of any
    // slot that may point into it, or never when a program output may.
    const lastUse = new Array<number>(this.nSlots).fill(-1);
    raw.forEach(({ ins }, k) => ins.forEach((s) => (lastUse[s] = k)));
    for (const s of this.outSlots) lastUse[s] = end;
    const death = new Array<number>(owner.length).fill(-1);
    const defStep = new Array<number>(this.nSlots).fill(-1);
    raw.forEach(({ outs }, k) => outs.forEach((s) => (defStep[s] = k)));
    for (let s = 0; s < this.nSlots; s++) {
      const at = Math.max(lastUse[s]!, defStep[s]!);
      for (const r of slotRoots[s]!) if (r !== UNMANAGED) death[r] = Math.max(death[r]!, at);
    }

    // Steps, with in-place choices for fused outputs.
    let inPlace = 0;
    let fusedEquations = 0;
    const clearAt: number[][] = raw.map(() => []);
    const releaseAt: number[][] = raw.map(() => []);
    for (let s = 0; s < this.nSlots; s++) {
      const k = lastUse[s]!;
      if (k >= 0 && k < end) clearAt[k]!.push(s);
    }
    const transferred = new Set<number>();
    const takenByEscaping = new Set<number>(); // roots an escaping fused output takes over
    const steps: Step[] = raw.map(({ node, ins, outs }, k): Step => {
      if (node.kind === "eqn") {
        const prim = node.eqn.prim;
        const out = node.eqn.outputs[0]!.aval;
        return {
          group: false,
          impl: prim.impl.bind(prim) as KernelStep["impl"],
          params: node.eqn.params,
          ins,
          outs,
          roots: outs.map((s) => {
            const r = slotRoots[s]!;
            return r.length === 1 && r[0] !== UNMANAGED && owner[r[0]!] === s ? r[0]! : -1;
          }),
          floatMatmul:
            prim === matmulP &&
            (out.dtype === "float32" || out.dtype === "float64") &&
            node.eqn.inputs.every((v) => v.aval.dtype === out.dtype),
          into: Into.None,
          outDtype: out.dtype,
          outSize: out.size,
          clear: clearAt[k]!,
          release: releaseAt[k]!,
        };
      }
      const g = node.group;
      fusedEquations += g.members.length;
      const taken = new Set<number>();
      const groupOuts = g.outputs.map((v, j): GroupOut => {
        const s = outs[j]!;
        const root = slotRoots[s]![0]!;
        const dtype = v.aval.dtype;
        const escapes = death[root]! >= end;
        const from = inPlaceCandidate(g, ins, k, dtype, escapes, taken);
        if (from >= 0) {
          taken.add(from);
          transferred.add(from);
          if (escapes) takenByEscaping.add(from);
          inPlace++;
          return {
            slot: s,
            root,
            dtype,
            source: escapes ? Source.InPlaceFresh : Source.InPlace,
            from,
          };
        }
        return { slot: s, root, dtype, source: escapes ? Source.Fresh : Source.Pool, from: -1 };
      });
      return {
        group: true,
        fused: g,
        kernel: g.kernel,
        shape: g.shape,
        size: g.size,
        ins,
        outs: groupOuts,
        clear: clearAt[k]!,
        release: releaseAt[k]!,
      };
    });
    // Dead roots go back to the pool after their last step, unless a fused output took
    // them over (its own root is released instead) or they escape.
    for (let r = 1; r < owner.length; r++) {
      const k = death[r]!;
      if (k >= 0 && k < end && !transferred.has(r)) releaseAt[k]!.push(r);
    }
    // Float matmul results with a managed root: into a pool buffer when the root dies
    // inside the program, into exact-size storage when an escaping fused output takes it.
    for (const step of steps) {
      if (step.group || !fused || step.roots.length !== 1) continue;
      const r = step.roots[0]!;
      if (r < 0 || !step.floatMatmul) continue;
      if (takenByEscaping.has(r)) step.into = Into.Exact;
      else if (death[r]! < end) step.into = Into.Pool;
    }

    /**
     * An input root of group step `k` that the output may overwrite: read only through
     * its defining slot as a full, contiguous input of the group's shape, dying at this
     * step, of the output's storage type (for an escaping output: a kernel's fresh result).
     */
    function inPlaceCandidate(
      g: FusedGroup,
      ins: readonly number[],
      k: number,
      dtype: DType,
      escapes: boolean,
      taken: ReadonlySet<number>,
    ): number {
      for (let i = 0; i < g.inputs.length; i++) {
        const x = g.inputs[i]!;
        const s = ins[i]!;
        const rs = slotRoots[s]!;
        if (x.kind !== "full" || rs.length !== 1) continue;
        const r = rs[0]!;
        if (r === UNMANAGED || owner[r] !== s || death[r] !== k || taken.has(r)) continue;
        if (x.v.aval.dtype !== dtype || !shapesEqual(x.v.aval.shape, g.shape)) continue;
        if (escapes && !freshRoot[r]) continue;
        // no other input of the group may read this root (e.g. through a view)
        const shared = ins.some((t, j) => j !== i && slotRoots[t]!.includes(r));
        if (shared) continue;
        return r;
      }
      return -1;
    }

    this.steps = steps;
    this.nRoots = owner.length;
    const groups = steps.filter((s) => s.group).length;
    this.stats = {
      groups,
      kernels: steps.length - groups,
      fusedEquations,
      inPlace,
      roots: owner.length - 1,
    };
    this.notes = fused
      ? []
      : [
          "interpreter: elementwise fusion is off (switched off, or code generation is unavailable here)",
        ];
  }

  run(inputs: readonly NDArray[]): NDArray[] {
    if (inputs.length !== this.inVars.length) {
      throw new Error(
        `jit interpreter: expected ${this.inVars.length} inputs, got ${inputs.length}`,
      );
    }
    const slots = new Array<NDArray | undefined>(this.nSlots);
    inputs.forEach((x, i) => {
      const a = this.inVars[i]!.aval;
      if (x.dtype !== a.dtype || !shapesEqual(x.shape, a.shape)) {
        throw new TypeError(
          `jit interpreter: input ${i} is ${x.dtype}${formatShape(x.shape)}, the program was compiled for ${a}`,
        );
      }
      slots[i] = x;
    });
    for (const [s, c] of this.constSlots) slots[s] = c;
    const bufs = new Array<DataArray | null>(this.nRoots).fill(null);
    const pool = bufferPool;
    let reuse = this.reuse;
    // buffers in shared memory while threads are on (so that fused loops can be split)
    const shared = fusedThreadsActive();
    /** Copies of ordinary inputs in shared memory made during this call, by slot. */
    const copies = new Map<number, NDArray>();
    for (const step of this.steps) {
      const ins = step.ins;
      const args = new Array<NDArray>(ins.length);
      for (let i = 0; i < ins.length; i++) args[i] = slots[ins[i]!]!;
      if (!step.group) {
        let into: DataArray | null = null;
        let outs: NDArray[];
        if (step.into !== Into.None && reuse) {
          const d = step.outDtype;
          into =
            step.into === Into.Pool
              ? pool.acquire(d, step.outSize, false, shared)
              : shared
                ? allocateShared(d, step.outSize)
                : allocate(d, step.outSize);
          outs = [matmulKernel(args[0]!, args[1]!, into)];
        } else {
          outs = step.impl(args, step.params);
        }
        for (let i = 0; i < step.outs.length; i++) {
          const o = outs[i]!;
          slots[step.outs[i]!] = o;
          const r = step.roots[i]!;
          if (r < 0) continue;
          // A kernel known to allocate returned memory of an input after all: the plan
          // would recycle a buffer that is still referenced, so reuse stops for good.
          if (args.some((a) => a.data.buffer === o.data.buffer)) {
            reuse = this.reuse = false;
            continue;
          }
          // a fresh kernel result is reused only when it is whole and contiguous
          if (into !== null) bufs[r] = into;
          else if (o.contiguous && o.offset === 0 && o.data.length === o.size) bufs[r] = o.data;
        }
      } else {
        const n = step.size;
        const outs = step.outs;
        let threads = shared ? splitThreads(n, step.fused.work) : 1;
        if (threads > 1 && !(workersCanRun(step.fused) && this.share(step, args, threads, copies)))
          threads = 1;
        const store = new Array<DataArray>(outs.length);
        let spare: DataArray | null = null;
        for (let j = 0; j < outs.length; j++) {
          const o = outs[j]!;
          let b: DataArray | null = null;
          switch (o.source) {
            case Source.Pool:
              b = pool.acquire(o.dtype, n, false, shared);
              break;
            case Source.Fresh:
              b = threads > 1 ? allocateShared(o.dtype, n) : allocate(o.dtype, n);
              break;
            case Source.InPlace: {
              let t = reuse ? bufs[o.from] : null;
              bufs[o.from] = null;
              // split loops write shared memory only; the input goes back to the pool after
              if (t && threads > 1 && !isSharedMemory(t)) [spare, t] = [t, null];
              b = t ?? pool.acquire(o.dtype, n, false, shared);
              break;
            }
            case Source.InPlaceFresh: {
              const t = reuse ? bufs[o.from] : null;
              bufs[o.from] = null;
              const fits = t && t.length === n && (threads === 1 || isSharedMemory(t));
              b = fits ? t : threads > 1 ? allocateShared(o.dtype, n) : allocate(o.dtype, n);
              break;
            }
          }
          store[j] = b!;
        }
        if (threads > 1) runSplit(step.fused, args, store, n, step.shape, threads);
        else step.kernel(args, store, n, step.shape, 0, n);
        if (spare !== null) pool.release(spare);
        for (let j = 0; j < outs.length; j++) {
          const o = outs[j]!;
          const b = store[j]!;
          bufs[o.root] = b;
          slots[o.slot] = new NDArray(b.length === n ? b : b.subarray(0, n), step.shape);
        }
      }
      for (const s of step.clear) slots[s] = undefined;
      if (!reuse) continue;
      for (const r of step.release) {
        const b = bufs[r];
        if (b !== null && b !== undefined) {
          bufs[r] = null;
          pool.release(b);
        }
      }
    }
    // this call's copies of inputs are dead now (the loops that read them have run)
    for (const c of copies.values()) pool.release(c.data);
    return this.outSlots.map((s) => ordinaryMemory(slots[s]!));
  }

  /**
   * Puts the non-scalar inputs of a group that is to be split into shared memory: an
   * input in ordinary memory is replaced in `args` by a copy of the storage its view spans
   * (same layout, so the loop takes the same paths). Returns false, changing nothing,
   * when the copies would cost too much next to what the split saves.
   */
  private share(
    step: GroupStep,
    args: NDArray[],
    threads: number,
    copies: Map<number, NDArray>,
  ): boolean {
    const g = step.fused;
    let elements = 0;
    for (let k = 0; k < args.length; k++) {
      if (g.inputs[k]!.kind === "scalar" || isSharedMemory(args[k]!.data)) continue;
      const s = step.ins[k]!;
      if (copies.has(s) || this.sharedConsts.has(s)) continue;
      const { lo, hi } = spanOf(args[k]!);
      elements += hi - lo;
    }
    if (elements > 0 && !copyPays(elements, step.size, g.work, threads)) return false;
    for (let k = 0; k < args.length; k++) {
      const x = args[k]!;
      if (g.inputs[k]!.kind === "scalar" || isSharedMemory(x.data)) continue;
      const s = step.ins[k]!;
      const isConst = this.constSlotSet.has(s);
      const cache = isConst ? this.sharedConsts : copies;
      let c = cache.get(s);
      if (c === undefined) {
        const { lo, hi } = spanOf(x);
        // a constant's copy lives as long as the executable; a call's goes back to the pool
        const mem = isConst
          ? allocateShared(x.dtype, hi - lo)
          : bufferPool.acquire(x.dtype, hi - lo, false, true);
        mem.set(x.data.subarray(lo, hi));
        c = new NDArray(mem, x.shape, x.strides, x.offset - lo);
        cache.set(s, c);
      }
      args[k] = c;
    }
    return true;
  }
}

/** The interpreter backend, registered as "interpreter". */
export const interpreterBackend: JitBackend = {
  name: "interpreter",
  available: () => true,
  compile: (ir) => new InterpreterExecutable(ir),
};

/** The interpreter's counters of a compiled executable, or null for another backend's. */
export function interpreterStats(exec: Executable): InterpreterStats | null {
  return exec instanceof InterpreterExecutable ? exec.stats : null;
}

registerBackend(interpreterBackend);

/**
 * `x` itself, or a copy in ordinary memory where it is a view of shared memory (a program
 * output written by a split loop): results handed to callers behave as every other array
 * (postMessage copies them, browser APIs that refuse shared views take them).
 */
function ordinaryMemory(x: NDArray): NDArray {
  if (!isSharedMemory(x.data)) return x;
  const d = allocate(x.dtype, x.data.length);
  d.set(x.data);
  return new NDArray(d, x.shape, x.strides, x.offset);
}
