// jit's debug hooks: with debugNans on, a jitted program whose outputs hold a NaN or an
// infinity is re-run eagerly to raise the FloatingPointError that names the primitive (on
// every backend, synchronously, asynchronously and under grad); the "jit" debug channel
// logs each staging and compilation with its signature, backend, equation counts and notes.
import { afterEach, describe, expect, it } from "vitest";
import * as ng from "../../src/index.js";
import type { Tensor } from "../../src/core/tensor.js";
import { setJitLogSink } from "../../src/jit/log.js";

afterEach(() => {
  ng.config.set({ debugNans: false, debug: [] });
});

/** log(x − 2) is NaN for x < 2: the primitive to be named is "log". */
const f = (x: Tensor) => ng.sum(ng.mul(ng.log(ng.sub(x, 2)), 3));
const bad = () => ng.array([1, 3]);
const good = () => ng.array([3, 4]);

/** The error `run` throws or rejects with (null when none). */
async function caught(run: () => unknown): Promise<Error | null> {
  try {
    await run();
    return null;
  } catch (e) {
    return e as Error;
  }
}

describe.each(["interpreter", "onnxruntime"])("debugNans on backend %s", (backend) => {
  it("names the primitive and says the program was jitted", async () => {
    ng.config.set({ debugNans: true });
    const jf = ng.jit(f, { backend });
    expect(jf(good()).item()).toBeCloseTo(f(good()).item(), 5);
    for (const [how, run] of [
      ["sync", () => jf(bad())],
      ["async", () => jf.async(bad())],
    ] as const) {
      const e = await caught(run);
      expect(e, how).toBeInstanceOf(ng.FloatingPointError);
      expect((e as ng.FloatingPointError).primitive, how).toBe("log");
      expect(e!.message, how).toMatch(
        new RegExp(
          `debugNans: primitive 'log'.*the jitted program f \\(backend ${backend}\\) produced a non-finite value in output 0`,
        ),
      );
    }
  });

  it("locates the primitive inside a compiled derivative under grad", () => {
    ng.config.set({ debugNans: true });
    const e = (() => {
      try {
        ng.grad(ng.jit(f, { backend }))(bad());
        return null;
      } catch (err) {
        return err as Error;
      }
    })();
    expect(e).toBeInstanceOf(ng.FloatingPointError);
    expect((e as ng.FloatingPointError).primitive).toBe("log");
    expect(e!.message).toMatch(/the jitted program f.* produced a non-finite value/);
  });

  it("stays silent while debugNans is off", () => {
    expect(Number.isNaN(ng.jit(f, { backend })(bad()).item())).toBe(true);
  });
});

describe("the jit debug channel", () => {
  it("logs stagings and compilations with signature, backend, passes and notes", () => {
    const lines: string[] = [];
    const prev = setJitLogSink((l) => lines.push(l));
    try {
      ng.config.set({ debug: ["jit"] });
      const w = ng.random.normal(ng.random.key(2), [3, 2, 2], { dtype: "float64" });
      const g = (x: Tensor) => ng.sum(ng.tanh(ng.conv(ng.tanh(x), w)));
      const x = ng.random.normal(ng.random.key(3), [2, 6, 2], { dtype: "float64" });
      const jg = ng.jit(g, { backend: "onnxruntime" });
      jg(x);
      jg(x); // cached: nothing new to log
      const text = lines.join("\n");
      expect(lines.every((l) => l.startsWith("[nestgrad:jit] "))).toBe(true);
      expect(text).toMatch(/staged g\(float64\[2, 6, 2\]\): \d+ equation\(s\), 1 output\(s\)/);
      expect(text).toMatch(
        /compiled g on onnxruntime\+interpreter: \d+ equation\(s\) staged, \d+ after the passes \(inline -\d+, simplify -\d+/,
      );
      expect(text).toMatch(/note: interpreter fallback for 1 equation\(s\): conv/);
      expect(lines.filter((l) => l.includes("staged g("))).toHaveLength(1);
      // Switched off: nothing more is logged.
      ng.config.set({ debug: [] });
      const n = lines.length;
      ng.jit(g)(x);
      expect(lines).toHaveLength(n);
    } finally {
      setJitLogSink(prev);
    }
  });

  it("is a known channel of config and NESTGRAD_DEBUG", () => {
    expect(ng.config.DEBUG_CHANNELS).toContain("jit");
    expect(() => ng.config.set({ debug: ["jti"] })).toThrow(/did you mean "jit"\?/);
  });
});
