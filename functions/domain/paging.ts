import { invalidArgument } from "./errors";

/** One bounded page of a listing and where the next one starts. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A page position: the sort key in milliseconds (or a number) and the document id as tie-breaker. */
export interface Cursor {
  t: number;
  d: string;
}

// Timestamps Firestore can hold (years 1 to 9999), and the longest document id it allows.
const MIN_T = -62_135_596_800_000;
const MAX_T = 253_402_300_799_999;
const MAX_DOC_ID_BYTES = 1500;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.t, c.d]), "utf8").toString("base64url");
}

/**
 * Decodes a cursor this service issued. Anything else (forged, truncated, out of
 * range, not well-formed) is invalid-argument naming the field, never a fault deeper down.
 */
export function decodeCursor(raw: string, field = "cursor"): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      Number.isSafeInteger(parsed[0]) &&
      (parsed[0] as number) >= MIN_T &&
      (parsed[0] as number) <= MAX_T &&
      typeof parsed[1] === "string" &&
      /^[^/]+$/.test(parsed[1]) &&
      parsed[1].isWellFormed() &&
      Buffer.byteLength(parsed[1]) <= MAX_DOC_ID_BYTES &&
      !/^__.*__$/.test(parsed[1])
    ) {
      return { t: parsed[0] as number, d: parsed[1] };
    }
  } catch {
    // fall through to the uniform error below
  }
  throw invalidArgument([{ path: field, message: "is not a cursor this service issued" }]);
}

/**
 * A page from rows fetched with `limit + 1`: the extra row only says that
 * another page exists; the cursor points after the last row kept.
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (r: R) => T,
  cursorOf: (r: R) => Cursor,
): Page<T> {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return {
    items: kept.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}

/** Every page of a listing, one at a time (bounded memory): the one paging loop. */
export async function* eachPage<T>(
  fetch: (cursor: string | null) => Promise<Page<T>>,
  first: string | null = null,
): AsyncGenerator<Page<T>> {
  let cursor = first;
  do {
    const page = await fetch(cursor);
    yield page;
    cursor = page.items.length > 0 ? page.nextCursor : null;
  } while (cursor);
}

/** Each item of `items` through `map`, as it is read; ending early ends `items` too (for-await does). */
export async function* mapStream<T, U>(items: AsyncGenerator<T>, map: (item: T) => U): AsyncGenerator<U> {
  for await (const item of items) yield map(item);
}

/**
 * The items of a paged listing as one stream, up to `limit`, the next page read while this one is
 * consumed (so a page boundary costs no pause). Ending early stops the listing.
 */
export async function* pagedStream<T>(
  fetch: (page: { limit: number; cursor: string | null }) => Promise<Page<T>>,
  limit: number,
  pageSize: number,
): AsyncGenerator<T> {
  let remaining = limit;
  let ahead: Promise<Page<T>> | null =
    remaining > 0 ? fetch({ limit: Math.min(pageSize, remaining), cursor: null }) : null;
  while (ahead) {
    const page = await ahead;
    const items = page.items.slice(0, remaining);
    remaining -= items.length;
    ahead =
      remaining > 0 && items.length > 0 && page.nextCursor
        ? fetch({ limit: Math.min(pageSize, remaining), cursor: page.nextCursor })
        : null;
    // A read ahead that fails after the consumer stopped is nobody's error.
    ahead?.catch(() => undefined);
    yield* items;
  }
}
