import { describe, expect, it } from "vitest";
import { encodeCursor, mapStream, pagedStream, type Page } from "../../functions/domain/paging";

/** A listing of 0..n-1 that records every page asked for. */
function listing(n: number) {
  const asked: { limit: number; from: number }[] = [];
  const fetch = (page: { limit: number; cursor: string | null }): Promise<Page<number>> => {
    const from = page.cursor
      ? Number(JSON.parse(Buffer.from(page.cursor, "base64url").toString())[1]) + 1
      : 0;
    asked.push({ limit: page.limit, from });
    const items = Array.from({ length: Math.max(0, Math.min(page.limit, n - from)) }, (_, i) => from + i);
    const last = items.at(-1);
    const more = last !== undefined && last + 1 < n;
    return Promise.resolve({ items, nextCursor: more ? encodeCursor({ t: 0, d: String(last) }) : null });
  };
  return { fetch, asked };
}

async function take<T>(items: AsyncGenerator<T>, stopAfter = Infinity): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) {
    out.push(item);
    if (out.length >= stopAfter) break;
  }
  return out;
}

describe("a paged listing read as one stream", () => {
  it("when read to the end, then every item comes once, in order, and no page past the limit is asked for", async () => {
    const l = listing(23);
    expect(await take(pagedStream(l.fetch, 100, 5))).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(l.asked.map((a) => a.from)).toEqual([0, 5, 10, 15, 20]);

    const capped = listing(23);
    expect(await take(pagedStream(capped.fetch, 12, 5))).toEqual(Array.from({ length: 12 }, (_, i) => i));
    // The last page asks only for what the limit leaves.
    expect(capped.asked).toEqual([
      { limit: 5, from: 0 },
      { limit: 5, from: 5 },
      { limit: 2, from: 10 },
    ]);
  });

  it("when the reader stops early, then at most the page read ahead is asked for beyond what it took", async () => {
    const l = listing(1000);
    const mapped = mapStream(pagedStream(l.fetch, 1000, 10), (n) => n * 2);
    expect(await take(mapped, 3)).toEqual([0, 2, 4]);
    expect(l.asked.map((a) => a.from)).toEqual([0, 10]);
  });

  it("when the limit is zero or the listing is empty, then nothing is read", async () => {
    const l = listing(0);
    expect(await take(pagedStream(l.fetch, 0, 10))).toEqual([]);
    expect(l.asked).toEqual([]);
    expect(await take(pagedStream(l.fetch, 10, 10))).toEqual([]);
    expect(l.asked).toHaveLength(1);
  });
});
