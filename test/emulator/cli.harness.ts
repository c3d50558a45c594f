import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { clearFirestore } from "../support/firestore";
import { createUser, type TestUser } from "../support/stack";

/**
 * Runs the built CLI (lib/cli/main.js) as a child process, as an operator
 * would, against the emulators the test command started. No TTY: stdin is a
 * pipe (closed, or fed `input`), stdout and stderr are captured.
 */
export const CLI = path.resolve(__dirname, "../../lib/cli/main.js");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the text when it is not). */
  json: () => any;
}

export type Env = Record<string, string | undefined>;

/** Runs `salts <args>`; with `interruptWhen`, sends it Ctrl-C (SIGINT) once its stderr so far satisfies it. */
export function salts(
  args: string[],
  env: Env = {},
  input?: string,
  timeoutMs = 120_000,
  interruptWhen?: (stderr: string) => boolean,
): Promise<Run> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  // The child's colours must be decided by the CLI alone (no TTY here), not by the test runner's.
  const base: Env = { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined };
  const merged = Object.fromEntries(
    Object.entries({ ...base, ...env }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: merged, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    let interrupted = false;
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
      if (!interrupted && interruptWhen?.(stderr)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        json: () => {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`stdout is not JSON:\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      });
    });
    child.stdin.end(input ?? "");
  });
}

export const tempDir = (label: string): string => mkdtempSync(path.join(tmpdir(), `salts-cli-${label}-`));

export interface Operator extends TestUser {
  /** The environment in which this operator is signed in (its own config directory). */
  env: Env;
}

/** A real Auth emulator user with the given claims, signed in through `salts login`. */
export async function operator(claims: Record<string, unknown>, label: string): Promise<Operator> {
  const user = await createUser(claims, label);
  const env: Env = { XDG_CONFIG_HOME: tempDir(label) };
  const login = await salts(["login", "--email", user.email, "--password-stdin"], env, user.password);
  if (login.code !== 0) throw new Error(`salts login failed: ${login.stderr}`);
  return { ...user, env };
}

/** An empty database and a signed-in admin and auditor: where most CLI test files start. */
export async function freshStart(): Promise<{ admin: Operator; auditor: Operator }> {
  await clearFirestore();
  const [admin, auditor] = await Promise.all([
    operator({ admin: true }, "admin"),
    operator({ auditor: true }, "auditor"),
  ]);
  return { admin, auditor };
}

export const SERVICE_ACCOUNT = "breakglass-ops@demo-salts.iam.gserviceaccount.com";

/** A service-account credentials file as gcloud or the console would give one (a real key, never used). */
export function fakeServiceAccountFile(email = SERVICE_ACCOUNT): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const file = path.join(tempDir("adc"), "service-account.json");
  writeFileSync(
    file,
    JSON.stringify({
      type: "service_account",
      project_id: "demo-salts",
      private_key_id: "0000",
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      client_email: email,
      client_id: "1",
      token_uri: "https://oauth2.googleapis.com/token",
    }),
  );
  return file;
}

/**
 * Direct (break-glass) mode as an operator runs it: secrets from Secret Manager (the test command's
 * local server, SECRET_MANAGER_EMULATOR_HOST), storage from FIRESTORE_EMULATOR_HOST, and only the
 * Google credentials chosen here.
 */
export function directEnv(extra: Env = {}): Env {
  return {
    SALT_BACKEND: "firestore",
    XDG_CONFIG_HOME: tempDir("direct"),
    GOOGLE_APPLICATION_CREDENTIALS: undefined,
    CLOUDSDK_CONFIG: tempDir("gcloud"),
    ...extra,
  };
}

/** ANSI escape sequences (colours, cursor movement). */
// eslint-disable-next-line no-control-regex -- the escape character is what is looked for
export const ANSI = /\u001b\[/;
