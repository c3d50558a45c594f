import { Argument, Option, type Command } from "commander";
import type { Colors } from "../ui/colors";
import { confirmOrRefuse } from "../ui/confirm";
import { keyValues, plural, when, type Answer } from "../ui/output";
import { auditColumns, saltBlock, saltColumns, type AuditEntry, type SaltMetadata } from "../ui/views";
import {
  act,
  callAndPrint,
  defined,
  examples,
  requestIdOption,
  waitDecisionOption,
  wholeNumber,
  yesOption,
} from "./define";

/** status, list, rotate user|global, audit, erase. */
const count = (o: unknown) => o as { total: number; due: number };

function statusText(a: Answer, c: Colors): string {
  const users = count(a.users);
  const globals = count(a.globals);
  const intervals = a.rotation_intervals as { user_days: number; global_days: number };
  const reasons = (a.degraded_reasons as string[] | undefined) ?? [];
  const due = (x: { due: number }) => (x.due > 0 ? c.yellow(`${x.due} due`) : "none due");
  const pairs: [string, string][] = [
    ["Storage", String(a.storage_type)],
    [
      "Health",
      a.degraded ? c.red(`degraded${reasons.length ? `: ${reasons.join("; ")}` : ""}`) : c.green("ok"),
    ],
    ["User salts", `${users.total} (${due(users)})`],
    ["Global salts", `${globals.total} (${due(globals)})`],
    ["Intervals", `users every ${intervals.user_days} days, globals every ${intervals.global_days} days`],
    ["Pepper", `version ${(a.pepper as { version: number | null }).version ?? "unavailable"}`],
  ];
  const enc = a.encryption as { current_key_version?: number; key_versions_in_use?: number[] } | undefined;
  if (enc) {
    pairs.push([
      "Encryption",
      `key version ${enc.current_key_version} (in use: ${(enc.key_versions_in_use ?? []).join(", ")})`,
    ]);
  }
  pairs.push(["Generated", when(a.generated_at as string)]);
  return keyValues(pairs, c);
}

function rotatedText(a: Answer, c: Colors): string {
  const salt = a.salt as SaltMetadata;
  const verb = a.created
    ? `Created ${salt.kind} salt ${salt.id}`
    : `Rotated ${salt.kind} salt ${salt.id} to version ${salt.version}`;
  return `${c.green("✓")} ${verb}\n${saltBlock(salt, c, [["Rotation id", String(a.rotation_id)]])}`;
}

const auditText = (a: Answer, c: Colors): string => {
  const history = a.history as {
    version: number;
    created_at: string;
    retired_at: string;
    salt_hash_prefix: string;
  }[];
  const lines = [saltBlock(a.salt as SaltMetadata, c), "", c.bold(`Retained versions (${history.length})`)];
  for (const h of history)
    lines.push(
      `  v${h.version}  ${h.salt_hash_prefix}  created ${when(h.created_at)}, retired ${when(h.retired_at)}`,
    );
  lines.push("", c.bold("Recent audit entries"));
  return lines.join("\n");
};

