import type { Container } from "@cdktf/provider-docker/lib/container";
import type { Image } from "@cdktf/provider-docker/lib/image";
import type { Network } from "@cdktf/provider-docker/lib/network";
import type { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import type { Volume } from "@cdktf/provider-docker/lib/volume";
import { AgentPlatform } from "../model/types";
import { platformProviderClasses } from "../terraform/platform-provider";

/** The Docker provider's classes the Docker parts build. */
interface DockerClasses {
  readonly Container: typeof Container;
  readonly DockerProvider: typeof DockerProvider;
  readonly Image: typeof Image;
  readonly Network: typeof Network;
  readonly Volume: typeof Volume;
}

/**
 * The Docker provider's classes, each loaded on first use: the package is an optional peer,
 * absent from Kubernetes-only projects. Elsewhere only types may be imported from it.
 */
export const dockerClasses = platformProviderClasses<DockerClasses>(AgentPlatform.DOCKER, {
  Container: "container",
  DockerProvider: "provider",
  Image: "image",
  Network: "network",
  Volume: "volume",
});
