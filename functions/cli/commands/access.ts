import { Argument, Option, type Command } from "commander";
import { CliError, codeOf, usage } from "../core/exits";
import type { Session } from "../core/session";
import type { Colors } from "../ui/colors";
import { keyValues, printAnswer, relativeTime, when, type Answer, type Column } from "../ui/output";
import {
  act,
  callAndPrint,
  defined,
  examples,
  requestIdOption,
  waitDecisionOption,
  wholeNumber,
} from "./define";

/** Access (roles, role grant|revoke) and dual control (approvals, approvals set, approve). */
const ROLE_NAMES = ["admin", "auditor"];
const GUARDABLE = ["erase", "rewrap", "rotate_due", "reload", "set_role"];
const STATES = ["pending", "approved", "rejected", "expired", "all"];

const holderColumns: Column<Answer>[] = [
  { header: "UID", value: (h) => String(h.uid) },
  { header: "EMAIL", value: (h) => (h.email as string | undefined) ?? "" },
  { header: "ROLES", value: (h) => (h.roles as string[]).join(",") },
  {
    header: "DISABLED",
    value: (h) => h.disabled === true,
    show: (h, c) => (h.disabled ? c.yellow("disabled") : "no"),
  },
];

const approvalColumns: Column<Answer>[] = [
  { header: "ID", value: (a) => String(a.approval_id) },
  { header: "OPERATION", value: (a) => String(a.operation) },
  {
    header: "STATE",
    value: (a) => String(a.state),
    show: (a, c) =>
      a.state === "pending"
        ? c.yellow("pending")
        : a.state === "approved"
          ? c.green("approved")
          : c.dim(String(a.state)),
  },
  { header: "REQUESTED_BY", value: (a) => String(a.requested_by) },
  {
    header: "REQUESTED",
    value: (a) => String(a.requested_at),
    show: (a) => relativeTime(String(a.requested_at)),
  },
  { header: "EXPIRES", value: (a) => String(a.expires_at), show: (a) => relativeTime(String(a.expires_at)) },
  { header: "DECIDED_BY", value: (a) => (a.decided_by as string | undefined) ?? "" },
  { header: "REQUEST", value: (a) => JSON.stringify(a.request) },
];

/** Every page of `salts roles --scan`: Firebase Auth walked to the end, holders as they are found. */
async function scanAll(s: Session, o: Record<string, unknown>): Promise<Answer> {
  const holders: Answer[] = [];
  let cursor: string | undefined;
  let last: Answer;
  let pages = 0;
  do {
    last = await s.call("roles", defined({ scan: true, role: o.role, cursor }));
    holders.push(...(last.holders as Answer[]));
    cursor = typeof last.next_cursor === "string" ? last.next_cursor : undefined;
    if (++pages % 10 === 0 && s.format === "human")
      process.stderr.write(`scanned ${pages * 1000} accounts, ${holders.length} holders so far\n`);
  } while (cursor);
  return { ...last, holders, next_cursor: null };
}

function roleChangedText(a: Answer, c: Colors, verb: string, role: string): string {
  const roles = (a.roles as string[]).join(", ") || "none";
  return `${c.green("✓")} ${verb} ${role} for ${String(a.uid)}\n${keyValues([["Roles now", roles]], c)}`;
}

function decidedText(a: Answer, c: Colors): string {
  const ap = a.approval as Answer;
  const head =
    ap.state === "approved"
      ? `${c.green("✓")} Approved ${String(ap.approval_id)}: ${String(ap.operation)} ${a.error ? c.red("failed") : "ran"}`
      : `${c.green("✓")} Rejected ${String(ap.approval_id)}: ${String(ap.operation)} will not run`;
  const pairs: [string, string][] = [
    ["Requested by", String(ap.requested_by)],
    ["Request", JSON.stringify(ap.request)],
  ];
  if (a.result) pairs.push(["Result", JSON.stringify(a.result)]);
  if (a.error)
    pairs.push(["Error", `${String((a.error as Answer).code)}: ${String((a.error as Answer).message)}`]);
  return `${head}\n${keyValues(pairs, c)}`;
}

function policyText(a: Answer, c: Colors): string {
  const ops = (a.operations as string[]).join(", ") || "nothing";
  return `${c.green("✓")} Guarded now: ${ops}`;
}

