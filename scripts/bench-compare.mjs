// npm run bench:compare [-- --base <git ref>] [-- <sections...>]
// The same benchmark sections on an earlier commit and on this tree, one after the other in one invocation
// (same machine, same minutes), so a refactor can be judged against what it replaced. The earlier commit is
// checked out into .tmp/bench-base (a git worktree, installed with `npm ci`), benched with its own code and
// emulators, then this tree is benched; the result lines of both are printed side by side by section.
// Default base: 0b7efd0, the first release (before the job engine and explicit wiring).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
let base = "0b7efd0";
const sections = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--base") base = args[++i];
  else sections.push(args[i]);
}
// Sections both trees have, measured the same way in both.
if (sections.length === 0) sections.push("engine", "analytics", "http");

const dir = path.join(ROOT, ".tmp", "bench-base");
const git = (...a) => execFileSync("git", a, { cwd: ROOT, encoding: "utf8" }).trim();
const sha = git("rev-parse", base);
mkdirSync(path.dirname(dir), { recursive: true });
if (existsSync(dir) && git("-C", dir, "rev-parse", "HEAD") !== sha) {
  git("worktree", "remove", "--force", dir);
}
if (!existsSync(dir)) {
  git("worktree", "add", "--detach", dir, sha);
  run(dir, "npm", ["ci", "--no-audit", "--no-fund"]);
}

const results = [];
for (const [label, cwd] of [
  [`base ${sha.slice(0, 7)}`, dir],
  [`this tree ${git("rev-parse", "--short", "HEAD")}`, ROOT],
]) {
  const started = new Date().toISOString();
  const out = run(cwd, "npm", ["run", "bench", "--", ...sections], true);
  results.push({ label, started, load: loadAverage(), lines: resultLines(out) });
}
console.log(`\n# side by side (sections: ${sections.join(", ")})`);
for (const r of results) {
  console.log(`\n## ${r.label} (started ${r.started}; load average after: ${r.load})`);
  for (const l of r.lines) console.log(l);
}

function run(cwd, cmd, argv, capture = false) {
  const r = spawnSync(cmd, argv, {
    cwd,
    encoding: "utf8",
    stdio: capture ? ["ignore", "pipe", "inherit"] : "inherit",
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  if (r.status !== 0) {
    if (capture) process.stdout.write(r.stdout ?? "");
    throw new Error(`${cmd} ${argv.join(" ")} failed in ${cwd} (exit ${r.status})`);
  }
  if (capture) process.stdout.write(r.stdout);
  return r.stdout ?? "";
}

/** Section headers and figures: lines that start with `##` or carry a number with a unit. */
function resultLines(out) {
  return out
    .split("\n")
    .filter((l) => /^##\s/.test(l) || /\d\s*(ms|\/s|MB|salts\/s|values\/s|events\/s)\b|ratio/.test(l));
}

function loadAverage() {
  try {
    return execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
}
