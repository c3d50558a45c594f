import type { Session } from "../core/session";
import type { Answer } from "../core/transport";

/**
 * `--wait`: follows a job until it ends. On a terminal, a live bar with rate
 * and ETA; otherwise a plain line whenever progress moves (at least every 10 s),
 * so logs of CI jobs show where it stands. Both on stderr: stdout gets the
 * final answer only. With --json off a terminal the lines are left out (unless
 * --verbose), so a script's stderr stays empty on success.
 */
interface Sample {
  at: number;
  done: number;
}

interface Reporter {
  update(job: Answer, done: number, total: number, rate: number | null): void;
  stop(): void;
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** Items a job has finished with, whatever became of them. */
const doneOf = (job: Answer): number =>
  num(job.processed ?? job.rotated) + num(job.failed) + num(job.skipped);

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function lineReporter(jobId: string): Reporter {
  let last = { done: -1, at: 0 };
  return {
    update(job, done, total, rate) {
      const now = Date.now();
      if (done === last.done && now - last.at < 10_000 && job.state === "running") return;
      last = { done, at: now };
      const pct = total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : "";
      const speed = rate !== null ? `, ${rate.toFixed(1)}/s` : "";
      const eta = rate && total > done ? `, ETA ${formatSeconds((total - done) / rate)}` : "";
      process.stderr.write(
        `job ${jobId}: ${String(job.state)} ${done}/${total}${pct}, failed ${num(job.failed)}${speed}${eta}\n`,
      );
    },
    stop: () => undefined,
  };
}

async function barReporter(jobId: string): Promise<Reporter> {
  const { SingleBar, Presets } = await import("cli-progress");
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `job ${jobId} [{bar}] {percentage}% | {value}/{total} | {speed}/s | ETA {eta_formatted} | failed {failed}`,
      hideCursor: true,
      etaBuffer: 20,
      noTTYOutput: false,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(job, done, total, rate) {
      const payload = { speed: rate === null ? "-" : rate.toFixed(1), failed: num(job.failed) };
      if (!started) {
        bar.start(Math.max(total, 1), done, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(done, payload);
      }
    },
    stop: () => bar.stop(),
  };
}

const silent: Reporter = { update: () => undefined, stop: () => undefined };

export async function waitForJob(session: Session, jobId: string, intervalMs: number): Promise<Answer> {
  const quiet = session.format !== "human" && !session.opts.verbose;
  const reporter = process.stderr.isTTY ? await barReporter(jobId) : quiet ? silent : lineReporter(jobId);
  const onInterrupt = () => {
    reporter.stop();
    process.stderr.write(`\nstopped waiting; the job goes on: salts job ${jobId} --wait\n`);
    process.exit(130);
  };
  process.once("SIGINT", onInterrupt);
  let first: Sample | null = null;
  try {
    for (;;) {
      const job = await session.call("job", { job_id: jobId });
      const done = doneOf(job);
      const now = Date.now();
      first ??= { at: now, done };
      const elapsed = (now - first.at) / 1000;
      const rate = elapsed >= 1 ? (done - first.done) / elapsed : null;
      reporter.update(job, done, Math.max(num(job.total), done), rate);
      if (job.state !== "running") return job;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  } finally {
    reporter.stop();
    process.removeListener("SIGINT", onInterrupt);
  }
}
