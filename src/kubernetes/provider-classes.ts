import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import type { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import type { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import type { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import type { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import type { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import type { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import type { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { AgentPlatform } from "../model/types";
import { platformProviderClasses } from "../terraform/platform-provider";

/** The Kubernetes provider's classes the Kubernetes parts build. */
interface KubernetesClasses {
  readonly ConfigMapV1: typeof ConfigMapV1;
  readonly DeploymentV1: typeof DeploymentV1;
  readonly KubernetesProvider: typeof KubernetesProvider;
  readonly Manifest: typeof Manifest;
  readonly NamespaceV1: typeof NamespaceV1;
  readonly NetworkPolicyV1: typeof NetworkPolicyV1;
  readonly PodDisruptionBudgetV1: typeof PodDisruptionBudgetV1;
  readonly ServiceAccountV1: typeof ServiceAccountV1;
  readonly ServiceV1: typeof ServiceV1;
}

/**
 * The Kubernetes provider's classes, each loaded on first use: the package is an optional peer,
 * absent from Docker-only projects, and its modules are large (DeploymentV1 alone is about 40 ms
 * of a cold start). Elsewhere only types may be imported from it.
 */
export const kubernetesClasses = platformProviderClasses<KubernetesClasses>(AgentPlatform.KUBERNETES, {
  ConfigMapV1: "config-map-v1",
  DeploymentV1: "deployment-v1",
  KubernetesProvider: "provider",
  Manifest: "manifest",
  NamespaceV1: "namespace-v1",
  NetworkPolicyV1: "network-policy-v1",
  PodDisruptionBudgetV1: "pod-disruption-budget-v1",
  ServiceAccountV1: "service-account-v1",
  ServiceV1: "service-v1",
});
