import { Enforcement } from "../model/types";
import type { GatewayConfig } from "./config";

/** The refusals shadow mode turns into `would_deny` events; every other refusal (bad requests, unknown callers and tools, missing keys) stands. */
export const AUDITABLE_REFUSALS = ["permission_denied", "rate_limited", "token_budget_exceeded"] as const;
export type AuditableRefusal = (typeof AUDITABLE_REFUSALS)[number];

/** Where `enforcement` is set, from the firewall down; an absent entry defers to the wider one. */
export interface EnforcementSettings {
  /** The firewall's `enforcement`. */
  readonly firewall: Enforcement;
  /** Roles that set their own. */
  readonly roles: ReadonlyMap<string, Enforcement>;
  /** Tools that set their own. */
  readonly tools: ReadonlyMap<string, Enforcement>;
}

/** The enforcement of a role's calls to a tool: the most specific setting wins (the tool's, then the role's, then the firewall's). */
export function enforcementOf(settings: EnforcementSettings, role: string, tool: string): Enforcement {
  return settings.tools.get(tool) ?? settings.roles.get(role) ?? settings.firewall;
}

/** What the gateway does with a refusal its rules decided. */
export type EnforcedRefusal =
  | { readonly refused: true; readonly eventType: AuditableRefusal }
  | { readonly refused: false; readonly eventType: "would_deny"; readonly refusal: AuditableRefusal };

/** Under ENFORCE the refusal stands; under AUDIT the call goes on and a `would_deny` event names the refusal. */
export function enforceRefusal(mode: Enforcement, refusal: AuditableRefusal): EnforcedRefusal {
  return mode === Enforcement.AUDIT ? { refused: false, eventType: "would_deny", refusal } : { refused: true, eventType: refusal };
}

/** `enforceRefusal` under the mode `config` resolves for the role and tool. */
export function enforcedRefusal(config: GatewayConfig, role: string, tool: string, refusal: AuditableRefusal): EnforcedRefusal {
  return enforceRefusal(enforcementOf(config.enforcement, role, tool), refusal);
}
