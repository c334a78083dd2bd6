import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../../stacks/usage-error";
import { engineOptions } from "../../stacks/workspace";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A project directory with a policy pack and this stack's policy config file as given. */
function projectWith(stack: string, configText: string): { workDir: string; file: string } {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-policy-config-"));
  dirs.push(workDir);
  fs.mkdirSync(path.join(workDir, "policies", "config"), { recursive: true });
  fs.writeFileSync(path.join(workDir, "policies", "PulumiPolicy.yaml"), "runtime: nodejs\n");
  const file = path.join(workDir, "policies", "config", `${stack}.json`);
  fs.writeFileSync(file, configText);
  return { workDir, file };
}

describe("a restore's policy config (engineOptions)", () => {
  it("a truncated file is one message naming it, not a bare SyntaxError", () => {
    const { workDir, file } = projectWith("prod-like", '{"deploy-window": {"enforcementLevel": "mand');
    const run = () => engineOptions("prod-like", workDir, undefined, { kind: "rollback", reason: "rollback to version 3" });
    expect(run).toThrow(UsageError);
    expect(run).toThrow(`${file}: expected the stack's policy config as JSON, found invalid JSON`);
  });

  it("a good file gets the restore on every forward-deploy guardrail, in a copy (the committed file is unchanged)", () => {
    const text = JSON.stringify({ "deploy-window": "mandatory", "release-promoted": { enforcementLevel: "mandatory", from: "staging" } });
    const { workDir, file } = projectWith("prod-like", text);
    const restore = { kind: "rollback" as const, reason: "rollback to version 3" };
    const opts = engineOptions("prod-like", workDir, undefined, restore);
    const written = JSON.parse(fs.readFileSync(opts.policyPackConfigs![0]!, "utf8")) as Record<string, unknown>;
    expect(written["deploy-window"]).toEqual({ enforcementLevel: "mandatory", restore });
    expect(written["release-promoted"]).toEqual({ enforcementLevel: "mandatory", from: "staging", restore });
    expect(fs.readFileSync(file, "utf8")).toBe(text);
  });
});
