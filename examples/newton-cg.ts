/**
 * Newton–CG on L2-regularised logistic regression, started at w = 0.
 *
 * Each Newton step solves H p = −g by conjugate gradients, where every product H v is one
 * Hessian-vector product `ng.hvp(loss, w, v)` (forward-over-reverse: the Hessian is never
 * formed). Near the optimum the gradient norm falls quadratically: the number of correct
 * digits roughly doubles per step. The headline is that table of gradient norms.
 *
 *   npx tsx examples/newton-cg.ts [--samples 2000] [--features 50] [--out out]
 */
import * as ng from "../src/index.js";
import { intOption, parseOptions } from "./lib/cli.js";
import { plotSeries } from "./lib/plot.js";

const opts = parseOptions("newton-cg", "Newton–CG with Hessian-vector products", {
  samples: { type: "string", default: "2000", help: "training samples" },
  features: { type: "string", default: "50", help: "features" },
  iterations: { type: "string", default: "10", help: "Newton iterations at most" },
  out: { type: "string", default: "out", help: "folder for the plot" },
});
const n = intOption("newton-cg", "samples", opts.samples);
const d = intOption("newton-cg", "features", opts.features);
const maxIter = intOption("newton-cg", "iterations", opts.iterations);

// Synthetic data from a known weight vector, with label noise so the optimum is finite.
const [kx, kw, kn] = ng.random.split(ng.random.key(7), 3);
const X = ng.random.normal(kx!, [n, d], { dtype: "float64" });
const wTrue = ng.random.normal(kw!, [d], { dtype: "float64" });
const noise = ng.random.normal(kn!, [n], { dtype: "float64" });
const y = ng.greater(ng.matmul(X, wTrue).add(noise), 0).cast("float64");
const lambda = 1e-3;

// Mean logistic loss with logits Xw (binaryCrossEntropyWithLogits is exact to second order at 0).
const loss = (w: ng.Tensor) =>
  ng.nn.binaryCrossEntropyWithLogits(ng.matmul(X, w), y).add(ng.sum(ng.square(w)).mul(lambda / 2));

/** Conjugate gradients for H p = b with H v = hvp(v); stops at relative residual tol. */
function cg(hv: (v: ng.Tensor) => ng.Tensor, b: ng.Tensor, tol: number, maxSteps: number) {
  let p = ng.zerosLike(b);
  let r = b;
  let dir = r;
  let rr = ng.dot(r, r).item();
  const bNorm = Math.sqrt(rr);
  let products = 0;
  for (let k = 0; k < maxSteps && Math.sqrt(rr) > tol * bNorm; k++) {
    const hd = hv(dir);
    products++;
    const alpha = rr / ng.dot(dir, hd).item();
    p = p.add(dir.mul(alpha));
    r = r.sub(hd.mul(alpha));
    const rrNew = ng.dot(r, r).item();
    dir = r.add(dir.mul(rrNew / rr));
    rr = rrNew;
  }
  return { p, products };
}

let w = ng.zeros([d], { dtype: "float64" });
const norms: number[] = [];
const rows: string[] = [];
for (let it = 0; it <= maxIter; it++) {
  const [value, g] = ng.valueAndGrad(loss)(w);
  const gNorm = ng.norm(g).item();
  norms.push(gNorm);
  if (gNorm < 1e-13 || it === maxIter) {
    rows.push(`${String(it).padStart(4)}  ${value.item().toFixed(12)}  ${gNorm.toExponential(2)}`);
    break;
  }
  // Inexact Newton: forcing term min(0.5, √‖g‖) gives superlinear, then quadratic, convergence.
  const { p, products } = cg(
    (v) => ng.hvp(loss, w, v),
    g.neg(),
    Math.min(0.5, Math.sqrt(gNorm)),
    4 * d,
  );
  rows.push(
    `${String(it).padStart(4)}  ${value.item().toFixed(12)}  ${gNorm.toExponential(2)}  ${String(products).padStart(4)}`,
  );
  w = w.add(p);
}
console.log(" iter  loss            ‖∇L‖      HVPs");
console.log(rows.join("\n"));
const ratios = norms
  .slice(1)
  .map((g, i) => Math.log(g) / Math.log(norms[i]!))
  .filter((r) => Number.isFinite(r));
console.log(
  `Newton–CG: ‖∇L‖ from ${norms[0]!.toExponential(2)} to ${norms.at(-1)!.toExponential(2)} in ${norms.length - 1} steps` +
    ` (log-ratio of successive norms at the end: ${ratios.at(-1)?.toFixed(2) ?? "-"}, 2 = quadratic)`,
);
const [svg] = await plotSeries(
  opts.out,
  "newton-cg",
  [{ name: "‖∇L‖", x: norms.map((_, i) => i), y: norms.map((g) => Math.max(g, 1e-16)) }],
  {
    title: "Newton–CG on logistic regression",
    xLabel: "Newton iteration",
    yLabel: "gradient norm",
    logY: true,
  },
);
console.log(`plot: ${svg} (and .png)`);
