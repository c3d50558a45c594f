import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { guardedStream, resumingStream } from "../../functions/adapters/firestore/errors";

/** A source of 0..n-1 made as it is asked for, like a query's stream; `fail` errors it at that item. */
function source(n: number, fail?: { at: number; code: number }) {
  const state = { made: 0, ended: false };
  const stream = new Readable({
    objectMode: true,
    highWaterMark: 4,
    read() {
      if (fail && state.made === fail.at) {
        this.destroy(Object.assign(new Error("stream broke"), { code: fail.code }));
        return;
      }
      if (state.made === n) {
        this.push(null);
        return;
      }
      this.push(state.made++);
    },
  });
  stream.on("end", () => (state.ended = true));
  return { stream, state };
}

describe("a query's stream read under the storage deadline", () => {
  it("when read to the end, then every item comes in order and the source is read only as far as asked plus its buffers", async () => {
    const s = source(1000);
    const out: number[] = [];
    for await (const n of guardedStream<number>("test", 1000, s.stream)) {
      out.push(n);
      if (n === 9) {
        // Backpressure: ten items taken, the source has made only what fits in the buffers.
        await new Promise((r) => setTimeout(r, 20));
        expect(s.state.made).toBeLessThan(60);
      }
    }
    expect(out).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(s.state.ended).toBe(true);
  });

  it("when the reader stops early, then the source still runs to its end, its items discarded", async () => {
    const s = source(500);
    for await (const n of guardedStream<number>("test", 1000, s.stream)) if (n === 2) break;
    await new Promise((r) => setTimeout(r, 50));
    expect(s.state.made).toBe(500);
    expect(s.state.ended).toBe(true);
  });

  it("when the store stalls or the stream fails, then the reader gets unavailable (not a hang, not a raw gRPC error)", async () => {
    const stalled = new Readable({ objectMode: true, read() {} });
    const started = Date.now();
    await expect(
      (async () => {
        for await (const _ of guardedStream("stalled", 100, stalled)) void _;
      })(),
    ).rejects.toMatchObject({ code: "unavailable" });
    expect(Date.now() - started).toBeLessThan(5000);

    const broken = source(100, { at: 5, code: 14 });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const n of guardedStream<number>("broken", 1000, broken.stream)) seen.push(n);
      })(),
    ).rejects.toMatchObject({ code: "unavailable" });
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("a query's stream resumed after a failure part-way", () => {
  /** Opens a query over 0..n-1 after `after`; the opens listed in `breaks` fail after that many items. */
  function query(n: number, breaks: Map<number, { after: number; code: number }>) {
    const opens: { after: number | null; limit: number }[] = [];
    const open = (after: number | null, limit: number) => {
      const from = after === null ? 0 : after + 1;
      const fail = breaks.get(opens.length);
      opens.push({ after, limit });
      let next = from;
      return new Readable({
        objectMode: true,
        read() {
          if (fail && next - from === fail.after) {
            this.destroy(Object.assign(new Error("query broke"), { code: fail.code }));
          } else if (next === n || next - from === limit) {
            this.push(null);
          } else {
            this.push(next++);
          }
        },
      });
    };
    return { open, opens };
  }

  async function all(items: AsyncGenerator<number>): Promise<number[]> {
    const out: number[] = [];
    for await (const n of items) out.push(n);
    return out;
  }

  it("when the stream breaks after some items, then it is opened again after the last one read, and every item comes once", async () => {
    const q = query(
      100,
      new Map([
        [0, { after: 30, code: 14 }],
        [1, { after: 20, code: 4 }],
      ]),
    );
    expect(await all(resumingStream("test", 1000, 80, q.open))).toEqual(
      Array.from({ length: 80 }, (_, i) => i),
    );
    expect(q.opens).toEqual([
      { after: null, limit: 80 },
      { after: 29, limit: 50 },
      { after: 49, limit: 30 },
    ]);
  });

  it("when it breaks before any item, or with an error that is not an outage, then the reader gets that error", async () => {
    const none = query(100, new Map([[0, { after: 0, code: 14 }]]));
    await expect(all(resumingStream("test", 1000, 10, none.open))).rejects.toMatchObject({
      code: "unavailable",
    });
    expect(none.opens).toHaveLength(1);

    const refused = query(100, new Map([[0, { after: 5, code: 3 }]]));
    await expect(all(resumingStream("test", 1000, 10, refused.open))).rejects.toMatchObject({ code: 3 });
    expect(refused.opens).toHaveLength(1);
  });
});
