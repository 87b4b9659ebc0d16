/**
 * The browser page: trains the demo's physics-informed network live and draws the learned
 * solution against the exact one, and the loss curve, as they evolve (Vega-Lite views
 * whose data is replaced every few steps). Training runs in short slices between frames so
 * the page stays responsive. Controls choose the nested strategy, the width and the
 * backend: eager, ng.jit on the built-in interpreter (synchronous), or ng.jit on ONNX
 * Runtime Web, whose API is asynchronous, so that backend awaits `step.async(...)` each
 * step. `?steps=N&backend=B&autostart=1` in the URL starts a run (used by the end-to-end
 * test).
 */
/// <reference types="vite/client" />
import * as ng from "nestgrad";
import * as vega from "vega";
import * as vl from "vega-lite";
import { poissonProblem } from "../examples/lib/poisson.js";

// onnxruntime-web is fetched only when its backend runs: a separate chunk, plus the
// WebAssembly binary that Vite copies as an asset (the ?url import) and wasmPaths names.
ng.setOnnxRuntimeWeb(async () => {
  const [ort, wasm] = await Promise.all([
    import("onnxruntime-web"),
    import("onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url"),
  ]);
  ort.env.wasm.wasmPaths = { wasm: wasm.default };
  return ort;
});

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $("status");
const trainButton = $<HTMLButtonElement>("train");
const stopButton = $<HTMLButtonElement>("stop");

function lineView(el: HTMLElement, title: string, xTitle: string, yTitle: string, logY: boolean) {
  const spec: vl.TopLevelSpec = {
    width: 460,
    height: 280,
    title,
    data: { name: "points" },
    mark: { type: "line", strokeWidth: 2 },
    encoding: {
      x: { field: "x", type: "quantitative", title: xTitle },
      y: {
        field: "y",
        type: "quantitative",
        title: yTitle,
        scale: logY ? { type: "log" } : { zero: false },
      },
      color: { field: "series", type: "nominal", title: null },
    },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "svg", container: el });
  return {
    async set(values: { x: number; y: number; series: string }[]) {
      view.data("points", values);
      await view.runAsync();
    },
  };
}
const solutionView = lineView($("solution"), "u(x): learned vs exact", "x", "u", false);
const lossView = lineView($("loss"), "loss", "step", "loss", true);

let stopRequested = false;
stopButton.onclick = () => (stopRequested = true);

/** Which engine ran the steps, in words: "eager", or jit's backend and its runtime. */
function engineOf(jitted: { stats(): ng.JitStats } | null): string {
  if (jitted === null) return "eager";
  const { backend, notes } = jitted.stats();
  const runtime = notes.find((n) => /^onnxruntime-(web|node) /.test(n));
  const unfused = notes.some((n) => n.includes("fusion is off")) ? ", unfused" : "";
  return `ng.jit on ${backend}${runtime ? `, ${runtime}` : ""}${unfused}`;
}

/** Disables the ONNX Runtime Web option with the reason it cannot run here. */
function disableOrtWeb(reason: string): void {
  const option = $<HTMLSelectElement>("backend").querySelector<HTMLOptionElement>(
    "option[value='onnxruntime']",
  )!;
  option.disabled = true;
  option.textContent = "ng.jit, ONNX Runtime Web (unavailable here)";
  $("backend-note").textContent = `ONNX Runtime Web could not be loaded: ${reason}`;
}

async function train(): Promise<void> {
  const strategy = $<HTMLSelectElement>("strategy").value;
  const width = Number($<HTMLSelectElement>("width").value);
  const backend = $<HTMLSelectElement>("backend").value;
  if (backend === "onnxruntime") {
    // Load ONNX Runtime Web first (a one-equation program): if it cannot run here, say why.
    const probe = ng.jit((x: ng.Tensor) => ng.neg(x), { backend: "onnxruntime" });
    try {
      await probe.async(ng.array([1]));
    } catch (e) {
      disableOrtWeb((e as Error).message);
      throw e;
    }
  }
  const steps = Math.max(10, Number($<HTMLInputElement>("steps").value) || 1500);
  ng.config.set(
    strategy === "off"
      ? { nestedSwitching: false }
      : { nestedSwitching: true, nestedStrategy: strategy as "auto" },
  );
  const P = poissonProblem({ width, dtype: "float32", seed: 0, points: 128 });
  const jitted =
    backend === "eager"
      ? null
      : ng.jit(P.step, { backend: backend === "onnxruntime" ? "onnxruntime" : "interpreter" });
  // ONNX Runtime Web has only an asynchronous API: await each step's promise.
  const step = async (...a: Parameters<typeof P.step>) =>
    jitted === null ? P.step(...a) : backend === "onnxruntime" ? jitted.async(...a) : jitted(...a);
  let ps = P.ps0;
  let os = ng.optim.setup(P.rule, ps);
  const losses: { x: number; y: number; series: string }[] = [];
  trainButton.disabled = true;
  stopButton.disabled = false;
  stopRequested = false;
  const t0 = performance.now();
  for (let i = 1; i <= steps && !stopRequested;) {
    // A slice of steps, then yield to the page so it can draw.
    const sliceEnd = Math.min(steps, i + 24);
    let last = 0;
    for (; i <= sliceEnd; i++) {
      const [ps2, os2, value] = await step(ps, os, P.points(i));
      ps = ps2;
      os = os2;
      if (i % 5 === 0) {
        last = value.item();
        losses.push({ x: i, y: last, series: "loss" });
      }
    }
    const { xs, learned, truth, maxError } = P.evaluate(ps, 101);
    const rate = (i - 1) / ((performance.now() - t0) / 1000);
    const ran = engineOf(jitted);
    status.textContent =
      `step ${i - 1}/${steps}  loss ${last.toExponential(3)}  max error ${maxError.toExponential(2)}` +
      `  ${rate.toFixed(0)} steps/s  (${ran}, strategy ${strategy}, width ${width})`;
    status.dataset.backend = jitted?.stats().backend ?? "eager";
    status.dataset.step = String(i - 1);
    status.dataset.loss = String(last);
    status.dataset.firstLoss = String(losses[0]?.y ?? last);
    await solutionView.set([
      ...xs.map((x, k) => ({ x, y: truth[k]!, series: "exact" })),
      ...xs.map((x, k) => ({ x, y: learned[k]!, series: "learned" })),
    ]);
    await lossView.set(losses);
    await new Promise((r) => requestAnimationFrame(() => r(undefined)));
  }
  status.dataset.done = "true";
  trainButton.disabled = false;
  stopButton.disabled = true;
}

trainButton.onclick = () => {
  train().catch((e: unknown) => {
    status.textContent = `error: ${(e as Error).message}`;
    status.dataset.error = (e as Error).message;
    trainButton.disabled = false;
  });
};

const params = new URLSearchParams(location.search);
if (params.has("steps")) $<HTMLInputElement>("steps").value = params.get("steps")!;
if (params.has("backend")) $<HTMLSelectElement>("backend").value = params.get("backend")!;
if (params.get("autostart") === "1") trainButton.click();
