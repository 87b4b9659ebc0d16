// ng.config: every setting is validated, unknown names get a "did you mean", a rejected
// call changes nothing, and NESTGRAD_DEBUG values are checked at import (a warning, not an
// error, since nothing can catch an error thrown while the library loads).
import { afterEach, describe, expect, it, vi } from "vitest";
import * as ng from "../src/index.js";

const INITIAL = ng.config.get();

afterEach(() => {
  expect(ng.config.get()).toEqual(INITIAL);
});

describe("config", () => {
  it("get() lists every setting with its default", () => {
    expect(INITIAL).toMatchObject({
      nestedSwitching: true,
      nestedStrategy: "auto",
      nestedMemoryBudget: 256 * 2 ** 20,
      debugNans: false,
      eagerReads: "warn",
      threads: "auto",
    });
    expect(Object.keys(INITIAL).sort()).toEqual(
      [
        "debug",
        "debugNans",
        "eagerReads",
        "nestedMemoryBudget",
        "nestedStrategy",
        "nestedSwitching",
        "threads",
      ].sort(),
    );
  });

  it("set returns the previous settings, which restore them", () => {
    const prev = ng.config.set({ debugNans: true, eagerReads: "error", debug: ["nested"] });
    expect(prev).toEqual(INITIAL);
    expect(ng.config.get()).toMatchObject({
      debugNans: true,
      eagerReads: "error",
      debug: ["nested"],
    });
    ng.config.set(prev);
  });

  it("a settings object that is not an object names what arrived (null included)", () => {
    expect(() => ng.config.set(null as never)).toThrow(/expected an object of settings, got null/);
    expect(() => ng.config.set(3 as never)).toThrow(/got number 3/);
    expect(() => ng.config.set([] as never)).toThrow(/got an array/);
  });

  it("unknown keys get a did-you-mean and the list of known keys", () => {
    expect(() => ng.config.set({ debugNan: true } as never)).toThrow(
      /config\.set: unknown option "debugNan".*did you mean "debugNans"\?/,
    );
    expect(() => ng.config.set({ eagerRead: "warn" } as never)).toThrow(
      /did you mean "eagerReads"/,
    );
    expect(() => ng.config.set({ zzz: 1 } as never)).toThrow(/Known options: nestedSwitching/);
  });

  it("debug channels are checked, with a suggestion", () => {
    expect(() => ng.config.set({ debug: ["nans"] })).toThrow(
      /unknown debug channel "nans".*debugNans: true.*Known channels: nested/,
    );
    expect(() => ng.config.set({ debug: ["nestd"] })).toThrow(/did you mean "nested"\?/);
    expect(() => ng.config.set({ debug: "nested" as never })).toThrow(
      /debug must be an array of channel names/,
    );
    expect(() => ng.config.set({ debug: [1] as never })).toThrow(/array of channel names/);
  });

  it("debugNans and eagerReads are validated", () => {
    expect(() => ng.config.set({ debugNans: "yes" as never })).toThrow(
      /debugNans must be a boolean, got "yes"/,
    );
    expect(() => ng.config.set({ eagerReads: "eror" as never })).toThrow(
      /eagerReads must be one of warn, error, allow, got "eror"; did you mean "error"\?/,
    );
    expect(() => ng.config.set({ eagerReads: true as never })).toThrow(/got boolean true/);
    expect(() => ng.config.set({ nestedStrategy: "nested" as never })).toThrow(
      /nestedStrategy must be one of/,
    );
    expect(() => ng.config.set({ nestedMemoryBudget: -1 })).toThrow(/non-negative/);
  });

  it("a rejected call changes nothing, even when its valid settings come first", () => {
    expect(() =>
      ng.config.set({ debugNans: true, debug: ["nested"], eagerReads: "bogus" as never }),
    ).toThrow(/eagerReads/);
    expect(() => ng.config.set({ debugNans: true, nestedSwitchin: false } as never)).toThrow(
      /nestedSwitching/,
    );
    expect(ng.config.get()).toEqual(INITIAL);
  });

  it("withConfig restores the settings after an error", () => {
    expect(() =>
      ng.config.withConfig({ debugNans: true }, () => {
        expect(ng.config.get().debugNans).toBe(true);
        throw new Error("inside");
      }),
    ).toThrow("inside");
  });

  it("NESTGRAD_DEBUG: known channels are kept, unknown ones dropped with a warning", async () => {
    const saved = process.env.NESTGRAD_DEBUG;
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      process.env.NESTGRAD_DEBUG = "nested, nestd ,nans";
      vi.resetModules();
      const fresh = await import("../src/config.js");
      expect(fresh.get().debug).toEqual(["nested"]);
      const messages = warn.mock.calls.map((c) => String(c[0]));
      expect(messages).toHaveLength(2);
      expect(messages[0]).toMatch(/NESTGRAD_DEBUG: unknown debug channel "nestd".*"nested"/);
      expect(messages[1]).toMatch(/NESTGRAD_DEBUG: unknown debug channel "nans"/);
    } finally {
      warn.mockRestore();
      if (saved === undefined) delete process.env.NESTGRAD_DEBUG;
      else process.env.NESTGRAD_DEBUG = saved;
      vi.resetModules();
    }
  });
});
