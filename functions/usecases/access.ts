import { randomUUID } from "node:crypto";
import { ACCESS_TARGET, rolesOf, withRole, type RoleChangeIntent, type RoleName } from "../domain/access";
import type { AuditDraft } from "../domain/audit";
import { failedPrecondition, invalidArgument, notFound, unavailable } from "../domain/errors";
import type { Account } from "../ports/accounts";
import { auditContext, type CallContext, type Services } from "./deps";
import { replayedAnswer } from "./idempotency";

type AccessDeps = Pick<Services, "accounts" | "roles" | "requests" | "clock">;

export interface RoleHolder {
  uid: string;
  email?: string;
  roles: RoleName[];
  disabled: boolean;
}

export interface SetRoleResponse {
  uid: string;
  roles: RoleName[];
}

const holderOf = (a: Account): RoleHolder => ({
  uid: a.uid,
  ...(a.email ? { email: a.email } : {}),
  roles: rolesOf(a.claims),
  disabled: a.disabled,
});

/** The audit entry of a role change, as it turned out (`after` is what Auth holds now). */
function changeDraft(intent: RoleChangeIntent, after: RoleName[], recovered: boolean): AuditDraft {
  const context = auditContext(
    {
      correlationId: intent.correlation_id,
      actor: intent.actor,
      ...(intent.approval
        ? { approval: { id: intent.approval.id, approvedBy: intent.approval.approved_by } }
        : {}),
    },
    "set_role",
    intent.reason,
  );
  const applied = after.includes(intent.role) === intent.grant;
  return {
    ...context,
    target: { ...ACCESS_TARGET },
    result: applied ? "success" : "error",
    details: {
      ...context.details,
      uid: intent.uid,
      role: intent.role,
      grant: intent.grant,
      roles_after: after.join(",") || "none",
      ...(recovered ? { recovered: true } : {}),
    },
  };
}

/**
 * Grants or clears one role claim, keeping every other claim. Firebase Auth and
 * the audit trail cannot commit together, so the change is noted on the
 * holder's index entry first, made in Auth (read back until it holds, since
 * Auth offers no compare-and-set), then audited with the index and the request
 * record in one commit. A change whose record never committed is audited later
 * as it turned out (settleRoleChanges). Effective on the holder's next call: the
 * pipeline reads roles from Auth on every call.
 */
export async function setRole(
  deps: AccessDeps,
  ctx: CallContext,
  input: {
    uid?: string | undefined;
    email?: string | undefined;
    role: RoleName;
    grant: boolean;
    reason: string;
  },
): Promise<SetRoleResponse> {
  if ((input.uid === undefined) === (input.email === undefined)) {
    throw invalidArgument([{ path: "uid", message: "give exactly one of uid and email" }]);
  }
  if (ctx.request) {
    const prior = await deps.requests.get(ctx.request.key);
    if (prior)
      return replayedAnswer<SetRoleResponse>({
        status: "replayed",
        answer: prior.answer,
        sameRequest: prior.fingerprint === ctx.request.fingerprint,
      });
  }
  const account = await deps.accounts.find(
    input.uid !== undefined ? { uid: input.uid } : { email: input.email! },
  );
  if (!account)
    throw notFound(input.uid !== undefined ? `Account ${input.uid}` : "An account with that email");
  if (input.role === "admin" && !input.grant && account.uid === ctx.actor.uid) {
    throw failedPrecondition("An admin cannot remove its own admin role; another admin must");
  }
  await settleRoleChanges(deps, new Date(deps.clock().getTime() - SETTLE_AFTER_MS), account.uid);
  const intent: RoleChangeIntent = {
    change_id: randomUUID(),
    uid: account.uid,
    role: input.role,
    grant: input.grant,
    actor: ctx.actor,
    correlation_id: ctx.correlationId,
    reason: input.reason,
    at: deps.clock(),
    ...(ctx.approval ? { approval: { id: ctx.approval.id, approved_by: ctx.approval.approvedBy } } : {}),
  };
  await deps.roles.beginChange(intent);
  const roles = await applyClaim(deps, account, input.role, input.grant);
  const answer: SetRoleResponse = { uid: account.uid, roles };
  const out = await deps.roles.completeChange(
    intent,
    roles,
    changeDraft(intent, roles, false),
    ctx.request ? { ...ctx.request, answer } : undefined,
  );
  if (out.status === "replayed") return replayedAnswer<SetRoleResponse>(out);
  return answer;
}

/** Sets the claim, then reads it back; a concurrent writer's lost update is written again. */
async function applyClaim(
  deps: Pick<Services, "accounts">,
  account: Account,
  role: RoleName,
  grant: boolean,
): Promise<RoleName[]> {
  let current: Account | null = account;
  for (let attempt = 0; attempt < 5 && current; attempt++) {
    if ((current.claims[role] === true) === grant) return rolesOf(current.claims);
    await deps.accounts.setClaims(current.uid, withRole(current.claims, role, grant));
    current = await deps.accounts.find({ uid: current.uid });
  }
  if (!current) throw notFound(`Account ${account.uid}`);
  throw unavailable("The account's claims kept changing under this call; nothing is certain: retry");
}

/** Changes older than this with no record are taken as abandoned (no call runs that long). */
export const SETTLE_AFTER_MS = 10 * 60 * 1000;

/**
 * Audits role changes noted before `before` whose record never committed (the
 * call died between Auth and the audit trail), as Auth shows them now: success
 * when the claim is as asked, error when it is not. Optionally for one uid only.
 */
