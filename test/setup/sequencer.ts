import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take longest (minutes each, measured on 2 cores) start first, so the parallel
 * workers do not end with one long file running alone. A clean clone has no vitest cache, whose
 * "longest first" would otherwise only know file sizes, and size says little here: the rehearsals
 * are short files that run long scenarios, production's deploys the longest of all (its committed
 * 120 s bake, twice). Everything else keeps vitest's own order.
 */
const LONGEST_FIRST = [
  "test/integration/rehearsal-production.test.ts",
  "test/integration/rehearsal-staging.test.ts",
  "test/integration/runbooks.test.ts",
  "test/integration/fly-canary.test.ts",
  "test/integration/delivery-safety.test.ts",
  "test/integration/rehearsal-production-guards.test.ts",
  "test/integration/backup-restore.test.ts",
  "test/integration/bluegreen-local.test.ts",
  "test/integration/canary-local.test.ts",
  "test/integration/postgres-backend.test.ts",
];

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((suffix) => f.moduleId.endsWith(suffix));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: files outside the list keep the order vitest gave them.
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}
