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

/**
 * The deployed callables, called as the Firebase client SDK calls them: POST
 * `{data}` with the operator's ID token; `{result}` or `{error}` back.
 */
export function callableTransport(target: CallableTarget): Transport {
  return {
    mode: "callable",
    async call(name, data): Promise<Answer> {
      const url = functionUrl(target, name);
      const res = await http(url, {
        headers: {
          authorization: `Bearer ${await idToken(target.project)}`,
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
