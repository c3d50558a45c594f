import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Timestamp } from "firebase-admin/firestore";
import { describe, expect, it } from "vitest";
import { MONOTONIC_FIELDS, SPREADING_FIELDS } from "../../functions/adapters/firestore/indexPlan";
import { auditDocData, saltDocData, versionDocData } from "../../functions/adapters/firestore/schema";
import { outboxDocData, publishedFields } from "../../functions/adapters/firestore/firestoreOutbox";
import { saltChanged } from "../../functions/domain/events";
import { sealSalt } from "../../functions/domain/encryption";
import { planCreate, planRotate } from "../../functions/domain/rotation";
import { DEFAULT_POLICY } from "../../functions/domain/policy";

const root = path.resolve(__dirname, "../..");
const spec = JSON.parse(readFileSync(path.join(root, "firestore.indexes.json"), "utf8")) as {
  indexes: { collectionGroup: string; fields: { fieldPath: string }[] }[];
  fieldOverrides: { collectionGroup: string; fieldPath: string; ttl?: boolean; indexes: unknown[] }[];
};

/** Fields whose value is a Timestamp, at any depth. */
function timestampFields(data: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(data).flatMap(([k, v]) =>
    v instanceof Timestamp
      ? [`${prefix}${k}`]
      : v && typeof v === "object" && !Buffer.isBuffer(v)
        ? timestampFields(v as Record<string, unknown>, `${prefix}${k}.`)
        : [],
  );
}

describe("indexes and the sequential-write limit", () => {
  const now = new Date();
  const key = { version: 1, bytes: Buffer.alloc(32, 1) };
  const created = planCreate("user", "u", now, DEFAULT_POLICY);
  const rotated = planRotate(created.record, now, DEFAULT_POLICY, 30, "r");
  const enc = sealSalt(key, created.salt, { legacy: "aad", bound: "aad" });

  it("when the service writes a timestamp field, then the index plan lists it", () => {
    const written: Record<string, string[]> = {
      salts_user: timestampFields(
        saltDocData(
          created.record,
          { salt: enc, shred: enc, keyVersions: [1], chain: { id: "c", head: null }, shard: 0 },
          now,
        ),
      ),
      salt_versions: timestampFields(versionDocData(rotated.retired, enc, rotated.retiredExpiresAt)),
      salts_audit: timestampFields(
        auditDocData(
          {
            id: "e",
            at: now.toISOString(),
            actor: { uid: "a", via: "cli" },
            operation: "o",
            target: { kind: "user", id: "u" },
            result: "success",
            correlation_id: "c",
          },
          0,
        ),
      ),
    };
    // An event in the outbox, as its change commits it and as the drain marks it published.
    const event = outboxDocData(saltChanged(created.record, now, "c"), now);
    written.salts_events = timestampFields({ ...event, ...publishedFields(now) });
    for (const [collection, fields] of Object.entries(written)) {
      for (const f of fields) expect(MONOTONIC_FIELDS[collection]?.[f], `${collection}.${f}`).toBeDefined();
    }
  });

  it("when a monotonic field is not low-rate, then it has no single-field index", () => {
    const unexempted: string[] = [];
    for (const [collection, fields] of Object.entries(MONOTONIC_FIELDS)) {
      for (const [field, how] of Object.entries(fields)) {
        if (how !== "exempt") continue;
        const override = spec.fieldOverrides.find(
          (o) => o.collectionGroup === collection && o.fieldPath === field,
        );
        if (!override || override.indexes.length > 0) unexempted.push(`${collection}.${field}`);
      }
    }
    expect(unexempted).toEqual([]);
  });

  it("when a composite index holds a monotonic field, then a spreading field comes before it", () => {
    const hot = spec.indexes.filter((i) => {
      const monotonic = Object.keys(MONOTONIC_FIELDS[i.collectionGroup] ?? {});
      const first = i.fields.findIndex((f) => monotonic.includes(f.fieldPath));
      return first >= 0 && !i.fields.slice(0, first).some((f) => SPREADING_FIELDS.includes(f.fieldPath));
    });
    expect(hot.map((i) => `${i.collectionGroup}(${i.fields.map((f) => f.fieldPath).join(",")})`)).toEqual([]);
  });

  it("when query code filters or orders by a monotonic field, then an index led by a spreading field serves it", () => {
    const dir = path.join(root, "functions/adapters/firestore");
    const code = readdirSync(dir)
      .map((f) => readFileSync(path.join(dir, f), "utf8"))
      .join("\n");
    const used = new Set([...code.matchAll(/(?:where|orderBy)\(\s*"([a-z_.]+)"/g)].map((m) => m[1]!));
    const lowRate = Object.values(MONOTONIC_FIELDS).flatMap((f) =>
      Object.entries(f)
        .filter(([, h]) => h !== "exempt")
        .map(([k]) => k),
    );
    const monotonic = new Set(Object.values(MONOTONIC_FIELDS).flatMap((f) => Object.keys(f)));
    const unserved = [...used].filter(
      (field) =>
        monotonic.has(field) &&
        !lowRate.includes(field) &&
        !spec.indexes.some(
          (i) =>
            SPREADING_FIELDS.includes(i.fields[0]!.fieldPath) && i.fields.some((f) => f.fieldPath === field),
        ),
    );
    expect([...used].filter((f) => monotonic.has(f)).length).toBeGreaterThan(0);
    expect(unserved).toEqual([]);
  });

  it("when retired versions, published events, rate-limit windows and request records expire, then a TTL policy deletes them", () => {
    const ttl = spec.fieldOverrides
      .filter((o) => o.ttl === true)
      .map((o) => `${o.collectionGroup}.${o.fieldPath}`);
    expect(ttl.sort()).toEqual([
      "salt_versions.expire_at",
      "salts_audit_once.expire_at",
      "salts_events.expire_at",
      "salts_rate_limits.expire_at",
      "salts_requests.expire_at",
    ]);
  });
});
