/**
 * Plots for the demo and the examples: a Vega-Lite spec compiled by vega-lite, rendered
 * headless to SVG by vega, and rasterised to PNG by resvg. Each plot is written as
 * `<name>.svg` and `<name>.png` in the output folder.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import * as vl from "vega-lite";

/** One named series of (x, y) points. */
export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Draw points instead of a line. */
  points?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  width?: number;
  height?: number;
}

/** Writes `<outDir>/<name>.svg` and `.png`; returns the two paths. */
export async function plotSeries(
  outDir: string,
  name: string,
  series: readonly Series[],
  options: PlotOptions,
): Promise<[string, string]> {
  const values = series.flatMap((s) =>
    Array.from(s.x, (x, i) => ({ x, y: s.y[i]!, i, series: s.name })),
  );
  const yScale = options.logY ? { type: "log" as const } : { zero: false };
  const encoding = {
    x: { field: "x", type: "quantitative" as const, title: options.xLabel },
    y: { field: "y", type: "quantitative" as const, title: options.yLabel, scale: yScale },
    color: { field: "series", type: "nominal" as const, title: null },
    // Lines join points in the order given (phase portraits are not functions of x).
    order: { field: "i", type: "quantitative" as const },
  };
  const layers = series.map((s) => ({
    transform: [{ filter: { field: "series", equal: s.name } }],
    mark: s.points
      ? { type: "point" as const, filled: true, size: 18 }
      : { type: "line" as const, strokeWidth: 2 },
    encoding,
  }));
  const spec: vl.TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: options.title,
    width: options.width ?? 520,
    height: options.height ?? 300,
    background: "white",
    data: { values },
    layer: layers,
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  mkdirSync(outDir, { recursive: true });
  const svgPath = join(outDir, `${name}.svg`);
  const pngPath = join(outDir, `${name}.png`);
  writeFileSync(svgPath, svg);
  const png = new Resvg(svg, { fitTo: { mode: "zoom", value: 2 }, font: { loadSystemFonts: true } })
    .render()
    .asPng();
  writeFileSync(pngPath, png);
  return [svgPath, pngPath];
}
