import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

// The engine only transpiles the program (fast deploys); the type checker runs here, so a type
// error anywhere in the project fails `npm test`.
describe("TypeScript", () => {
  it("the whole project type-checks under strict settings", () => {
    const root = path.resolve(__dirname, "../..");
    let output = "";
    try {
      execFileSync(path.join(root, "node_modules/.bin/tsc"), ["--noEmit", "-p", root], { cwd: root, encoding: "utf8", stdio: "pipe" });
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(output).toBe("");
  }, 180_000);
});
