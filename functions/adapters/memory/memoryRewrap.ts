import type { AuditDraft } from "../../domain/audit";
import { bindings, type AuditKey } from "../../domain/auditChain";
import {
  needsBinding,
  openWith,
  saltAad,
  sealSalt,
  shredAad,
  type Aad,
  type EncryptedSalt,
  type EncryptionKey,
} from "../../domain/encryption";
import { saltLocation } from "../../domain/rotation";
import type { RewrapItem, RewrapOutcome } from "../../ports/saltStore";
import { appendLinked } from "./memoryAudit";
import { MemorySaltBatches } from "./memorySaltBatches";

/** Rewrap on the memory backend (synchronous between awaits, so each commit is atomic). */
export abstract class MemoryRewrap extends MemorySaltBatches {
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
    plan: Awaited<ReturnType<MemoryRewrap["rewrapPlan"]>>,
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
    const { chain, record } = stored;
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
    const place = this.place(location, stored);
    const current = (e: EncryptedSalt) => e.key_version === key.version && !needsBinding(e, place);
    if (all.every(current) && stored.keyVersions.every((v) => v === key.version)) return plan;
    const again = async (enc: EncryptedSalt, aad: Aad) =>
      current(enc) ? enc : sealSalt(key, await openWith(this.deps.keys, enc, aad), aad);
    return {
      ...plan,
      resealed: {
        from: [...new Set(all.map((e) => e.key_version))].sort((a, b) => a - b),
        salt: await again(stored.enc, saltAad(place, stored.record.version)),
        shred: stored.shred ? await again(stored.shred, shredAad(place)) : null,
        versions: await Promise.all(
          retained.map(async ([v, r]) => [v, await again(r.enc, saltAad(place, v))] as const),
        ),
      },
    };
  }
}
