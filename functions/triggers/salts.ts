/**
 * The `salts` function group. Everything deploys as `salts-<name>`
 * (`firebase deploy --only functions:salts`).
 */
import { onInit } from "firebase-functions";
import { services } from "../app/instance";
import { logs } from "../observability/logs";

// Build the services and read the intervals in force before the first request.
onInit(async () => {
  try {
    await services().policy.refresh(true);
  } catch (e) {
    logs.unexpectedError("init", "init", e);
  }
});

export * from "./callables";
export * from "./workers";
export * from "./bigquery";
export * from "./events";
