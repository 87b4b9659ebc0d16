/**
 * Validation of options objects, shared by every public function that takes one: an
 * unknown key is an error that names the function and suggests the closest known key
 * ("did you mean ...?"). The bottom layer: it imports nothing from the library.
 */

/** Edit distance (insertions, deletions, substitutions; a swap of neighbours counts one). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

/**
 * The known name closest to `name` (case-insensitive first), or undefined when none is
 * close enough to be a plausible typo.
 */
export function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(lower, k.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = k;
    }
  }
  const limit = Math.max(2, Math.floor(name.length / 3));
  return bestD <= limit ? best : undefined;
}

/** A short description of a value for error messages: its type, or its value if short. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === "function") return "a function";
  if (typeof v === "object") {
    const name = (v as object).constructor?.name;
    return name && name !== "Object" ? `a ${name}` : "an object";
  }
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  return `${typeof v} ${String(v)}`;
}

/**
 * Checks that `options` is undefined or a plain object whose keys are all in `allowed`.
 * Throws a TypeError naming `op`, the argument and the offending key, with a suggestion.
 * Returns the options object (or an empty one) for chaining.
 * @example const o = checkOptions("grad", options, ["argnums", "hasAux"]);
 */
export function checkOptions<T extends object>(
  op: string,
  options: T | undefined,
  allowed: readonly string[],
  argName = "options",
): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(
      `${op}: ${argName} must be an object with keys among {${allowed.join(", ")}}, got ${describe(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const guess = closest(key, allowed);
      throw new TypeError(
        `${op}: unknown option "${key}" in ${argName}` +
          (guess !== undefined ? `; did you mean "${guess}"?` : ".") +
          ` Known options: ${allowed.length ? allowed.join(", ") : "(none)"}.`,
      );
    }
  }
  return options;
}

/** The keys of `T` that `K` leaves out (never when every key is listed). */
type Unlisted<T, K extends readonly unknown[]> = Exclude<keyof T, K[number]>;

/**
 * The list of an options interface's keys, checked by the compiler both ways: a key that
 * is not in `T` or a key of `T` that is missing from the list fails to compile. Write the
 * list once next to the interface and pass it to `checkOptions`.
 * @example
 * interface GradOptions { argnums?: number; hasAux?: boolean }
 * const GRAD_OPTION_KEYS = optionKeys<GradOptions>()(["argnums", "hasAux"]);
 */
export function optionKeys<T extends object>() {
  return <const K extends readonly (keyof T & string)[]>(
    keys: K & ([Unlisted<T, K>] extends [never] ? unknown : { missingKeys: Unlisted<T, K> }),
  ): K => keys;
}

/** True for a plain object literal (not an array, a tensor or another class instance). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The optional trailing arguments of an op that takes them positionally or as one options
 * object (`sum(x, 1, true)` or `sum(x, { axis: 1, keepdims: true })`), as an object keyed by
 * `names`. An options object must come alone and is validated with `checkOptions`.
 * @example positionalOrOptions("sum", [{ axis: 1 }], ["axis", "keepdims"]) // { axis: 1 }
 * @example positionalOrOptions("sum", [1, true], ["axis", "keepdims"]) // { axis: 1, keepdims: true }
 */
export function positionalOrOptions<T extends object>(
  op: string,
  args: readonly unknown[],
  names: readonly (keyof T & string)[],
): Partial<T> {
  if (args.length > names.length && args.slice(names.length).some((a) => a !== undefined)) {
    throw new TypeError(
      `${op}: expected at most ${names.length} argument(s) after the input (${names.join(", ")}), got ${args.length}`,
    );
  }
  if (isPlainObject(args[0])) {
    const extra = args.slice(1).findIndex((a) => a !== undefined);
    if (extra >= 0) {
      throw new TypeError(
        `${op}: an options object replaces the positional arguments (${names.join(", ")}); ` +
          `got another argument after it: ${describe(args[extra + 1])}`,
      );
    }
    return checkOptions(op, args[0] as Partial<T>, names);
  }
  const out: Record<string, unknown> = {};
  names.forEach((n, i) => {
    if (isPlainObject(args[i])) {
      // e.g. sum(x, 1, { keepdims: true }): the object would reach the kernel as a value.
      throw new TypeError(
        `${op}: ${n}: got an options object as positional argument ${i + 2}; pass the options ` +
          `alone in place of all of (${names.join(", ")}), e.g. ${op}(x, { ${names.join(", ")} })`,
      );
    }
    if (args[i] !== undefined) out[n] = args[i];
  });
  return out as Partial<T>;
}
