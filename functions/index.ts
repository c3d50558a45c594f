/**
 * Functions entry point. Everything deploys as one group, `salts`, so the
 * functions are named `salts-<name>` (`firebase deploy --only functions:salts`).
 */
export * as salts from "./triggers/salts";
