import { timeForOps, type Ramp } from "../../domain/ramp";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Holds a job's writes to the ramp: writes number `n` may start only once the
 * ramp, counted from the job's start, allows `n` writes in all. A shard starts
 * counting at its place in the job (`offset`), so however many shards run at
 * once, the job as a whole never writes faster than the ramp allows.
 */
export class Pacer {
  private ops: number;

  constructor(
    private readonly ramp: Ramp,
    private readonly startedAt: number,
    offset = 0,
    private readonly now: () => number = Date.now,
  ) {
    this.ops = offset;
  }

  /** Milliseconds from now until the writes counted so far are allowed (negative: already allowed). */
  private untilAllowed(): number {
    return this.startedAt + timeForOps(this.ramp, this.ops) * 1000 - this.now();
  }

  /** Waits until `ops` more writes fit under the ramp, then counts them. */
  async take(ops: number): Promise<void> {
    const wait = this.untilAllowed();
    this.ops += ops;
    if (wait > 0) await sleep(wait);
  }

  /** Seconds from now until the writes counted so far are allowed (when to dispatch a shard). */
  delaySeconds(): number {
    return Math.max(0, this.untilAllowed() / 1000);
  }
}
