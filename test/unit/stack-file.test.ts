import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { listensOn } from "../../components/local/os-process";
import { readStackFile, writeUpdateConfig } from "../../stacks/stack-file";
import { deliveryOf } from "../support/stack-files";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-stack-file-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const committed = `# people decide this
config:
  flightdeck:environment: local
  flightdeck:bakeSeconds: 7
  flightdeck:appSecrets:
    API_KEY:
      secure: v1:abc:def
encryptionsalt: v1:salt
`;

describe("the committed stack file, as the driver reads and extends it", () => {
  it("reads scalars the way the engine hands them to the program (strings decoded as JSON)", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.s1.yaml"), committed);
    const f = readStackFile(dir, "s1");
    expect(f.config.bakeSeconds).toBe(7);
    expect(f.config.environment).toBe("local");
  });

  it("writes the update's config file as the committed one plus the delivery state, keeping salt and secure values", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.s2.yaml"), committed);
    const f = readStackFile(dir, "s2");
    const delivery = deliveryOf("v2", "green", "v1");
    const out = writeUpdateConfig(dir, f, "s2", delivery);
    const doc = YAML.parse(fs.readFileSync(out.path, "utf8")) as { config: Record<string, unknown>; encryptionsalt: string };
    expect(doc.encryptionsalt).toBe("v1:salt");
    expect(doc.config["flightdeck:appSecrets"]).toEqual({ API_KEY: { secure: "v1:abc:def" } });
    expect(doc.config["flightdeck:delivery"]).toEqual(delivery);
    expect(out.path.startsWith(path.join(dir, ".pulumi", "run"))).toBe(true);
    out.remove();
    expect(fs.existsSync(out.path)).toBe(false);
    // The committed file is never written.
    expect(fs.readFileSync(path.join(dir, "Pulumi.s2.yaml"), "utf8")).toBe(committed);
  });

  it("a restore's update config says to switch at once; a deploy's says nothing", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.s3.yaml"), committed);
    const f = readStackFile(dir, "s3");
    const restore = writeUpdateConfig(dir, f, "s3", deliveryOf("v1", "blue"), { switchAtOnce: true });
    const deploy = writeUpdateConfig(dir, f, "s3", deliveryOf("v2", "green", "v1"));
    expect((YAML.parse(fs.readFileSync(restore.path, "utf8")) as { config: Record<string, unknown> }).config["flightdeck:switchAtOnce"]).toBe(true);
    expect((YAML.parse(fs.readFileSync(deploy.path, "utf8")) as { config: Record<string, unknown> }).config).not.toHaveProperty("flightdeck:switchAtOnce");
    restore.remove();
    deploy.remove();
  });

  it("a committed file may not say to switch at once: only the driver's restores do", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.s4.yaml"), committed.replace("  flightdeck:bakeSeconds: 7\n", "  flightdeck:bakeSeconds: 7\n  flightdeck:switchAtOnce: true\n"));
    expect(() => readStackFile(dir, "s4")).toThrow(/flightdeck:switchAtOnce: expected no such key in a committed file/);
  });

  it("a missing file names itself", () => {
    expect(() => readStackFile(dir, "nope")).toThrow(/Pulumi\.nope\.yaml: invalid stack config[\s\S]*no such file/);
  });
});

describe("readiness: the answer must come from the process that was started", () => {
  it("a port this process listens on is its own; a free port is nobody's", async () => {
    const server = http.createServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      expect(listensOn(process.pid, port)).toBe(true);
      // pid 1 (init) does not hold this test's socket.
      expect(listensOn(1, port)).toBe(false);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(listensOn(process.pid, port)).toBe(false);
  });
});

describe("a stack whose state cannot be read", () => {
  it("is an error that says nothing was changed and where to restore from, never 'nothing is live'", async () => {
    const { deployedState, StateReadError } = await import("../../stacks/update");
    const stack = { name: "s" } as unknown as Parameters<typeof deployedState>[0];
    const unreadable = async () => Promise.reject(new Error("error: failed to load checkpoint: unexpected end of JSON input"));
    const err = await deployedState(stack, unreadable).catch((e: Error) => e);
    expect(err).toBeInstanceOf(StateReadError);
    expect((err as Error).message).toMatch(/stack s: its state could not be read \(failed to load checkpoint.*\); nothing was changed\. Restore it from a backup/);
  });
});
