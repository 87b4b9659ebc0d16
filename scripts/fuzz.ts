/**
 * `npm run fuzz`: the long run of the differential fuzzer (test/fuzz/programs.ts). Random
 * programs over the primitive registry are checked — jvp, vjp, grad, grad∘grad under
 * every nested-switching setting, vmap, staged evaluation — against finite differences and
 * against each other; a failure is shrunk by fast-check and printed as a readable program
 * with its IR and the seed and path that replay it.
 *
 *   npm run fuzz -- --seconds 600            run for ten minutes (default 60 s)
 *   npm run fuzz -- --runs 2000 --seed 7     a fixed number of programs from a seed
 *   npm run fuzz -- --keep-going             after a failure, go on with the next seed
 *   npm run fuzz -- --seed 7 --path 12:3:0   replay one counterexample
 *   options: --max-steps N (default 6), --max-inputs N (default 3), --quiet,
 *   --skip-nested-dtypes (leave out the dtype check of Hessian-vector products)
 */
import fc from "fast-check";
import {
  checkProgram,
  describeProgram,
  programArbitrary,
  Rejected,
  type ProgramSpec,
} from "../test/fuzz/programs.js";

interface Args {
  runs: number;
  seconds: number;
  seed: number;
  path?: string;
  keepGoing: boolean;
  maxSteps: number;
  maxInputs: number;
  quiet: boolean;
  nestedDtypes: boolean;
}

const USAGE =
  "usage: npm run fuzz -- [--runs N] [--seconds S] [--seed N] [--path P] [--keep-going] " +
  "[--max-steps N] [--max-inputs N] [--quiet] [--skip-nested-dtypes]";

function parseArgs(argv: string[]): Args {
  const out: Args = {
    runs: Infinity,
    seconds: NaN,
    seed: Date.now() % 1_000_000_007,
    keepGoing: false,
    maxSteps: 6,
    maxInputs: 3,
    quiet: false,
    nestedDtypes: true,
  };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) {
      throw new RangeError(
        `fuzz: ${flag}: expected a non-negative number, got ${String(v)}\n${USAGE}`,
      );
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--runs") out.runs = num(a, argv[++i]);
    else if (a === "--seconds") out.seconds = num(a, argv[++i]);
    else if (a === "--seed") out.seed = num(a, argv[++i]);
    else if (a === "--path") out.path = argv[++i];
    else if (a === "--keep-going") out.keepGoing = true;
    else if (a === "--max-steps") out.maxSteps = num(a, argv[++i]);
    else if (a === "--max-inputs") out.maxInputs = num(a, argv[++i]);
    else if (a === "--quiet") out.quiet = true;
    else if (a === "--skip-nested-dtypes") out.nestedDtypes = false;
    else throw new RangeError(`fuzz: unknown option ${a}\n${USAGE}`);
  }
  // Without a run count, a time box (default one minute).
  if (Number.isNaN(out.seconds)) out.seconds = out.runs === Infinity ? 60 : Infinity;
  return out;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const start = Date.now();
  const elapsed = () => (Date.now() - start) / 1000;
  const stats = { passed: 0, rejected: 0, fd: 0 };
  // After a failure fast-check shrinks it, calling the property again: not counted.
  let shrinking = false;
  let lastReport = 0;
  const failures: string[] = [];
  const arb = programArbitrary({ maxSteps: args.maxSteps, maxInputs: args.maxInputs });
  const property = fc.property(arb, (spec: ProgramSpec) => {
    try {
      const r = checkProgram(spec, { nestedDtypes: args.nestedDtypes });
      if (!shrinking) {
        stats.passed++;
        if (r.fd) stats.fd++;
      }
    } catch (e) {
      if (e instanceof Rejected) {
        if (!shrinking) stats.rejected++;
        fc.pre(false);
      }
      shrinking = true;
      throw e;
    }
    if (!args.quiet && elapsed() - lastReport >= 10) {
      lastReport = elapsed();
      console.log(
        `[${elapsed().toFixed(0)} s] ${stats.passed} programs passed (${stats.fd} also against finite ` +
          `differences), ${stats.rejected} rejected near kinks`,
      );
    }
  });

  let seed = args.seed;
  let runsLeft = args.runs;
  for (;;) {
    const secondsLeft = args.seconds - elapsed();
    if (runsLeft <= 0 || secondsLeft <= 0) break;
    const before = stats.passed;
    shrinking = false;
    console.log(`seed ${seed}`);
    const details = fc.check(property, {
      seed,
      path: args.path,
      numRuns: Number.isFinite(runsLeft) ? runsLeft : 1_000_000_000,
      interruptAfterTimeLimit: Number.isFinite(secondsLeft) ? secondsLeft * 1000 : undefined,
      markInterruptAsFailure: false,
      maxSkipsPerRun: 1000,
    });
    runsLeft -= stats.passed - before;
    if (!details.failed) break;
    const spec = details.counterexample?.[0] as ProgramSpec | undefined;
    const report = [
      `FAILURE (seed ${details.seed}, path ${details.counterexamplePath}; replay with ` +
        `npm run fuzz -- --seed ${details.seed} --path ${details.counterexamplePath})`,
      details.errorInstance instanceof Error
        ? details.errorInstance.message
        : fc.defaultReportMessage(details),
      spec ? `\nshrunk program as data: ${JSON.stringify(spec)}` : "",
    ].join("\n");
    console.log(`\n${report}\n`);
    if (spec && !(details.errorInstance instanceof Error)) console.log(describeProgram(spec));
    failures.push(report);
    if (!args.keepGoing || args.path !== undefined) break;
    seed++;
  }
  console.log(
    `done in ${elapsed().toFixed(0)} s: ${stats.passed} programs passed (${stats.fd} also against ` +
      `finite differences), ${stats.rejected} rejected near kinks, ${failures.length} failure(s)`,
  );
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = main();
