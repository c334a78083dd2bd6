import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";

/**
 * The key/value space a Pulumi diy backend keeps its state in (`.pulumi/stacks/…`, `.pulumi/locks/…`),
 * opened by the driver for what must live beside the state: its deploy locks, and the engine locks
 * of dead processes to clear. `create` is atomic: of two callers, exactly one gets `true`.
 */
export interface BackendStore {
  /** Where it is, for messages: a directory or `postgres://host/db (table)`, never a password. */
  readonly where: string;
  /** Whether this is the state's own store (file or Postgres backend) or a stand-in in the checkout. */
  readonly besideState: boolean;
  list(prefix: string): Promise<string[]>;
  get(key: string): Promise<string | undefined>;
  create(key: string, data: string): Promise<boolean>;
  put(key: string, data: string): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** A directory as the store: the file backend's own layout (keys are relative paths). */
export function fileStore(root: string, besideState: boolean): BackendStore {
  const at = (key: string) => path.join(root, ...key.split("/"));
  return {
    where: root,
    besideState,
    async list(prefix) {
      const dir = at(prefix);
      if (!fs.existsSync(dir)) return [];
      return fs.readdirSync(dir).map((f) => `${prefix.replace(/\/?$/, "/")}${f}`);
    },
    async get(key) {
      try {
        return fs.readFileSync(at(key), "utf8");
      } catch {
        return undefined;
      }
    },
    async create(key, data) {
      fs.mkdirSync(path.dirname(at(key)), { recursive: true });
      try {
        fs.writeFileSync(at(key), data, { flag: "wx" });
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw err;
      }
    },
    async put(key, data) {
      // Write beside and rename: a reader never sees a file cut short.
      const tmp = `${at(key)}.${process.pid}.tmp`;
      fs.mkdirSync(path.dirname(tmp), { recursive: true });
      fs.writeFileSync(tmp, data);
      fs.renameSync(tmp, at(key));
    },
    async delete(key) {
      fs.rmSync(at(key), { force: true });
    },
    async close() {},
  };
}

/**
 * Pulumi's Postgres backend keeps every blob as a row of one table (`key`, `data`, `updated_at`;
 * the `table` URL parameter, default `pulumi_state`): the key is the URL's path (the database name)
 * and the blob's path, `<db>/.pulumi/locks/…`; the data is `{"data": "<base64 of the blob>"}`
 * (backend/diy/postgres/bucket.go). The driver's keys go in the same table, in the same form, so
 * whoever can reach the state reaches the lock.
 */
export function postgresStore(url: string): BackendStore {
  const u = new URL(url);
  const table = u.searchParams.get("table") ?? "pulumi_state";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new Error(`PULUMI_BACKEND_URL: table "${table}" is not a plain SQL identifier`);
  u.searchParams.delete("table");
  const prefix = u.pathname.replace(/^\/+/, "").replace(/\/*$/, "/").replace(/^\/$/, "");
  const rowKey = (key: string) => `${prefix}${key}`;
  const wrap = (data: string) => JSON.stringify({ data: Buffer.from(data, "utf8").toString("base64") });
  // A connection the server drops (restart, failover) fails the next query with its reason; it must
  // not also crash the process from an unheard 'error' event. pg loads with the first query, not
  // at import: only a Postgres backend needs it, and everything that reads the store imports this
  // module (the policy pack's process among them, where every module loaded delays the update).
  let ready: Promise<pg.Client> | undefined;
  // The same table the engine creates (backend/diy/postgres/schema.sql), in case we are first.
  const open = () =>
    (ready ??= import("pg").then(async ({ default: { Client } }) => {
      const client = new Client({ connectionString: u.toString() });
      client.on("error", () => undefined);
      await client.connect();
      await client.query(`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, data JSON NOT NULL, updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())`);
      return client;
    }));
  return {
    where: `postgres://${u.host}${u.pathname} (table ${table})`,
    besideState: true,
    async list(keyPrefix) {
      const client = await open();
      const like = `${rowKey(keyPrefix).replace(/[\\%_]/g, "\\$&")}%`;
      const r = await client.query<{ key: string }>(`SELECT key FROM ${table} WHERE key LIKE $1 ORDER BY key`, [like]);
      return r.rows.map((row) => row.key.slice(prefix.length));
    },
    async get(key) {
      const client = await open();
      const r = await client.query<{ data: string | null }>(`SELECT data->>'data' AS data FROM ${table} WHERE key = $1`, [rowKey(key)]);
      const data = r.rows[0]?.data;
      return data === undefined || data === null ? undefined : Buffer.from(data, "base64").toString("utf8");
    },
    async create(key, data) {
      const client = await open();
      const r = await client.query(`INSERT INTO ${table} (key, data) VALUES ($1, $2::json) ON CONFLICT (key) DO NOTHING`, [rowKey(key), wrap(data)]);
      return r.rowCount === 1;
    },
    async put(key, data) {
      const client = await open();
      await client.query(
        `INSERT INTO ${table} (key, data, updated_at) VALUES ($1, $2::json, now()) ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, updated_at = now()`,
        [rowKey(key), wrap(data)],
      );
    },
    async delete(key) {
      const client = await open();
      await client.query(`DELETE FROM ${table} WHERE key = $1`, [rowKey(key)]);
    },
    async close() {
      if (ready) await ready.then((client) => client.end()).catch(() => undefined);
    },
  };
}

/**
 * The store beside this stack's state: the file backend's directory, or the Postgres backend's
 * table. Other backends (S3, GCS, Azure, Pulumi Cloud) keep their own leases for the engine; the
 * driver's lock then falls back to the checkout, and says so in `where`.
 */
export function backendStore(workDir: string, backendUrl = process.env.PULUMI_BACKEND_URL): BackendStore {
  if (backendUrl?.startsWith("file://")) return fileStore(fileURLToPath(backendUrl), true);
  if (backendUrl?.startsWith("postgres://") || backendUrl?.startsWith("postgresql://")) return postgresStore(backendUrl);
  return fileStore(path.join(workDir, ".pulumi", "checkout-locks"), false);
}
