import { z } from "zod";
import { ROLES } from "../domain/access";
import { APPROVAL_ID_PATTERN, APPROVAL_STATES, GUARDABLE_OPERATIONS } from "../domain/approvals";
import { fields } from "./schemas";

/** Request schemas of access (roles) and dual control (approvals); strict, like every other. */
const { text, reason, cursor, requestId, userId } = fields;
const approvalId = z.string().regex(APPROVAL_ID_PATTERN, "must be an approval id this service issued");

export const controlSchemas = {
  roles: z.strictObject({
    role: z.enum(ROLES).optional(),
    limit: z.number().int().min(1).max(100).default(50),
    cursor: cursor.optional(),
    /** Page through Firebase Auth itself instead of the role index. */
    scan: z.boolean().optional(),
  }),
  setRole: z
    .strictObject({
      uid: userId.optional(),
      email: text()
        .pipe(z.email({ message: "must be an email address" }).max(320))
        .optional(),
      role: z.enum(ROLES),
      grant: z.boolean(),
      reason,
      request_id: requestId,
    })
    .superRefine((v, ctx) => {
      if ((v.uid === undefined) === (v.email === undefined))
        ctx.addIssue({ code: "custom", path: ["uid"], message: "give exactly one of uid and email" });
    }),
  setApprovals: z.strictObject({
    operations: z
      .array(z.enum(GUARDABLE_OPERATIONS))
      .max(GUARDABLE_OPERATIONS.length)
      .refine((ops) => new Set(ops).size === ops.length, "must not name an operation twice"),
    reason,
    request_id: requestId,
  }),
  approve: z.strictObject({
    approval_id: approvalId,
    decision: z.enum(["approve", "reject"]),
    reason,
    request_id: requestId,
  }),
  approvals: z.strictObject({
    state: z.enum(APPROVAL_STATES).optional(),
    limit: z.number().int().min(1).max(100).default(50),
    cursor: cursor.optional(),
    approval_id: approvalId.optional(),
  }),
} as const;
