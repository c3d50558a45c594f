/**
 * The callables: one thin declaration per operation of edge/operations.ts; the
 * pipeline in edge/callable.ts does the rest.
 */
import { onCall } from "firebase-functions/https";
import type { z } from "zod";
import { services } from "../app/instance";
import { handleCall, type CallableSpec } from "../edge/callable";
import { OPERATIONS } from "../edge/operations";
import { ALL_OPERATIONS } from "../edge/registry";
import { callableOptions } from "./options";

function callable<S extends z.ZodType, R extends object>(spec: CallableSpec<S, R>) {
  return onCall(callableOptions(spec.secrets), (request) => handleCall(spec, request, services()));
}

export const status = callable(OPERATIONS.status);
export const rotateUser = callable(OPERATIONS.rotateUser);
export const rotateGlobal = callable(OPERATIONS.rotateGlobal);
export const rotateDue = callable(OPERATIONS.rotateDue);
export const rewrap = callable(OPERATIONS.rewrap);
export const forecast = callable(OPERATIONS.forecast);
export const auditVerify = callable(OPERATIONS.auditVerify);
export const job = callable(OPERATIONS.job);
export const listJobs = callable(OPERATIONS.listJobs);
export const listSalts = callable(OPERATIONS.listSalts);
export const audit = callable(OPERATIONS.audit);
export const auditLog = callable(OPERATIONS.auditLog);
export const erase = callable(OPERATIONS.erase);
export const reloadConfig = callable(OPERATIONS.reloadConfig);
export const pseudonymizeTest = callable(OPERATIONS.pseudonymizeTest);
// Access and dual control.
export const roles = callable(ALL_OPERATIONS.roles);
export const setRole = callable(ALL_OPERATIONS.setRole);
export const setApprovals = callable(ALL_OPERATIONS.setApprovals);
export const approve = callable(ALL_OPERATIONS.approve);
export const approvals = callable(ALL_OPERATIONS.approvals);
export const bigqueryInfo = callable(ALL_OPERATIONS.bigqueryInfo);
export const subjectReport = callable(ALL_OPERATIONS.subjectReport);
export const putScope = callable(ALL_OPERATIONS.putScope);
export const scopes = callable(ALL_OPERATIONS.scopes);
export const rotateScope = callable(ALL_OPERATIONS.rotateScope);
