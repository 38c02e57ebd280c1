/** What one role's workloads can reach on the network, as a platform reader derives it from the artifacts. */
import type { Grant } from "./findings";
import type { SquidListener } from "./squid-conf-reader";

/** A listener of the proxy or the gateway a role reaches, and how. */
export interface ReachedListener<T> {
  readonly listener: T;
  /** The path to it: `docker_container.x on network y → 172.30.16.2`, `NetworkPolicy z port 3129`. */
  readonly via: string;
}

/** A gateway listener reached, with the role the gateway takes its callers for. */
export interface ReachedGatewayListener {
  /** The role the gateway gives callers arriving there; undefined when it can tell none (it refuses them). */
  readonly identity?: string;
  readonly via: string;
  /** The gateway's firewall file. */
  readonly artifact: string;
  /** The listener in it. */
  readonly rule: string;
}

/** Everything a role's workloads reach. */
export interface RoleReach {
  /** Proxy listeners reached (their squid.conf rules then decide the hosts). */
  readonly proxyListeners: ReachedListener<SquidListener>[];
  readonly gatewayListeners: ReachedGatewayListener[];
  /** Destinations outside the cluster or engine reached without the proxy: `10.0.0.0/8 :5432`, `the internet (network x is not internal)`. */
  readonly direct: Grant[];
  /** Other workloads reached (another role's agents, Redis, a Vault Agent, DNS …). */
  readonly peers: Grant[];
  /** Kubernetes: who may connect to the role's pods (on Docker, the peers of its networks are symmetric). */
  readonly ingress?: Grant[];
}
