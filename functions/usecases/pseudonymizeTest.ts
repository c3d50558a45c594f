import { failedPrecondition } from "../domain/errors";
import { auditContext, type CallContext, type Services } from "./deps";

export interface PseudonymizeTestInput {
  user_id: string;
  data: Record<string, string | number | boolean | null>;
  fields?: string[] | undefined;
  event_type?: string | undefined;
}

/**
 * Dev only. Without `event_type` the record is pseudonymized with the user's
 * salt; with it, as an analytics event of that type (user_id included). With no
 * `fields`, every field of `data` is pseudonymized.
 */
export async function pseudonymizeTest(
  deps: Pick<Services, "config" | "audit" | "pseudonymizer">,
  ctx: CallContext,
  input: PseudonymizeTestInput,
) {
  if (!deps.config.enableDevEndpoints) {
    throw failedPrecondition(
      "salts-pseudonymizeTest is disabled (set ENABLE_DEV_ENDPOINTS=true in development)",
    );
  }
  const fields = input.fields ?? Object.keys(input.data);
  const out = input.event_type
    ? await deps.pseudonymizer.pseudonymizeAnalyticsData(
        { ...input.data, user_id: input.user_id, event_type: input.event_type },
        ["user_id", ...fields.filter((f) => f !== "user_id")],
      )
    : await deps.pseudonymizer.pseudonymizeUserData(input.user_id, input.data, fields);
  // An admin computed pseudonyms of chosen values: that is worth a line in the audit log (values not included).
  await deps.audit.appendAudit({
    ...auditContext(ctx, "pseudonymize_test"),
    target: input.event_type ? { kind: "global", id: input.event_type } : { kind: "user", id: input.user_id },
    result: "success",
    details: { fields: fields.length, salt_version: out.saltVersion, pepper_version: out.pepperVersion },
  });
  return { pseudonymized: out.data, salt_version: out.saltVersion, pepper_version: out.pepperVersion };
}
