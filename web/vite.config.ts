// Vite configuration of the browser page: `import * as ng from "nestgrad"` resolves to the
// library's source, exactly the module a bundler would take from the package.
// onnxruntime-web is imported by main.ts only when its backend runs (a separate chunk); its
// WebAssembly binary is copied as an asset through a `?url` import and named to ONNX Runtime
// by `env.wasm.wasmPaths`. The dev server must not pre-bundle it, which would move the
// module away from the files it loads.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const src = fileURLToPath(new URL("../src/index.ts", import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  resolve: { alias: { nestgrad: src } },
  server: { fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] } },
  optimizeDeps: { exclude: ["onnxruntime-web"] },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 4096 },
});
