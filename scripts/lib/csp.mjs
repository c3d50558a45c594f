// The console's Content-Security-Policy names this project's own hosts only. firebase.json holds it as a
// template: FUNCTIONS_ORIGIN and AUTH_ORIGIN stand for the project's callables
// (https://<region>-<project>.cloudfunctions.net) and its sign-in helper (https://<project>.firebaseapp.com).
// `npm run deploy` (scripts/deploy.mjs) fills them in for the project it deploys to; the local stack fills
// them in for the demo project and adds the emulators (scripts/console-hosting.mjs). A template deployed
// as is names no host at all (the console then cannot call anything): it fails closed, and the hosting
// predeploy check (`node scripts/lib/csp.mjs check`) stops such a deploy before it starts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const FUNCTIONS_ORIGIN = "__SALTS_FUNCTIONS_ORIGIN__";
export const AUTH_ORIGIN = "__SALTS_AUTH_ORIGIN__";
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const REGION = /^[a-z]+-[a-z]+[0-9]+$/;
const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

/**
 * The origins a project's console talks to, from its id (and region, and sign-in domain if not the default).
 * @param {{ project: string, region?: string, authDomain?: string }} target
 */
export function projectOrigins({ project, region = "us-central1", authDomain }) {
  if (!PROJECT_ID.test(project ?? "")) throw new Error(`"${project}" is not a Firebase project id`);
  if (!REGION.test(region)) throw new Error(`"${region}" is not a Cloud Functions region`);
  const domain = authDomain ?? `${project}.firebaseapp.com`;
  if (!HOST.test(domain)) throw new Error(`"${domain}" is not a host name`);
  return { functions: `https://${region}-${project}.cloudfunctions.net`, auth: `https://${domain}` };
}

/** A CSP value with the template's origins filled in. */
export function fillCsp(value, origins) {
  return value.replaceAll(FUNCTIONS_ORIGIN, origins.functions).replaceAll(AUTH_ORIGIN, origins.auth);
}

/** A copy of firebase.json's `hosting` with its CSP filled in for `origins`. */
export function hostingFor(hosting, origins) {
  const filled = JSON.parse(JSON.stringify(hosting));
  for (const rule of filled.headers ?? []) {
    for (const h of rule.headers) if (h.key === "Content-Security-Policy") h.value = fillCsp(h.value, origins);
  }
  return filled;
}

/** Every CSP value of a hosting config. */
export function cspValues(hosting) {
  return (hosting.headers ?? []).flatMap((rule) =>
    rule.headers.filter((h) => h.key === "Content-Security-Policy").map((h) => h.value),
  );
}

/** The sources of a CSP value that admit more than one host (a `*` anywhere in a host source, or a bare scheme). */
export function wideSources(value) {
  return value
    .split(";")
    .flatMap((directive) => directive.trim().split(/\s+/).slice(1))
    .filter((source) => source.includes("*") || /^(https?|wss?):$/.test(source));
}

/** The region the console calls (console/public/console.json `region`, else us-central1). */
export function consoleRegion(root) {
  try {
    const site = JSON.parse(readFileSync(path.join(root, "console/public/console.json"), "utf8"));
    return typeof site.region === "string" ? site.region : "us-central1";
  } catch {
    return "us-central1";
  }
}

/** The hosting predeploy check: only scripts/deploy.mjs, which filled the CSP in for this project, may deploy. */
export function checkDeployEnv(env) {
  if (env.SALTS_CSP_PROJECT && env.SALTS_CSP_PROJECT === env.GCLOUD_PROJECT) return;
  throw new Error(
    `the console's CSP must name ${env.GCLOUD_PROJECT ?? "the project"}'s own hosts: deploy hosting with ` +
      "`npm run deploy -- --project <id>` (scripts/deploy.mjs fills firebase.json's CSP template in)",
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] === "check") {
  try {
    checkDeployEnv(process.env);
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
