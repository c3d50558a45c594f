import { bindings } from "../domain/auditChain";
import { idHash } from "../domain/crypto";
import { SALT_KINDS } from "../domain/ids";
import { eachPage } from "../domain/paging";
import { nextRotation } from "../domain/policy";
import { logs } from "../observability/logs";
import type { SweepState } from "../ports/saltStore";
import type { Services } from "./deps";
import type { CheckpointWriter } from "./sweepAudit";

const PAGE = 300;

export interface SaltChecks {
  scanned: number;
  scan_complete: boolean;
  repaired_next_rotation: number;
  rotation_count_mismatch: number;
  previous_hash_mismatch: number;
  undecryptable: number;
  /** Salts whose ciphertexts use each key version. */
  key_versions: Record<string, number>;
  /** Salts written by an earlier release, brought up to this one. */
  upgraded_legacy: number;
}

export const noSaltChecks = (): SaltChecks => ({
  scanned: 0,
  scan_complete: true,
  repaired_next_rotation: 0,
  rotation_count_mismatch: 0,
  previous_hash_mismatch: 0,
  undecryptable: 0,
  key_versions: {},
  upgraded_legacy: 0,
});

/**
 * Every salt once: repairs `next_rotation` that disagrees with the intervals in
 * force (and its jitter); reports `rotation_count != version - 1`, a
 * `previous_salt_hash` that does not match the retired version, and ciphertext
 * that does not decrypt (naming why, never bytes); counts salts per key
 * version; feeds each salt's chain head to the checkpoint.
 */
export async function checkSalts(
  deps: Pick<Services, "salts" | "policy">,
  checkpoint: CheckpointWriter,
  state: SweepState,
  scanLimit: number,
): Promise<SaltChecks> {
  const out = noSaltChecks();
  const policy = deps.policy.current();
  // A pass over every salt may take several sweeps: it goes on from where the last one stopped.
  const startKind = SALT_KINDS.indexOf(state.scan_kind === "global" ? "global" : "user");
  for (const kind of SALT_KINDS.slice(startKind)) {
    const first =
      kind === state.scan_kind && typeof state.scan_cursor === "string" ? state.scan_cursor : null;
    for await (const page of eachPage((cursor) => deps.salts.scan(kind, { limit: PAGE, cursor }), first)) {
      if (out.scanned >= scanLimit) {
        out.scan_complete = false;
        return out;
      }
      Object.assign(state, { scan_kind: kind, scan_cursor: page.nextCursor ?? null });
      for (const salt of page.items) {
        out.scanned++;
        const { record } = salt;
        if (salt.legacy && (await deps.salts.upgradeLegacy(kind, record.id))) out.upgraded_legacy++;
        const flag = (problem: string) =>
          logs.sweep({
            event: "invariant violated",
            problem,
            kind,
            id_hash: idHash(record.id),
            version: record.version,
          });
        const expected = nextRotation(policy, kind, record.last_rotated, record);
        if (expected.getTime() !== record.next_rotation.getTime()) {
          if (await deps.salts.repairNextRotation(kind, record.id, record.version, expected))
            out.repaired_next_rotation++;
        }
        if (record.rotation_count !== record.version - 1) {
          out.rotation_count_mismatch++;
          flag("rotation_count != version - 1");
        }
        const previousOk =
          record.version === 1
            ? record.previous_salt_hash === null
            : salt.retainedPreviousHash === null || salt.retainedPreviousHash === record.previous_salt_hash;
        if (!previousOk) {
          out.previous_hash_mismatch++;
          flag("previous_salt_hash does not match the retired version");
        }
        if (!salt.decrypts) {
          out.undecryptable++;
          flag(`does not decrypt: ${salt.decryptProblem ?? "unknown"}`);
        }
        for (const v of salt.keyVersions) out.key_versions[v] = (out.key_versions[v] ?? 0) + 1;
        if (salt.chain) await checkpoint.add(salt.chain.id, salt.chain.head, bindings.live(record));
      }
    }
    state.scan_cursor = null;
  }
  delete state.scan_kind;
  delete state.scan_cursor;
  return out;
}
