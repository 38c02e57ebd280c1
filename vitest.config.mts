import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    testTimeout: 60_000,
    // The invariant suite keeps 500 synthesized stacks per platform; a Kubernetes stack with a
    // gateway carries the gateway program in ConfigMaps (about 1.1 MiB), past Node's default heap.
    execArgv: ["--max-old-space-size=8192"],
    setupFiles: ["test/support/fast-check-setup.ts"],
    globalSetup: ["test/support/gateway-bundle-setup.ts"],
    reporters: ["default"],
  },
});
