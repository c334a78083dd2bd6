import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pulumiCommand } from "../../stacks/workspace";

const saved = { PATH: process.env.PATH, FLIGHTDECK_ENGINE: process.env.FLIGHTDECK_ENGINE };
afterEach(() => {
  process.env.PATH = saved.PATH;
  if (saved.FLIGHTDECK_ENGINE === undefined) delete process.env.FLIGHTDECK_ENGINE;
  else process.env.FLIGHTDECK_ENGINE = saved.FLIGHTDECK_ENGINE;
});

/** A directory with a `pulumi` that answers `pulumi version` with v9.9.9, first on PATH. */
function fakeEngineFirstOnPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-engine-"));
  fs.writeFileSync(path.join(dir, "pulumi"), "#!/bin/sh\necho v9.9.9\n", { mode: 0o755 });
  process.env.PATH = `${dir}${path.delimiter}${saved.PATH ?? ""}`;
  return dir;
}

describe("the engine CLI's lookup (pulumiCommand)", () => {
  it("takes the version engine.sh names for the engine it built, without running it, when that engine is first on PATH", async () => {
    const dir = fakeEngineFirstOnPath();
    process.env.FLIGHTDECK_ENGINE = `${path.join(dir, "pulumi")}@3.248.0`;
    expect(String((await pulumiCommand()).version)).toBe("3.248.0");
  });

  it("asks the pulumi on PATH (pulumi version) when it is not the engine engine.sh named", async () => {
    fakeEngineFirstOnPath();
    process.env.FLIGHTDECK_ENGINE = "/elsewhere/pulumi@3.248.0";
    expect(String((await pulumiCommand()).version)).toBe("9.9.9");
  });
});
