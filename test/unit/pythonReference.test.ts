import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { composeServices } from "../../functions/app/compose";
import { MemorySaltStore } from "../../functions/adapters/memory/memorySaltStore";
import { RuntimeSecret } from "../../functions/adapters/secretManager/secretVersions";
import { aesKeyText, auditKeyText, pepperText } from "../../functions/adapters/secretManager/validators";
import { saltIdProblem, type SaltKind } from "../../functions/domain/ids";
import { Pseudonymizer } from "../../functions/engine/pseudonymizer";
import { SaltCache } from "../../functions/engine/saltCache";
import { putScope, rotateScope } from "../../functions/usecases/scopes";
import { testConfig } from "../support/runtimes";
import { makeDeps } from "../support/testDeps";
import { readVectors, ROOT, valueOf, VECTORS_FILE, type VectorValue } from "../support/vectors";

/**
 * docs/reference/pseudonym.py, the Python reference written from docs/CRYPTO.md, against the pinned
 * vectors and against random cases the library makes in this run. python3 is on every machine this
 * project tests on: without it these tests fail, saying why, rather than skip.
 */
const REFERENCE = path.join(ROOT, "docs/reference/pseudonym.py");

function python(args: string[], input?: string, interpreter = process.env.PYTHON ?? "python3") {
  const r: SpawnSyncReturns<string> = spawnSync(interpreter, [REFERENCE, ...args], {
    input,
    encoding: "utf8",
    maxBuffer: 64 << 20,
    timeout: 120_000,
  });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    const message =
      `${interpreter} is not installed: the Python reference implementation (docs/reference/pseudonym.py) ` +
      "cannot be checked against the library. Install python3 (3.8 or later) or set PYTHON to one; " +
      "this test fails rather than skip.";
    console.error(`\n*** ${message} ***\n`);
    throw new Error(message);
  }
  if (r.error) throw r.error;
  return r;
}

// ---- Random inputs, the kinds docs/CRYPTO.md names: non-ASCII strings, doubles of every size, booleans. ----

const pick = <T>(xs: readonly T[]): T => xs[randomInt(xs.length)]!;
const chance = (p: number) => Math.random() < p;
const RANGES: [number, number][] = [
  [0x20, 0x7e], // ASCII
  [0x00, 0x1f], // controls, NUL included
  [0xa0, 0x24f], // Latin-1, Latin extended
  [0x300, 0x36f], // combining marks
  [0x370, 0x4ff], // Greek, Cyrillic
  [0x4e00, 0x9fff], // CJK
  [0xac00, 0xd7a3], // Hangul
  [0xe000, 0xfffd], // private use, specials
  [0x1f300, 0x1faff], // emoji (astral)
  [0x10000, 0x10ffff], // any astral code point
];
function randomString(): string {
  const units = chance(0.05) ? 1025 + randomInt(2000) : chance(0.3) ? randomInt(200) : randomInt(20);
  let s = "";
  while (s.length < units) {
    const [lo, hi] = pick(RANGES);
    s += String.fromCodePoint(lo + randomInt(hi - lo + 1));
  }
  return s;
}

const bitsDouble = (): number => {
  for (;;) {
    const x = randomBytes(8).readDoubleBE(0);
    if (Number.isFinite(x)) return x;
  }
};
const sign = () => (chance(0.5) ? -1 : 1);
const NUMBERS: (() => number)[] = [
  bitsDouble,
  () => sign() * randomInt(2 ** 48 - 1),
  () => sign() * (2 ** 53 + randomInt(2 ** 40)) * 2 ** randomInt(12), // integers above 2^53
  () => sign() * Math.random() * 10 ** -(6 + randomInt(318)), // tiny, subnormals included
  () => sign() * Math.random() * 10 ** (20 + randomInt(289)), // huge
  () => sign() * (randomInt(1_000_000) / 100),
  () => sign() * Math.random() * 10 ** (randomInt(44) - 22), // around the 1e21 and 1e-7 switches
  () => pick([0, -0, 1e21, 1e-7, 1e-6, 5e-324, Number.MAX_VALUE, 2 ** 53, -(2 ** 53), 0.1, 100]),
];

