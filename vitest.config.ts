import { defineConfig } from "vitest/config";
import { LongestFirstSequencer } from "./test/setup/sequencer";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Files run side by side: each integration file has its own ports, stacks and local state, and
    // much of its time is spent waiting (gates, bakes, load). Three workers on 2 cores: 32 min wall
    // instead of 55 one file at a time, every timing-sensitive check (failover counts, steady
    // load) still inside its bound. The engine's CPU is what limits more workers.
    fileParallelism: true,
    pool: "forks",
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    setupFiles: ["test/setup/worker-env.ts"],
    sequence: { sequencer: LongestFirstSequencer },
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ["default", "json"],
    outputFile: { json: ".pulumi/test-results.json" },
    // @actions/workflow-parser imports its schema JSON without an import attribute, which Node
    // refuses when it loads the package itself; inlined, vite transforms it (workflows.test.ts).
    server: { deps: { inline: ["@actions/workflow-parser"] } },
  },
});
