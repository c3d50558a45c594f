import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { getApps, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { logFile } from "../../scripts/lib/processes.mjs";
import { readSecrets } from "../../scripts/lib/secrets.mjs";
import { signIn as signInWithPassword } from "../../scripts/stack-client.mjs";
import { PROJECT_ID } from "./firestore";

const need = (name: string): string => {
  const v = process.env[name];
  if (!v)
    throw new Error(`${name} is not set: run these tests through \`npm test\` (scripts/with-emulators.mjs)`);
  return v;
};

export const functionsHost = (): string => need("FUNCTIONS_EMULATOR_HOST");
export const authHost = (): string => need("FIREBASE_AUTH_EMULATOR_HOST");
export const tasksHost = (): string => need("CLOUD_TASKS_EMULATOR_HOST");

export function adminAuth() {
  need("FIREBASE_AUTH_EMULATOR_HOST");
  const app = getApps()[0] ?? initializeApp({ projectId: PROJECT_ID });
  return getAuth(app);
}

export interface TestUser {
  uid: string;
  email: string;
  password: string;
  token: string;
}

/** A real Auth emulator user with real custom claims, signed in for a real ID token. */
export async function createUser(claims: Record<string, unknown> = {}, label = "user"): Promise<TestUser> {
  const uid = `${label}-${randomBytes(6).toString("hex")}`;
  const email = `${uid}@example.test`;
  const password = randomBytes(12).toString("hex");
  const auth = adminAuth();
  await auth.createUser({ uid, email, password });
  if (Object.keys(claims).length > 0) await auth.setCustomUserClaims(uid, claims);
  return { uid, email, password, token: await signIn(email, password) };
}

/** A fresh ID token for an Auth emulator user (the same client the local stack uses). */
export function signIn(email: string, password: string): Promise<string> {
  return signInWithPassword({ auth: authHost() }, { email, password });
}

export interface CallResult<T = Record<string, unknown>> {
  status: number;
  raw: string;
  result?: T & { correlation_id: string };
  error?: {
    status: string;
    message: string;
    details?: Record<string, unknown> & { correlation_id?: string };
  };
}

/** Calls `salts-<name>` over HTTP exactly as a client SDK would. */
export async function call<T = Record<string, unknown>>(
  name: string,
  data: unknown,
  opts: { token?: string; headers?: Record<string, string>; host?: string } = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = { "content-type": "application/json", ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`http://${opts.host ?? functionsHost()}/${PROJECT_ID}/us-central1/salts-${name}`, {
    method: "POST",
    headers,
    body: JSON.stringify({ data }),
  });
  const raw = await res.text();
  const body = JSON.parse(raw) as { result?: T & { correlation_id: string }; error?: CallResult["error"] };
  return { status: res.status, raw, ...body };
}

/** The secrets the emulator runs with (written by scripts/lib/secrets.mjs). */
export const localSecrets = (): Record<string, string> => readSecrets();

/** The functions emulator's own output, where the functions' log lines land. */
export function emulatorLog(): string {
  return readFileSync(logFile("firebase"), "utf8");
}

/** Every encoding a secret could leak in. */
export function secretForms(value: string): string[] {
  const raw = Buffer.from(value, "utf8");
  const decoded = /^[A-Za-z0-9+/=_-]+$/.test(value) ? [Buffer.from(value, "base64")] : [];
  const forms = new Set<string>([value]);
  for (const b of [raw, ...decoded]) {
    if (b.length < 16) continue;
    forms.add(b.toString("hex"));
    forms.add(b.toString("hex").toUpperCase());
    forms.add(b.toString("base64"));
    forms.add(b.toString("base64url"));
    forms.add(b.toString("latin1"));
  }
  return [...forms].filter((f) => f.length >= 16);
}

/**
 * Moves the functions' clock `offsetMs` ahead of real time (0: back to real time). The emulator's
 * test hooks (test/support/emulatorHooks.cjs) read it at the start of every call.
 */
export async function setTestClock(offsetMs: number): Promise<void> {
  const { adminFirestore } = await import("./firestore");
  await adminFirestore().collection("salts_meta").doc("test_clock").set({ offset_ms: offsetMs });
}
