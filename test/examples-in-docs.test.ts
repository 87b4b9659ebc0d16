// API examples: every public function (walked at runtime from src/index.ts, namespaces
// included) must carry an `@example` in its doc comment, and every such example runs. The
// doc comments are read with the TypeScript compiler: each export of src/index.ts is
// resolved to its declaration, and the `@example` tags of that declaration (all overloads)
// are collected. Each example runs as its own module under test/.doctest-api/, with `ng`
// in scope and these few names predefined (an example may reassign them, or shadow them
// with its own declarations):
//
//   x, y   ng.array([0.5, -1, 2]) and ng.array([1.5, 2, -0.5]): small float tensors
//   v      ng.array([1, 0, 0]): a tangent (direction) shaped like x
//   f      (x) => ng.sum(ng.sin(x)): a scalar function of one tensor
//
// A line whose comment starts with `throws` is checked to throw (an error of the library,
// not a ReferenceError). A line that ends in an expression and whose comment states a value
// as JSON (`ng.sqrt(ng.array([4, 9])) // [2, 3]`, also `// int32 [1, -1]` or
// `// [4, 4]: why`) is checked to produce it, to the digits written (the checks are in
// test/examples-in-docs-harness.ts).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it, vi } from "vitest";
import * as ng from "../src/index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "test", ".doctest-api");
const entry = join(root, "src", "index.ts");

/**
 * Public functions that need no example, each with its reason. Keep it empty unless a
 * function truly cannot run in a test.
 */
const EXCLUDED: Record<string, string> = {};

/** The predefined names of the header comment, as the prelude of every example module. */
const PRELUDE = [
  "let x = ng.array([0.5, -1, 2]);",
  "let y = ng.array([1.5, 2, -0.5]);",
  "let v = ng.array([1, 0, 0]);",
  "let f = (x: ng.Tensor) => ng.sum(ng.sin(x));",
].join("\n");

interface Doc {
  /** Where the declaration is, as `src/file.ts:line`. */
  where: string;
  examples: string[];
}

/** Public name (`grad`, `nn.losses.mse`) → doc of its declaration, from the compiler. */
function collectDocs(): Map<string, Doc> {
  const program = ts.createProgram([entry], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (source === undefined) throw new Error(`cannot read ${entry}`);
  const docs = new Map<string, Doc>();
  const walk = (moduleSymbol: ts.Symbol, prefix: string, depth: number): void => {
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const sym =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const name = prefix + exported.name;
      const decls = sym.declarations ?? [];
      if (decls.some((d) => ts.isSourceFile(d)) && depth < 4) {
        walk(sym, `${name}.`, depth + 1);
        continue;
      }
      if (decls.length === 0) continue;
      const examples: string[] = [];
      for (const d of decls) {
        for (const tag of ts.getJSDocTags(d)) {
          if (tag.tagName.text !== "example") continue;
          const text = ts.getTextOfJSDocComment(tag.comment)?.trim() ?? "";
          if (text !== "" && !examples.includes(text)) examples.push(text);
        }
      }
      const d0 = decls[0]!;
      const file = d0.getSourceFile();
      const line = file.getLineAndCharacterOfPosition(d0.getStart()).line + 1;
      docs.set(name, { where: `${relative(root, file.fileName)}:${line}`, examples });
    }
  };
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (moduleSymbol === undefined) throw new Error(`${entry} is not a module`);
  walk(moduleSymbol, "", 0);
  return docs;
}

const isClass = (v: unknown): boolean =>
  typeof v === "function" && /^class\b/.test(Function.prototype.toString.call(v));
const isNamespace = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && Object.prototype.toString.call(v) === "[object Module]";

/** Every public function, by dotted name, walking the module object at runtime. */
function publicFunctions(): string[] {
  const names: string[] = [];
  const walk = (ns: Record<string, unknown>, prefix: string): void => {
    for (const k of Object.keys(ns).sort()) {
      const v = ns[k];
      if (isNamespace(v)) walk(v, `${prefix}${k}.`);
      else if (typeof v === "function" && !isClass(v)) names.push(prefix + k);
    }
  };
  walk(ng as unknown as Record<string, unknown>, "");
  return names;
}

/** A line split into its code and its trailing `//` comment (null when it has none). */
function splitComment(line: string): [string, string | null] {
  const scanner = ts.createScanner(
    ts.ScriptTarget.ES2022,
    false,
    ts.LanguageVariant.Standard,
    line,
  );
  for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) {
    if (t === ts.SyntaxKind.SingleLineCommentTrivia) {
      const at = scanner.getTokenStart();
      return [line.slice(0, at).trimEnd(), line.slice(at + 2).trim()];
    }
  }
  return [line, null];
}

/**
 * The value a comment states, when it is one: JSON (a number, string, boolean or nested
 * array), optionally after a dtype and before an explanation (`: ...` or ` (...)`).
 */
