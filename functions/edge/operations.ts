import type { z } from "zod";
import { auditLog, auditUser } from "../usecases/audit";
import { eraseUser } from "../usecases/erase";
import { auditVerify } from "../usecases/auditVerify";
import { bigqueryInfo } from "../usecases/bigqueryInfo";
import { forecast } from "../usecases/forecast";
import { startRewrap } from "../usecases/jobs/rewrap";
import { startRotateDue } from "../usecases/jobs/rotation";
import { jobStatus, listJobs } from "../usecases/jobs/status";
import { listSalts } from "../usecases/listSalts";
import { pseudonymizeTest } from "../usecases/pseudonymizeTest";
import { reloadConfig } from "../usecases/reloadConfig";
import { rotateSalt } from "../usecases/rotateSalt";
import { getStatus } from "../usecases/status";
import { listScopes, putScope, rotateScope } from "../usecases/scopes";
import { subjectReport } from "../usecases/subjectReport";
import type { CallableSpec } from "./callable";
import { schemas } from "./schemas";
import { scopeSchemas } from "./scopeSchemas";

const op = <S extends z.ZodType, R extends object>(spec: CallableSpec<S, R>) => spec;

/**
 * Every operation of the public API, by callable name: its role, schema and
 * use case. The callables, and the CLI in direct mode, run these same entries.
 */
export const OPERATIONS = {
  status: op({
    operation: "status",
    role: "auditor",
    mutating: false,
    schema: schemas.status,
    secrets: ["pepper", "key"],
    run: (s) => getStatus(s),
  }),
  rotateUser: op({
    operation: "rotate_user",
    role: "admin",
    mutating: true,
    schema: schemas.rotateUser,
    secrets: ["key"],
    run: (s, ctx, i) => rotateSalt(s, ctx, "user", i.user_id, { force: i.force, reason: i.reason }),
  }),
  rotateGlobal: op({
    operation: "rotate_global",
    role: "admin",
    mutating: true,
    schema: schemas.rotateGlobal,
    secrets: ["key"],
    run: (s, ctx, i) => rotateSalt(s, ctx, "global", i.event_type, { force: i.force, reason: i.reason }),
  }),
  rotateDue: op({
    operation: "rotate_due",
    role: "admin",
    mutating: true,
    schema: schemas.rotateDue,
    secrets: ["key"],
    run: (s, ctx, i) => startRotateDue(s, ctx, i),
  }),
  rewrap: op({
    operation: "rewrap",
    role: "admin",
    mutating: true,
    schema: schemas.rewrap,
    secrets: ["key"],
    run: (s, ctx, i) => startRewrap(s, ctx, i),
  }),
  forecast: op({
    operation: "forecast",
    role: "auditor",
    mutating: false,
    schema: schemas.forecast,
    secrets: [],
    run: (s, _ctx, i) => forecast(s, i),
  }),
  auditVerify: op({
    operation: "audit_verify",
    role: "auditor",
    mutating: false,
    schema: schemas.auditVerify,
    secrets: [],
    run: (s, _ctx, i) => auditVerify(s, i),
  }),
  job: op({
    operation: "job",
    role: "auditor",
    mutating: false,
    schema: schemas.job,
    secrets: [],
    run: (s, _ctx, i) => jobStatus(s, i.job_id),
  }),
  listJobs: op({
    operation: "list_jobs",
    role: "auditor",
    mutating: false,
    schema: schemas.listJobs,
    secrets: [],
    run: (s, _ctx, i) => listJobs(s, i),
  }),
  listSalts: op({
    operation: "list_salts",
    role: "auditor",
    mutating: false,
    schema: schemas.listSalts,
    secrets: [],
    run: (s, _ctx, i) => listSalts(s, i),
  }),
  audit: op({
    operation: "audit",
    role: "auditor",
    mutating: false,
    schema: schemas.audit,
    secrets: [],
    run: (s, ctx, i) => auditUser(s, ctx, i.user_id),
  }),
  auditLog: op({
    operation: "audit_log",
    role: "auditor",
    mutating: false,
    schema: schemas.auditLog,
    secrets: [],
    run: (s, _ctx, i) => auditLog(s, i),
  }),
  erase: op({
    operation: "erase",
    role: "admin",
    mutating: true,
    schema: schemas.erase,
    secrets: [],
    run: (s, ctx, i) => eraseUser(s, ctx, i.user_id, i.reason),
  }),
  reloadConfig: op({
    operation: "reload",
    role: "admin",
    mutating: true,
    schema: schemas.reloadConfig,
    secrets: [],
    run: (s, ctx) => reloadConfig(s, ctx),
  }),
  bigqueryInfo: op({
    operation: "bigquery_info",
    role: "auditor",
    mutating: false,
    schema: schemas.bigqueryInfo,
    secrets: [],
    run: (s, _ctx, i) => bigqueryInfo(s, i),
  }),
  pseudonymizeTest: op({
    operation: "pseudonymize_test",
    role: "admin",
    mutating: true,
    schema: schemas.pseudonymizeTest,
    secrets: ["pepper", "key"],
    run: (s, ctx, i) => pseudonymizeTest(s, ctx, i),
  }),
  // Subject access and scopes (issue 21).
  subjectReport: op({
    operation: "subject_report",
    role: "admin",
    mutating: true,
    schema: scopeSchemas.subjectReport,
    secrets: ["pepper", "key"],
    run: (s, ctx, i) => subjectReport(s, ctx, i),
  }),
  putScope: op({
    operation: "put_scope",
    role: "admin",
    mutating: true,
    schema: scopeSchemas.putScope,
    secrets: ["key"],
    run: (s, ctx, i) => putScope(s, ctx, i),
  }),
  scopes: op({
    operation: "scopes",
    role: "auditor",
    mutating: false,
    schema: scopeSchemas.scopes,
    secrets: [],
    run: (s, _ctx, i) => listScopes(s, i),
  }),
  rotateScope: op({
    operation: "rotate_scope",
    role: "admin",
    mutating: true,
    schema: scopeSchemas.rotateScope,
    secrets: ["key"],
    run: (s, ctx, i) => rotateScope(s, ctx, i),
  }),
} as const;

export type OperationName = keyof typeof OPERATIONS;
