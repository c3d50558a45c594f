import { format } from "node:util";

/**
 * Diagnostics go to stderr, and only with --verbose: stdout carries the answer
 * alone. The service's logger (firebase-functions/logger) writes through the
 * console methods it captures when first loaded, so routing the console here
 * before any service module loads routes its JSON lines too.
 */
let verbose = false;

// Credentials that must never reach a log: Google OAuth access tokens (ya29.…) and refresh tokens (1//…),
// JWTs (Firebase ID tokens, signed or not), Firebase refresh tokens (AMf-…), and any URL parameter or
// JSON/form field named like a token, key or secret.
const SECRETS: [RegExp, string][] = [
  [/\bya29\.[\w.-]+/g, "ya29.…"],
  [/\b1\/\/[\w.-]{20,}/g, "1//…"],
  [/\beyJ[\w-]*\.[\w-]*\.[\w-]*/g, "eyJ…"],
  [/\bAMf-[\w-]{20,}/g, "AMf-…"],
  [/([?&](?:key|[\w-]*token|[\w-]*secret|code|password)=)[^&\s"']+/gi, "$1…"],
  [/("(?:[\w-]*token|[\w-]*secret|password|private_key|authorization)"\s*:\s*")[^"]*/gi, "$1…"],
  [/(\bbearer\s+)[\w.~+/-]+=*/gi, "$1…"],
];

/** Text with every credential it could carry replaced by a marker. */
export function redactSecrets(text: string): string {
  return SECRETS.reduce((t, [pattern, marker]) => t.replace(pattern, marker), text);
}

const emit = (text: string): void => {
  process.stderr.write(`${redactSecrets(text)}\n`);
};

export function routeDiagnostics(enabled: boolean): void {
  verbose = enabled;
  const sink = (...args: unknown[]): void => {
    if (verbose) emit(format(...args));
  };
  console.log = sink;
  console.info = sink;
  console.debug = sink;
  console.warn = sink;
  console.error = sink;
  // Node's own warnings (deprecations from dependencies) are diagnostics too.
  if (!enabled) process.removeAllListeners("warning");
}

export function debug(message: string, ...args: unknown[]): void {
  if (verbose) emit(`[salts] ${format(message, ...args)}`);
}

/** An error's stack for --verbose, through the same redaction as every other diagnostic. */
export function debugStack(e: unknown): void {
  if (verbose) emit((e as Error)?.stack ?? String(e));
}

export const isVerbose = (): boolean => verbose;
