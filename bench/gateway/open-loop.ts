// An open-loop load generator (wrk2's way): requests are due at a constant rate whatever the
// answers do, and each one's latency counts from when it was due, not from when a free connection
// sent it, so a stall shows in the tail instead of slowing the load (no coordinated omission).
// Arguments: URL (http), rate per second, seconds, connections. Prints one JSON line:
// { due, ok, other, p50, p99, p999, max } with latencies in ms from when each request was due,
// servedP50/servedP99 from when it was handed to the client pool, and lagP99, how late the
// generator itself handed requests over (a generator starved of CPU lags, and then the figures
// from the due time measure it, not the proxy); the first half second is warm-up.
import { Pool } from "undici";

const [url, rateArg, secondsArg, connectionsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const WARM_UP_MS = 500;
const target = new URL(url);
const pool = new Pool(target.origin, { connections: Number(connectionsArg), pipelining: 1 });
const path = `${target.pathname}${target.search}`;
const latencies: number[] = [];
const served: number[] = [];
const lags: number[] = [];
let ok = 0;
let other = 0;
let pending = 0;
let sent = 0;
const total = Math.round(rate * seconds);
const started = performance.now();

function send(due: number): void {
  pending++;
  const handed = performance.now();
  pool.request({ path, method: "GET" }).then(async (answer) => {
    await answer.body.dump();
    if (answer.statusCode >= 200 && answer.statusCode < 300) ok++;
    else other++;
  }, () => other++).finally(() => {
    if (due - started >= WARM_UP_MS) {
      const now = performance.now();
      latencies.push(now - due);
      served.push(now - handed);
      lags.push(handed - due);
    }
    if (--pending === 0 && sent === total) report();
  });
}

function tick(): void {
  const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
  while (sent < due) send(started + (sent++ * 1000) / rate);
  if (sent < total) setTimeout(tick, 1);
}

function quantiles(values: number[]): (q: number) => number {
  const sorted = Float64Array.from(values).sort();
  return (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function report(): void {
  const [at, servedAt, lagAt] = [quantiles(latencies), quantiles(served), quantiles(lags)];
  process.stdout.write(`${JSON.stringify({ due: total, ok, other, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: at(1), servedP50: servedAt(0.5), servedP99: servedAt(0.99), lagP99: lagAt(0.99) })}\n`);
  void pool.close();
}

tick();