function randomValue(): string | number | boolean {
  const r = Math.random();
  return r < 0.45 ? randomString() : r < 0.9 ? pick(NUMBERS)() : chance(0.5);
}

/** How the vectors file and the reference write a value: numbers as a decimal literal of the exact double. */
function asCase(value: string | number | boolean): VectorValue {
  if (typeof value === "number") {
    return { type: "number", value: Object.is(value, -0) ? "-0" : value.toPrecision(17) };
  }
  return typeof value === "string" ? { type: "string", value } : { type: "boolean", value };
}

const randomPepperPayload = (): string => {
  const text = pick([
    () => randomBytes(48).toString("base64"),
    () => randomBytes(24 + randomInt(48)).toString("base64url"),
    () => randomBytes(32).toString("hex"),
    () => `pass phrase ${randomBytes(24).toString("hex")} with spaces`,
  ])();
  return pick(["", " ", "\t", "\n\n"]) + text + pick(["", "\n", "\r\n", "  \n", "\x0b\x0c"]);
};
/** A valid user id (docs/API.md): plain, numeric, or with non-ASCII from the random strings. */
function randomUserId(): string {
  for (;;) {
    const id = pick([
      () => `u-${randomInt(1e6)}`,
      () => String(randomInt(1e9)),
      () => `Zoë-${randomString().slice(0, 8)}`,
    ])();
    if (saltIdProblem("user", id) === null) return id;
  }
}
const FIELDS = ["value", "email", "device_id", "ip_address", "naïve_field", "名前", "f".repeat(300)];

interface Case {
  pepper: string;
  salt: string;
  shred: string | null;
  kind: "u" | "g";
  scope: string;
  field: string;
  salt_version: number;
  pepper_version: number;
  value: VectorValue;
  scoped?: { scope_id: string; scope_version: number; secret: string };
  expected: string;
}

/** `n` cases through the Pseudonymizer itself: salts read back from its cache, peppers as stored text. */
async function libraryCases(n: number): Promise<Case[]> {
  const { deps } = makeDeps();
  const store = new MemorySaltStore(deps);
  const cache = new SaltCache(store, { ttlMs: 3_600_000 });
  const users = Array.from({ length: 30 }, randomUserId);
  const eventTypes = ["page_view", "signup", "purchase.done", "a-b_c"];
  const audit = {
    actor: { uid: "test", via: "cli" as const },
    operation: "rotate_user",
    correlation_id: "c",
  };
  const saltOf = (kind: SaltKind, id: string) => cache.peek(kind, id)!;
  const cases: Case[] = [];
  for (let round = 0; cases.length < n; round++) {
    // A new pepper (text, stored with or without blanks around it, any version) and some salts rotated.
    const payload = randomPepperPayload();
    const version = 1 + randomInt(9999);
    const p = new Pseudonymizer(
      cache,
      new RuntimeSecret("PSEUDONYM_PEPPER", () => payload, version, pepperText),
    );
    for (const [kind, id] of [
      ["user", pick(users)],
      ["global", pick(eventTypes)],
    ] as const) {
      if (round > 0 && (await store.get(kind, id))) {
        await store.rotate(kind, id, { rotationId: `r-${round}-${id}`, audit });
        cache.invalidate(kind, id);
      }
    }
    for (let i = 0; i < 100 && cases.length < n; i++) {
      const field = pick(FIELDS);
      const value = randomValue();
      const common = { pepper: payload, pepper_version: version, field, value: asCase(value) };
      if (chance(0.4)) {
        const userId = pick(users);
        const out = await p.pseudonymizeUserData(userId, { [field]: value }, [field]);
        const loaded = saltOf("user", userId);
        expect(loaded.record.version).toBe(out.saltVersion);
        cases.push({
          ...common,
          kind: "u",
          scope: "",
          salt: loaded.salt.toString("hex"),
          salt_version: out.saltVersion,
          shred: null,
          expected: String(out.data[field]),
        });
        continue;
      }
      const eventType = pick(eventTypes);
      // Bound: the event names its subject by a string id or by a number; sometimes the field is user_id itself.
      const bound = chance(0.6);
      const numeric = bound && chance(0.25) ? pick(NUMBERS)() : null;
      const subject = numeric !== null ? String(numeric) : bound ? pick(users) : null;
      const event: Record<string, unknown> = { event_type: eventType };
      let f = field;
      let v: unknown = value;
      if (bound && chance(0.3)) {
        f = "user_id";
        v = numeric ?? subject;
      } else if (bound) event.user_id = numeric ?? subject;
      event[f] = v;
      const out = await p.pseudonymizeAnalyticsData(event as { event_type: string; [k: string]: unknown }, [
        f,
      ]);
      const loaded = saltOf("global", eventType);
      expect(loaded.record.version).toBe(out.saltVersion);
      cases.push({
        ...common,
        field: f,
        value: asCase(v as string | number | boolean),
        kind: "g",
        scope: eventType,
        salt: loaded.salt.toString("hex"),
        salt_version: out.saltVersion,
        shred: subject === null ? null : saltOf("user", subject).shred!.toString("hex"),
        expected: String(out.data[f]),
      });
    }
  }
  return cases;
}

