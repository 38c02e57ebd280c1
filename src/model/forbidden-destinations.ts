/**
 * Destinations the egress proxy never reaches, whichever platform runs it: Squid refuses them
 * on the resolved address (`forbidden_dst`), and the Kubernetes proxy's NetworkPolicy leaves them
 * out of its egress. Special-purpose blocks only: a VPC's own public ranges are not here, which
 * is what `proxy.forbiddenCidrs` adds.
 */
export const FORBIDDEN_DESTINATIONS: ReadonlyArray<string> = [
  // "This network", private, shared (CGNAT, also Alibaba's metadata 100.100.100.200), loopback,
  // link-local (cloud metadata), IETF protocol assignments, benchmarking, multicast and reserved
  // IPv4 ranges; and Azure's WireServer, a public address every Azure VM reaches its host on.
  "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "168.63.129.16/32", "169.254.0.0/16", "172.16.0.0/12",
  "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
  // IPv6 unspecified (connecting to :: reaches the proxy's own loopback) and loopback; NAT64,
  // well-known and local-use prefixes, and 6to4, which all reach IPv4 ranges through a gateway;
  // unique local (AWS metadata fd00:ec2::254) and link-local.
  "::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "fc00::/7", "fe80::/10",
];
