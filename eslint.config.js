// ESLint flat config: typescript-eslint's recommended rules over src, test, bench and examples.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "dist-check/**",
      "node_modules/**",
      "web/dist/**",
      "out/**",
      "test/.doctest/**",
      "test/.doctest-api/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    // The browser page runs in a browser.
    files: ["web/**/*.ts"],
    languageOptions: {
      globals: {
        document: "readonly",
        location: "readonly",
        performance: "readonly",
        requestAnimationFrame: "readonly",
        URLSearchParams: "readonly",
        HTMLElement: "readonly",
        HTMLButtonElement: "readonly",
        HTMLSelectElement: "readonly",
        HTMLInputElement: "readonly",
        HTMLOptionElement: "readonly",
      },
    },
  },
);
