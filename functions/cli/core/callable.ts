import { randomUUID } from "node:crypto";
import { idToken } from "./credentials";
import { CliError, codeOf } from "./exits";
import { http } from "./http";
import { emulators } from "./project";
import type { Answer, Transport } from "./transport";

export interface CallableTarget {
  project: string;
  region: string;
  timeoutMs: number;
  correlationId: string;
}

/** Where `salts-<name>` answers: the functions emulator when FUNCTIONS_EMULATOR_HOST is set. */
export function functionUrl(t: Pick<CallableTarget, "project" | "region">, name: string): string {
  const host = emulators.functions();
  return host
    ? `http://${host}/${t.project}/${t.region}/salts-${name}`
    : `https://${t.region}-${t.project}.cloudfunctions.net/salts-${name}`;
}

/** An ID token the Auth emulator issued: unsigned (`alg: none`), worthless to anything but an emulator. */
export function isEmulatorToken(token: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8")) as {
      alg?: unknown;
    };
    return header.alg === "none";
  } catch {
    return false;
  }
}

/**
 * Plain HTTP (a functions emulator host) carries only emulator tokens. A token Google signed is a
 * bearer credential for the real project: it is never sent where anyone on the path can read it, to
 * whatever host FUNCTIONS_EMULATOR_HOST names, loopback included.
 */
export function assertTokenMayTravel(url: string, token: string): void {
  const target = new URL(url);
  if (target.protocol === "https:" || isEmulatorToken(token)) return;
  throw new CliError(
    "failed-precondition",
    `Refusing to send a real Firebase ID token over plain HTTP to ${target.host}`,
    {},
    "FUNCTIONS_EMULATOR_HOST is set but the session is not an emulator one: set FIREBASE_AUTH_EMULATOR_HOST " +
      "too and sign in to the Auth emulator (salts login), or unset FUNCTIONS_EMULATOR_HOST",
  );
}

/**
 * The deployed callables, called as the Firebase client SDK calls them: POST
 * `{data}` with the operator's ID token; `{result}` or `{error}` back.
 */
export function callableTransport(target: CallableTarget): Transport {
  return {
    mode: "callable",
    async call(name, data): Promise<Answer> {
      const url = functionUrl(target, name);
      const token = await idToken(target.project);
      assertTokenMayTravel(url, token);
      const res = await http(url, {
        headers: {
          authorization: `Bearer ${token}`,
          "x-correlation-id": target.correlationId || randomUUID(),
        },
        json: { data },
        timeoutMs: target.timeoutMs,
      });
      const result = res.body?.result;
      if (res.status === 200 && result !== null && typeof result === "object") return result as Answer;
      const error = res.body?.error as { status?: unknown; message?: unknown; details?: unknown } | undefined;
      if (!error) {
        if (res.status === 404) {
          throw new CliError(
            "failed-precondition",
            `salts-${name} is not deployed in ${target.project} (${target.region})`,
            {},
            "update the service, or check --project and --region",
          );
        }
        throw new CliError("internal", `Unexpected answer from salts-${name}: HTTP ${res.status}`);
      }
      const details = (error.details ?? {}) as Record<string, unknown>;
      throw new CliError(codeOf(error.status), String(error.message ?? "no message"), details);
    },
    close: async () => undefined,
  };
}
