// Test setup: fast-check runs with a fixed global seed so that CI is deterministic; set
// FC_SEED to another integer (or "random") to explore other cases locally.
import fc from "fast-check";

const env = process.env.FC_SEED;
if (env !== "random") fc.configureGlobal({ seed: env === undefined ? 20261126 : Number(env) });
