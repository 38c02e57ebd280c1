import { App } from "cdktf";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { describe, expect, it } from "vitest";
import { AgentPlatform, KeyMode, RapidClawStack, ToolAccess, type RapidClawStackProps } from "../src";
import { firewallScenario } from "../examples/firewall-scenario";
import { synthesize } from "./support/synth";

function synthDocker(props: RapidClawStackProps) {
  return synthesize(new RapidClawStack(new App(), "agent-firewall", props));
}

/** Paths and capabilities a policy grants, read with a real HCL parser. */
async function policyGrants(hcl: string): Promise<Record<string, string[]>> {
  const parsed = (await parseHcl("policy.hcl", hcl)) as { path?: Record<string, { capabilities: string[] }[]> };
  return Object.fromEntries(Object.entries(parsed.path ?? {}).map(([path, blocks]) => [path, blocks.flatMap((b) => b.capabilities)]));
}

const seed = firewallScenario(AgentPlatform.DOCKER);

describe("Vault layer of the seed scenario (Docker)", () => {
  const synth = synthDocker(seed);

  it("creates one KV v2 mount keeping two versions, without check-and-set", () => {
    expect(synth.resources("vault_mount")).toEqual([expect.objectContaining({ path: "agent-keys", type: "kv", options: { version: "2" } })]);
    expect(synth.resources("vault_kv_secret_backend_v2")).toEqual([expect.objectContaining({ max_versions: 2, cas_required: false })]);
  });

  it("holds a secret for exactly the four tools that have a key", () => {
    expect(synth.resources("vault_kv_secret_v2").map((s) => s.name).sort()).toEqual(["tools/database", "tools/file-upload", "tools/send-email", "tools/web-search"]);
  });

  it("feeds each secret from an ephemeral password through the write-only argument, versioned by the rotation", () => {
    const ephemeral = synth.doc.ephemeral?.random_password ?? {};
    expect(Object.keys(ephemeral)).toHaveLength(4);
    for (const secret of synth.resources("vault_kv_secret_v2")) {
      expect(secret.data_json).toBeUndefined();
      expect(secret.data_json_wo).toMatch(/^\$\{jsonencode\(\{"api_key" = ephemeral\.random_password\.[a-z0-9_]+\.result, "tool" = /);
      expect(secret.data_json_wo_version).toMatch(/^\$\{time_rotating\.[^.]+\.unix\}$/);
    }
    expect(synth.doc.terraform.required_version).toBe(">= 1.11.0");
    const web = synth.resources("vault_kv_secret_v2").find((s) => s.name === "tools/web-search");
    expect(web?.data_json_wo).toContain('"permissions" = ["search:read"], "max_calls" = 20, "window_sec" = 60, "max_rpm" = 20');
  });

  it("rotates every rotationHours, and a config change replaces the rotation", () => {
    const rotations = synth.resources("time_rotating");
    expect(rotations.map((r) => r.rotation_hours)).toEqual([24, 24, 24, 24]);
    const changed = synthDocker({ ...seed, tools: { ...seed.tools, web_search: { ...seed.tools.web_search, rateLimit: { maxCalls: 21, windowSec: 60 } } } });
    const hashes = (s: typeof synth) => s.resources("time_rotating").map((r) => r.triggers.config_sha256);
    const before = hashes(synth);
    const after = hashes(changed);
    expect(after.filter((h, i) => h !== before[i])).toHaveLength(1);
  });

  it("gives customer_support read on send_email's key only and research_agent on web_search's and database's only", async () => {
    const policies = Object.fromEntries(synth.resources("vault_policy").map((p) => [p.name, p.policy]));
    expect(Object.keys(policies).sort()).toEqual(["rapidclaw-customer-support", "rapidclaw-research-agent"]);
    expect(await policyGrants(policies["rapidclaw-customer-support"])).toEqual({ "agent-keys/data/tools/send-email": ["read"] });
    expect(await policyGrants(policies["rapidclaw-research-agent"])).toEqual({
      "agent-keys/data/tools/database": ["read"],
      "agent-keys/data/tools/web-search": ["read"],
    });
  });

  it("binds each role to an AppRole role with its policy only, bound to the role's own subnet", () => {
    const roles = synth.resources("vault_approle_auth_backend_role");
    expect(roles.map((r) => r.role_name).sort()).toEqual(["rapidclaw-customer-support", "rapidclaw-research-agent"]);
    const subnets: Record<string, string> = { "rapidclaw-customer-support": "172.30.76.0/24", "rapidclaw-research-agent": "172.30.16.0/24" };
    for (const role of roles) {
      expect(role.token_policies).toHaveLength(1);
      expect(role.token_no_default_policy).toBe(true);
      expect(role.token_bound_cidrs).toEqual([subnets[role.role_name]]);
      expect(role.secret_id_bound_cidrs).toEqual([subnets[role.role_name]]);
    }
    expect(synth.resources("vault_auth_backend")).toEqual([expect.objectContaining({ type: "approle", path: "approle" })]);
  });

  it("uploads the role profile into each agent and points RAPIDCLAW_PROFILE at it", () => {
    const hermes = synth.resources("docker_container").find((c) => c.name === "hermes-agent");
    expect(hermes?.upload.map((u: any) => u.file)).toEqual(["/etc/rapidclaw/profile.json", "/etc/rapidclaw/profile.yaml"]);
    expect(JSON.parse(hermes?.upload[0].content).role).toBe("customer_support");
    expect(hermes?.env).toContain("RAPIDCLAW_PROFILE=/etc/rapidclaw/profile.json");
  });

  it("gives a role without keys no policy and no login", () => {
    const roles = { ...seed.roles, readers: { tools: { knowledge_base: ToolAccess.READ } } };
    const names = synthDocker({ ...seed, roles }).resources("vault_policy").map((p) => p.name);
    expect(names).not.toContain("rapidclaw-readers");
  });
});

describe("key modes", () => {
  it("MANAGED keeps a random_password with the rotation as keeper, and no ephemeral block", () => {
    const synth = synthDocker({ ...seed, vault: { keyMode: KeyMode.MANAGED } });
    expect(synth.doc.ephemeral).toBeUndefined();
    const passwords = synth.resources("random_password");
    expect(passwords).toHaveLength(4);
    for (const p of passwords) expect(p.keepers.rotation).toMatch(/^\$\{time_rotating\./);
    for (const s of synth.resources("vault_kv_secret_v2")) {
      expect(s.data_json).toMatch(/^\$\{jsonencode\(\{"api_key" = random_password\.[^.]+\.result, /);
      expect(s.data_json_wo).toBeUndefined();
    }
  });

  it("EXTERNAL never writes secret data, only the config as metadata", () => {
    const synth = synthDocker({ ...seed, vault: { keyMode: KeyMode.EXTERNAL } });
    expect(synth.resources("vault_kv_secret_v2")).toHaveLength(0);
    expect(synth.resources("random_password")).toHaveLength(0);
    expect(synth.doc.ephemeral).toBeUndefined();
    const metadata = synth.resources("vault_generic_endpoint");
    expect(metadata.map((m) => m.path).sort()).toEqual([
      "agent-keys/metadata/tools/database",
      "agent-keys/metadata/tools/file-upload",
      "agent-keys/metadata/tools/send-email",
      "agent-keys/metadata/tools/web-search",
    ]);
    expect(synth.resources("vault_policy")).toHaveLength(2);
  });

  it("reuses an existing auth backend by path when asked", () => {
    const synth = synthDocker({ ...seed, vault: { existingAuthMount: true, authPath: "approle-agents" } });
    expect(synth.resources("vault_auth_backend")).toHaveLength(0);
    expect(synth.resources("vault_approle_auth_backend_role").map((r) => r.backend)).toEqual(["approle-agents", "approle-agents"]);
  });
});

describe("Vault layer on Kubernetes", () => {
  const synth = synthesize(new RapidClawStack(new App(), "agent-firewall", firewallScenario(AgentPlatform.KUBERNETES)));

  it("creates and configures a Kubernetes auth backend", () => {
    expect(synth.resources("vault_auth_backend")).toEqual([expect.objectContaining({ type: "kubernetes", path: "kubernetes" })]);
    expect(synth.resources("vault_kubernetes_auth_backend_config")).toEqual([expect.objectContaining({ kubernetes_host: "https://kubernetes.default.svc" })]);
  });

  it("binds each role's login to its ServiceAccount and namespace, audience vault, its policy only", () => {
    const logins = synth.resources("vault_kubernetes_auth_backend_role");
    expect(logins.map((l) => [l.role_name, l.bound_service_account_names, l.bound_service_account_namespaces]).sort()).toEqual([
      ["rapidclaw-customer-support", ["customer-support-agent"], ["ai-agents"]],
      ["rapidclaw-research-agent", ["research-agent-agent"], ["ai-agents"]],
    ]);
    for (const login of logins) {
      expect(login.audience).toBe("vault");
      expect(login.token_ttl).toBe(900);
      expect(login.token_no_default_policy).toBe(true);
      expect(login.token_policies).toEqual([expect.stringMatching(/^\$\{vault_policy\./)]);
    }
    const accounts = synth.resources("kubernetes_service_account_v1").map((a) => a.metadata.name);
    expect(accounts).toEqual(expect.arrayContaining(["customer-support-agent", "research-agent-agent"]));
  });

  it("mounts the profile ConfigMap into agent pods", () => {
    const maps = synth.resources("kubernetes_config_map_v1").filter((m) => m.data?.["profile.json"]);
    expect(maps.map((m) => JSON.parse(m.data["profile.json"]).role).sort()).toEqual(["customer_support", "research_agent"]);
  });
});
