import type * as ConfigMapModule from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type * as DeploymentModule from "@cdktf/provider-kubernetes/lib/deployment-v1";
import type * as ManifestModule from "@cdktf/provider-kubernetes/lib/manifest";
import type * as NamespaceModule from "@cdktf/provider-kubernetes/lib/namespace-v1";
import type * as NetworkPolicyModule from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import type * as PodDisruptionBudgetModule from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import type * as ProviderModule from "@cdktf/provider-kubernetes/lib/provider";
import type * as ServiceAccountModule from "@cdktf/provider-kubernetes/lib/service-account-v1";
import type * as ServiceModule from "@cdktf/provider-kubernetes/lib/service-v1";
import { AgentPlatform } from "../model/types";
import { platformProviderModule } from "../terraform/platform-provider";

const kubernetes = <T>(module: string): T => platformProviderModule<T>(AgentPlatform.KUBERNETES, module);

/**
 * The Kubernetes provider's classes the Kubernetes parts build, each loaded on first use: the
 * package is an optional peer, absent from Docker-only projects (see `platformProviderModule`),
 * and its modules are large (DeploymentV1 alone is about 40 ms of a cold start). Only types may be
 * imported from it elsewhere.
 */
export const kubernetesClasses = {
  get ConfigMapV1(): typeof ConfigMapModule.ConfigMapV1 {
    return kubernetes<typeof ConfigMapModule>("config-map-v1").ConfigMapV1;
  },
  get DeploymentV1(): typeof DeploymentModule.DeploymentV1 {
    return kubernetes<typeof DeploymentModule>("deployment-v1").DeploymentV1;
  },
  get Manifest(): typeof ManifestModule.Manifest {
    return kubernetes<typeof ManifestModule>("manifest").Manifest;
  },
  get NamespaceV1(): typeof NamespaceModule.NamespaceV1 {
    return kubernetes<typeof NamespaceModule>("namespace-v1").NamespaceV1;
  },
  get NetworkPolicyV1(): typeof NetworkPolicyModule.NetworkPolicyV1 {
    return kubernetes<typeof NetworkPolicyModule>("network-policy-v1").NetworkPolicyV1;
  },
  get PodDisruptionBudgetV1(): typeof PodDisruptionBudgetModule.PodDisruptionBudgetV1 {
    return kubernetes<typeof PodDisruptionBudgetModule>("pod-disruption-budget-v1").PodDisruptionBudgetV1;
  },
  get KubernetesProvider(): typeof ProviderModule.KubernetesProvider {
    return kubernetes<typeof ProviderModule>("provider").KubernetesProvider;
  },
  get ServiceAccountV1(): typeof ServiceAccountModule.ServiceAccountV1 {
    return kubernetes<typeof ServiceAccountModule>("service-account-v1").ServiceAccountV1;
  },
  get ServiceV1(): typeof ServiceModule.ServiceV1 {
    return kubernetes<typeof ServiceModule>("service-v1").ServiceV1;
  },
};
