// Doc tests: every TypeScript/JavaScript code block in README.md and docs/ runs as a module.
// A block imports "nestgrad" as a user would (the import is pointed at src/index.ts); a block
// that uses `ng.` without importing it gets the import added. Blocks are self-contained, and
// the TypeScript ones must also type-check under the project's strict settings.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it, vi } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "test", ".doctest");

interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
}

function markdownFiles(): string[] {
  const files = [join(root, "README.md")];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".md")) files.push(p);
    }
  };
  walk(join(root, "docs"));
  return files;
}

/** Fenced blocks of a markdown text, with the line each starts on. */
export function extractBlocks(file: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split("\n");
  let open: { lang: string; line: number; body: string[] } | null = null;
  lines.forEach((l, i) => {
    const fence = /^\s*```(\S*)/.exec(l);
    if (fence) {
      if (open === null) open = { lang: fence[1]!.toLowerCase(), line: i + 1, body: [] };
      else {
        blocks.push({ file, line: open.line, lang: open.lang, code: open.body.join("\n") });
        open = null;
      }
    } else if (open !== null) (open as { body: string[] }).body.push(l);
  });
  if (open !== null)
    throw new Error(`${file}: unclosed code block at line ${(open as Block).line}`);
  return blocks;
}

const RUNNABLE = new Set(["ts", "typescript", "js", "javascript"]);
const blocks = markdownFiles().flatMap((f) =>
  extractBlocks(relative(root, f), readFileSync(f, "utf8")).filter((b) => RUNNABLE.has(b.lang)),
);

/** Writes each block as a module that imports the library's source as "nestgrad". */
function writeBlocks(): string[] {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const entry = relative(outDir, join(root, "src", "index.js")).replaceAll("\\", "/");
  return blocks.map((b, k) => {
    let code = b.code.replace(/from\s+["']nestgrad["']/g, `from "${entry}"`);
    if (!/import\s+\*\s+as\s+ng\b/.test(code) && /\bng\./.test(code)) {
      code = `import * as ng from "${entry}";\n${code}`;
    }
    const path = join(outDir, `block${k}.${b.lang.startsWith("j") ? "js" : "ts"}`);
    writeFileSync(path, `${code}\nexport {};\n`);
    return path;
  });
}

describe("doc tests", () => {
  const paths = writeBlocks();
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it("finds the code blocks of README.md and docs/", () => {
    expect(blocks.some((b) => b.file === "README.md")).toBe(true);
  });

  // A user's strict program needs no casts: the TypeScript blocks compile under the
  // project's strict settings (unused names allowed, since examples show values).
  it("the TypeScript blocks type-check under strict mode", () => {
    const config = ts.readConfigFile(join(root, "tsconfig.json"), (p) => ts.sys.readFile(p));
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram(
      paths.filter((p) => p.endsWith(".ts")),
      { ...parsed.options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false },
    );
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName.startsWith(outDir))
      .map((d) => {
        const k = Number(/block(\d+)/.exec(d.file!.fileName)![1]);
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        const b = blocks[k]!;
        return `${b.file}:${b.line} (line ${line} of the block): ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
      });
    expect(diagnostics).toEqual([]);
  }, 120_000);

  blocks.forEach((b, k) => {
    it(`${b.file}:${b.line} runs`, async () => {
      const log = vi.spyOn(console, "log").mockImplementation(() => {});
      try {
        await import(pathToFileURL(paths[k]!).href);
      } catch (e) {
        throw new Error(`${b.file}:${b.line}: the code block threw: ${(e as Error).stack ?? e}`, {
          cause: e,
        });
      } finally {
        log.mockRestore();
      }
    });
  });
});
