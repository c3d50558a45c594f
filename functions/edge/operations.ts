import type { z } from "zod";
import type { CallableSpec } from "./callable";
import { schemas } from "./schemas";
import { scopeSchemas } from "./scopeSchemas";

const op = <S extends z.ZodType, R extends object>(spec: CallableSpec<S, R>) => spec;

/**
 * Every operation of the public API, by callable name: its role, schema and
 * use case. The callables, and the CLI in direct mode, run these same entries.
 * Each `run` imports its use case when it first runs, so a function loads only
 * its own (a read-only callable never loads the job engine).
 */
export const OPERATIONS = {
  status: op({
    operation: "status",
    role: "auditor",
    mutating: false,
    schema: schemas.status,
    run: async (s) => (await import("../usecases/status.js")).getStatus(s),
  }),
  rotateUser: op({
    operation: "rotate_user",
    role: "admin",
    mutating: true,
    schema: schemas.rotateUser,
    run: async (s, ctx, i) =>
      (await import("../usecases/rotateSalt.js")).rotateSalt(s, ctx, "user", i.user_id, {
        force: i.force,
        reason: i.reason,
      }),
  }),
  rotateGlobal: op({
    operation: "rotate_global",
    role: "admin",
    mutating: true,
    schema: schemas.rotateGlobal,
    run: async (s, ctx, i) =>
      (await import("../usecases/rotateSalt.js")).rotateSalt(s, ctx, "global", i.event_type, {
        force: i.force,
        reason: i.reason,
      }),
  }),
  rotateDue: op({
    operation: "rotate_due",
    role: "admin",
    mutating: true,
    schema: schemas.rotateDue,
    run: async (s, ctx, i) => (await import("../usecases/jobs/rotation.js")).startRotateDue(s, ctx, i),
  }),
  rewrap: op({
    operation: "rewrap",
    role: "admin",
    mutating: true,
    schema: schemas.rewrap,
    run: async (s, ctx, i) => (await import("../usecases/jobs/rewrap.js")).startRewrap(s, ctx, i),
  }),
  forecast: op({
    operation: "forecast",
    role: "auditor",
    mutating: false,
    schema: schemas.forecast,
    run: async (s, _ctx, i) => (await import("../usecases/forecast.js")).forecast(s, i),
  }),
  auditVerify: op({
    operation: "audit_verify",
    role: "auditor",
    mutating: false,
    schema: schemas.auditVerify,
    run: async (s, _ctx, i) => (await import("../usecases/auditVerify.js")).auditVerify(s, i),
  }),
  job: op({
    operation: "job",
    role: "auditor",
    mutating: false,
    schema: schemas.job,
    run: async (s, _ctx, i) => (await import("../usecases/jobs/status.js")).jobStatus(s, i.job_id),
  }),
  listJobs: op({
    operation: "list_jobs",
    role: "auditor",
    mutating: false,
    schema: schemas.listJobs,
    run: async (s, _ctx, i) => (await import("../usecases/jobs/status.js")).listJobs(s, i),
  }),
  listSalts: op({
    operation: "list_salts",
    role: "auditor",
    mutating: false,
    schema: schemas.listSalts,
    run: async (s, _ctx, i) => (await import("../usecases/listSalts.js")).listSalts(s, i),
  }),
  audit: op({
    operation: "audit",
    role: "auditor",
    mutating: false,
    schema: schemas.audit,
    run: async (s, ctx, i) => (await import("../usecases/audit.js")).auditUser(s, ctx, i.user_id),
  }),
  auditLog: op({
    operation: "audit_log",
    role: "auditor",
    mutating: false,
    schema: schemas.auditLog,
    run: async (s, _ctx, i) => (await import("../usecases/audit.js")).auditLog(s, i),
  }),
  erase: op({
    operation: "erase",
    role: "admin",
    mutating: true,
    schema: schemas.erase,
    run: async (s, ctx, i) => (await import("../usecases/erase.js")).eraseUser(s, ctx, i.user_id, i.reason),
  }),
  reloadConfig: op({
    operation: "reload",
    role: "admin",
    mutating: true,
    schema: schemas.reloadConfig,
    run: async (s, ctx) => (await import("../usecases/reloadConfig.js")).reloadConfig(s, ctx),
  }),
  pseudonymizeTest: op({
    operation: "pseudonymize_test",
    role: "admin",
    mutating: true,
    schema: schemas.pseudonymizeTest,
    run: async (s, ctx, i) => (await import("../usecases/pseudonymizeTest.js")).pseudonymizeTest(s, ctx, i),
  }),
  bigqueryInfo: op({
    operation: "bigquery_info",
    role: "auditor",
    mutating: false,
    schema: schemas.bigqueryInfo,
    run: async (s, _ctx, i) => (await import("../usecases/bigqueryInfo.js")).bigqueryInfo(s, i),
  }),
  // Subject access and scopes.
  subjectReport: op({
    operation: "subject_report",
    role: "admin",
    mutating: true,
    schema: scopeSchemas.subjectReport,
    run: async (s, ctx, i) => (await import("../usecases/subjectReport.js")).subjectReport(s, ctx, i),
  }),
  putScope: op({
    operation: "put_scope",
    role: "admin",
    mutating: true,
    schema: scopeSchemas.putScope,
    run: async (s, ctx, i) => (await import("../usecases/scopes.js")).putScope(s, ctx, i),
  }),
  scopes: op({
    operation: "scopes",
    role: "auditor",
    mutating: false,
    schema: scopeSchemas.scopes,
    run: async (s, _ctx, i) => (await import("../usecases/scopes.js")).listScopes(s, i),
  }),
  rotateScope: op({
    operation: "rotate_scope",
    role: "admin",
    mutating: true,
    schema: scopeSchemas.rotateScope,
    run: async (s, ctx, i) => (await import("../usecases/scopes.js")).rotateScope(s, ctx, i),
  }),
} as const;

export type OperationName = keyof typeof OPERATIONS;
