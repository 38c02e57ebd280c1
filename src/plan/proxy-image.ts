import type { SpecProblem } from "../model/errors";
import { AgentPlatform } from "../model/types";
import type { FirewallPlan } from "./plan";

/** The proxy image's build context in the package: Debian 12's Squid with OpenSSL (`squid-openssl`). */
export const PROXY_IMAGE_DIR = "images/egress-proxy";

/**
 * Kubernetes cannot build the proxy image the way a Docker host does, so it needs `proxy.image`:
 * the error says where the Dockerfile is and how to build and push it.
 */
export function proxyImageProblems(plan: FirewallPlan): SpecProblem[] {
  if (plan.platform !== AgentPlatform.KUBERNETES || plan.proxy.image !== undefined) return [];
  return [{
    path: "proxy.image",
    message: "Kubernetes needs a Squid image built with OpenSSL (the proxy checks TLS server names) and cannot build one; " +
      `build the package's ${PROXY_IMAGE_DIR}/Dockerfile and push it, e.g. ` +
      `"docker build -t registry.example.com/rapidclaw/egress-proxy:5.7 node_modules/@rapidclaw/agent-firewall/${PROXY_IMAGE_DIR} && docker push registry.example.com/rapidclaw/egress-proxy:5.7", ` +
      "then set proxy.image to the pushed digest (registry.example.com/rapidclaw/egress-proxy@sha256:…)",
  }];
}
