import { z } from "zod";
import { invalidArgument, type Issue } from "../domain/errors";
import { saltIdProblem } from "../domain/ids";

/** Request schemas of every callable. Strict: unknown fields are refused by name. */
const userId = z.string().superRefine((v, ctx) => {
  const problem = saltIdProblem("user", v);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const eventType = z.string().superRefine((v, ctx) => {
  const problem = saltIdProblem("global", v);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const reason = z.string().min(1).max(500);

export const schemas = {
  status: z.strictObject({}),
  rotateUser: z.strictObject({ user_id: userId, force: z.boolean().optional(), reason: reason.optional() }),
  rotateGlobal: z.strictObject({
    event_type: eventType,
    force: z.boolean().optional(),
    reason: reason.optional(),
  }),
  rotateDue: z.strictObject({
    kind: z.enum(["user", "global", "all"]).default("all"),
    limit: z.number().int().min(1).max(1_000_000).optional(),
    dry_run: z.boolean().default(false),
  }),
  job: z.strictObject({
    job_id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "must be a job id this service issued"),
  }),
  listJobs: z.strictObject({
    limit: z.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(1000).optional(),
  }),
  listSalts: z.strictObject({
    kind: z.enum(["user", "global"]),
    limit: z.number().int().min(1).max(500).default(100),
    cursor: z.string().min(1).max(1000).optional(),
  }),
  audit: z.strictObject({ user_id: userId }),
  auditLog: z.strictObject({
    limit: z.number().int().min(1).max(500).default(100),
    cursor: z.string().min(1).max(1000).optional(),
    target_id: z.string().min(1).max(128).optional(),
    operation: z
      .string()
      .regex(/^[a-z_]{1,64}$/, "must be an operation name")
      .optional(),
  }),
  erase: z.strictObject({ user_id: userId, reason }),
  reloadConfig: z.strictObject({}),
  pseudonymizeTest: z
    .strictObject({
      user_id: userId,
      data: z
        .record(
          z.string().min(1).max(128),
          z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()]),
        )
        .refine((d) => Object.keys(d).length <= 100, "must have at most 100 fields"),
      fields: z.array(z.string().min(1).max(128)).max(100).optional(),
      event_type: eventType.optional(),
    })
    .superRefine((v, ctx) => {
      v.fields?.forEach((f, i) => {
        if (!Object.hasOwn(v.data, f))
          ctx.addIssue({ code: "custom", path: ["fields", i], message: `"${f}" is not a field of data` });
      });
    }),
} as const;

export type Schemas = typeof schemas;

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
