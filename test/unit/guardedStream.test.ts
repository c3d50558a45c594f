import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { guardedStream } from "../../functions/adapters/firestore/errors";

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
