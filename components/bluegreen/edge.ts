/**
 * Where an HTTP request for a public URL is sent. Normally the URL itself (DNS decides). With
 * `FLIGHTDECK_EDGE_URL` set (e.g. `http://127.0.0.1:7443`), a request for an `https://` URL goes to
 * that address instead, carrying the URL's host in `Host` — as `curl --connect-to` would. Why: a
 * rehearsal runs the shipped program against an emulated Fly edge, whose proxy routes by Host as
 * fly-proxy does, and a team can probe a staging edge that is not in public DNS yet. Loopback
 * `http://` URLs (the local stack) are never redirected.
 */
export const EDGE_ENV = "FLIGHTDECK_EDGE_URL";

export interface EdgeTarget {
  url: string;
  /** Extra headers the request needs (`host` when redirected). */
  headers: Record<string, string>;
}

export function edgeTarget(url: string, env: NodeJS.ProcessEnv = process.env): EdgeTarget {
  const edge = (env[EDGE_ENV] ?? "").trim().replace(/\/+$/, "");
  if (!edge) return { url, headers: {} };
  const u = new URL(url);
  if (u.protocol !== "https:") return { url, headers: {} };
  return { url: `${edge}${u.pathname}${u.search}`, headers: { host: u.host } };
}
