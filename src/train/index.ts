/**
 * The train namespace (DESIGN.md §1 train/, §5 `ng.train`): TrainState, computeGradients,
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
