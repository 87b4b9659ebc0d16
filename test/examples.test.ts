// Smoke tests of the demo and the examples: each runs as a user would run it (tsx, one
// command), at a small size, and must exit cleanly, print its headline figure and write
// its plots as SVG and PNG.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tsx = join(root, "node_modules", ".bin", "tsx");
const out = mkdtempSync(join(tmpdir(), "nestgrad-examples-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Case {
  file: string;
  args: string[];
  headline: RegExp;
  plots: string[];
}

const CASES: Case[] = [
  {
    file: "demo.ts",
    args: ["--steps", "20", "--points", "32", "--width", "8"],
    headline: /max \|u − sin\(πx\)\| = \d\.\d+e[-+]\d+/,
    plots: ["demo-solution", "demo-loss"],
  },
  {
    file: "pinn-heat.ts",
    args: ["--steps", "10", "--points", "32"],
    headline: /max \|u − exact\| on a 41×21 grid = /,
    plots: ["pinn-heat", "pinn-heat-loss"],
  },
  {
    file: "wgan-gp.ts",
    args: ["--steps", "3", "--batch", "16"],
    headline: /modes covered/,
    plots: ["wgan-gp"],
  },
  {
    file: "hnn.ts",
    args: ["--steps", "10"],
    headline: /energy drift after t = 50: HNN/,
    plots: ["hnn-energy", "hnn-phase"],
  },
  {
    file: "maml.ts",
    args: ["--steps", "3", "--tasks", "2"],
    headline: /MAML after one inner step/,
    plots: ["maml"],
  },
  {
    file: "newton-cg.ts",
    args: ["--samples", "200", "--features", "5"],
    headline: /Newton–CG: ‖∇L‖ from .* to .* in \d+ steps/,
    plots: ["newton-cg"],
  },
  {
    file: "cnf.ts",
    args: ["--steps", "3", "--batch", "32"],
    headline: /CNF: test NLL -?\d+\.\d+ nats/,
    plots: ["cnf"],
  },
  {
    file: "dp-sgd.ts",
    args: ["--steps", "25", "--batch", "16"],
    headline: /test accuracy: non-private \d+\.\d%, DP-SGD/,
    plots: ["dp-sgd"],
  },
];

describe("examples run at a small size", () => {
  for (const c of CASES) {
    it(`examples/${c.file}`, async () => {
      const dir = join(out, c.file.replace(/\.ts$/, ""));
      const { stdout } = await run(tsx, [join(root, "examples", c.file), ...c.args, "--out", dir], {
        cwd: root,
        timeout: 240_000,
        maxBuffer: 16 * 2 ** 20,
      });
      expect(stdout).toMatch(c.headline);
      for (const p of c.plots) {
        const svg = join(dir, `${p}.svg`);
        const png = join(dir, `${p}.png`);
        expect(existsSync(svg), svg).toBe(true);
        expect(readFileSync(svg, "utf8")).toMatch(/^<svg/);
        expect(readFileSync(png).subarray(1, 4).toString()).toBe("PNG");
      }
    }, 300_000);
  }

  it("the demo's --help describes its options", async () => {
    const { stdout } = await run(tsx, [join(root, "examples", "demo.ts"), "--help"], { cwd: root });
    for (const o of ["--steps", "--seed", "--precision", "--strategy", "--out", "--tour"]) {
      expect(stdout).toContain(o);
    }
  });

  it("the demo rejects an unknown option, naming it", async () => {
    await expect(
      run(tsx, [join(root, "examples", "demo.ts"), "--stepz", "3"], { cwd: root }),
    ).rejects.toThrow(/stepz/);
  });
});
