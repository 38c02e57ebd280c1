import type { Server } from "node:http";

/**
 * Stops an HTTP server gracefully by `deadlineMs` (epoch ms): no new connections (`close()`),
 * responses in flight run to their end (streams included), each connection is closed as soon as
 * it falls idle, and only what is still open at the deadline is cut. `closeAllConnections()`
 * alone would cut responses in flight. Resolves true when every connection ended in time.
 */
export async function drainServer(server: Server, deadlineMs: number): Promise<boolean> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Requests still arriving on open connections are answered, then their connection ends.
  server.on("request", (_req, res) => { res.shouldKeepAlive = false; });
  server.closeIdleConnections();
  const idle = setInterval(() => server.closeIdleConnections(), 100);
  const inTime = await until(closed, deadlineMs);
  clearInterval(idle);
  if (!inTime) {
    server.closeAllConnections();
    await closed;
  }
  return inTime;
}

/** Waits for `work` until `deadlineMs` at the latest; resolves whether it finished. */
export async function until(work: Promise<unknown>, deadlineMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), Math.max(0, deadlineMs - Date.now())); });
  try {
    return await Promise.race([work.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
