/**
 * Layer 2 against a real Vault-compatible server: every `vault_*` resource of the synthesized
 * stacks is applied to an OpenBao dev server through its HTTP API (support/vault-replay.ts), then
 * real AppRole logins and KV v2 reads prove what each identity may read.
 *
 * The server runs in a network namespace of its own, with test addresses on its loopback: one
 * inside each role's bound CIDR and one (TEST-NET-1) outside them all, so the server sees the
 * source address the bindings are checked against.
 *
 * Firewalls in the one server, told apart by name: the seed scenario on Docker and on Kubernetes,
 * the seed with tools fronted by the gateway (one role holding only a gateway-held key), the seed
 * in each key mode, and a generated fleet. SecretIDs are made with the root token, as an operator
 * delivers them outside Terraform; Kubernetes logins need a Kubernetes API (TokenReview), which is
 * not here, so Kubernetes roles are checked as stored and their policies through tokens made with
 * them.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Testing } from "cdktf";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firewallScenario } from "../../examples/firewall-scenario";
import { RapidClawStack, type RapidClawStackProps } from "../../src";
import { AgentPlatform, AlertSeverity, KeyDelivery, KeyMode, ToolAccess, WebhookFormat, type FirewallSpecProps } from "../../src/model/types";
import { compileFirewall, type FirewallPlan } from "../../src/plan/plan";
import { selfSignedCertificate } from "../gateway/support/upstream";
import { firewallSpecArb } from "../support/arbitraries";
import { fronted } from "../support/gateway-spec";
import { missingAgentPrograms } from "./support/agent-programs";
import { NetworkNamespace } from "./support/netns";
import { addressInside, OpenBaoServer } from "./support/openbao";
import { missingPrerequisites, skipLoudlyOrFailInCi } from "./support/prerequisites";
import { replayVault, type VaultReplay } from "./support/vault-replay";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const SKIP = skipLoudlyOrFailInCi(
  "Vault replay against OpenBao",
  [missingPrerequisites(["ip", "unshare", "curl", "openssl"], { namespaces: true }), missingAgentPrograms(["bao"])].filter(Boolean).join("; ") || undefined,
);

/** Where clients reach the server, and the one source address outside every bound CIDR (TEST-NET-1). */
const SERVER_ADDRESS = "10.255.0.1";
const OUTSIDE = "192.0.2.10";

/** The seed with its model API fronted by the gateway, and a role that holds nothing but that gateway-held key. */
const CUSTODY: FirewallSpecProps = fronted(AgentPlatform.DOCKER, (spec) => {
  spec.roles = { ...spec.roles, drafting: { tools: { anthropic: ToolAccess.WRITE, knowledge_base: ToolAccess.READ }, network: { allowEgress: false } } };
});

/** One generated Docker fleet with keys (fixed seed, so every run replays the same one). */
function generatedFleet(): FirewallSpecProps {
  const fleets = fc.sample(firewallSpecArb(AgentPlatform.DOCKER), { seed: 22, numRuns: 200 });
  const fleet = fleets.find((spec) => {
    const plan = compileFirewall({ ...spec, name: "fleet", vault: { ...spec.vault, mountPath: "fleet/keys" } });
    return plan.roles.filter((r) => r.keyGrants.length > 0).length >= 2 && plan.vault.keyMode !== KeyMode.EXTERNAL;
  });
  if (fleet === undefined) throw new Error("no generated fleet with two keyed roles");
  // A mount path the fleet names itself would be the seed's in this one server.
  return { ...fleet, name: "fleet", vault: { ...fleet.vault, ...(fleet.vault?.mountPath && { mountPath: `fleet/${fleet.vault.mountPath}` }) } };
}

const FIREWALLS: Record<string, RapidClawStackProps> = {
  seedDocker: firewallScenario(AgentPlatform.DOCKER),
  seedKubernetes: { ...firewallScenario(AgentPlatform.KUBERNETES), name: "k8s-seed", kubernetes: { ingress: { namespaceLabels: { name: "api-gateway" }, port: 8080 } } },
  custody: { ...CUSTODY, name: "custody" },
  managed: { ...firewallScenario(AgentPlatform.DOCKER), name: "managed", vault: { keyMode: KeyMode.MANAGED } },
  external: { ...firewallScenario(AgentPlatform.DOCKER), name: "external", vault: { keyMode: KeyMode.EXTERNAL } },
  fleet: generatedFleet(),
  // The custody firewall with alert webhooks read from Vault: the gateway's and proxy-events' Vault Agents render them.
  hooks: {
    ...CUSTODY,
    name: "hooks",
    monitoring: { webhooks: [{ severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, vaultSecret: "slack" }, { severity: AlertSeverity.CRITICAL, format: WebhookFormat.PAGERDUTY, vaultSecret: "oncall/pagerduty" }] },
  },
};

