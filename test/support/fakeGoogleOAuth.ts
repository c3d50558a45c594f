import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for the part of Google's OAuth 2.0 API the CLI's direct mode uses to learn who its
 * user credentials belong to: `POST /token` (refresh_token grant) and `/tokeninfo`. It issues a known
 * access token, so a test can look for it in what the CLI printed, and records every request as seen.
 */
export class FakeGoogleOAuth {
  readonly accessToken = `ya29.a0AfB_${"x".repeat(40)}TESTTOKEN`;
  readonly requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  private server: http.Server | null = null;
  host = "";

  constructor(readonly email: string) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        this.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(value));
        };
        const url = new URL(req.url ?? "/", "http://local");
        if (url.pathname === "/token") {
          const form = new URLSearchParams(body);
          if (form.get("grant_type") !== "refresh_token")
            return json(400, { error: "unsupported_grant_type" });
          return json(200, { access_token: this.accessToken, expires_in: 3599, token_type: "Bearer" });
        }
        if (url.pathname === "/tokeninfo") {
          const presented =
            url.searchParams.get("access_token") ??
            new URLSearchParams(body).get("access_token") ??
            /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
          if (presented !== this.accessToken) return json(400, { error: "invalid_token" });
          return json(200, { email: this.email, email_verified: "true", expires_in: 3500, scope: "email" });
        }
        json(404, { error: "not_found" });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.host;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
