// Processes this launcher starts: each in its own process group, all ended together.
import { spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const TMP = path.join(ROOT, ".tmp");
const owned = [];

export const log = (msg) => process.stderr.write(`[emulators] ${msg}\n`);

/** Where the output of the process spawnOwned started as `name` goes. */
export const logFile = (name) => path.join(TMP, `${name}.log`);

/** Starts `command` detached (its own group), output to logFile(name), and remembers it. */
export function spawnOwned(name, command, args, env = process.env) {
  mkdirSync(TMP, { recursive: true });
  const out = openSync(logFile(name), "w");
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ["ignore", out, out] });
  owned.push({ name, child });
  child.once("exit", (code, signal) => {
    child.exitedWith = { code, signal };
  });
  return child;
}

/** Rejects when `child` exits (a process that should keep running). */
export function exitOf(child, what) {
  return new Promise((_, reject) =>
    child.once("exit", (code) => reject(new Error(`${what} exited (code ${code}); see .tmp/`))),
  );
}

/** Ends every process this module started, group and all. */
export async function stopAll() {
  for (const { name, child } of owned.reverse()) {
    if (child.exitedWith) continue;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      continue;
    }
    const ended = await Promise.race([
      new Promise((r) => child.once("exit", () => r(true))),
      new Promise((r) => setTimeout(() => r(false), 10_000)),
    ]);
    if (!ended) {
      log(`${name} did not stop in 10 s; killing it`);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  owned.length = 0;
}

let handlersInstalled = false;
/** Stops everything on Ctrl-C, SIGTERM and normal exit. */
export function installCleanup() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      stopAll().finally(() => process.exit(130));
    });
  }
  process.on("exit", () => {
    for (const { child } of owned) {
      try {
        if (!child.exitedWith) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}