export function registerSaltCommands(program: Command): void {
  examples(
    act(
      program
        .command("status")
        .description("Show storage, salt counts, what is due, intervals and key versions"),
      (s) => callAndPrint(s, "status", {}, { human: statusText }).then(() => undefined),
    ),
    ["salts status", "salts status --json | jq .users.due", "salts status --direct --project my-project"],
  );

  examples(
    act(
      program
        .command("list")
        .description("List salts of one kind (metadata only, never salt bytes)")
        .addArgument(new Argument("<kind>", "user or global").choices(["user", "global"]))
        .addOption(new Option("--limit <n>", "salts per page").argParser(wholeNumber(1, 500)).default(100))
        .option("--cursor <cursor>", "start after this cursor (from the previous page)"),
      (s, [kind], o) =>
        callAndPrint(s, "listSalts", defined({ kind, limit: o.limit, cursor: o.cursor }), {
          list: {
            items: (a) => a.salts as SaltMetadata[],
            columns: saltColumns,
            footer: (a) =>
              a.next_cursor ? `more: salts list ${kind} --cursor ${String(a.next_cursor)}` : null,
          },
        }).then(() => undefined),
    ),
    [
      "salts list user",
      "salts list global --output csv > globals.csv",
      "salts list user --limit 50 --cursor <cursor>",
    ],
  );

  const rotate = examples(
    program
      .command("rotate")
      .description("Rotate one salt, or every salt that is due (see: salts rotate due)"),
    [
      "salts rotate user alice --reason 'ticket 42'",
      "salts rotate global signup",
      "salts rotate due --dry-run",
    ],
  );
  for (const kind of ["user", "global"] as const) {
    const idName = kind === "user" ? "user_id" : "event_type";
    const name = kind === "user" ? "rotateUser" : "rotateGlobal";
    examples(
      act(
        rotate
          .command(kind)
          .description(
            `Rotate one ${kind === "user" ? "user's salt" : "global (event-type) salt"}; --force creates it when missing`,
          )
          .argument(
            `<${idName}>`,
            kind === "user" ? "the user id (Firebase uid)" : "the event type, [a-z0-9_.-]{1,64}",
          )
          .option("--force", "create the salt if it does not exist yet")
          .option("--reason <text>", "why, kept in the audit entry (up to 500 characters)")
          .addOption(requestIdOption()),
        (s, [id], o) =>
          callAndPrint(
            s,
            name,
            defined({ [idName]: id, force: o.force ? true : undefined, reason: o.reason }),
            { human: rotatedText },
            o,
          ).then(() => undefined),
      ),
      kind === "user"
        ? [
            "salts rotate user alice",
            "salts rotate user new-user --force --reason onboarding",
            "salts rotate user alice --json | jq .salt.version",
          ]
        : ["salts rotate global signup", "salts rotate global page_view --force"],
    );
  }

  examples(
    act(
      program
        .command("audit")
        .description(
          "Show one user's salt metadata, retained versions and recent audit entries (the read is audited)",
        )
        .argument("<user_id>", "the user id"),
      (s, [userId]) =>
        callAndPrint(
          s,
          "audit",
          { user_id: userId },
          {
            human: auditText,
            list: { items: (a: Answer) => a.audit as AuditEntry[], columns: auditColumns },
          },
        ).then(() => undefined),
    ),
    ["salts audit alice", "salts audit alice --json | jq '.history | length'"],
  );

  examples(
    act(
      program
        .command("erase")
        .description(
          "Crypto-shred a user's salts (right to erasure): earlier pseudonyms can no longer be reproduced",
        )
        .argument("<user_id>", "the user id")
        .requiredOption("--reason <text>", "why, kept in the audit entry (required)")
        .addOption(yesOption())
        .addOption(waitDecisionOption())
        .addOption(requestIdOption()),
      async (s, [userId], o) => {
        await confirmOrRefuse(`erase every salt of user ${userId} (cannot be undone)`, o.yes as boolean);
        await callAndPrint(s, "erase", { user_id: userId, reason: o.reason }, { human: erasedText }, o);
      },
    ),
    [
      "salts erase alice --reason 'erasure request #123'",
      "salts erase alice --reason 'GDPR art. 17' --yes --json",
    ],
  );
}

function erasedText(a: Answer, c: Colors): string {
  const receipt = a.receipt as { user_id_hash: string; erased_at: string; rotation_id: string };
  const head = a.erased
    ? `${c.green("✓")} Erased: ${plural(Number(a.versions_destroyed), "salt version")} destroyed`
    : `Nothing to erase (no salt stored)`;
  return `${head}\n${keyValues(
    [
      ["User id hash", receipt.user_id_hash],
      ["Erased at", when(receipt.erased_at)],
      ["Rotation id", receipt.rotation_id],
    ],
    c,
  )}`;
}
