import type { AuditDraft } from "../../domain/audit";
import { bindings, chains, type AuditKey, type SealedHead } from "../../domain/auditChain";
import { saltAad, sealSalt, shredAad, type EncryptionKey } from "../../domain/encryption";
import { unavailable } from "../../domain/errors";
import { encodeDocId, indexShard, type SaltKind } from "../../domain/ids";
import { planCreate, saltPlace } from "../../domain/rotation";
import type { LoadedSalt } from "../../domain/salt";
import { LIBRARY_CORRELATION_ID, saltChanged, saltEventKey } from "../../domain/events";
import { storageCalls } from "../../observability/storageCalls";
import type { AuditContext } from "../../ports/saltStore";
import type { Guard } from "./errors";
import { newIncarnation, saltRead, type SaltRead } from "./firestoreSaltBase";
import type { CreateWriter } from "./firestoreAudit";
import { FirestoreUpgrade } from "./firestoreUpgrade";
import { saltDocData } from "./schema";

/** Salts one batched read asks for (each with its place's erasure record: 2,000 documents, one request). */
const READ_CHUNK = 1000;
/** Writes per commit (Firestore's 500 per commit). */
export const COMMIT_WRITES = 500;
/** Rounds of create-then-reread before a salt that keeps vanishing and reappearing is given up on. */
const MAX_ROUNDS = 5;

const ALREADY_EXISTS = 6;

/**
 * Many salts of one kind at once, for pseudonymizing a BigQuery batch: read with one batched lookup,
 * the absent ones created in batched commits of creates only, so that whoever races, each id ends
 * with one salt (a lost race is a refused commit, after which the winner's salts are read).
 */
export abstract class FirestoreSaltBatches extends FirestoreUpgrade {
  /** Stages version 1 of a salt on `writer` as a create (never a replace), with its audit entry when asked. */
  protected stageCreate(
    writer: CreateWriter,
    kind: SaltKind,
    id: string,
    keys: { key: EncryptionKey; auditKey: AuditKey | null },
    audit?: AuditContext,
  ): LoadedSalt {
    const now = this.deps.clock();
    const plan = planCreate(kind, id, now, this.deps.policy());
    const chain = { id: chains.salt(kind, id, newIncarnation()), head: null as SealedHead | null };
    if (audit && keys.auditKey) {
      const draft: AuditDraft = { ...audit, target: { kind, id }, result: "success" };
      chain.head = this.link(
        writer,
        draft,
        now,
        chain.id,
        null,
        keys.auditKey,
        bindings.live(plan.record),
      ).head;
    }
    const place = saltPlace(kind, id, chain.id);
    const parts = {
      salt: sealSalt(keys.key, plan.salt, saltAad(place, 1)),
      shred: plan.shred ? sealSalt(keys.key, plan.shred, shredAad(place)) : null,
      keyVersions: [keys.key.version],
      chain,
      shard: indexShard(encodeDocId(id)),
    };
    writer.create(this.saltRef(kind, id), saltDocData(plan.record, parts, now));
    this.outbox(writer, saltChanged(plan.record, now, audit?.correlation_id ?? LIBRARY_CORRELATION_ID), now);
    return { record: plan.record, salt: plan.salt, shred: plan.shred };
  }

