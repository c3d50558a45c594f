import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { CliError, usage } from "./exits";
import { http } from "./http";
import { emulators } from "./project";

/**
 * Operator sign-in: email and password against Identity Toolkit (or the Auth
 * emulator), a refresh token kept 0600 under $XDG_CONFIG_HOME/salts/, and ID
 * tokens refreshed through securetoken as the Firebase client SDK does.
 */
export interface StoredLogin {
  email: string;
  uid: string;
  api_key: string;
  refresh_token: string;
  id_token: string;
  /** Epoch milliseconds after which the ID token is not used. */
  expires_at: number;
}

type Store = Record<string, StoredLogin>;

const TIMEOUT_MS = 15_000;
const EMULATOR_API_KEY = "emulator-api-key";

export const configDir = (): string =>
  path.join(process.env.XDG_CONFIG_HOME || path.join(homedir(), ".config"), "salts");
export const credentialsFile = (): string => path.join(configDir(), "credentials.json");

/** Logins are per project, and emulator logins never mix with real ones. */
const keyOf = (project: string): string => `${emulators.auth() ? "emulator" : "google"}/${project}`;

function readStore(): Store {
  try {
    return JSON.parse(readFileSync(credentialsFile(), "utf8")) as Store;
  } catch {
    return {};
  }
}

function writeStore(store: Store): void {
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  const tmp = `${credentialsFile()}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, credentialsFile());
}

function endpoint(api: "identitytoolkit" | "securetoken", pathAndQuery: string): string {
  const host = emulators.auth();
  const base = host ? `http://${host}/${api}.googleapis.com` : `https://${api}.googleapis.com`;
  return `${base}/v1/${pathAndQuery}`;
}

function apiKeyFor(flag: string | undefined): string {
  const key = flag || process.env.SALTS_API_KEY;
  if (key) return key;
  if (emulators.auth()) return EMULATOR_API_KEY;
  throw usage(
    "signing in needs the project's Web API key",
    "pass --api-key or set SALTS_API_KEY (Firebase console > Project settings > General)",
  );
}

const authProblem = (body: Record<string, unknown> | null): string => {
  const error = body?.error as { message?: unknown } | undefined;
  return typeof error?.message === "string" ? error.message : "unknown";
};

export async function signIn(
  project: string,
  email: string,
  password: string,
  apiKeyFlag?: string,
): Promise<StoredLogin> {
  const apiKey = apiKeyFor(apiKeyFlag);
  const res = await http(endpoint("identitytoolkit", `accounts:signInWithPassword?key=${apiKey}`), {
    json: { email, password, returnSecureToken: true },
    timeoutMs: TIMEOUT_MS,
  });
  const b = res.body ?? {};
  if (res.status !== 200 || typeof b.idToken !== "string" || typeof b.refreshToken !== "string") {
    const problem = authProblem(res.body);
    if (/PASSWORD|EMAIL|CREDENTIALS|USER_DISABLED/.test(problem)) {
      throw new CliError("unauthenticated", `Sign-in refused (${problem})`);
    }
    throw new CliError("unavailable", `Sign-in failed: HTTP ${res.status} (${problem})`);
  }
  const login: StoredLogin = {
    email,
    uid: String(b.localId ?? ""),
    api_key: apiKey,
    refresh_token: b.refreshToken,
    id_token: b.idToken,
    expires_at: Date.now() + Number(b.expiresIn ?? 3600) * 1000,
  };
  const store = readStore();
  store[keyOf(project)] = login;
  writeStore(store);
  return login;
}

export function signOut(project: string): StoredLogin | null {
  const store = readStore();
  const login = store[keyOf(project)] ?? null;
  if (login) {
    delete store[keyOf(project)];
    writeStore(store);
  }
  return login;
}

export const storedLogin = (project: string): StoredLogin | null => readStore()[keyOf(project)] ?? null;

async function refresh(project: string, login: StoredLogin): Promise<StoredLogin> {
  const res = await http(endpoint("securetoken", `token?key=${login.api_key}`), {
    form: { grant_type: "refresh_token", refresh_token: login.refresh_token },
    timeoutMs: TIMEOUT_MS,
  });
  const b = res.body ?? {};
  if (res.status !== 200 || typeof b.id_token !== "string") {
    if (res.status >= 400 && res.status < 500) {
      throw new CliError(
        "unauthenticated",
        `Your session for ${project} has ended (${authProblem(res.body)})`,
        {},
        `sign in again: salts login --project ${project}`,
      );
    }
    throw new CliError("unavailable", `Refreshing the session failed: HTTP ${res.status}`);
  }
  const next: StoredLogin = {
    ...login,
    id_token: b.id_token,
    refresh_token: typeof b.refresh_token === "string" ? b.refresh_token : login.refresh_token,
    expires_at: Date.now() + Number(b.expires_in ?? 3600) * 1000,
  };
  const store = readStore();
  store[keyOf(project)] = next;
  writeStore(store);
  return next;
}

/** The ID token to present: SALTS_ID_TOKEN (pipelines), else the stored login, refreshed when near expiry. */
export async function idToken(project: string): Promise<string> {
  if (process.env.SALTS_ID_TOKEN) return process.env.SALTS_ID_TOKEN;
  const login = storedLogin(project);
  if (!login) {
    throw new CliError(
      "unauthenticated",
      `Not signed in to ${project}${emulators.auth() ? " (Auth emulator)" : ""}`,
      {},
      `run: salts login --project ${project}   (or set SALTS_ID_TOKEN, or use --direct)`,
    );
  }
  const fresh = login.expires_at - 60_000 > Date.now() ? login : await refresh(project, login);
  return fresh.id_token;
}

/** The claims of an ID token (not verified: for display only; the service verifies). */
export function claimsOf(token: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
  } catch {
    return {};
  }
}
