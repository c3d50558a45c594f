import { describe, expect, it } from "vitest";
import type { JobRecord } from "../../functions/domain/jobs";
import { runChunks, type ChunkSource } from "../../functions/usecases/jobs/chunks";
import type { Pacer } from "../../functions/usecases/jobs/pacer";
import type { JobDeps, JobSpec, JobUnit } from "../../functions/usecases/jobs/spec";

const unit = (id: string): JobUnit => ({ item: { kind: "user", id, version: 1 } });

describe("chunks run by a pool of workers over a source that lists as it goes", () => {
  it("when the source fails, then the run stops with that error and the source is never asked again", async () => {
    let asked = 0;
    const listingDown = Object.assign(new Error("listing down"), { code: "unavailable" });
    const source: ChunkSource<unknown> = () => {
      asked++;
      return asked === 1 ? Promise.resolve([unit("a"), unit("b")]) : Promise.reject(listingDown);
    };
    const applied: string[] = [];
    const spec = {
      writesPerItem: 1,
      apply: (_d: unknown, _c: unknown, _j: unknown, units: JobUnit[]) => {
        applied.push(...units.map((u) => u.item.id));
        return Promise.resolve(units.map(() => "done" as const));
      },
    } as unknown as JobSpec;
    const deps = { config: { concurrency: 8 } } as unknown as JobDeps;
    const pacer = { take: () => Promise.resolve() } as unknown as Pacer;
    const ctx = { correlationId: "unit", actor: { uid: "ops", via: "cli" as const } };

    await expect(runChunks(deps, ctx, spec, {} as JobRecord, source, pacer)).rejects.toBe(listingDown);
    // Eight workers, one failure: the second ask failed and nobody asked a third time.
    expect(asked).toBe(2);
    expect(applied).toEqual(["a", "b"]);
  });
});
