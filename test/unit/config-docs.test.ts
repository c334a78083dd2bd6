import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configRows, keysOf, renderConfigDocs, typeName } from "../../infra/config/docs";
import { configDocsFile, renderedConfigDocs } from "../../scripts/config-docs";

describe("docs/config.md is generated from the schema", () => {
  it("docs/config.md matches the schema (if not: run npx tsx scripts/config-docs.ts)", () => {
    const committed = fs.existsSync(configDocsFile) ? fs.readFileSync(configDocsFile, "utf8") : "";
    const rendered = renderedConfigDocs();
    if (committed !== rendered) {
      throw new Error("docs/config.md differs from infra/config/schema.ts: run `npx tsx scripts/config-docs.ts` and commit docs/config.md");
    }
    expect(committed).toBe(rendered);
  });

  it("every key of every environment has a description", () => {
    expect(configRows().filter((r) => r.description === "").map((r) => r.key)).toEqual([]);
  });

  it("keys only one environment family has list only those environments", () => {
    const rows = new Map(configRows().map((r) => [r.key, r]));
    expect(rows.get("flightdeck:local.proxyPort")?.environments).toEqual(["local"]);
    expect(rows.get("flightdeck:fly.regions")?.environments).toEqual(["staging", "production"]);
    expect(rows.get("flightdeck:healthGate.path")?.environments).toEqual(["local", "staging", "production"]);
  });

  it("a default that differs per environment says so", () => {
    const release = configRows().find((r) => r.key === "flightdeck:release");
    expect(release?.default).toBe('local: `"v1"`; staging, production: —');
  });
});

describe("schema walking", () => {
  const schema = z
    .object({
      name: z.string().regex(/^[a-z]+$/, "lowercase letters").describe("A name."),
      port: z.number().int().min(1).max(9).default(3).describe("A port."),
      ratio: z.number().optional(),
      kind: z.enum(["a", "b"]).default("a"),
      tags: z.array(z.string()).default([]),
      flags: z.record(z.string(), z.boolean()).default({}),
      nested: z
        .object({ on: z.boolean().default(true).describe("Switch.") })
        .strict()
        .default({})
        .superRefine(() => undefined)
        .describe("A nested object."),
    })
    .strict();

  it("lists objects and their fields depth first, with type, default and description", () => {
    expect(keysOf(schema)).toEqual([
      { path: "name", type: "string: lowercase letters", default: undefined, required: true, description: "A name." },
      { path: "port", type: "integer 1–9", default: "3", required: false, description: "A port." },
      { path: "ratio", type: "number", default: undefined, required: false, description: undefined },
      { path: "kind", type: '"a" \\| "b"', default: '"a"', required: false, description: undefined },
      { path: "tags", type: "string[]", default: "[]", required: false, description: undefined },
      { path: "flags", type: "map of string → boolean", default: "{}", required: false, description: undefined },
      { path: "nested", type: "object", default: "{}", required: false, description: "A nested object." },
      { path: "nested.on", type: "boolean", default: "true", required: false, description: "Switch." },
    ]);
  });

  it("an array of a described format reads as a list", () => {
    expect(typeName(z.array(z.string().regex(/x/, "an x thing")))).toBe("list of string: an x thing");
  });

  it("renders a markdown table with escaped pipes and the secret keys", () => {
    const md = renderConfigDocs(
      [{ key: "flightdeck:a", type: '"x" \\| "y"', default: "`1`", environments: ["local"], description: "p|q" }],
      ["appSecrets"],
    );
    expect(md).toContain('| `flightdeck:a` | "x" \\| "y" | `1` | local | p\\|q |');
    expect(md).toContain("- `flightdeck:appSecrets`");
  });
});
