/**
 * The benchmark suite: `npm run bench` (or `npm run bench -- --quick`)
 * measures nestgrad side by side with plain-JS loops and the tfjs CPU backend in one run
 * and prints tables of throughput and ratios (matmul on 1 and 2 threads, elementwise
 * families against a plain loop and the memory bandwidth, the per-op dispatch cost at small
 * sizes), then runs the AD section (bench/ad.ts:
 * nested-derivative workloads, operators and training steps, nestgrad eager and under
 * ng.jit against tfjs and jax-js, written to bench/results/latest.md),
 * the nested-switching strategies (bench/nested.ts) and the per-sample operators
 * (bench/operators.ts) and ng.di (bench/di.ts), each also writing its table under
 * bench/results/.
 * Timings are never asserted in tests.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { benchMatmul } from "./matmul.js";
import { benchElementwise } from "./elementwise.js";
import { runDispatchBench } from "./dispatch.js";
import { runADSection } from "./ad.js";
import { runNestedSection } from "./nested.js";
import { runOperatorsSection } from "./operators.js";
import { runDiBench } from "./di.js";

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  await tf.setBackend("cpu");
  await tf.ready();
  const started = performance.now();
  console.log(
    `nestgrad bench: node ${process.version}, ${process.platform}/${process.arch}, ` +
      `tfjs-core ${tf.version_core} (backend ${tf.getBackend()})${quick ? ", --quick" : ""}`,
  );
  // --ad: only the AD section (bench/ad.ts); --no-ad: only the tensor-layer tables
  const onlyAD = process.argv.includes("--ad");
  if (!onlyAD) {
    await benchMatmul(quick);
    await benchElementwise(quick);
    // per-op eager dispatch cost at small sizes
    await runDispatchBench(quick);
  }
  if (!process.argv.includes("--no-ad")) {
    await runADSection(quick);
    await tf.setBackend("cpu");
    // nested-switching strategies side by side (bench/results/nested.md)
    await runNestedSection(quick);
    // per-sample operators (bench/results/operators.md)
    await runOperatorsSection(quick);
    await tf.setBackend("cpu");
    // ng.di: prepared vs unprepared, sparse vs dense Hessian (bench/results/di.md)
    await runDiBench(quick);
  }
  console.log(`\ntotal ${((performance.now() - started) / 1e3).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
