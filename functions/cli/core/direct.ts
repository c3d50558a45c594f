import { CliError, codeOf } from "./exits";
import { debug, debugStack } from "./log";
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
  const [
    { adcIdentity },
    { composeServices },
    { ALL_OPERATIONS: OPERATIONS },
    { parseRequest },
    { priorAnswer },
    { approvalGate },
  ] = await Promise.all([
    import("./identity.js"),
    import("../../app/compose.js"),
    import("../../edge/registry.js"),
    import("../../edge/schemas.js"),
    import("../../edge/requests.js"),
    import("../../edge/approvals.js"),
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
      operation: string;
      mutating: boolean;
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
        const input = parseRequest(op.schema, data) as Record<string, unknown>;
        // As the callable pipeline does: a request_id's first answer is the answer to every retry of it,
        // and a first call commits its answer with its change, so a retry after deadline-exceeded is safe.
        const ctx: CallContext = { ...context };
        if (op.mutating) {
          const prior = await priorAnswer(services, context.actor.uid, op.operation, input);
          if (prior.answer) return { ...prior.answer, correlation_id: correlationId };
          if (prior.request) ctx.request = prior.request;
        }
        // Dual control binds break-glass too: a guarded operation is recorded for a second admin.
        const held = await approvalGate(services, op.operation, ctx, input);
        if (held) return { ...held, correlation_id: correlationId };
        const out = await op.run(services, ctx, input).finally(() => services.events.flush());
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
    debugStack(e);
    throw new CliError("internal", "Internal error (run with --verbose for the cause)");
  }
}
