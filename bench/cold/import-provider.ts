// Cold child for the import cost: loads cdktf, then one provider either by its package root or by
// the deep paths given (files). Usage: node import-provider.js root <package> | deep <file...>
// Reports milliseconds to load cdktf and then the provider, measured inside the process.
const [mode, ...targets] = process.argv.slice(2);
const start = process.hrtime.bigint();
require("cdktf");
const cdktfLoaded = process.hrtime.bigint();
if (mode === "root") require(targets[0]);
else if (mode === "deep") for (const file of targets) require(file);
else throw new Error(`unknown mode ${mode}`);
const providerLoaded = process.hrtime.bigint();
console.log(
  JSON.stringify({
    cdktfMs: Number(cdktfLoaded - start) / 1e6,
    providerMs: Number(providerLoaded - cdktfLoaded) / 1e6,
    maxRssKiB: process.resourceUsage().maxRSS,
  }),
);
