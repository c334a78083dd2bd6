import { defineConfig } from "vitest/config";
import { LongestFirstSequencer } from "./test/setup/sequencer";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Files run side by side, two at a time: each integration file has its own ports, stacks and
    // local state, and much of its time is spent waiting (gates, bakes, load). The engine's CPU is
    // what limits more: with three workers, the two rehearsals and delivery-safety at once pushed a
    // 47 s test past its timeout. Under that sharing a test takes up to about twice its time alone,
    // hence the timeouts (a test's own bounds on failover, gates and load stay as they are).
    fileParallelism: true,
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    setupFiles: ["test/setup/worker-env.ts"],
    sequence: { sequencer: LongestFirstSequencer },
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: ["default", "json"],
    outputFile: { json: ".pulumi/test-results.json" },
    // @actions/workflow-parser imports its schema JSON without an import attribute, which Node
    // refuses when it loads the package itself; inlined, vite transforms it (workflows.test.ts).
    server: { deps: { inline: ["@actions/workflow-parser"] } },
  },
});
