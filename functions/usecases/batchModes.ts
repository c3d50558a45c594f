import { invalidArgument, isSaltServiceError } from "../domain/errors";
import { saltIdProblem, type SaltKind } from "../domain/ids";
import { isPseudonymizable, type PseudonymizableValue } from "../domain/pseudonym";
import type { LoadedSalt } from "../domain/salt";
import type { Pseudonymizer } from "../engine/pseudonymizer";
import { SUBJECT_FIELD, subjectOf } from "../domain/subject";
import type { Pepper } from "../ports/secrets";

/** A salt a row's reply is made under. */
export interface SaltNeed {
  kind: SaltKind;
  id: string;
}

/**
 * What a reply is computed with: the batch's salts (all loaded first; for a `previous` mode, each
 * user's previous version, absent outside the link window), the pepper and the field; the
 * pseudonymizer makes the batch's scope's pseudonyms when it names one.
 */
export interface ReplyContext {
  pseudonymizer: Pick<Pseudonymizer, "pseudonymUnder">;
  pepper: Pepper;
  field: string;
  salt(kind: SaltKind, id: string): LoadedSalt | undefined;
}

/**
 * One mode of salts-pseudonymizeBatch (`userDefinedContext.mode`): its call's arguments, how one call
 * is checked, which salts its reply needs, and the reply. Each mode gives, for the same input, the
 * reply the library gives (usecases/pseudonymizeBatch loads every salt a batch needs first, in
 * batched round trips, then asks `reply` for each row). A new mode is one more entry in BATCH_MODES.
 */
export interface BatchMode<Row> {
  /** The call's arguments, in order (their names appear in error messages and docs/BIGQUERY.md). */
  readonly args: readonly string[];
  /** Why `userDefinedContext.field` cannot be used in this mode, or null. */
  fieldProblem?(field: string): string | null;
  /** The call checked (null: its reply is NULL); anything that can never succeed throws `refuse(...)`. */
  row(call: readonly unknown[], field: string): Row | null;
  needs(row: Row): readonly SaltNeed[];
  reply(row: Row, under: ReplyContext): string | null;
  /** Users' salts are not created but replaced by their previous version (linking across a rotation). */
  readonly previous?: boolean;
  /**
   * The kinds of salt whose version makes the reply: a query's batch takes them as of its pin. (In
   * `event`, a user's salt gives only its shred secret, which outlives rotations.)
   */
  readonly versioned: readonly SaltKind[];
}

/** Refuses one call; the batch names it (`calls[17]: user_id must be ...`). */
export class CallRefused extends Error {}
const refuse = (message: string): never => {
  throw new CallRefused(message);
};

const VALUE_PROBLEM =
  "must be a string (well-formed Unicode), finite number, boolean or NULL to be pseudonymized";

function pseudonymizable(name: string, value: unknown): PseudonymizableValue {
  return isPseudonymizable(value) ? value : refuse(`${name} ${VALUE_PROBLEM}`);
}

function id(kind: SaltKind, name: string, value: unknown): string {
  const problem = saltIdProblem(kind, value);
  return problem === null ? (value as string) : refuse(`${name} ${problem}`);
}

/** `[user_id, value]`: pseudonymizeUserData(user_id, {[field]: value}, [field])[field]. */
const user: BatchMode<{ userId: string; value: PseudonymizableValue }> = {
  args: ["user_id", "value"],
  versioned: ["user"],
  row([userId, value]) {
    if (userId === null) return null;
    const checked = id("user", "user_id", userId);
    return value === null ? null : { userId: checked, value: pseudonymizable("value", value) };
  },
  needs: (r) => [{ kind: "user", id: r.userId }],
  reply: (r, u) =>
    u.pseudonymizer.pseudonymUnder("user", "", u.field, u.salt("user", r.userId)!, u.pepper, null, r.value),
};

/**
 * `[user_id, value]`: the pseudonym `user` gives under the user's previous salt version, within
 * LINK_WINDOW_HOURS of its rotation and while that version is retained; otherwise (and for an unknown
 * or erased user) NULL. Never creates a salt.
 */
const userPrevious: BatchMode<{ userId: string; value: PseudonymizableValue }> = {
  ...user,
  previous: true,
  reply: (r, u) => {
    const previous = u.salt("user", r.userId);
    return previous
      ? u.pseudonymizer.pseudonymUnder("user", "", u.field, previous, u.pepper, null, r.value)
      : null;
  },
};

/**
 * `[event_type, value, user_id]`: pseudonymizeAnalyticsData({event_type, user_id, [field]: value},
 * [field])[field], bound to the subject `user_id` names (domain/subject.subjectOf: absent or null names no one, anything but a user id is refused).
 */
const event: BatchMode<{ eventType: string; subject: string | null; value: PseudonymizableValue }> = {
  args: ["event_type", "value", "user_id"],
  versioned: ["global"],
  fieldProblem: (field) =>
    field === "event_type" ? "event_type selects the salt and cannot be pseudonymized" : null,
  row([eventType, value, userId], field) {
    const type = id("global", "event_type", eventType);
    const e = { event_type: type, user_id: userId, [field]: value };
    let subject: string | null;
    try {
      subject = subjectOf(e[SUBJECT_FIELD]);
    } catch (err) {
      const issue = isSaltServiceError(err)
        ? (err.details as { issues?: { message: string }[] })?.issues?.[0]
        : null;
      return refuse(`user_id ${issue?.message ?? "must be a user id or null"}`);
    }
    const v = e[field];
    return v === null ? null : { eventType: type, subject, value: pseudonymizable("value", v) };
  },
  needs: (r) => [
    { kind: "global", id: r.eventType },
    ...(r.subject ? [{ kind: "user" as const, id: r.subject }] : []),
  ],
  reply: (r, u) =>
    u.pseudonymizer.pseudonymUnder(
      "global",
      r.eventType,
      u.field,
      u.salt("global", r.eventType)!,
      u.pepper,
      r.subject === null ? null : u.salt("user", r.subject)!.shred,
      r.value,
    ),
};

/** Every mode, by its `userDefinedContext.mode` name; `user` when none is given. */
export const BATCH_MODES: Record<string, BatchMode<unknown>> = {
  user: user as BatchMode<unknown>,
  event: event as BatchMode<unknown>,
  user_previous: userPrevious as BatchMode<unknown>,
};

export const DEFAULT_MODE = "user";

/** The mode named in a request, its options checked once (not per call); throws invalid-argument. */
export function modeFor(name: string, field: string): BatchMode<unknown> {
  const mode = Object.hasOwn(BATCH_MODES, name) ? BATCH_MODES[name] : undefined;
  if (!mode) {
    const known = Object.keys(BATCH_MODES).join(", ");
    throw invalidArgument([{ path: "userDefinedContext.mode", message: `must be one of ${known}` }]);
  }
  const problem = mode.fieldProblem?.(field) ?? null;
  if (problem !== null) throw invalidArgument([{ path: "userDefinedContext.field", message: problem }]);
  return mode;
}
