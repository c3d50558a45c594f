import { z } from "zod";
import { consumerProblem, scopeIdProblem } from "../domain/scope";
import { rules } from "./schemas";

/** Request schemas of the subject report and the scope callables (strict, like every other). */
const scopeId = z.string().superRefine((v, ctx) => {
  const problem = scopeIdProblem(v);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const consumer = z.string().superRefine((v, ctx) => {
  const problem = consumerProblem(v);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const fieldName = rules.text().pipe(z.string().min(1).max(128));

export const scopeSchemas = {
  subjectReport: z.strictObject({
    user_id: rules.userId,
    values: z
      .record(fieldName, z.union([rules.text().pipe(z.string().max(10_000)), z.number(), z.boolean()]))
      .refine((d) => Object.keys(d).length <= 50, "must have at most 50 fields")
      .optional(),
    event_types: z.array(rules.eventType).max(20).optional(),
    reason: rules.reason,
    request_id: rules.requestId,
  }),
  putScope: z.strictObject({
    scope_id: scopeId,
    description: rules.text().pipe(z.string().max(500)),
    rotation_days: z.number().int().min(1).max(3650),
    consumers: z.array(consumer).max(100),
    reason: rules.reason,
    request_id: rules.requestId,
  }),
  scopes: z.strictObject({
    limit: z.number().int().min(1).max(500).default(100),
    cursor: rules.cursor.optional(),
  }),
  rotateScope: z.strictObject({ scope_id: scopeId, reason: rules.reason, request_id: rules.requestId }),
} as const;
