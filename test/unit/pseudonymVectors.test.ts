import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pepperBytes } from "../../functions/domain/pepper";
import {
  deriveFieldKey,
  formatPseudonym,
  parsePseudonym,
  pseudonymPrefix,
  pseudonymTag,
  pseudonymWithPrefix,
  subjectKey,
} from "../../functions/domain/pseudonym";
import { deriveScopeKey, parseScopedPseudonym, scopedKey, scopedPrefix } from "../../functions/domain/scope";
import { readVectors, ROOT, valueOf, type Vector, type VectorValue } from "../support/vectors";

const FILE = readVectors();

// ---- The construction as docs/CRYPTO.md writes it, without the library. ----

/** LP(x): the length of x in bytes, 4 bytes big-endian, then x. */
const lp = (x: Buffer): Buffer => {
  const n = x.length;
  return Buffer.concat([Buffer.from([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]), x]);
};
const utf8 = (s: string) => Buffer.from(s, "utf8");
const hmac = (key: Buffer, message: Buffer) => createHmac("sha256", key).update(message).digest();
/** The pepper: ASCII whitespace (HT, LF, VT, FF, CR, space) off both ends; then printable ASCII, 32+ bytes. */
const docPepper = (payload: Buffer): Buffer | null => {
  const text = payload.toString("latin1").replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, "");
  return /^[\x20-\x7e]{32,}$/.test(text) ? Buffer.from(text, "latin1") : null;
};

/**
 * ECMAScript Number::toString from its rules: the shortest round-trip digits s (k of them) and n with
 * x = 0.s × 10^n, laid out per the four cases. The digits come from toExponential(), not String().
 */
function numberText(x: number): string {
  if (x === 0) return "0";
  if (x < 0) return `-${numberText(-x)}`;
  const [mantissa, exp] = x.toExponential().split("e") as [string, string];
  const s = mantissa.replace(".", "");
  const k = s.length;
  const n = Number(exp) + 1;
  if (k <= n && n <= 21) return s + "0".repeat(n - k);
  if (0 < n && n <= 21) return `${s.slice(0, n)}.${s.slice(n)}`;
  if (-6 < n && n <= 0) return `0.${"0".repeat(-n)}${s}`;
  const e = n - 1;
  return `${k === 1 ? s : `${s[0]}.${s.slice(1)}`}e${e > 0 ? "+" : "-"}${Math.abs(e)}`;
}

function docMessage(v: VectorValue): Buffer {
  const value = valueOf(v);
  if (typeof value === "string") return Buffer.concat([utf8("s"), utf8(value)]);
  if (typeof value === "boolean") return utf8(`b${value}`);
  return utf8(`n${numberText(value)}`);
}

function docPseudonym(v: Vector, pepper: Buffer) {
  const fieldKey = hmac(
    pepper,
    Buffer.concat([
      lp(utf8("ps1")),
      lp(utf8(v.kind)),
      lp(utf8(v.scope)),
      lp(utf8(v.field)),
      lp(Buffer.from(v.salt, "hex")),
    ]),
  );
  const key =
    v.shred === null
      ? fieldKey
      : hmac(fieldKey, Buffer.concat([lp(utf8("ps1-subject")), lp(Buffer.from(v.shred, "hex"))]));
  const message = docMessage(v.value);
  if (v.scoped === undefined) {
    const tag = hmac(key, message).toString("base64url");
    return {
      fieldKey,
      key,
      message,
      pseudonym: `ps1.${v.kind}.${String(v.salt_version)}.${String(v.pepper_version)}.${tag}`,
    };
  }
  // "Scoped pseudonyms, byte by byte": the scope version is its decimal text in the HMAC input too.
  const s = v.scoped;
  const scopeKey = hmac(
    pepper,
    Buffer.concat([
      lp(utf8("ps1-scope")),
      lp(utf8(s.scope_id)),
      lp(utf8(String(s.scope_version))),
      lp(Buffer.from(s.secret, "hex")),
    ]),
  );
  const scoped = hmac(key, Buffer.concat([lp(utf8("ps1-scoped")), lp(scopeKey)]));
  const tag = hmac(scoped, message).toString("base64url");
  return {
    fieldKey,
    key,
    message,
    scopeKey,
    scoped,
    pseudonym: `ps1.s${v.kind}.${s.scope_id}.${s.scope_version}.${v.salt_version}.${v.pepper_version}.${tag}`,
  };
}

