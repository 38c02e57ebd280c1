import type { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { Construct } from "constructs";
import { DEFAULTS } from "../model/defaults";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import type { PlannedProxyEvents } from "../plan/proxy-events-plan";
import { COMPONENTS } from "../terraform/labels";
import type { GatewayBundle } from "../constructs/gateway-bundle";
import { KubernetesBundledRedis, redisPort } from "./bundled-redis";
import type { KubernetesEgressProxy } from "./egress-proxy";
import { KubernetesProxyEventsSidecar } from "./proxy-events-sidecar";
import { componentSelector, firewallPolicy, servicePeers, tcpPorts, type PolicyPeer } from "./network-policy";

/** Properties of `KubernetesProxyEvents`. */
export interface KubernetesProxyEventsProps {
  /** The firewall; its plan's `proxyEvents` says what runs and where the windows are. */
  readonly spec: FirewallSpec;
  /** The proxy whose pods get the sidecar. */
  readonly proxy: KubernetesEgressProxy;
  /** The proxy's namespace. */
  readonly namespaceName: string;
  /**
   * The program (the gateway bundle holds every `rapidclaw` command); not read with
   * `gateway.image`, which holds it.
   * @default GatewayBundle.packaged() - the bundle this package ships
   */
  readonly bundle?: GatewayBundle;
}

/**
 * Kubernetes part of ProxyEvents: the sidecar in every proxy pod (`KubernetesProxyEventsSidecar`),
 * the Redis of the alert windows when the firewall has no gateway Redis to share
 * (`<firewall>-events-redis`, made like the gateway's and admitting only the proxy's pods), and
 * the NetworkPolicy `<firewall>-proxy-events` letting the proxy's pods reach that Redis, or the
 * gateway's, on its port. Webhooks leave on 443 to public addresses, which the proxy's policy
 * already allows.
 */
export class KubernetesProxyEvents extends Construct {
  /** The sidecar's ConfigMaps and what it added to the proxy's pods. */
  public readonly sidecar: KubernetesProxyEventsSidecar;
  /** The bundled Redis, when there is no gateway Redis to share. */
  public readonly redis?: KubernetesBundledRedis;
  /** Egress of the proxy's pods to the windows' Redis. */
  public readonly networkPolicy: NetworkPolicyV1;

  constructor(scope: Construct, id: string, props: KubernetesProxyEventsProps) {
    super(scope, id);
    const plan = planOf(props.spec);
    const namespace = props.namespaceName;
    const firewall = plan.names.firewall;
    const events = plan.proxyEvents as PlannedProxyEvents;
    const port = redisPort(events.redis.url);
    this.sidecar = new KubernetesProxyEventsSidecar(this, "sidecar", { spec: props.spec, namespaceName: namespace, bundle: props.bundle });
    props.proxy.addSidecar(this.sidecar.sidecar);
    let peers: PolicyPeer[];
    if (events.redis.bundled) {
      this.redis = new KubernetesBundledRedis(this, "redis", {
        firewall, namespace, name: events.redis.name, image: DEFAULTS.gateway.redisImage, port, component: COMPONENTS.proxyEventsRedis, clients: [COMPONENTS.egressProxy],
      });
      peers = [{ podSelector: componentSelector(firewall, COMPONENTS.proxyEventsRedis) }];
    } else if (plan.gateway?.redis.bundled) {
      peers = [{ podSelector: componentSelector(firewall, COMPONENTS.gatewayRedis) }];
    } else {
      // The gateway's existing Redis (`gateway.redis.url`), as NetworkPolicy can name it.
      peers = servicePeers(events.redis.url, plan, namespace).peers;
    }
    this.networkPolicy = firewallPolicy(this, "network-policy", {
      firewall,
      namespace,
      name: events.name,
      podSelector: componentSelector(firewall, COMPONENTS.egressProxy),
      policyTypes: ["Egress"],
      egress: [{ to: peers, ports: tcpPorts([port]) }],
    });
  }
}
