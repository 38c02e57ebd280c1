import type { MetricsScrape } from "./metrics-scrape";
import { dockerMetrics } from "./metrics-scrape";
import { Construct } from "constructs";
import { DockerToolGateway } from "../docker/tool-gateway";
import { VAULT_AGENT_APPROLE_FILES } from "../docker/vault-agent";
import { VAULT_TOKEN_PATH } from "../kubernetes/agents";
import { KubernetesToolGateway } from "../kubernetes/tool-gateway";
import { FirewallSpecError, raisedBy } from "../model/errors";
import { AgentPlatform } from "../model/types";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import { gatewayVaultSecrets, type PlannedGateway } from "../plan/gateway-plan";
import { gatewayDeploymentProblems } from "../plan/gateway-deployment";
import { webhookDeliveryProblems } from "../plan/webhook-delivery";
import { VaultAgentConfig } from "../render/vault-agent-config";
import type { IAgentNetwork } from "./agent-network";
import type { IEgressProxy } from "./egress-proxy";
import type { GatewayBundle } from "./gateway-bundle";
import type { IKeyGrantee, KeyGrant } from "./key-grantee";
import { platformPart } from "./platform-part";
import type { ScopedAgentKeys } from "./scoped-agent-keys";
import { pathOfChild } from "./construct-path";

/** Properties of `ToolGateway`. */
export interface ToolGatewayProps {
  /** The agents' network; the gateway serves its firewall's roles. */
  readonly network: IAgentNetwork;
  /** The egress proxy: on Docker the gateway's only way out (its `tool_gateway` listener). */
  readonly proxy: IEgressProxy;
  /** The tool keys: the gateway is granted `read` on exactly the keys delivered to it (`KeyDelivery.GATEWAY`). */
  readonly keys: ScopedAgentKeys;
  /**
   * The gateway program (not read with `gateway.image`, which holds it).
   * @default GatewayBundle.packaged() - the bundle this package ships
   */
  readonly bundle?: GatewayBundle;
  /**
   * Docker: the monitoring network the gateway joins, serving `/metrics` there instead of on its
   * loopback. (On Kubernetes `MetricsScrape` opens the port by a policy of its own.)
   * @default - `/metrics` on the loopback only
   */
  readonly metricsScrape?: MetricsScrape;
}

/**
 * The tool gateway as deployed with a firewall: it recognises each role by the listener it reached
 * (Docker: its address on the role's own network; Kubernetes: the role's Service port), enforces
 * the role's tool access and rate limits (Redis), and injects the keys it alone holds into the
 * calls it forwards. Agents get its URL, never a key. It is a key grantee: `keys.grantRead(this,
 * custodyTools)` makes its policy, which only its own Vault login carries. Invalid props throw
 * `FirewallSpecError` before anything is added.
 */
export class ToolGateway extends Construct implements IKeyGrantee {
  /** The firewall this gateway belongs to. */
  public readonly spec: FirewallSpec;
  /** Name of the gateway's Vault policy and login role, `<firewall>-tool-gateway`. */
  public readonly keyGranteeName: string;
  /** The gateway's grant of the keys it holds and of its Redis login (`gateway.redis.credentialsSecret`); undefined when it reads neither. */
  public readonly keyGrant?: KeyGrant;
  /** The URL each role's agents reach the gateway at, by role name (Kubernetes: by the Service's cluster IP, a Terraform reference). */
  public readonly urls: { [roleName: string]: string };
  /** The firewall file the gateway loads, as deployed (canonical JSON). */
  public readonly configJson: string;
  /** The Vault Agent configuration that renders the gateway's keys and Redis login; undefined when it reads neither. */
  public readonly vaultAgentConfig?: string;
  private readonly dockerGateway?: DockerToolGateway;
  private readonly kubernetesGateway?: KubernetesToolGateway;

  constructor(scope: Construct, id: string, props: ToolGatewayProps) {
    const spec = props.network.spec;
    const plan = planOf(spec);
    const gateway = plan.gateway;
    if (gateway === undefined) {
      throw new FirewallSpecError(raisedBy(pathOfChild(scope, id), [{ path: "gateway", message: "the firewall has no tool gateway: give a tool an upstream, or set gateway options" }]));
    }
    const problems = [...gatewayDeploymentProblems(spec.props), ...webhookDeliveryProblems(plan)];
    if (problems.length > 0) throw new FirewallSpecError(raisedBy(pathOfChild(scope, id), problems));
    super(scope, id);
    this.spec = spec;
    this.keyGranteeName = gateway.name;
    this.configJson = gateway.configJson;
    if (gateway.readsVault) {
      this.keyGrant = props.keys.grantRead(this, gateway.custodyTools, { secrets: gatewayVaultSecrets(gateway) });
      this.vaultAgentConfig = vaultAgentConfigOf(spec, gateway);
    }
    if (plan.platform === AgentPlatform.DOCKER) {
      this.dockerGateway = new DockerToolGateway(this, "docker", {
        network: props.network,
        upstreamProxyUrl: props.proxy.gatewayProxyUrl,
        bundle: props.bundle,
        authPath: props.keys.authPath,
        grant: this.keyGrant,
        vaultAgentConfig: this.vaultAgentConfig,
        metrics: dockerMetrics(props.metricsScrape, "toolGateway"),
        webhookEgressNetworkName: plan.monitoring.webhooks.length > 0 ? props.network.egressNetworkName : undefined,
      });
      this.urls = Object.fromEntries(gateway.roles.map((role) => [role.role, role.url]));
    } else {
      this.kubernetesGateway = new KubernetesToolGateway(this, "kubernetes", {
        spec,
        namespaceName: props.network.namespaceName,
        grant: this.keyGrant,
        authPath: props.keys.authPath,
        vaultAgentConfig: this.vaultAgentConfig,
        bundle: props.bundle,
        upstreamProxyUrl: props.proxy.gatewayProxyUrl,
      });
      this.urls = this.kubernetesGateway.gatewayUrls;
    }
  }

  /** Docker: the gateway, Redis and Vault Agent containers, their networks and the key volume. */
  public get docker(): DockerToolGateway {
    return platformPart(this.dockerGateway, "docker", AgentPlatform.DOCKER);
  }

  /** Kubernetes: the gateway's Deployment, Service, policies and Vault login. */
  public get kubernetes(): KubernetesToolGateway {
    return platformPart(this.kubernetesGateway, "kubernetes", AgentPlatform.KUBERNETES);
  }
}

/** The gateway's Vault Agent configuration: AppRole files on Docker, the gateway's login role on Kubernetes. */
function vaultAgentConfigOf(spec: FirewallSpec, gateway: PlannedGateway): string {
  const plan = planOf(spec);
  const login = plan.platform === AgentPlatform.DOCKER ? { appRole: VAULT_AGENT_APPROLE_FILES } : { kubernetes: { role: gateway.name, tokenPath: VAULT_TOKEN_PATH } };
  return VaultAgentConfig.renderForPlan(plan, { vaultAddress: plan.vault.address as string, keyDir: gateway.paths.keyDir, ...login });
}
