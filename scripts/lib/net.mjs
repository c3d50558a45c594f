// Ports and readiness: free ports for the emulators, and waiting until a URL answers.
import net from "node:net";

function portFree(port, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

function anyFreePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The preferred port when free, otherwise one the OS hands out. */
export async function pickPort(preferred) {
  return (await portFree(preferred)) ? preferred : anyFreePort();
}

export async function waitFor(
  url,
  { timeoutMs = 60_000, what = url, ok = (r) => r.status < 500, init = {}, attemptMs = 5000 } = {},
) {
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(attemptMs) });
      if (ok(res)) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer at ${url} within ${timeoutMs} ms (${last})`);
}
