/** The `fly` config section the Fly integration programs run with: 2 machines per slot over ams and iad. */
export function flySection(app: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    org: "acme",
    app,
    regions: ["ams", "iad"],
    machinesPerSlot: 2,
    size: { cpuKind: "shared", cpus: 1, memoryMb: 256 },
    internalPort: 8080,
    ...extra,
  });
}
