/**
 * What the doubles hold, in one JSON file tests read: per resource its package, type, URN, id and
 * inputs, secrets written as "[secret]". Several plugin processes write it at once (two packages in
 * one engine, or two engines sharing a file): every change is a read-modify-write under a lock
 * directory, and the new file replaces the old by rename, so a reader never sees half a file.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { WireMap } from "./wire";

export const STATE_ENV = "FLIGHTDECK_PROVIDER_DOUBLE_STATE";

export interface DoubleResource {
  /** The provider package: "github", "cloudflare". */
  package: string;
  /** The type token, e.g. `github:index/repositoryRuleset:RepositoryRuleset`. */
  type: string;
  urn: string;
  id: string;
  /** The inputs as last applied; secret values are "[secret]". */
  inputs: WireMap;
  createdAt: string;
  updatedAt: string;
  /** In-place updates since creation. */
  updates: number;
}

export interface DoubleState {
  resources: DoubleResource[];
}

/** The state file's content; an absent file is an empty state. */
export function readDoubleState(file: string): DoubleState {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { resources: [] };
    throw e;
  }
  const parsed = JSON.parse(text) as Partial<DoubleState>;
  return { resources: Array.isArray(parsed.resources) ? parsed.resources : [] };
}

/** A lock older than this was left by a killed process (a change takes milliseconds). */
const STALE_LOCK_MS = 10_000;

/** Applies `change` to the state under the lock and writes the result atomically; returns what `change` returns. */
export async function changeState<T>(file: string, change: (state: DoubleState) => T): Promise<T> {
  const lock = `${file}.lock`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await acquire(lock);
  try {
    const state = readDoubleState(file);
    const result = change(state);
    state.resources.sort((a, b) => a.urn.localeCompare(b.urn));
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
    fs.renameSync(tmp, file);
    return result;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

async function acquire(lock: string): Promise<void> {
  for (;;) {
    try {
      // mkdir is atomic: exactly one process creates the directory.
      fs.mkdirSync(lock);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    try {
      if (Date.now() - fs.statSync(lock).mtimeMs > STALE_LOCK_MS) fs.rmSync(lock, { recursive: true, force: true });
    } catch {
      // released between our mkdir and stat: try again
    }
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
}
