import { createHash } from "node:crypto";
import type { AuditDraft } from "../domain/audit";
import { invalidArgument, isSaltServiceError, SaltServiceError, type Issue } from "../domain/errors";
import type { SaltKind } from "../domain/ids";
import type { LoadedSalt } from "../domain/salt";
import type { Pseudonymizer } from "../engine/pseudonymizer";
import { CallRefused, modeFor, type BatchMode } from "./batchModes";
import type { CallContext, Services } from "./deps";
import { pepperAsOf, queryPin, saltsAsOf, scopeAsOf } from "./queryPin";

/** One request of BigQuery's remote-function protocol (edge/remoteFunction.ts parses it). */
export interface BatchRequest {
  requestId: string;
  caller: string | null;
  sessionUser: string | null;
  mode: string;
  field: string;
  scope: string | null;
  calls: readonly unknown[];
}

export interface BatchOutcome {
  replies: readonly (string | null)[];
  /** The replies kept by an earlier try of this request (a retry, or a duplicate that finished first). */
  replayed: boolean;
  /** Distinct salts the batch's replies are made under. */
  salts: number;
  /** The query's pin the replies are made as of (usecases/queryPin.ts); null when they were kept instead. */
  asOf: Date | null;
}

/** Refusals named in one answer; the rest are counted. */
const MAX_ISSUES = 5;