export function registerAccessCommands(program: Command): void {
  examples(
    act(
      program
        .command("roles")
        .description("List who holds the admin or auditor role (checked against Firebase Auth)")
        .addOption(new Option("--role <role>", "only holders of this role").choices(ROLE_NAMES))
        .addOption(new Option("--limit <n>", "holders per page").argParser(wholeNumber(1, 100)).default(50))
        .option("--cursor <cursor>", "start after this cursor (from the previous page)")
        .option("--scan", "walk every Firebase Auth account (finds roles set outside the service; slower)"),
      async (s, _args, o) => {
        const answer = o.scan
          ? await scanAll(s, o)
          : await s.call("roles", defined({ role: o.role, limit: o.limit, cursor: o.cursor }));
        await printAnswer(
          answer,
          {
            list: {
              items: (a) => a.holders as Answer[],
              columns: holderColumns,
              footer: (a) =>
                [
                  a.next_cursor ? `more: salts roles --cursor ${String(a.next_cursor)}` : null,
                  a.source === "index"
                    ? `from the role index, checked against Firebase Auth; last full pass over Auth: ${a.reconciled_at ? when(String(a.reconciled_at)) : "never"} (salts roles --scan walks Auth now)`
                    : null,
                ]
                  .filter(Boolean)
                  .join("\n") || null,
            },
          },
          s.format,
        );
      },
    ),
    ["salts roles", "salts roles --role admin --output csv", "salts roles --scan"],
  );

  const role = examples(
    program
      .command("role")
      .description("Grant or revoke the admin or auditor role (audited; other claims kept)"),
    [
      "salts role grant ops@example.com auditor --reason 'quarterly audit'",
      "salts role revoke 7Hk2...uid admin --reason 'left the team'",
      "salts role grant first-admin@example.com admin --reason 'first admin' --direct",
    ],
  );
  for (const [verb, grant] of [
    ["grant", true],
    ["revoke", false],
  ] as const) {
    examples(
      act(
        role
          .command(verb)
          .description(`${grant ? "Grant" : "Revoke"} a role; effective on the holder's next call`)
          .argument("<account>", "the account's email, or its Firebase uid")
          .addArgument(new Argument("<role>", "admin or auditor").choices(ROLE_NAMES))
          .requiredOption("--reason <text>", "why, kept in the audit entry (required)")
          .option("--uid", "read <account> as a uid even if it looks like an email")
          .addOption(waitDecisionOption())
          .addOption(requestIdOption()),
        (s, [account, roleName], o) => {
          const byEmail = !o.uid && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(account!);
          return callAndPrint(
            s,
            "setRole",
            { ...(byEmail ? { email: account } : { uid: account }), role: roleName, grant, reason: o.reason },
            { human: (a, c) => roleChangedText(a, c, grant ? "Granted" : "Revoked", roleName!) },
            o,
          ).then(() => undefined);
        },
      ),
      [`salts role ${verb} ops@example.com auditor --reason 'ticket 12'`],
    );
  }

  const approvals = examples(
    act(
      program
        .command("approvals")
        .description("List requests waiting for (or decided by) a second admin; see also: approvals set")
        .addOption(new Option("--state <state>", "which requests").choices(STATES).default("pending"))
        .addOption(new Option("--limit <n>", "requests per page").argParser(wholeNumber(1, 100)).default(50))
        .option("--cursor <cursor>", "start after this cursor (from the previous page)"),
      async (s, _args, o) => {
        const state = o.state === "all" ? undefined : o.state;
        await callAndPrint(s, "approvals", defined({ state, limit: o.limit, cursor: o.cursor }), {
          list: {
            items: (a) => a.approvals as Answer[],
            columns: approvalColumns,
            footer: (a) => {
              const policy = a.policy as { operations?: string[] } | undefined;
              const guards = policy ? `guarded: ${policy.operations?.join(", ") || "nothing"}` : null;
              return (
                [a.next_cursor ? `more: salts approvals --cursor ${String(a.next_cursor)}` : null, guards]
                  .filter(Boolean)
                  .join("\n") || null
              );
            },
          },
        });
      },
    ),
    ["salts approvals", "salts approvals --state all --output csv", "salts approvals --json"],
  );

  examples(
    act(
      approvals
        .command("set")
        .description(
          "Set which operations need a second admin (none: no guards). Adding is at once; removing waits for approval",
        )
        .argument("<operations>", `comma-separated, any of ${GUARDABLE.join(", ")}; or none`)
        .requiredOption("--reason <text>", "why, kept in the audit entry (required)")
        .addOption(waitDecisionOption())
        .addOption(requestIdOption()),
      async (s, [list], o) => {
        const operations =
          list === "none"
            ? []
            : list!
                .split(",")
                .map((x) => x.trim())
                .filter(Boolean);
        const unknown = operations.filter((x) => !GUARDABLE.includes(x));
        if (unknown.length)
          throw usage(`not a guardable operation: ${unknown.join(", ")} (any of ${GUARDABLE.join(", ")})`);
        await callAndPrint(s, "setApprovals", { operations, reason: o.reason }, { human: policyText }, o);
      },
    ),
    [
      "salts approvals set erase,rewrap --reason 'four eyes'",
      "salts approvals set none --reason 'pilot over' --wait",
    ],
  );

  examples(
    act(
      program
        .command("approve")
        .description(
          "Approve (or with --reject, reject) a request another admin made; an approved request runs now",
        )
        .argument("<approval_id>", "the id salts approvals lists")
        .option("--reject", "reject the request instead: it will not run")
        .requiredOption("--reason <text>", "why, kept in the audit entry (required)")
        .addOption(requestIdOption()),
      (s, [id], o) =>
        callAndPrint(
          s,
          "approve",
          { approval_id: id, decision: o.reject ? "reject" : "approve", reason: o.reason },
          { human: decidedText },
          o,
        ).then((a) => (a.error ? new CliError(codeOf((a.error as Answer).code), "").exitCode : undefined)),
    ),
    [
      "salts approve apr_0d8s2k1x9 --reason 'ticket 42 checked'",
      "salts approve apr_0d8s2k1x9 --reject --reason 'no ticket'",
    ],
  );
}
