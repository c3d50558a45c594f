import { execFile } from "node:child_process";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "../..");
const PROBE = path.join(ROOT, "test/support/functionProbe.cjs");

/** What a fresh instance reported (test/support/functionProbe.cjs). */
export interface ProbeReport {
  /** The `require` of the entry: wall time, and CPU time. */
  require_ms: number;
  require_cpu_ms: number;
  /** From the process's start until the entry had loaded. */
  loaded_ms: number;
  /** From the process's start until the first answer (null without a call). */
  answered_ms: number | null;
  /** CPU time of the process from its start until the first answer. */
  answered_cpu_ms: number | null;
  max_rss_mb: number;
  answer: unknown;
  error: { code: string | null; message: string } | null;
  /** Repository files by path without extension (`functions/edge/operations`), packages by name. */
  modules: string[];
}

export type ProbeCall =
  | { kind: "callable"; uid?: string; data?: Record<string, unknown> }
  | { kind: "request"; method?: string; headers?: Record<string, string> };

/**
 * The environment the functions emulator gives a function's worker (firebase-tools'
 * `getSystemEnvs` and `getEmulatorEnvs`): its target, its project, the emulators' hosts.
 * Nothing in firebase-functions reads FUNCTION_TARGET or K_SERVICE: the runtime (functions
 * framework, or the emulator) uses them to find the export after loading the whole entry.
 */
export function functionEnv(target: string, extra: Record<string, string | undefined> = {}) {
  const project = process.env.GCLOUD_PROJECT ?? "demo-salts";
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    TMPDIR: process.env.TMPDIR ?? "/tmp",
    GCLOUD_PROJECT: project,
    GOOGLE_CLOUD_QUOTA_PROJECT: project,
    FIREBASE_CONFIG: JSON.stringify({ projectId: project }),
    FUNCTION_TARGET: target,
    FUNCTION_SIGNATURE_TYPE: "http",
    K_SERVICE: target.replace(/\./g, "-"),
    K_REVISION: "1",
    PORT: "80",
    FUNCTIONS_EMULATOR: "true",
    TZ: "UTC",
    METADATA_SERVER_DETECTION: "none",
  };
  for (const name of ["FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"]) {
    const v = process.env[name];
    if (v) env[name] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * Starts a fresh process that loads `entry` as a function instance would, answers `call` if
 * given, and reports. `source`: load the TypeScript (through tsx) rather than the built entry.
 */
export function probeInstance(opts: {
  entry: string;
  env: Record<string, string>;
  call?: ProbeCall;
  source?: boolean;
}): Promise<ProbeReport> {
  const args = [...(opts.source ? ["--import", "tsx"] : []), PROBE, path.resolve(ROOT, opts.entry)];
  if (opts.call) args.push(JSON.stringify(opts.call));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd: ROOT, env: opts.env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`probe of ${opts.entry} failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split("\n").at(-1)!) as ProbeReport);
      },
    );
  });
}
