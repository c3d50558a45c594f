import { REQUEST_TTL_MS } from "../../ports/requestStore";
import { randomBytes } from "node:crypto";
import type { AuditDraft } from "../../domain/audit";
import { chains, type AuditKey } from "../../domain/auditChain";
import {
  openWith,
  saltAad,
  sealSalt,
  shredAad,
  type EncryptedSalt,
  type EncryptionKey,
} from "../../domain/encryption";
import type { SaltKind } from "../../domain/ids";
import { decideRotation, planCreate, saltLocation } from "../../domain/rotation";
import type { LoadedSalt } from "../../domain/salt";
import type {
  AuditContext,
  BatchRotateItem,
  EraseOutcome,
  IdempotencyRecord,
  ListedSalt,
  RewrapItem,
  RewrapOutcome,
  RotateOutcome,
  RotateRequest,
  SaltStore,
} from "../../ports/saltStore";
import { MAX_BATCH_ROTATIONS } from "../../ports/saltStore";
import { appendLinked, appendToChain } from "./memoryAudit";
import { MemorySaltListing } from "./memorySaltListing";
import { copyEnc, type StoredVersion } from "./memoryState";

const incarnation = (kind: SaltKind, id: string) =>
  chains.salt(kind, id, randomBytes(9).toString("base64url"));

/**
 * A faithful in-process salt store: the same records, the same encryption at
 * rest, the same chained audit entries, the same atomicity (every change is
 * decided and applied synchronously between awaits). State is per process.
 */
export class MemorySaltStore extends MemorySaltListing implements SaltStore {
  async getOrCreate(
    kind: SaltKind,
    id: string,
    audit?: AuditContext,
  ): Promise<{ loaded: LoadedSalt; created: boolean }> {
    const key = saltLocation(kind, id);
    const existing = this.state.current.get(key);
    if (existing) return { loaded: await this.open(key, existing), created: false };
    const [encKey, auditKey] = await Promise.all([
      this.deps.keys.current(),
      audit ? this.deps.auditKey.current() : null,
    ]);
    const again = this.state.current.get(key);
    if (again) return { loaded: await this.open(key, again), created: false };
    const now = this.deps.clock();
    const { record, salt, shred } = planCreate(kind, id, now, this.deps.policy());
    const chain = { id: incarnation(kind, id), head: null as null | { seq: number; mac: string } };
    if (audit && auditKey) {
      const draft: AuditDraft = { ...audit, target: { kind, id }, result: "success" };
      chain.head = appendLinked(this.state, draft, now, chain.id, null, auditKey).head;
    }
    this.state.current.set(key, {
      record,
      enc: sealSalt(encKey, salt, saltAad(key, 1)),
      shred: shred ? sealSalt(encKey, shred, shredAad(key)) : null,
      keyVersions: [encKey.version],
      chain,
      lastRewrapId: null,
    });
    return { loaded: { record: { ...record }, salt, shred }, created: true };
  }

  /** Synchronous, so nothing can interleave with it. */
  private rotateNow(item: BatchRotateItem, key: EncryptionKey, auditKey: AuditKey): RotateOutcome {
    const { kind, id, request } = item;
    const location = saltLocation(kind, id);
    const now = this.deps.clock();
    const idem = request.idempotency;
    const replay = idem ? this.replay(idem) : null;
    if (replay) return replay;
    const stored = this.state.current.get(location);
    const context = { now, policy: this.deps.policy(), retentionDays: this.deps.retentionDays() };
    const decision = decideRotation(kind, id, stored?.record ?? null, request, context);
    if (decision.type === "skip") {
      return { status: "skipped", reason: decision.reason, record: stored ? { ...stored.record } : null };
    }
    const { record, salt } = decision.plan;
    let shred: EncryptedSalt | null = stored?.shred ?? null;
    let chain = stored?.chain ?? { id: incarnation(kind, id), head: null };
    const keyVersions = new Set([key.version]);
    if (decision.type === "create") {
      shred = decision.plan.shred ? sealSalt(key, decision.plan.shred, shredAad(location)) : null;
      chain = { id: incarnation(kind, id), head: null };
    } else {
      const history = this.state.versions.get(location) ?? new Map<number, StoredVersion>();
      const { retired, retiredExpiresAt } = decision.plan;
      history.set(retired.version, { info: retired, enc: copyEnc(stored!.enc), expiresAt: retiredExpiresAt });
      this.state.versions.set(location, history);
      for (const v of [...stored!.keyVersions, stored!.enc.key_version]) keyVersions.add(v);
    }
    const draft: AuditDraft = {
      ...request.audit,
      target: { kind, id },
      result: "success",
      rotation_id: request.rotationId,
    };
    const linked = appendLinked(this.state, draft, now, chain.id, chain.head, auditKey);
    this.state.current.set(location, {
      record,
      enc: sealSalt(key, salt, saltAad(location, record.version)),
      shred,
      keyVersions: [...keyVersions].sort((a, b) => a - b),
      chain: { id: chain.id, head: linked.head },
      lastRewrapId: null,
    });
    const status = decision.type === "create" ? "created" : "rotated";
    const outcome: RotateOutcome = { status, record: { ...record }, rotationId: request.rotationId };
    if (idem) this.remember(idem, outcome, now);
    return outcome;
  }

