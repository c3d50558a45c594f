import { randomBytes } from "node:crypto";
import { Storage } from "@google-cloud/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryAnchorStore } from "../../functions/adapters/memory/memoryAnchor";
import { RuntimeSecret, SecretManagerSecret } from "../../functions/adapters/secretManager/secretVersions";
import { aesKeyText, auditKeyText } from "../../functions/adapters/secretManager/validators";
import { composeServices } from "../../functions/app/compose";
import { secretManagerClient } from "../../functions/app/firebase";
import { services } from "../../functions/app/instance";
import { encodeDocId } from "../../functions/domain/ids";
import { auditVerify } from "../../functions/usecases/auditVerify";
import type { Services } from "../../functions/usecases/deps";
import { rotateSalt } from "../../functions/usecases/rotateSalt";
import { runSweep } from "../../functions/usecases/sweep";
import { LocalSecretManager } from "../../scripts/lib/secretManager.mjs";
import { clearFirestore, PROJECT_ID } from "../support/firestore";
import { int, mapOf, rest, str, toRest, type RestDoc, type RestValue } from "../support/firestoreRest";
import { call, createUser, localSecrets, type TestUser } from "../support/stack";
import { testConfig } from "../support/runtimes";

type Verify = {
  intact: boolean;
  checked_entries: number;
  breaks: { problem: string; entry_id?: string; target: { kind: string; id: string } }[];
  next_cursor: string | null;
};

// Each function's first call starts its worker (tens of seconds on a loaded machine); a case may meet several.
const SLOW = 300_000;
const uid = (p: string) => `${p}-${randomBytes(4).toString("hex")}`;
const sweepCtx = { correlationId: "tamper-sweep", actor: { uid: "scheduler", via: "scheduler" as const } };
const problems = (v: { breaks: { problem: string }[] }) => v.breaks.map((b) => b.problem).join("\n");

/** Every document of the trail about `id` on its salt's chain, in chain order (as the attacker lists them). */
async function saltEntries(id: string): Promise<(RestDoc & { path: string })[]> {
  const all = await rest.list("salts_audit");
  return all
    .filter(
      (d) =>
        str(mapOf(d.fields.target).id) === id && str(mapOf(d.fields.integrity).chain).startsWith("salt:"),
    )
    .sort((a, b) => int(mapOf(a.fields.integrity).seq) - int(mapOf(b.fields.integrity).seq));
}

/** The finished checkpoints in the database, newest first. */
async function checkpoints(): Promise<(RestDoc & { path: string })[]> {
  return (await rest.list("salts_audit_checkpoints"))
    .filter((d) => /\/ckpt_\d{10}$/.test(d.path))
    .sort((a, b) => (a.path < b.path ? 1 : -1));
}

