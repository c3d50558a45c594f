import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";

/** Every response body the e2e tests saw, appended to one file the leak test reads last. */
export const LEDGER = path.resolve(__dirname, "../../.tmp/responses.ledger");

export function recordResponse(raw: string): void {
  mkdirSync(path.dirname(LEDGER), { recursive: true });
  appendFileSync(LEDGER, `${raw}\n`);
}
