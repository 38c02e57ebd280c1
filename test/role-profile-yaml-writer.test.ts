import fc from "fast-check";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { compileFirewall } from "../src/plan/plan";
import { buildRoleProfiles, renderRoleProfileYaml, roleProfileDocument, type RoleProfile } from "../src/render/role-profile";
import { anyFirewallSpecArb } from "./support/arbitraries";

// renderRoleProfileYaml writes profile YAML itself (yaml.stringify was the largest cost of the
// library at 1,000 roles) and must write exactly what yaml.stringify writes.

const HEADER = "# Rapid Claw role profiles (Rapid Claw's own format, not an agent's config file), generated from the firewall spec: edit the spec, not this file.\n";

function byYamlLibrary(profiles: ReadonlyArray<RoleProfile>): string {
  const sorted = [...profiles].sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
  const document = { profiles: Object.fromEntries(sorted.map(roleProfileDocument).map(({ role, ...body }) => [role, body])) };
  return HEADER + stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** Strings yaml must quote or may write plain: indicators, keywords, numbers, colons, spaces, quotes. */
const awkwardString = fc.oneof(
  fc.constantFrom("", "true", "False", "null", "~", "NULL", "42", "-7", "+1", "0x1F", "0o17", "1e3", "1.5", ".5", ".inf", "-.Inf", ".nan", "yes", "no", "on"),
  fc.constantFrom("*.example.com", "&anchor", "!tag", "@at", "`tick", "%pct", "-", "?", "-x", "? x", "x:", ":x", "a: b", "a #b", "a#b", "[x]", "{x}", "a,b", "|", ">", "'q'", '"q"', "it's", "back\\slash", "two  spaces", " lead", "trail ", "---", "...", "--- x", "multi\nline", "tab\there", "é", "a/b:c@d+e"),
  fc.string({ unit: fc.constantFrom("a", "Z", "0", "9", "_", "-", ".", "/", ":", "@", "+", "*", "#", " ", "'", '"', "\\", "&", "!", "%", "?", "[", "{", ",", "\n", "é") , maxLength: 8 }),
);

const awkwardProfile: fc.Arbitrary<RoleProfile> = fc.record({
  role: awkwardString,
  tools: fc.record({
    allowed: fc.array(
      fc.record(
        {
          tool: awkwardString,
          access: fc.constantFrom("READ", "WRITE", "EXECUTE") as fc.Arbitrary<any>,
          permissions: fc.array(awkwardString, { maxLength: 3 }),
          rateLimit: fc.record({ maxCalls: fc.integer({ min: 1, max: 1e6 }), windowSec: fc.integer({ min: 1, max: 86_400 }), maxRpm: fc.integer({ min: 1, max: 1e6 }) }),
        },
        { requiredKeys: ["tool", "access", "permissions"] },
      ),
      { maxLength: 3 },
    ),
    denied: fc.array(awkwardString, { maxLength: 4 }),
  }),
  limits: fc.record({ maxConcurrentTasks: fc.integer({ min: 1, max: 10_000 }), maxTokensPerTask: fc.integer({ min: 1, max: 1e8 }) }, { requiredKeys: [] }),
  network: fc.record({
    allowEgress: fc.boolean(),
    allowedHosts: fc.array(awkwardString, { maxLength: 3 }),
    egressCidrs: fc.array(fc.record({ cidr: awkwardString, ports: fc.array(fc.integer({ min: 1, max: 65_535 }), { maxLength: 2 }) }), { maxLength: 2 }),
  }),
  allowFileSystem: fc.boolean(),
  alerts: fc.record({
    rateLimited: fc.record({ count: fc.nat(), windowSec: fc.nat(), severity: awkwardString }),
    permissionDenied: fc.record({ count: fc.nat(), windowSec: fc.nat(), severity: awkwardString }),
    networkBlocked: fc.record({ count: fc.nat(), windowSec: fc.nat(), severity: awkwardString }),
  }),
  vault: fc.record({ mount: awkwardString, secretPaths: fc.dictionary(awkwardString, awkwardString, { maxKeys: 3 }) }),
});

describe("profile YAML writer", () => {
  it("writes what yaml.stringify writes for generated fleets", () => {
    fc.assert(
      fc.property(anyFirewallSpecArb, (spec) => {
        const profiles = buildRoleProfiles(compileFirewall(spec));
        expect(renderRoleProfileYaml(profiles)).toBe(byYamlLibrary(profiles));
        for (const profile of profiles) expect(renderRoleProfileYaml([profile])).toBe(byYamlLibrary([profile]));
      }),
      { numRuns: 200 },
    );
  });

  it("writes what yaml.stringify writes for any strings, quoting or handing over to yaml where needed", () => {
    fc.assert(
      fc.property(fc.uniqueArray(awkwardProfile, { selector: (p) => p.role, maxLength: 3 }), (profiles) => {
        expect(renderRoleProfileYaml(profiles)).toBe(byYamlLibrary(profiles));
      }),
      { numRuns: 2000 },
    );
  });

  it("writes an empty document as yaml does", () => {
    expect(renderRoleProfileYaml([])).toBe(byYamlLibrary([]));
  });
});
