/**
 * The callables: one thin declaration per operation of edge/operations.ts; the
 * pipeline in edge/callable.ts does the rest.
 */
import { onCall } from "firebase-functions/https";
import type { z } from "zod";
import { services } from "../app/instance";
import { handleCall, type CallableSpec } from "../edge/callable";
import { OPERATIONS } from "../edge/operations";
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
export const subjectReport = callable(OPERATIONS.subjectReport);
export const putScope = callable(OPERATIONS.putScope);
export const scopes = callable(OPERATIONS.scopes);
export const rotateScope = callable(OPERATIONS.rotateScope);
