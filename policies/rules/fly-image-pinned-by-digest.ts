import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Finding, type Json, record, reportFindings, str, strings, types } from "./common";

export interface ImagePinConfig {
  /** Image prefixes machines may pull from (e.g. "registry.fly.io/"); empty allows any registry. */
  allowedRegistries?: string[];
}

const digestPinned = /@sha256:[0-9a-f]{64}$/;

/** A machine's image is pinned by digest: `<repo>@sha256:<64 hex>`, never a tag such as `latest`. */
export function checkImagePinned(props: Json, config: ImagePinConfig): Finding[] {
  const image = str(record(props.config).image);
  if (image === undefined || !digestPinned.test(image)) {
    return [
      {
        message: `Fly machine image "${image ?? "(none)"}" is not pinned by digest, so the same config can run different code tomorrow and a rollback may not restore the old release.`,
        remediation: `set release to the pushed image's digest, e.g. registry.fly.io/<app>@sha256:<64 hex> (docker buildx imagetools inspect <tag> shows it).`,
      },
    ];
  }
  const allowed = strings(config.allowedRegistries);
  if (allowed.length > 0 && !allowed.some((p) => image.startsWith(p))) {
    return [
      {
        message: `Fly machine image "${image}" comes from a registry outside ${allowed.join(", ")}.`,
        remediation: `push the image to one of ${allowed.join(", ")} (or extend fly-image-pinned-by-digest.allowedRegistries).`,
      },
    ];
  }
  return [];
}

export const flyImagePinnedByDigest: ResourceValidationPolicy = {
  name: "fly-image-pinned-by-digest",
  description: "Checks whether every Fly machine runs an image pinned by digest (@sha256:<64 hex>), not a tag.",
  configSchema: {
    properties: {
      allowedRegistries: { type: "array", items: { type: "string" }, default: [], description: "Allowed image prefixes; empty allows any." },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== types.flyMachine) return;
    reportFindings(report, checkImagePinned(args.props, args.getConfig<ImagePinConfig>()));
  },
};