/**
 * `n` scoped cases through the service's own scoped pseudonymizer (memory backend): a few scopes, some
 * rotated, user and event pseudonyms, bound and unbound; secrets and salts read back from the caches.
 */
async function scopedLibraryCases(n: number): Promise<Case[]> {
  const cases: Case[] = [];
  const ctx = { correlationId: "python-reference", actor: { uid: "ops", via: "cli" as const } };
  const scopeIds = ["partner-a", "dataset_1", "12", "u", pick(["x", "a-b_c"]) + String(randomInt(1000))];
  for (let round = 0; cases.length < n; round++) {
    const payload = randomPepperPayload();
    const version = 1 + randomInt(9999);
    const key = randomBytes(32).toString("hex");
    const rt = composeServices({
      config: testConfig({ backend: "memory" }),
      secrets: {
        keys: new RuntimeSecret("SALT_ENCRYPTION_KEY", () => key, 1, aesKeyText),
        pepper: new RuntimeSecret("PSEUDONYM_PEPPER", () => payload, version, pepperText),
        auditKey: new RuntimeSecret("AUDIT_KEY", () => "a".repeat(48), 1, auditKeyText),
      },
    });
    for (const scope_id of scopeIds) {
      await putScope(rt, ctx, {
        scope_id,
        description: "",
        rotation_days: 30,
        consumers: ["c"],
        reason: "test",
      });
      // Some scopes at a later version: the version is in the HMAC input and in the pseudonym.
      for (let r = randomInt(3); r > 0; r--) await rotateScope(rt, ctx, { scope_id, reason: "test" });
    }
    const users = Array.from({ length: 10 }, randomUserId);
    for (let i = 0; i < 200 && cases.length < n; i++) {
      const scope = pick(scopeIds);
      const field = pick(FIELDS);
      const value = randomValue();
      let c: Omit<Case, "scoped" | "pepper" | "pepper_version">;
      let got: { data: Record<string, unknown>; scope?: { id: string; version: number } };
      if (chance(0.4)) {
        const userId = pick(users);
        got = await rt.scoped.pseudonymizeUserData(userId, { [field]: value }, [field], { scope });
        const loaded = rt.cache.peek("user", userId)!;
        c = {
          kind: "u",
          scope: "",
          field,
          value: asCase(value),
          salt: loaded.salt.toString("hex"),
          salt_version: loaded.record.version,
          shred: null,
          expected: String(got.data[field]),
        };
      } else {
        const eventType = pick(["page_view", "signup", "purchase.done"]);
        const subject = chance(0.6) ? pick(users) : null;
        const f = subject !== null && chance(0.3) ? "user_id" : field;
        const v = f === "user_id" ? subject! : value;
        const event: { event_type: string; [k: string]: unknown } = { event_type: eventType, [f]: v };
        if (subject !== null) event.user_id = subject;
        got = await rt.scoped.pseudonymizeAnalyticsData(event, [f], { scope });
        const loaded = rt.cache.peek("global", eventType)!;
        c = {
          kind: "g",
          scope: eventType,
          field: f,
          value: asCase(v),
          salt: loaded.salt.toString("hex"),
          salt_version: loaded.record.version,
          shred: subject === null ? null : rt.cache.peek("user", subject)!.shred!.toString("hex"),
          expected: String(got.data[f]),
        };
      }
      const current = rt.scopeCache.peek(scope)!;
      expect(got.scope).toEqual({ id: scope, version: current.record.version });
      cases.push({
        ...c,
        pepper: payload,
        pepper_version: version,
        scoped: {
          scope_id: scope,
          scope_version: current.record.version,
          secret: current.secret.toString("hex"),
        },
      });
    }
  }
  return cases;
}

