import { failedPrecondition } from "./errors";

/** The shortest pepper accepted (after trimming): refused below, never padded. */
export const MIN_PEPPER_BYTES = 32;

// ASCII whitespace, the set Python's bytes.strip() removes: HT, LF, VT, FF, CR, space.
const isBlank = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);
const isPrintable = (b: number): boolean => b >= 0x20 && b <= 0x7e;

/**
 * The pepper's bytes from its secret payload: the one rule, for every path that loads it (Secret Manager,
 * the value the Functions runtime injects under PEPPER_SOURCE=runtime or the emulator, the CLI's direct
 * mode; `.secret.local` reaches the functions through one of those). Applied once per version loaded,
 * never per value.
 *
 * - ASCII whitespace at either end is removed: the newline `openssl rand -base64 48 | gcloud secrets
 *   versions add` stores, a CRLF, a pasted space never change a pseudonym.
 * - What remains must be printable ASCII (0x20-0x7E) and at least 32 bytes. It is the HMAC key as it
 *   stands: base64 or hex text is never decoded (a 64-character hex string is valid base64 too, so any
 *   "decode when it looks like X" rule would make the key depend on the spelling once more).
 * - Anything else (binary, non-ASCII, too short) is failed-precondition naming the secret, never its value:
 *   an environment variable cannot carry arbitrary bytes, so a binary pepper would give the runtime path
 *   other bytes than Secret Manager, and non-ASCII text may be stored in more than one normal form.
 */
export function pepperBytes(payload: Buffer, name = "PSEUDONYM_PEPPER"): Buffer {
  let start = 0;
  let end = payload.length;
  while (start < end && isBlank(payload[start]!)) start++;
  while (end > start && isBlank(payload[end - 1]!)) end--;
  if (start === end) throw failedPrecondition(`${name} is missing or empty`);
  for (let i = start; i < end; i++) {
    if (!isPrintable(payload[i]!)) {
      throw failedPrecondition(
        `${name} must be printable ASCII text (for example \`openssl rand -base64 48\`), not binary`,
      );
    }
  }
  if (end - start < MIN_PEPPER_BYTES) {
    throw failedPrecondition(`${name} is shorter than ${MIN_PEPPER_BYTES} bytes`);
  }
  return Buffer.from(payload.subarray(start, end));
}
