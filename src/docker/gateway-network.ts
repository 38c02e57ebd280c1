import type { Network as DockerNetwork } from "@cdktf/provider-docker/lib/network";
import type { Construct } from "constructs";
import type { PlannedGatewayNetwork } from "../plan/gateway-plan";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { dockerClasses } from "./provider-classes";

/**
 * One of the tool gateway's own networks: `internal` (no route out), at its planned subnet, and
 * with `inhibit_ipv4`, so that the host holds no address on it either; only the containers put
 * on it reach each other.
 */
export function gatewayDockerNetwork(scope: Construct, id: string, network: PlannedGatewayNetwork, firewall: string, component: string): DockerNetwork {
  return new dockerClasses.Network(scope, id, {
    name: network.networkName,
    internal: true,
    ipamConfig: [{ subnet: network.subnet, gateway: network.gateway }],
    options: { "com.docker.network.bridge.inhibit_ipv4": "true" },
    labels: dockerLabels(workloadLabels(firewall, component)),
  });
}
