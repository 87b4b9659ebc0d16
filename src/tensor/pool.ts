/**
 * A pool of typed-array buffers by dtype and size class, so that a runtime that executes
 * the same program again and again (the jit interpreter) allocates nothing new in steady
 * state. Size classes are powers of two and 1.5 times powers of two (1, 2, 3, 4, 6, 8,
 * 12, 16, ...), so a buffer serves every request up to its class and wastes at most a
 * third of it. The pool holds only buffers that were released to it, up to a byte bound;
 * a release beyond the bound is dropped (left to the garbage collector).
 *
 * Ownership rule: a buffer is released only by the runtime that acquired it (or that
 * received it fresh from a kernel), once nothing references it any more. A released
 * buffer goes to the next `acquire` of its class, so a buffer that is still referenced
 * (e.g. a program output held by a caller) must never be released. Releasing the same
 * buffer twice without acquiring it in between is an error.
 *
 * Shared memory: `acquire(dtype, size, zero, true)` hands out views of SharedArrayBuffers
 * (ordinary Float32Array, ... views to all other code), which worker threads can read and
 * write (the interpreter's threaded fused loops). Shared and ordinary buffers are pooled
 * apart, so a request gets the kind it asked for.
 */
import {
  AllocationError,
  allocate,
  BYTES_PER_ELEMENT,
  MAX_ELEMENTS,
  type DataArray,
  type DType,
} from "./dtype.js";

/** The default bound of a pool's bytes (64 MiB). */
export const DEFAULT_POOL_BYTES = 64 * 1024 * 1024;

/**
 * The size class of a request for `n` elements: the smallest 2^k or 3·2^(k-1) that is ≥ n.
 * @example sizeClass(5) // 6
 */
export function sizeClass(n: number): number {
  if (n <= 2) return n <= 0 ? 0 : n;
  const p = 2 ** (32 - Math.clz32(n - 1)); // smallest power of two ≥ n
  const q = (p / 4) * 3;
  return q >= n ? q : p;
}

/** The largest size class that is ≤ n (a buffer of length n serves requests up to it). */
function floorClass(n: number): number {
  if (n <= 2) return n <= 0 ? 0 : n;
  const p = 2 ** (31 - Math.clz32(n)); // largest power of two ≤ n
  const q = (p / 2) * 3;
  return q <= n ? q : p;
}

function dtypeOf(buf: DataArray): DType | null {
  if (buf instanceof Float32Array) return "float32";
  if (buf instanceof Float64Array) return "float64";
  if (buf instanceof Int32Array) return "int32";
  if (buf instanceof Uint8Array) return "bool";
  return null;
}

/** Counters of a pool (for tests and tuning). */
export interface PoolStats {
  /** Bytes held by the pool now (released buffers waiting for reuse). */
  bytes: number;
  /** The bound of `bytes`. */
  maxBytes: number;
  /** Buffers held now. */
  buffers: number;
  /** Acquisitions served from the pool. */
  hits: number;
  /** Acquisitions that allocated a new buffer. */
  misses: number;
  /** Releases dropped because the pool was full (or the buffer was not poolable). */
  dropped: number;
}

export class BufferPool {
  private readonly free = new Map<string, DataArray[]>();
  /** Buffers currently in the pool (a second release of one is a bug in its owner). */
  private readonly held = new WeakSet<ArrayBufferLike>();
  private heldBytes = 0;
  private limit: number;
  private hits = 0;
  private misses = 0;
  private dropped = 0;

  constructor(maxBytes: number = DEFAULT_POOL_BYTES) {
    this.limit = checkBytes(maxBytes);
  }

  /**
   * A buffer of `dtype` with at least `size` elements (its length is `sizeClass(size)`,
   * or more for a buffer that came from outside the pool). Its contents are arbitrary
   * unless `zero` is set. With `shared`, a view of a SharedArrayBuffer (see
   * `sharedMemoryAvailable`). The caller owns it until it releases it.
   */
  acquire(dtype: DType, size: number, zero = false, shared = false): DataArray {
    if (!Number.isInteger(size) || size < 0) {
      throw new RangeError(`pool.acquire: size must be a non-negative integer, got ${size}`);
    }
    const cls = sizeClass(size);
    const list = this.free.get(poolKey(dtype, cls, shared));
    const buf = list?.pop();
    if (buf !== undefined) {
      this.hits++;
      this.held.delete(buf.buffer);
      this.heldBytes -= buf.byteLength;
      if (zero) buf.fill(0);
      return buf;
    }
    this.misses++;
    // a request near the element limit gets exactly what it asked for
    const n = cls > MAX_ELEMENTS ? size : cls;
    return shared ? allocateShared(dtype, n) : allocate(dtype, n);
  }

