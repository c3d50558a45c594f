import { createHmac, timingSafeEqual } from "node:crypto";
import type { AuditDraft, AuditEntry, ChainLink } from "./audit";
import { encodeDocId } from "./ids";

/** The newest link of a chain: its sequence number and mac. */
export interface ChainHead {
  seq: number;
  mac: string;
}

/**
 * A head as stored: authenticated under the audit key (`auth`, with the key
 * version that made it) over the chain, the link and what the head is bound to,
 * so a head rewound or moved by someone without the key does not verify.
 * Heads written before heads were authenticated have neither field.
 */
export interface SealedHead extends ChainHead {
  key_version?: number;
  auth?: string;
}

/**
 * What a head is bound to besides its chain. A live salt's head is bound to the
 * salt's version and rotation count (rewinding the head means rewinding the salt
 * with it); a salt chain closed by an erasure is `erased`; other chains `log`.
 */
export type HeadBinding =
  { state: "live"; version: number; rotation_count: number } | { state: "erased" } | { state: "log" };

export const bindings = {
  live: (r: { version: number; rotation_count: number }): HeadBinding => ({
    state: "live",
    version: r.version,
    rotation_count: r.rotation_count,
  }),
  erased: { state: "erased" } as HeadBinding,
  log: { state: "log" } as HeadBinding,
};

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

/** Constant-time comparison of two macs written as text. */
export function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function macOf(entry: AuditEntry, key: Buffer): string {
  const { integrity, ...body } = entry;
  const link = { ...integrity!, mac: undefined };
  return createHmac("sha256", key)
    .update("salt-service/audit/v1\0")
    .update(canonical({ ...body, integrity: link }))
    .digest("base64url");
}

function headAuth(chain: string, head: ChainHead, bound: HeadBinding, key: Buffer): string {
  return createHmac("sha256", key)
    .update("salt-service/audit-head/v1\0")
    .update(canonical({ chain, seq: head.seq, mac: head.mac, bound }))
    .digest("base64url");
}

/** The head of `chain` at `head`, authenticated under `key` and bound to `bound`. */
export function sealHead(chain: string, head: ChainHead, bound: HeadBinding, key: AuditKey): SealedHead {
  return {
    seq: head.seq,
    mac: head.mac,
    key_version: key.version,
    auth: headAuth(chain, head, bound, key.bytes),
  };
}

/**
 * Why a stored head does not authenticate as the head of `chain` bound to
 * `bound` (`key`: the bytes of the version it names, null when unavailable), or null.
 */
export function headProblem(
  chain: string,
  head: SealedHead,
  bound: HeadBinding,
  key: Buffer | null,
): string | null {
  if (head.auth === undefined || head.key_version === undefined)
    return "the chain's head is not authenticated";
  if (!key) return `audit key version ${head.key_version} of the chain's head is not available`;
  return sameMac(head.auth, headAuth(chain, head, bound, key))
    ? null
    : "the chain's head was changed, rewound or moved (its authentication does not match)";
}

/** The entry as the next link of `chain` after `head`, and the chain's new head, sealed and bound to `bound`. */
export function linkEntry(
  draft: AuditDraft,
  stamp: { id: string; at: Date },
  chain: string,
  head: ChainHead | null,
  key: AuditKey,
  bound: HeadBinding,
): { entry: AuditEntry; head: SealedHead } {
  const integrity: ChainLink = {
    chain,
    seq: (head?.seq ?? 0) + 1,
    prev: head?.mac ?? null,
    key_version: key.version,
    mac: "",
  };
  const entry: AuditEntry = { ...draft, id: stamp.id, at: stamp.at.toISOString(), integrity };
  integrity.mac = macOf(entry, key.bytes);
  return { entry, head: sealHead(chain, { seq: integrity.seq, mac: integrity.mac }, bound, key) };
}

/**
 * Why `entry` is not genuine on its own (no link, or a mac that does not check
 * under the key version it names: changed, or forged without the key), or null.
 * `key` is that version's bytes, null when it is not available.
 */
export function entryProblem(entry: AuditEntry, key: Buffer | null): string | null {
  const link = entry.integrity;
  if (!link) return "entry carries no chain link (not written by the service, or stripped)";
  if (!key) return `audit key version ${link.key_version} is not available`;
  return sameMac(link.mac, macOf(entry, key)) ? null : "entry was changed (or its link forged)";
}

/** Why `entry` is not the valid successor of `previous` in its chain, or null when it is. */
export function linkProblem(
  entry: AuditEntry,
  previous: ChainHead | null,
  key: Buffer | null,
): string | null {
  const link = entry.integrity;
  if (!link) return "entry carries no chain link (not written by the service, or stripped)";
  const expectedSeq = (previous?.seq ?? 0) + 1;
  if (link.seq !== expectedSeq) {
    return link.seq > expectedSeq
      ? `entries ${expectedSeq}..${link.seq - 1} are missing`
      : `entry ${link.seq} is out of order or repeated`;
  }
  if (link.prev !== (previous?.mac ?? null)) return "does not follow the previous entry";
  const problem = entryProblem(entry, key);
  return problem === "entry was changed (or its link forged)" ? "entry was changed" : problem;
}
