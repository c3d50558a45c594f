import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryState } from "../../functions/adapters/memory/memoryState";
import { composeServices } from "../../functions/app/compose";
import { pepperBytes } from "../../functions/domain/pepper";
import type { Services } from "../../functions/usecases/deps";
import { LocalSecretManager } from "../../scripts/lib/secretManager.mjs";
import { runtimeSecrets, testConfig } from "../support/runtimes";

// A pepper as `openssl rand -base64 48` writes it (64 characters), and the ways the same secret gets stored.
const PEPPER = randomBytes(48).toString("base64");
const SPELLINGS: Record<string, string> = {
  "as typed": PEPPER,
  "with the newline openssl | gcloud leaves": `${PEPPER}\n`,
  "with CRLF": `${PEPPER}\r\n`,
  "with blanks pasted around it": ` \t${PEPPER}  \n\n`,
};

describe("pepper bytes: one rule, whatever the spelling (domain/pepper.ts)", () => {
  it("when the same pepper is stored with or without surrounding whitespace, then its bytes are the same", () => {
    for (const [how, payload] of Object.entries(SPELLINGS)) {
      expect(pepperBytes(Buffer.from(payload)).toString("latin1"), how).toBe(PEPPER);
    }
  });

  it("when the pepper is base64 or hex text, then it is used as text, never decoded", () => {
    const hex = randomBytes(32).toString("hex");
    expect(pepperBytes(Buffer.from(`${hex}\n`)).equals(Buffer.from(hex, "latin1"))).toBe(true);
    expect(pepperBytes(Buffer.from(PEPPER)).length).toBe(64);
  });

  it("when whitespace is inside the pepper, then it is kept (only the ends are trimmed)", () => {
    const phrase = "correct horse battery staple, correct horse";
    expect(pepperBytes(Buffer.from(`${phrase}\n`)).toString("latin1")).toBe(phrase);
  });

  it("when the pepper is binary, non-ASCII, short or blank, then failed-precondition names it, not its value", () => {
    const cases: [Buffer, RegExp][] = [
      [randomBytes(48), /printable ASCII/],
      [Buffer.from(`${"é".repeat(20)}abc`), /printable ASCII/],
      [Buffer.from(`${"a".repeat(20)}\u0000${"a".repeat(20)}`), /printable ASCII/],
      [Buffer.from(`${"x".repeat(31)}\n`), /shorter than 32 bytes/],
      [Buffer.from(" \r\n\t"), /missing or empty/],
      [Buffer.alloc(0), /missing or empty/],
    ];
    for (const [payload, message] of cases) {
      let error: unknown;
      try {
        pepperBytes(payload, "PSEUDONYM_PEPPER");
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: "failed-precondition", message: expect.stringMatching(message) });
      const text = String((error as Error).message);
      expect(text).toMatch(/PSEUDONYM_PEPPER/);
      expect(text).not.toContain(payload.toString("latin1").trim() || "\u0000never");
    }
  });

  it("when a pepper of exactly 32 characters is given, then it is accepted", () => {
    expect(pepperBytes(Buffer.from(`${"k".repeat(32)}\n`)).length).toBe(32);
  });
});

