// npm run bench:compare [-- --base <git ref>] [-- --events-apart] [-- <sections...>]
// The same benchmark sections on an earlier commit and on this tree, one after the other in one invocation
// (same machine, same minutes), so a refactor can be judged against what it replaced. The earlier commit is
// checked out into .tmp/bench-base (a git worktree, installed with `npm ci`), benched with its own code and
// emulators, then this tree is benched; the result lines of both are printed side by side by section.
// Sections the earlier tree lacks are not asked of it; `coldstart` measures its build with this tree's bench.
// Default base: 0b7efd0, the first release (before the job engine and explicit wiring).
// --events-apart: this tree is benched a second time with no Pub/Sub (SALTS_PUBSUB=off: its events are
// recorded in the outbox with each change but never published), so a base that had no events can be
// compared with this tree both as it runs and without the publication's share of the shared cores.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
let base = "0b7efd0";
let eventsApart = false;
const sections = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--base") base = args[++i];
  else if (args[i] === "--events-apart") eventsApart = true;
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

// Sections this tree's bench runs against another tree's build: coldstart starts fresh processes on
// the entry it is given (the earlier tree's lib/, with its node_modules).
const BORROWABLE = {
  coldstart: (cwd) => ({ BENCH_COLDSTART_ENTRY: path.join(cwd, "lib/index.js") }),
};

const results = [];
const here = `this tree ${git("rev-parse", "--short", "HEAD")}`;
const sides = [
  [`base ${sha.slice(0, 7)}`, dir, {}],
  [here, ROOT, {}],
  ...(eventsApart
    ? [[`${here}, no Pub/Sub (events recorded, not published)`, ROOT, { SALTS_PUBSUB: "off" }]]
    : []),
];
for (const [label, cwd, sideEnv] of sides) {
  const started = new Date().toISOString();
  const own = sections.filter((s) => sectionsOf(cwd).has(s));
  // A section an earlier tree does not have, but whose bench can measure that tree's build from here.
  const borrowed = sections.filter((s) => !own.includes(s) && BORROWABLE[s]);
  const skipped = sections.filter((s) => !own.includes(s) && !borrowed.includes(s));
  let out = own.length > 0 ? run(cwd, "npm", ["run", "bench", "--", ...own], true, sideEnv) : "";
  if (borrowed.length > 0) {
    if (own.length === 0) run(cwd, "npm", ["run", "build"]);
    for (const s of borrowed)
      out += run(ROOT, "npm", ["run", "bench", "--", s], true, { ...BORROWABLE[s](cwd), ...sideEnv });
  }
  const lines = resultLines(out);
  if (skipped.length > 0) lines.push(`(not in this tree's bench: ${skipped.join(", ")})`);
  results.push({ label, started, load: loadAverage(), lines });
}
console.log(`\n# side by side (sections: ${sections.join(", ")})`);
for (const r of results) {
  console.log(`\n## ${r.label} (started ${r.started}; load average after: ${r.load})`);
  for (const l of r.lines) console.log(l);
}

/** The sections a tree's bench knows (its bench/run.ts), so that an older tree is never asked for all. */
function sectionsOf(cwd) {
  const src = readFileSync(path.join(cwd, "bench/run.ts"), "utf8");
  const list = /const all = \[([^\]]*)\]/.exec(src)?.[1] ?? "";
  return new Set([...list.matchAll(/"([a-z]+)"/g)].map((m) => m[1]));
}

function run(cwd, cmd, argv, capture = false, env = {}) {
  const r = spawnSync(cmd, argv, {
    cwd,
    encoding: "utf8",
    stdio: capture ? ["ignore", "pipe", "inherit"] : "inherit",
    env: { ...process.env, FORCE_COLOR: "0", ...env },
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
