/**
 * The deploy driver's cloudflare traffic switch (two-app mode on Fly): the same PATCH as the
 * CloudflareRecordRouter resource (CLOUDFLARE_API_TOKEN and CLOUDFLARE_API_BASE from the
 * environment), without the engine. Imported for its side effect by the driver's entry points.
 */
import { pointRecordAt, readRecord } from "../components/cloudflare/record-router";
import { registerTrafficSwitch } from "./traffic";

registerTrafficSwitch("cloudflare", (spec) => ({
  pointAt: async (slot) => {
    await pointRecordAt(spec, slot);
  },
  // Unlike cordons, the record can be read back: the slot whose app it points at.
  live: async () => (await readRecord(spec)).live,
}));
