import { ApiError } from "./api";

export interface PlainError {
  title: string;
  body: string;
  advice: string | null;
  correlationId: string | null;
  /** Not a failure: a guarded call waits for a second admin (shown as a notice, not an alert). */
  pending?: { approvalId: string } | undefined;
}

const TITLES: Record<string, string> = {
  "invalid-argument": "The request was not accepted",
  "not-found": "Not found",
  "failed-precondition": "The service refused this request",
  "resource-exhausted": "Too many requests",
  unavailable: "The service is unavailable",
  "deadline-exceeded": "No answer in time",
  "permission-denied": "Not allowed",
  unauthenticated: "You are signed out",
  internal: "The service hit an unexpected error",
};

const capitalized = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Every failure in plain words, with what to do next. */
export function describeError(e: unknown): PlainError {
  if (!(e instanceof ApiError)) {
    return {
      title: "Something went wrong in the console",
      body: e instanceof Error ? e.message : String(e),
      advice: "Reload the page. If it happens again, report it with the steps that led here.",
      correlationId: null,
    };
  }
  const pending = e.pendingApproval;
  if (pending) {
    return {
      title: "Sent for approval",
      body: `${capitalized(pending.operation.replace(/_/g, " "))} needs a second admin: request ${pending.approval_id} waits until ${pending.expires_at.replace("T", " ").replace(/\.\d+Z$/, " UTC")}. Nothing was done yet.`,
      advice: "Another admin approves or rejects it on the Approvals page; it runs when approved.",
      correlationId: e.correlationId,
      pending: { approvalId: pending.approval_id },
    };
  }
  const title = TITLES[e.code] ?? `The call failed (${e.code})`;
  if (e.notAvailable) {
    return {
      title: "Not available on this server yet",
      body: `This server does not offer salts-${e.fn} yet.`,
      advice: "Deploy a newer version of the salts functions to use it.",
      correlationId: null,
    };
  }
  let body = e.message;
  let advice: string | null = null;
  switch (e.code) {
    case "invalid-argument":
      body =
        e.issues.length > 0
          ? e.issues.map((i) => `${i.path || "request"}: ${i.message}`).join("; ")
          : e.message;
      advice = "Correct the fields named above and try again. Nothing was changed.";
      break;
    case "resource-exhausted": {
      const s = e.retryAfterSeconds;
      advice =
        s !== null
          ? `Try again in ${s} second${s === 1 ? "" : "s"}. Nothing was changed.`
          : "Wait a minute and try again. Nothing was changed.";
      break;
    }
    case "unavailable":
      advice = "The call did nothing. It is safe to try again in a few seconds.";
      break;
    case "deadline-exceeded":
      advice =
        "The outcome is unknown: it may or may not have taken effect. Retrying is safe: the retry sends the same request id, so it is not done twice.";
      break;
    case "permission-denied":
      advice = "Your account lacks the role for this. Admins may change salts; auditors may only read.";
      break;
    case "unauthenticated":
      advice = "Sign in again.";
      break;
    case "internal":
      advice =
        e.correlationId === null
          ? "The service could not be reached (network, or the function is not deployed). Check the connection and try again."
          : "Report it with the correlation id below.";
      break;
    case "failed-precondition":
      advice = "Nothing was changed.";
      break;
    default:
      break;
  }
  return { title, body, advice, correlationId: e.correlationId };
}