  /**
   * Gives `buf` back for reuse. The caller must hold no reference to it (nor to any view
   * of its memory) any more. Subarrays are not pooled.
   */
  release(buf: DataArray): void {
    const dtype = dtypeOf(buf);
    if (dtype === null) {
      throw new TypeError(`pool.release: expected a typed array of a dtype, got ${String(buf)}`);
    }
    const mem = buf.buffer;
    if (this.held.has(mem)) {
      throw new Error("pool.release: this buffer was released twice (it is already in the pool)");
    }
    // Only whole buffers: a view could be aliased by its siblings.
    const whole = buf.byteOffset === 0 && buf.byteLength === mem.byteLength;
    const cls = floorClass(buf.length);
    if (!whole || cls === 0 || this.heldBytes + buf.byteLength > this.limit) {
      this.dropped++;
      return;
    }
    const key = poolKey(dtype, cls, isSharedMemory(buf));
    let list = this.free.get(key);
    if (list === undefined) {
      list = [];
      this.free.set(key, list);
    }
    list.push(buf);
    this.held.add(mem);
    this.heldBytes += buf.byteLength;
  }

  /** Drops every held buffer. */
  clear(): void {
    for (const list of this.free.values()) for (const b of list) this.held.delete(b.buffer);
    this.free.clear();
    this.heldBytes = 0;
  }

  /** Sets the bound of the held bytes (dropping held buffers beyond it). */
  setMaxBytes(maxBytes: number): void {
    this.limit = checkBytes(maxBytes);
    if (this.heldBytes <= this.limit) return;
    for (const list of this.free.values()) {
      while (list.length > 0 && this.heldBytes > this.limit) {
        const b = list.pop()!;
        this.held.delete(b.buffer);
        this.heldBytes -= b.byteLength;
      }
    }
  }

  /** Whether `buf` is in the pool now (waiting for reuse). */
  holds(buf: DataArray): boolean {
    return this.held.has(buf.buffer);
  }

  stats(): PoolStats {
    let buffers = 0;
    for (const list of this.free.values()) buffers += list.length;
    return {
      bytes: this.heldBytes,
      maxBytes: this.limit,
      buffers,
      hits: this.hits,
      misses: this.misses,
      dropped: this.dropped,
    };
  }
}

function poolKey(dtype: DType, cls: number, shared: boolean): string {
  return shared ? `${dtype}${cls}s` : dtype + cls;
}

/**
 * Whether SharedArrayBuffer exists here (Node; browsers only on cross-origin-isolated
 * pages).
 */
export function sharedMemoryAvailable(): boolean {
  return typeof SharedArrayBuffer === "function";
}

/** Whether `buf` is a view of shared memory (a SharedArrayBuffer). */
export function isSharedMemory(buf: DataArray): boolean {
  return typeof SharedArrayBuffer === "function" && buf.buffer instanceof SharedArrayBuffer;
}

/** A zeroed array of `dtype` and `size` elements over a new SharedArrayBuffer. */
export function allocateShared(dtype: DType, size: number): DataArray {
  if (!sharedMemoryAvailable()) {
    throw new Error("allocateShared: SharedArrayBuffer is unavailable here");
  }
  if (size > MAX_ELEMENTS) throw new AllocationError(size, dtype);
  let mem: SharedArrayBuffer;
  try {
    mem = new SharedArrayBuffer(size * BYTES_PER_ELEMENT[dtype]);
  } catch (e) {
    if (e instanceof RangeError) throw new AllocationError(size, dtype, undefined, undefined, e);
    throw e;
  }
  switch (dtype) {
    case "float32":
      return new Float32Array(mem);
    case "float64":
      return new Float64Array(mem);
    case "int32":
      return new Int32Array(mem);
    case "bool":
      return new Uint8Array(mem);
  }
}

function checkBytes(n: unknown): number {
  if (typeof n !== "number" || !(n >= 0) || !Number.isFinite(n)) {
    throw new RangeError(`pool: maxBytes must be a finite number ≥ 0, got ${String(n)}`);
  }
  return n;
}

/** The pool shared by the jit interpreter's executables. */
export const bufferPool = new BufferPool();
