import { CliError, codeOf } from "./exits";
import { debug, isVerbose } from "./log";
import type { Identity } from "./identity";
import type { Answer, Transport } from "./transport";
import type { CallContext, Services } from "../../usecases/deps";

/**
 * Break-glass mode: the operations of edge/operations.ts run in this process
 * through the composition root, against the storage the environment names,
 * with the operator's Google identity as the audited actor (via "cli").
 */
export interface DirectTransport extends Transport {
  readonly services: Services;
  readonly context: CallContext;
}

export async function directTransport(
  project: string | null,
  correlationId: string,
): Promise<DirectTransport> {
  if (project) {
    process.env.GOOGLE_CLOUD_PROJECT ??= project;
    process.env.GCLOUD_PROJECT ??= project;
  }
  const [{ adcIdentity }, { composeServices }, { OPERATIONS }, { parseRequest }] = await Promise.all([
    import("./identity.js"),
    import("../../app/compose.js"),
    import("../../edge/operations.js"),
    import("../../edge/schemas.js"),
  ]);
  const identity: Identity = await adcIdentity();
  debug("direct mode as %s (from %s)", identity.uid, identity.source);
  const services = await guard(async () => {
    const s = composeServices();
    await s.policy.refresh(true);
    return s;
  });
  const context: CallContext = { correlationId, actor: { uid: identity.uid, via: "cli" } };
  const operations = OPERATIONS as unknown as Record<
    string,
    {
      schema: Parameters<typeof parseRequest>[0];
      run: (s: Services, c: CallContext, i: unknown) => Promise<object>;
    }
  >;
  return {
    mode: "direct",
    services,
    context,
    async call(name, data): Promise<Answer> {
      const op = Object.hasOwn(operations, name) ? operations[name] : undefined;
      if (!op) {
        throw new CliError("failed-precondition", `This version of the service has no ${name} operation`);
      }
      return guard(async () => {
        const out = await op
          .run(services, context, parseRequest(op.schema, data))
          .finally(() => services.events.flush());
        return { ...out, correlation_id: correlationId };
      });
    },
    close: async () => {
      await import("firebase-admin/app")
        .then(({ getApps, deleteApp }) => Promise.all(getApps().map((a) => deleteApp(a))))
        .catch(() => undefined);
    },
  };
}

/** Runs service code; its errors become CliErrors (unexpected ones say nothing but "internal"). */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CliError) throw e;
    const err = e as { name?: string; code?: unknown; message?: unknown; details?: unknown };
    if (err?.name === "SaltServiceError") {
      const code = codeOf(err.code);
      return Promise.reject(
        new CliError(code, String(err.message), (err.details ?? {}) as Record<string, unknown>),
      );
    }
    if (isVerbose()) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    throw new CliError("internal", "Internal error (run with --verbose for the cause)");
  }
}
