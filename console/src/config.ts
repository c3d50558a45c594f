/**
 * Where the console gets its configuration. In production: Firebase Hosting's
 * `/__/firebase/init.json` only. Locally the local stack also writes
 * `/local-emulators.json` into the served folder (never deployed); it is honoured only on a
 * loopback host for a `demo-*` project, so a stray copy can never point production at emulators.
 */
export interface FirebaseWebConfig {
  apiKey: string;
  projectId: string;
  authDomain?: string;
  appId?: string;
  [key: string]: unknown;
}

export interface EmulatorHosts {
  /** e.g. "http://127.0.0.1:9099" */
  auth: string;
  functions: { host: string; port: number };
}

export interface ConsoleConfig {
  firebase: FirebaseWebConfig;
  emulators: EmulatorHosts | null;
  region: string;
  googleSignIn: boolean;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { cache: "no-store", credentials: "same-origin" });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return res.json();
}

async function optionalJson(url: string): Promise<Record<string, unknown> | null> {
  try {
    const value = await getJson(url);
    return value && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function isEmulatorHosts(v: unknown): v is EmulatorHosts {
  const e = v as EmulatorHosts | null;
  return (
    !!e &&
    typeof e.auth === "string" &&
    /^http:\/\/[^/]+$/.test(e.auth) &&
    typeof e.functions?.host === "string" &&
    Number.isInteger(e.functions?.port)
  );
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const firebase = (await getJson("/__/firebase/init.json")) as FirebaseWebConfig;
  if (!firebase || typeof firebase.apiKey !== "string" || typeof firebase.projectId !== "string") {
    throw new Error("/__/firebase/init.json did not hold a Firebase web configuration");
  }
  const site = await optionalJson("/console.json");
  let emulators: EmulatorHosts | null = null;
  let googleSignIn = (site?.signIn as { google?: unknown } | undefined)?.google === true;
  if (LOOPBACK.has(location.hostname) && firebase.projectId.startsWith("demo-")) {
    const local = await optionalJson("/local-emulators.json");
    if (local && isEmulatorHosts(local)) {
      emulators = local;
      if ((local as { googleSignIn?: unknown }).googleSignIn === true) googleSignIn = true;
    }
  }
  const region = typeof site?.region === "string" ? site.region : "us-central1";
  return { firebase, emulators, region, googleSignIn };
}
