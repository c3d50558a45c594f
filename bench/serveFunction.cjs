// One function instance served over HTTP the way Cloud Run serves a deployed function: the functions
// framework's Express app (JSON bodies parsed by Express, the raw bytes kept as `rawBody`, up to 32 MB)
// handing every request to the exported handler FUNCTION_TARGET names. No emulator in between, so a
// bench sees what production's HTTP and JSON cost. Prints one JSON line, {"port": N}, once listening;
// GET /__bench/cpu answers the process's CPU time so far; with BENCH_SERVE_PROF=<dir>, POST
// /__bench/profile/start and /__bench/profile/stop take a CPU profile of what lies between (written there).
// Used by `npm run bench -- bigquery`; never deployed.
//
//   node bench/serveFunction.cjs <entry>      (FUNCTION_TARGET and the function's environment set)
const path = require("node:path");
const express = require("express");

const entry = require(path.resolve(process.argv[2]));
const name = process.env.FUNCTION_TARGET ?? "";
const handler = name.split(".").reduce((m, part) => (m == null ? m : m[part]), entry);
if (typeof handler !== "function") throw new Error(`FUNCTION_TARGET ${name} is not an exported function`);

const app = express();
app.disable("x-powered-by");
// The bench asks for this process's CPU time (user + system, ms) before and after what it measures.
app.get("/__bench/cpu", (_req, res) => {
  const { user, system } = process.cpuUsage();
  res.json({ cpu_ms: (user + system) / 1000 });
});
if (process.env.BENCH_SERVE_PROF) {
  const inspector = require("node:inspector");
  const fs = require("node:fs");
  const session = new inspector.Session();
  session.connect();
  const post = (method) =>
    new Promise((resolve, reject) => session.post(method, (e, r) => (e ? reject(e) : resolve(r))));
  const answer = (step) => (_req, res) =>
    step().then(
      (body) => res.json(body),
      (e) => res.status(500).json({ error: String(e) }),
    );
  app.post(
    "/__bench/profile/start",
    answer(async () => {
      await post("Profiler.enable");
      await post("Profiler.start");
      return {};
    }),
  );
  app.post(
    "/__bench/profile/stop",
    answer(async () => {
      const { profile } = await post("Profiler.stop");
      fs.mkdirSync(process.env.BENCH_SERVE_PROF, { recursive: true });
      const file = path.join(process.env.BENCH_SERVE_PROF, `serve-${Date.now()}.cpuprofile`);
      fs.writeFileSync(file, JSON.stringify(profile));
      return { file };
    }),
  );
}
app.use(
  express.json({
    limit: "32mb",
    verify: (req, _res, buf) => {
      req.rawBody = buf;
    },
  }),
);
app.use((req, res) => {
  Promise.resolve(handler(req, res)).catch((e) => {
    console.error(e);
    if (!res.headersSent) res.status(500).send("Internal Server Error");
  });
});
const server = app.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
// The bench ends it; keep-alive sockets make `close` wait, so it exits on the signal.
process.on("SIGTERM", () => process.exit(0)); // exit() writes a --cpu-prof profile too
