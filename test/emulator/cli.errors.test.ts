import { createServer } from "node:net";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { allCommands, buildProgram } from "../../functions/cli/program";
import { call, createUser } from "../support/stack";
import { directEnv, freshStart, salts, tempDir, type Operator } from "./cli.harness";

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe("salts CLI exit statuses, error lines and help", () => {
  let admin: Operator;
  let auditor: Operator;

  beforeAll(async () => {
    ({ admin, auditor } = await freshStart());
  });

  it("when a command or flag is mistyped, then exit 2 suggests the nearest one and stdout stays empty", async () => {
    const command = await salts(["statsu"], auditor.env);
    expect(command.code).toBe(2);
    expect(command.stdout).toBe("");
    expect(command.stderr).toContain("error: unknown command 'statsu'\n(Did you mean status?)");
    const flag = await salts(["audit-log", "--operaton", "erase"], auditor.env);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("(Did you mean --operation?)");
    const sub = await salts(["rotate", "usr", "alice"], auditor.env);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain("(Did you mean user?)");
  });

  it("when the service refuses an argument, then exit 2 names the field, in words or as JSON on stderr", async () => {
    const human = await salts(["rotate", "global", "Bad Type!", "--force"], admin.env);
    expect(human.code).toBe(2);
    expect(human.stdout).toBe("");
    expect(human.stderr).toMatch(/^error: invalid argument: .+\(correlation id cli-[0-9a-f-]+\)$/m);
    expect(human.stderr).toMatch(/^ {2}- event_type: /m);
    const json = await salts(["rotate", "global", "Bad Type!", "--force", "--json"], admin.env);
    expect(json.stdout).toBe("");
    const error = JSON.parse(json.stderr);
    expect(error.error.code).toBe("invalid-argument");
    expect(error.error.details.issues.map((i: any) => i.path)).toEqual(["event_type"]);
    expect(error.correlation_id).toMatch(/^cli-/);
  });

  it("when a salt does not exist, then exit 3 with the service's message and correlation id", async () => {
    const r = await salts(["rotate", "user", "nobody-here"], admin.env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /^error: not found: The user salt does not exist \(correlation id cli-[0-9a-f-]{36}\)$/m,
    );
  });

  it("when nobody is signed in, or the role is too small, then exit 4 with what to do", async () => {
    const anonymous = await salts(["status"], { XDG_CONFIG_HOME: tempDir("nobody") });
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(
      /^error: not signed in: Not signed in to demo-salts \(Auth emulator\)$/m,
    );
    expect(anonymous.stderr).toMatch(/^hint: run: salts login --project demo-salts/m);
    const denied = await salts(["rotate", "user", "x", "--force"], auditor.env);
    expect(denied.code).toBe(4);
    expect(denied.stderr).toMatch(/^error: permission denied: This function requires the admin role/m);
  });

  it("when an operator signs in, then the session is private to them, whoami tells the roles, and logout forgets it", async () => {
    const file = path.join(auditor.env.XDG_CONFIG_HOME!, "salts", "credentials.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, "utf8")).toContain('"emulator/demo-salts"');
    const who = await salts(["whoami", "--json"], auditor.env);
    expect(who.json()).toMatchObject({
      mode: "callable",
      actor: auditor.uid,
      email: auditor.email,
      roles: ["auditor"],
    });
    expect((await salts(["logout"], auditor.env)).code).toBe(0);
    expect((await salts(["status"], auditor.env)).code).toBe(4);
    const again = await salts(
      ["login", "--email", auditor.email, "--password-stdin"],
      auditor.env,
      auditor.password,
    );
    expect(again.stdout).toMatch(/^✓ Signed in to demo-salts as .+ \(auditor\)$/m);
    const wrong = await salts(
      ["login", "--email", auditor.email, "--password-stdin"],
      { XDG_CONFIG_HOME: tempDir("wrong") },
      "nope",
    );
    expect(wrong.code).toBe(4);
  });

  it("when the service cannot be reached, then exit 5 says the call did nothing", async () => {
    const r = await salts(["status"], {
      ...auditor.env,
      FUNCTIONS_EMULATOR_HOST: `127.0.0.1:${await closedPort()}`,
    });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^error: unavailable: Could not reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/m);
    expect(r.stderr).toMatch(/^hint: the call did nothing; retry later$/m);
  });

  it("when the caller is over the rate limit, then exit 6 says when to retry", async () => {
    const busy = await createUser({ auditor: true }, "busy");
    const env = { XDG_CONFIG_HOME: tempDir("busy") };
    expect((await salts(["login", "--email", busy.email, "--password-stdin"], env, busy.password)).code).toBe(
      0,
    );
    for (let i = 0; i < 60; i++) await call("status", {}, { token: busy.token });
    const r = await salts(["status"], env);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^error: rate limited: Rate limit of 60 calls per minute reached/m);
    expect(r.stderr).toMatch(/^hint: retry in \d+ s$/m);
  });

  it("when a required secret is missing in direct mode, then exit 7 names it", async () => {
    const r = await salts(
      ["--direct", "rotate", "user", "pc-user", "--force"],
      directEnv({ PEPPER_SOURCE: "runtime", SALT_ENCRYPTION_KEY: "" }),
    );
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^error: cannot do this now: SALT_ENCRYPTION_KEY is missing or empty/m);
  });

  it("when any command's help is asked, then it describes every flag and shows at least one example", async () => {
    const paths = allCommands(buildProgram())
      .filter((c) => c.name() !== "help")
      .map((c) => {
        const names: string[] = [];
        for (let x: typeof c | null = c; x?.parent; x = x.parent) names.unshift(x.name());
        return names;
      });
    expect(paths.length).toBeGreaterThan(25);
    for (const names of paths) {
      const r = await salts([...names, "--help"]);
      expect(r.code, names.join(" ")).toBe(0);
      expect(r.stdout, names.join(" ")).toMatch(new RegExp(`\\nExamples:\\n  \\$ salts ${names.join(" ")}`));
      // Flags of the root are every command's global flags: each help lists them.
      if (names.length > 0) expect(r.stdout, names.join(" ")).toContain("Global Options:");
    }
    const root = await salts(["--help"]);
    expect(root.stdout).toMatch(/Exit status:\n\s+0 {2}success\n\s+1 {2}internal/);
  });

  it("when a bash completion script is loaded, then it completes subcommands and flags", async () => {
    const script = (await salts(["completion", "bash"])).stdout;
    const complete = (words: string[]) =>
      execFileSync("bash", [
        "-c",
        `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _salts; echo "\${COMPREPLY[*]}"`,
      ]).toString();
    expect(complete(["salts", "rot"]).trim()).toBe("rotate");
    expect(complete(["salts", "rotate", ""]).split(" ")).toEqual(
      expect.arrayContaining(["user", "global", "due"]),
    );
    expect(complete(["salts", "rotate", "due", "--dr"]).trim()).toBe("--dry-run");
    const zsh = (await salts(["completion", "zsh"])).stdout;
    expect(zsh).toMatch(/^#compdef salts$/m);
    expect(zsh).toContain("'rotate due') subs=(); opts=(--kind --limit --dry-run");
  });
});
