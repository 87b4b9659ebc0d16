/**
 * The train namespace: TrainState, computeGradients,
 * applyGradients and trainStep (state.ts), and saving / loading of parameters and state.
 */
export {
  trainState,
  computeGradients,
  applyGradients,
  trainStep,
  type Model,
  type TrainState,
  type Objective,
} from "./state.js";
export * from "./serialize.js";
