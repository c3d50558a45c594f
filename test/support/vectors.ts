import { readFileSync } from "node:fs";
import path from "node:path";

/** docs/pseudonym-vectors.json, as docs/CRYPTO.md ("Pinned vectors") describes it. */
export interface VectorValue {
  type: "string" | "number" | "boolean";
  value: string | boolean;
}
export type Construction =
  "user" | "global" | "global-subject" | "scoped-user" | "scoped-global" | "scoped-global-subject";
/** A scoped vector's scope (audience): docs/CRYPTO.md, "Scoped pseudonyms, byte by byte". */
export interface VectorScope {
  scope_id: string;
  scope_version: number;
  secret: string;
  scope_key_hex: string;
  scoped_key_hex: string;
}
export interface Vector {
  name: string;
  construction: Construction;
  kind: "u" | "g";
  scope: string;
  field: string;
  salt: string;
  salt_version: number;
  pepper_version: number;
  shred: string | null;
  value: VectorValue;
  text?: string;
  message_hex: string;
  field_key_hex: string;
  subject_key_hex: string | null;
  scoped?: VectorScope;
  pseudonym: string;
}
export interface VectorsFile {
  pepper: { payload_hex: string; bytes_hex: string };
  pepper_spellings: { name: string; payload_hex: string; bytes_hex: string | null }[];
  vectors: Vector[];
}

export const ROOT = path.resolve(__dirname, "../..");
export const VECTORS_FILE = path.join(ROOT, "docs/pseudonym-vectors.json");
export const readVectors = (): VectorsFile => JSON.parse(readFileSync(VECTORS_FILE, "utf8")) as VectorsFile;

/** A vector's value as the library takes it: numbers are decimal literals read as the nearest double. */
export const valueOf = (v: VectorValue): string | number | boolean =>
  v.type === "number" ? Number(v.value) : v.value;