interface Applied {
  readonly props: RapidClawStackProps;
  readonly plan: FirewallPlan;
  readonly doc: Json;
  readonly replay: VaultReplay;
}

function synthesized(props: RapidClawStackProps): Json {
  const app = new App({ outdir: "/tmp" });
  const stack = new RapidClawStack(app, "firewall", props);
  return JSON.parse(Testing.synth(stack, true));
}

/** Every key secret's data path in the server, of every firewall. */
const allKeyPaths = (applied: Applied[]) => applied.flatMap(({ plan }) => plan.tools.flatMap((t) => (t.key ? [`${plan.vault.mountPath}/data/${t.key.secretName}`] : [])));

/** The data paths a role's agents may read: its tools above DENY whose key is delivered to agents. */
function agentReadable(plan: FirewallPlan, role: FirewallPlan["roles"][number]): string[] {
  return role.access
    .filter((a) => a.access !== ToolAccess.DENY)
    .flatMap((a) => {
      const key = plan.tools.find((t) => t.name === a.tool)?.key;
      return key && key.delivery === KeyDelivery.AGENT ? [`${plan.vault.mountPath}/data/${key.secretName}`] : [];
    })
    .sort();
}

/** The data paths the gateway's Vault identity may read: the keys held by the gateway. */
const custodyPaths = (plan: FirewallPlan) => plan.tools.flatMap((t) => (t.key?.delivery === KeyDelivery.GATEWAY ? [`${plan.vault.mountPath}/data/${t.key.secretName}`] : [])).sort();


