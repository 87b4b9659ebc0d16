// End-to-end test of the browser page (web/): it is built with Vite, served on loopback,
// and driven in headless Chromium (Debian's package, through playwright-core). The page
// must train — the loss falls — and draw both plots, on the built-in interpreter with its
// fused loops and WebAssembly kernels; a screenshot is saved to out/web/.
// A second, short run uses the ONNX Runtime Web backend (jitted.async on its WebAssembly
// build, served as a Vite asset) and must say that this backend ran.
// Without a Chromium the test is skipped locally and fails in CI (CI=true), where
// .ci/run installs it.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(`web test: no Chromium at ${CHROMIUM}; .ci/run installs Debian's chromium`);
}

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
  ".mjs": "text/javascript",
};

describe.skipIf(!haveChromium)("the browser page", () => {
  const dist = join(root, "web", "dist");
  let server: Server;
  let browser: Browser;
  let url = "";

  beforeAll(async () => {
    await build({ configFile: join(root, "web", "vite.config.ts"), logLevel: "warn" });
    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
      const file = join(dist, path === "/" ? "index.html" : path);
      if (!file.startsWith(dist) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
      });
      res.end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  it("trains the PINN: the loss falls and both plots are drawn", async () => {
    const page = await browser.newPage({ viewport: { width: 1150, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${url}?steps=100&autostart=1`);
    await page.waitForSelector("#status[data-done='true'], #status[data-error]", {
      timeout: 150_000,
    });
    const data: Record<string, string | undefined> = await page.$eval("#status", (el) => ({
      ...(el as HTMLElement).dataset,
      text: el.textContent ?? "",
    }));
    expect(data.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(Number(data.step)).toBe(100);
    // The default engine: the built-in interpreter, with its generated fused loops running
    // in the browser (the page would say "unfused" if code generation were refused).
    expect(data.text).toMatch(/ng\.jit on interpreter,/);
    expect(data.text).not.toMatch(/unfused/);
    expect(Number(data.loss)).toBeLessThan(Number(data.firstLoss) / 5);
    // Both views rendered lines with data: SVG paths with many vertices.
    for (const id of ["#solution", "#loss"]) {
      const longest = await page.$$eval(`${id} svg path`, (paths) =>
        Math.max(0, ...paths.map((p) => (p.getAttribute("d") ?? "").length)),
      );
      expect(longest, id).toBeGreaterThan(200);
    }
    mkdirSync(join(root, "out", "web"), { recursive: true });
    await page.screenshot({ path: join(root, "out", "web", "screenshot.png"), fullPage: true });
    await page.close();
  }, 200_000);

  it("trains on ONNX Runtime Web through the asynchronous jitted call", async () => {
    const page = await browser.newPage({ viewport: { width: 1150, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${url}?backend=onnxruntime&steps=30&autostart=1`);
    await page.waitForSelector("#status[data-done='true'], #status[data-error]", {
      timeout: 120_000,
    });
    const data: Record<string, string | undefined> = await page.$eval("#status", (el) => ({
      ...(el as HTMLElement).dataset,
      text: el.textContent ?? "",
    }));
    const note = await page.$eval("#backend-note", (el) => el.textContent ?? "");
    expect(data.error, note).toBeUndefined();
    expect(errors).toEqual([]);
    expect(Number(data.step)).toBe(30);
    expect(Number(data.loss)).toBeLessThan(Number(data.firstLoss));
    // The page says which engine ran: jit's backend and the ONNX Runtime package.
    expect(data.backend).toMatch(/^onnxruntime/);
    expect(data.text).toMatch(/ng\.jit on onnxruntime(\+interpreter)?, onnxruntime-web 1\.30\.0/);
    await page.close();
  }, 150_000);

  it("disables the ONNX Runtime Web option with the reason when it cannot load", async () => {
    const page = await browser.newPage();
    // Without its WebAssembly binary, ONNX Runtime Web cannot start.
    await page.route("**/*.wasm", (route) => route.abort());
    await page.goto(`${url}?backend=onnxruntime&steps=10&autostart=1`);
    await page.waitForSelector("#status[data-done='true'], #status[data-error]", {
      timeout: 60_000,
    });
    const status = await page.$eval("#status", (el) => ({
      ...(el as HTMLElement).dataset,
      text: el.textContent ?? "",
    }));
    expect(status).toMatchObject({ error: expect.stringMatching(/onnxruntime/) });
    expect(await page.$eval("#backend-note", (el) => el.textContent)).toMatch(
      /^ONNX Runtime Web could not be loaded: /,
    );
    expect(
      await page.$eval("option[value='onnxruntime']", (el) => (el as HTMLOptionElement).disabled),
    ).toBe(true);
    await page.close();
  }, 90_000);
});
