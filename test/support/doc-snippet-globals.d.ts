// Names the documentation's TypeScript snippets use without defining them: what a user's own
// program already has around the snippet. Declared only, so a snippet is checked, not run.
declare const stack: import("cdktf").TerraformStack;
declare const spec: import("../../src").FirewallSpec;
declare const props: import("../../src").RapidClawStackProps;
declare const firewall: import("../../src").FirewallSpecProps;
declare const app: import("cdktf").App;
declare const keys: import("../../src").ScopedAgentKeys;
