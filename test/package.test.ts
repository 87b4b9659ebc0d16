// Packaging checks: the core entry point bundles for browsers without Node-only
// modules, and the built package resolves through its `exports` map as `nestgrad`.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("package", () => {
  it("bundles src/index.ts for the browser with no Node built-ins", async () => {
    const result = await build({
      entryPoints: [`${root}src/index.ts`],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
      metafile: true,
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.some((p) => p.startsWith("node:") || p.includes("node_modules"))).toBe(false);
    expect(result.outputFiles[0]!.text.length).toBeGreaterThan(10_000);
  });

  it("declares ESM exports that point into dist/", () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as {
      type: string;
      exports: Record<string, { import?: string; types?: string }>;
    };
    expect(pkg.type).toBe("module");
    expect(pkg.exports["."]!.import).toBe("./dist/index.js");
    expect(pkg.exports["."]!.types).toBe("./dist/index.d.ts");
  });

  it.runIf(existsSync(`${root}dist/index.js`))(
    'resolves `import * as ng from "nestgrad"` from the build',
    () => {
      const script =
        'import * as ng from "nestgrad"; const g = ng.grad((x) => ng.sum(ng.mul(x, x)))(ng.array([1, 2]));' +
        "console.log(JSON.stringify(g.toArray()));";
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        cwd: root,
        encoding: "utf8",
      });
      expect(JSON.parse(out.trim())).toEqual([2, 4]);
    },
  );
});
