import { z } from "zod";
import { invalidArgument, type Issue } from "../domain/errors";
import { saltIdProblem } from "../domain/ids";
import { scopeIdProblem } from "../domain/scope";

/**
 * Request schemas of every callable. Strict: unknown fields are refused by name.
 * Every string must be well-formed Unicode: a lone surrogate is refused naming
 * the field (a lossy encoding would give two different inputs one meaning).
 */
const text = () =>
  z.string().refine((v) => v.isWellFormed(), "must be well-formed Unicode (no lone surrogates)");

const saltId = (kind: "user" | "global") =>
  z.string().superRefine((v, ctx) => {
    const problem = saltIdProblem(kind, v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
const userId = saltId("user");
const scopeField = z.string().superRefine((v, ctx) => {
  const problem = scopeIdProblem(v);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const eventType = saltId("global");
const reason = text().pipe(z.string().min(1).max(500));
const cursor = text().pipe(z.string().min(1).max(1000));
/** Idempotency: a retry with the same id (same caller, 24 hours) gets the first answer. */
const requestId = text().pipe(z.string().min(1).max(128)).optional();
const isoTime = text()
  .pipe(z.iso.datetime({ offset: true, message: "must be an ISO-8601 date-time" }))
  .transform((v) => new Date(v));

export const schemas = {
  status: z.strictObject({}),
  rotateUser: z.strictObject({
    user_id: userId,
    force: z.boolean().optional(),
    reason: reason.optional(),
    request_id: requestId,
  }),
  rotateGlobal: z.strictObject({
    event_type: eventType,
    force: z.boolean().optional(),
    reason: reason.optional(),
    request_id: requestId,
  }),
  rotateDue: z.strictObject({
    kind: z.enum(["user", "global", "all"]).default("all"),
    limit: z.number().int().min(1).max(1_000_000).optional(),
    dry_run: z.boolean().default(false),
    request_id: requestId,
  }),
  rewrap: z.strictObject({ dry_run: z.boolean().default(false), request_id: requestId }),
  job: z.strictObject({
    job_id: text().pipe(z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "must be a job id this service issued")),
  }),
  listJobs: z.strictObject({
    limit: z.number().int().min(1).max(100).default(20),
    cursor: cursor.optional(),
  }),
  listSalts: z.strictObject({
    kind: z.enum(["user", "global"]),
    limit: z.number().int().min(1).max(500).default(100),
    cursor: cursor.optional(),
  }),
  forecast: z.strictObject({
    days: z.number().int().min(1).max(366).default(90),
    kind: z.enum(["user", "global", "all"]).default("all"),
  }),
  audit: z.strictObject({ user_id: userId }),
  auditLog: z
    .strictObject({
      limit: z.number().int().min(1).max(500).default(100),
      cursor: cursor.optional(),
      target_id: text().pipe(z.string().min(1).max(128)).optional(),
      operation: z
        .string()
        .regex(/^[a-z_]{1,64}$/, "must be an operation name")
        .optional(),
      result: z.enum(["success", "error", "denied"]).optional(),
      from: isoTime.optional(),
      to: isoTime.optional(),
    })
    .refine((q) => !q.from || !q.to || q.from < q.to, { path: ["to"], message: "must be after from" }),
  auditVerify: z.strictObject({
    target_id: text().pipe(z.string().min(1).max(128)).optional(),
    limit: z.number().int().min(1).max(10_000).default(1000),
    cursor: cursor.optional(),
  }),
  erase: z.strictObject({ user_id: userId, reason, request_id: requestId }),
  bigqueryInfo: z.strictObject({ limit: z.number().int().min(1).max(100).default(20) }),
  reloadConfig: z.strictObject({}),
  pseudonymizeTest: z
    .strictObject({
      user_id: userId,
      data: z
        .record(
          text().pipe(z.string().min(1).max(128)),
          z.union([text().pipe(z.string().max(10_000)), z.number(), z.boolean(), z.null()]),
        )
        .refine((d) => Object.keys(d).length <= 100, "must have at most 100 fields"),
      fields: z
        .array(text().pipe(z.string().min(1).max(128)))
        .max(100)
        .optional(),
      event_type: eventType.optional(),
      // Scopes and linking (usecases/pseudonymizeTest, edge/scopeSchemas.ts).
      scope: scopeField.optional(),
      with_previous: z.boolean().optional(),
    })
    .superRefine((v, ctx) => {
      if (v.with_previous && v.event_type !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["with_previous"],
          message: "applies to user pseudonyms (no event_type)",
        });
      v.fields?.forEach((f, i) => {
        if (!Object.hasOwn(v.data, f)) {
          ctx.addIssue({ code: "custom", path: ["fields", i], message: `"${f}" is not a field of data` });
        }
      });
    }),
} as const;

export type Schemas = typeof schemas;

/** The field rules, for schemas declared in other modules (edge/scopeSchemas.ts). */
export const rules = { text, userId, eventType, reason, cursor, requestId };

function issuesOf(error: z.ZodError): Issue[] {
  const issues: Issue[] = [];
  for (const i of error.issues) {
    const path = i.path.map(String).join(".");
    if (i.code === "unrecognized_keys") {
      for (const key of i.keys)
        issues.push({ path: path ? `${path}.${key}` : key, message: "is not a known field" });
    } else {
      issues.push({ path, message: i.message });
    }
  }
  return issues;
}

/** Parses a request body; every violation is listed in one invalid-argument. */
export function parseRequest<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const parsed = schema.safeParse(data ?? {});
  if (!parsed.success) throw invalidArgument(issuesOf(parsed.error));
  return parsed.data;
}

/** The field rules, for schemas declared beside this file (edge/controlSchemas.ts). */
export const fields = { text, reason, cursor, requestId, userId };