describe("the audit trail against a database writer (Firestore REST, functions over HTTP, the sweep)", () => {
  let admin: TestUser;
  let auditor: TestUser;
  let id: string;
  const saltPath = () => `salts_user/${encodeDocId(id)}`;

  const verify = async (target?: string): Promise<Verify> => {
    const out: Verify = { intact: true, checked_entries: 0, breaks: [], next_cursor: null };
    let cursor: string | undefined;
    do {
      const r = await call<Verify>(
        "auditVerify",
        { ...(target ? { target_id: target } : {}), limit: 10_000, ...(cursor ? { cursor } : {}) },
        { token: auditor.token },
      );
      expect(r.error, r.raw).toBeUndefined();
      out.intact &&= r.result!.intact;
      out.checked_entries += r.result!.checked_entries;
      out.breaks.push(...r.result!.breaks);
      cursor = r.result!.next_cursor ?? undefined;
    } while (cursor);
    return out;
  };
  const sweep = () => runSweep(services(), sweepCtx);
  /** Both verifications and the sweep report a break matching `problem`; the sweep counts it. */
  const reported = async (problem: RegExp, target?: string) => {
    const all = await verify();
    expect(all.intact).toBe(false);
    expect(problems(all)).toMatch(problem);
    if (target) expect(problems(await verify(target))).toMatch(problem);
    expect((await sweep()).audit_breaks).toBeGreaterThanOrEqual(1);
  };
  const intact = async () => {
    expect(await verify()).toMatchObject({ intact: true, breaks: [] });
    expect(await verify(id)).toMatchObject({ intact: true, breaks: [] });
  };

  beforeAll(async () => {
    await clearFirestore();
    [admin, auditor] = await Promise.all([
      createUser({ admin: true }, "admin"),
      createUser({ auditor: true }, "auditor"),
    ]);
    id = uid("chain");
    expect(
      (await call("rotateUser", { user_id: id, force: true }, { token: admin.token })).error,
    ).toBeUndefined();
    for (let i = 0; i < 4; i++) {
      const r = await call(
        "rotateUser",
        { user_id: id, force: true, reason: `r${i}` },
        { token: admin.token },
      );
      expect(r.error).toBeUndefined();
    }
    await call("rotateGlobal", { event_type: "tamper_view", force: true }, { token: admin.token });
    expect((await sweep()).checkpoint?.seq).toBe(1);
  }, SLOW);

  it(
    "when nothing was touched, then auditVerify (per target and over everything) and the sweep find it intact, and the checkpoint is anchored",
    async () => {
      const all = await verify();
      expect(all).toMatchObject({ intact: true, breaks: [] });
      expect(all.checked_entries).toBeGreaterThanOrEqual(7);
      expect((await verify(id)).checked_entries).toBeGreaterThanOrEqual(5);
      const report = await sweep();
      expect(report.audit_breaks).toBe(0);
      expect(report.checkpoint?.seq).toBe(2);
      // The anchor: a write-once object in the retention-locked bucket, whose content is the checkpoint itself.
      const bucket = new Storage().bucket(process.env.AUDIT_ANCHOR_BUCKET!);
      const [files] = await bucket.getFiles({
        prefix: "audit-checkpoints/",
        maxResults: 1,
        autoPaginate: false,
      });
      const anchored = JSON.parse((await files[0]!.download())[0].toString("utf8"));
      const newest = (await checkpoints())[0]!;
      expect(anchored).toMatchObject({
        seq: 2,
        digest: report.checkpoint!.digest,
        mac: str(newest.fields.mac),
      });
      // Nobody rewrites it, whatever their role on the database: Cloud Storage itself refuses.
      await expect(files[0]!.save("{}", { resumable: false })).rejects.toMatchObject({ code: 403 });
      await expect(files[0]!.delete()).rejects.toMatchObject({ code: 403 });
      await expect(
        files[0]!.save("{}", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
      ).rejects.toMatchObject({ code: 412 });
    },
    SLOW,
  );

  it(
    "when an entry without a link is forged, then both report it, and auditLog and audit show it unverified",
    async () => {
      const forged = `forged-${randomBytes(6).toString("hex")}`;
      await rest.put(`salts_audit/${forged}`, {
        id: toRest(forged),
        at: toRest(new Date()),
        actor: toRest({ uid: admin.uid, via: "callable" }),
        operation: toRest("erase"),
        target: toRest({ kind: "user", id }),
        result: toRest("success"),
        correlation_id: toRest("nothing-to-see"),
        shard: toRest(0),
      });
      try {
        await reported(/entry carries no chain link/, id);
        const log = await call<{ entries: { id: string; verified: boolean }[] }>(
          "auditLog",
          { target_id: id, limit: 100 },
          { token: auditor.token },
        );
        const listed = log.result!.entries;
        expect(listed.find((e) => e.id === forged)?.verified).toBe(false);
        expect(listed.filter((e) => e.id !== forged).every((e) => e.verified)).toBe(true);
        const audit = await call<{ audit: { id: string; verified: boolean }[] }>(
          "audit",
          { user_id: id },
          { token: auditor.token },
        );
        expect(audit.result!.audit.find((e) => e.id === forged)?.verified).toBe(false);
      } finally {
        await rest.delete(`salts_audit/${forged}`);
      }
      await intact();
    },
    SLOW,
  );

  it(
    "when a link is forged (a copy under a new id, or a new last entry with a made-up mac), then both report it",
    async () => {
      const entries = await saltEntries(id);
      const copy = `copy-${randomBytes(6).toString("hex")}`;
      await rest.put(`salts_audit/${copy}`, { ...entries[2]!.fields, operation: toRest("erase") });
      try {
        await reported(/entry was changed|out of order or repeated/, id);
      } finally {
        await rest.delete(`salts_audit/${copy}`);
      }
      const last = mapOf(entries.at(-1)!.fields.integrity);
      const appended = `appended-${randomBytes(6).toString("hex")}`;
      await rest.put(`salts_audit/${appended}`, {
        ...entries.at(-1)!.fields,
        id: toRest(appended),
        integrity: toRest({
          chain: str(last.chain),
          seq: int(last.seq) + 1,
          prev: str(last.mac),
          key_version: int(last.key_version),
          mac: randomBytes(32).toString("base64url"),
        }),
      });
      try {
        await reported(/entry was changed/, id);
        expect(problems(await verify(id))).toMatch(/recorded head \(entry 5\) is not its last entry \(6\)/);
      } finally {
        await rest.delete(`salts_audit/${appended}`);
      }
      await intact();
    },
    SLOW,
  );

  it(
    "when an entry in the middle is deleted, then both report the gap",
    async () => {
      const entries = await saltEntries(id);
      await rest.delete(entries[2]!.path);
      try {
        await reported(/entries 3\.\.3 are missing/, id);
      } finally {
        await rest.put(entries[2]!.path, entries[2]!.fields);
      }
      await intact();
    },
    SLOW,
  );

  it(
    "when the tail is deleted and the head rewound to the entry before, then the head does not authenticate",
    async () => {
      const entries = await saltEntries(id);
      const salt = (await rest.get(saltPath()))!;
      const chain = mapOf(salt.fields.chain);
      const head = mapOf(chain.head);
      const before = mapOf(entries.at(-2)!.fields.integrity);
      await rest.delete(entries.at(-1)!.path);
      const rewind = async (fields: Record<string, RestValue>) =>
        rest.patch(
          saltPath(),
          { chain: { mapValue: { fields: { ...chain, head: { mapValue: { fields } } } } } },
          ["chain"],
        );
      try {
        // The plain {seq, mac} of the entry before, as heads were kept until now.
        await rewind({ seq: before.seq!, mac: before.mac! });
        await reported(/the chain's head is not authenticated/, id);
        // Or with the authentication it had, which was made for the entry now deleted.
        await rewind({ ...head, seq: before.seq!, mac: before.mac! });
        await reported(/head was changed, rewound or moved/, id);
        // The previous checkpoint recorded entry 5: the sweep also finds the chain cut back below it.
        expect((await runSweep(services(), sweepCtx)).audit_breaks).toBeGreaterThanOrEqual(2);
      } finally {
        await rest.put(entries.at(-1)!.path, entries.at(-1)!.fields);
        await rewind(head);
      }
      await intact();
    },
    SLOW,
  );

  it(
    "when two entries are swapped, then both report it",
    async () => {
      const entries = await saltEntries(id);
      const [a, b] = [entries[1]!, entries[3]!];
      await rest.put(a.path, b.fields);
      await rest.put(b.path, a.fields);
      try {
        const out = await verify(id);
        expect(out.breaks.length).toBeGreaterThanOrEqual(2);
        await reported(/entry was changed|out of order|does not follow/, id);
      } finally {
        await rest.put(a.path, a.fields);
        await rest.put(b.path, b.fields);
      }
      await intact();
    },
    SLOW,
  );

  it(
    "when a page of the newest checkpoint is edited or deleted, then both report it",
    async () => {
      const newest = (await checkpoints())[0]!;
      const pagePath = `${newest.path}/pages/0`;
      const page = (await rest.get(pagePath))!;
      const heads = (page.fields.heads as { arrayValue: { values: RestValue[] } }).arrayValue.values;
      const first = mapOf(heads[0]);
      const edited = [{ mapValue: { fields: { ...first, mac: toRest("rewritten") } } }, ...heads.slice(1)];
      await rest.patch(pagePath, { heads: { arrayValue: { values: edited } } }, ["heads"]);
      try {
        await reported(/page 0 was changed/);
      } finally {
        await rest.put(pagePath, page.fields);
      }
      const next = (await checkpoints())[0]!;
      const nextPage = `${next.path}/pages/0`;
      const saved = (await rest.get(nextPage))!;
      await rest.delete(nextPage);
      try {
        await reported(/page 0 of checkpoint ckpt_\d+ is missing \(removed\)/);
      } finally {
        await rest.put(nextPage, saved.fields);
      }
      await intact();
    },
    SLOW,
  );

  it(
    "when the newest checkpoint is deleted, or every checkpoint, then the anchor outside the database finds it",
    async () => {
      const all = await checkpoints();
      const withPages = await Promise.all(
        all.map(async (c) => ({ c, pages: await rest.list(`${c.path}/pages`) })),
      );
      const remove = async (items: typeof withPages) => {
        for (const { c, pages } of items) {
          for (const p of pages) await rest.delete(p.path);
          await rest.delete(c.path);
        }
      };
      const restore = async (items: typeof withPages) => {
        for (const { c, pages } of items) {
          for (const p of pages) await rest.put(p.path, p.fields);
          await rest.put(c.path, c.fields);
        }
      };
      const seq = int(all[0]!.fields.seq);
      await remove(withPages.slice(0, 1));
      try {
        await reported(
          new RegExp(`checkpoint ${seq} is anchored in gs://.* but missing from the database \\(deleted\\)`),
        );
      } finally {
        await restore(withPages.slice(0, 1));
      }
      const everything = await Promise.all(
        (await checkpoints()).map(async (c) => ({ c, pages: await rest.list(`${c.path}/pages`) })),
      );
      await remove(everything);
      try {
        await reported(/is anchored in gs:\/\/.* but missing from the database \(deleted\)/);
      } finally {
        await restore(everything);
      }
      await intact();
    },
    SLOW,
  );

  it(
    "when a checkpoint in the middle of the ledger is deleted or edited, then the ledger names it",
    async () => {
      const all = await checkpoints();
      expect(all.length).toBeGreaterThanOrEqual(3);
      const middle = all[1]!;
      const seq = int(middle.fields.seq);
      await rest.delete(middle.path);
      try {
        await reported(new RegExp(`checkpoint ${seq} is missing \\(removed\\)`));
      } finally {
        await rest.put(middle.path, middle.fields);
      }
      await rest.patch(middle.path, { chains: toRest(int(middle.fields.chains) + 1) }, ["chains"]);
      try {
        await reported(/is not one the sweep wrote \(bad mac\)/);
      } finally {
        await rest.put(middle.path, middle.fields);
      }
      await intact();
    },
    SLOW,
  );

  describe("erasure against a restored copy", () => {
    let erased: string;
    let copies: (RestDoc & { path: string })[];
    let before: string;

    beforeAll(async () => {
      erased = uid("erased");
      await call("rotateUser", { user_id: erased, force: true }, { token: admin.token });
      await call("rotateUser", { user_id: erased, force: true }, { token: admin.token });
      // A pseudonym made before the erasure, by an instance of its own (nothing cached anywhere else).
      const rt = composeServices();
      before = (await rt.pseudonymizer.pseudonymizeUserData(erased, { email: "e@x.io" }, ["email"])).data
        .email;
      const path = `salts_user/${encodeDocId(erased)}`;
      // The database writer keeps a copy of the salt and its retained versions...
      copies = [{ ...(await rest.get(path))!, path }, ...(await rest.list(`${path}/salt_versions`))];
      const out = await call("erase", { user_id: erased, reason: "gdpr" }, { token: admin.token });
      expect(out.error).toBeUndefined();
      // ...and puts it back after the erasure.
      for (const c of copies) await rest.put(c.path, c.fields);
    }, SLOW);

    it(
      "when a copy of a salt taken before its erasure is put back, then it is refused and its pseudonyms do not come back",
      async () => {
        const http = await call<{ pseudonymized: { email: string } }>(
          "pseudonymizeTest",
          { user_id: erased, data: { email: "e@x.io" } },
          { token: admin.token },
        );
        expect(http.result?.pseudonymized.email).toBeUndefined();
        expect(http.error?.status).toBe("INTERNAL");
        const rt = composeServices();
        await expect(
          rt.pseudonymizer.pseudonymizeUserData(erased, { email: "e@x.io" }, ["email"]),
        ).rejects.toThrow(/erased incarnation/);
        const verified = await rt.pseudonymizer
          .verifyPseudonym("e@x.io", before, { kind: "user", userId: erased, field: "email" })
          .catch(() => false);
        expect(verified).toBe(false);
        // The trail says so too: the salt's chain goes on past the head the copy carries (the erasure).
        expect(problems(await verify(erased))).toMatch(
          /recorded head \(entry 2\) is not its last entry \(3\)/,
        );
        const report = await sweep();
        expect(report.undecryptable).toBeGreaterThanOrEqual(1);
        expect(report.audit_breaks).toBeGreaterThanOrEqual(1);
      },
      SLOW,
    );
  });
});

describe("AUDIT_KEY rotation (Secret Manager versions; Firestore emulator)", () => {
  const sm = new LocalSecretManager();
  let host: string;
  const ctx = { correlationId: "audit-key", actor: { uid: "ops", via: "cli" as const } };
  const anchor = new MemoryAnchorStore();

  /** An instance resolving AUDIT_KEY's `latest` when it starts, as deployed. */
  const instance = (): Services =>
    composeServices({
      config: testConfig(),
      anchor,
      secrets: {
        auditKey: new SecretManagerSecret(secretManagerClient(host), PROJECT_ID, "AUDIT_KEY", {
          validate: auditKeyText,
        }),
        keys: new RuntimeSecret(
          "SALT_ENCRYPTION_KEY",
          () => localSecrets().SALT_ENCRYPTION_KEY!,
          1,
          aesKeyText,
        ),
        pepper: new RuntimeSecret("PSEUDONYM_PEPPER", () => "p".repeat(48), 1, auditKeyText),
      },
      inProcessTasks: true,
    });

  beforeAll(async () => {
    await clearFirestore();
    host = await sm.start();
    sm.addVersion(PROJECT_ID, "AUDIT_KEY", randomBytes(48).toString("base64url"));
  }, SLOW);
  afterAll(async () => {
    await sm.stop();
    await clearFirestore();
  });

  it(
    "when AUDIT_KEY v2 becomes current, then checkpoints and entries made under v1 still verify and the ledger goes on under v2",
    async () => {
      const v1 = instance();
      await rotateSalt(v1, ctx, "user", "keyed-user", { force: true });
      await rotateSalt(v1, ctx, "user", "keyed-user", { force: true });
      expect((await runSweep(v1, sweepCtx)).checkpoint?.seq).toBe(1);

      sm.addVersion(PROJECT_ID, "AUDIT_KEY", randomBytes(48).toString("base64url"));
      const v2 = instance();
      await rotateSalt(v2, ctx, "user", "keyed-user", { force: true });
      const report = await runSweep(v2, sweepCtx);
      expect(report.audit_breaks).toBe(0);
      expect(report.checkpoint_heads_verified).toBeGreaterThanOrEqual(1);
      expect(report.checkpoint?.seq).toBe(2);
      const stored = await checkpoints();
      expect(stored.map((c) => int(c.fields.key_version))).toEqual([2, 1]);
      const links = (await saltEntries("keyed-user")).map((d) => int(mapOf(d.fields.integrity).key_version));
      expect(links).toEqual([1, 1, 2]);
      expect(await auditVerify(v2, { limit: 1000 })).toMatchObject({ intact: true, breaks: [] });
      expect([...anchor.objects.keys()]).toEqual([1, 2]);
    },
    SLOW,
  );
});
