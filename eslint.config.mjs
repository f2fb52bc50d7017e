import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

// Layering: pages and routes read through lib/ functions, never a store; only stores (and the
// migration and start-up checks) touch the database pool.
const stores = { regex: "-store\\.ts$", allowTypeImports: true };
const pool = { regex: "(^|/)db\\.ts$", allowTypeImports: true };
const storeFiles = ["lib/**/*-store.ts", "lib/db-migrate.ts", "lib/startup.ts"];

const config = [
  ...nextVitals,
  ...nextTs,
  // Playwright fixtures call a parameter named `use`, which is not React's hook.
  { files: ["e2e/**/*.ts"], rules: { "react-hooks/rules-of-hooks": "off" } },
  {
    files: ["app/**/*.ts", "app/**/*.tsx"],
    ignores: ["app/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { ...stores, message: "Pages and routes call lib/ functions; only those read stores." },
            { ...pool, message: "Only stores touch the database." },
          ],
        },
      ],
    },
  },
  {
    files: ["lib/**/*.ts"],
    ignores: [...storeFiles, "lib/**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ ...pool, message: "Only stores touch the database." }] }],
    },
  },
  {
    ignores: [
      "**/.next/**",
      "lib/generated/**",
      "node_modules/**",
      ".data/**",
      ".scratch/**",
      "test-results/**",
      "playwright-report/**",
      "next-env.d.ts",
    ],
  },
];

export default config;
