// Deploys with the console's CSP naming this project's own hosts:
//   npm run deploy -- [--project <id>] [--auth-domain <host>] [any `firebase deploy` flags, e.g. --only hosting]
// The project is --project, else .firebaserc's default. firebase.json stays a template; the filled-in copy
// (firebase.deploy.json, next to it so every path in it still resolves) exists only while firebase deploys.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./lib/processes.mjs";
import { consoleRegion, cspValues, hostingFor, projectOrigins, wideSources } from "./lib/csp.mjs";

const args = process.argv.slice(2);
const take = (flag) => {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
};
const project =
  take("--project") ?? JSON.parse(readFileSync(path.join(ROOT, ".firebaserc"), "utf8")).projects?.default;
const authDomain = take("--auth-domain");
const origins = projectOrigins({ project, region: consoleRegion(ROOT), authDomain });
const base = JSON.parse(readFileSync(path.join(ROOT, "firebase.json"), "utf8"));
const config = { ...base, hosting: hostingFor(base.hosting, origins) };
const wide = cspValues(config.hosting).flatMap(wideSources);
if (wide.length > 0) throw new Error(`the CSP still admits other hosts: ${wide.join(" ")}`);
const file = path.join(ROOT, "firebase.deploy.json");
writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
console.error(
  `[deploy] ${project}: the console may call ${origins.functions} and sign in through ${origins.auth}`,
);
try {
  const run = spawnSync(
    path.join(ROOT, "node_modules/.bin/firebase"),
    ["deploy", "--config", file, "--project", project, ...args],
    { cwd: ROOT, stdio: "inherit", env: { ...process.env, SALTS_CSP_PROJECT: project } },
  );
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(file, { force: true });
}
