import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { assertPinnedImage } from "./plan";

export interface ImageArgs {
  /** The Fly app whose registry (`registry.fly.io/<app>`) receives the image. */
  readonly app: pulumi.Input<string>;
  /** Build context directory (holds the Dockerfile). */
  readonly context: pulumi.Input<string>;
  /** Dockerfile path. @default "<context>/Dockerfile" */
  readonly dockerfile?: pulumi.Input<string>;
  /** The tag pushed alongside the digest, e.g. the git commit; machines never use it. */
  readonly tag: pulumi.Input<string>;
  /** Target platform: Fly machines run linux/amd64. @default "linux/amd64" */
  readonly platform?: pulumi.Input<string>;
  /** Build arguments. @default {} */
  readonly buildArgs?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Password for registry.fly.io (a Fly token). Taken as an arg rather than read here, and always
   * stored as a Pulumi secret.
   */
  readonly registryToken: pulumi.Input<string>;
}

export const flyRegistry = "registry.fly.io";

/** The pushed reference, checked: pinned by digest and in the app's own repository. */
export function checkPushedDigest(name: string, app: string, digest: string): string {
  const pinned = assertPinnedImage(digest, `Image ${name}`);
  if (!pinned.startsWith(`${flyRegistry}/${app}@`)) {
    throw new Error(`Image ${name}: pushed digest ${pinned} is not in ${flyRegistry}/${app}`);
  }
  return pinned;
}

/**
 * Builds the app's Dockerfile and pushes it to `registry.fly.io/<app>`. Its output `repoDigest`
 * is the pinned reference (`registry.fly.io/<app>@sha256:…`): the only thing machines take.
 */
export class Image extends pulumi.ComponentResource {
  /** `registry.fly.io/<app>@sha256:<64 hex>`, checked. */
  readonly repoDigest: pulumi.Output<string>;
  /** `registry.fly.io/<app>:<tag>`, for people; never for machines. */
  readonly imageName: pulumi.Output<string>;

  constructor(name: string, args: ImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flightdeck:fly:Image", name, {}, opts);
    const imageName = pulumi.interpolate`${flyRegistry}/${args.app}:${args.tag}`;
    const image = new docker.Image(
      `${name}-image`,
      {
        imageName,
        build: {
          context: args.context,
          dockerfile: args.dockerfile ?? pulumi.interpolate`${args.context}/Dockerfile`,
          platform: args.platform ?? "linux/amd64",
          args: args.buildArgs ?? {},
        },
        registry: { server: flyRegistry, username: "x", password: pulumi.secret(args.registryToken) },
        skipPush: false,
      },
      { parent: this },
    );
    this.imageName = image.imageName;
    this.repoDigest = pulumi.all([image.repoDigest, pulumi.output(args.app)]).apply(([digest, app]) => checkPushedDigest(name, app, digest));
    this.registerOutputs({ repoDigest: this.repoDigest, imageName: this.imageName });
  }
}
