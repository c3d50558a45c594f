import { CliError, codeOf } from "./exits";
import { debug } from "./log";
import type { Answer } from "./transport";

/** What a guarded operation answers instead of acting: the request waits for a second admin. */
export interface PendingApprovalAnswer {
  approval_id: string;
  operation: string;
  requested_by: string;
  expires_at: string;
}

export const pendingOf = (answer: Answer): PendingApprovalAnswer | null => {
  const p = answer.pending_approval;
  return p && typeof p === "object" ? (p as PendingApprovalAnswer) : null;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The session's part this needs: calling the service, and how often to look. */
interface Caller {
  call(name: string, data?: Record<string, unknown>): Promise<Answer>;
}

/**
 * A guarded call was recorded, not run. Without --wait the command ends with
 * exit status 9 (pending) and says what to do; with --wait it follows the
 * request until a second admin decides, and returns the run's answer as if the
 * call had answered it (so the command prints it as usual).
 */
export async function settlePending(
  session: Caller,
  answer: Answer,
  options: { wait: boolean; intervalMs: number; quiet: boolean },
): Promise<Answer> {
  const pending = pendingOf(answer)!;
  const id = pending.approval_id;
  if (!options.wait) {
    throw new CliError(
      "pending",
      `${pending.operation} needs a second admin's approval: request ${id} is recorded (expires ${pending.expires_at}); nothing was done yet`,
      { pending_approval: pending, correlation_id: answer.correlation_id },
      `another admin decides with: salts approve ${id} --reason <text>   (rerun with --wait to wait for it)`,
    );
  }
  if (!options.quiet)
    process.stderr.write(
      `waiting for a second admin to decide ${id} (${pending.operation}; expires ${pending.expires_at})\n`,
    );
  for (;;) {
    const listed = await session.call("approvals", { approval_id: id });
    const approval: Record<string, unknown> = (listed.approvals as Record<string, unknown>[])[0] ?? {};
    const state = String(approval.state);
    const run = approval.run as { state?: string; error?: { code: string; message: string } } | undefined;
    debug("approval %s: %s (run %s)", id, state, run?.state ?? "-");
    if (state === "rejected" || state === "expired") {
      const by =
        state === "rejected" ? ` by ${String(approval.decided_by)}: ${String(approval.reason ?? "")}` : "";
      throw new CliError("failed-precondition", `Request ${id} was ${state}${by}; nothing was done`, {
        approval,
        correlation_id: listed.correlation_id,
      });
    }
    if (state === "approved" && run?.state === "done") {
      if (!options.quiet) process.stderr.write(`${id} approved by ${String(approval.decided_by)}\n`);
      return { ...(approval.result as Answer), correlation_id: String(listed.correlation_id) };
    }
    if (state === "approved" && run?.state === "failed" && run.error) {
      throw new CliError(
        codeOf(run.error.code),
        `Approved, but ${pending.operation} failed: ${run.error.message}`,
        {
          approval,
          correlation_id: listed.correlation_id,
        },
      );
    }
    await sleep(options.intervalMs);
  }
}
