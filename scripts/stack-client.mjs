// Small client for the local stack: demo users in the Auth emulator and callable calls over HTTP.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./emulators.mjs";

export const DEMO_USERS = {
  admin: {
    uid: "demo-admin",
    email: "admin@demo.test",
    password: "demo-admin-password",
    claims: { admin: true },
  },
  auditor: {
    uid: "demo-auditor",
    email: "auditor@demo.test",
    password: "demo-auditor-password",
    claims: { auditor: true },
  },
};

export function stackState() {
  const file = path.join(ROOT, ".tmp/stack.json");
  if (!existsSync(file)) throw new Error("The local stack is not running: start it with `npm run local`.");
  return JSON.parse(readFileSync(file, "utf8"));
}

async function json(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`unexpected answer (HTTP ${res.status}): ${text.slice(0, 200)}`);
  }
}

/** Creates the user with its custom claims in the Auth emulator if absent (emulator admin API). */
export async function ensureDemoUser(state, user) {
  const base = `http://${state.auth}/identitytoolkit.googleapis.com/v1/projects/${state.projectId}`;
  const headers = { "content-type": "application/json", authorization: "Bearer owner" };
  const create = await fetch(`${base}/accounts`, {
    method: "POST",
    headers,
    body: JSON.stringify({ localId: user.uid, email: user.email, password: user.password }),
  });
  if (!create.ok) {
    const body = await json(create);
    if (!/DUPLICATE|EXISTS/.test(body?.error?.message ?? ""))
      throw new Error(`creating ${user.email} failed`);
  }
  const update = await fetch(`${base}/accounts:update`, {
    method: "POST",
    headers,
    body: JSON.stringify({ localId: user.uid, customAttributes: JSON.stringify(user.claims) }),
  });
  if (!update.ok) throw new Error(`setting claims of ${user.email} failed: HTTP ${update.status}`);
}

export async function signIn(state, user) {
  const res = await fetch(
    `http://${state.auth}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-key`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: user.email, password: user.password, returnSecureToken: true }),
    },
  );
  const body = await json(res);
  if (!body.idToken) throw new Error(`signing in ${user.email} failed`);
  return body.idToken;
}

export async function callFunction(state, name, data, token, headers = {}) {
  const res = await fetch(`http://${state.functions}/${state.projectId}/us-central1/salts-${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ data }),
  });
  return json(res);
}

/**
 * An unsigned OIDC ID token (`alg: none`) for `email`: what salts-pseudonymizeBatch reads for the
 * caller's email under the Functions emulator only (nothing there can mint a Google-signed one).
 * A deployed function refuses it.
 */
export function unsignedIdToken(email, audience) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const payload = {
    iss: "https://accounts.google.com",
    aud: audience,
    sub: email,
    email,
    email_verified: true,
  };
  return `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`;
}

/** The batch `npm start` prints a curl call for (docs/BIGQUERY.md shows it; a test keeps them equal). */
export const demoBatchBody = (projectId) => ({
  requestId: "demo-1",
  caller: `//bigquery.googleapis.com/projects/${projectId}/jobs/${projectId}:US.bquxjob_demo`,
  sessionUser: "analyst@demo.test",
  userDefinedContext: { mode: "user", field: "email" },
  calls: [
    ["alice", "alice@example.com"],
    ["bob", null],
  ],
});

/** salts-pseudonymizeBatch's URL in the functions emulator. */
export const batchUrl = (state) =>
  `http://${state.functions}/${state.projectId}/us-central1/salts-pseudonymizeBatch`;
