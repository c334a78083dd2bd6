/**
 * The secret scan the PR workflow's secret-scan job runs (gitleaks at the version scripts/gitleaks.sh
 * pins, with .gitleaks.toml) finds planted fake credentials, in files and in git history, and the
 * repository's allowances let through only the exact values they name.
 *
 * The fake keys are made at run time: written literally here, they would make this repository's own
 * scan fail (which is the point of the scan).
 *
 * gitleaks is built from Go modules (about 45 s, once per machine). Without Go and without a built
 * binary the tests skip, saying so, on a developer's machine; under CI they fail instead, so a
 * runner without the scanner cannot pass silently.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const script = path.join(root, "scripts/gitleaks.sh");
const config = path.join(root, ".gitleaks.toml");

const built = spawnSync(script, ["--built"], { encoding: "utf8" }).status === 0;
const haveGo = spawnSync("go", ["version"], { stdio: "ignore" }).status === 0;
const canScan = built || haveGo || Boolean(process.env.CI);
if (!canScan) {
  console.warn("secret-scan.test.ts skipped: gitleaks is not built and Go is not installed to build it (scripts/gitleaks.sh)");
}

interface Finding {
  RuleID: string;
  File: string;
  Commit?: string;
}

/** n random characters from the alphabet: high entropy, like a real key, and new on every run. */
const random = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join("");
const fakeAwsKeyId = () => `AKIA${random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}`;
const base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const fakeGitHubPat = () => `ghp_${random(base62, 36)}`;
// generic-api-key wants entropy above 3.5 bits a character: 32 random hex digits miss that about one
// time in five (measured), 40 base62 characters never did in 40 tries (their entropy is about 5).
const fakeApiKey = () => random(base62, 40);
// Pulumi's public wire-format markers, the values .gitleaks.toml allows (policies/secretness.ts).
const pulumiMarkers = `const sigKey = "4dabf18193072939515e22adb298388d";\nconst secretSig = "1b47061264138c4ac30d75fd1eb44270";\n`;

let gitleaks = "";
const temps: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "fd-secret-scan-"));
  temps.push(d);
  return d;
};

/** Runs gitleaks with the repository's config; its exit code (1 = leaks) and JSON findings. */
function scan(mode: "dir" | "git", target: string): { code: number | null; findings: Finding[]; stderr: string } {
  const report = path.join(tempDir(), "report.json");
  const r = spawnSync(gitleaks, [mode, "--no-banner", "--redact", "--config", config, "--report-format", "json", "--report-path", report, target], {
    encoding: "utf8",
  });
  const findings = fs.existsSync(report) ? (JSON.parse(fs.readFileSync(report, "utf8")) as Finding[]) : [];
  return { code: r.status, findings, stderr: r.stderr };
}

function git(cwd: string, ...args: string[]): void {
  execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd, stdio: "pipe" });
}

describe.skipIf(!canScan)("secret scan (gitleaks with .gitleaks.toml)", () => {
  beforeAll(() => {
    // Builds the pinned version on first use (Go modules); fails the suite when that fails.
    gitleaks = execFileSync(script, ["--path"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  }, 300_000);
  afterAll(() => {
    for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
  });

  it("finds a planted AWS access key id and a GitHub token in a file", () => {
    const d = tempDir();
    fs.writeFileSync(path.join(d, "settings.ts"), `export const awsKeyId = "${fakeAwsKeyId()}";\nexport const token = "${fakeGitHubPat()}";\n`);
    const { code, findings, stderr } = scan("dir", d);
    expect(code, stderr).toBe(1);
    expect(findings.map((f) => f.RuleID).sort()).toEqual(["aws-access-token", "github-pat"]);
  });

  it("finds a key that was committed and deleted later: the history is scanned, not just the tree", () => {
    const d = tempDir();
    git(d, "init", "-q", "-b", "main");
    fs.writeFileSync(path.join(d, "deploy.env"), `AWS_ACCESS_KEY_ID=${fakeAwsKeyId()}\n`);
    git(d, "add", "deploy.env");
    git(d, "commit", "-q", "-m", "oops");
    fs.rmSync(path.join(d, "deploy.env"));
    git(d, "commit", "-q", "-am", "remove the key");
    expect(scan("dir", d).findings.filter((f) => !f.File.includes(".git/"))).toEqual([]); // the tree is clean…
    const { code, findings } = scan("git", d);
    expect(code).toBe(1); // …the history is not
    expect(findings).toEqual([expect.objectContaining({ RuleID: "aws-access-token", File: "deploy.env" })]);
  });

  it("allows Pulumi's public wire-format markers, and only those values: a key beside them is still found", () => {
    const d = tempDir();
    fs.writeFileSync(path.join(d, "secretness.ts"), pulumiMarkers);
    expect(scan("dir", d)).toMatchObject({ code: 0, findings: [] });
    fs.writeFileSync(path.join(d, "secretness.ts"), `${pulumiMarkers}const apiKey = "${fakeApiKey()}";\n`);
    const { code, findings } = scan("dir", d);
    expect(code).toBe(1);
    expect(findings.map((f) => f.RuleID)).toEqual(["generic-api-key"]);
  });

  it("this repository's committed history has no finding", () => {
    const { code, findings, stderr } = scan("git", root);
    expect(findings.map((f) => `${f.RuleID} ${f.File} ${f.Commit ?? ""}`)).toEqual([]);
    expect(code, stderr).toBe(0);
  });
});
