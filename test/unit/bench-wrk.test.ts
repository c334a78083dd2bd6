import { describe, expect, it } from "vitest";
import { parseWrk } from "../../bench/wrk";

// A real report of wrk 4.2 (Debian's package), `wrk -t1 -c5 -d1s --latency`, against a server that
// answered every 50th request with 500.
const REPORT = `Running 1s test @ http://127.0.0.1:19599/
  1 threads and 5 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   551.42us    1.08ms  16.13ms   92.49%
    Req/Sec    17.38k    10.55k   30.20k    60.00%
  Latency Distribution
     50%  216.00us
     75%  482.00us
     90%    1.23ms
     99%    5.46ms
  17350 requests in 1.01s, 2.37MB read
  Non-2xx or 3xx responses: 347
Requests/sec:  17246.50
Transfer/sec:      2.36MB
`;

describe("the benchmarks read wrk's report", () => {
  it("requests, failed answers, rate and p99 in ms", () => {
    expect(parseWrk(REPORT)).toEqual({ requests: 17350, failed: 347, rps: 17246.5, p99Ms: 5.46 });
  });

  it("socket errors count as failed requests, and a p99 in µs or s is converted", () => {
    const report = REPORT.replace("     99%    5.46ms", "     99%  812.00us").replace(
      "  Non-2xx or 3xx responses: 347",
      "  Socket errors: connect 2, read 3, write 0, timeout 1\n  Non-2xx or 3xx responses: 347",
    );
    expect(parseWrk(report)).toMatchObject({ failed: 353, p99Ms: 0.812 });
    expect(parseWrk(REPORT.replace("     99%    5.46ms", "     99%    1.50s")).p99Ms).toBe(1500);
  });

  it("a report without a latency distribution has no p99, never a made-up one", () => {
    expect(parseWrk(REPORT.replace(/ {2}Latency Distribution[\s\S]*?99%.*\n/, "")).p99Ms).toBeNaN();
  });
});
