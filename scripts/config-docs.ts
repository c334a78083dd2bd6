/**
 * Writes docs/config.md from the zod schemas in infra/config/schema.ts.
 *
 *   npx tsx scripts/config-docs.ts           write it
 *   npx tsx scripts/config-docs.ts --check   exit 1 when the committed file differs
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { configRows, renderConfigDocs } from "../infra/config/docs";
import { SECRET_KEYS } from "../infra/config/load";

export const configDocsFile = path.resolve(__dirname, "..", "docs", "config.md");

export function renderedConfigDocs(): string {
  return renderConfigDocs(configRows(), SECRET_KEYS);
}

if (require.main === module) {
  const text = renderedConfigDocs();
  if (process.argv.includes("--check")) {
    const current = fs.existsSync(configDocsFile) ? fs.readFileSync(configDocsFile, "utf8") : "";
    if (current !== text) {
      console.error(`${path.relative(process.cwd(), configDocsFile)} is out of date: run npx tsx scripts/config-docs.ts`);
      process.exitCode = 1;
    }
  } else {
    fs.writeFileSync(configDocsFile, text);
    console.log(`wrote ${path.relative(process.cwd(), configDocsFile)}`);
  }
}
