import type * as ContainerModule from "@cdktf/provider-docker/lib/container";
import type * as ImageModule from "@cdktf/provider-docker/lib/image";
import type * as NetworkModule from "@cdktf/provider-docker/lib/network";
import type * as ProviderModule from "@cdktf/provider-docker/lib/provider";
import type * as VolumeModule from "@cdktf/provider-docker/lib/volume";
import { AgentPlatform } from "../model/types";
import { platformProviderModule } from "../terraform/platform-provider";

const docker = <T>(module: string): T => platformProviderModule<T>(AgentPlatform.DOCKER, module);

/**
 * The Docker provider's classes the Docker parts build, each loaded on first use: the package is
 * an optional peer, absent from Kubernetes-only projects (see `platformProviderModule`). Only
 * types may be imported from it elsewhere.
 */
export const dockerClasses = {
  get Container(): typeof ContainerModule.Container {
    return docker<typeof ContainerModule>("container").Container;
  },
  get Image(): typeof ImageModule.Image {
    return docker<typeof ImageModule>("image").Image;
  },
  get Network(): typeof NetworkModule.Network {
    return docker<typeof NetworkModule>("network").Network;
  },
  get Volume(): typeof VolumeModule.Volume {
    return docker<typeof VolumeModule>("volume").Volume;
  },
  get DockerProvider(): typeof ProviderModule.DockerProvider {
    return docker<typeof ProviderModule>("provider").DockerProvider;
  },
};