  /** Each salt with its place's erasure record (a restored copy of an erased salt is refused when opened). */
  private async snapshots(kind: SaltKind, ids: readonly string[]): Promise<SaltRead[]> {
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += READ_CHUNK) chunks.push(ids.slice(i, i + READ_CHUNK));
    storageCalls.read(chunks.length);
    const read = await Promise.all(
      chunks.map(async (c) => {
        const refs = c.flatMap((id) => [this.saltRef(kind, id), this.erasedRef(kind, id)]);
        const snaps = await this.db.getAll(...refs);
        return c.map((_, n) => saltRead(snaps[2 * n]!, snaps[2 * n + 1]!));
      }),
    );
    return read.flat();
  }

  getMany(kind: SaltKind, ids: readonly string[]): Promise<(LoadedSalt | null)[]> {
    return this.run("getMany", async () => {
      if (ids.length === 0) return [];
      const snaps = await this.snapshots(kind, ids);
      return Promise.all(snaps.map((s, n) => (s.snap.exists ? this.open(kind, ids[n]!, s) : null)));
    });
  }

  getOrCreateMany(
    kind: SaltKind,
    ids: readonly string[],
    audit?: AuditContext,
  ): Promise<{ loaded: LoadedSalt; created: boolean }[]> {
    return this.run("getOrCreateMany", async (guard) => {
      const unique = [...new Set(ids)];
      const found = new Map<string, { loaded: LoadedSalt; created: boolean }>();
      let missing = unique;
      for (let round = 0; missing.length > 0; round++) {
        if (round >= MAX_ROUNDS)
          throw unavailable("Salts are being created and erased too fast to load; retry");
        const snaps = await this.snapshots(kind, missing);
        const absent: string[] = [];
        await Promise.all(
          snaps.map(async (s, n) => {
            const id = missing[n]!;
            if (s.snap.exists) found.set(id, { loaded: await this.open(kind, id, s), created: false });
            else absent.push(id);
          }),
        );
        missing = absent.length === 0 ? [] : await this.createAbsent(guard, kind, absent, audit, found);
      }
      // A repeated id was created once: its later places found it.
      const seen = new Set<string>();
      return ids.map((id) => {
        const f = found.get(id)!;
        const first = !seen.has(id);
        seen.add(id);
        return first ? f : { loaded: f.loaded, created: false };
      });
    });
  }

  /**
   * Creates `absent` in commits of creates (in parallel); what a refused commit held is returned to be
   * read again: another caller created some of it first, and its salts are the ones that count.
   */
  private async createAbsent(
    guard: Guard,
    kind: SaltKind,
    absent: string[],
    audit: AuditContext | undefined,
    found: Map<string, { loaded: LoadedSalt; created: boolean }>,
  ): Promise<string[]> {
    const [key, auditKey] = await Promise.all([this.deps.keys.current(), audit ? this.auditKey() : null]);
    // Each salt: its document and its event in the outbox, and its audit entry when one is written.
    const perSalt = audit ? 3 : 2;
    const size = Math.floor(COMMIT_WRITES / perSalt);
    const commits: { ids: string[]; made: LoadedSalt[]; commit: () => Promise<unknown> }[] = [];
    for (let i = 0; i < absent.length; i += size) {
      const chunk = absent.slice(i, i + size);
      const batch = this.db.batch();
      const made = chunk.map((id) => this.stageCreate(batch, kind, id, { key, auditKey }, audit));
      commits.push({ ids: chunk, made, commit: () => batch.commit() });
    }
    storageCalls.commit(commits.length);
    const outcomes = await commitAllGuarded(
      guard,
      commits.map((c) => c.commit),
    );
    const again: string[] = [];
    outcomes.forEach((o, n) => {
      const c = commits[n]!;
      if (o.ok) c.ids.forEach((id, k) => found.set(id, { loaded: c.made[k]!, created: true }));
      else again.push(...c.ids);
    });
    this.committed(
      outcomes.flatMap((o, n) => (o.ok ? commits[n]!.ids.map((id) => saltEventKey(kind, id)) : [])),
    );
    return again;
  }
}

type Outcome = { ok: true } | { ok: false; code: number | undefined; error: unknown };

// gRPC codes after which a sent commit may or may not have been applied (DEADLINE_EXCEEDED, UNAVAILABLE).
const UNKNOWN_OUTCOME = new Set([4, 14]);

/**
 * Sends commits in parallel under one guard. Creates that found their document were refused and did
 * nothing; any other refusal is rethrown once all have answered; a commit whose answer was lost leaves
 * the guard in flight, so the caller learns that the outcome is unknown.
 */
async function commitAllGuarded(guard: Guard, commits: (() => Promise<unknown>)[]): Promise<Outcome[]> {
  guard.committing();
  const settled = await Promise.allSettled(commits.map((c) => c()));
  const outcomes = settled.map((s): Outcome => {
    if (s.status === "fulfilled") return { ok: true };
    const code = (s.reason as { code?: unknown } | null)?.code;
    return { ok: false, code: typeof code === "number" ? code : undefined, error: s.reason };
  });
  const failures = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
  const unknown = failures.find((o) => o.code === undefined || UNKNOWN_OUTCOME.has(o.code));
  if (unknown) throw unknown.error;
  guard.settled();
  const refused = failures.find((o) => o.code !== ALREADY_EXISTS);
  if (refused) throw refused.error;
  return outcomes;
}
