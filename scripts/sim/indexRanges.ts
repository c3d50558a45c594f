import { readFileSync } from "node:fs";
import path from "node:path";
import { MONOTONIC_FIELDS } from "../../functions/adapters/firestore/indexPlan";
import { encodeDocId } from "../../functions/domain/ids";
import type { RecordedWrite } from "./rotationWrites";

/**
 * Where a rotation's writes land in the indexes that hold a monotonically
 * increasing field: each such composite index is split into ranges by the
 * fields before that field. A range led by `shard` is one of INDEX_SHARDS; one
 * led by a per-salt value (the target id, the salt's audit chain) is one per
 * salt; a range led only by constants is one for the whole collection.
 */
export interface RangeFamily {
  /** e.g. `salts_user (shard, next_rotation)`. */
  index: string;
  group: string;
  spread: "shard" | "per-salt" | "none";
}

interface IndexSpec {
  collectionGroup: string;
  fields: { fieldPath: string }[];
}

const ROOT = path.resolve(__dirname, "../..");

const valueAt = (data: Record<string, unknown>, fieldPath: string): unknown =>
  fieldPath.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], data);

/** Every composite index a rotation writes that holds a monotonic field, with how its ranges spread. */
export function rangeFamilies(writes: RecordedWrite[], sampleId: string): RangeFamily[] {
  const spec = JSON.parse(readFileSync(path.join(ROOT, "firestore.indexes.json"), "utf8")) as {
    indexes: IndexSpec[];
  };
  const families: RangeFamily[] = [];
  for (const index of spec.indexes) {
    const monotonic = MONOTONIC_FIELDS[index.collectionGroup] ?? {};
    const at = index.fields.findIndex((f) => f.fieldPath in monotonic);
    const write = writes.find((w) => w.group === index.collectionGroup);
    if (at < 0 || !write) continue;
    const prefix = index.fields.slice(0, at).map((f) => f.fieldPath);
    const names = [sampleId, encodeDocId(sampleId)];
    const perSalt = prefix.some((f) => names.some((n) => String(valueAt(write.data, f)).includes(n)));
    const spread = perSalt ? "per-salt" : prefix.includes("shard") ? "shard" : "none";
    families.push({
      index: `${index.collectionGroup} (${index.fields.map((f) => f.fieldPath).join(", ")})`,
      group: index.collectionGroup,
      spread,
    });
  }
  return families;
}