describe("pepper bytes through every loading path: the same pseudonyms", () => {
  const sm = new LocalSecretManager();
  const memory = new MemoryState();
  // One salt store for all: only the pepper's spelling differs between the services below.
  const shared = runtimeSecrets({ key: randomBytes(32).toString("hex") });
  let host: string;
  const record = { email: "alice@example.com", n: 42, ok: true };
  const event = { event_type: "page_view", user_id: "alice", email: "alice@example.com" };

  const projectOf = (i: number) => `demo-pepper-${i}`;
  beforeAll(async () => {
    host = await sm.start();
    // Each spelling is version 1 of PSEUDONYM_PEPPER in its own project, so the pseudonyms name the same version.
    Object.values(SPELLINGS).forEach((payload, i) =>
      sm.addVersion(projectOf(i), "PSEUDONYM_PEPPER", Buffer.from(payload, "utf8")),
    );
  });
  afterAll(() => sm.stop());

  const services = (over: Parameters<typeof testConfig>[0]): Services =>
    composeServices({
      config: testConfig({ backend: "memory", ...over }),
      memoryState: memory,
      secrets: { keys: shared.keys, auditKey: shared.auditKey },
    });

  const pseudonymsOf = async (s: Services) => ({
    user: (await s.pseudonymizer.pseudonymizeUserData("alice", record, ["email", "n", "ok"])).data,
    event: (await s.pseudonymizer.pseudonymizeAnalyticsData(event)).data,
  });

  it("when the pepper is read from Secret Manager (local server, real client) in each spelling, then every pseudonym is the same", async () => {
    const outs = [];
    for (let i = 0; i < Object.keys(SPELLINGS).length; i++) {
      const s = services({
        projectId: projectOf(i),
        secretManagerHost: host,
        pepperSource: "secret-manager",
      });
      expect((await s.pepper.current()).bytes.toString("latin1")).toBe(PEPPER);
      outs.push(await pseudonymsOf(s));
    }
    expect(sm.calls.filter((c) => c.startsWith("access ")).length).toBeGreaterThanOrEqual(outs.length);
    expect(outs[0]!.user.email).toMatch(/^ps1\.u\.1\.1\./);
    for (const out of outs) expect(out).toEqual(outs[0]);
  });

  it("when the pepper is injected by the runtime (PEPPER_SOURCE=runtime) in each spelling, then the pseudonyms are those of Secret Manager", async () => {
    const viaSecretManager = await pseudonymsOf(
      services({ projectId: projectOf(0), secretManagerHost: host, pepperSource: "secret-manager" }),
    );
    const saved = process.env.PSEUDONYM_PEPPER;
    try {
      for (const [how, payload] of Object.entries(SPELLINGS)) {
        process.env.PSEUDONYM_PEPPER = payload;
        const s = services({ pepperSource: "runtime", runtimePepperVersion: "1" });
        expect(s.pepper.description).toMatch(/^runtime:/);
        expect(await pseudonymsOf(s), how).toEqual(viaSecretManager);
      }
    } finally {
      if (saved === undefined) delete process.env.PSEUDONYM_PEPPER;
      else process.env.PSEUDONYM_PEPPER = saved;
    }
  });

  it("when a binary pepper is stored, then the service refuses it rather than pseudonymize with it", async () => {
    sm.addVersion("demo-pepper-binary", "PSEUDONYM_PEPPER", randomBytes(48));
    const s = services({
      projectId: "demo-pepper-binary",
      secretManagerHost: host,
      pepperSource: "secret-manager",
    });
    await expect(s.pseudonymizer.pseudonymizeUserData("alice", record, ["email"])).rejects.toMatchObject({
      code: "failed-precondition",
      message: expect.stringContaining("PSEUDONYM_PEPPER version 1 must be printable ASCII"),
    });
  });
});

describe("audit key bytes: the pepper's rule (adapters/secretManager/validators.ts)", () => {
  it("when AUDIT_KEY is stored with a trailing newline or CRLF, then a chain link made under it verifies under the key as typed", async () => {
    const { auditKeyText } = await import("../../functions/adapters/secretManager/validators");
    const { bindings, linkEntry, linkProblem } = await import("../../functions/domain/auditChain");
    const typed = randomBytes(48).toString("base64");
    const draft = {
      actor: { uid: "u", via: "callable" as const },
      operation: "rotate_user",
      target: { kind: "user" as const, id: "alice" },
      result: "success" as const,
      correlation_id: "c",
    };
    for (const stored of [`${typed}\n`, `${typed}\r\n`, ` ${typed} `]) {
      const bytes = auditKeyText(Buffer.from(stored), "AUDIT_KEY");
      expect(bytes.toString("latin1")).toBe(typed);
      const { entry } = linkEntry(
        draft,
        { id: "e1", at: new Date(0) },
        "log:x",
        null,
        { version: 1, bytes },
        bindings.log,
      );
      expect(linkProblem(entry, null, Buffer.from(typed))).toBeNull();
    }
    expect(() => auditKeyText(Buffer.from("short\n"), "AUDIT_KEY")).toThrow(/AUDIT_KEY is shorter/);
  });
});
