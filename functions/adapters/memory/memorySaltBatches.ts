import { randomBytes } from "node:crypto";
import type { AuditDraft } from "../../domain/audit";
import { bindings, chains, type AuditKey, type SealedHead } from "../../domain/auditChain";
import { saltAad, sealSalt, shredAad, type EncryptionKey } from "../../domain/encryption";
import type { SaltKind } from "../../domain/ids";
import { planCreate, saltLocation, saltPlace } from "../../domain/rotation";
import type { LoadedSalt } from "../../domain/salt";
import type { AuditContext } from "../../ports/saltStore";
import { LIBRARY_CORRELATION_ID, saltChanged, saltEventKey } from "../../domain/events";
import { appendLinked } from "./memoryAudit";
import { stageEvent } from "./memoryOutbox";
import { MemorySaltListing } from "./memorySaltListing";

export const incarnation = (kind: SaltKind, id: string) =>
  chains.salt(kind, id, randomBytes(9).toString("base64url"));

/** Creation of salts on first use, one at a time or many at once (synchronous between awaits, so atomic). */
export abstract class MemorySaltBatches extends MemorySaltListing {
  /** Stores version 1 of a salt known to be absent, with its audit entry when `audit` is given. */
  protected createNow(
    kind: SaltKind,
    id: string,
    encKey: EncryptionKey,
    auditKey: AuditKey | null,
    audit?: AuditContext,
  ): LoadedSalt {
    const key = saltLocation(kind, id);
    const now = this.deps.clock();
    const { record, salt, shred } = planCreate(kind, id, now, this.deps.policy());
    const chain = { id: incarnation(kind, id), head: null as null | SealedHead };
    if (audit && auditKey) {
      const draft: AuditDraft = { ...audit, target: { kind, id }, result: "success" };
      chain.head = appendLinked(this.state, draft, now, chain.id, null, auditKey, bindings.live(record)).head;
    }
    const place = saltPlace(kind, id, chain.id);
    this.state.current.set(key, {
      record,
      enc: sealSalt(encKey, salt, saltAad(place, 1)),
      shred: shred ? sealSalt(encKey, shred, shredAad(place)) : null,
      keyVersions: [encKey.version],
      chain,
      lastRewrapId: null,
    });
    stageEvent(this.state, saltChanged(record, now, audit?.correlation_id ?? LIBRARY_CORRELATION_ID), now);
    this.deps.events?.committed([saltEventKey(kind, id)]);
    return { record: { ...record }, salt, shred };
  }

  getMany(kind: SaltKind, ids: readonly string[]): Promise<(LoadedSalt | null)[]> {
    return Promise.all(ids.map((id) => this.get(kind, id)));
  }

  async getOrCreateMany(
    kind: SaltKind,
    ids: readonly string[],
    audit?: AuditContext,
  ): Promise<{ loaded: LoadedSalt; created: boolean }[]> {
    const [encKey, auditKey] = await Promise.all([
      this.deps.keys.current(),
      audit ? this.deps.auditKey.current() : null,
    ]);
    // Decided and applied in one synchronous step: all the absent ones are created, or none (a throw);
    // the present ones are taken as they are now, so nothing can change them before they are opened.
    const found = this.state.atomically(() =>
      ids.map((id) => {
        const key = saltLocation(kind, id);
        const stored = this.state.current.get(key);
        return stored
          ? { key, stored, made: null }
          : { key, stored: null, made: this.createNow(kind, id, encKey, auditKey, audit) };
      }),
    );
    return Promise.all(
      found.map(async ({ key, stored, made }) =>
        made ? { loaded: made, created: true } : { loaded: await this.open(key, stored!), created: false },
      ),
    );
  }
}
