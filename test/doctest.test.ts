// Doc tests: every TypeScript/JavaScript code block in README.md and docs/ runs as a module.
// A block imports "nestgrad" as a user would (the import is pointed at src/index.ts); a block
// that uses `ng.` without importing it gets the import added. Blocks are self-contained.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
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

describe("doc tests", () => {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it("finds the code blocks of README.md and docs/", () => {
    expect(blocks.some((b) => b.file === "README.md")).toBe(true);
  });

  blocks.forEach((b, k) => {
    it(`${b.file}:${b.line} runs`, async () => {
      const entry = relative(outDir, join(root, "src", "index.js")).replaceAll("\\", "/");
      let code = b.code.replace(/from\s+["']nestgrad["']/g, `from "${entry}"`);
      if (!/import\s+\*\s+as\s+ng\b/.test(code) && /\bng\./.test(code)) {
        code = `import * as ng from "${entry}";\n${code}`;
      }
      const path = join(outDir, `block${k}.${b.lang.startsWith("j") ? "js" : "ts"}`);
      writeFileSync(path, `${code}\nexport {};\n`);
      const log = vi.spyOn(console, "log").mockImplementation(() => {});
      try {
        await import(pathToFileURL(path).href);
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
