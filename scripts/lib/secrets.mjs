// The emulator's secrets (`.secret.local`): generated once, read by the local stack and the tests.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { log, ROOT } from "./processes.mjs";

export const SECRETS_FILE = path.join(ROOT, ".secret.local");

/** Every secret the functions use, and how a fresh demo value is made. */
const FRESH = {
  PSEUDONYM_PEPPER: () => randomBytes(48).toString("base64url"),
  SALT_ENCRYPTION_KEY: () => randomBytes(32).toString("base64"),
  AUDIT_KEY: () => randomBytes(48).toString("base64url"),
  METRICS_TOKEN: () => randomBytes(24).toString("base64url"),
};

/** Writes fresh random values for whatever is missing (all of them on first start); returns the secrets. */
export function ensureLocalSecrets() {
  const current = existsSync(SECRETS_FILE) ? readSecrets() : {};
  const missing = Object.keys(FRESH).filter((name) => !current[name]);
  if (missing.length > 0) {
    const all = { ...current, ...Object.fromEntries(missing.map((name) => [name, FRESH[name]()])) };
    const lines = Object.entries(all).map(([k, v]) => `${k}=${v}`);
    writeFileSync(SECRETS_FILE, `${lines.join("\n")}\n`, { mode: 0o600 });
    log(`wrote fresh demo secrets to .secret.local (${missing.join(", ")})`);
  }
  return readSecrets();
}

/** @returns {Record<string, string>} */
export function readSecrets(file = SECRETS_FILE) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}