  private replay<O>(idem: IdempotencyRecord<O>) {
    const found = this.state.requests.get(idem.key);
    if (!found || found.expiresAt <= this.deps.clock()) return null;
    return {
      status: "replayed" as const,
      answer: JSON.parse(found.answer),
      sameRequest: found.fingerprint === idem.fingerprint,
    };
  }

  private remember<O>(idem: IdempotencyRecord<O>, outcome: O, now: Date): void {
    const answer = JSON.stringify(idem.answer(outcome));
    this.state.requests.set(idem.key, {
      fingerprint: idem.fingerprint,
      answer,
      expiresAt: new Date(now.getTime() + REQUEST_TTL_MS),
    });
  }

  async rotate(kind: SaltKind, id: string, request: RotateRequest): Promise<RotateOutcome> {
    return (await this.rotateMany([{ kind, id, request }]))[0]!;
  }

  async rotateMany(items: BatchRotateItem[]): Promise<RotateOutcome[]> {
    if (items.length > MAX_BATCH_ROTATIONS)
      throw new Error(`at most ${MAX_BATCH_ROTATIONS} rotations per commit`);
    const [key, auditKey] = await Promise.all([this.deps.keys.current(), this.deps.auditKey.current()]);
    // All or none, as in Firestore: nothing is applied if any item throws.
    return this.state.atomically(() => items.map((i) => this.rotateNow(i, key, auditKey)));
  }

  /** In memory the guarded path is as cheap as any: it is the one used. */
  rotateListed(items: { listed: ListedSalt; request: RotateRequest }[]): Promise<RotateOutcome[]> {
    return this.rotateMany(
      items.map(({ listed, request }) => ({ kind: listed.record.kind, id: listed.record.id, request })),
    );
  }

  async erase(
    kind: SaltKind,
    id: string,
    rotationId: string,
    audit: AuditContext,
    idempotency?: IdempotencyRecord<EraseOutcome>,
  ): Promise<EraseOutcome> {
    const auditKey = await this.deps.auditKey.current();
    const replay = idempotency ? this.replay(idempotency) : null;
    if (replay) return replay;
    const location = saltLocation(kind, id);
    const stored = this.state.current.get(location);
    const versionsDestroyed = (stored ? 1 : 0) + (this.state.versions.get(location)?.size ?? 0);
    const now = this.deps.clock();
    const details = { versions_destroyed: versionsDestroyed };
    const draft: AuditDraft = {
      ...audit,
      target: { kind, id },
      result: "success",
      rotation_id: rotationId,
      details,
    };
    if (stored) {
      const linked = appendLinked(this.state, draft, now, stored.chain.id, stored.chain.head, auditKey);
      this.state.chainHeads.set(stored.chain.id, linked.head);
    } else {
      appendToChain(this.state, draft, now, chains.of(draft.target), auditKey);
    }
    this.state.current.delete(location);
    this.state.versions.delete(location);
    const outcome: EraseOutcome = { status: "erased", erased: versionsDestroyed > 0, versionsDestroyed };
    if (idempotency) this.remember(idempotency, outcome, now);
    return outcome;
  }