export async function settleRoleChanges(
  deps: Pick<Services, "accounts" | "roles">,
  before: Date,
  uid?: string,
): Promise<number> {
  const stale = (await deps.roles.staleIntents(before, 50)).filter((i) => uid === undefined || i.uid === uid);
  for (const intent of stale) {
    const account = await deps.accounts.find({ uid: intent.uid });
    const roles = rolesOf(account?.claims);
    await deps.roles.settle(intent, roles, changeDraft(intent, roles, true));
  }
  return stale.length;
}

export interface RolesResponse {
  holders: RoleHolder[];
  next_cursor: string | null;
  /** Where the holders come from: the role index (checked against Auth), or a scan of Auth itself. */
  source: "index" | "auth";
  /** When a pass over every account last completed (null: never): holders granted outside the service since then may be missing from the index. */
  reconciled_at: string | null;
}

const SCAN_PAGE = 1000;
const encodeScan = (c: { token: string; started: number }) =>
  `scan.${Buffer.from(JSON.stringify(c)).toString("base64url")}`;

function decodeScan(raw: string): { token: string; started: number } {
  try {
    const c = JSON.parse(Buffer.from(raw.slice(5), "base64url").toString("utf8")) as {
      token?: unknown;
      started?: unknown;
    };
    if (raw.startsWith("scan.") && typeof c.token === "string" && Number.isSafeInteger(c.started)) {
      return { token: c.token, started: c.started as number };
    }
  } catch {
    // the uniform error below
  }
  throw invalidArgument([{ path: "cursor", message: "is not a cursor this service issued" }]);
}

/**
 * Who holds a role. By default, a page of the role index with every entry
 * checked against Firebase Auth as it is now (roles, disabled, email), so
 * nothing listed is stale; entries that no longer hold a role are dropped from
 * the index. With `scan`, a page of Firebase Auth itself (1,000 accounts per
 * call, whatever set their claims), which also feeds the index; a scan walked
 * from start to end marks the index reconciled.
 */
export async function listRoles(
  deps: Pick<Services, "accounts" | "roles" | "clock">,
  input: {
    role?: RoleName | undefined;
    limit: number;
    cursor?: string | undefined;
    scan?: boolean | undefined;
  },
): Promise<RolesResponse> {
  const wanted = (h: RoleHolder) => (input.role ? h.roles.includes(input.role) : h.roles.length > 0);
  if (input.scan) {
    const at = input.cursor
      ? decodeScan(input.cursor)
      : { token: undefined, started: deps.clock().getTime() };
    const page = await deps.accounts.scan({ limit: SCAN_PAGE, token: at.token });
    const found = page.accounts.map(holderOf).filter((h) => h.roles.length > 0);
    await deps.roles.put(found.map((h) => ({ uid: h.uid, roles: h.roles })));
    const state = await deps.roles.readScanState();
    if (!page.next) await deps.roles.writeScanState({ ...state, reconciled_at: new Date(at.started) });
    return {
      holders: found.filter(wanted),
      next_cursor: page.next ? encodeScan({ token: page.next, started: at.started }) : null,
      source: "auth",
      reconciled_at: page.next
        ? (state.reconciled_at?.toISOString() ?? null)
        : new Date(at.started).toISOString(),
    };
  }
  const [page, state] = await Promise.all([
    deps.roles.list({ limit: input.limit, cursor: input.cursor, role: input.role }),
    deps.roles.readScanState(),
  ]);
  const accounts = page.items.length ? await deps.accounts.getMany(page.items.map((e) => e.uid)) : [];
  const byUid = new Map(accounts.map((a) => [a.uid, a]));
  // Entries Auth no longer agrees with are corrected (or dropped) in the index.
  const drifted = page.items
    .filter((e) => e.pending === null)
    .map((e) => ({ e, now: rolesOf(byUid.get(e.uid)?.claims) }))
    .filter(({ e, now }) => now.join(",") !== e.roles.join(","));
  if (drifted.length) await deps.roles.put(drifted.map(({ e, now }) => ({ uid: e.uid, roles: now })));
  return {
    holders: page.items
      .map((e) => byUid.get(e.uid))
      .filter((a): a is Account => a !== undefined)
      .map(holderOf)
      .filter(wanted),
    next_cursor: page.nextCursor,
    source: "index",
    reconciled_at: state.reconciled_at?.toISOString() ?? null,
  };
}

/**
 * The sweep's part: settles abandoned role changes, and goes on with a pass over
 * every Firebase Auth account (resumed where the last sweep stopped) within
 * `budgetMs`, so holders granted outside the service reach the index.
 */
export async function reconcileRoles(
  deps: Pick<Services, "accounts" | "roles" | "clock">,
  budgetMs: number,
): Promise<{ settled: number; scanned: number; complete: boolean }> {
  const settled = await settleRoleChanges(deps, new Date(deps.clock().getTime() - SETTLE_AFTER_MS));
  const state = await deps.roles.readScanState();
  const scan = state.scan ?? { token: "", started_at: deps.clock() };
  const until = Date.now() + budgetMs;
  let scanned = 0;
  let token: string | null = scan.token;
  while (token !== null && Date.now() < until) {
    const page = await deps.accounts.scan({ limit: SCAN_PAGE, token: token || undefined });
    scanned += page.accounts.length;
    const holders = page.accounts.filter((a) => rolesOf(a.claims).length > 0);
    await deps.roles.put(holders.map((a) => ({ uid: a.uid, roles: rolesOf(a.claims) })));
    token = page.next;
  }
  const complete = token === null;
  await deps.roles.writeScanState(
    complete
      ? { reconciled_at: scan.started_at, scan: null }
      : { reconciled_at: state.reconciled_at, scan: { token: token!, started_at: scan.started_at } },
  );
  return { settled, scanned, complete };
}
