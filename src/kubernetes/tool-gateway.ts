import { posix } from "node:path";
import { KubernetesAuthBackendRole } from "@cdktf/provider-vault/lib/kubernetes-auth-backend-role";
import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { DeploymentV1, DeploymentV1SpecTemplateSpecContainer, DeploymentV1SpecTemplateSpecContainerVolumeMount, DeploymentV1SpecTemplateSpecInitContainer, DeploymentV1SpecTemplateSpecVolume } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import type { NetworkPolicyV1, NetworkPolicyV1SpecEgress } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import type { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import type { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import type { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Construct } from "constructs";
import { GatewayBundle } from "../constructs/gateway-bundle";
import type { KeyGrant } from "../constructs/key-grantee";
import { DEFAULTS } from "../model/defaults";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import type { PlannedGateway } from "../plan/gateway-plan";
import type { FirewallPlan, PlannedRole } from "../plan/plan";
import { missingGrant, redisCredentialsArgs } from "../plan/gateway-plan";
import { SHUTDOWN, TERMINATION_GRACE_PERIOD_SEC } from "../plan/shutdown";
import { VaultAgentConfig } from "../render/vault-agent-config";
import { COMPONENTS, workloadLabels } from "../terraform/labels";
import { terraformLiteral } from "../terraform/terraform-literal";
import { VAULT_TOKEN_AUDIENCE, VAULT_TOKEN_PATH, vaultTokenVolume } from "./agents";
import { agentPodSelector, componentSelector, dnsEgressRule, firewallPolicy, publicInternetPeers, servicePeers, tcpPorts, type PolicyPeer, type ServicePeers } from "./network-policy";
import type { AlertWebhookProps } from "../model/types";
import { CHECKSUM_ANNOTATIONS, hardenedContainerSecurityContext, hardenedPodSecurityContext, rolePortName, sha256 } from "./pod";
import { bundleConfigMaps, bundleJoin, type BundleParts } from "./bundle-parts";
import { webhookSecretVolumes } from "./webhook-secrets";
import { kubernetesClasses } from "./provider-classes";
import { squidGatewayListenerForPlan } from "../render/squid-conf";
import { KubernetesBundledRedis, REDIS_RESOURCES, redisPort } from "./bundled-redis";

/** User and group of the gateway pod (the gateway and its Vault Agent share it: keys are 0400). */
export const GATEWAY_UID = 10002;

export { REDIS_UID } from "./bundled-redis";

/** Requests and limits of the gateway's containers and of the bundled Redis. */
export const GATEWAY_RESOURCES = {
  gateway: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1000m", memory: "512Mi" } },
  vaultAgent: { requests: { cpu: "20m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
  redis: REDIS_RESOURCES,
} as const;

/** Properties of `KubernetesToolGateway` (what `ToolGateway` passes it). */
export interface KubernetesToolGatewayProps {
  /** The firewall whose gateway this is (its plan's `gateway`). */
  readonly spec: FirewallSpec;
  /** The agents' namespace (created or adopted): the gateway runs beside the agents. */
  readonly namespaceName: string;
  /**
   * The gateway's key grant (`keys.grantRead(gateway, <custody tools>, { secrets: [<credentialsSecret>] })`):
   * its policy goes on the gateway's Vault login role. Needed when the gateway holds keys or reads
   * its Redis login from Vault (`gateway.redis.credentialsSecret`).
   * @default - no login role; refused when the gateway holds keys or reads its Redis login
   */
  readonly grant?: KeyGrant;
  /**
   * Path of the Kubernetes auth backend the gateway's login role goes on (a reference when the
   * backend is created in the stack, as `ScopedAgentKeys.authPath`).
   * @default - the firewall's `vault.authPath`
   */
  readonly authPath?: string;
  /**
   * The Vault Agent configuration, when the gateway holds keys or reads its Redis login; it must log in with the token at
   * `VAULT_TOKEN_PATH` (the pod's projected token for Vault).
   * @default - `VaultAgentConfig.renderForPlan` with Kubernetes auth as the gateway's login role
   */
  readonly vaultAgentConfig?: string;
  /**
   * The gateway program (not delivered with `gateway.image`, which holds it).
   * @default GatewayBundle.packaged() - the bundle this package ships
   */
  readonly bundle?: GatewayBundle;
  /**
   * Where Vault is, as CIDRs the gateway's Vault Agent may reach on Vault's port: for a Vault at
   * a private address by host name, which a policy cannot know.
   * @default - from `vault.address`: an IP address alone, every pod of the namespace of a
   * `<service>.<namespace>.svc` name, else public addresses only
   */
  readonly vaultCidrs?: string[];
  /**
   * Where an existing Redis (`gateway.redis`) is, as CIDRs the gateway may reach on its port, for
   * one at a private address by host name (a managed Redis in the cluster's network).
   * @default - from `gateway.redis.url`, as `vaultCidrs` from `vault.address`
   */
  readonly redisCidrs?: string[];
  /**
   * The proxy's listener the gateway reaches its upstreams through (RAPIDCLAW_UPSTREAM_PROXY,
   * `EgressProxy.gatewayProxyUrl`): its only way out, as on Docker.
   * @default - none: the gateway fronts no upstream
   */
  readonly upstreamProxyUrl?: string;
}

/**
 * Kubernetes part of ToolGateway: the gateway as a Deployment (`gateway.replicas`, at least 2) of
 * a stock Node image running the package's one-file bundle (or of `gateway.image`, which holds it), with a Vault Agent sidecar rendering
 * the keys it holds into a memory volume; its ConfigMaps (firewall file and Vault Agent config;
 * the bundle), ServiceAccount, Service (one port per role), PodDisruptionBudget and Vault login
 * role; the bundled Redis unless `gateway.redis` is set; and the NetworkPolicies that make the
 * port a call arrives on the caller's role: each role's pods reach the gateway on their own port
 * only, the gateway admits each role only there, and the gateway reaches DNS, Redis, Vault and
 * its upstreams (public addresses, upstream ports) and nothing else. Names derive from
 * `<firewall>-tool-gateway`.
 */
export class KubernetesToolGateway extends Construct {
  /** DNS name of the gateway Service; a role's agents use `http://<serviceHost>:<role port>`. */
  public readonly serviceHost: string;
  /**
   * The gateway Service's cluster IP, a Terraform reference (`spec[0].cluster_ip`): agents reach
   * the gateway by address, since they resolve no names.
   */
  public readonly serviceAddress: string;
  /** `http://<serviceAddress>:<role port>` per role name. */
  public readonly gatewayUrls: { [roleName: string]: string };
  /** The ServiceAccount the gateway runs as: the subject of its Vault login role. */
  public readonly serviceAccount: ServiceAccountV1;
  /** The firewall file (`firewall.json`) and the Vault Agent config (`vault-agent.hcl`). */
  public readonly configMap: ConfigMapV1;
  /** The first part of the gateway bundle, `<gateway>-bundle` (see `bundleConfigMaps`); undefined with `gateway.image`. */
  public readonly bundleConfigMap?: ConfigMapV1;
  /**
   * The gateway bundle in parts, `<gateway>-bundle`, `<gateway>-bundle-1`, …, each under a
   * ConfigMap's 1 MiB (the bundle is about 1.1 MiB); an init container joins them. None with
   * `gateway.image`, whose image holds the bundle.
   */
  public readonly bundleConfigMaps: ConfigMapV1[];
  /** The rendered Vault Agent config, as in the ConfigMap; undefined when the gateway holds no key. */
  public readonly vaultAgentConfig?: string;
  /** sha256 over the firewall file, the Vault Agent config and the delivered bundle: the pod annotation that rolls the gateway (a new `gateway.image` rolls it by itself). */
  public readonly configChecksum: string;
  /** The gateway pods. */
  public readonly deployment: DeploymentV1;
  /** ClusterIP Service with one port per role. */
  public readonly service: ServiceV1;
  /** Keeps all but one gateway pod serving during voluntary disruptions. */
  public readonly podDisruptionBudget: PodDisruptionBudgetV1;
  /** The gateway's NetworkPolicy: ingress per role port from that role's pods; egress to DNS, Redis, Vault and upstreams. */
  public readonly networkPolicy: NetworkPolicyV1;
  /** Per role name: egress of the role's pods to the gateway on the role's port. */
  public readonly roleEgressPolicies: { [roleName: string]: NetworkPolicyV1 } = {};
  /** The Vault Kubernetes auth role bound to the gateway's ServiceAccount; undefined when it holds no key. */
  public readonly vaultLoginRole?: KubernetesAuthBackendRole;
  /** The bundled Redis; undefined with `gateway.redis`. */
  public readonly redisDeployment?: DeploymentV1;
  /** Service of the bundled Redis. */
  public readonly redisService?: ServiceV1;
  /** NetworkPolicy of the bundled Redis: ingress from the gateway only, no egress. */
  public readonly redisNetworkPolicy?: NetworkPolicyV1;
  private readonly gateway: PlannedGateway;
  private readonly files: GatewayFileNames;
  private readonly bundleParts?: BundleParts;
  /** The firewall's webhooks, whose Secrets the gateway mounts. */
  private readonly webhooks: ReadonlyArray<AlertWebhookProps>;

  constructor(scope: Construct, id: string, props: KubernetesToolGatewayProps) {
    const plan = planOf(props.spec);
    const firewall = plan.names.firewall;
    const gateway = plan.gateway;
    if (gateway === undefined) throw new Error(`KubernetesToolGateway "${id}": the firewall has no gateway (no tool has an upstream and gateway is unset); give a tool an upstream, or set gateway`);
    const holdsKeys = gateway.readsVault;
    if (holdsKeys && props.grant === undefined) throw new Error(`KubernetesToolGateway "${id}": ${missingGrant(gateway)}`);
    // With gateway.image the bundle is in the image: nothing to read or deliver.
    const bundle = gateway.imageHoldsBundle ? undefined : props.bundle ?? GatewayBundle.packaged();
    super(scope, id);
    this.gateway = gateway;
    this.files = fileNames(gateway);
    this.webhooks = plan.monitoring.webhooks;
    const namespace = props.namespaceName;
    const labels = workloadLabels(firewall, COMPONENTS.toolGateway);
    this.serviceHost = `${gateway.name}.${namespace}.svc`;

    this.serviceAccount = new kubernetesClasses.ServiceAccountV1(this, "service-account", {
      metadata: { name: gateway.name, namespace, labels },
      automountServiceAccountToken: false,
    });

    this.vaultAgentConfig = holdsKeys
      ? props.vaultAgentConfig ?? VaultAgentConfig.renderForPlan(plan, { vaultAddress: plan.vault.address as string, kubernetes: { role: gateway.name, tokenPath: VAULT_TOKEN_PATH }, keyDir: gateway.paths.keyDir })
      : undefined;
    const configData: { [file: string]: string } = { [this.files.config]: gateway.configJson };
    if (this.vaultAgentConfig !== undefined) configData[this.files.vaultAgentConfig] = this.vaultAgentConfig;
    this.configMap = new kubernetesClasses.ConfigMapV1(this, "config", {
      metadata: { name: gateway.name, namespace, labels },
      data: Object.fromEntries(Object.entries(configData).map(([file, text]) => [file, terraformLiteral(text)])),
    });
    // The bundle in ConfigMap parts (larger than the 1 MiB a ConfigMap may hold), which an init
    // container joins into the file the gateway runs; none with `gateway.image`.
    this.bundleParts = bundle === undefined ? undefined : bundleConfigMaps(this, gateway.name, namespace, labels, gateway.paths.bundle, bundle);
    this.bundleConfigMaps = this.bundleParts?.configMaps ?? [];
    this.bundleConfigMap = this.bundleConfigMaps[0];
    this.configChecksum = sha256([gateway.configJson, this.vaultAgentConfig ?? "", bundle === undefined ? "" : sha256(bundle.text)].join("\n"));

    if (squidGatewayListenerForPlan(plan) !== undefined && props.upstreamProxyUrl === undefined) {
      throw new Error(`KubernetesToolGateway "${id}": the gateway fronts upstreams and leaves only through the proxy's gateway listener; pass upstreamProxyUrl: proxy.gatewayProxyUrl`);
    }
    this.deployment = this.gatewayDeployment(namespace, labels, props.upstreamProxyUrl);

    this.service = new kubernetesClasses.ServiceV1(this, "service", {
      metadata: { name: gateway.name, namespace, labels },
      spec: {
        type: "ClusterIP",
        selector: labels,
        port: gateway.roles.map((r) => ({ name: rolePortName(r.slot), port: r.port, targetPort: rolePortName(r.slot), protocol: "TCP" })),
      },
    });
    this.serviceAddress = this.service.spec.clusterIp;
    this.gatewayUrls = Object.fromEntries(gateway.roles.map((r) => [r.role, `http://${this.serviceAddress}:${r.port}`]));
    this.podDisruptionBudget = new kubernetesClasses.PodDisruptionBudgetV1(this, "pdb", {
      metadata: { name: gateway.name, namespace, labels },
      spec: { maxUnavailable: "1", selector: { matchLabels: labels } },
    });

    if (holdsKeys) {
      const grant = props.grant as KeyGrant;
      this.vaultLoginRole = new KubernetesAuthBackendRole(this, "vault-login", {
        backend: props.authPath ?? plan.vault.authPath,
        roleName: gateway.name,
        boundServiceAccountNames: [this.serviceAccount.metadata.name],
        boundServiceAccountNamespaces: [namespace],
        audience: VAULT_TOKEN_AUDIENCE,
        tokenPolicies: [grant.policy.name],
        tokenNoDefaultPolicy: true,
        tokenTtl: plan.vault.tokenTtlSeconds,
        tokenMaxTtl: plan.vault.tokenTtlSeconds,
      });
    }

    if (gateway.redis.bundled) {
      // proxy-events (a sidecar of the proxy) keeps its alert windows here too, unless the firewall bundles it a Redis of its own.
      const clients = plan.proxyEvents?.redis.bundled === false ? [COMPONENTS.toolGateway, COMPONENTS.egressProxy] : [COMPONENTS.toolGateway];
      const redis = new KubernetesBundledRedis(this, "redis", { firewall, namespace, name: gateway.redis.name, image: gateway.redis.image, port: redisPort(gateway.redis.url), component: COMPONENTS.gatewayRedis, clients });
      this.redisDeployment = redis.deployment;
      this.redisService = redis.service;
      this.redisNetworkPolicy = redis.networkPolicy;
    }
    this.networkPolicy = this.gatewayPolicy(plan, namespace, props);
    const roles = new Map(plan.roles.map((r) => [r.name, r]));
    const policyScope = new Construct(this, "role-egress");
    for (const entry of gateway.roles) {
      const role = roles.get(entry.role) as PlannedRole;
      this.roleEgressPolicies[role.name] = firewallPolicy(policyScope, role.resourceName, {
        firewall,
        namespace,
        name: `${plan.names.firewall}-role-${role.resourceName}-gateway`,
        podSelector: agentPodSelector(firewall, role),
        policyTypes: ["Egress"],
        egress: [{ to: [{ podSelector: componentSelector(firewall, COMPONENTS.toolGateway) }], ports: tcpPorts([entry.port]) }],
      });
    }
  }

  private gatewayDeployment(namespace: string, labels: Record<string, string>, upstreamProxyUrl: string | undefined): DeploymentV1 {
    const gateway = this.gateway;
    const keyDir = gateway.paths.keyDir;
    const bundleDelivery = this.bundleDelivery();
    const volumes: DeploymentV1SpecTemplateSpecVolume[] = [
      { name: "config", configMap: { name: this.configMap.metadata.name, defaultMode: "0444", items: [{ key: this.files.config, path: this.files.config }] } },
      ...bundleDelivery.volumes,
      // In memory: keys never reach a node's disk.
      { name: "keys", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
    ];
    const webhookSecrets = webhookSecretVolumes(this.webhooks);
    const containers: DeploymentV1SpecTemplateSpecContainer[] = [
      {
        name: "gateway",
        image: gateway.image,
        command: ["node", gateway.paths.bundle, "gateway", "--config", gateway.paths.config, "--key-dir", keyDir, "--redis", gateway.redis.url, ...redisCredentialsArgs(gateway), "--admin-port", String(gateway.adminPort), "--drain-timeout-sec", String(SHUTDOWN.drainTimeoutSec)],
        // Endpoints drop a terminating pod while SIGTERM is on its way: a pause first, so no new call lands on a gateway that stopped accepting.
        lifecycle: { preStop: [{ exec: { command: ["node", "-e", `setTimeout(() => {}, ${SHUTDOWN.preStopSleepSec * 1000})`] } }] },
        env: upstreamProxyUrl === undefined ? undefined : [{ name: "RAPIDCLAW_UPSTREAM_PROXY", value: upstreamProxyUrl }],
        port: [
          ...gateway.roles.map((r) => ({ name: rolePortName(r.slot), containerPort: r.port, protocol: "TCP" })),
          { name: "admin", containerPort: gateway.adminPort, protocol: "TCP" },
        ],
        // Ready once Redis answers and every key is loaded.
        readinessProbe: { httpGet: { path: "/readyz", port: "admin" }, periodSeconds: 5, failureThreshold: 2 },
        livenessProbe: { httpGet: { path: "/healthz", port: "admin" }, periodSeconds: 10, failureThreshold: 3 },
        resources: { requests: { ...GATEWAY_RESOURCES.gateway.requests }, limits: { ...GATEWAY_RESOURCES.gateway.limits } },
        securityContext: hardenedContainerSecurityContext(),
        volumeMount: [
          { name: "config", mountPath: posix.dirname(gateway.paths.config), readOnly: true },
          ...bundleDelivery.gatewayMounts,
          { name: "keys", mountPath: keyDir, readOnly: true },
          ...webhookSecrets.mounts,
        ],
      },
    ];
    volumes.push(...webhookSecrets.volumes);
    const initContainers = bundleDelivery.initContainers;
    if (this.vaultAgentConfig !== undefined) {
      const token = vaultTokenVolume();
      volumes.push(
        { name: "vault-agent-config", configMap: { name: this.configMap.metadata.name, defaultMode: "0444", items: [{ key: this.files.vaultAgentConfig, path: this.files.vaultAgentConfig }] } },
        token.volume,
      );
      // A plain sidecar: the provider has no restartPolicy for init containers (native sidecars); the gateway stays unready until the keys are there.
      containers.push({
        name: "vault-agent",
        image: DEFAULTS.gateway.vaultAgentImage,
        command: ["vault", "agent", `-config=${gateway.paths.vaultAgentConfig}`],
        resources: { requests: { ...GATEWAY_RESOURCES.vaultAgent.requests }, limits: { ...GATEWAY_RESOURCES.vaultAgent.limits } },
        securityContext: hardenedContainerSecurityContext(),
        volumeMount: [
          { name: "vault-agent-config", mountPath: posix.dirname(gateway.paths.vaultAgentConfig), readOnly: true },
          { name: "keys", mountPath: keyDir },
          token.mount,
        ],
      });
    }
    return new kubernetesClasses.DeploymentV1(this, "deployment", {
      metadata: { name: gateway.name, namespace, labels },
      spec: {
        replicas: String(gateway.replicas),
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations: { [CHECKSUM_ANNOTATIONS.gatewayConfig]: this.configChecksum } },
          spec: {
            serviceAccountName: this.serviceAccount.metadata.name,
            automountServiceAccountToken: false,
            securityContext: hardenedPodSecurityContext(GATEWAY_UID),
            // Above the pause and the drain: calls in flight finish before the kubelet kills.
            terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_SEC,
            initContainer: initContainers.length > 0 ? initContainers : undefined,
            container: containers,
            volume: volumes,
          },
        },
      },
    });
  }

  /**
   * How the bundle reaches the gateway: its ConfigMap parts, an init container joining them into
   * a volume, and that volume mounted read-only where the gateway runs it; nothing with
   * `gateway.image`, whose image holds it (a volume there would hide it).
   */
  private bundleDelivery(): { volumes: DeploymentV1SpecTemplateSpecVolume[]; initContainers: DeploymentV1SpecTemplateSpecInitContainer[]; gatewayMounts: DeploymentV1SpecTemplateSpecContainerVolumeMount[] } {
    if (this.bundleParts === undefined) return { volumes: [], initContainers: [], gatewayMounts: [] };
    const join = bundleJoin(this.bundleParts, this.gateway.paths.bundle, this.gateway.image);
    return { volumes: join.volumes, initContainers: [join.initContainer], gatewayMounts: [{ name: "bundle", mountPath: posix.dirname(this.gateway.paths.bundle), readOnly: true }] };
  }


  /** The gateway's policy: each role's pods on their own port in; DNS, Redis, Vault and upstreams out. */
  private gatewayPolicy(plan: FirewallPlan, namespace: string, props: KubernetesToolGatewayProps): NetworkPolicyV1 {
    const firewall = plan.names.firewall;
    const gateway = this.gateway;
    const roles = new Map(plan.roles.map((r) => [r.name, r]));
    const egress: NetworkPolicyV1SpecEgress[] = [dnsEgressRule(plan)];
    const redis = gateway.redis.bundled
      ? { peers: [{ podSelector: componentSelector(firewall, COMPONENTS.gatewayRedis) }], port: redisPort(gateway.redis.url) }
      : explicitPeers(servicePeers(gateway.redis.url, plan, namespace), props.redisCidrs);
    egress.push({ to: redis.peers, ports: tcpPorts([redis.port]) });
    if (this.vaultAgentConfig !== undefined) {
      const vault = explicitPeers(servicePeers(plan.vault.address as string, plan, namespace), props.vaultCidrs);
      egress.push({ to: vault.peers, ports: tcpPorts([vault.port]) });
    }
    // Upstreams only through the proxy's gateway listener: no public range is open to the gateway.
    const listener = squidGatewayListenerForPlan(plan);
    if (listener) egress.push({ to: [{ podSelector: componentSelector(firewall, COMPONENTS.egressProxy) }], ports: tcpPorts([listener.port]) });
    // Alert webhooks: their URLs are in Secrets, so the proxy cannot list their hosts; the gateway
    // posts its alerts on 443 directly, and only when the firewall has webhooks.
    if (plan.monitoring.webhooks.length > 0) egress.push({ to: publicInternetPeers(plan), ports: tcpPorts([443]) });
    return firewallPolicy(this, "network-policy", {
      firewall,
      namespace,
      name: gateway.name,
      podSelector: componentSelector(firewall, COMPONENTS.toolGateway),
      policyTypes: ["Ingress", "Egress"],
      ingress: gateway.roles.map((r) => ({ from: [{ podSelector: agentPodSelector(firewall, roles.get(r.role) as PlannedRole) }], ports: tcpPorts([r.port]) })),
      egress,
    });
  }
}

/** Keys in the gateway's ConfigMaps: the names of the files they are mounted as. */
export interface GatewayFileNames {
  readonly config: string;
  readonly vaultAgentConfig: string;
  readonly bundle: string;
}

export function fileNames(gateway: PlannedGateway): GatewayFileNames {
  return { config: posix.basename(gateway.paths.config), vaultAgentConfig: posix.basename(gateway.paths.vaultAgentConfig), bundle: posix.basename(gateway.paths.bundle) };
}

/** The service's peers, or the CIDRs given for it on its port. */
function explicitPeers(derived: ServicePeers, cidrs: string[] | undefined): ServicePeers {
  if (cidrs === undefined) return derived;
  const peers: PolicyPeer[] = cidrs.map((cidr) => ({ ipBlock: { cidr } }));
  return { peers, port: derived.port };
}
