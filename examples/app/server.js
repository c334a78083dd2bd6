// The sample app Flightdeck deploys: an HTTP server with /healthz and /version.
// Env: PORT (default 8080), HOST (default: 0.0.0.0 on Fly, where FLY_APP_NAME is set, since
// fly-proxy and the service checks reach the machine on its own address; 127.0.0.1 elsewhere, so
// a local slot is not open to the network), APP_VERSION (what /version reports; on Fly, where the
// release is the image digest known only after the push, Fly's FLY_IMAGE_REF: the image the
// machine was created from), FLAG_* (feature flags, echoed by /version).
// Releases built to fail, so the delivery path can be exercised on purpose (tests, benchmarks):
// a version ending in "-unhealthy" (or FAIL_HEALTH=1) answers /healthz with 503; a version ending
// in "-fails-after-<N>ms" (or FAIL_AFTER_MS=N) answers every request with 500 from N ms after start;
// a version ending in "-slow-<N>ms" (or SLOW_MS=N) answers every request but /healthz N ms late.
"use strict";
const http = require("node:http");

const port = Number(process.env.PORT || 8080);
const host = process.env.HOST || (process.env.FLY_APP_NAME ? "0.0.0.0" : "127.0.0.1");
const version = process.env.APP_VERSION || process.env.FLY_IMAGE_REF || "dev";
const startedAt = Date.now();
const failAfterMatch = /-fails-after-(\d+)ms$/.exec(version);
const failAfterMs = process.env.FAIL_AFTER_MS
  ? Number(process.env.FAIL_AFTER_MS)
  : failAfterMatch
    ? Number(failAfterMatch[1])
    : undefined;
const slowMatch = /-slow-(\d+)ms$/.exec(version);
const slowMs = process.env.SLOW_MS ? Number(process.env.SLOW_MS) : slowMatch ? Number(slowMatch[1]) : 0;
const unhealthy = process.env.FAIL_HEALTH === "1" || version.endsWith("-unhealthy");
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
    if (unhealthy) return send(503, { status: "unhealthy" });
    return send(200, { status: "ok" });
  }
  const answer = () => (req.url === "/version" ? send(200, { version, flags }) : send(200, { app: "flightdeck-sample", version }));
  if (slowMs > 0) return void setTimeout(answer, slowMs);
  return answer();
});
server.keepAliveTimeout = 65_000;
server.listen(port, host, () => {
  console.log(`sample app ${version} listening on http://${host}:${port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
