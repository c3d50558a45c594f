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
 * One HTTP exchange over node:http(s): a process that makes one or two calls
 * starts faster with it than with fetch (whose client loads on first use).
 * A timeout is reported as such (the caller decides whether the outcome is
 * unknown); a connection failure is `unavailable`.
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
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  const method = req.method ?? (body === undefined ? "GET" : "POST");
  const target = new URL(url);
  const transport = target.protocol === "https:" ? await import("node:https") : await import("node:http");
  const started = Date.now();
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = transport.request(target, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    const timer = setTimeout(() => {
      request.destroy();
      reject(
        new CliError("deadline-exceeded", `No answer from ${target.host} within ${req.timeoutMs / 1000} s`),
      );
    }, req.timeoutMs);
    request.on("close", () => clearTimeout(timer));
    request.on("error", (e: NodeJS.ErrnoException) =>
      reject(new CliError("unavailable", `Could not reach ${target.host} (${e.code ?? e.message})`)),
    );
    request.end(body);
  });
  debug("%s %s -> HTTP %d in %d ms", method, redact(url), status, Date.now() - started);
  let parsed: Record<string, unknown> | null = null;
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === "object") parsed = value as Record<string, unknown>;
  } catch {
    parsed = null;
  }
  return { status, body: parsed, text };
}

/** URLs may carry an API key as `?key=`; logs never show it. */
const redact = (url: string): string => url.replace(/([?&]key=)[^&]+/, "$1…");
