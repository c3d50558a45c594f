import { OAuth2Client } from "google-auth-library";
import { SaltServiceError, unavailable } from "../domain/errors";
import type { IdTokenVerifier } from "../ports/idTokens";

const GOOGLE_ISSUERS = ["accounts.google.com", "https://accounts.google.com"];

const refused = (why: string) => new SaltServiceError("unauthenticated", `The ID token was refused: ${why}`);

function decodePart(part: string | undefined): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Why the library refused a token, in a few words. Its messages quote the whole token and its
 * payload: they are never passed on, to a caller or to a log.
 */
function reasonOf(e: unknown): string {
  const message = e instanceof Error ? e.message : "";
  if (/too late/i.test(message)) return "it has expired";
  if (/too early/i.test(message)) return "it is not valid yet";
  if (/audience/i.test(message)) return "it was not minted for this function's URL";
  if (/issuer/i.test(message)) return "it was not issued by Google";
  if (/No pem found|signature/i.test(message)) return "its signature does not verify against Google's keys";
  return "it is not a valid ID token";
}

/**
 * Google-signed OIDC ID tokens (RS256, Google's issuer, the function's URL as audience, not expired,
 * a verified email), verified with google-auth-library against Google's published keys. With
 * `acceptUnsigned` (the Functions emulator only: composeServices decides it from FUNCTIONS_EMULATOR),
 * an unsigned token (`alg: none`) is read for its email, since nothing there can mint a signed one.
 */
export class GoogleIdTokens implements IdTokenVerifier {
  constructor(
    private readonly options: { acceptUnsigned: boolean },
    private readonly client: OAuth2Client = new OAuth2Client(),
  ) {}

  async emailOf(token: string, audience: string): Promise<string> {
    const [head, body, signature] = token.split(".");
    const header = decodePart(head);
    const payload = decodePart(body);
    if (!header || !payload || signature === undefined) throw refused("it is not a JWT");
    if (header.alg === "none") {
      if (!this.options.acceptUnsigned) {
        throw refused("unsigned tokens are accepted only under the Functions emulator");
      }
      return emailIn(payload, false);
    }
    if (header.alg !== "RS256") throw refused("it is not signed with RS256");
    let certs;
    try {
      certs = (await this.client.getFederatedSignonCertsAsync()).certs;
    } catch (e) {
      throw unavailable("Google's token signing keys could not be fetched; retry", e);
    }
    let ticket;
    try {
      ticket = await this.client.verifySignedJwtWithCertsAsync(token, certs, audience, GOOGLE_ISSUERS);
    } catch (e) {
      throw refused(reasonOf(e));
    }
    return emailIn({ ...ticket.getPayload() }, true);
  }
}

function emailIn(payload: Record<string, unknown>, signed: boolean): string {
  const email = payload.email;
  if (typeof email !== "string" || !/^[^\s@]+@[^\s@]+$/.test(email)) throw refused("it carries no email");
  // A signed token's email is the account's only when Google verified it (service accounts' always are).
  if (signed && payload.email_verified !== true) throw refused("its email is not verified");
  const exp = payload.exp;
  if (!signed && typeof exp === "number" && exp * 1000 < Date.now()) throw refused("it has expired");
  return email.toLowerCase();
}
