import { REQUEST_TTL_MS } from "../../ports/requestStore";
import type { AuditDraft } from "../../domain/audit";
import { bindings, chains, saltOfChain, type AuditKey } from "../../domain/auditChain";
import { saltAad, sealSalt, shredAad, type EncryptedSalt, type EncryptionKey } from "../../domain/encryption";
import type { SaltKind } from "../../domain/ids";
import { decideRotation, saltLocation, saltPlace } from "../../domain/rotation";
import type { LoadedSalt } from "../../domain/salt";
import type {
  AuditContext,
  BatchRotateItem,
  EraseOutcome,
  IdempotencyRecord,
  ListedSalt,
  RotateOutcome,
  RotateRequest,
  SaltStore,
} from "../../ports/saltStore";
import { MAX_BATCH_ROTATIONS } from "../../ports/saltStore";
import { appendLinked, appendToChain } from "./memoryAudit";
import { incarnation } from "./memorySaltBatches";
import { MemoryRewrap } from "./memoryRewrap";
import { copyEnc, type StoredVersion } from "./memoryState";
import { stageEvent } from "./memoryOutbox";
import { saltChanged, saltEventKey, subjectErased } from "../../domain/events";

/**
 * A faithful in-process salt store: the same records, the same encryption at
 * rest, the same chained audit entries, the same atomicity (every change is
 * decided and applied synchronously between awaits). State is per process.
 */
export class MemorySaltStore extends MemoryRewrap implements SaltStore {
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
    return { loaded: this.createNow(kind, id, encKey, auditKey, audit), created: true };
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
    const fresh = { id: incarnation(kind, id), head: null };
    const chain = decision.type === "create" ? fresh : (stored?.chain ?? fresh);
    const place = saltPlace(kind, id, chain.id);
    const keyVersions = new Set([key.version]);
    if (decision.type === "create") {
      shred = decision.plan.shred ? sealSalt(key, decision.plan.shred, shredAad(place)) : null;
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
    const linked = appendLinked(
      this.state,
      draft,
      now,
      chain.id,
      chain.head,
      auditKey,
      bindings.live(record),
    );
    this.state.current.set(location, {
      record,
      enc: sealSalt(key, salt, saltAad(place, record.version)),
      shred,
      keyVersions: [...keyVersions].sort((a, b) => a - b),
      chain: { id: chain.id, head: linked.head },
      lastRewrapId: null,
    });
    stageEvent(this.state, saltChanged(record, now, request.audit.correlation_id), now);
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
    const outcomes = this.state.atomically(() => items.map((i) => this.rotateNow(i, key, auditKey)));
    const changed = items.filter((_, n) => ["created", "rotated"].includes(outcomes[n]!.status));
    if (changed.length > 0) this.deps.events?.committed(changed.map((i) => saltEventKey(i.kind, i.id)));
    return outcomes;
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
    const details = { ...audit.details, versions_destroyed: versionsDestroyed };
    const draft: AuditDraft = {
      ...audit,
      target: { kind, id },
      result: "success",
      rotation_id: rotationId,
      details,
    };
    if (stored) {
      const { chain } = stored;
      const linked = appendLinked(this.state, draft, now, chain.id, chain.head, auditKey, bindings.erased);
      this.state.chainHeads.set(chain.id, linked.head);
      // The incarnation is recorded as erased: a copy of it put back later is refused.
      const erased = this.state.erased.get(location) ?? { incarnations: new Set<string>(), chainless: false };
      const incarnationId = saltOfChain(chain.id)?.incarnation;
      if (incarnationId) erased.incarnations.add(incarnationId);
      else erased.chainless = true;
      this.state.erased.set(location, erased);
    } else {
      appendToChain(this.state, draft, now, chains.of(draft.target), auditKey);
    }
    this.state.current.delete(location);
    this.state.versions.delete(location);
    const erased = { versionsDestroyed, rotationId, at: now, correlationId: audit.correlation_id };
    stageEvent(this.state, subjectErased(kind, id, stored?.record ?? null, erased), now);
    this.deps.events?.committed([saltEventKey(kind, id)]);
    const outcome: EraseOutcome = { status: "erased", erased: versionsDestroyed > 0, versionsDestroyed };
    if (idempotency) this.remember(idempotency, outcome, now);
    return outcome;
  }
}
