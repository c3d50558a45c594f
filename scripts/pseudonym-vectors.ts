/**
 * Writes the pinned pseudonym vectors (docs/pseudonym-vectors.json) and their table in docs/CRYPTO.md,
 * from the library's own functions. Run it to ADD a vector (`npx tsx scripts/pseudonym-vectors.ts`): it
 * refuses to change a vector already pinned, since a changed pseudonym breaks every stored one.
 * test/unit/pseudonymVectors.test.ts and the Python reference (docs/reference/pseudonym.py) check the file.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pepperBytes } from "../functions/domain/pepper";
import { deriveFieldKey, formatPseudonym, pseudonymTag, subjectKey } from "../functions/domain/pseudonym";
import { deriveScopeKey, scopedKey, scopedPrefix } from "../functions/domain/scope";

const ROOT = path.resolve(__dirname, "..");
const JSON_FILE = path.join(ROOT, "docs/pseudonym-vectors.json");
const DOC_FILE = path.join(ROOT, "docs/CRYPTO.md");

const seq = (from: number) => Buffer.from(Array.from({ length: 32 }, (_, i) => from + i));
// The pepper as `openssl rand -base64 48 | gcloud secrets versions add` stores it: 64 characters and a newline.
const PEPPER_PAYLOAD = Buffer.from(
  `${Buffer.from(Array.from({ length: 48 }, (_, i) => 0x60 + i)).toString("base64")}\n`,
);
const PEPPER_VERSION = 2;
const USER_SALT = { bytes: seq(0x00), version: 3 };
const GLOBAL_SALT = { bytes: seq(0x20), version: 12 };
const SHRED = seq(0x40);
// Two scopes (audiences): one at version 2, one at version 1, each with its own 32-byte secret.
const SCOPES = {
  "partner-a": { id: "partner-a", version: 2, secret: seq(0x60) },
  dataset_1: { id: "dataset_1", version: 1, secret: seq(0x80) },
} as const;
type ScopeName = keyof typeof SCOPES;

type Value =
  { type: "string"; value: string } | { type: "number"; value: string } | { type: "boolean"; value: boolean };
const str = (value: string): Value => ({ type: "string", value });
const num = (literal: string): Value => ({ type: "number", value: literal });
const bool = (value: boolean): Value => ({ type: "boolean", value });

interface Spec {
  name: string;
  /** How the table shows the value, when its JSON would be too long or unclear. */
  shown?: string;
  construction: Construction;
  field: string;
  value: Value;
  /** Scoped constructions: the scope (audience) the pseudonym is made for. */
  scope?: ScopeName;
}
type Construction =
  "user" | "global" | "global-subject" | "scoped-user" | "scoped-global" | "scoped-global-subject";

