import { describe, expect, it } from "vitest";
import { installMocks } from "../support/pulumi-mocks";
import { stubDynamicProviderSerialization } from "../support/stub-closures";

stubDynamicProviderSerialization();
const registered = installMocks({ stack: "local", config: { "flightdeck:environment": "local", "flightdeck:bakeSeconds": "-1" } });

describe("the program with a bad stack config (mocks)", () => {
  it("fails before any resource is declared, naming the file, the key, what was expected and found", async () => {
    await expect(import("../../infra/index")).rejects.toThrow(
      /Pulumi\.local\.yaml: invalid stack config \(nothing was changed\):\n {2}- flightdeck:bakeSeconds: expected at least 0, found -1/,
    );
    expect(registered).toEqual([]);
  });
});
