/**
 * The `salts` function group. Everything deploys as `salts-<name>`
 * (`firebase deploy --only functions:salts`). Only the declarations load with
 * this module; each function's code loads on its first call (triggers/lazy.ts).
 */
export * from "./callables";
export * from "./workers";
export * from "./bigquery";
export * from "./events";
