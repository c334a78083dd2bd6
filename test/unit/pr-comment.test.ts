import { describe, expect, it } from "vitest";
import {
  COMMENT_MARKER,
  countChanges,
  redactionForms,
  renderPreviewComment,
  resourceName,
  scrub,
  type StackPreviewResult,
} from "../../stacks/pr-comment";

const URN = (type: string, name: string) => `urn:pulumi:staging::flightdeck::${type}::${name}`;

/** A happy-path preview; each case changes one thing. */
function result(overrides: Partial<StackPreviewResult> = {}): StackPreviewResult {
  return {
    stack: "staging",
    ok: true,
    summary: { create: 1, update: 2, replace: 1, delete: 1, same: 7 },
    changes: [
      { urn: URN("flightdeck:fly:Machine", "slot-green-0"), type: "flightdeck:fly:Machine", op: "create" },
      { urn: URN("flightdeck:fly:Machine", "slot-blue-0"), type: "flightdeck:fly:Machine", op: "update" },
      { urn: URN("cloudflare:index/record:Record", "public"), type: "cloudflare:index/record:Record", op: "replace" },
      { urn: URN("flightdeck:fly:Ip", "old-ip"), type: "flightdeck:fly:Ip", op: "delete" },
      { urn: URN("pulumi:pulumi:Stack", "flightdeck-staging"), type: "pulumi:pulumi:Stack", op: "same" },
    ],
    policyViolations: [],
    stdout: "Previewing update (staging):\n + slot-green-0 create\nResources:\n    + 1 to create\n",
    ...overrides,
  };
}

describe("renderPreviewComment", () => {
  it("starts with the sticky marker so CI updates one comment", () => {
    expect(renderPreviewComment([result()]).split("\n")[0]).toBe(COMMENT_MARKER);
  });

  it("has a counts table per stack: create, update, replace, delete, unchanged", () => {
    const md = renderPreviewComment([result(), result({ stack: "production", summary: { same: 3 } })]);
    expect(md).toContain("| create | update | replace | delete | unchanged |");
    expect(md).toContain("| 1 | 2 | 1 | 1 | 7 |");
    expect(md).toContain("| 0 | 0 | 0 | 0 | 3 |");
    expect(md).toContain("### `staging`");
    expect(md).toContain("### `production`");
  });

  it("lists changed resources by op, type and name, not unchanged ones", () => {
    const md = renderPreviewComment([result()]);
    expect(md).toContain("| + create | `flightdeck:fly:Machine` | `slot-green-0` |");
    expect(md).toContain("| - delete | `flightdeck:fly:Ip` | `old-ip` |");
    expect(md).toContain("Changed resources (4)");
    expect(md).not.toContain("`flightdeck-staging`");
  });

  it("says when nothing changes", () => {
    expect(renderPreviewComment([result({ changes: [], summary: { same: 4 } })])).toContain("No resource changes.");
  });

  it("lists policy violations and marks the stack", () => {
    const md = renderPreviewComment([result({ policyViolations: ["[warning] public-dns-proxied: the record is not proxied (public)"] })]);
    expect(md).toContain("**Policy violations (1)**");
    expect(md).toContain("- [warning] public-dns-proxied: the record is not proxied (public)");
    expect(md).toContain("⚠️ policy warnings");
  });

  it("a failed preview shows the reason and that merging would not deploy", () => {
    const md = renderPreviewComment([result({ ok: false, error: "error: [mandatory] fly-machine-redundancy: 1 machine" })]);
    expect(md).toContain("❌ preview failed");
    expect(md).toContain("> error: [mandatory] fly-machine-redundancy: 1 machine");
    expect(md).toMatch(/Preview failed for `staging`/);
  });

  it("pipes in names do not break the table", () => {
    const md = renderPreviewComment([result({ changes: [{ urn: URN("t", "a|b"), type: "t", op: "create" }] })]);
    expect(md).toContain("`a\\|b`");
  });

  it("engine output is fenced by a fence longer than any backtick run in it", () => {
    const md = renderPreviewComment([result({ stdout: "look: ```` here" })]);
    expect(md).toContain("`````\nlook: ```` here\n`````");
  });

  it("engine output is cut to the limit", () => {
    const md = renderPreviewComment([result({ stdout: "x".repeat(500) })], { maxOutputChars: 100 });
    expect(md).toContain("400 more characters cut");
    expect(md).not.toContain("x".repeat(101));
  });

  it("colour codes do not reach the comment", () => {
    expect(renderPreviewComment([result({ stdout: "\x1b[32m+ create\x1b[0m" })])).not.toContain("\x1b");
  });

  it("renders something for no stacks", () => {
    expect(renderPreviewComment([])).toContain("No stacks were previewed.");
  });
});

describe("redaction", () => {
  const SECRET = "s3cr3t-unit-4242";
  const appSecrets = JSON.stringify({ API_KEY: SECRET, DB_URL: "postgres://u:p@w0rd@db/x" });

  it("a redacted value is replaced everywhere it can appear: stack, error, resources, violations, output", () => {
    const md = renderPreviewComment(
      [
        result({
          stack: `st-${SECRET}`,
          ok: false,
          error: `error: bad value ${SECRET}`,
          changes: [{ urn: URN("t", `n-${SECRET}`), type: `t-${SECRET}`, op: "create" }],
          policyViolations: [`[mandatory] x: ${SECRET}`],
          stdout: `env API_KEY=${SECRET}\n`,
        }),
      ],
      { redact: [SECRET] },
    );
    expect(md).not.toContain(SECRET);
    expect(md.match(/\[secret\]/g)?.length).toBeGreaterThanOrEqual(6);
  });

  it("the leaves of a JSON secret (appSecrets) are redacted, not only the whole value", () => {
    const md = renderPreviewComment([result({ stdout: `API_KEY=${SECRET} DB=postgres://u:p@w0rd@db/x` })], { redact: [appSecrets] });
    expect(md).not.toContain(SECRET);
    expect(md).not.toContain("p@w0rd");
  });

  it("a JSON-escaped form is redacted too", () => {
    const tricky = 'a"b\\c-secret';
    const escaped = JSON.stringify(tricky).slice(1, -1);
    expect(scrub(`{"k":"${escaped}"}`, [tricky])).toBe('{"k":"[secret]"}');
  });

  it("the longest form wins, so no fragment of a longer secret is left", () => {
    expect(scrub("abc-def", ["abc", "abc-def"])).toBe("[secret]");
  });

  it("empty values are ignored (they would match everywhere)", () => {
    expect(redactionForms(["", "x1"])).toEqual(["x1"]);
  });

  it("a value split by the table's pipe escaping is still caught by the final pass", () => {
    const secret = "p|q-secret";
    const md = renderPreviewComment([result({ changes: [{ urn: URN("t", secret), type: "t", op: "create" }] })], { redact: [secret] });
    expect(md).not.toContain("p|q-secret");
    expect(md).not.toContain("q-secret");
  });
});

describe("helpers", () => {
  it("resourceName is the URN's last segment", () => {
    expect(resourceName("urn:pulumi:s::p::a:b:C$d:e:F::name-1")).toBe("name-1");
  });

  it("countChanges fills missing ops with 0", () => {
    expect(countChanges({ create: 2 })).toEqual({ create: 2, update: 0, replace: 0, delete: 0, unchanged: 0 });
  });
});
