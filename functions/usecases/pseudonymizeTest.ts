import { failedPrecondition } from "../domain/errors";
import { auditContext, type CallContext, type Services } from "./deps";

export interface PseudonymizeTestInput {
  user_id: string;
  data: Record<string, string | number | boolean | null>;
  fields?: string[] | undefined;
  event_type?: string | undefined;
  /** A scope the caller (by uid) is a consumer of: its pairwise pseudonyms. */
  scope?: string | undefined;
  /** Also the pseudonyms under the user's previous salt version, inside the link window. */
  with_previous?: boolean | undefined;
}

/**
 * Dev only. Without `event_type` the record is pseudonymized with the user's
 * salt; with it, as an analytics event of that type (user_id included). With no
 * `fields`, every field of `data` is pseudonymized. A `scope` is granted to its
 * consumers only: an admin asks for one only when listed (by uid) among them.
 */
export async function pseudonymizeTest(
  deps: Pick<Services, "config" | "audit" | "pseudonymizer" | "scoped">,
  ctx: CallContext,
  input: PseudonymizeTestInput,
) {
  if (!deps.config.enableDevEndpoints) {
    throw failedPrecondition(
      "salts-pseudonymizeTest is disabled (set ENABLE_DEV_ENDPOINTS=true in development)",
    );
  }
  const fields = input.fields ?? Object.keys(input.data);
  // The grant is read from storage now, not from a cache: a consumer just removed is refused at once.
  if (input.scope !== undefined)
    await deps.scoped.authorizeScope(input.scope, ctx.actor.uid, { fresh: true });
  const options = { scope: input.scope, withPrevious: input.with_previous };
  const out = input.event_type
    ? await deps.scoped.pseudonymizeAnalyticsData(
        { ...input.data, user_id: input.user_id, event_type: input.event_type },
        ["user_id", ...fields.filter((f) => f !== "user_id")],
        options,
      )
    : await deps.scoped.pseudonymizeUserData(input.user_id, input.data, fields, options);
  // An admin computed pseudonyms of chosen values: that is worth a line in the audit log (values not included).
  await deps.audit.appendAudit({
    ...auditContext(ctx, "pseudonymize_test"),
    target: input.event_type ? { kind: "global", id: input.event_type } : { kind: "user", id: input.user_id },
    result: "success",
    details: {
      fields: fields.length,
      salt_version: out.saltVersion,
      pepper_version: out.pepperVersion,
      ...(out.scope ? { scope: out.scope.id, scope_version: out.scope.version } : {}),
      ...(input.with_previous ? { previous_version: out.previousVersion ?? null } : {}),
    },
  });
  return {
    pseudonymized: out.data,
    salt_version: out.saltVersion,
    pepper_version: out.pepperVersion,
    ...(out.scope ? { scope: { scope_id: out.scope.id, version: out.scope.version } } : {}),
    ...(out.previous ? { previous: out.previous, previous_salt_version: out.previousVersion ?? null } : {}),
  };
}
