import type { SaltCipher } from "../domain/encryption";
import { invalidArgument } from "../domain/errors";
import type { RotationPolicy } from "../domain/policy";

/** What every backend adapter needs from the outside, injected so tests control it. */
export interface BackendDeps {
  clock: () => Date;
  policy: () => RotationPolicy;
  retentionDays: () => number;
  /** Throws failed-precondition when the encryption key is missing: fail closed. */
  cipher: () => SaltCipher;
}

/** A page position: sort key in milliseconds, document id as tie-breaker. */
export interface Cursor {
  t: number;
  d: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.t, c.d]), "utf8").toString("base64url");
}

export function decodeCursor(raw: string, field = "cursor"): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && typeof parsed[0] === "number" && typeof parsed[1] === "string") {
      return { t: parsed[0], d: parsed[1] };
    }
  } catch {
    // fall through to the uniform error below
  }
  throw invalidArgument([{ path: field, message: "is not a cursor this service issued" }]);
}
