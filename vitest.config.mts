import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    testTimeout: 60_000,
    // The invariant suite keeps 500 synthesized stacks per platform; a Docker stack carries the
    // gateway program inline (about 1.1 MiB, twice with proxy-events), past Node's default heap.
    execArgv: ["--max-old-space-size=8192"],
    setupFiles: ["test/support/fast-check-setup.ts"],
    globalSetup: ["test/support/gateway-bundle-setup.ts"],
    reporters: ["default"],
  },
});