const LONG = "0123456789".repeat(150);
const SPECS: Spec[] = [
  ...(
    [
      ["string", str("alice@example.com")],
      ["empty string", str("")],
      ["string of digits", str("42")],
      ["string true", str("true")],
      ["integer", num("42")],
      ["negative integer", num("-7")],
      ["zero", num("0")],
      ["negative zero", num("-0")],
      ["non-integer", num("0.1")],
      ["non-integer 2", num("1234.5678")],
      ["negative non-integer", num("-1.5e-10")],
      ["large: 1e21", num("1e21")],
      ["large: 21 digits", num("123456789012345678901")],
      ["integer above 2^53", num("9007199254740993")],
      ["largest double", num("1.7976931348623157e308")],
      ["tiny: 1e-6", num("0.000001")],
      ["tiny: 1e-7", num("1e-7")],
      ["tiny: smallest subnormal", num("5e-324")],
      ["boolean true", bool(true)],
      ["boolean false", bool(false)],
      ["non-ASCII, precomposed (NFC)", str("Zo\u00eb"), '`"Zo\\u00eb"` (NFC)'],
      ["non-ASCII, combining mark (NFD)", str("Zoe\u0308"), '`"Zoe\\u0308"` (NFD)'],
      ["CJK", str("東京")],
      ["astral plane", str("\u{1F600}\u{1D11E}")],
      ["controls", str("tab\tnew\nline\u0000nul")],
    ] as const
  ).map(([name, value, shown]: readonly [string, Value, string?]) => ({
    name: `user: ${name}`,
    shown,
    construction: "user" as const,
    field: "value",
    value,
  })),
  {
    name: "user: 1,024 units (fast path)",
    shown: '`"x"` × 1,024',
    construction: "user",
    field: "value",
    value: str("x".repeat(1024)),
  },
  {
    name: "user: 1,025 units",
    shown: '`"x"` × 1,025',
    construction: "user",
    field: "value",
    value: str("x".repeat(1025)),
  },
  {
    name: "user: long",
    shown: '`"0123456789"` × 150',
    construction: "user",
    field: "value",
    value: str(LONG),
  },
  {
    name: "user: long astral",
    shown: '`"😀"` × 600 (1,200 units, 2,400 bytes)',
    construction: "user",
    field: "value",
    value: str("\u{1F600}".repeat(600)),
  },
  {
    name: "user: field name of 300 bytes",
    shown: '`"alice@example.com"`',
    construction: "user",
    field: "f".repeat(300),
    value: str("alice@example.com"),
  },
  { name: "global: string", construction: "global", field: "device_id", value: str("d-8f3a") },
  { name: "global: integer", construction: "global", field: "device_id", value: num("42") },
  { name: "global: large", construction: "global", field: "device_id", value: num("1e21") },
  { name: "global: boolean", construction: "global", field: "device_id", value: bool(true) },
  { name: "global: non-ASCII", construction: "global", field: "device_id", value: str("Zo\u00eb") },
  {
    name: "global: long",
    shown: '`"0123456789"` × 150',
    construction: "global",
    field: "device_id",
    value: str(LONG),
  },
  { name: "bound: user_id", construction: "global-subject", field: "user_id", value: str("u-123") },
  { name: "bound: string", construction: "global-subject", field: "email", value: str("alice@example.com") },
  {
    name: "bound: same value as unbound",
    construction: "global-subject",
    field: "device_id",
    value: str("d-8f3a"),
  },
  { name: "bound: integer", construction: "global-subject", field: "device_id", value: num("42") },
  { name: "bound: tiny", construction: "global-subject", field: "device_id", value: num("1e-7") },
  { name: "bound: boolean", construction: "global-subject", field: "device_id", value: bool(false) },
  {
    name: "bound: astral plane",
    construction: "global-subject",
    field: "device_id",
    value: str("\u{1F600}\u{1D11E}"),
  },
  {
    name: "bound: long",
    shown: '`"0123456789"` × 150',
    construction: "global-subject",
    field: "device_id",
    value: str(LONG),
  },
  ...(
    [
      ["scoped-user", "partner-a", "value", str("alice@example.com"), "string"],
      ["scoped-user", "dataset_1", "value", str("alice@example.com"), "same value, other scope"],
      ["scoped-user", "partner-a", "value", num("42"), "integer"],
      ["scoped-user", "partner-a", "value", num("1e21"), "large"],
      ["scoped-user", "partner-a", "value", bool(true), "boolean"],
      ["scoped-user", "partner-a", "value", str("Zo\u00eb"), "non-ASCII"],
      ["scoped-global", "partner-a", "device_id", str("d-8f3a"), "string"],
      ["scoped-global", "partner-a", "device_id", num("42"), "integer"],
      ["scoped-global", "partner-a", "device_id", bool(true), "boolean"],
      ["scoped-global-subject", "partner-a", "user_id", str("u-123"), "user_id"],
      ["scoped-global-subject", "partner-a", "device_id", str("d-8f3a"), "string"],
      ["scoped-global-subject", "dataset_1", "device_id", str("d-8f3a"), "same value, other scope"],
      ["scoped-global-subject", "partner-a", "device_id", num("1e-7"), "tiny"],
      ["scoped-global-subject", "partner-a", "device_id", bool(false), "boolean"],
    ] as const
  ).map(
    ([construction, scope, field, value, what]: readonly [
      Construction,
      ScopeName,
      string,
      Value,
      string,
    ]) => ({
      name: `${construction.replace("-subject", ", bound")}: ${what} (${scope})`,
      construction,
      field,
      value,
      scope,
    }),
  ),
];

const jsValue = (v: Value): string | number | boolean => (v.type === "number" ? Number(v.value) : v.value);
const typeByte = { string: "s", number: "n", boolean: "b" } as const;

function vector(spec: Spec) {
  const pepper = pepperBytes(PEPPER_PAYLOAD);
  const user = spec.construction === "user" || spec.construction === "scoped-user";
  const kind = user ? "user" : "global";
  const salt = user ? USER_SALT : GLOBAL_SALT;
  const scope = user ? "" : "page_view";
  const fieldKey = deriveFieldKey(pepper, kind, scope, spec.field, salt.bytes);
  const shred = spec.construction.endsWith("global-subject") ? SHRED : null;
  const base = shred ? subjectKey(fieldKey, shred) : fieldKey;
  const audience = spec.scope === undefined ? null : SCOPES[spec.scope];
  const scopeKey = audience && deriveScopeKey(pepper, audience.id, audience.version, audience.secret);
  const key = scopeKey ? scopedKey(base, scopeKey) : base;
  const value = jsValue(spec.value);
  const text = typeof value === "string" ? value : String(value);
  const tag = pseudonymTag(key, value);
  return {
    name: spec.name,
    construction: spec.construction,
    kind: user ? "u" : "g",
    scope,
    field: spec.field,
    salt: salt.bytes.toString("hex"),
    salt_version: salt.version,
    pepper_version: PEPPER_VERSION,
    shred: shred?.toString("hex") ?? null,
    value: spec.value,
    ...(spec.value.type === "string" ? {} : { text }),
    message_hex: Buffer.from(typeByte[spec.value.type] + text, "utf8").toString("hex"),
    field_key_hex: fieldKey.bytes.toString("hex"),
    subject_key_hex: shred ? base.bytes.toString("hex") : null,
    ...(audience && scopeKey
      ? {
          scoped: {
            scope_id: audience.id,
            scope_version: audience.version,
            secret: audience.secret.toString("hex"),
            scope_key_hex: scopeKey.toString("hex"),
            scoped_key_hex: key.bytes.toString("hex"),
          },
        }
      : {}),
    pseudonym: audience
      ? scopedPrefix(kind, audience.id, audience.version, salt.version, PEPPER_VERSION) +
        tag.toString("base64url")
      : formatPseudonym(kind, salt.version, PEPPER_VERSION, tag),
  };
}

