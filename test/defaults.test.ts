import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../src/model/defaults";
import { KeyMode } from "../src/model/types";

/** Every `@default` of types.ts that names a value, as `Interface.option` → the quoted text. */
function documentedDefaults(): Map<string, string> {
  const text = readFileSync(join(__dirname, "..", "src", "model", "types.ts"), "utf8");
  const found = new Map<string, string>();
  let owner = "";
  let pending: string | undefined;
  for (const line of text.split("\n")) {
    const declared = /^export interface (\w+)/.exec(line);
    if (declared) owner = declared[1];
    const tag = /@default (.*?)(?: \*\/)?$/.exec(line);
    if (tag) pending = tag[1];
    const option = /^\s+readonly (\w+)\??:/.exec(line);
    if (option && pending !== undefined) {
      // `- …` describes behaviour, `[]` and `{}` are empty collections: neither names a value.
      if (!/^-|^\[\]|^\{\}/.test(pending)) found.set(`${owner}.${option[1]}`, pending);
      pending = undefined;
    }
  }
  return found;
}

/** A quoted default as a value: JSON after quoting bare keys, `KeyMode.X`, or `"a" or "b"` as a list. */
function valueOf(quoted: string): unknown {
  const enumMember = /^KeyMode\.(\w+)$/.exec(quoted);
  if (enumMember) return KeyMode[enumMember[1] as keyof typeof KeyMode];
  if (/^"[^"]*" or "[^"]*"$/.test(quoted)) return quoted.split(" or ").map((part) => JSON.parse(part)).sort();
  // Leading value only: `"10001:10001" - never root …` documents the value, then explains it.
  const value = quoted.replace(/ - .*$/, "");
  return JSON.parse(value.replace(/([{,]\s*)(\w+):/g, '$1"$2":'));
}

/** Where each documented default lives in the table. */
const TABLE: Record<string, unknown> = {
  "ToolKeyProps.rotationHours": DEFAULTS.rotationHours,
  "ToolKeyProps.length": DEFAULTS.keyLength,
  "ToolProps.keyHeader": DEFAULTS.gateway.keyHeader,
  "ToolProps.failOpen": DEFAULTS.gateway.failOpen,
  "KeyHeaderProps.format": DEFAULTS.gateway.keyFormat,
  "GatewayOptions.port": DEFAULTS.gateway.port,
  "GatewayOptions.limiterTimeoutMs": DEFAULTS.gateway.limiterTimeoutMs,
  "GatewayOptions.replicas": DEFAULTS.gateway.replicas,
  "EgressCidrProps.allowPublic": DEFAULTS.allowPublic,
  "EgressCidrProps.allowBroad": DEFAULTS.allowBroad,
  "RoleNetworkProps.allowEgress": DEFAULTS.allowEgress,
  "RoleProps.allowFileSystem": DEFAULTS.allowFileSystem,
  "FirewallSpecProps.enforcement": DEFAULTS.enforcement,
  "EgressProxyOptions.enforcement": DEFAULTS.enforcement,
  "AgentProps.memory": DEFAULTS.memory,
  "AgentProps.cpus": DEFAULTS.cpus,
  "AgentProps.processLimit": DEFAULTS.agentProcessLimit,
  "AgentProps.replicas": DEFAULTS.replicas,
  "EgressProxyOptions.port": DEFAULTS.proxyPort,
  "EgressProxyOptions.allowPlainHttp": DEFAULTS.allowPlainHttp,
  "EgressProxyOptions.replicas": DEFAULTS.proxyReplicas,
  "EgressProxyOptions.maxConnectionsPerClient": DEFAULTS.maxConnectionsPerClient,
  "EgressProxyOptions.requestStartTimeoutSec": DEFAULTS.requestStartTimeoutSec,
  "EgressProxyOptions.memory": DEFAULTS.proxyMemory,
  "EgressProxyOptions.cpus": DEFAULTS.proxyCpus,
  "EgressProxyOptions.processLimit": DEFAULTS.proxyProcessLimit,
  "DockerNetworkOptions.subnet": DEFAULTS.agentSubnet,
  "DockerNetworkOptions.roleSubnetPrefix": DEFAULTS.roleSubnetPrefix,
  "DockerNetworkOptions.egressSubnet": DEFAULTS.egressSubnet,
  "DockerNetworkOptions.gatewaySubnet": DEFAULTS.gatewaySubnet,
  "KubernetesOptions.existingNamespace": DEFAULTS.existingNamespace,
  "VaultOptions.mountPath": DEFAULTS.mountPath,
  "VaultOptions.keyMode": DEFAULTS.keyMode,
  "VaultOptions.authPath": Object.values(DEFAULTS.authPath).sort(),
  "VaultOptions.existingAuthMount": DEFAULTS.existingAuthMount,
  "VaultOptions.kubernetesHost": DEFAULTS.kubernetesHost,
  "VaultOptions.tokenTtlSeconds": DEFAULTS.tokenTtlSeconds,
  "MonitoringOptions.rateLimited": DEFAULTS.monitoring.rateLimited,
  "MonitoringOptions.permissionDenied": DEFAULTS.monitoring.permissionDenied,
  "MonitoringOptions.networkBlocked": DEFAULTS.monitoring.networkBlocked,
  "MonitoringOptions.tokenBudgetExceeded": DEFAULTS.monitoring.tokenBudgetExceeded,
  "FirewallSpecProps.name": DEFAULTS.name,
  "FirewallSpecProps.namespace": DEFAULTS.namespace,
};

describe("the defaults table", () => {
  const documented = documentedDefaults();

  it("finds the documented defaults", () => {
    expect(documented.size).toBeGreaterThan(30);
  });

  it("has an entry for every @default of the prop types that names a value", () => {
    expect([...documented.keys()].filter((option) => !(option in TABLE))).toEqual([]);
    expect(Object.keys(TABLE).filter((option) => !documented.has(option))).toEqual([]);
  });

  it.each(Object.keys(TABLE))("%s: the @default quotes the table", (option) => {
    const quoted = documented.get(option);
    expect(quoted, `no @default for ${option}`).toBeDefined();
    expect(valueOf(quoted as string)).toEqual(TABLE[option]);
  });
});
