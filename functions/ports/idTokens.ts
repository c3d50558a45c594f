/**
 * Who signed an OIDC ID token: BigQuery (and pipelines) call salts-pseudonymizeBatch with a
 * Google-signed ID token of a service account, minted for the function's URL.
 */
export interface IdTokenVerifier {
  /**
   * The email of the token's subject, lower-cased, when the token is valid for `audience`;
   * otherwise `unauthenticated` (`unavailable` when the signing keys cannot be fetched).
   */
  emailOf(token: string, audience: string): Promise<string>;
}
