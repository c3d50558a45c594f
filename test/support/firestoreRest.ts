import { firestoreHost, PROJECT_ID } from "./firestore";

/**
 * The Firestore emulator's REST API, as a database writer uses it: no service code, no audit key,
 * just documents read, written and deleted (`Bearer owner` passes the security rules, as a leaked
 * service-account key or an over-privileged engineer would).
 */
export type RestValue =
  | { stringValue: string }
  | { integerValue: string }
  | { doubleValue: number }
  | { booleanValue: boolean }
  | { nullValue: null }
  | { timestampValue: string }
  | { bytesValue: string }
  | { arrayValue: { values?: RestValue[] } }
  | { mapValue: { fields?: Record<string, RestValue> } };

export interface RestDoc {
  name: string;
  fields: Record<string, RestValue>;
}

const base = () => `http://${firestoreHost()}/v1/projects/${PROJECT_ID}/databases/(default)/documents`;
const headers = { authorization: "Bearer owner", "content-type": "application/json" };

async function ok(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

/** Plain values as REST values (strings, integers, booleans, null, Dates, arrays, objects). */
export function toRest(v: unknown): RestValue {
  if (v === null || v === undefined) return { nullValue: null };
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "boolean") return { booleanValue: v };
  if (typeof v === "number") return Number.isInteger(v) ? { integerValue: String(v) } : { doubleValue: v };
  if (v instanceof Date) return { timestampValue: v.toISOString() };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(toRest) } };
  return { mapValue: { fields: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toRest(x)])) } };
}

export const rest = {
  async get(path: string): Promise<RestDoc | null> {
    const res = await fetch(`${base()}/${path}`, { headers });
    if (res.status === 404) return null;
    return (await (await ok(res, `GET ${path}`)).json()) as RestDoc;
  },

  /** Writes the whole document (creating it, or replacing every field). */
  async put(path: string, fields: Record<string, RestValue>): Promise<void> {
    await ok(
      await fetch(`${base()}/${path}`, { method: "PATCH", headers, body: JSON.stringify({ fields }) }),
      `PATCH ${path}`,
    );
  },

  /** Sets only the named fields (dotted paths), as `update` does. */
  async patch(path: string, fields: Record<string, RestValue>, mask: string[]): Promise<void> {
    const q = mask.map((m) => `updateMask.fieldPaths=${encodeURIComponent(m)}`).join("&");
    await ok(
      await fetch(`${base()}/${path}?${q}`, { method: "PATCH", headers, body: JSON.stringify({ fields }) }),
      `PATCH ${path}`,
    );
  },

  async delete(path: string): Promise<void> {
    await ok(await fetch(`${base()}/${path}`, { method: "DELETE", headers }), `DELETE ${path}`);
  },

  /** Every document of a collection (or subcollection), with its path relative to the database. */
  async list(collection: string): Promise<(RestDoc & { path: string })[]> {
    const out: (RestDoc & { path: string })[] = [];
    let token = "";
    do {
      const url = `${base()}/${collection}?pageSize=300${token ? `&pageToken=${token}` : ""}`;
      const body = (await (await ok(await fetch(url, { headers }), `LIST ${collection}`)).json()) as {
        documents?: RestDoc[];
        nextPageToken?: string;
      };
      for (const d of body.documents ?? []) out.push({ ...d, path: d.name.split("/documents/")[1]! });
      token = body.nextPageToken ?? "";
    } while (token);
    return out;
  },
};

/** A map field's fields, from a REST document. */
export const mapOf = (v: RestValue | undefined): Record<string, RestValue> =>
  (v as { mapValue: { fields?: Record<string, RestValue> } } | undefined)?.mapValue.fields ?? {};

export const str = (v: RestValue | undefined): string => (v as { stringValue: string }).stringValue;
export const int = (v: RestValue | undefined): number => Number((v as { integerValue: string }).integerValue);
