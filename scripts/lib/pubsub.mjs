// Pub/Sub for the local stack and the tests: an emulator already running (PUBSUB_EMULATOR_HOST), else the
// Google Cloud CLI's emulator on this machine (in its own process group), else nothing (and a clear reason).
// The functions reach the emulator through a gate (a TCP forwarder this process owns), so an outage can be
// staged: `stop` ends the emulator, `start` runs a fresh one and creates the topic and the subscriptions
// asked for before the gate opens again (no message can be published to a topic nobody subscribes to yet).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { pickPort, waitFor } from "./net.mjs";
import { exitOf, log, spawnOwned } from "./processes.mjs";

export const EVENTS_TOPIC = process.env.EVENTS_TOPIC || "salts-events";

function sdkRoots() {
  const roots = new Set();
  try {
    const sdk = execFileSync("gcloud", ["info", "--format=value(installation.sdk_root)"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 20_000,
    }).trim();
    if (sdk) roots.add(sdk);
  } catch {
    // no gcloud on PATH: the usual install places below
  }
  for (const r of ["/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk"]) roots.add(r);
  return [...roots];
}

/** How Pub/Sub will be provided, without starting anything. */
export function pubsubPlan() {
  if (process.env.PUBSUB_EMULATOR_HOST) return { kind: "running", host: process.env.PUBSUB_EMULATOR_HOST };
  for (const root of sdkRoots()) {
    const bin = path.join(root, "platform/pubsub-emulator/bin/cloud-pubsub-emulator");
    if (existsSync(bin)) return { kind: "gcloud", bin };
  }
  return {
    kind: "missing",
    why:
      "no Pub/Sub emulator found: install the Google Cloud CLI's Pub/Sub emulator (`gcloud components install " +
      "pubsub-emulator`, or the Debian package google-cloud-cli-pubsub-emulator) with a Java runtime, " +
      "or start one yourself and export PUBSUB_EMULATOR_HOST=host:port.",
  };
}

async function rest(host, method, resource, body) {
  const res = await fetch(`http://${host}/v1/${resource}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok && res.status !== 409) throw new Error(`Pub/Sub ${method} ${resource}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** Creates the topic (an existing one is fine). */
export function createTopic(host, projectId, topic = EVENTS_TOPIC) {
  return rest(host, "PUT", `projects/${projectId}/topics/${topic}`, {});
}

/** Creates a pull subscription to the topic, with message ordering unless told otherwise. */
export function createSubscription(host, projectId, name, { topic = EVENTS_TOPIC, ordering = true } = {}) {
  return rest(host, "PUT", `projects/${projectId}/subscriptions/${name}`, {
    topic: `projects/${projectId}/topics/${topic}`,
    enableMessageOrdering: ordering,
    ackDeadlineSeconds: 60,
  });
}

/** A TCP forwarder to the emulator that can be closed (connections refused and cut) and pointed elsewhere. */
class Gate {
  target = null;
  sockets = new Set();
  server = net.createServer((client) => {
    if (!this.target) return client.destroy();
    const upstream = net.connect(this.target.port, "127.0.0.1");
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });

  async listen(port) {
    await new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", resolve);
    });
    return `127.0.0.1:${this.server.address().port}`;
  }

  open(port) {
    this.target = { port };
  }

  close() {
    this.target = null;
    for (const s of this.sockets) s.destroy();
  }

  async stop() {
    this.close();
    await new Promise((r) => this.server.close(() => r()));
  }
}

async function startEmulator(bin) {
  const port = await pickPort(8086);
  const child = spawnOwned("pubsub", bin, ["--host=127.0.0.1", `--port=${port}`]);
  await Promise.race([
    waitFor(`http://127.0.0.1:${port}/`, { what: "the Pub/Sub emulator", timeoutMs: 90_000, ok: (r) => r.ok }),
    exitOf(child, "the Pub/Sub emulator"),
  ]);
  return { port, child };
}

async function endEmulator(child) {
  if (child.exitedWith) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const ended = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
  if (!ended) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
    await exited;
  }
}

/**
 * Ensures Pub/Sub answers and the events topic exists. Returns `{host, control, stop}` (host is what the
 * functions get as PUBSUB_EMULATOR_HOST; control, when this process runs the emulator, is a local URL
 * taking POST /stop and POST /start {subscriptions: [{name, ordering}]}), or `{missing: why}`.
 */
export async function ensurePubsub(projectId, topic = EVENTS_TOPIC) {
  const plan = pubsubPlan();
  if (plan.kind === "missing") return { missing: plan.why };
  if (plan.kind === "running") {
    await waitFor(`http://${plan.host}/`, { what: "the Pub/Sub emulator in PUBSUB_EMULATOR_HOST", timeoutMs: 15_000 });
    await createTopic(plan.host, projectId, topic);
    log(`using the Pub/Sub emulator already running at ${plan.host}`);
    return { host: plan.host, control: null, stop: async () => undefined };
  }
  log("starting the Google Cloud CLI Pub/Sub emulator");
  let emulator = await startEmulator(plan.bin);
  const gate = new Gate();
  const host = await gate.listen(await pickPort(8085));
  await createTopic(`127.0.0.1:${emulator.port}`, projectId, topic);
  gate.open(emulator.port);
  let down = false;
  const actions = {
    async stop() {
      gate.close();
      down = true;
      await endEmulator(emulator.child);
      log("Pub/Sub emulator stopped (events cannot be published until it starts again)");
    },
    async start({ subscriptions = [] } = {}) {
      if (!down) return;
      emulator = await startEmulator(plan.bin);
      const direct = `127.0.0.1:${emulator.port}`;
      await createTopic(direct, projectId, topic);
      for (const s of subscriptions) await createSubscription(direct, projectId, s.name, { topic, ordering: s.ordering !== false });
      gate.open(emulator.port);
      down = false;
      log("Pub/Sub emulator started again");
    },
  };
  const control = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      const action = req.method === "POST" ? actions[req.url.slice(1)] : undefined;
      if (!action) return res.writeHead(404).end();
      try {
        await action(body ? JSON.parse(body) : {});
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ host }));
      } catch (e) {
        res.writeHead(500).end(String(e?.message ?? e));
      }
    });
  });
  await new Promise((r) => control.listen(0, "127.0.0.1", r));
  return {
    host,
    control: `http://127.0.0.1:${control.address().port}`,
    stop: async () => {
      control.close();
      await gate.stop();
      await endEmulator(emulator.child);
    },
  };
}
