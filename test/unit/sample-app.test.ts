import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const server = path.resolve(__dirname, "../../examples/app/server.js");

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The local address the app's listening socket is bound to, from /proc/net/tcp (hex). */
async function boundAddress(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [server], { env: { PATH: process.env.PATH ?? "", PORT: String(port), ...env }, stdio: "ignore" });
  try {
    for (let i = 0; i < 100; i++) {
      const row = fs
        .readFileSync("/proc/net/tcp", "utf8")
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .find((f) => f[3] === "0A" && parseInt(f[1]?.split(":")[1] ?? "", 16) === port);
      if (row) return row[1]!.split(":")[0]!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the sample app never listened");
  } finally {
    child.kill("SIGKILL");
  }
}

describe("the sample app's bind address", () => {
  it("on Fly (FLY_APP_NAME set) listens on every address: fly-proxy and checks reach the machine on its own", async () => {
    expect(await boundAddress({ FLY_APP_NAME: "flightdeck-staging" })).toBe("00000000");
  });
  it("elsewhere listens on loopback only, so a local slot is not open to the network", async () => {
    expect(await boundAddress({})).toBe("0100007F");
  });
  it("HOST overrides both", async () => {
    expect(await boundAddress({ HOST: "0.0.0.0" })).toBe("00000000");
  });
});

/** What the app reports at /version when started with `env`. */
async function reportedVersion(env: Record<string, string>): Promise<unknown> {
  const port = await freePort();
  const child = spawn(process.execPath, [server], { env: { PATH: process.env.PATH ?? "", PORT: String(port), HOST: "127.0.0.1", ...env }, stdio: "ignore" });
  try {
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/version`).catch(() => undefined);
      if (res) return ((await res.json()) as { version?: unknown }).version;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the sample app never answered");
  } finally {
    child.kill("SIGKILL");
  }
}

describe("the release the sample app reports", () => {
  const ref = `registry.fly.io/flightdeck-staging@sha256:${"ab".repeat(32)}`;
  it("on Fly is the image the machine was created from (FLY_IMAGE_REF): the digest is known only after the push", async () => {
    expect(await reportedVersion({ FLY_APP_NAME: "flightdeck-staging", FLY_IMAGE_REF: ref })).toBe(ref);
  });
  it("APP_VERSION wins when set (the local stack's labels)", async () => {
    expect(await reportedVersion({ FLY_IMAGE_REF: ref, APP_VERSION: "v7" })).toBe("v7");
  });
});
