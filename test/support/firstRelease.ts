import { Timestamp } from "firebase-admin/firestore";
import { parseEncryptionKey, sealSalt } from "../../functions/domain/encryption";
import { encodeDocId } from "../../functions/domain/ids";
import { saltLocation } from "../../functions/domain/rotation";
import { adminFirestore } from "./firestore";

const DAY = 24 * 60 * 60 * 1000;

/** A user salt document exactly as the first release wrote it: no shard, key versions, chain or shred secret. */
export async function writeFirstReleaseSalt(
  key: string,
  id: string,
  salt: Buffer,
  daysAgo: number,
): Promise<void> {
  const sealed = sealSalt(
    { version: 1, bytes: parseEncryptionKey(key) },
    salt,
    // Sealed with the associated data of that release (no incarnation: the v1 form).
    { legacy: `salt-service/v1|${saltLocation("user", id)}|v1`, bound: null },
  );
  const { key_version: _v, ...enc } = sealed;
  const at = Timestamp.fromMillis(Date.now() - daysAgo * DAY);
  await adminFirestore()
    .collection("salts_user")
    .doc(encodeDocId(id))
    .set({
      kind: "user",
      id,
      version: 1,
      created_at: at,
      last_rotated: at,
      rotation_count: 0,
      next_rotation: Timestamp.fromMillis(at.toMillis() + 90 * DAY),
      previous_salt_hash: null,
      salt_hash: "0123456789abcdef",
      last_rotation_id: null,
      salt: enc,
      updated_at: at,
    });
}