/** The operation name of the batch in audit entries, logs and metrics. */
export const BATCH_OPERATION = "pseudonymize_batch";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * salts-pseudonymizeBatch: BigQuery's (or a pipeline's) batch of calls, each answered by its mode
 * (usecases/batchModes.ts) exactly as the library answers the same input. In order:
 *   1. every call is checked: anything that can never succeed is refused, naming the call, before
 *      anything is read or written;
 *   2. the scope's grant is checked;
 *   3. the first batch of a (job, session user) is audited, once however many batches follow, while
 *      the query's pin is read (created by its first batch: usecases/queryPin.ts), then every salt the
 *      batch needs is loaded through the cache: one batched read for those not cached (or cached
 *      before the pin was made), and batched commits creating the absent ones (as the library
 *      creates a salt on first use);
 *   4. a BigQuery query's batch (a `caller`) is answered as of the pin: the salts, scope and pepper
 *      versions current at its time (PIN_SETTLE_MS before the query's first batch), so a retry, even across a rotation, computes these same
 *      replies and nothing per batch is stored. Without a caller (or in `user_previous`), the replies
 *      are kept under the request id instead (within REQUEST_TTL_MS), and a retry answers them.
 */
export async function pseudonymizeBatch(
  deps: Pick<
    Services,
    | "cache"
    | "pepper"
    | "scoped"
    | "audit"
    | "requests"
    | "salts"
    | "scopes"
    | "clock"
    | "auditKey"
    | "config"
  >,
  ctx: CallContext & { invoker: string },
  req: BatchRequest,
): Promise<BatchOutcome> {
  const mode = modeFor(req.mode, req.field);
  const rows = rowsOf(mode, req.field, req.calls);
  const current = await deps.pepper.current();
  await authorizeScope(deps, ctx.invoker, req.scope);
  // A query's batches are answered as of its pin; `user_previous` asks for what the previous version
  // gives now, and a request without a caller has no query: their replies are kept per batch instead.
  const pinning = req.caller !== null && !mode.previous;
  const [, { pin, salts }] = await Promise.all([
    auditJob(deps, ctx, req),
    (async () => {
      const pin = pinning ? await queryPin(deps, ctx.invoker, req.caller!, current) : null;
      return { pin, salts: await loadSalts(deps, mode, rows, pin?.settledAt) };
    })(),
  ]);
  const pepper = pin ? await pepperAsOf(deps, pin, current) : current;
  const [scope] = await Promise.all([
    req.scope === null
      ? null
      : pin
        ? scopeAsOf(deps, pin, req.scope, pepper)
        : deps.scoped.scopeOf(req.scope, pepper),
    ...(pin ? mode.versioned.map((kind) => saltsAsOf(deps, pin, kind, salts[kind])) : []),
  ]);
  const under = {
    pseudonymizer: {
      pseudonymUnder: (...args: Parameters<Pseudonymizer["pseudonymUnder"]>) =>
        deps.scoped.pseudonymUnder(scope, ...args),
    },
    pepper,
    field: req.field,
    salt: (kind: SaltKind, id: string) => salts[kind].get(id),
  };
  const replies = rows.map((row) => (row === null ? null : mode.reply(row, under)));
  const count = salts.user.size + salts.global.size;
  // Pinned, a retry computes these same replies again: nothing per batch is stored.
  if (pin) return { replies, replayed: false, salts: count, asOf: pin.asOf };
  const key = sha256(`salt-service/bigquery-reply/v1\0${ctx.invoker}\0${req.caller ?? ""}\0${req.requestId}`);
  const fingerprint = sha256(JSON.stringify([req.mode, req.field, req.scope, req.calls]));
  const kept = await deps.requests.keep(key, fingerprint, replies);
  if (kept.fingerprint !== fingerprint) {
    throw invalidArgument([
      { path: "requestId", message: "was already used, within the last 24 hours, for a different batch" },
    ]);
  }
  return { replies: kept.answer as (string | null)[], replayed: !kept.first, salts: count, asOf: null };
}

/** Each call checked by its mode; every refusal is collected, and the batch refused naming them. */
function rowsOf(mode: BatchMode<unknown>, field: string, calls: readonly unknown[]): unknown[] {
  const issues: Issue[] = [];
  let refused = 0;
  const refuse = (i: number, message: string) => {
    if (refused++ < MAX_ISSUES) issues.push({ path: `calls[${i}]`, message });
    return null;
  };
  const rows = calls.map((call, i) => {
    if (!Array.isArray(call) || call.length !== mode.args.length) {
      const got = Array.isArray(call) ? `${call.length}` : "not an array";
      return refuse(i, `expected ${mode.args.length} arguments (${mode.args.join(", ")}), got ${got}`);
    }
    try {
      return mode.row(call, field);
    } catch (e) {
      if (e instanceof CallRefused) return refuse(i, e.message);
      throw e;
    }
  });
  if (refused > 0) {
    const more = refused - issues.length;
    const text = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    throw new SaltServiceError(
      "invalid-argument",
      more > 0 ? `${text}; and ${more} more call${more === 1 ? "" : "s"}` : text,
      { issues, refused },
    );
  }
  return rows;
}

/**
 * The grant check, before anything is read or written: the invoker (the service account BigQuery or
 * the pipeline calls as) must be among the scope's consumers (403 otherwise); an unknown scope is 400.
 */
async function authorizeScope(
  deps: Pick<Services, "scoped">,
  invoker: string,
  scopeId: string | null,
): Promise<void> {
  if (scopeId === null) return;
  try {
    await deps.scoped.authorizeScope(scopeId, invoker);
  } catch (e) {
    if (!isSaltServiceError(e) || (e.code !== "not-found" && e.code !== "invalid-argument")) throw e;
    throw invalidArgument([{ path: "userDefinedContext.scope", message: `unknown scope "${scopeId}"` }]);
  }
}

/** Every salt the rows need, loaded through the cache (batched reads, batched creation), by kind and id. */
async function loadSalts(
  deps: Pick<Services, "cache" | "scoped">,
  mode: BatchMode<unknown>,
  rows: readonly unknown[],
  settledAt?: number,
): Promise<Record<SaltKind, Map<string, LoadedSalt>>> {
  const ids: Record<SaltKind, Set<string>> = { user: new Set(), global: new Set() };
  for (const row of rows) if (row !== null) for (const need of mode.needs(row)) ids[need.kind].add(need.id);
  // A query's batch decides versions on records read after its pin was made (usecases/queryPin.ts).
  const since = (kind: SaltKind) =>
    settledAt !== undefined && mode.versioned.includes(kind) ? { since: settledAt } : {};
  const load = (kind: SaltKind) =>
    ids[kind].size === 0
      ? Promise.resolve(new Map<string, LoadedSalt>())
      : deps.cache.currentMany(kind, [...ids[kind]], {
          create: !(mode.previous && kind === "user"),
          ...since(kind),
        });
  const [user, global] = await Promise.all([load("user"), load("global")]);
  if (mode.previous) return { user: await previousVersions(deps, user), global };
  // A first-release user salt has no shred secret: it is given one before anything is bound to it.
  const unshredded = [...user].filter(([, loaded]) => !loaded.shred);
  if (unshredded.length > 0)
    await Promise.all(
      unshredded.map(async ([id, loaded]) => user.set(id, await deps.cache.userWithShred(id, loaded))),
    );
  return { user, global };
}

/** Each user's previous salt version inside the link window (LINK_WINDOW_HOURS); users without one are left out. */
async function previousVersions(
  deps: Pick<Services, "scoped">,
  current: Map<string, LoadedSalt>,
): Promise<Map<string, LoadedSalt>> {
  const out = new Map<string, LoadedSalt>();
  await Promise.all(
    [...current].map(async ([id, loaded]) => {
      const prev = await deps.scoped.previousSalt(id, loaded);
      if (prev)
        out.set(id, { ...loaded, record: { ...loaded.record, version: prev.version }, salt: prev.salt });
    }),
  );
  return out;
}

// Per audit store (one per instance), the markers seen written or being written: later batches skip storage.
const auditedBy = new WeakMap<object, Map<string, Promise<unknown>>>();
const AUDITED_MAX = 10_000;

/**
 * One audit entry per (BigQuery job, session user), however many batches the job sends: a marker
 * committed with the entry dedupes across instances, and this instance remembers what it wrote.
 */
function auditJob(
  deps: Pick<Services, "audit">,
  ctx: CallContext & { invoker: string },
  req: BatchRequest,
): Promise<unknown> {
  const key = sha256(`salt-service/bigquery-audit/v1\0${req.caller ?? ""}\0${ctx.actor.uid}`);
  let audited = auditedBy.get(deps.audit);
  if (!audited) auditedBy.set(deps.audit, (audited = new Map()));
  let pending = audited.get(key);
  if (!pending) {
    if (audited.size >= AUDITED_MAX) audited.clear();
    const draft: AuditDraft = {
      actor: ctx.actor,
      operation: BATCH_OPERATION,
      target: { kind: "system", id: "bigquery" },
      result: "success",
      correlation_id: ctx.correlationId,
      details: { caller: req.caller, invoker: ctx.invoker, mode: req.mode, scope: req.scope },
    };
    pending = deps.audit.appendAuditOnce(draft, key);
    audited.set(key, pending);
    // A failed write is tried again by the next batch.
    pending.catch(() => audited.delete(key));
  }
  return pending;
}
