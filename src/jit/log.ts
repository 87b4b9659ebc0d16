/**
 * The "jit" debug channel (`config.set({ debug: ["jit"] })`, NESTGRAD_DEBUG=jit): one line
 * per staging and per compilation of a jitted function — its signature, the backend, the
 * equations before and after the passes, and the notes (fallbacks, partitions).
 */
import { debugEnabled } from "../config.js";

let sink: (line: string) => void = (line) => console.error(line);

/** Replaces the sink of the jit channel (console.error by default); returns the previous one. */
export function setJitLogSink(fn: (line: string) => void): (line: string) => void {
  const prev = sink;
  sink = fn;
  return prev;
}

/** Logs `message()` on the jit channel; the message is built only while the channel is on. */
export function jitLog(message: () => string): void {
  if (debugEnabled("jit")) sink(`[nestgrad:jit] ${message()}`);
}
