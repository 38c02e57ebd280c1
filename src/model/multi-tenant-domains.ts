/**
 * Registrable domains shared by a cloud's customers: every tenant's bucket, function or API is
 * a host below them, so `*.<domain>` lets an agent reach any attacker's endpoint there. Either
 * public-suffix rules sit below them (the `suffixBelow` sample, which a test checks against the
 * list tldts ships), or the service hands out names to anyone by design (`suffixBelow` absent).
 *
 * Maintained by hand: tldts cannot enumerate the rules below a domain, so this list holds the
 * big clouds' shared domains. Add a domain when a cloud starts to hand out customer names under
 * one (check `parse("x.<suffix>", { allowPrivateDomains: true }).publicSuffix` for a sample rule,
 * or its documentation), with an exact endpoint users typically mean.
 */
export const MULTI_TENANT_DOMAINS: ReadonlyArray<{
  readonly domain: string;
  /** A public-suffix rule below `domain`, if the list has one. */
  readonly suffixBelow?: string;
  /** An exact endpoint to suggest instead of the wildcard. */
  readonly endpoint: string;
}> = [
  { domain: "amazonaws.com", suffixBelow: "s3.amazonaws.com", endpoint: "bedrock-runtime.us-east-1.amazonaws.com" },
  { domain: "amazoncognito.com", suffixBelow: "auth.us-east-1.amazoncognito.com", endpoint: "<your-domain>.auth.us-east-1.amazoncognito.com" },
  { domain: "on.aws", suffixBelow: "lambda-url.us-east-1.on.aws", endpoint: "<url-id>.lambda-url.us-east-1.on.aws" },
  { domain: "windows.net", suffixBelow: "blob.core.windows.net", endpoint: "<account>.blob.core.windows.net" },
  { domain: "fastly.net", suffixBelow: "global.ssl.fastly.net", endpoint: "<service>.global.ssl.fastly.net" },
  // Buckets are `<bucket>.storage.googleapis.com`, for every customer.
  { domain: "storage.googleapis.com", endpoint: "storage.googleapis.com" },
  // Wildcard DNS: `<anything>.<address>.nip.io` resolves to that address, any address.
  { domain: "nip.io", endpoint: "a host name of your own" },
  { domain: "sslip.io", endpoint: "a host name of your own" },
];
