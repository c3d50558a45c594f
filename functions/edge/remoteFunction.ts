import type { Request } from "firebase-functions/https";
import { batchEndpointUrl, invokerList } from "../domain/bigquery";
import { invalidArgument, SaltServiceError } from "../domain/errors";
import { idHash } from "../domain/crypto";
import { logs } from "../observability/logs";
import { storageCalls, type StorageCalls } from "../observability/storageCalls";
import { BATCH_OPERATION, pseudonymizeBatch, type BatchOutcome } from "../usecases/pseudonymizeBatch";
import type { Services } from "../usecases/deps";
import { correlationIdFrom } from "./correlation";
import { auditDenied } from "./denied";
import { asServiceError } from "./errors";
import { errorAnswer, parseBatchRequest, type HttpAnswer } from "./remoteProtocol";
import { warmSecrets } from "./warm";

interface Res {
  status(code: number): Res;
  set(field: string, value: string): Res;
  end(text: string): unknown;
}

/**
 * salts-pseudonymizeBatch: BigQuery's remote-function protocol over HTTPS. The caller's identity
 * first (401 / 403), then the body (400), then the batch (usecases/pseudonymizeBatch); every outcome
 * is one JSON answer (`{replies}` or `{errorMessage}`), one log line and one metric.
 */
export async function serveBatch(rt: Services, req: Request, res: Res): Promise<void> {
  const started = process.hrtime.bigint();
  const correlationId = correlationIdFrom(req.get("x-correlation-id"));
  const seen: { invoker?: string; outcome?: BatchOutcome; calls?: StorageCalls; rows?: number } = {};
  let failure: SaltServiceError | undefined;
  let answer: HttpAnswer;
  let request: ReturnType<typeof parseBatchRequest> | undefined;
  try {
    if (req.method !== "POST") {
      reply(res.status(405).set("Allow", "POST"), {
        errorMessage: "salts-pseudonymizeBatch answers POST only",
      });
      return;
    }
    seen.invoker = await invokerOf(rt, req, correlationId);
    warmSecrets(rt, ["pepper", "key"]);
    request = parseBatchRequest(bodyOf(req));
    seen.rows = request.calls.length;
    await rt.policy.refresh();
    const ctx = {
      correlationId,
      actor: { uid: request.sessionUser ?? seen.invoker, via: "bigquery" as const },
      invoker: seen.invoker,
    };
    const batch = request;
    const counted = await storageCalls.count(() => pseudonymizeBatch(rt, ctx, batch));
    seen.outcome = counted.value;
    seen.calls = counted.calls;
    answer = {
      status: 200,
      headers: { "X-Correlation-Id": correlationId },
      body: { replies: counted.value.replies },
    };
  } catch (e) {
    const { error, unexpected } = asServiceError(e);
    failure = error;
    if (unexpected) logs.unexpectedError(BATCH_OPERATION, correlationId, e);
    answer = errorAnswer(error, correlationId);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  logs.bigqueryBatch({
    status: answer.status,
    code: failure?.code,
    correlation_id: correlationId,
    request_id: request?.requestId,
    caller: request?.caller ?? null,
    session_user_hash: request?.sessionUser ? idHash(request.sessionUser) : null,
    invoker: seen.invoker ?? null,
    mode: request?.mode,
    rows: seen.rows ?? null,
    salts: seen.outcome?.salts ?? null,
    replayed: seen.outcome?.replayed ?? null,
    // The query's pin the replies are made as of (null: kept per batch instead, or no answer).
    as_of: seen.outcome?.asOf?.toISOString() ?? null,
    storage_reads: seen.calls?.reads ?? null,
    storage_commits: seen.calls?.commits ?? null,
    latency_ms: Math.round(seconds * 1000),
  });
  const result = !failure ? "success" : answer.status === 403 || answer.status === 429 ? "denied" : "error";
  rt.metrics.record(BATCH_OPERATION, result, seconds);
  // At BigQuery's request rate, one metrics write per instance per METRICS_FLUSH_MS, not one per batch.
  await rt.metrics.settle();
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) res.set(name, value);
  reply(res, answer.body);
}

/**
 * Sends `body` as JSON. Not `res.json`: Express would hash every ~45 KB reply for an ETag that no caller
 * of a POST uses (0.3–0.7 ms of CPU per 1,000-row batch, server and client together, in a scratch
 * measurement). Node sets the length.
 */
function reply(res: Res, body: unknown): void {
  res.set("content-type", "application/json; charset=utf-8").end(JSON.stringify(body));
}

/** The body as JSON: what the framework parsed, or the raw bytes when it did not (another content type). */
function bodyOf(req: Request): unknown {
  const parsed: unknown = req.body;
  if (parsed !== null && typeof parsed === "object" && !Buffer.isBuffer(parsed)) return parsed;
  try {
    return JSON.parse((req.rawBody ?? Buffer.alloc(0)).toString("utf8")) as unknown;
  } catch {
    throw invalidArgument([{ path: "", message: "the body is not JSON" }]);
  }
}

/**
 * The caller: the email of its Google-signed OIDC ID token (the function's URL as audience), which
 * must be among BIGQUERY_INVOKERS (deployed as the function's invokers too). Refusing a verified
 * identity is audited (as refused callables are, at most DENIED_AUDIT_PER_MINUTE per caller).
 */
async function invokerOf(rt: Services, req: Request, correlationId: string): Promise<string> {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(req.get("authorization") ?? "")?.[1];
  if (!token) {
    throw new SaltServiceError(
      "unauthenticated",
      "An OIDC ID token is required (Authorization: Bearer ...): BigQuery sends its connection's",
    );
  }
  const audience = batchEndpointUrl({
    projectId: rt.config.projectId ?? "",
    region: rt.config.region ?? "us-central1",
  });
  const email = await rt.idTokens.emailOf(token, audience);
  const invokers = invokerList(rt.config.bigqueryInvokers);
  if (invokers.includes(email)) return email;
  await auditDenied(rt, {
    uid: email,
    operation: BATCH_OPERATION,
    target: { kind: "system", id: "bigquery" },
    code: "permission-denied",
    correlationId,
    via: "bigquery",
  });
  throw new SaltServiceError(
    "permission-denied",
    invokers.length === 0
      ? "BIGQUERY_INVOKERS is empty: every call is refused"
      : `${email} is not among BIGQUERY_INVOKERS`,
  );
}