describe.skipIf(SKIP)("the synthesized Vault resources on a real OpenBao server", () => {
  let ns: NetworkNamespace;
  let server: OpenBaoServer;
  const applied: Record<string, Applied> = {};

  beforeAll(async () => {
    ns = NetworkNamespace.create("rcvault");
    ns.addAddress(SERVER_ADDRESS);
    ns.addAddress(OUTSIDE);
    server = await OpenBaoServer.start(ns, SERVER_ADDRESS, { serviceAccountDir: podServiceAccount() });
    const sources = new Set<string>();
    for (const [name, props] of Object.entries(FIREWALLS)) {
      const plan = compileFirewall(props);
      const doc = synthesized(props);
      const existing = plan.vault.existingAuthMount ? { [plan.vault.authPath]: plan.platform === AgentPlatform.KUBERNETES ? "kubernetes" : "approle" } : {};
      applied[name] = { props, plan, doc, replay: replayVault(server, doc, { existingAuthMounts: existing, outsideValues: kubernetesNames(doc) }) };
      for (const role of Object.values<Json>(doc.resource.vault_approle_auth_backend_role ?? {})) {
        for (const cidr of role.token_bound_cidrs) sources.add(addressInside(cidr));
      }
    }
    for (const source of sources) ns.addAddress(source);
  });

  afterAll(async () => {
    await server?.stop();
    ns?.destroy();
  });

  /** Logs in to role `name` of `backend` with a fresh SecretID, from `from`. */
  function login(backend: string, name: string, from: string) {
    const roleId = server.write("GET", `auth/${backend}/role/${name}/role-id`).data.role_id;
    const secretId = server.write("POST", `auth/${backend}/role/${name}/secret-id`).data.secret_id;
    return server.request("POST", `auth/${backend}/login`, { body: { role_id: roleId, secret_id: secretId }, from });
  }

  /** The data paths of `paths` that `token` reads (status 200); every other must be 403. */
  function readable(token: string, from: string | undefined, paths: string[]): string[] {
    const answers = paths.map((path) => [path, server.request("GET", path, { token, from }).status] as const);
    expect(answers.filter(([, status]) => status !== 200 && status !== 403)).toEqual([]);
    return answers.filter(([, status]) => status === 200).map(([path]) => path).sort();
  }

  /** What a token may not do on a mount it reads from: metadata, list, write, delete, another firewall's mount, the server's config. */
  function refusedAround(token: string, from: string | undefined, granted: string, otherMount: string): void {
    const metadata = granted.replace("/data/", "/metadata/");
    const mount = granted.split("/data/")[0];
    const calls: [string, string, unknown?][] = [
      ["GET", metadata], ["LIST", `${mount}/metadata`], ["LIST", `${mount}/metadata/tools`], ["POST", granted, { data: { api_key: "stolen" } }],
      ["DELETE", granted], ["GET", `${mount}/config`], ["LIST", `${otherMount}/metadata`], ["GET", "sys/mounts"], ["LIST", "sys/policies/acl"],
    ];
    const statuses = calls.map(([method, path, body]) => `${method} ${path} ${server.request(method, path, { token, from, body }).status}`);
    expect(statuses).toEqual(calls.map(([method, path]) => `${method} ${path} 403`));
  }

  it("applies every vault_* resource the stacks synthesize", () => {
    for (const { doc, replay } of Object.values(applied)) {
      expect(replay.policies.size).toBe(Object.keys(doc.resource.vault_policy ?? {}).length);
    }
    // The server holds what was applied: every policy, every login role.
    const policies = server.write("LIST", "sys/policies/acl").data.keys as string[];
    for (const { replay } of Object.values(applied)) {
      expect(policies).toEqual(expect.arrayContaining([...replay.policies.keys()]));
      for (const [name, text] of replay.policies) expect(server.write("GET", `sys/policies/acl/${name}`).data.policy).toBe(text);
    }
  });

  describe.each(["seedDocker", "custody", "managed", "fleet"])("Docker firewall %s", (name) => {
    it("logs each role in from inside its bound CIDR only, with exactly its policy and TTL", () => {
      const { doc, plan } = applied[name];
      const roles = Object.values<Json>(doc.resource.vault_approle_auth_backend_role ?? {});
      expect(roles.length).toBeGreaterThan(0);
      for (const role of roles) {
        const backend = plan.vault.authPath;
        const [cidr] = role.token_bound_cidrs as string[];
        expect(role.secret_id_bound_cidrs).toEqual([cidr]);
        const refused = login(backend, role.role_name, OUTSIDE);
        expect(refused.status, `${role.role_name} from ${OUTSIDE}`).toBeGreaterThanOrEqual(400);
        expect(JSON.stringify(refused.body)).toMatch(/unauthorized by CIDR restrictions/);
        const from = addressInside(cidr);
        const answer = login(backend, role.role_name, from);
        expect(answer.status, `${role.role_name} from ${from}: ${JSON.stringify(answer.body)}`).toBe(200);
        const token = answer.body.auth.client_token as string;
        const self = server.write("POST", "auth/token/lookup", { token }).data;
        expect({ policies: self.policies, ttl: self.creation_ttl, cidrs: self.bound_cidrs }).toEqual({ policies: [policyOf(doc, role)], ttl: plan.vault.tokenTtlSeconds, cidrs: [cidr] });
        // Without the default policy the token cannot look itself up or renew itself: a new login replaces it.
        expect(server.request("POST", "auth/token/renew-self", { token, from }).status).toBe(403);
        // The token is bound too: from outside its network even its own key is refused.
        const own = role.role_name === plan.gateway?.name ? custodyPaths(plan)[0] : agentReadable(plan, plan.roles.find((r) => r.policyName === role.role_name) as FirewallPlan["roles"][number])[0];
        expect(server.request("GET", own, { token, from }).status).toBe(200);
        expect(server.request("GET", own, { token, from: OUTSIDE }).status).toBe(403);
        const stored = server.write("GET", `auth/${backend}/role/${role.role_name}`).data;
        expect({ ttl: stored.token_ttl, max: stored.token_max_ttl, noDefault: stored.token_no_default_policy }).toEqual({ ttl: plan.vault.tokenTtlSeconds, max: plan.vault.tokenTtlSeconds, noDefault: true });
      }
    });

    it("lets each role's token read exactly the keys of its tools above DENY, and nothing around them", () => {
      const { doc, plan } = applied[name];
      const everything = allKeyPaths(Object.values(applied));
      const other = name === "custody" ? applied.seedDocker.plan.vault.mountPath : applied.custody.plan.vault.mountPath;
      for (const role of plan.roles) {
        const expected = agentReadable(plan, role);
        const login_ = Object.values<Json>(doc.resource.vault_approle_auth_backend_role ?? {}).find((r) => r.role_name === role.policyName);
        if (expected.length === 0) {
          // Nothing for its agents to read: no login at all.
          expect(login_, role.name).toBeUndefined();
          expect(server.request("GET", `auth/${plan.vault.authPath}/role/${role.policyName}`).status).toBe(404);
          continue;
        }
        const from = addressInside(login_?.token_bound_cidrs[0]);
        const token = login(plan.vault.authPath, role.policyName, from).body.auth.client_token;
        expect(readable(token, from, everything), role.name).toEqual(expected);
        const value = server.request("GET", expected[0], { token, from }).body.data.data;
        expect(value).toEqual(applied[name].replay.secrets.get(expected[0].replace("/data/", "/")));
        refusedAround(token, from, expected[0], other);
      }
    });
  });

  it("gives the gateway's login exactly the custody keys, and no agent's login any of them", () => {
    const { doc, plan } = applied.custody;
    const gateway = Object.values<Json>(doc.resource.vault_approle_auth_backend_role).find((r) => r.role_name === plan.gateway?.name);
    expect(gateway).toBeDefined();
    const custody = custodyPaths(plan);
    expect(custody).toEqual([`${plan.vault.mountPath}/data/tools/anthropic`]);
    const from = addressInside(gateway?.token_bound_cidrs[0]);
    const answer = login(plan.vault.authPath, gateway?.role_name, from);
    expect(answer.status).toBe(200);
    expect(readable(answer.body.auth.client_token, from, allKeyPaths(Object.values(applied)))).toEqual(custody);
    // The role that holds only the gateway-held key has no login; the others cannot read it.
    expect(Object.values<Json>(doc.resource.vault_approle_auth_backend_role).map((r) => r.role_name).sort()).toEqual(
      [plan.gateway?.name, ...plan.roles.filter((r) => agentReadable(plan, r).length > 0).map((r) => r.policyName)].sort(),
    );
    expect(plan.roles.find((r) => r.name === "drafting")?.keyGrants).toEqual([]);
  });

  it("gives each evaluator's login exactly the webhooks read from Vault (the gateway: and its custody keys), from its Vault network only", () => {
    const { doc, plan } = applied.hooks;
    const webhooks = ["slack", "oncall/pagerduty"].map((name) => `${plan.vault.mountPath}/data/webhooks/${name}`);
    // The operator writes them, outside Terraform: no URL is in the stack.
    for (const path of webhooks) server.write("POST", path, { data: { url: `https://hooks.example/${path}`, routingKey: "rk" } });
    const everything = [...allKeyPaths(Object.values(applied)), ...webhooks];
    const logins = Object.fromEntries(Object.values<Json>(doc.resource.vault_approle_auth_backend_role).map((r) => [r.role_name, r]));
    const expected = { [plan.gateway?.name as string]: [...custodyPaths(plan), ...webhooks].sort(), [plan.proxyEvents?.name as string]: [...webhooks].sort() };
    for (const [name, paths] of Object.entries(expected)) {
      const [cidr] = logins[name].token_bound_cidrs as string[];
      expect(cidr).toBe(plan.gateway?.docker?.vaultNetwork.subnet);
      expect(login(plan.vault.authPath, name, OUTSIDE).status, `${name} from ${OUTSIDE}`).toBeGreaterThanOrEqual(400);
      const from = addressInside(cidr);
      const token = login(plan.vault.authPath, name, from).body.auth.client_token as string;
      expect(readable(token, from, everything), name).toEqual(paths);
      expect(server.request("GET", webhooks[1], { token, from }).body.data.data.url).toBe(`https://hooks.example/${webhooks[1]}`);
      refusedAround(token, from, webhooks[0], applied.seedDocker.plan.vault.mountPath);
    }
    expect(JSON.stringify(doc)).not.toContain("hooks.example");
  });

  it("stores the Kubernetes logins as synthesized, and their policies read exactly the role's keys", () => {
    const { doc, plan } = applied.seedKubernetes;
    const logins = Object.values<Json>(doc.resource.vault_kubernetes_auth_backend_role);
    expect(logins.length).toBe(plan.roles.filter((r) => agentReadable(plan, r).length > 0).length);
    for (const login_ of logins) {
      const stored = server.write("GET", `auth/${plan.vault.authPath}/role/${login_.role_name}`).data;
      const role = plan.roles.find((r) => r.policyName === login_.role_name);
      expect({
        names: stored.bound_service_account_names, namespaces: stored.bound_service_account_namespaces, audience: stored.audience,
        policies: stored.token_policies, ttl: stored.token_ttl, max: stored.token_max_ttl, noDefault: stored.token_no_default_policy,
      }).toEqual({
        names: [role?.serviceAccountName], namespaces: [plan.namespace], audience: "vault",
        policies: [role?.policyName], ttl: plan.vault.tokenTtlSeconds, max: plan.vault.tokenTtlSeconds, noDefault: true,
      });
      const token = server.write("POST", "auth/token/create", { policies: stored.token_policies, no_default_policy: true, ttl: "5m" }).auth.client_token;
      expect(readable(token, undefined, allKeyPaths(Object.values(applied)))).toEqual(agentReadable(plan, role as FirewallPlan["roles"][number]));
    }
  });

  describe("key modes: what the server stores", () => {
    it("ephemeral and managed: the key and the tool config in the secret, no key in the synthesized JSON", () => {
      for (const name of ["seedDocker", "managed"]) {
        const { doc, plan, replay } = applied[name];
        const text = JSON.stringify(doc);
        for (const tool of plan.tools.filter((t) => t.key)) {
          const path = `${plan.vault.mountPath}/data/${tool.key?.secretName}`;
          const stored = server.write("GET", path).data.data;
          expect(stored.api_key).toMatch(/^[A-Za-z0-9]{48}$/);
          expect(stored.tool).toBe(tool.name);
          expect(text).not.toContain(stored.api_key);
        }
        const secret = Object.values<Json>(doc.resource.vault_kv_secret_v2)[0];
        // Ephemeral: write-only argument (sent, not kept by Terraform >= 1.11); managed: data_json, kept in state.
        expect(Object.keys(secret).filter((k) => k.startsWith("data_json")).sort()).toEqual(plan.vault.keyMode === KeyMode.EPHEMERAL ? ["data_json_wo", "data_json_wo_version"] : ["data_json"]);
        expect(replay.passwords.size).toBe(plan.tools.filter((t) => t.key).length);
        expect([...replay.passwords.keys()].every((ref) => ref.startsWith(plan.vault.keyMode === KeyMode.EPHEMERAL ? "ephemeral.random_password." : "random_password."))).toBe(true);
      }
    });

    it("keeps two versions: a rotation's new key and the one before it, nothing older", () => {
      const { plan } = applied.seedDocker;
      const path = `${plan.vault.mountPath}/data/tools/web-search`;
      const first = server.write("GET", path).data.data;
      for (const n of [2, 3]) server.write("POST", path, { data: { ...first, api_key: `rotated-${n}` } });
      const versions = [1, 2, 3].map((v) => server.request("GET", `${path}?version=${v}`).status);
      expect(versions).toEqual([404, 200, 200]);
      expect(server.write("GET", path).data.data.api_key).toBe("rotated-3");
    });

    it("external: Terraform writes the tool config as metadata only; the key is the operator's to write", () => {
      const { plan, replay } = applied.external;
      expect(replay.secrets.size).toBe(0);
      for (const tool of plan.tools.filter((t) => t.key)) {
        const secretName = tool.key?.secretName as string;
        expect(server.request("GET", `${plan.vault.mountPath}/data/${secretName}`).status).toBe(404);
        const metadata = server.write("GET", `${plan.vault.mountPath}/metadata/${secretName}`).data;
        expect(metadata.custom_metadata.tool).toBe(tool.name);
        expect(metadata.max_versions).toBe(2);
        expect(JSON.stringify(metadata)).not.toMatch(/api_key/);
      }
    });
  });
});

