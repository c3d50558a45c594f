import { createHmac, timingSafeEqual } from "node:crypto";
import type { AuditDraft, AuditEntry, ChainLink } from "./audit";
import { encodeDocId } from "./ids";

/** The newest link of a chain, kept where the chain's writes already go. */
export interface ChainHead {
  seq: number;
  mac: string;
}

export interface AuditKey {
  readonly version: number;
  readonly bytes: Buffer;
}

/**
 * Chains: each salt incarnation has its own (head in the salt document, moved to
 * a chain document when the salt is erased); every other entry goes to the log
 * chain of its target, or to its caller's chain for refused calls, with the head
 * in a chain document.
 */
export const chains = {
  salt: (kind: string, id: string, incarnation: string) => `salt:${kind}:${encodeDocId(id)}:${incarnation}`,
  caller: (uid: string) => `caller:${encodeDocId(uid)}`,
  /** The chain of an entry that records no salt change. */
  of: (target: AuditDraft["target"]) => `log:${target.kind}:${encodeDocId(target.id)}`,
};

/** Where a salt incarnation chain's document lives, or null for other chains. */
export function saltOfChain(
  chain: string,
): { kind: "user" | "global"; docId: string; incarnation: string } | null {
  const m = /^salt:(user|global):([A-Za-z0-9_-]*):([A-Za-z0-9_-]+)$/.exec(chain);
  return m ? { kind: m[1] as "user" | "global", docId: m[2]!, incarnation: m[3]! } : null;
}

/** JSON with keys sorted at every level: the bytes a mac is computed over. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
}

function macOf(entry: AuditEntry, key: Buffer): string {
  const { integrity, ...body } = entry;
  const link = { ...integrity!, mac: undefined };
  return createHmac("sha256", key)
    .update("salt-service/audit/v1\0")
    .update(canonical({ ...body, integrity: link }))
    .digest("base64url");
}

/** The entry as the next link of `chain` after `head`, and the chain's new head. */
export function linkEntry(
  draft: AuditDraft,
  stamp: { id: string; at: Date },
  chain: string,
  head: ChainHead | null,
  key: AuditKey,
): { entry: AuditEntry; head: ChainHead } {
  const integrity: ChainLink = {
    chain,
    seq: (head?.seq ?? 0) + 1,
    prev: head?.mac ?? null,
    key_version: key.version,
    mac: "",
  };
  const entry: AuditEntry = { ...draft, id: stamp.id, at: stamp.at.toISOString(), integrity };
  integrity.mac = macOf(entry, key.bytes);
  return { entry, head: { seq: integrity.seq, mac: integrity.mac } };
}

/** Why `entry` is not the valid successor of `previous` in its chain, or null when it is. */
export function linkProblem(entry: AuditEntry, previous: ChainHead | null, key: Buffer): string | null {
  const link = entry.integrity;
  if (!link) return "entry carries no chain link";
  const expectedSeq = (previous?.seq ?? 0) + 1;
  if (link.seq !== expectedSeq) {
    return link.seq > expectedSeq
      ? `entries ${expectedSeq}..${link.seq - 1} are missing`
      : `entry ${link.seq} is out of order or repeated`;
  }
  if (link.prev !== (previous?.mac ?? null)) return "does not follow the previous entry";
  const expected = Buffer.from(macOf(entry, key));
  const actual = Buffer.from(link.mac);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return "entry was changed";
  return null;
}
