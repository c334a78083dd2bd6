import { defineConfig } from "vitest/config";
import { LongestFirstSequencer } from "./test/setup/sequencer";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Files run side by side, four at a time: each integration file has its own ports, stacks and
    // local state, and part of its time is spent waiting (gates, bakes, production's two committed
    // 120 s bakes). The CPU is what limits: the engine runs (engine, program, policy pack, dynamic
    // providers) take most of both cores. Measured on 2 cores, clean clones: three workers left the
    // CPU idle about 32% of the run (vitest 817 s), four about 27% (736 s, every test passed). Three
    // workers once pushed a 47 s test past its timeout, when the rehearsals' steady load ran back to
    // back and took a core by itself; it is paced now (test/support/steady-load.ts). Under that
    // sharing a test takes up to about twice its time alone, hence the timeouts (a test's own bounds
    // on failover, gates and load stay as they are).
    fileParallelism: true,
    pool: "forks",
    poolOptions: { forks: { maxForks: 4, minForks: 1 } },
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
