/**
 * The memory ledger's state and the hooks the transforms call (the public view is
 * `memory.ts`, `ng.memory`). A linearization registers the concrete arrays its tangent
 * program captured (its residuals) when it is made, and is released when its owner is done
 * with it: right after the one pullback of grad, or when the pullback a user holds is
 * collected or disposed. Registration costs one pass over the program's constants and a few
 * additions; nothing else is tracked.
 */
import { BatchTracer } from "./batching.js";
import type { IR } from "./ir.js";
import { JVPTracer } from "./jvp.js";
import { ConcreteTensor, type Tensor } from "./tensor.js";

/** What the ledger keeps of one linearization (never the arrays themselves). */
export interface Residuals {
  /** Who made it: "grad", "vjp", "jacrev", "nested grad (nest)", "internal"... */
  readonly owner: string;
  /** Bytes of the distinct concrete buffers its tangent program captured. */
  readonly bytes: number;
  /** How many distinct concrete buffers that is. */
  readonly buffers: number;
  /** Of `bytes`, those held through tracers of an eager forward-mode jvp or vmap (primal and tangent, batched value). */
  readonly viaTracers: number;
  /** Live bytes of all linearizations just after this one was registered. */
  readonly liveBytesAfter: number;
  /** Whether it has been released. */
  released: boolean;
  /** Set while a FinalizationRegistry watches it (a vjp pullback held by the user). */
  watched: boolean;
}

interface OwnerTotals {
  linearizations: number;
  bytes: number;
}

/** The ledger's counters (module state, read by memory.ts). */
export const ledger = {
  liveBytes: 0,
  peakBytes: 0,
  linearizations: 0,
  made: 0,
  released: 0,
  watched: 0,
  byOwner: new Map<string, OwnerTotals>(),
  /** Records made while a measurement runs (null when none does). */
  recording: null as Residuals[] | null,
};

/**
 * The buffers of a tracer of an eager forward-mode jvp or vmap (its primal and tangent, or
 * its batched value, all concrete), pushed onto `out`; false when some part is abstract (a
 * tangent being staged by an enclosing linearization, anything under jit), which then
 * holds and counts those values itself.
 */
function eagerParts(t: Tensor, out: ArrayBufferView[]): boolean {
  if (t instanceof ConcreteTensor) {
    out.push(t.value.data);
    return true;
  }
  if (t instanceof JVPTracer) {
    return eagerParts(t.primal, out) && (t.tangent === null || eagerParts(t.tangent, out));
  }
  if (t instanceof BatchTracer) return eagerParts(t.val, out);
  return false;
}

/** Distinct buffers of the registration under way (scanned linearly: there are few). */
const scratch: ArrayBufferView[] = [];
let scratchSet: Set<ArrayBufferView> | null = null;
const parts: ArrayBufferView[] = [];

/** Counts `data` into `r` unless this registration has seen it; returns the bytes added. */
function count(r: Counts, data: ArrayBufferView): number {
  if (scratchSet !== null) {
    if (scratchSet.has(data)) return 0;
    scratchSet.add(data);
  } else {
    for (let i = 0; i < scratch.length; i++) if (scratch[i] === data) return 0;
    scratch.push(data);
    if (scratch.length > 32) scratchSet = new Set(scratch);
  }
  r.bytes += data.byteLength;
  r.buffers++;
  return data.byteLength;
}

interface Counts {
  bytes: number;
  buffers: number;
  viaTracers: number;
}

/** Bytes, count and bytes through eager tracers of the distinct concrete buffers among `ir`'s constants. */
function countBuffers(ir: IR, r: Counts): void {
  const consts = ir.consts;
  scratch.length = 0;
  scratchSet = null;
  for (let i = 0; i < consts.length; i++) {
    const c = consts[i]!;
    if (c instanceof ConcreteTensor) count(r, c.value.data);
    else {
      parts.length = 0;
      if (eagerParts(c, parts)) for (const d of parts) r.viaTracers += count(r, d);
    }
  }
  scratch.length = 0;
  scratchSet = null;
}

/** The live totals of one owner (entries stay once made; stats() skips empty ones). */
function totalsOf(owner: string): OwnerTotals {
  let t = ledger.byOwner.get(owner);
  if (t === undefined) ledger.byOwner.set(owner, (t = { linearizations: 0, bytes: 0 }));
  return t;
}

class Entry implements Residuals {
  bytes = 0;
  buffers = 0;
  viaTracers = 0;
  liveBytesAfter = 0;
  released = false;
  watched = false;
  constructor(
    readonly owner: string,
    readonly totals: OwnerTotals,
  ) {}
}

/** Registers the residuals of a linearization whose tangent program is `ir`. */
export function registerResiduals(ir: IR, owner: string): Residuals {
  const r = new Entry(owner, totalsOf(owner));
  countBuffers(ir, r);
  const live = (ledger.liveBytes += r.bytes);
  if (live > ledger.peakBytes) ledger.peakBytes = live;
  r.liveBytesAfter = live;
  ledger.linearizations++;
  ledger.made++;
  r.totals.linearizations++;
  r.totals.bytes += r.bytes;
  if (ledger.recording !== null) ledger.recording.push(r);
  return r;
}

const collected: FinalizationRegistry<Residuals> | null =
  typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<Residuals>((r) => {
        r.watched = false;
        ledger.watched--;
        releaseResiduals(r);
      })
    : null;

/** Releases a linearization's residuals (once; later calls do nothing). */
export function releaseResiduals(r: Residuals): void {
  if (r.released) return;
  r.released = true;
  if (r.watched) {
    r.watched = false;
    ledger.watched--;
    collected!.unregister(r);
  }
  ledger.liveBytes -= r.bytes;
  ledger.linearizations--;
  ledger.released++;
  const t = (r as Entry).totals;
  t.linearizations--;
  t.bytes -= r.bytes;
}

/**
 * Releases `r` when `holder` (a pullback handed to the user, whose closure keeps the
 * linearization alive) is garbage collected. Without FinalizationRegistry (very old
 * engines) the residuals stay counted until disposed.
 */
export function releaseWhenCollected(holder: object, r: Residuals): void {
  if (collected === null || r.released || r.watched) return;
  r.watched = true;
  ledger.watched++;
  collected.register(holder, r, r);
}

const disposers = new WeakMap<object, () => void>();

/** Registers what `ng.memory.dispose(holder)` does for `holder` (a vjp pullback). */
export function setDisposer(holder: object, dispose: () => void): void {
  disposers.set(holder, dispose);
}

/** The disposer registered for `holder`, if any. */
export function disposerOf(holder: unknown): (() => void) | undefined {
  return typeof holder === "function" || (typeof holder === "object" && holder !== null)
    ? disposers.get(holder)
    : undefined;
}
