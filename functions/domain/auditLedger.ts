import { createHash, createHmac } from "node:crypto";
import { canonical, sameMac, type AuditKey } from "./auditChain";

/**
 * The ledger of checkpoints: the integrity sweep's record of every chain head,
 * itself a chain. Checkpoint n commits to checkpoint n - 1 (`prev`, its mac);
 * each page of heads commits to the page before it (`prev_digest`) and is MACed,
 * so a checkpoint or a page removed, edited, reordered or added by someone
 * without the audit key is found. The newest checkpoint is also anchored outside
 * the database (see ports/anchorStore).
 */

/** One chain head as a checkpoint records it. */
export interface CheckpointHead {
  chain: string;
  seq: number;
  mac: string;
}

/** Page `n` of a checkpoint: heads in the order they were written. */
export interface CheckpointPage {
  n: number;
  heads: CheckpointHead[];
  /** The digest after the page before (empty for page 0). */
  prev_digest: string;
  /** SHA-256 over `prev_digest` and this page's heads: the running digest. */
  digest: string;
  key_version: number;
  mac: string;
}

/** A finished checkpoint. */
export interface CheckpointSummary {
  id: string;
  /** 1, 2, 3, ...: a gap is a removed checkpoint. */
  seq: number;
  /** The mac of checkpoint seq - 1 (null for the first). */
  prev: string | null;
  at: Date;
  chains: number;
  pages: number;
  /** The last page's running digest: what the log line and the anchor carry. */
  digest: string;
  key_version: number;
  mac: string;
}

/** The document id of checkpoint `seq`: ids sort in sequence order. */
export const checkpointId = (seq: number): string => `ckpt_${String(seq).padStart(10, "0")}`;
export const CHECKPOINT_ID = /^ckpt_[0-9]{10}$/;

/** The running digest after a page of heads: one line per head, chained on the digest before. */
export function pageDigest(prevDigest: string, heads: CheckpointHead[]): string {
  const lines = heads.map((h) => `${h.chain}\t${h.seq}\t${h.mac}\n`).join("");
  return createHash("sha256").update(prevDigest).update(lines).digest("hex");
}

function pageMac(id: string, n: number, prevDigest: string, digest: string, key: Buffer): string {
  return createHmac("sha256", key)
    .update(`salt-service/checkpoint-page/v2\0${id}\0${n}\0${prevDigest}\0${digest}`)
    .digest("base64url");
}

export function sealPage(
  id: string,
  n: number,
  heads: CheckpointHead[],
  prevDigest: string,
  key: AuditKey,
): CheckpointPage {
  const digest = pageDigest(prevDigest, heads);
  return {
    n,
    heads,
    prev_digest: prevDigest,
    digest,
    key_version: key.version,
    mac: pageMac(id, n, prevDigest, digest, key.bytes),
  };
}

/**
 * Why page `n` of checkpoint `id` is not the one the sweep wrote after a page whose
 * digest is `expectedPrev` (`key`: the bytes of the version it names), or null.
 */
export function pageProblem(
  id: string,
  n: number,
  page: CheckpointPage,
  expectedPrev: string,
  key: Buffer | null,
): string | null {
  if (!key) return `audit key version ${page.key_version} of page ${n} is not available`;
  if (page.n !== n) return `page ${n} holds page ${page.n}`;
  if (page.digest !== pageDigest(page.prev_digest, page.heads)) return `page ${n} was changed`;
  if (!sameMac(page.mac, pageMac(id, n, page.prev_digest, page.digest, key))) return `page ${n} was changed`;
  if (page.prev_digest !== expectedPrev) return `page ${n} does not follow page ${n - 1}`;
  return null;
}

function summaryMac(s: Omit<CheckpointSummary, "mac">, key: Buffer): string {
  const body = { ...s, at: s.at.toISOString() };
  return createHmac("sha256", key)
    .update("salt-service/checkpoint/v2\0")
    .update(canonical(body))
    .digest("base64url");
}

export function sealSummary(
  s: Omit<CheckpointSummary, "mac" | "key_version">,
  key: AuditKey,
): CheckpointSummary {
  const body = { ...s, key_version: key.version };
  return { ...body, mac: summaryMac(body, key.bytes) };
}

/** Why a checkpoint is not one the sweep wrote (or is dated after `now`), or null. */
export function summaryProblem(s: CheckpointSummary, key: Buffer | null, now: Date): string | null {
  if (!key) return `audit key version ${s.key_version} of checkpoint ${s.seq} is not available`;
  const { mac, ...body } = s;
  if (s.id !== checkpointId(s.seq) || !sameMac(mac, summaryMac(body, key)))
    return `checkpoint ${s.id} is not one the sweep wrote (bad mac)`;
  if (s.at.getTime() > now.getTime()) return `checkpoint ${s.id} is dated in the future`;
  return null;
}

/** Why `newer` does not directly follow `older` in the ledger, or null. */
export function ledgerLinkProblem(newer: CheckpointSummary, older: CheckpointSummary): string | null {
  if (newer.seq > older.seq + 1) {
    const missing =
      newer.seq - 1 === older.seq + 1 ? `${older.seq + 1}` : `${older.seq + 1}..${newer.seq - 1}`;
    return `checkpoint ${missing} is missing (removed)`;
  }
  if (newer.seq !== older.seq + 1 || newer.prev !== older.mac)
    return `checkpoint ${newer.seq} does not follow checkpoint ${older.seq}`;
  return null;
}
