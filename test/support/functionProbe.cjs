// A fresh function instance, started as the Functions runtime starts one: it requires the functions
// entry (its environment, FUNCTION_TARGET included, set by the caller), optionally answers one call of
// the target function, and prints one JSON line: wall and CPU times, peak RSS and every module it loaded.
// Used by the cold-start tests and `npm run bench -- coldstart`; never deployed.
//
//   node [--import tsx] test/support/functionProbe.cjs <entry> [<call as JSON>]
//   call: {"kind":"callable","uid":"...","data":{...}}   (through the SDK's `run`, as after the protocol)
//         {"kind":"request","method":"GET","headers":{...}}   (an onRequest function, express-like req/res)
const path = require("node:path");

const [entryArg, callArg] = process.argv.slice(2);
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const requireStarted = performance.now();
const cpuStarted = cpuMs();
const entry = require(path.resolve(entryArg));
const loaded = performance.now();
const cpuLoaded = cpuMs();

/** The exported function FUNCTION_TARGET names (`salts.status`), as the runtime finds it. */
function target() {
  const name = process.env.FUNCTION_TARGET ?? "";
  const fn = name.split(".").reduce((m, part) => (m == null ? m : m[part]), entry);
  if (typeof fn !== "function") throw new Error(`FUNCTION_TARGET ${name} is not an exported function`);
  return fn;
}

function callable(fn, call) {
  const auth = call.uid
    ? { uid: call.uid, token: { uid: call.uid, auth_time: Math.floor(Date.now() / 1000) } }
    : undefined;
  return fn.run({ data: call.data ?? {}, auth, rawRequest: { headers: {} }, acceptsStreaming: false });
}

function request(fn, call) {
  const headers = Object.fromEntries(
    Object.entries(call.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const req = {
    method: call.method ?? "GET",
    headers,
    get: (h) => headers[h.toLowerCase()],
    header: (h) => headers[h.toLowerCase()],
  };
  return new Promise((resolve) => {
    const res = {
      statusCode: 200,
      headers: {},
      status(code) {
        res.statusCode = code;
        return res;
      },
      set(field, value) {
        res.headers[field.toLowerCase()] = value;
        return res;
      },
      send(body) {
        resolve({ status: res.statusCode, body: String(body) });
        return res;
      },
      on() {},
    };
    Promise.resolve(fn(req, res)).catch((e) => resolve({ status: 500, body: String(e) }));
  });
}

/** Loaded modules: this repository's files by path, packages by name. */
function modules() {
  const root = path.resolve(__dirname, "../..");
  const seen = new Set();
  for (const file of Object.keys(require.cache)) {
    const at = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
    if (at >= 0) {
      const parts = file.slice(at + 14).split(path.sep);
      seen.add(parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]);
    } else seen.add(path.relative(root, file).replace(/\.(ts|js|cjs)$/, ""));
  }
  return [...seen].sort();
}

async function main() {
  let answer = null;
  let error = null;
  if (callArg) {
    const call = JSON.parse(callArg);
    try {
      answer = await (call.kind === "request" ? request : callable)(target(), call);
    } catch (e) {
      error = { code: e.code ?? null, message: String(e.message ?? e) };
    }
  }
  const answered = performance.now();
  const cpuAnswered = cpuMs();
  const report = {
    require_ms: loaded - requireStarted,
    require_cpu_ms: cpuLoaded - cpuStarted,
    loaded_ms: loaded,
    answered_ms: callArg ? answered : null,
    // CPU time of the whole process until the answer: what a loaded machine distorts least.
    answered_cpu_ms: callArg ? cpuAnswered : null,
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
    answer,
    error,
    modules: modules(),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  // Clients (Firestore, Auth) keep sockets open: a probe is one instance's first moments, then gone.
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
