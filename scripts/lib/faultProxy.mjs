// A TCP proxy between the functions emulator and Firestore that tests can cut (test command only,
// `with-emulators.mjs --test-hooks`): so that an emulator test can take Firestore away from the
// deployed code path (salts-pseudonymizeBatch answering 503) and give it back, without mocks.
// Control: POST <control>/cut drops every connection and refuses new ones; POST <control>/restore.
import http from "node:http";
import net from "node:net";

export async function startFaultProxy(target) {
  const [host, port] = target.split(":");
  const sockets = new Set();
  let cut = false;
  const proxy = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const control = http.createServer((req, res) => {
    if (req.method === "POST" && req.url === "/cut") {
      cut = true;
      for (const s of sockets) s.destroy();
    } else if (req.method === "POST" && req.url === "/restore") {
      cut = false;
    } else if (req.method !== "GET") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ cut }));
  });
  const listen = (server) =>
    new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
  const [proxyPort, controlPort] = await Promise.all([listen(proxy), listen(control)]);
  return {
    host: `127.0.0.1:${proxyPort}`,
    control: `http://127.0.0.1:${controlPort}`,
    async stop() {
      for (const s of sockets) s.destroy();
      await Promise.all([proxy, control].map((s) => new Promise((r) => s.close(() => r()))));
    },
  };
}
