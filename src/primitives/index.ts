/**
 * The primitive registry: one const list of every primitive. Name unions
 * are derived from it, and the registry-driven test in test/primitives.test.ts checks
 * every entry (and that every primitive file is enrolled here).
 */
import { absP } from "./abs.js";
import { addP } from "./add.js";
import { argmaxP } from "./argmax.js";
import { argminP } from "./argmin.js";
import { atan2P } from "./atan2.js";
import { broadcastToP } from "./broadcast_to.js";
import { castP } from "./cast.js";
import { ceilP } from "./ceil.js";
import { equalP, notEqualP, lessP, lessEqualP, greaterP, greaterEqualP } from "./compare.js";
import { concatenateP } from "./concatenate.js";
import { convP } from "./conv.js";
import { convBackInputP } from "./conv_back_input.js";
import { convBackKernelP } from "./conv_back_kernel.js";
import { cosP } from "./cos.js";
import { divP } from "./div.js";
import { erfP } from "./erf.js";
import { expP } from "./exp.js";
import { expm1P } from "./expm1.js";
import { flipP } from "./flip.js";
import { floorP } from "./floor.js";
import { logP } from "./log.js";
import { log1pP } from "./log1p.js";
import { logicalAndP, logicalOrP, logicalNotP } from "./logical.js";
import { matmulP } from "./matmul.js";
import { maxP } from "./max.js";
import { maxPoolP } from "./max_pool.js";
import { maxPoolScatterP } from "./max_pool_scatter.js";
import { maxPoolSelectP } from "./max_pool_select.js";
import { maximumP } from "./maximum.js";
import { minP } from "./min.js";
import { minimumP } from "./minimum.js";
import { modP } from "./mod.js";
import { mulP } from "./mul.js";
import { negP } from "./neg.js";
import { padP } from "./pad.js";
import { powP } from "./pow.js";
import { prodP } from "./prod.js";
import { reshapeP } from "./reshape.js";
import { roundP } from "./round.js";
import { rsqrtP } from "./rsqrt.js";
import { sigmoidP } from "./sigmoid.js";
import { signP } from "./sign.js";
import { sinP } from "./sin.js";
import { sliceP } from "./slice.js";
import { sliceScatterP } from "./slice_scatter.js";
import { sqrtP } from "./sqrt.js";
import { stopGradientP } from "./stop_gradient.js";
import { subP } from "./sub.js";
import { sumP } from "./sum.js";
import { takeP } from "./take.js";
import { takeTransposeP } from "./take_transpose.js";
import { tanP } from "./tan.js";
import { tanhP } from "./tanh.js";
import { transposeP } from "./transpose.js";
import { whereP } from "./where.js";

export const PRIMITIVES = [
  absP,
  addP,
  argmaxP,
  argminP,
  atan2P,
  broadcastToP,
  castP,
  ceilP,
  equalP,
  notEqualP,
  lessP,
  lessEqualP,
  greaterP,
  greaterEqualP,
  concatenateP,
  cosP,
  divP,
  erfP,
  expP,
  expm1P,
  flipP,
  floorP,
  logP,
  log1pP,
  logicalAndP,
  logicalOrP,
  logicalNotP,
  matmulP,
  maxP,
  maximumP,
  minP,
  minimumP,
  modP,
  mulP,
  negP,
  padP,
  powP,
  prodP,
  reshapeP,
  roundP,
  rsqrtP,
  sigmoidP,
  signP,
  sinP,
  sliceP,
  sliceScatterP,
  sqrtP,
  stopGradientP,
  subP,
  sumP,
  takeP,
  takeTransposeP,
  tanP,
  tanhP,
  transposeP,
  whereP,
  convP,
  convBackInputP,
  convBackKernelP,
  maxPoolP,
  maxPoolSelectP,
  maxPoolScatterP,
] as const;

/** The name of every registered primitive. */
export type PrimitiveName = (typeof PRIMITIVES)[number]["name"];