function statedValue(
  comment: string,
): { value: unknown; numbers: string[]; dtype?: string } | null {
  const m = /^(?:(float32|float64|int32|bool)\s+)?(.*)$/.exec(comment)!;
  const text = m[2]!;
  const cut = text.search(/: | \(/);
  for (const candidate of cut > 0 ? [text, text.slice(0, cut)] : [text]) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      continue;
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return null;
    const numbers =
      typeof value === "string" ? [] : (candidate.match(/-?[\d.]+(?:[eE][-+]?\d+)?/g) ?? []);
    return { value, numbers, ...(m[1] === undefined ? {} : { dtype: m[1] }) };
  }
  return null;
}

/** The code with its last statement's expression wrapped by `wrap`, when it ends in one. */
function wrapLastExpression(code: string, wrap: (expr: string) => string): string | null {
  const { diagnostics } = ts.transpileModule(code, { reportDiagnostics: true });
  if ((diagnostics ?? []).length > 0) return null;
  const sf = ts.createSourceFile("line.ts", code, ts.ScriptTarget.ES2022, true);
  const last = sf.statements[sf.statements.length - 1];
  if (last === undefined || !ts.isExpressionStatement(last)) return null;
  const e = last.expression;
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken) return null;
  return code.slice(0, e.getStart(sf)) + wrap(code.slice(e.getStart(sf), e.end)) + ";";
}

/**
 * The example as a module body, in a block so that it may redeclare the prelude. A line
 * whose comment starts with `throws` must throw; a line that ends in an expression and whose
 * comment states a value (`ng.sqrt(ng.array([4, 9])) // [2, 3]`) must produce that value,
 * to the digits written.
 */
function moduleSource(example: string): string {
  const importPath = relative(outDir, join(root, "src", "index.js")).replaceAll("\\", "/");
  const body = example
    .split("\n")
    .map((l) => {
      const [code, comment] = splitComment(l);
      if (comment === null || code.trim() === "") return l;
      const where = JSON.stringify(l.trim());
      if (/^throws\b/.test(comment)) return `expectThrows(() => { ${code} }, ${where});`;
      const stated = statedValue(comment);
      if (stated === null) return l;
      const { value, numbers, dtype } = stated;
      const args = [value, numbers, dtype ?? null, l.trim()].map((a) => JSON.stringify(a));
      const checked = wrapLastExpression(code, (e) => `expectResult(${e}, ${args.join(", ")})`);
      return checked ?? l;
    })
    .join("\n");
  return (
    `import * as ng from "${importPath}";\n` +
    `import { expectResult, expectThrows } from "../examples-in-docs-harness.js";\n` +
    `${PRELUDE}\n{\n${body}\n}\nexport {};\n`
  );
}

/** Writes `example` as a module under test/.doctest-api/ and imports it. */
async function runExample(fileName: string, example: string): Promise<void> {
  const path = join(outDir, `${fileName}.ts`);
  writeFileSync(path, moduleSource(example));
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    await import(pathToFileURL(path).href);
  } finally {
    log.mockRestore();
  }
}

const docs = collectDocs();
const functions = publicFunctions();

describe("API examples", () => {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it("finds the public functions, namespaces included", () => {
    for (const name of ["grad", "nn.dense", "nn.losses.mse", "optim.adam", "di.gradient"]) {
      expect(functions).toContain(name);
    }
    for (const name of Object.keys(EXCLUDED)) expect(functions).toContain(name);
  });

  it("every public function has an @example", () => {
    const missing = functions
      .filter((n) => !(n in EXCLUDED))
      .filter((n) => (docs.get(n)?.examples.length ?? 0) === 0)
      .map((n) => `  ${n} (${docs.get(n)?.where ?? "declaration not found"})`);
    expect(missing, `public functions without an @example:\n${missing.join("\n")}`).toEqual([]);
  });

  it("checks stated values and `throws` lines", async () => {
    await runExample("self_check_ok", "ng.sqrt(ng.array([4, 9])) // float32 [2, 3]");
    await runExample("self_check_throws", "ng.nd.checkShape([-1]) // throws");
    const bad: [string, RegExp][] = [
      ["ng.sqrt(ng.array([4, 9])) // [2, 4]", /expected 4/],
      ["ng.sqrt(ng.array([4])) // float64 [2]", /expected dtype float64/],
      ["ng.exp(ng.array(1)) // 2.71 (e, to 2 decimals: 2.72)", /expected 2\.71/],
      ["ng.sqrt(ng.array([4])) // throws", /expected to throw/],
      ["undefinedName() // throws", /undefinedName is not defined/],
    ];
    for (const [k, [example, error]] of bad.entries()) {
      await expect(runExample(`self_check_bad_${k}`, example)).rejects.toThrow(error);
    }
  });

  for (const name of functions) {
    const doc = docs.get(name);
    if (doc === undefined || name in EXCLUDED) continue;
    doc.examples.forEach((example, k) => {
      it(`${name} example ${k + 1} runs`, async () => {
        try {
          await runExample(`${name.replaceAll(".", "_")}_${k}`, example);
        } catch (e) {
          throw new Error(
            `${name} (${doc.where}): its @example failed:\n${example}\n${(e as Error).stack ?? e}`,
            { cause: e },
          );
        }
      });
    });
  }
});