const KNOWN = new Set([
  "user",
  "global",
  "global-subject",
  "scoped-user",
  "scoped-global",
  "scoped-global-subject",
]);

describe("pinned pseudonym vectors (docs/pseudonym-vectors.json)", () => {
  const pepper = docPepper(Buffer.from(FILE.pepper.payload_hex, "hex"))!;

  it("when the file is read, then it covers every value type in every construction it knows", () => {
    // A construction this test cannot build must be added here, not skipped.
    expect(FILE.vectors.filter((v) => !KNOWN.has(v.construction)).map((v) => v.name)).toEqual([]);
    for (const c of KNOWN) {
      const types = new Set(FILE.vectors.filter((v) => v.construction === c).map((v) => v.value.type));
      expect([...types].sort(), c).toEqual(["boolean", "number", "string"]);
    }
    const numbers = FILE.vectors.filter((v) => v.value.type === "number").map((v) => v.text);
    for (const t of ["42", "0", "0.1", "1e+21", "1e-7", "5e-324", "9007199254740992"])
      expect(numbers).toContain(t);
    const strings = FILE.vectors.filter((v) => v.value.type === "string").map((v) => String(v.value.value));
    expect(strings).toContain("");
    expect(strings.some((s) => /[\u{10000}-\u{10FFFF}]/u.test(s))).toBe(true);
    expect(strings.some((s) => /\p{M}/u.test(s))).toBe(true);
    expect(strings.some((s) => s.length > 1024)).toBe(true);
    expect(new Set(FILE.vectors.map((v) => v.name)).size).toBe(FILE.vectors.length);
    // Scoped vectors carry their scope, the others none; two scopes and two scope versions appear.
    for (const v of FILE.vectors)
      expect(v.scoped !== undefined, v.name).toBe(v.construction.startsWith("scoped-"));
    const scopes = new Set(
      FILE.vectors.flatMap((v) => (v.scoped ? [`${v.scoped.scope_id}@${v.scoped.scope_version}`] : [])),
    );
    expect([...scopes].sort()).toEqual(["dataset_1@1", "partner-a@2"]);
  });

  it("when one value is pseudonymized in two scopes, then the two tags differ, and differ from the unscoped one", () => {
    const tagOf = (p: string) => p.slice(p.lastIndexOf(".") + 1);
    const byName = new Map(FILE.vectors.map((v) => [v.name, v.pseudonym]));
    for (const [a, b, plain] of [
      ["scoped-user: string (partner-a)", "scoped-user: same value, other scope (dataset_1)", "user: string"],
      [
        "scoped-global, bound: string (partner-a)",
        "scoped-global, bound: same value, other scope (dataset_1)",
        "bound: same value as unbound",
      ],
    ]) {
      const tags = [a!, b!, plain!].map((n) => tagOf(byName.get(n)!));
      expect(new Set(tags).size, a).toBe(3);
    }
  });

  it("when the pepper spellings are read by the document's rule and by pepperBytes, then both give the pinned bytes", () => {
    expect(pepper.toString("hex")).toBe(FILE.pepper.bytes_hex);
    for (const s of FILE.pepper_spellings) {
      const payload = Buffer.from(s.payload_hex, "hex");
      expect(docPepper(payload)?.toString("hex") ?? null, s.name).toBe(s.bytes_hex);
      let library: string | null;
      try {
        library = pepperBytes(payload).toString("hex");
      } catch {
        library = null;
      }
      expect(library, s.name).toBe(s.bytes_hex);
    }
  });

  for (const v of FILE.vectors) {
    it(`when "${v.name}" is built byte by byte as docs/CRYPTO.md says, then it is the pinned pseudonym, and so is the library's`, () => {
      // From the document alone.
      const doc = docPseudonym(v, pepper);
      expect(doc.message.toString("hex")).toBe(v.message_hex);
      expect(doc.fieldKey.toString("hex")).toBe(v.field_key_hex);
      if (v.shred !== null) expect(doc.key.toString("hex")).toBe(v.subject_key_hex);
      if (v.scoped) {
        expect(doc.scopeKey?.toString("hex")).toBe(v.scoped.scope_key_hex);
        expect(doc.scoped?.toString("hex")).toBe(v.scoped.scoped_key_hex);
      }
      if (v.text !== undefined) expect(doc.message.subarray(1).toString("utf8")).toBe(v.text);
      expect(doc.pseudonym).toBe(v.pseudonym);

      // The library, from the stored pepper payload.
      const kind = v.kind === "u" ? "user" : "global";
      const value = valueOf(v.value);
      const fieldKey = deriveFieldKey(
        pepperBytes(Buffer.from(FILE.pepper.payload_hex, "hex")),
        kind,
        v.scope,
        v.field,
        Buffer.from(v.salt, "hex"),
      );
      const base = v.shred === null ? fieldKey : subjectKey(fieldKey, Buffer.from(v.shred, "hex"));
      if (v.scoped) {
        const s = v.scoped;
        const scopeKey = deriveScopeKey(
          pepperBytes(Buffer.from(FILE.pepper.payload_hex, "hex")),
          s.scope_id,
          s.scope_version,
          Buffer.from(s.secret, "hex"),
        );
        const prefix = scopedPrefix(kind, s.scope_id, s.scope_version, v.salt_version, v.pepper_version);
        expect(prefix + scopedKey(base, scopeKey).tagBase64url(value)).toBe(v.pseudonym);
        expect(parseScopedPseudonym(v.pseudonym)).toMatchObject({
          kind,
          scopeId: s.scope_id,
          scopeVersion: s.scope_version,
          saltVersion: v.salt_version,
          pepperVersion: v.pepper_version,
        });
        expect(() => parsePseudonym(v.pseudonym)).toThrow();
      } else {
        expect(formatPseudonym(kind, v.salt_version, v.pepper_version, pseudonymTag(base, value))).toBe(
          v.pseudonym,
        );
        const prefix = pseudonymPrefix(kind, v.salt_version, v.pepper_version);
        expect(pseudonymWithPrefix(prefix, base, value)).toBe(v.pseudonym);
        expect(parsePseudonym(v.pseudonym)).toMatchObject({
          kind,
          saltVersion: v.salt_version,
          pepperVersion: v.pepper_version,
        });
      }
      if (typeof value === "number") expect(String(value)).toBe(numberText(value));
    });
  }

  it("when docs/CRYPTO.md is read, then its table lists every pinned pseudonym, in order", () => {
    const doc = readFileSync(path.join(ROOT, "docs/CRYPTO.md"), "utf8");
    const table = doc.slice(doc.indexOf("<!-- vectors:start"), doc.indexOf("<!-- vectors:end -->"));
    const listed = [...table.matchAll(/`(ps1\.s?[ug]\.[^`]+)`/g)].map((m) => m[1]);
    expect(listed).toEqual(FILE.vectors.map((v) => v.pseudonym));
  });

  it("when a length is 256 bytes or more, then LP writes it in 4 bytes (not 1)", () => {
    expect(lp(Buffer.alloc(300)).subarray(0, 4).toString("hex")).toBe("0000012c");
    const long = FILE.vectors.find((v) => Buffer.byteLength(v.field) >= 256);
    expect(long).toBeDefined();
  });
});