function runCases(cases: Case[]) {
  const input = cases.map(({ expected: _, ...c }) => JSON.stringify(c)).join("\n") + "\n";
  const r = python(["--cases"], input);
  expect(r.stderr).toBe("");
  const got = r.stdout.trimEnd().split("\n");
  expect(got).toHaveLength(cases.length);
  const mismatches = cases.filter((c, i) => got[i] !== c.expected).slice(0, 3);
  expect(mismatches).toEqual([]);
}

describe("the Python reference implementation (docs/reference/pseudonym.py)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pseudonym-ref-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    "when it runs over every pinned vector and pepper spelling, then it reproduces each",
    { timeout: 120_000 },
    () => {
      const file = readVectors();
      const r = python(["--vectors", VECTORS_FILE]);
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual({
        vectors: file.vectors.length,
        spellings: file.pepper_spellings.length,
        failed: [],
      });
      expect(r.status).toBe(0);
    },
  );

  it(
    "when 2,000 random cases are made by the library (user and global, bound and unbound), then it computes the same pseudonyms",
    { timeout: 300_000 },
    async () => {
      const cases = await libraryCases(2000);
      // The mix the cases must cover, or the comparison proves less than it claims.
      const count = (f: (c: Case) => boolean) => cases.filter(f).length;
      expect(count((c) => c.kind === "u")).toBeGreaterThan(400);
      expect(count((c) => c.kind === "g" && c.shred === null)).toBeGreaterThan(200);
      expect(count((c) => c.kind === "g" && c.shred !== null)).toBeGreaterThan(400);
      expect(count((c) => c.value.type === "number")).toBeGreaterThan(400);
      expect(count((c) => c.value.type === "boolean")).toBeGreaterThan(50);
      expect(count((c) => /[^\x20-\x7e]/.test(String(c.value.value)))).toBeGreaterThan(300);
      expect(count((c) => c.value.value === "-0")).toBeGreaterThan(0);
      expect(count((c) => c.salt_version > 1)).toBeGreaterThan(0);
      expect(count((c) => c.pepper !== c.pepper.trim())).toBeGreaterThan(0);

      runCases(cases);
    },
  );

  it(
    "when 1,000 random scoped cases are made by the library (several scopes and scope versions, user and event), then it computes the same pseudonyms",
    { timeout: 300_000 },
    async () => {
      const cases = await scopedLibraryCases(1000);
      const count = (f: (c: Case) => boolean) => cases.filter(f).length;
      expect(count((c) => c.kind === "u")).toBeGreaterThan(200);
      expect(count((c) => c.kind === "g" && c.shred === null)).toBeGreaterThan(100);
      expect(count((c) => c.kind === "g" && c.shred !== null)).toBeGreaterThan(200);
      expect(count((c) => c.scoped!.scope_version > 1)).toBeGreaterThan(100);
      expect(count((c) => c.scoped!.scope_id === "12")).toBeGreaterThan(50);
      expect(count((c) => /^ps1\.s[ug]\./.test(c.expected))).toBe(cases.length);
      runCases(cases);
    },
  );

  it(
    "when 20,000 random doubles are written as text, then Python's number_text equals JavaScript's String()",
    { timeout: 120_000 },
    () => {
      const xs = Array.from({ length: 20_000 }, () => pick(NUMBERS)());
      const r = python(["--number-text"], xs.map((x) => asCase(x).value).join("\n") + "\n");
      expect(r.stderr).toBe("");
      const got = r.stdout.trimEnd().split("\n");
      const differ = xs.filter((x, i) => got[i] !== String(x)).slice(0, 5);
      expect(differ).toEqual([]);
      expect(got).toHaveLength(xs.length);
    },
  );

  it(
    "when its command line is given a vector's inputs, then it prints that pseudonym and verifies it, and refuses a changed one",
    { timeout: 180_000 },
    () => {
      const file = readVectors();
      const pepperFile = path.join(dir, "pepper");
      writeFileSync(pepperFile, Buffer.from(file.pepper.payload_hex, "hex"));
      const chosen = [
        "user: string",
        "user: negative non-integer",
        "user: boolean false",
        "user: non-ASCII, combining mark (NFD)",
        "global: large",
        "bound: user_id",
        "scoped-user: integer (partner-a)",
        "scoped-global, bound: same value, other scope (dataset_1)",
      ];
      for (const v of file.vectors.filter((x) => chosen.includes(x.name))) {
        const value = valueOf(v.value);
        // --name=value: a value starting with "-" is not taken for an option.
        const args = [
          `--pepper-file=${pepperFile}`,
          `--salt=${v.salt}`,
          `--kind=${v.kind}`,
          `--scope=${v.scope}`,
          `--field=${v.field}`,
          ...(v.shred ? [`--shred=${v.shred}`] : []),
          ...(v.scoped ? [`--scope-id=${v.scoped.scope_id}`, `--scope-secret=${v.scoped.secret}`] : []),
          typeof value === "string"
            ? `--string=${value}`
            : typeof value === "number"
              ? `--number=${String(v.value.value)}`
              : `--boolean=${String(value)}`,
        ];
        const made = python([
          ...args,
          `--salt-version=${v.salt_version}`,
          `--pepper-version=${v.pepper_version}`,
          ...(v.scoped ? [`--scope-version=${v.scoped.scope_version}`] : []),
        ]);
        expect(made.stdout.trim(), v.name).toBe(v.pseudonym);
        if (v.shred || v.scoped)
          expect(python([...args, `--verify=${v.pseudonym}`]).stdout.trim(), v.name).toBe("true");
        if (v.scoped) {
          // The same pseudonym checked in another scope's context, or as unscoped: refused.
          const other = args.map((a) => a.replace(/^--scope-id=.*/, "--scope-id=other"));
          expect(python([...other, `--verify=${v.pseudonym}`]).stdout.trim(), v.name).toBe("false");
          const unscoped = args.filter((a) => !a.startsWith("--scope-"));
          expect(python([...unscoped, `--verify=${v.pseudonym}`]).stdout.trim(), v.name).toBe("false");
        }
      }
      expect(file.vectors.filter((x) => chosen.includes(x.name))).toHaveLength(chosen.length);
      const v = file.vectors[0]!;
      const base = ["--pepper-file", pepperFile, "--salt", v.salt, "--kind", "u", "--field", v.field];
      const other = v.pseudonym.slice(0, -1) + (v.pseudonym.endsWith("A") ? "E" : "A");
      const noncanonical =
        v.pseudonym.slice(0, -1) + String.fromCharCode(v.pseudonym.charCodeAt(v.pseudonym.length - 1) + 1);
      for (const bad of [
        other,
        noncanonical,
        v.pseudonym.replace("ps1.u.3.", "ps1.u.03."),
        v.pseudonym.replace("ps1.u.", "ps1.g."),
      ]) {
        const r = python([...base, `--string=${String(v.value.value)}`, `--verify=${bad}`]);
        expect(r.stdout.trim(), bad).toBe("false");
        expect(r.status).toBe(1);
      }
    },
  );

  it("when the interpreter is missing, then the test fails saying so (it never skips)", () => {
    expect(() => python(["--vectors", VECTORS_FILE], undefined, "/nonexistent/python3")).toThrow(
      /is not installed.*fails rather than skip/,
    );
  });
});
