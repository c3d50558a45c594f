import { CliError } from "./exits";
import { debug } from "./log";

export interface HttpAnswer {
  status: number;
  /** The parsed JSON body, or null when the body was not JSON. */
  body: Record<string, unknown> | null;
  text: string;
}

export interface HttpRequest {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** A JSON body, or form fields (application/x-www-form-urlencoded). */
  json?: unknown;
  form?: Record<string, string>;
  timeoutMs: number;
}

/**
 * One HTTP exchange. A timeout is reported as such (the caller decides whether
 * the outcome is unknown); a connection failure is `unavailable`.
 */
export async function http(url: string, req: HttpRequest): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...req.headers };
  let body: string | undefined;
  if (req.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(req.json);
  } else if (req.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(req.form).toString();
  }
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      body,
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (e) {
    const err = e as { name?: string; cause?: { code?: string; message?: string } };
    if (err.name === "TimeoutError") {
      throw new CliError(
        "deadline-exceeded",
        `No answer from ${hostOf(url)} within ${req.timeoutMs / 1000} s`,
      );
    }
    const why = err.cause?.code ?? err.cause?.message ?? String(e);
    throw new CliError("unavailable", `Could not reach ${hostOf(url)} (${why})`);
  }
  const text = await res.text();
  debug("%s %s -> HTTP %d in %d ms", req.method ?? "POST", redact(url), res.status, Date.now() - started);
  let parsed: Record<string, unknown> | null = null;
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === "object") parsed = value as Record<string, unknown>;
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed, text };
}

const hostOf = (url: string): string => new URL(url).host;

/** URLs may carry an API key as `?key=`; logs never show it. */
const redact = (url: string): string => url.replace(/([?&]key=)[^&]+/, "$1…");
