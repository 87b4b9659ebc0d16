/**
 * The tensor layer: dtypes, shapes with broadcasting,
 * the immutable NDArray, specialised CPU kernels and the counter-based random generator.
 * It knows nothing about automatic differentiation.
 */
export * from "./dtype.js";
export * from "./shape.js";
export * from "./ndarray.js";
export { formatNDArray } from "./format.js";
export * from "./kernels/elementwise.js";
export * from "./kernels/reduce.js";
export * from "./kernels/matmul.js";
export * from "./kernels/movement.js";
export * as random from "./random.js";
export * from "./kernels/conv.js";
