import type { Command } from "commander";
import { CliError, usage } from "../core/exits";
import type { Session } from "../core/session";
import { keyValues, printAnswer, when, type Answer } from "../ui/output";
import { act, examples } from "./define";

/** login, logout, whoami: the operator's own credentials. */
const roles = (claims: Record<string, unknown>): string[] =>
  ["admin", "auditor"].filter((r) => claims[r] === true);

async function readPassword(o: Record<string, unknown>): Promise<string> {
  if (o.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
  }
  if (!process.stdin.isTTY)
    throw usage("No terminal to ask for the password on", "pass --password-stdin and pipe it in");
  const { default: password } = await import("@inquirer/password");
  return password({ message: "Password", mask: true }, { output: process.stderr });
}

async function login(s: Session, o: Record<string, unknown>): Promise<void> {
  const project = s.project();
  const email = o.email as string | undefined;
  if (!email) throw usage("--email is required");
  const { signIn, claimsOf } = await import("../core/credentials.js");
  const stored = await signIn(project, email, await readPassword(o), o.apiKey as string | undefined);
  const claims = claimsOf(stored.id_token);
  const answer = { project, email, uid: stored.uid, roles: roles(claims) };
  await printAnswer(
    answer,
    {
      human: (a, c) => {
        const r = a.roles as string[];
        const warn =
          r.length === 0
            ? `\n${c.yellow("note")}: this account has neither the admin nor the auditor claim; every call will be refused`
            : "";
        return `${c.green("✓")} Signed in to ${project} as ${email} (${r.length ? r.join(", ") : "no role"})${warn}`;
      },
    },
    s.format,
  );
}

async function whoami(s: Session): Promise<void> {
  const project = s.projectOrNull();
  let answer: Answer;
  if (s.mode === "direct") {
    const { adcIdentity } = await import("../core/identity.js");
    const id = await adcIdentity();
    answer = { mode: "direct", project, actor: id.uid, source: id.source };
  } else {
    if (!project) throw usage("No Firebase project chosen", "pass --project <id>");
    const { idToken, claimsOf, storedLogin } = await import("../core/credentials.js");
    const claims = claimsOf(await idToken(project));
    answer = {
      mode: "callable",
      project,
      actor: String(claims.user_id ?? claims.sub ?? ""),
      email: (claims.email as string | undefined) ?? storedLogin(project)?.email ?? null,
      roles: roles(claims),
      source: process.env.SALTS_ID_TOKEN ? "SALTS_ID_TOKEN" : "salts login",
      token_expires: typeof claims.exp === "number" ? new Date(claims.exp * 1000).toISOString() : null,
    };
  }
  await printAnswer(
    answer,
    {
      human: (a, c) =>
        keyValues(
          [
            ["Mode", String(a.mode)],
            ["Project", String(a.project ?? "-")],
            ["Actor", String(a.actor)],
            ...(a.email ? [["Email", String(a.email)] as [string, string]] : []),
            ...(a.roles
              ? [["Roles", (a.roles as string[]).join(", ") || c.yellow("none")] as [string, string]]
              : []),
            ["Credentials", String(a.source)],
            ...(a.token_expires
              ? [["Token expires", when(a.token_expires as string)] as [string, string]]
              : []),
          ],
          c,
        ),
    },
    s.format,
  );
}

export function registerSessionCommands(program: Command): void {
  examples(
    act(
      program
        .command("login")
        .description(
          "Sign in with your operator account (email and password); the session is kept for this project",
        )
        .option("--email <email>", "your account's email")
        .option("--password-stdin", "read the password from stdin instead of asking")
        .option(
          "--api-key <key>",
          "the project's Web API key (or SALTS_API_KEY; not needed with the Auth emulator)",
        ),
      (s, _args, o) => login(s, o),
    ),
    [
      "salts login --project my-project --email me@example.com",
      "printf '%s' \"$PASSWORD\" | salts login --email ops@example.com --password-stdin",
    ],
  );
  examples(
    act(program.command("logout").description("Forget the stored session for this project"), async (s) => {
      const { signOut } = await import("../core/credentials.js");
      const gone = signOut(s.project());
      if (!gone) throw new CliError("not-found", `Not signed in to ${s.project()}`);
      await printAnswer(
        { project: s.project(), email: gone.email, signed_out: true },
        { human: (a) => `Signed out of ${String(a.project)} (${String(a.email)})` },
        s.format,
      );
    }),
    ["salts logout --project my-project"],
  );
  examples(
    act(
      program
        .command("whoami")
        .description("Show who calls: your account and roles, or in --direct mode your Google identity"),
      (s) => whoami(s),
    ),
    ["salts whoami", "salts whoami --direct"],
  );
}
