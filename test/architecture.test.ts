// The import rules of docs/architecture.md, checked: every relative import in src/ points
// to a layer the importing layer may use (its own folder or a lower layer).
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src");

/** Layer of each top-level folder or module of src/, bottom (0) to top. Keep in step with docs/architecture.md. */
const LAYERS: Record<string, number> = {
  util: 0,
  tensor: 1,
  core: 2,
  config: 3,
  primitives: 4,
  ops: 5,
  random: 5,
  transforms: 6,
  nested: 7,
  operators: 7,
  jit: 8,
  di: 8,
  nn: 9,
  optim: 9,
  train: 10,
  testing: 10,
  index: 11,
};

function sourceFiles(dir: string, pattern = /\.ts$/): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sourceFiles(p, pattern);
    return pattern.test(e.name) ? [p] : [];
  });
}

/** The layer of a path inside src/: its first folder, or the module name for top-level files. */
function layerOf(path: string): string {
  const first = relative(src, path).split(/[\\/]/)[0]!;
  return first.replace(/\.(ts|js)$/, "");
}

describe("architecture: imports point downward", () => {
  const files = sourceFiles(src);

  it("knows every folder and top-level module of src/", () => {
    const unknown = [...new Set(files.map(layerOf))].filter((l) => !(l in LAYERS));
    expect(unknown).toEqual([]);
  });

  it("no module imports a higher layer (or a peer layer other than its own)", () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:import|export)[^"';]*?from\s+["'](\.[^"']+)["']/g)) {
        const target = layerOf(resolve(dirname(file), m[1]!));
        if (target === from) continue;
        if (!(LAYERS[target]! < LAYERS[from]!)) {
          violations.push(`${relative(src, file)} (${from}) imports ${m[1]} (${target})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});

describe("the repository is self-contained", () => {
  const root = resolve(src, "..");
  const folders = ["src", "test", "bench", "examples", "scripts", "docs", "web"];
  const files = [
    join(root, "README.md"),
    ...folders.flatMap((f) =>
      sourceFiles(join(root, f), /\.(ts|md|html)$/).filter(
        (p) => !/[\\/](dist|\.doctest[^\\/]*)[\\/]/.test(p),
      ),
    ),
  ];

  it("no file points outside the repository or to issue numbers", () => {
    // Built from pieces so that this test file does not match itself.
    const outside = new RegExp(
      ["DESIGN", "\\.md", "|\\.\\./shared", "|\\bissue #?\\d"].join(""),
      "i",
    );
    const hits = files.flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .flatMap((line, i) =>
          outside.test(line) ? [`${relative(root, f)}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(hits).toEqual([]);
  });
});
