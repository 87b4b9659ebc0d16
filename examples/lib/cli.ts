/**
 * Command-line plumbing shared by the demo and the examples: strict option parsing with
 * `--help` (node:util parseArgs; an unknown option is an error), a progress bar
 * (cli-progress) that shows step, loss and steps per second, and small number helpers.
 */
import { parseArgs } from "node:util";
import { SingleBar, Presets } from "cli-progress";

export interface OptionSpec {
  type: "string" | "boolean";
  default?: string | boolean;
  help: string;
}

/**
 * Parses process.argv against `spec`; prints help and exits on --help, and exits with a
 * message naming the option on a bad or unknown one.
 */
export function parseOptions<S extends Record<string, OptionSpec>>(
  program: string,
  summary: string,
  spec: S,
  argv: string[] = process.argv.slice(2),
): { [K in keyof S]: S[K]["type"] extends "boolean" ? boolean : string } {
  const options: Record<string, { type: "string" | "boolean"; default?: string | boolean }> = {
    help: { type: "boolean", default: false },
  };
  for (const [k, v] of Object.entries(spec)) {
    options[k] = v.default === undefined ? { type: v.type } : { type: v.type, default: v.default };
  }
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    console.error(`${program}: ${(e as Error).message}\nRun with --help to see the options.`);
    process.exit(2);
  }
  if (values.help) {
    const lines = Object.entries(spec).map(([k, v]) => {
      const arg = v.type === "string" ? ` <${k}>` : "";
      const def = v.default !== undefined && v.type === "string" ? ` (default ${v.default})` : "";
      return `  --${k}${arg}`.padEnd(26) + v.help + def;
    });
    console.log(
      `${program}: ${summary}\n\nOptions:\n${lines.join("\n")}\n  --help                  this text`,
    );
    process.exit(0);
  }
  return values as never;
}

/** A positive integer option, or exit with a message naming it. */
export function intOption(program: string, name: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    console.error(`${program}: --${name} must be an integer ≥ ${min}, got "${value}"`);
    process.exit(2);
  }
  return n;
}

/** One of `choices`, or exit with a message naming the option. */
export function choiceOption<C extends string>(
  program: string,
  name: string,
  value: string,
  choices: readonly C[],
): C {
  if (!(choices as readonly string[]).includes(value)) {
    console.error(`${program}: --${name} must be one of ${choices.join(", ")}, got "${value}"`);
    process.exit(2);
  }
  return value as C;
}

/** A progress bar over `total` steps showing the loss and the steps per second. */
export function progressBar(
  label: string,
  total: number,
): {
  update(step: number, loss: number): void;
  stop(): void;
} {
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} | loss {loss} | {rate} steps/s`,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
    },
    Presets.shades_classic,
  );
  const start = performance.now();
  bar.start(total, 0, { loss: "-", rate: "-" });
  return {
    update(step, loss) {
      const rate = step / ((performance.now() - start) / 1000);
      bar.update(step, { loss: loss.toExponential(3), rate: rate.toFixed(1) });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
