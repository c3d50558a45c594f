/**
 * The callables: one declaration per operation of edge/registry.ts, with the secrets its
 * function binds besides the audit key. Nothing else loads with the module: the pipeline
 * (edge/callable.ts), the operation table, its schemas and the operation's use case load on
 * the function's first call (see CONTRIBUTING.md, "Add a callable").
 */
import { onCall, type CallableRequest } from "firebase-functions/https";
import type { z } from "zod";
import type { CallableSpec, SecretNeed } from "../edge/callable";
import type { CallableName } from "../edge/registry";
import { loadOnFirstCall } from "./lazy";
import { callableOptions } from "./options";

function callable(name: CallableName, secrets: readonly SecretNeed[] = []) {
  return onCall(
    callableOptions(secrets),
    loadOnFirstCall(async () => {
      const [{ ALL_OPERATIONS }, { handleCall }, { services }] = await Promise.all([
        import("../edge/registry.js"),
        import("../edge/callable.js"),
        import("../app/instance.js"),
      ]);
      const spec = ALL_OPERATIONS[name] as CallableSpec<z.ZodType, object>;
      return (request: CallableRequest<unknown>) => handleCall(spec, request, services(), secrets);
    }),
  );
}

export const status = callable("status", ["pepper", "key"]);
export const rotateUser = callable("rotateUser", ["key"]);
export const rotateGlobal = callable("rotateGlobal", ["key"]);
export const rotateDue = callable("rotateDue", ["key"]);
export const rewrap = callable("rewrap", ["key"]);
export const forecast = callable("forecast");
export const auditVerify = callable("auditVerify");
export const job = callable("job");
export const listJobs = callable("listJobs");
export const listSalts = callable("listSalts");
export const audit = callable("audit");
export const auditLog = callable("auditLog");
export const erase = callable("erase");
export const reloadConfig = callable("reloadConfig");
export const pseudonymizeTest = callable("pseudonymizeTest", ["pepper", "key"]);
export const bigqueryInfo = callable("bigqueryInfo");
// Access and dual control. An approved rotate_due or rewrap runs inside salts-approve: it encrypts.
export const roles = callable("roles");
export const setRole = callable("setRole");
export const setApprovals = callable("setApprovals");
export const approve = callable("approve", ["key"]);
export const approvals = callable("approvals");
// Subject access and scopes: reports pseudonymize; scope secrets are encrypted like salts.
export const subjectReport = callable("subjectReport", ["pepper", "key"]);
export const putScope = callable("putScope", ["key"]);
export const scopes = callable("scopes");
export const rotateScope = callable("rotateScope", ["key"]);
