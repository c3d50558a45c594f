import { FieldPath, Timestamp, type Firestore, type Query } from "firebase-admin/firestore";
import { ACCESS_TARGET, type RoleChangeIntent, type RoleName } from "../../domain/access";
import type { AuditDraft } from "../../domain/audit";
import { chains } from "../../domain/auditChain";
import { unavailable } from "../../domain/errors";
import { encodeDocId } from "../../domain/ids";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import type { RoleIndex, RoleIndexEntry, RoleScanState } from "../../ports/accounts";
import type { RequestRecord } from "../../ports/approvals";
import type { Replayed } from "../../ports/saltStore";
import type { VersionedSecret } from "../../ports/secrets";
import { guarded } from "./errors";
import { appendLinked } from "./firestoreAudit";
import { COLLECTIONS } from "./schema";
import { CONTROL, intentData, parseIntent, replayOf, roleDocSchema, stageRequest } from "./controlSchema";

/** How long a noted change blocks another change of the same account (a call never runs longer). */
const INTENT_HOLD_MS = 10 * 60 * 1000;

/**
 * `salts_roles/{docId(uid)}`: who holds a role, and a change between its Auth
 * half and its audited half; `salts_meta/roles`: how far the last pass over
 * Firebase Auth went.
 */
export class FirestoreRoleIndex implements RoleIndex {
  constructor(
    private readonly db: Firestore,
    private readonly clock: () => Date,
    private readonly auditKey: VersionedSecret,
    private readonly timeoutMs = 20_000,
  ) {}

  private ref(uid: string) {
    return this.db.collection(CONTROL.roles).doc(encodeDocId(uid));
  }

  private scanRef() {
    return this.db.collection(COLLECTIONS.meta).doc(CONTROL.roleScanDoc);
  }

  beginChange(intent: RoleChangeIntent): Promise<void> {
    return guarded("roles.beginChange", this.timeoutMs, () =>
      this.db.runTransaction(async (tx) => {
        const snap = await tx.get(this.ref(intent.uid));
        const pending = snap.exists ? roleDocSchema.parse(snap.data()).pending : null;
        if (pending && pending.at.getTime() > this.clock().getTime() - INTENT_HOLD_MS) {
          throw unavailable("Another role change of this account is in progress; nothing was changed: retry");
        }
        tx.set(
          this.ref(intent.uid),
          { uid: intent.uid, pending: intentData(intent), pending_at: Timestamp.fromDate(intent.at) },
          { merge: true },
        );
      }),
    );
  }

  /** The audited half of a change: entry, roles as Auth has them and intent cleared, in one transaction. */
  private record(
    intent: RoleChangeIntent,
    roles: RoleName[],
    draft: AuditDraft,
    request: RequestRecord | undefined,
    onlyIfPending: boolean,
  ): Promise<{ status: "recorded" } | Replayed> {
    return guarded("roles.record", this.timeoutMs, async () => {
      const key = await this.auditKey.current();
      return this.db.runTransaction(async (tx) => {
        const now = this.clock();
        const requestRef = request ? this.db.collection(COLLECTIONS.requests).doc(request.key) : null;
        const replay = await replayOf(tx, requestRef, request, now);
        if (replay) return replay;
        const snap = await tx.get(this.ref(intent.uid));
        const pending = snap.exists ? roleDocSchema.parse(snap.data()).pending : null;
        const ours = pending?.change_id === intent.change_id;
        if (onlyIfPending && !ours) return { status: "recorded" as const };
        await appendLinked(this.db, tx, chains.of(ACCESS_TARGET), draft, now, key);
        const keep = ours ? null : pending;
        if (roles.length === 0 && !keep) tx.delete(this.ref(intent.uid));
        else
          tx.set(this.ref(intent.uid), {
            uid: intent.uid,
            roles,
            pending: keep ? intentData(keep) : null,
            pending_at: keep ? Timestamp.fromDate(keep.at) : null,
            updated_at: Timestamp.fromDate(now),
          });
        if (request) stageRequest(tx, requestRef!, request, now);
        return { status: "recorded" as const };
      });
    });
  }

  completeChange(
    intent: RoleChangeIntent,
    roles: RoleName[],
    draft: AuditDraft,
    request?: RequestRecord,
  ): Promise<{ status: "recorded" } | Replayed> {
    return this.record(intent, roles, draft, request, false);
  }

  async settle(intent: RoleChangeIntent, roles: RoleName[], draft: AuditDraft): Promise<void> {
    await this.record(intent, roles, draft, undefined, true);
  }

  list(page: {
    limit: number;
    cursor?: string | undefined;
    role?: RoleName | undefined;
  }): Promise<Page<RoleIndexEntry>> {
    return guarded("roles.list", this.timeoutMs, async () => {
      let q: Query = this.db.collection(CONTROL.roles);
      if (page.role) q = q.where("roles", "array-contains", page.role);
      q = q.orderBy(FieldPath.documentId());
      if (page.cursor) q = q.startAfter(decodeCursor(page.cursor).d);
      const snap = await q.limit(page.limit + 1).get();
      return toPage(
        snap.docs,
        page.limit,
        (d) => roleDocSchema.parse(d.data()) as RoleIndexEntry,
        (d) => ({ t: 0, d: d.id }),
      );
    });
  }

  put(holders: { uid: string; roles: RoleName[] }[]): Promise<void> {
    return guarded("roles.put", this.timeoutMs, async () => {
      const now = Timestamp.fromDate(this.clock());
      for (let i = 0; i < holders.length; i += 400) {
        const chunk = holders.slice(i, i + 400);
        const gone = chunk.filter((h) => h.roles.length === 0);
        // An entry with no role left goes, unless a change of it is in flight.
        const snaps = gone.length ? await this.db.getAll(...gone.map((h) => this.ref(h.uid))) : [];
        const batch = this.db.batch();
        for (const h of chunk.filter((x) => x.roles.length > 0))
          batch.set(this.ref(h.uid), { uid: h.uid, roles: h.roles, updated_at: now }, { merge: true });
        for (const s of snaps) {
          if (s.exists && !roleDocSchema.parse(s.data()).pending)
            batch.delete(s.ref, { lastUpdateTime: s.updateTime });
        }
        await batch.commit();
      }
    });
  }

  staleIntents(before: Date, limit: number): Promise<RoleChangeIntent[]> {
    return guarded("roles.staleIntents", this.timeoutMs, async () => {
      const snap = await this.db
        .collection(CONTROL.roles)
        .where("pending_at", "<", Timestamp.fromDate(before))
        .orderBy("pending_at")
        .limit(limit)
        .get();
      return snap.docs.map((d) => parseIntent(d.get("pending")));
    });
  }

  readScanState(): Promise<RoleScanState> {
    return guarded("roles.readScanState", this.timeoutMs, async () => {
      const snap = await this.scanRef().get();
      const reconciled = snap.get("reconciled_at") as Timestamp | undefined;
      const token = snap.get("scan_token") as string | undefined;
      const started = snap.get("scan_started_at") as Timestamp | undefined;
      return {
        reconciled_at: reconciled ? reconciled.toDate() : null,
        scan: typeof token === "string" && started ? { token, started_at: started.toDate() } : null,
      };
    });
  }

  writeScanState(state: RoleScanState): Promise<void> {
    return guarded("roles.writeScanState", this.timeoutMs, async () => {
      await this.scanRef().set({
        reconciled_at: state.reconciled_at ? Timestamp.fromDate(state.reconciled_at) : null,
        scan_token: state.scan?.token ?? null,
        scan_started_at: state.scan ? Timestamp.fromDate(state.scan.started_at) : null,
      });
    });
  }
}
