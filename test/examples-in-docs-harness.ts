// Runtime checks for the API examples (test/examples-in-docs.test.ts): each generated
// example module imports these to check a `// throws` line and a `// <value>` result.
import { NDArray, Tensor } from "../src/index.js";

/** An error of the example itself (an undefined name), not one the library threw. */
function isExampleError(e: unknown): boolean {
  return (
    e instanceof ReferenceError || (e instanceof TypeError && / is not a function/.test(e.message))
  );
}

/** Runs `fn`, which the example says throws; fails unless the library threw. */
export function expectThrows(fn: () => unknown, line: string): void {
  try {
    fn();
  } catch (e) {
    if (isExampleError(e)) throw e;
    return;
  }
  throw new Error(`expected to throw: ${line}`);
}

function plain(v: unknown): unknown {
  if (v instanceof Tensor || v instanceof NDArray) return v.toArray();
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

/** Tolerance of a number written in a comment: half a unit of its last digit, plus float32 noise. */
function tolerance(text: string, e: number): number {
  const m = /^-?\d+(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/.exec(text);
  const digits = (m?.[1]?.length ?? 0) - Number(m?.[2] ?? 0);
  const rounding = m?.[1] !== undefined || m?.[2] !== undefined ? 0.5 * 10 ** -digits : 0;
  return rounding + 1e-5 * Math.abs(e) + 1e-6;
}

/**
 * Checks the value of an example line against its comment: `expected` is the comment
 * parsed as JSON, `numbers` the number literals of the comment in order (their digits set
 * the tolerance), `dtype` a dtype written before the value.
 */
export function expectResult(
  actual: unknown,
  expected: unknown,
  numbers: string[],
  dtype: string | null,
  line: string,
): void {
  const fail = (why: string): never => {
    throw new Error(`${line}\n  ${why}\n  got ${JSON.stringify(plain(actual))}`);
  };
  if (dtype !== null) {
    const got = (actual as { dtype?: unknown }).dtype;
    if (got !== dtype) fail(`expected dtype ${dtype}, got ${String(got)}`);
  }
  let k = 0;
  const same = (a: unknown, e: unknown, path: string): void => {
    if (Array.isArray(e)) {
      if (!Array.isArray(a) || a.length !== e.length)
        fail(`at ${path || "the top"}: shape differs`);
      e.forEach((ei, i) => same((a as unknown[])[i], ei, `${path}[${i}]`));
    } else if (typeof e === "number") {
      const tol = tolerance(numbers[k++] ?? "", e);
      if (typeof a !== "number" || !(Math.abs(a - e) <= tol)) {
        fail(`at ${path || "the top"}: expected ${e} (±${tol.toPrecision(2)}), got ${String(a)}`);
      }
    } else if (a !== e) {
      fail(`at ${path || "the top"}: expected ${JSON.stringify(e)}, got ${String(a)}`);
    }
  };
  same(plain(actual), expected, "");
}
