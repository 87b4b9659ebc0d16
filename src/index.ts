/**
 * nestgrad: differentiable programming in TypeScript. The one public surface
 * (DESIGN.md §1, §5). `nd` is the AD-free tensor layer of NDArrays and kernels.
 */
export * as nd from "./tensor/index.js";
export { NDArray } from "./tensor/ndarray.js";
export type { DType } from "./tensor/dtype.js";
export type { Shape } from "./tensor/shape.js";
