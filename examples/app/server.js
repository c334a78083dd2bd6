// The sample app Flightdeck deploys: an HTTP server with /healthz and /version.
// Env: PORT (default 8080), APP_VERSION (what /version reports), FAIL_HEALTH=1 (answers /healthz
// with 503, to exercise the health gate), FAIL_AFTER_MS (starts failing every request that long
// after start, to exercise post-switch reverts), FLAG_* (feature flags, echoed by /version).
"use strict";
const http = require("node:http");

const port = Number(process.env.PORT || 8080);
const version = process.env.APP_VERSION || "dev";
const startedAt = Date.now();
const failAfterMs = process.env.FAIL_AFTER_MS ? Number(process.env.FAIL_AFTER_MS) : undefined;
const flags = Object.fromEntries(
  Object.entries(process.env)
    .filter(([k]) => k.startsWith("FLAG_"))
    .map(([k, v]) => [k.slice(5).toLowerCase(), v === "true"]),
);

function failing() {
  return failAfterMs !== undefined && Date.now() - startedAt >= failAfterMs;
}

const server = http.createServer((req, res) => {
  const send = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (failing()) return send(500, { error: "release is failing on purpose (FAIL_AFTER_MS)" });
  if (req.url === "/healthz") {
    if (process.env.FAIL_HEALTH === "1") return send(503, { status: "unhealthy" });
    return send(200, { status: "ok" });
  }
  if (req.url === "/version") return send(200, { version, flags });
  return send(200, { app: "flightdeck-sample", version });
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => {
  console.log(`sample app ${version} listening on http://127.0.0.1:${port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