  /**
   * As Firestore's optimistic commit: each salt is planned from what is stored (loading key versions
   * awaits), then committed only if it is still what the plan was made from; one changed meanwhile
   * (a rotation, an erasure, a racing rewrap) is planned again, never overwritten.
   */
  async rewrap(items: RewrapItem[]): Promise<RewrapOutcome[]> {
    const outcomes: RewrapOutcome[] = new Array<RewrapOutcome>(items.length);
    let pending = items.map((_, n) => n);
    while (pending.length > 0) {
      const [key, auditKey] = await Promise.all([this.deps.keys.current(), this.deps.auditKey.current()]);
      const plans = await Promise.all(pending.map((n) => this.rewrapPlan(items[n]!, key)));
      const now = this.deps.clock();
      pending = this.state.atomically(() =>
        pending.filter((n, i) => {
          const outcome = this.commitRewrap(items[n]!, plans[i]!, key, auditKey, now);
          if (outcome) outcomes[n] = outcome;
          return outcome === null;
        }),
      );
    }
    return outcomes;
  }

  /** Commits one plan; null when the salt changed since it was planned. */
  private commitRewrap(
    item: RewrapItem,
    plan: Awaited<ReturnType<MemorySaltStore["rewrapPlan"]>>,
    key: EncryptionKey,
    auditKey: AuditKey,
    now: Date,
  ): RewrapOutcome | null {
    const location = saltLocation(item.kind, item.id);
    const stored = this.state.current.get(location);
    const retained = this.state.versions.get(location);
    const unchanged =
      stored === plan.stored &&
      (retained?.size ?? 0) === plan.retained.length &&
      plan.retained.every(([v, r]) => retained?.get(v) === r);
    if (!unchanged) return null;
    if (!stored) return { status: "missing" };
    if (stored.lastRewrapId === item.rewrapId) return { status: "rewrapped", from: [], to: key.version };
    if (!plan.resealed) return { status: "current" };
    const { resealed } = plan;
    for (const [version, enc] of resealed.versions)
      retained!.set(version, { ...retained!.get(version)!, enc });
    const draft: AuditDraft = {
      ...item.audit,
      target: { kind: item.kind, id: item.id },
      result: "success",
      details: { from_key_versions: resealed.from.join(","), to_key_version: key.version },
    };
    const linked = appendLinked(this.state, draft, now, stored.chain.id, stored.chain.head, auditKey);
    this.state.current.set(location, {
      ...stored,
      enc: resealed.salt,
      shred: resealed.shred,
      keyVersions: [key.version],
      chain: { id: stored.chain.id, head: linked.head },
      lastRewrapId: item.rewrapId,
    });
    return { status: "rewrapped", from: resealed.from, to: key.version };
  }

  /** What is stored now, and every ciphertext of it under `key` (null when all are current already). */
  private async rewrapPlan(item: RewrapItem, key: EncryptionKey) {
    const location = saltLocation(item.kind, item.id);
    const stored = this.state.current.get(location);
    const retained = [...(this.state.versions.get(location)?.entries() ?? [])];
    const plan = { stored, retained, resealed: null };
    if (!stored || stored.lastRewrapId === item.rewrapId) return plan;
    const all = [stored.enc, ...(stored.shred ? [stored.shred] : []), ...retained.map(([, v]) => v.enc)];
    if (
      all.every((e) => e.key_version === key.version) &&
      stored.keyVersions.every((v) => v === key.version)
    ) {
      return plan;
    }
    const again = async (enc: EncryptedSalt, aad: string) =>
      enc.key_version === key.version ? enc : sealSalt(key, await openWith(this.deps.keys, enc, aad), aad);
    return {
      ...plan,
      resealed: {
        from: [...new Set(all.map((e) => e.key_version))].sort((a, b) => a - b),
        salt: await again(stored.enc, saltAad(location, stored.record.version)),
        shred: stored.shred ? await again(stored.shred, shredAad(location)) : null,
        versions: await Promise.all(
          retained.map(async ([v, r]) => [v, await again(r.enc, saltAad(location, v))] as const),
        ),
      },
    };
  }
}
