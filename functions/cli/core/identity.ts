import { existsSync, readFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import path from "node:path";
import { CliError } from "./exits";
import { http } from "./http";
import { emulators } from "./project";

/**
 * Who the Google credentials in use (Application Default Credentials) belong
 * to: the actor recorded in the audit in direct mode. Never a name the operator
 * types: a service account's client_email, the account behind user credentials
 * (asked of Google's tokeninfo), or, against the emulators with no credentials
 * at all, a clearly marked local identity.
 */
export interface Identity {
  uid: string;
  source: string;
}

const TIMEOUT_MS = 10_000;

function adcFile(): string | null {
  const explicit = process.env.GOOGLE_APPLICATION_CREDENTIALS;
  if (explicit) return explicit;
  const gcloudDir = process.env.CLOUDSDK_CONFIG || path.join(homedir(), ".config", "gcloud");
  const file = path.join(gcloudDir, "application_default_credentials.json");
  return existsSync(file) ? file : null;
}

type Credentials = Record<string, unknown> & { type?: string };

const fail = (message: string, hint?: string) => new CliError("failed-precondition", message, {}, hint);

export async function adcIdentity(): Promise<Identity> {
  const file = adcFile();
  if (!file) {
    if (emulators.firestore())
      return { uid: `emulator:${userInfo().username}`, source: "no credentials (emulator)" };
    return metadataIdentity();
  }
  let creds: Credentials;
  try {
    creds = JSON.parse(readFileSync(file, "utf8")) as Credentials;
  } catch (e) {
    throw fail(`Cannot read the Google credentials file ${file}: ${(e as Error).message}`);
  }
  const impersonated = /serviceAccounts\/([^:/]+):generateAccessToken/.exec(
    String(creds.service_account_impersonation_url ?? ""),
  );
  if (creds.type === "service_account" && typeof creds.client_email === "string") {
    return { uid: creds.client_email, source: file };
  }
  if (impersonated?.[1]) return { uid: decodeURIComponent(impersonated[1]), source: file };
  if (creds.type === "authorized_user") return { uid: await userEmail(creds), source: file };
  throw fail(`Cannot tell whose credentials ${file} holds (type ${creds.type ?? "unknown"})`);
}

/** The account behind `gcloud auth application-default login` credentials. */
async function userEmail(creds: Credentials): Promise<string> {
  const token = await http("https://oauth2.googleapis.com/token", {
    form: {
      grant_type: "refresh_token",
      client_id: String(creds.client_id ?? ""),
      client_secret: String(creds.client_secret ?? ""),
      refresh_token: String(creds.refresh_token ?? ""),
    },
    timeoutMs: TIMEOUT_MS,
  });
  const accessToken = token.body?.access_token;
  if (typeof accessToken !== "string") {
    throw fail("Your Google credentials were refused", "run: gcloud auth application-default login");
  }
  // The token goes in a header, never in a URL (URLs are logged with --verbose), as google-auth-library sends it.
  const info = await http("https://oauth2.googleapis.com/tokeninfo", {
    method: "POST",
    headers: { authorization: `Bearer ${accessToken}` },
    form: {},
    timeoutMs: TIMEOUT_MS,
  });
  if (typeof info.body?.email !== "string") {
    throw fail(
      "Your Google credentials do not say which account they belong to (no email scope)",
      "run: gcloud auth application-default login",
    );
  }
  return info.body.email;
}

/** On Google Cloud (Cloud Shell, a VM) the credentials come from the metadata server. */
async function metadataIdentity(): Promise<Identity> {
  const hint = "run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS";
  if (process.env.METADATA_SERVER_DETECTION === "none") throw fail("No Google credentials found", hint);
  const res = await http(
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/email",
    { method: "GET", headers: { "metadata-flavor": "Google" }, timeoutMs: 1500 },
  ).catch(() => null);
  if (res?.status === 200 && res.text.includes("@"))
    return { uid: res.text.trim(), source: "metadata server" };
  throw fail("No Google credentials found", hint);
}