/**
 * A ServiceAccount directory as a pod holding Vault has one: the cluster's CA (a test certificate)
 * and a token. The synthesized Kubernetes auth config names only the API's address, as for a
 * Vault in the cluster; such a Vault reads both from there.
 */
function podServiceAccount(): string {
  const dir = mkdtempSync(join(tmpdir(), "rcvault-sa-"));
  writeFileSync(join(dir, "ca.crt"), selfSignedCertificate(["kubernetes.default.svc"]).cert);
  writeFileSync(join(dir, "token"), "test-reviewer-token");
  return dir;
}

/** The policy name a role login attaches, resolved from its reference. */
function policyOf(doc: Json, role: Json): string {
  const [reference] = role.token_policies as string[];
  const id = /^\$\{vault_policy\.([^.]+)\.name\}$/.exec(reference)?.[1];
  return id === undefined ? reference : doc.resource.vault_policy[id].name;
}

/** Names of the Kubernetes objects Vault roles refer to, as Terraform knows them after creating them. */
function kubernetesNames(doc: Json): Record<string, string> {
  const values: Record<string, string> = {};
  for (const type of ["kubernetes_service_account_v1", "kubernetes_namespace_v1"]) {
    for (const [id, resource] of Object.entries<Json>(doc.resource[type] ?? {})) values[`${type}.${id}.metadata[0].name`] = resource.metadata.name;
  }
  return values;
}
