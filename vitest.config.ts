import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests drive real processes and one engine: run files one at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ["default", "json"],
    outputFile: { json: ".pulumi/test-results.json" },
    // @actions/workflow-parser imports its schema JSON without an import attribute, which Node
    // refuses when it loads the package itself; inlined, vite transforms it (workflows.test.ts).
    server: { deps: { inline: ["@actions/workflow-parser"] } },
  },
});