const hexOf = (s: string) => Buffer.from(s, "utf8").toString("hex");
const typed = PEPPER_PAYLOAD.toString("latin1").trim();
const SPELLINGS = [
  ["as stored by openssl | gcloud (newline)", hexOf(`${typed}\n`)],
  ["as typed", hexOf(typed)],
  ["CRLF", hexOf(`${typed}\r\n`)],
  ["blanks around", hexOf(` \t${typed} \x0b\x0c\n`)],
  ["base64 decoded (other bytes: refused as binary)", Buffer.from(typed, "base64").toString("hex")],
  ["31 characters", hexOf("x".repeat(31))],
  ["non-ASCII", hexOf(`${"é".repeat(32)}`)],
].map(([name, payload_hex]) => {
  let bytes: string | null = null;
  try {
    bytes = pepperBytes(Buffer.from(payload_hex!, "hex")).toString("hex");
  } catch {
    bytes = null;
  }
  return { name: name!, payload_hex: payload_hex!, bytes_hex: bytes };
});

const doc = {
  $comment:
    "Pinned ps1 pseudonyms: docs/CRYPTO.md, 'The pseudonym, byte by byte'. Numbers are decimal literals read as the nearest double. Scoped vectors carry their scope in 'scoped' (id, version, secret, scope key, scoped key).",
  pepper: {
    payload_hex: PEPPER_PAYLOAD.toString("hex"),
    bytes_hex: pepperBytes(PEPPER_PAYLOAD).toString("hex"),
  },
  pepper_spellings: SPELLINGS,
  vectors: SPECS.map(vector),
};

// A pinned vector never changes: a different pseudonym under an existing name is refused.
if (existsSync(JSON_FILE)) {
  const pinned = JSON.parse(readFileSync(JSON_FILE, "utf8")) as typeof doc;
  const now = new Map(doc.vectors.map((v) => [v.name, v.pseudonym]));
  for (const v of pinned.vectors) {
    if (now.has(v.name) && now.get(v.name) !== v.pseudonym)
      throw new Error(`pinned vector "${v.name}" would change`);
    if (!now.has(v.name)) throw new Error(`pinned vector "${v.name}" is no longer generated`);
  }
}
writeFileSync(JSON_FILE, `${JSON.stringify(doc, null, 2)}\n`);

// The table in CRYPTO.md, between its markers.
const code = (s: string) => "`" + s + "`";
const shownValue = (spec: Spec) => {
  if (spec.shown) return spec.shown;
  if (spec.value.type === "number") return code(spec.value.value);
  return code(JSON.stringify(spec.value.value));
};
const rows = doc.vectors.map((v, i) => {
  const spec = SPECS[i]!;
  const text = v.text === undefined ? "UTF-8 of the string" : code(v.text);
  const kind = {
    user: "user",
    global: "global",
    "global-subject": "global, bound",
    "scoped-user": "scoped user",
    "scoped-global": "scoped global",
    "scoped-global-subject": "scoped global, bound",
  }[v.construction];
  const where = v.scoped ? ` in ${code(v.scoped.scope_id)} v${v.scoped.scope_version}` : "";
  return `| ${i + 1} | ${kind}${where} | ${v.field.length > 20 ? `${code("f")} × 300` : code(v.field)} | ${v.value.type} | ${shownValue(spec)} | ${text} | ${code(v.pseudonym)} |`;
});
const table = [
  "| # | construction | field | type | value | text after the type byte | pseudonym |",
  "| - | ------------ | ----- | ---- | ----- | ------------------------ | --------- |",
  ...rows,
].join("\n");
const markdown = readFileSync(DOC_FILE, "utf8");
const START = "<!-- vectors:start (scripts/pseudonym-vectors.ts) -->";
const END = "<!-- vectors:end -->";
const at = markdown.indexOf(START);
const end = markdown.indexOf(END);
if (at < 0 || end < at) throw new Error(`docs/CRYPTO.md has no ${START} ... ${END} markers`);
writeFileSync(DOC_FILE, `${markdown.slice(0, at + START.length)}\n\n${table}\n\n${markdown.slice(end)}`);
console.log(`${doc.vectors.length} vectors written to docs/pseudonym-vectors.json and docs/CRYPTO.md`);
